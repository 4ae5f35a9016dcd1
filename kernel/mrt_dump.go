package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	vnetns "github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// rtnlFamilyIP6MR is RTNL_FAMILY_IP6MR: the rtmsg family of the IPv6
// multicast routing cache in rtnetlink (dumps and notifications).
const rtnlFamilyIP6MR = 129

// rtaMFCStats is RTA_MFC_STATS (struct rta_mfc_stats: packets, bytes,
// wrong_if, three u64).
const rtaMFCStats = 17

// MFCEntry is one resolved MFC entry as the kernel reports it. The kernel
// names the interfaces by index, not by MIF: IIF is the index of the
// incoming MIF's device, OIFs those of the outgoing ones (sorted).
type MFCEntry struct {
	Src, Grp netip.Addr
	IIF      int
	OIFs     []int
	// Static is set for an entry another socket added (MFC_STATIC: the
	// kernel keeps it when the table's owner closes).
	Static   bool
	Counters SGCounters
}

// MFCs dumps the resolved MFC entries of multicast routing table table
// (0 = the default table) through rtnetlink (RTM_GETROUTE of family
// RTNL_FAMILY_IP6MR), sorted by group and source. Entries the kernel
// still holds unresolved (packets queued for an upcall) are left out. It
// works for any table and does not need the table's socket: it is how a
// restarted daemon and the kernel audit see what the kernel forwards.
func (n *Netlink) MFCs(table uint32) ([]MFCEntry, error) {
	if table == 0 {
		table = rt6TableDefault
	}
	return retryDump(func() ([]MFCEntry, error) { return n.dumpMFCs(table) })
}

func (n *Netlink) dumpMFCs(table uint32) ([]MFCEntry, error) {
	s, err := nl.GetNetlinkSocketAt(n.ns, vnetns.None(), unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("kernel: MFC dump: %w", err)
	}
	defer s.Close()
	tv := unix.NsecToTimeval(netlinkTimeout.Nanoseconds())
	if err := s.SetReceiveTimeout(&tv); err != nil {
		return nil, fmt.Errorf("kernel: MFC dump: %w", err)
	}
	req := nl.NewNetlinkRequest(unix.RTM_GETROUTE, unix.NLM_F_DUMP)
	rtm := make([]byte, unix.SizeofRtMsg) // struct rtmsg, all zero but the family
	rtm[0] = rtnlFamilyIP6MR
	req.AddRawData(rtm)
	if err := s.Send(req); err != nil {
		return nil, fmt.Errorf("kernel: MFC dump: send: %w", err)
	}
	pid, err := s.GetPid()
	if err != nil {
		return nil, fmt.Errorf("kernel: MFC dump: %w", err)
	}
	var out []MFCEntry
	interrupted := false
	deadline := time.Now().Add(netlinkTimeout)
	for {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("kernel: MFC dump: no end after %v", netlinkTimeout)
		}
		msgs, from, err := s.Receive()
		if err != nil {
			return nil, fmt.Errorf("kernel: MFC dump: receive: %w", err)
		}
		if from.Pid != nl.PidKernel {
			continue
		}
		for _, m := range msgs {
			if m.Header.Seq != req.Seq || m.Header.Pid != pid {
				continue
			}
			if m.Header.Flags&unix.NLM_F_DUMP_INTR != 0 {
				interrupted = true
			}
			switch m.Header.Type {
			case unix.NLMSG_DONE:
				if interrupted {
					return nil, netlink.ErrDumpInterrupted
				}
				slices.SortFunc(out, func(a, b MFCEntry) int {
					if c := a.Grp.Compare(b.Grp); c != 0 {
						return c
					}
					return a.Src.Compare(b.Src)
				})
				return out, nil
			case unix.NLMSG_ERROR:
				if len(m.Data) >= 4 {
					if e := int32(binary.NativeEndian.Uint32(m.Data)); e != 0 {
						return nil, fmt.Errorf("kernel: MFC dump: %w", unix.Errno(-e))
					}
				}
				return nil, errors.New("kernel: MFC dump: malformed error message")
			case unix.RTM_NEWROUTE:
				e, ok, err := parseMFC(m.Data, table)
				if err != nil {
					return nil, fmt.Errorf("kernel: MFC dump: %w", err)
				}
				if ok {
					out = append(out, e)
				}
			}
		}
	}
}

