// Package ctl is pim6sd's control interface: the versioned state snapshot
// that the daemon fills and pim6stat prints, the renderer of the report
// layout (the KAME/USAGI pim6stat dump of the WIDE 2007 report, described
// in shared/pim6stat/FORMAT.md and testdata/golden/seed-router.dump), the
// request/response protocol over a Unix socket (Server for the daemon,
// Client for pim6stat), and the atomic dump file written on SIGUSR1.
//
// ctl imports no project package: the daemon's views (internal/view)
// convert the state of its engines (mld, pim, mrib, timer queues) into a
// Snapshot on its loop, so that one snapshot is consistent, and hand it to
// ctl. Words of the engines that reach the wire, such as where an RP
// mapping comes from (RPOrigin...), are defined here and translated by
// the views. The snapshot is plain data:
// it can be rendered, marshalled to JSON and read back without the
// engines.
//
// A request may ask for part of the snapshot (Query: some parts, one
// interface, group or source), so that each of pim6stat's views costs the
// daemon what it shows; Query.Apply defines what a query keeps.
//
// The report layout is fixed by the format it copies and so cannot grow;
// everything it cannot show (per-neighbor DR priority and Generation ID,
// counters, candidate BSR and RP state, limits, kernel packet counts) is
// in the Snapshot for pim6stat's focused views and its --json output.
//
// Versions: a Snapshot carries SchemaVersion, a Request and a Response
// carry ProtocolVersion. Adding a field or a command keeps the versions
// (readers ignore what they do not know); renaming or removing one, or
// changing a field's meaning or unit, raises the version.
package ctl
