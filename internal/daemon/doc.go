// Package daemon is pim6sd's one event loop. One goroutine owns every
// protocol engine and all state; socket readers, the netlink watcher and
// the control server only post inputs to it (a closed set: Input), and
// control queries run as closures on it, so a snapshot is consistent
// without locks. One real timer is armed for the earliest deadline of all
// engines' timer queues.
//
// The package is the loop: its inputs, timers, the engines' actions
// carried out, the interface table and the kernel programming. What the
// control socket shows (the snapshot, explain, the watch events) is made
// by package view from the state the loop lends it (views.go).
//
// The loop reaches Linux through the Kernel interface (kernel.go); the
// real implementation (linux.go) is built on package kernel, and tests can
// substitute fakes at that boundary.
package daemon
