package kernel

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// RecvInfo is what the kernel reports about a received MLD or PIM message,
// beyond its octets. This layer only reports; the engines judge (hop limit
// 1, Router Alert present, link-local source, arrival on an enabled
// interface).
type RecvInfo struct {
	// IfIndex is the interface the packet arrived on (IPV6_PKTINFO).
	IfIndex int
	// Src is the IPv6 source address, without a zone: IfIndex names the
	// link.
	Src netip.Addr
	// Dst is the IPv6 destination address (IPV6_PKTINFO): a group, ff02::16,
	// ff02::d, or one of our unicast addresses.
	Dst netip.Addr
	// HopLimit is the hop limit of the IPv6 header as received
	// (IPV6_HOPLIMIT), or -1 if the kernel did not report it.
	HopLimit int
	// RouterAlert reports that the packet carried a hop-by-hop Router Alert
	// option (RFC 2711), whatever its value. Only the MLD socket asks for
	// hop-by-hop options; on the PIM socket it is always false.
	RouterAlert bool
}

// ErrRecvTruncated is returned (wrapped) by ReadFrom when the message was
// longer than the buffer, or its ancillary data longer than the socket's
// ancillary buffer. The octets that fit and the RecvInfo are still
// returned, so that the caller can count and log the drop.
var ErrRecvTruncated = errors.New("kernel: received message truncated")

// oobSize holds IPV6_PKTINFO, IPV6_HOPLIMIT and the largest hop-by-hop
// options header there can be (Hdr Ext Len 255: 2048 octets).
var oobSize = unix.CmsgSpace(sizeofPktinfo) + unix.CmsgSpace(sizeofHopLimit) + unix.CmsgSpace(2048)

// rawSock is an IPv6 raw socket of one protocol, common to MLDConn and
// PIMConn.
//
// It is opened with net.ListenPacket("ip6:<proto>", "::") rather than a
// bare socket(2), for three reasons: the descriptor is non-blocking and
// registered with Go's netpoller, so a blocked ReadFrom parks its goroutine
// rather than an OS thread; Close (or a read deadline) wakes a blocked
// ReadFrom, which then fails with an error matching net.ErrClosed
// (os.NewFile would give the unexported "use of closed file" instead); and
// golang.org/x/net/ipv6 wraps the connection directly for the options it
// knows (ICMPv6 filter, group membership, hop limits, loopback, checksum,
// IPV6_RECVPKTINFO/RECVHOPLIMIT). Receiving and sending go through
// SyscallConn with recvmsg/sendmsg of x/sys/unix, because x/net/ipv6
// cannot deliver the hop-by-hop options header nor set one.
//
// The socket is bound to :: and so, on Linux, receives every packet of its
// protocol delivered locally in its network namespace, whatever the
// destination (raw_v6_match checks group membership only for sockets
// bound to a specific address).
type rawSock struct {
	conn *net.IPConn
	raw  syscall.RawConn
	p    *ipv6.PacketConn

	rmu  sync.Mutex // one reader at a time: roob is shared
	roob []byte
	wmu  sync.Mutex // one writer at a time: woob is shared
	woob []byte
}

// openRawSock opens a raw socket for proto in the network namespace of the
// calling thread.
func openRawSock(proto int) (*rawSock, error) {
	pc, err := net.ListenPacket("ip6:"+strconv.Itoa(proto), "::")
	if err != nil {
		return nil, err
	}
	c := pc.(*net.IPConn)
	raw, err := c.SyscallConn()
	if err != nil {
		c.Close()
		return nil, err
	}
	return &rawSock{
		conn: c,
		raw:  raw,
		p:    ipv6.NewPacketConn(c),
		roob: make([]byte, oobSize),
		woob: make([]byte, 0, unix.CmsgSpace(sizeofPktinfo)),
	}, nil
}

// setInt sets an integer socket option on the descriptor.
func (s *rawSock) setInt(level, opt, v int) error {
	var serr error
	if err := s.raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), level, opt, v)
	}); err != nil {
		return err
	}
	return serr
}

// getInt reads an integer socket option.
func (s *rawSock) getInt(level, opt int) (int, error) {
	var (
		v    int
		serr error
	)
	if err := s.raw.Control(func(fd uintptr) {
		v, serr = unix.GetsockoptInt(int(fd), level, opt)
	}); err != nil {
		return 0, err
	}
	return v, serr
}

// setBytes sets a socket option whose value is a byte string.
func (s *rawSock) setBytes(level, opt int, v []byte) error {
	var serr error
	if err := s.raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptString(int(fd), level, opt, string(v))
	}); err != nil {
		return err
	}
	return serr
}

// drain discards what was queued while the socket was being set up: such
// packets may lack the ancillary data or have passed before the ICMPv6
// filter was installed. MLD and PIM repeat their messages, so losing one
// at start-up is harmless, whereas a report without its interface is not.
func (s *rawSock) drain() error {
	var buf [1]byte
	var serr error
	err := s.raw.Control(func(fd uintptr) {
		for {
			_, _, _, _, serr = unix.Recvmsg(int(fd), buf[:], nil, unix.MSG_DONTWAIT|unix.MSG_TRUNC)
			if serr != nil {
				break
			}
		}
	})
	if err != nil {
		return err
	}
	if serr == unix.EAGAIN {
		return nil
	}
	return serr
}

