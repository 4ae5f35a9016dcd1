// Package archtest holds the tests that enforce the layering of
// docs/ARCHITECTURE.md.
//
// The wire codecs and protocol engines (Pure) stay pure: they take `now`
// and events and return actions, so they must not reach the operating
// system, the wall clock, randomness of their own, or start goroutines,
// and they import only the project packages below them. The impure side
// has import Rules: the control protocol stands alone, pim6stat carries
// neither the daemon nor the kernel edge, and the metrics read snapshots,
// not the kernel. A violation is reported with file and line; a listed
// package that is missing fails the test, so that no rule passes by
// checking nothing.
package archtest
