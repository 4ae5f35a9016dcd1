// Package e2e holds the end-to-end tests: the real pim6sd and pim6stat
// binaries, built once per test run, running in network namespaces with
// real hosts, real traffic (ssmping, UDP) and the real kernel. They need
// root, like the kernel tests.
package e2e
