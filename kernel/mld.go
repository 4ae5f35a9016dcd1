package kernel

import (
	"net/netip"
	"time"

	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// MLD addresses a router listens on (RFC 3810 section 5.2.14, RFC 2710
// section 3).
var (
	// AllMLDv2Routers (ff02::16) is where MLDv2 Reports go.
	AllMLDv2Routers = netip.MustParseAddr("ff02::16")
	// AllRouters (ff02::2) is where MLDv1 Done messages go.
	AllRouters = netip.MustParseAddr("ff02::2")
)

// MLDConn is the router's MLD socket: a raw ICMPv6 socket that passes only
// MLD messages (types 130, 131, 132 and 143), reports for each message its
// interface, addresses, hop limit and whether the hop-by-hop Router Alert
// option was present, and sends with hop limit 1 and the Router Alert
// option (RFC 2711, value 0 = MLD) from a source and out of an interface
// the caller chooses.
//
// # What a Linux router must do to receive every Report
//
// The kernel hands a multicast packet to raw sockets only if it is for
// local delivery (ip6_mc_input in net/ipv6/ip6_input.c). What that takes
// depends on the destination, as the tests in mld_test.go show on the real
// kernel:
//
//   - MLDv2 Reports go to ff02::16 and MLDv1 Done messages to ff02::2, both
//     link-scoped: the interface must have joined them, which Join does.
//     Nothing else is needed (TestMLDReceiveV2Report).
//   - MLDv1 Reports, and the Multicast-Address-Specific Queries of other
//     routers, go to the group itself. For a group wider than link scope,
//     the kernel delivers them when multicast routing is on in the
//     namespace (net.ipv6.conf.all.mc_forwarding, which the kernel sets
//     while an MRT6 socket has done MRT6_INIT and which cannot be written
//     by hand) and the packet carries a Router Alert option with value 0
//     and is MLD: then it hands the packet to local delivery instead of to
//     the multicast forwarding code. Without MRT6_INIT such a Report is
//     dropped unless the router itself listens to the group; with
//     MRT6_INIT but without Router Alert it is dropped too
//     (TestMLDReceiveV1Report, TestMLDV1ReportDelivery).
//   - MLDv1 Reports for link-scoped groups (ff02::/16) are never delivered
//     unless the router listens to the group. A router does not forward
//     link-scoped traffic, so it does not need them.
//   - The IPV6_ROUTER_ALERT socket option plays no part. Linux refuses it
//     (ENOPROTOOPT) on every socket but an IPPROTO_RAW one, and such a
//     socket gets only Router Alert packets the kernel forwards
//     (ip6_forward); an MLDv1 Report is never forwarded that way
//     (TestMLDV1ReportDelivery/ipv6-router-alert-sockopt).
//
// So: open the MRT6 socket (MRT6_INIT) before relying on MLDv1, and Join
// every interface that runs MLD. On real hardware (not veth) the NIC must
// also accept the frames: joining ff02::16 and ff02::2 programs their two
// MAC addresses, and adding the interface as a MIF puts it in allmulti
// mode (ip6mr's mif6_add calls dev_set_allmulti), which MLDv1 Reports to
// arbitrary groups need.
//
// The router's own kernel is an MLD host as well: it reports ff02::16 and
// ff02::2 once Join makes it listen to them, and, because the socket
// listens to ff02::16, those Reports are looped back to it with one of our
// own link-local addresses as source (TestMLDOwnReportsLoopedBack). Our
// own Queries are not (multicast loopback is off on the socket).
//
// # Checksums
//
// Linux handles the ICMPv6 checksum of raw ICMPv6 sockets itself (RFC 3542
// section 3.1: IPV6_CHECKSUM is 2 and cannot be changed at the IPPROTO_IPV6
// level, EINVAL; Linux does let it be changed at the SOL_RAW level, which
// is the level x/net/ipv6's SetChecksum uses, so never call that here).
// On receive the kernel verifies the checksum before queueing
// (rawv6_rcv_skb) and silently drops a message whose checksum is wrong,
// counting it in the socket's drops column of /proc/net/raw6 and in
// Icmp6InCsumErrors: ReadFrom only returns messages whose checksum
// verifies (TestMLDKernelDropsBadChecksum). On send it computes the
// checksum over the pseudo-header of the packet's real source and
// destination and overwrites octets 2 and 3, whatever the caller put
// there. mldmsg computes the same value over the same pseudo-header, so the
// octets on the wire are exactly those mldmsg.Marshal returned, as long as
// the src given to WriteTo is the one the message was marshalled with
// (TestMLDQueryAnswered, TestMLDKernelOverwritesChecksum).
type MLDConn struct {
	s *rawSock
}

// OpenMLD opens the MLD socket in the network namespace of the calling
// thread. It needs CAP_NET_RAW (raw socket, hop-by-hop options).
func OpenMLD() (*MLDConn, error) {
	s, err := openRawSock(unix.IPPROTO_ICMPV6)
	if err != nil {
		return nil, err
	}
	var f ipv6.ICMPFilter
	f.SetAll(true)
	for _, t := range []ipv6.ICMPType{
		ipv6.ICMPTypeMulticastListenerQuery,
		ipv6.ICMPTypeMulticastListenerReport,
		ipv6.ICMPTypeMulticastListenerDone,
		ipv6.ICMPTypeVersion2MulticastListenerReport,
	} {
		f.Accept(t)
	}
	err = s.setup("MLD",
		func() error { return s.p.SetICMPFilter(&f) },
		// Whether the Router Alert option was present.
		func() error { return s.setInt(unix.IPPROTO_IPV6, unix.IPV6_RECVHOPOPTS, 1) },
		// MLD is link-local: hop limit 1 also for a Query sent to a
		// unicast address (RFC 3810 section 5.1.15).
		func() error { return s.p.SetHopLimit(1) },
		// Every MLD message carries Router Alert: set it once, as a sticky
		// option, rather than with every packet.
		func() error { return s.setBytes(unix.IPPROTO_IPV6, unix.IPV6_HOPOPTS, hopOptsRouterAlertMLD[:]) },
	)
	if err != nil {
		return nil, err
	}
	return &MLDConn{s: s}, nil
}

// Join makes the socket receive MLDv2 Reports (ff02::16) and MLDv1 Done
// messages (ff02::2) on the interface ifindex. Queries (ff02::1) need no
// join. MLDv1 Reports need multicast routing to be on (see MLDConn).
func (c *MLDConn) Join(ifindex int) error {
	return c.s.joinGroups(ifindex, AllMLDv2Routers, AllRouters)
}

// Leave undoes Join. Leaving an interface that is gone fails; the kernel
// has dropped its memberships already.
func (c *MLDConn) Leave(ifindex int) error {
	return c.s.leaveGroups(ifindex, AllMLDv2Routers, AllRouters)
}

// ReadFrom blocks until an MLD message arrives and copies it, from its
// ICMPv6 Type octet, into buf. Its checksum has been verified by the
// kernel. A message longer than buf is cut and ErrRecvTruncated returned.
// After Close it returns an error matching net.ErrClosed.
func (c *MLDConn) ReadFrom(buf []byte) (n int, info RecvInfo, err error) {
	return c.s.readFrom(buf)
}

// WriteTo sends the MLD message b (marshalled by mldmsg with the
// pseudo-header of src and dst) from src out of interface ifindex to dst,
// with hop limit 1 and the Router Alert option. src should be the
// interface's link-local address (RFC 3810 section 5); a zone on src is
// ignored.
func (c *MLDConn) WriteTo(b []byte, ifindex int, src, dst netip.Addr) error {
	return c.s.writeTo(b, ifindex, src, dst)
}

// SetReadDeadline makes ReadFrom fail with an error matching
// os.ErrDeadlineExceeded once t passes (the zero t: never).
func (c *MLDConn) SetReadDeadline(t time.Time) error { return c.s.setReadDeadline(t) }

// Close closes the socket, which also unblocks a blocked ReadFrom and
// drops the socket's group memberships.
func (c *MLDConn) Close() error { return c.s.close() }
