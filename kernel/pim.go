package kernel

import (
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// AllPIMRouters (ff02::d) is where PIM Hello, Join/Prune, Assert and
// multicast Bootstrap messages go (RFC 7761 section 4.9).
var AllPIMRouters = netip.MustParseAddr("ff02::d")

// PIMConn is the router's PIM socket: a raw socket for protocol 103 that
// reports each message's interface, addresses and hop limit, and sends
// from a source and out of an interface the caller chooses. Multicast goes
// out with hop limit 1; unicast (Register, Register-Stop, unicast Bootstrap,
// Candidate-RP-Advertisement) with the kernel's default hop limit, that is
// net.ipv6.conf.<interface>.hop_limit (64 unless changed), because those
// messages cross the domain.
//
// # Checksums
//
// The kernel leaves PIM checksums alone: a raw socket computes and verifies
// a checksum only if IPV6_CHECKSUM says where it is, which Linux sets by
// default only for ICMPv6 (offset 2) and Mobility Header sockets, not for
// protocol 103. OpenPIM sets IPV6_CHECKSUM to -1 all the same, so that a
// kernel with another default would not rewrite the Register checksum,
// which covers only the first 8 octets (RFC 7761 section 4.9) and which a
// kernel computing over the whole message would get wrong. Hence WriteTo
// sends exactly the octets it is given, and ReadFrom returns messages
// whatever their checksum: the caller checks with pimmsg.VerifyChecksum
// (TestPIMKernelLeavesChecksum).
//
// With MRT6_PIM on (an RP or a DR with a register MIF), the kernel's own
// PIM handler (pim6_rcv in net/ipv6/ip6mr.c) also sees each Register and
// decapsulates it onto the register MIF; the raw socket gets its copy
// first, unchanged (ip6_protocol_deliver_rcu delivers to raw sockets
// before it calls the protocol handler).
type PIMConn struct {
	s *rawSock
}

// OpenPIM opens the PIM socket in the network namespace of the calling
// thread. It needs CAP_NET_RAW.
func OpenPIM() (*PIMConn, error) {
	s, err := openRawSock(unix.IPPROTO_PIM) // 103, RFC 7761 section 4.9
	if err != nil {
		return nil, err
	}
	err = s.setup("PIM",
		// Set with x/sys rather than x/net/ipv6, whose Checksum getter
		// reads -1 as 4294967295 on 64-bit and so reports "on".
		func() error { return s.setInt(unix.IPPROTO_IPV6, unix.IPV6_CHECKSUM, -1) },
	)
	if err != nil {
		return nil, err
	}
	return &PIMConn{s: s}, nil
}

// Join makes the socket receive messages to ALL-PIM-ROUTERS (ff02::d) on
// the interface ifindex. Unicast messages to our addresses need no join.
func (c *PIMConn) Join(ifindex int) error {
	return c.s.joinGroups(ifindex, AllPIMRouters)
}

// Leave undoes Join.
func (c *PIMConn) Leave(ifindex int) error {
	return c.s.leaveGroups(ifindex, AllPIMRouters)
}

// ReadFrom blocks until a PIM message arrives and copies it, from its PIM
// header, into buf. The kernel has not checked its checksum. A message
// longer than buf is cut and ErrRecvTruncated returned. After Close it
// returns an error matching net.ErrClosed.
func (c *PIMConn) ReadFrom(buf []byte) (n int, info RecvInfo, err error) {
	return c.s.readFrom(buf)
}

// WriteTo sends the PIM message b, checksum included, from src to dst.
// For ff02::d, ifindex names the link and src should be the interface's
// link-local address; for a unicast dst, ifindex 0 lets routing choose
// the interface. The zero src lets the kernel choose the source; a zone
// on src is ignored.
func (c *PIMConn) WriteTo(b []byte, ifindex int, src, dst netip.Addr) error {
	return c.s.writeTo(b, ifindex, src, dst)
}

// SetReadDeadline makes ReadFrom fail with an error matching
// os.ErrDeadlineExceeded once t passes (the zero t: never).
func (c *PIMConn) SetReadDeadline(t time.Time) error { return c.s.setReadDeadline(t) }

// Close closes the socket, which also unblocks a blocked ReadFrom and
// drops the socket's group memberships.
func (c *PIMConn) Close() error { return c.s.close() }
