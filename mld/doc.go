// Package mld is the router side of Multicast Listener Discovery: the MLDv2
// router of RFC 3810 sections 6 to 9 (obsoleted by RFC 9777, the same
// protocol with clarified text; section numbers here are RFC 3810's), the
// MLDv1 router of RFC 2710 and the SSM rules of RFC 4604. Wire formats are
// in mld/mldmsg.
//
// # Shape
//
// One Router holds every MLD interface of the daemon. It is a pure event
// processor (see the project's architecture guide): every method takes `now`
// and returns the Actions the caller carries out, in a stable order:
//
//   - SendQuery: a Query to send from the interface's link-local address;
//   - ListenerUpdate: the forwarding state of an (interface, group) changed,
//     the "local receiver" input of PIM (RFC 7761 section 4.1.6);
//   - QuerierChange, OlderQuerier, LimitHit: events worth a log line.
//
// The Router owns one timerq.Queue; the daemon calls Expire at NextDeadline.
// Timer IDs come from the daemon-wide allocator, so the IDs that Snapshot
// shows are those of the daemon's CallOut queue.
//
// # What is implemented, by section of RFC 3810
//
//   - 7.1, 7.6.2: Querier election by lowest link-local address, the Other
//     Querier Present timer, Startup Queries, periodic General Queries;
//     5.1.8/5.1.9: a non-querier adopts the Querier's QRV and QQI.
//   - 7.2, 7.4.1, 7.4.2: per multicast address: filter mode, Filter Timer,
//     source timers, and every row of the two record tables (records.go).
//   - 7.5: filter timer and source timer expiry.
//   - 7.6.1: router-side processing of received Queries (S flag clear lowers
//     timers to LLQT).
//   - 7.6.3.1, 7.6.3.2: Multicast Address Specific and Multicast Address and
//     Source Specific Queries with their retransmissions and S flags
//     (query.go).
//   - 8.3.1: MLDv1 routers on the link (OlderQuerier); 8.3.2: per address
//     MLDv1 compatibility mode with the Older Version Host Present timer
//     (compat.go).
//   - 9: every interval and count is configurable; Config.Validate rejects
//     values that cannot work or cannot be encoded.
//   - RFC 2710: MLDv1 Report and Done, MLDv1 Queries when the interface runs
//     MLDv1.
//   - RFC 4604 (SSM-aware router) and RFC 4607: in the SSM range, EXCLUDE-mode
//     records and MLDv1 Reports create no state.
//
// # Link-scope groups
//
// Records for link-scope groups (scope 2, such as ff02::16, ff02::2 and the
// solicited-node groups the router's own kernel reports) are tracked like any
// other, and shown by Snapshot, but never routed: no ListenerUpdate is
// emitted for a group whose scope is below 3 (RFC 4291 section 2.7: routers
// do not forward such packets beyond the link). Scopes 0 (reserved) and 1
// (interface-local) never appear in MLD (RFC 3810 section 6) and such records
// are dropped as bad groups, like ff02::1 (all-nodes, never reported).
//
// # Timers
//
// Source timers and Filter Timers are refreshed by every Report, so setting
// a heap timer on each refresh would dominate the cost of a Report. They are
// lazy: the state holds the true deadline, and the timer queue holds a
// deadline at or before it. A refresh only writes the new deadline; when the
// queued timer fires early, it is re-armed (with the same ID, which the
// queue reuses at once) at the true deadline. Lowering a timer (LLQT) moves
// the queued deadline. So NextDeadline may be earlier than any real expiry
// and Expire may then do nothing; Snapshot's time left is always the true
// one.
package mld
