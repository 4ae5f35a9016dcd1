// Package kernel is the only package of pim6sd that talks to Linux. It
// speaks in operations (add a MIF, set an MFC entry, read an upcall, send a
// PIM or MLD message, list links, look up the route to an address), never in
// file descriptors, so that the daemon can be tested against fakes of these
// operations and the real thing is tested here, in network namespaces.
//
// Parts:
//   - MRT (mrt*.go): the IPv6 multicast routing socket: MRT6_INIT/DONE,
//     MRT6_TABLE, MIFs (including the register MIF, the kernel's pim6reg
//     device), MFC entries (struct mf6cctl), MRT6_PIM, MRT6_FLUSH, the
//     per-(S,G) and per-MIF counters, and the upcalls (struct mrt6msg).
//   - MLDConn (mld*.go): a raw ICMPv6 socket for MLD (RFC 2710, RFC 3810):
//     hop limit 1, the Router Alert hop-by-hop option (RFC 2711), chosen
//     link-local source and interface.
//   - PIMConn (pim*.go): a raw socket for protocol 103 (RFC 7761); checksums
//     come from pim/pimmsg.
//   - Netlink (netlink*.go): links, addresses, routes, RPF lookups and their
//     change events, through github.com/vishvananda/netlink.
//
// Linux headers of reference: include/uapi/linux/mroute6.h, net/ipv6/ip6mr.c.
package kernel
