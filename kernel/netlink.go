package kernel

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/vishvananda/netlink"
	vnetns "github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Netlink is the daemon's view of the unicast side of the kernel: links,
// IPv6 addresses, IPv6 routes (for RPF lookups) and their change events.
// It is an rtnetlink socket bound to one network namespace for its whole
// life, so its methods may be called from any goroutine and any OS thread.
// Methods are safe for concurrent use.
type Netlink struct {
	h  *netlink.Handle
	ns vnetns.NsHandle // the namespace of h; Subscribe opens its sockets there
}

// netlinkTimeout bounds one request/reply exchange with the kernel, so that
// a lost reply fails a call instead of blocking the daemon's loop forever.
const netlinkTimeout = 10 * time.Second

// dumpRetries is how often a dump interrupted by a concurrent change
// (NLM_F_DUMP_INTR) is restarted before giving up.
const dumpRetries = 5

// OpenNetlink opens an rtnetlink socket in the network namespace of the
// calling OS thread. A process whose threads all live in one namespace (the
// daemon) may call it from any goroutine; a test that wants another
// namespace calls it inside netns.NS.Do. Every later call, and every
// Subscribe, stays in that namespace whatever thread makes it.
func OpenNetlink() (*Netlink, error) {
	ns, err := vnetns.Get()
	if err != nil {
		return nil, fmt.Errorf("kernel: netlink: current network namespace: %w", err)
	}
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		ns.Close()
		return nil, fmt.Errorf("kernel: netlink: open: %w", err)
	}
	if err := h.SetSocketTimeout(netlinkTimeout); err != nil {
		h.Close()
		ns.Close()
		return nil, fmt.Errorf("kernel: netlink: socket timeout: %w", err)
	}
	return &Netlink{h: h, ns: ns}, nil
}

// Close releases the socket. Subscriptions already made keep running until
// their done channel is closed (they hold their own sockets).
func (n *Netlink) Close() error {
	n.h.Close()
	return n.ns.Close()
}

// Link is a network interface.
type Link struct {
	Index int
	Name  string
	// Up says the interface can carry packets: administratively up
	// (IFF_UP) and running (IFF_RUNNING, the kernel's operational state is
	// up or unknown). A veth whose peer is down, or a NIC without carrier,
	// is AdminUp but not Up. This is what PIM and MLD care about: an
	// interface that is not Up has no neighbors and no listeners.
	Up bool
	// AdminUp is IFF_UP: someone set the link up.
	AdminUp bool
	// LowerUp is IFF_LOWER_UP: the driver reports carrier. It can lead
	// IFF_RUNNING for a moment (the kernel's linkwatch updates the
	// operational state asynchronously), so decide on Up, not LowerUp.
	LowerUp   bool
	Multicast bool // IFF_MULTICAST
	Loopback  bool // IFF_LOOPBACK
	MTU       int
	// Kind is the rtnetlink link kind (IFLA_INFO_KIND): "veth", "bridge",
	// "dummy", "ifb", "vxlan"... It is empty for links without one:
	// physical NICs, lo, and the kernel's register device pim6reg.
	Kind string
	// LinkType is the link-layer type (ARPHRD_*) by name: "ether",
	// "loopback", "pimreg" (the PIM register device), "none" (tun)...
	LinkType string
	// Master is the index of the bridge (or bond, VRF) this link is a port
	// of, 0 if none. A bridge port does not run IPv6 itself.
	Master int
}

// Addr is an IPv6 address of a link.
type Addr struct {
	LinkIndex int
	// Prefix is the address with its prefix length, without a zone (a
	// link-local address is scoped by LinkIndex). For an address with a
	// peer (ip addr add A peer P) it is A/128.
	Prefix netip.Prefix
	// LinkLocal is true for fe80::/10 addresses: the ones PIM and MLD use
	// as source.
	LinkLocal bool
	// Tentative is IFA_F_TENTATIVE: duplicate address detection has not
	// finished (or has failed, see DADFailed). The kernel refuses to
	// send from a tentative address; wait for the AddrEvent that clears it.
	Tentative bool
	// DADFailed is IFA_F_DADFAILED: another node has this address. It
	// stays tentative for good.
	DADFailed bool
	// Deprecated is IFA_F_DEPRECATED: the preferred lifetime is over;
	// usable, but not to be chosen as a source for new communication.
	Deprecated bool
}