// setup applies the options both sockets need (arrival interface,
// destination and hop limit reported; our multicast not looped back to us;
// multicast hop limit 1), then those of the caller, then drains.
func (s *rawSock) setup(what string, more ...func() error) error {
	steps := []func() error{
		func() error {
			return s.p.SetControlMessage(ipv6.FlagDst|ipv6.FlagInterface|ipv6.FlagHopLimit, true)
		},
		func() error { return s.p.SetMulticastLoopback(false) },
		func() error { return s.p.SetMulticastHopLimit(1) },
	}
	for _, f := range append(steps, more...) {
		if err := f(); err != nil {
			s.conn.Close()
			return fmt.Errorf("kernel: open %s socket: %w", what, err)
		}
	}
	if err := s.drain(); err != nil {
		s.conn.Close()
		return fmt.Errorf("kernel: open %s socket: drain: %w", what, err)
	}
	return nil
}

func (s *rawSock) close() error { return s.conn.Close() }

// setReadDeadline makes a blocked or future readFrom return an error
// matching os.ErrDeadlineExceeded once t passes; the zero t removes it.
func (s *rawSock) setReadDeadline(t time.Time) error { return s.conn.SetReadDeadline(t) }

// readFrom receives one packet into buf, blocking in the netpoller.
func (s *rawSock) readFrom(buf []byte) (int, RecvInfo, error) {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	var (
		n, oobn, flags int
		from           unix.Sockaddr
		serr           error
	)
	err := s.raw.Read(func(fd uintptr) bool {
		for {
			n, oobn, flags, from, serr = unix.Recvmsg(int(fd), buf, s.roob, 0)
			if serr != unix.EAGAIN {
				return true
			}
			// rawv6_recvmsg may verify a checksum itself and, if it
			// is wrong, drop the message and report EAGAIN on a
			// non-blocking socket even though more messages wait
			// behind it; the netpoller is edge-triggered and would
			// not wake us for those. (Linux normally verifies at
			// enqueue time, in rawv6_rcv_skb, so this is a safety
			// net.) Sleep only if the queue is really empty.
			if q, err := unix.IoctlGetInt(int(fd), unix.SIOCINQ); err != nil || q == 0 {
				return false
			}
		}
	})
	if err != nil {
		return 0, RecvInfo{}, err
	}
	if serr != nil {
		return 0, RecvInfo{}, fmt.Errorf("kernel: recvmsg: %w", serr)
	}
	ci := cmsgParse(s.roob[:oobn])
	info := RecvInfo{
		IfIndex:     ci.ifIndex,
		Dst:         ci.dst,
		HopLimit:    ci.hopLimit,
		RouterAlert: ci.routerAlert,
	}
	if sa, ok := from.(*unix.SockaddrInet6); ok {
		info.Src = netip.AddrFrom16(sa.Addr)
	}
	switch {
	case flags&unix.MSG_TRUNC != 0:
		return n, info, fmt.Errorf("%w: longer than the %d-octet buffer", ErrRecvTruncated, len(buf))
	case flags&unix.MSG_CTRUNC != 0:
		return n, info, fmt.Errorf("%w: ancillary data longer than %d octets", ErrRecvTruncated, len(s.roob))
	}
	return n, info, nil
}

// writeTo sends b to dst, out of ifindex (0: routing chooses) with source
// src (the zero Addr or ::: the kernel chooses), through one IPV6_PKTINFO
// control message. The hop limit and other IPv6 options are the socket's.
func (s *rawSock) writeTo(b []byte, ifindex int, src, dst netip.Addr) error {
	if !dst.Is6() || dst.Is4In6() {
		return fmt.Errorf("kernel: destination %v is not an IPv6 address", dst)
	}
	if src.IsValid() && (!src.Is6() || src.Is4In6()) {
		return fmt.Errorf("kernel: source %v is not an IPv6 address", src)
	}
	if ifindex < 0 {
		return fmt.Errorf("kernel: bad interface index %d", ifindex)
	}
	sa := &unix.SockaddrInet6{Addr: dst.As16()}
	// A link-scoped destination needs its link in sin6_scope_id, and Linux
	// refuses one that differs from ipi6_ifindex.
	if dst.IsLinkLocalUnicast() || dst.IsLinkLocalMulticast() || dst.IsInterfaceLocalMulticast() {
		sa.ZoneId = uint32(ifindex)
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.woob = cmsgAppendPktinfo(s.woob[:0], src.WithZone(""), ifindex)
	var serr error
	err := s.raw.Write(func(fd uintptr) bool {
		serr = unix.Sendmsg(int(fd), b, s.woob, sa, 0)
		return serr != unix.EAGAIN
	})
	if err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("kernel: send %d octets from %v to %v via ifindex %d: %w", len(b), src, dst, ifindex, serr)
	}
	return nil
}

// joinGroups joins groups on ifindex. If one fails, those joined before it
// are left again, so that Join is all or nothing.
func (s *rawSock) joinGroups(ifindex int, groups ...netip.Addr) error {
	ifi := &net.Interface{Index: ifindex} // only the index is used: no lookup, no namespace confusion
	for i, g := range groups {
		if err := s.p.JoinGroup(ifi, &net.IPAddr{IP: g.AsSlice()}); err != nil {
			for _, j := range groups[:i] {
				_ = s.p.LeaveGroup(ifi, &net.IPAddr{IP: j.AsSlice()})
			}
			return fmt.Errorf("kernel: join %v on ifindex %d: %w", g, ifindex, err)
		}
	}
	return nil
}

// leaveGroups leaves groups on ifindex, trying every one.
func (s *rawSock) leaveGroups(ifindex int, groups ...netip.Addr) error {
	ifi := &net.Interface{Index: ifindex}
	var errs []error
	for _, g := range groups {
		if err := s.p.LeaveGroup(ifi, &net.IPAddr{IP: g.AsSlice()}); err != nil {
			errs = append(errs, fmt.Errorf("kernel: leave %v on ifindex %d: %w", g, ifindex, err))
		}
	}
	return errors.Join(errs...)
}