// parseMFC decodes one RTM_NEWROUTE of family RTNL_FAMILY_IP6MR (the body
// after the netlink header). ok is false for another family or table and
// for an unresolved entry.
func parseMFC(b []byte, table uint32) (e MFCEntry, ok bool, err error) {
	if len(b) < unix.SizeofRtMsg {
		return e, false, fmt.Errorf("route message of %d bytes", len(b))
	}
	// struct rtmsg: family, dst_len, src_len, tos, table, protocol,
	// scope, type (u8 each), flags (u32).
	family, rtmTable, protocol := b[0], b[4], b[5]
	flags := binary.NativeEndian.Uint32(b[8:])
	if family != rtnlFamilyIP6MR || flags&unix.RTNH_F_UNRESOLVED != 0 {
		return e, false, nil
	}
	attrs, err := nl.ParseRouteAttr(b[unix.SizeofRtMsg:])
	if err != nil {
		return e, false, err
	}
	tbl := uint32(rtmTable)
	e.Static = protocol == unix.RTPROT_STATIC
	for _, a := range attrs {
		switch a.Attr.Type {
		case unix.RTA_TABLE:
			if len(a.Value) >= 4 {
				tbl = binary.NativeEndian.Uint32(a.Value)
			}
		case unix.RTA_SRC:
			e.Src, _ = netip.AddrFromSlice(a.Value)
		case unix.RTA_DST:
			e.Grp, _ = netip.AddrFromSlice(a.Value)
		case unix.RTA_IIF:
			if len(a.Value) >= 4 {
				e.IIF = int(binary.NativeEndian.Uint32(a.Value))
			}
		case unix.RTA_MULTIPATH:
			// struct rtnexthop: len (u16), flags, hops (u8), ifindex (int).
			for v := a.Value; len(v) >= unix.SizeofRtNexthop; {
				l := int(binary.NativeEndian.Uint16(v))
				if l < unix.SizeofRtNexthop || l > len(v) {
					return e, false, fmt.Errorf("bad nexthop length %d", l)
				}
				e.OIFs = append(e.OIFs, int(int32(binary.NativeEndian.Uint32(v[4:]))))
				v = v[min(nlAlign(l), len(v)):]
			}
		case rtaMFCStats:
			if len(a.Value) >= 24 {
				e.Counters = SGCounters{
					Packets: binary.NativeEndian.Uint64(a.Value),
					Bytes:   binary.NativeEndian.Uint64(a.Value[8:]),
					WrongIf: binary.NativeEndian.Uint64(a.Value[16:]),
				}
			}
		}
	}
	if tbl != table || !e.Src.IsValid() || !e.Grp.IsValid() {
		return e, false, nil
	}
	slices.Sort(e.OIFs)
	return e, true, nil
}

func nlAlign(n int) int { return (n + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1) }

// SubscribeMFC reports changes of the MFC of table (0 = the default)
// through rtnetlink's RTNLGRP_IPV6_MROUTE group: the kernel announces
// every entry added, replaced or deleted, by this daemon or by anyone
// else. Each change, and each loss of notifications (the socket's buffer
// overflowed), sends on the returned channel, which holds one pending
// signal at most: a receiver reads the MFC again (MFCs) rather than count
// signals. The channel is closed once done is closed.
func (n *Netlink) SubscribeMFC(table uint32, done <-chan struct{}) (<-chan struct{}, error) {
	if table == 0 {
		table = rt6TableDefault
	}
	s, err := nl.SubscribeAt(n.ns, vnetns.None(), unix.NETLINK_ROUTE, unix.RTNLGRP_IPV6_MROUTE)
	if err != nil {
		return nil, fmt.Errorf("kernel: MFC notifications: %w", err)
	}
	// Receive blocks; a timeout lets the reader see done.
	tv := unix.NsecToTimeval((500 * time.Millisecond).Nanoseconds())
	if err := s.SetReceiveTimeout(&tv); err != nil {
		s.Close()
		return nil, fmt.Errorf("kernel: MFC notifications: %w", err)
	}
	out := make(chan struct{}, 1)
	signal := func() {
		select {
		case out <- struct{}{}:
		default:
		}
	}
	go func() {
		defer close(out)
		defer s.Close()
		for {
			select {
			case <-done:
				return
			default:
			}
			msgs, _, err := s.Receive()
			if err != nil {
				if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EWOULDBLOCK) || errors.Is(err, unix.EINTR) {
					continue
				}
				// ENOBUFS: notifications were lost. Anything else: the
				// reader cannot go on; either way the receiver reads the
				// whole MFC again, and the periodic audit remains.
				signal()
				if errors.Is(err, unix.ENOBUFS) {
					continue
				}
				return
			}
			for _, m := range msgs {
				if m.Header.Type != unix.RTM_NEWROUTE && m.Header.Type != unix.RTM_DELROUTE {
					continue
				}
				if len(m.Data) < unix.SizeofRtMsg || m.Data[0] != rtnlFamilyIP6MR {
					continue
				}
				if tableOf(m.Data) == table {
					signal()
				}
			}
		}
	}()
	return out, nil
}

// tableOf is the table of an RTM_*ROUTE message's body: RTA_TABLE, or the
// rtmsg's own table field.
func tableOf(b []byte) uint32 {
	tbl := uint32(b[4])
	if attrs, err := nl.ParseRouteAttr(b[unix.SizeofRtMsg:]); err == nil {
		for _, a := range attrs {
			if a.Attr.Type == unix.RTA_TABLE && len(a.Value) >= 4 {
				tbl = binary.NativeEndian.Uint32(a.Value)
			}
		}
	}
	return tbl
}