// Route is an IPv6 unicast route.
type Route struct {
	// Dst is the destination prefix of the route (for RouteTo: the
	// prefix that matched, e.g. 2001:db8:1::/64, not the address asked).
	Dst netip.Prefix
	// Gateway is the next hop; the zero Addr (!IsValid) when the
	// destination is on-link. IPv6 gateways are usually link-local; they
	// carry no zone, LinkIndex scopes them.
	Gateway   netip.Addr
	LinkIndex int    // the outgoing interface
	Metric    uint32 // RTA_PRIORITY ("metric" in ip route)
	Protocol  int    // who installed it: unix.RTPROT_KERNEL, RTPROT_STATIC, RTPROT_BOOT, RTPROT_ZEBRA...
	Table     int    // unix.RT_TABLE_MAIN unless policy routing says otherwise
	// Type is the route type: unix.RTN_UNICAST for ordinary routes,
	// RTN_LOCAL for the host's own addresses (local table), and in events
	// also the reject types RTN_UNREACHABLE, RTN_BLACKHOLE, RTN_PROHIBIT,
	// RTN_THROW, which make destinations unreachable.
	Type int
	// LinkDown is RTNH_F_LINKDOWN of the next hop in Gateway/LinkIndex:
	// its interface has no carrier. The kernel keeps such routes and,
	// unless net.ipv6.conf.*.ignore_routes_with_linkdown is set, still
	// uses them.
	LinkDown bool
	// NextHops lists every next hop of the route (more than one for an
	// ECMP/multipath route), sorted by LinkIndex then Gateway: the kernel's
	// own order is not stable (a FIB-match answer lists the path it
	// picked first). Gateway and LinkIndex are one of them: for RouteTo
	// the one the kernel picks for the destination, in a RouteEvent the
	// first.
	NextHops []NextHop
}

// NextHop is one path of a route.
type NextHop struct {
	Gateway   netip.Addr // zero when on-link
	LinkIndex int
	Weight    int  // 1 unless set (ip route ... nexthop ... weight N)
	LinkDown  bool // RTNH_F_LINKDOWN: no carrier on LinkIndex
	Dead      bool // RTNH_F_DEAD: LinkIndex is administratively down; the kernel skips it
}

// Links lists every link of the namespace.
func (n *Netlink) Links() ([]Link, error) {
	ls, err := retryDump(n.h.LinkList)
	if err != nil {
		return nil, fmt.Errorf("kernel: netlink: list links: %w", err)
	}
	out := make([]Link, 0, len(ls))
	for _, l := range ls {
		out = append(out, linkFrom(l))
	}
	return out, nil
}

// Addrs lists every IPv6 address of every link.
func (n *Netlink) Addrs() ([]Addr, error) {
	as, err := retryDump(func() ([]netlink.Addr, error) { return n.h.AddrList(nil, netlink.FAMILY_V6) })
	if err != nil {
		return nil, fmt.Errorf("kernel: netlink: list addresses: %w", err)
	}
	out := make([]Addr, 0, len(as))
	for _, a := range as {
		if a.IPNet == nil {
			continue
		}
		if ad, ok := addrFrom(a.IPNet, a.LinkIndex, a.Flags); ok {
			out = append(out, ad)
		}
	}
	return out, nil
}

// retryDump runs a dump again when the kernel says a concurrent change
// interrupted it (the result may then miss or repeat entries).
func retryDump[T any](dump func() ([]T, error)) ([]T, error) {
	var err error
	for range dumpRetries {
		var res []T
		res, err = dump()
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			return res, err
		}
	}
	return nil, err
}

