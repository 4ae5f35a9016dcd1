// Package pim is the PIM-SM engine of pim6sd: RFC 7761 (PIM-SM, revised)
// for IPv6, in this stage the parts that Source-Specific Multicast needs
// (RFC 4607 and RFC 7761 section 4.8): neighbors, Hello, DR election, the
// LAN Prune Delay, and (S,G) Join/Prune routing. The shared tree (RP,
// Register, SPT switchover), Assert (4.6) and BSR (RFC 5059) come later;
// the state is laid out so that they slot in (see "Later stages").
// Wire formats are in pim/pimmsg.
//
// # Shape
//
// One Router holds every PIM interface of the daemon. It is a pure event
// processor (see the project's architecture guide): every method takes
// `now` and returns the Actions the caller carries out, in a fixed order:
//
//   - SendPIM: a Hello or Join/Prune to send (source, destination and
//     message; the daemon marshals it);
//   - WatchRPF / UnwatchRPF: ask for (or stop asking for) the unicast route
//     to a source; the daemon answers with SetRPF now and on every change;
//   - Route: the desired kernel forwarding of an (S,G) changed;
//   - NeighborChange, DRChange, LimitHit: events worth a log line.
//
// Inputs are Receive (PIM messages), SetListeners (local receivers, from
// MLD's ListenerUpdate), SetRPF, interface and address changes, and Expire
// for timers. The Router owns one timerq.Queue; the daemon calls Expire at
// NextDeadline. Randomness (Generation IDs, Hello delays, Join Timer
// jitter) comes from Config.Rand, so that a simulation is deterministic.
//
// # What is implemented, by section of RFC 7761
//
// (RFC 7761 renumbered RFC 4601's sections when it removed (*,*,RP) state:
// receiving (S,G) Join/Prune, RFC 4601's 4.5.3, is 4.5.2; sending (S,G)
// Join/Prune, 4.5.7, is 4.5.5; the state summarization macros, 4.1.6, are
// 4.1.5. Citations here use RFC 7761's numbers.)
//
//   - 4.3.1 (hello.go, neighbor.go): Hello Timer with Hello_Period, the
//     first Hello after rand(0, Triggered_Hello_Delay), triggered Hellos for
//     new and restarted neighbors and for changes of what our Hello says, a
//     Hello before any Join/Prune on an interface whose neighbors have not
//     heard one from our current address, Hello with Holdtime 0 on removal,
//     address change and Shutdown. Neighbors with their Neighbor Liveness
//     Timer (Holdtime option; default 105 s; 0xffff never expires; 0
//     removes), Generation ID (a new one means the neighbor restarted) and
//     Address List (4.3.4, used to match RPF next hops).
//   - 4.3.2 (dr.go): DR election by DR Priority when every neighbor sends
//     it, else by address; ties by the higher address.
//   - 4.3.3 (lanprune.go): lan_delay_enabled, Effective_Propagation_Delay,
//     Effective_Override_Interval, Suppression_Enabled and
//     J/P_Override_Interval; t_override and t_suppressed of 4.11.
//   - 4.1.5, 4.5 (sg.go, rpf.go, listeners.go): the (S,G) entry;
//     RPF_interface(S), RPF'(S,G) = NBR(RPF_interface(S), MRIB.next_hop(S)),
//     joins(S,G), pim_include(S,G), immediate_olist(S,G), JoinDesired(S,G);
//     local_receiver_include from MLD.
//   - 4.5.2 (downstream.go): the downstream (S,G) machine per interface:
//     NoInfo, Join, Prune-Pending; Expiry Timer and Prune-Pending Timer;
//     PruneEcho.
//   - 4.5.5 (upstream.go): the upstream (S,G) machine: NotJoined, Joined;
//     Join Timer with t_periodic, t_suppressed (Join suppression) and
//     t_override (Prune override, neighbor restart); RPF' changes.
//   - 4.5, 4.9.5 (joinprune.go): receiving Join/Prune (only from
//     neighbors; addressed to us or seen on the RPF interface), sending
//     them aggregated per interface and upstream neighbor and split to the
//     MTU.
//   - 4.2: the forwarding of an (S,G) is RPF_interface(S) in,
//     immediate_olist(S,G) minus that interface out (Route).
//   - RFC 4607 / 4.8: only groups in Config.SSMRange are routed; other
//     groups, and (*,G) or (S,G,rpt) entries for SSM groups, are counted
//     and ignored.
//
// # Events and their end
//
// Handlers change inputs (downstream states, local receivers, neighbors,
// the DR, routes to sources) and mark the (S,G) entries concerned. When the
// event ends, each marked entry runs its upstream machine once against the
// final JoinDesired(S,G) and RPF'(S,G), emits its Route if it changed, and
// is deleted when nothing keeps it (its last entry takes a source's RPF
// watch with it). The Joins and Prunes the event produced then go out, one
// message per interface and upstream neighbor, the last word for each
// (S,G) winning. So a Join/Prune message with a thousand sources, or the
// Join Timers of a thousand entries expiring together, makes one message.
//
// # Timers
//
// The timers that are pushed later over and over are lazy, as in package
// mld: the Expiry Timer (every Join), the Neighbor Liveness Timer (every
// Hello) and the Join Timer (Join suppression). Pushing one later only
// writes the true deadline in the state; the queued timer stays where it
// is and, when it fires early, is queued again (usually with the same ID).
// Lowering one moves it at once. So NextDeadline may be earlier than any
// real expiry; Snapshot's times left are the true ones.
//
// # Later stages
//
// The (S,G) entry will gain (S,G,rpt) state, the Keepalive Timer and SPT
// bit (4.1.3), Assert state per interface (4.6.1) and Register state
// (4.4); lostAssert and assertWinnerSelf are the hooks immediate_olist and
// pim_include already call, and updateUpstream has the place of the
// "RPF'(S,G) changes due to an Assert" row. (*,G) entries and RP mapping
// get files of their own (the 4.5.1/4.5.4 machines, rp.go, bsr.go).
package pim
