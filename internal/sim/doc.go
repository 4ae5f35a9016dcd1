// Package sim is a deterministic network simulator for pim6sd: in-memory
// links, a virtual clock, and many routers in one test process, each a real
// daemon (internal/daemon with the real MLD, PIM and MRIB engines) over a
// simulated Linux kernel. It is test infrastructure in a normal package so
// that any package's tests can use it. It starts no goroutine, reads no
// real clock, opens no socket and runs no command.
//
// # Use
//
//	n := sim.New(t, sim.Options{Delay: 100 * time.Microsecond})
//	lanS, lanR := n.AddLink("lanS"), n.AddLink("lanR")
//	r := n.AddRouter("r1", nil) // conf.Default()
//	r.AddInterface("eth0", lanS, "fe80::1", "2001:db8:1::1/64")
//	r.AddInterface("eth1", lanR, "fe80::1", "2001:db8:2::1/64")
//	s := n.AddHost("s", lanS, "fe80::10", "2001:db8:1::10/64")
//	h := n.AddHost("h", lanR, "fe80::20", "2001:db8:2::20/64")
//	n.AutoRoutes()             // or r.Route("2001:db8:1::/64", "fe80::2", "eth0")
//	h.JoinSource("ff3e::1", "2001:db8:1::10")
//	st := s.Stream("ff3e::1", 100*time.Millisecond)
//	n.Run(time.Minute)
//	d := sim.Deliveries(h.ReceivedFrom("2001:db8:1::10", "ff3e::1"), st.Sent())
//
// Routers' daemons start at the first Run or RunUntil (or Start), so they
// find the interfaces added before as a daemon started at boot does; what
// changes later reaches them as netlink events. Inspect with
// Router.Snapshot (the daemon's ctl.Snapshot at the virtual time),
// Router.MFC (the simulated kernel's entries, with interface names and
// counters), Router.Upcalls, Router.Drops, Router.Delivered, and the trace:
// Net.Frames (every packet sent on any link, parsed on demand with pimmsg
// and mldmsg) and Net.Trace (the same as text, with the kernels' MIF, MFC,
// route and upcall events). Set PIM6SD_SIM_LOG=debug (or Options.LogLevel)
// to see the daemons' logs, with virtual times, in the test log.
//
// # Time and order
//
// One clock starts at Epoch. One queue holds every delivery, kernel event
// and scripted action (Net.At), ordered by time and then by insertion.
// Run and RunUntil repeatedly take the earliest of the queue's head and
// every running daemon's NextDeadline; at equal times queued events go
// first, then the due daemons' Expire in the order the routers were added.
// Inputs reach a daemon through Handle from the queue, never from inside
// one of its own calls. Every random choice comes from PCG sources seeded
// by node name, Options.Seed and (for daemons) the restart count, so a
// scenario gives the same trace each run (TestDeterminism).
//
// # Links and interfaces
//
// A Link is a LAN: a frame reaches every other attached interface after the
// link's delay (a unicast frame only the interface of its next hop). An
// interface is up when administratively up and with carrier; carrier needs
// the interface's own carrier, attachment to a link, and the link up.
// Iface.SetUp is ip link set up/down: going down removes every IPv6 address
// of the interface, global ones included, and every route through it, with
// netlink events (link first, then routes, then addresses); coming up
// brings back only the link-local address (addresses are nodad: never
// tentative). Iface.SetCarrier, Link.SetUp, Iface.Detach and Iface.Attach
// change carrier only: addresses and routes stay (routes are flagged
// LinkDown and still used). Iface.SetSilent and Link.SetSilent lose every
// frame with no state change at all (neighbors are lost by their timers;
// the frames still show in the trace, marked lost). Iface.SetLinkLocal is
// ip addr add new; ip addr del old for the link-local address: the daemon
// sees the new one while the old is still there, then the old one going.
// Iface.Delete deletes the device. Frames longer than the sending interface's MTU are dropped
// (Linux would fragment one the router itself sends).
//
// # Unicast routing
//
// Each router has lo (ifindex 1, not multicast, ::1 and the AddLoopback
// addresses), its interfaces from ifindex 2, and a main table: connected
// routes of its global prefixes (protocol kernel, metric 256) and static
// routes (Route, AddRoute: replace semantics on prefix and metric,
// default metric 1024, protocol static unless given; reject routes).
// RouteTo answers as kernel.RouteTo does: the local route for an own
// address, else longest prefix, then lowest metric, then the older route;
// ErrNoRoute when nothing (or a reject route) matches. Route changes are
// RouteEvents. Unicast packets (PIM Registers and Register-Stops, which
// the PIM socket takes with ifindex 0 to let routing choose the
// interface, as Linux does) go hop by hop along these tables: the next
// hop (gateway, or the destination when on-link) must answer neighbor
// discovery on the outgoing link, i.e. own that address on its interface
// there; forwarding routers decrement the hop limit and drop at 1. One ECMP path per route only. A unicast
// packet to a link-local address goes out of the interface the sender
// names (IPV6_PKTINFO), to the neighbor owning that address there, and is
// never forwarded.
//
// # The multicast kernel (ip6mr)
//
// Per router: 32 MIFs (lowest free slot, re-adding an interface returns
// its MIF, ErrNoFreeMIF, ErrUnknownMIF), the register MIF with its pim6reg
// device (LinkType pimreg, no multicast flag, MTU 1452; one per table),
// MRT6_PIM (acts only on a change of on/off; on means WRONGMIF and
// WRMIFWHOLE upcalls), the MFC of (S,G) entries (iif, oif set, packet,
// byte and wrong-if counters; SetMFC checks that every MIF exists, as
// kernel.MRT does; DelMFC and SGCount give ErrNoMFC), and unresolved
// entries. A data packet to a group of wider than link scope arriving on
// an interface:
//
//   - with an (S,G) entry: counted (packets, bytes including the IPv6
//     header); on the wrong MIF counted in wrong_if and, with MRT6_PIM
//     and the arrival interface a MIF, reported as WRONGMIF then
//     WRMIFWHOLE (the whole packet) at most once per 3 s per entry (the
//     first one at once); else copied to every oif, highest MIF first, if
//     its hop limit is above the threshold 1, with the hop limit
//     decremented; to the register MIF as a WHOLEPKT upcall carrying the
//     packet as it arrived;
//   - without an entry, on a MIF: unresolved; the first packet of an
//     (S,G) makes an entry and a NOCACHE upcall (no packet bytes, as on
//     Linux); each entry queues 4 packets, there are at most 10 entries,
//     and they expire after 10 s; SetMFC forwards the queued packets;
//   - without an entry and not on a MIF: dropped.
//
// Register decapsulation is pim6_rcv: a unicast PIM Register (not Null)
// for one of the router's addresses whose checksum verifies (either
// convention), with a multicast inner destination and a non-empty
// payload, enters forwarding as arriving on the register MIF if that MIF
// exists. As in Linux, MRT6_PIM is not required for this, only the
// register MIF. The PIM socket also gets the Register. Close (MRT6_DONE,
// also Kill) removes the MIFs, the register device, the MFC and the
// unresolved entries. An interface's deletion drops its MIF in the kernel;
// the daemon's DelMIF then only frees the slot.
//
// # What the daemon's sockets receive
//
//   - MLD socket (while open): MLD messages to ff02::1, or to ff02::16 and
//     ff02::2 on interfaces it joined (JoinMLD; ff02::2 is joined on every
//     interface of a router anyway), and MLD messages to groups of wider
//     than link scope that carry Router Alert when the arrival interface
//     has a MIF (Linux: mc_forwarding from MRT6_INIT, plus allmulti from
//     the MIF on a real NIC; on veth MRT6_INIT alone suffices). So MLDv1
//     Reports are delivered only on MIF interfaces, never for link-scope
//     groups, never without Router Alert. Messages whose ICMPv6 checksum
//     fails are dropped (the kernel computes it on send).
//   - PIM socket: PIM to ff02::d on interfaces it joined (JoinPIM), and
//     unicast PIM to any of the router's addresses.
//   - RecvInfo: the arrival interface's index; for a unicast packet a
//     router sends itself, the index of the interface owning the address.
//     Src without zone, Dst, the hop limit as received, RouterAlert.
//   - Multicast is not looped back to the sender.
//
// # Hosts
//
// A Host has one interface (ifindex 2). It is an MLDv2 host (RFC 3810
// sections 5 and 6: state-change reports at once plus Robustness-1
// retransmissions within the Unsolicited Report Interval, current-state
// reports to General, Group-specific and Group-and-Source-specific Queries
// after a random delay within the Maximum Response Delay) or an MLDv1 host
// (ForceMLDv1, or for 260 s after hearing an MLDv1 Query: Reports to the
// group with report suppression, Done to ff02::2). Send and Stream send
// UDP datagrams from the global address with hop limit 64; Received lists
// the datagrams of groups the host listens to that pass its source filter.
//
// # Simplifications
//
//   - The routers' own kernels are not MLD hosts: they send no Reports
//     for ff02::2, ff02::16, ff02::d or solicited-node groups.
//   - No neighbor discovery traffic, DAD, ICMPv6 errors (Packet Too Big,
//     Time Exceeded), fragmentation or reassembly; no ECMP; no policy routing or
//     tables other than main and local; no fe80::/64 routes in the table.
//   - (::,G) MFC entries (Linux's proxy entries) are stored but never
//     match a packet; multicast is forwarded only by (S,G) entries.
//   - MLD messages are never forwarded; PIM is accepted only as described
//     above; a router delivers no UDP locally.
//   - A host's new state change replaces its pending retransmissions for
//     that group instead of merging (RFC 3810 6.1); reports are not split
//     by the MTU.
//   - Carrier is per interface and per link: one end of a point-to-point
//     link going admin down does not take the other end's carrier (as a
//     veth pair would).
package sim