func linkFrom(l netlink.Link) Link {
	a := l.Attrs()
	f := a.RawFlags
	kind := l.Type()
	if _, ok := l.(*netlink.Device); ok {
		kind = "" // the library's name for "no IFLA_INFO_KIND"
	}
	return Link{
		Index:     a.Index,
		Name:      a.Name,
		Up:        f&unix.IFF_UP != 0 && f&unix.IFF_RUNNING != 0,
		AdminUp:   f&unix.IFF_UP != 0,
		LowerUp:   f&unix.IFF_LOWER_UP != 0,
		Multicast: f&unix.IFF_MULTICAST != 0,
		Loopback:  f&unix.IFF_LOOPBACK != 0,
		MTU:       a.MTU,
		Kind:      kind,
		LinkType:  a.EncapType,
		Master:    a.MasterIndex,
	}
}

// addrFrom converts an IPv6 address; ok is false for anything else.
func addrFrom(ipn *net.IPNet, linkIndex, flags int) (Addr, bool) {
	if len(ipn.IP) != net.IPv6len {
		return Addr{}, false
	}
	ones, bits := ipn.Mask.Size()
	if bits != 128 {
		return Addr{}, false
	}
	ip, _ := netip.AddrFromSlice(ipn.IP)
	return Addr{
		LinkIndex:  linkIndex,
		Prefix:     netip.PrefixFrom(ip, ones),
		LinkLocal:  ip.IsLinkLocalUnicast(),
		Tentative:  flags&unix.IFA_F_TENTATIVE != 0,
		DADFailed:  flags&unix.IFA_F_DADFAILED != 0,
		Deprecated: flags&unix.IFA_F_DEPRECATED != 0,
	}, true
}

// routeFrom converts an IPv6 route; ok is false for other families.
func routeFrom(r netlink.Route) (Route, bool) {
	if r.Family != netlink.FAMILY_V6 || r.Dst == nil || len(r.Dst.IP) != net.IPv6len {
		return Route{}, false
	}
	ones, _ := r.Dst.Mask.Size()
	dst, _ := netip.AddrFromSlice(r.Dst.IP)
	rt := Route{
		Dst:      netip.PrefixFrom(dst, ones),
		Metric:   uint32(r.Priority),
		Protocol: int(r.Protocol),
		Table:    r.Table,
		Type:     r.Type,
	}
	if len(r.MultiPath) == 0 {
		rt.NextHops = []NextHop{{
			Gateway:   ip6(r.Gw),
			LinkIndex: r.LinkIndex,
			Weight:    1,
			LinkDown:  r.Flags&unix.RTNH_F_LINKDOWN != 0,
			Dead:      r.Flags&unix.RTNH_F_DEAD != 0,
		}}
	} else {
		for _, nh := range r.MultiPath {
			rt.NextHops = append(rt.NextHops, NextHop{
				Gateway:   ip6(nh.Gw),
				LinkIndex: nh.LinkIndex,
				Weight:    nh.Hops + 1,
				LinkDown:  nh.Flags&unix.RTNH_F_LINKDOWN != 0,
				Dead:      nh.Flags&unix.RTNH_F_DEAD != 0,
			})
		}
		slices.SortFunc(rt.NextHops, func(a, b NextHop) int {
			if c := cmp.Compare(a.LinkIndex, b.LinkIndex); c != 0 {
				return c
			}
			return a.Gateway.Compare(b.Gateway)
		})
	}
	rt.use(rt.NextHops[0])
	return rt, true
}

// use makes nh the route's Gateway/LinkIndex.
func (r *Route) use(nh NextHop) {
	r.Gateway, r.LinkIndex, r.LinkDown = nh.Gateway, nh.LinkIndex, nh.LinkDown
}

// ip6 converts a 16-byte IP; anything else (nil: no gateway) is the zero Addr.
func ip6(ip net.IP) netip.Addr {
	if len(ip) != net.IPv6len {
		return netip.Addr{}
	}
	a, _ := netip.AddrFromSlice(ip)
	return a
}
