// Package view turns the daemon's state into what the control socket
// shows (the types of internal/ctl): the snapshot that pim6stat, the
// metrics and the SIGUSR1 dump read, with its resource limits; the
// explanation of why one flow is or is not forwarded; and the watch
// events made from the engines' actions.
//
// A view reads; it changes nothing. The daemon lends it its state on the
// loop (State: the engines, the MRIB and the loop's own tables), so that
// what a view shows is one instant's state, and a small read-only Lookup
// for what must be asked of the kernel at that instant (a route, an
// entry's counters). Tests build a State from engines of their own and a
// fake Lookup, without a kernel.
//
// A view builds only what is asked (ctl.Query: some parts, one
// interface, group or source), and reads the engines entry by entry
// rather than copying their whole state. A snapshot is built in steps
// (Build): the first read takes the small parts and the keys of the large
// tables (group records, routes), each next one at most ReadBudget of
// their entries, and the loop goes on between reads; sorting and the
// timers are done off the loop. Each entry is one instant's; the
// snapshot as a whole is a few reads' (see Build).
package view
