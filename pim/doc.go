// Package pim is the PIM-SM engine of pim6sd: RFC 7761 (PIM-SM, revised)
// for IPv6, with Source-Specific Multicast (RFC 4607 and RFC 7761 section
// 4.8) and any-source multicast: neighbors, Hello, DR election, the LAN
// Prune Delay, the (*,G), (S,G) and (S,G,rpt) Join/Prune machines,
// Register and Register-Stop, the switch to the shortest-path tree, and
// Assert. RPs come from static mappings, from the Bootstrap Router
// mechanism (RFC 5059) and from the group address (Embedded-RP, RFC 3956);
// rp.go weighs them. Wire formats are in pim/pimmsg; the BSR machine of
// RFC 5059 is package pim/bsr, which the Router owns and feeds (bsr.go).
//
// # Shape
//
// One Router holds every PIM interface of the daemon. It is a pure event
// processor (see the project's architecture guide): every method takes
// `now` and returns the Actions the caller carries out:
//
//   - SendPIM: a message to send: Hello, Join/Prune, Assert and Bootstrap
//     multicast on an interface (a Bootstrap also unicast to a new
//     neighbor there); Register, Register-Stop and
//     Candidate-RP-Advertisement unicast (IfIndex 0);
//   - WatchRPF / UnwatchRPF: ask for (or stop asking for) the unicast route
//     to a source, an RP or the BSR; the daemon answers with SetRPFs now
//     and on every change (SetRPF is the form for one address);
//   - Route: the desired kernel forwarding of an (S,G) changed (RegisterIf
//     is the register MIF);
//   - WatchActivity / UnwatchActivity: read (or stop reading) the counters
//     of an installed entry every Config.ActivityInterval (DataActivity);
//   - NeighborChange, DRChange, LimitHit, BSRChange, RPChange,
//     StarGChange: events worth a log line.
//
// Inputs are Receive (PIM messages, unicast ones from any interface),
// SetListeners (local receivers, from MLD's ListenerUpdate), SetRPFs,
// SetLocalAddresses (I_am_RP), the data plane's upcalls and counters
// (NoCache, WrongIIF, WholePacket, DataActivity), interface, address and
// configuration changes (SetConfig), and Expire for timers. The Router
// owns one timerq.Queue, and each BSR zone another on the same ID
// allocator; Expire fires them all in one order (deadline, then ID) and
// the daemon calls it at NextDeadline.
// Randomness (Generation IDs, Hello delays, Join Timer jitter, the
// Register-Stop Timer) comes from Config.Rand, so that a simulation is
// deterministic.
//
// # What is implemented, by section of RFC 7761
//
// (RFC 7761 renumbered RFC 4601's sections when it removed (*,*,RP) state:
// the state summarization macros, RFC 4601's 4.1.6, are 4.1.5; receiving
// (*,G), (S,G) and (S,G,rpt) Join/Prunes, 4.5.2-4.5.4, are 4.5.1-4.5.3;
// sending them, 4.5.6-4.5.9, are 4.5.4-4.5.7. Citations here use RFC
// 7761's numbers.)
//
//   - 4.3 (hello.go, neighbor.go, dr.go, lanprune.go): Hello and neighbor
//     liveness, Generation IDs, Address Lists, DR election, the LAN Prune
//     Delay with the T bit of IfConfig.TrackingSupport.
//   - 4.7 (rp.go): RP(G) from Embedded-RP, static mappings with Override,
//     the BSR's RP-set, then the other static mappings (longest prefix,
//     then the highest RP address); I_am_RP(G) from SetLocalAddresses. SSM
//     groups have no RP. A change of RP(G) moves the group's state.
//   - RFC 5059 (bsr.go, package bsr): the BSR election, Bootstrap messages
//     (their RPF check, forwarding, and the unicast BSM to new neighbors
//     here; the rest in the zone), the RP-set with the hash function of
//     4.7.2, Candidate-RP-Advertisements; administrative scope zones
//     (RFC 5059 1.3, zones.go): one zone machine per scope zone, the zone
//     of a BSM by its Z-bit first range, RP(G) from the most specific zone
//     containing G, Candidate-RP ranges to their zone's BSR, and the
//     zones' borders (no BSM, Join/Prune state or listener of the zone
//     across them).
//   - RFC 3956 (embeddedrp.go): the RP address embedded in a group of
//     ff70::/12, for at most Config.MaxEmbeddedRPGroups groups at once.
//   - 4.1.2-4.1.5 (group.go, starg.go, sg.go, sgrpt.go, olist.go): the
//     (*,G), (S,G) and (S,G,rpt) state and the macros: immediate_olist,
//     inherited_olist(S,G,rpt), inherited_olist(S,G), joins, prunes,
//     pim_include, pim_exclude, JoinDesired, PruneDesired, RPF'(*,G),
//     RPF'(S,G,rpt), RPF'(S,G); local receivers from MLD (INCLUDE: (S,G);
//     EXCLUDE: (*,G) and local_receiver_exclude).
//   - 4.5.1, 4.5.2 (downstream.go): the downstream (*,G) and (S,G)
//     machines per interface: NoInfo, Join, Prune-Pending; Expiry and
//     Prune-Pending Timers; PruneEcho. A Join(*,G) must name RP(G).
//   - 4.5.3 (sgrpt.go): the downstream (S,G,rpt) machine: NoInfo, Prune,
//     Prune-Pending, PruneTmp, Prune-Pending-Tmp, with the "End of Message"
//     rule.
//   - 4.5.4, 4.5.5 (starg.go, upstream.go): the upstream (*,G) and (S,G)
//     machines: NotJoined, Joined; Join Timer with suppression and
//     override; RPF' changes (routing, RP change, Assert, GenID).
//   - 4.5.6, 4.5.7 (sgrpt.go): the upstream (S,G,rpt) machine: RPTNotJoined,
//     Pruned, NotPruned with the Override Timer; (S,G,rpt) Prunes ride with
//     every Join(*,G).
//   - 4.5, 4.9.5.1 (joinprune.go): receiving Join/Prune (only from
//     neighbors; (*,G) entries, then (S,G,rpt), then (S,G)); sending them
//     aggregated per interface and upstream neighbor with the S, W and R
//     bits, split to the MTU with each Join(*,G) and its (S,G,rpt) Prunes
//     together.
//   - 4.2, 4.2.1, 4.2.2, 4.1.3 (spt.go, kat.go, cache.go, forward.go): the
//     data rules as upcalls and counters show them: the Keepalive Timer,
//     Update_SPTbit, CheckSwitchToSpt with the policy of Config.SPT, cache
//     entries for (*,G) forwarding (Linux has only (S,G) entries), and the
//     kernel route of each (S,G).
//   - 4.4.1 (register.go): the DR's Register machine (NoInfo, Join,
//     Join-Pending, Prune; Register-Stop Timer; Null-Registers), Registers
//     from WholePacket upcalls, rate-limited.
//   - 4.4.2 (rpregister.go): the RP: Registers keep the Keepalive Timer
//     (RP_Keepalive_Period after a Register-Stop), the RP joins toward the
//     source and stops the Registers once on the SPT; Register-Stops are
//     rate-limited.
//   - 4.6 (assert.go): the (S,G) and (*,G) Assert machines: NoInfo,
//     Winner, Loser; Assert Timer; CouldAssert, AssertTrackingDesired,
//     lost_assert, metrics, AssertCancel; RPF' toward the winner.
//   - 4.8 (RFC 4607): groups in Config.SSMRange take (S,G) state only; their
//     SPT bit is always set and they have no Keepalive Timer or Register
//     state; (*,G) and (S,G,rpt) entries for them are counted and ignored.
//
// # Events and their end
//
// Handlers change inputs (downstream states, local receivers, neighbors,
// the DR, routes to sources and RPs, data arrivals, Assert state) and mark
// the entries concerned; marking a (*,G) entry marks its group's (S,G)
// entries, which inherit from it. When the event ends (finish), each
// marked (*,G) entry runs its Assert rows and upstream machine, then each
// marked (S,G) entry its Assert rows, Register machine and upstream (S,G)
// and (S,G,rpt) machines, once against the final state; the Joins and
// Prunes go out aggregated (the last word for each entry and neighbor
// winning); routes are emitted where they changed; entries nothing keeps
// are deleted (the last user of a source or RP takes its RPF watch with
// it). So a Join/Prune message with a thousand entries, or the Join Timers
// of a thousand entries expiring together, makes one message per neighbor.
//
// # Timers
//
// The timers that are pushed later over and over are lazy, as in package
// mld: the Expiry Timers (every Join or Prune), the Neighbor Liveness Timer
// (every Hello), the Join Timers (Join suppression), the Keepalive Timer
// and a cache entry's idle timer (data). Pushing one later only writes the
// true deadline in the state; the queued timer stays where it is and, when
// it fires early, is queued again (usually with the same ID). Lowering one
// moves it at once. So NextDeadline may be earlier than any real expiry;
// Snapshot's times left are the true ones.
//
// # Choices where the RFC leaves room
//
// Each is documented where it is made; in short: a Prune still goes to a
// lost RPF neighbor; a Join(*,G) naming another RP is dropped but a
// Prune(*,G) is taken whatever RP it names; the upstream (*,G) machine
// waits for the route to a new RP; entering Pruned(S,G,rpt) sends the Prune
// at once; the RP always switches to the SPT of a registering source with
// receivers; the SPT bit is also cleared when the Keepalive Timer expires;
// a directly connected source is always taken from its link; where
// RPF_interface(S) is RPF_interface(RP(G)), an (S,G) that JoinDesired holds
// for is forwarded on inherited_olist(S,G) before its SPT bit is set;
// Asserts are taken from neighbors only and the answers to inferior ones
// are rate-limited; the Null-Register's dummy header has payload length 0
// and next header 59; shutdown sends goodbye Hellos but no Prunes.
package pim
