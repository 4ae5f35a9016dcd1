// Package archtest holds the test that enforces the layering rule of
// docs/ARCHITECTURE.md: the wire codecs and protocol engines stay pure.
//
// They take `now` and events and return actions, so they must not reach
// the operating system, the wall clock, randomness of their own, or start
// goroutines. A violation is reported with file and line.
package archtest
