package kernel

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// ErrNoRoute says the kernel has no usable route to a destination: no
// matching route at all, or a reject route (unreachable, blackhole,
// prohibit) matched. The error RouteTo returns wraps it and the errno.
var ErrNoRoute = errors.New("no route")

// RouteTo returns the unicast route the kernel would use toward dst: the
// RPF lookup of RFC 7761 section 4.5 (MRIB.next_hop, RPF_interface). It
// asks the kernel (RTM_GETROUTE), so policy routing rules, metrics and
// reject routes count as for a real packet, and it asks for the matching
// FIB entry (RTM_F_FIB_MATCH), so Dst is the prefix that matched
// (2001:db8:1::/64), and Metric, Protocol and Table are that route's.
//
// dst must be an IPv6 unicast address. A link-local dst needs its zone
// (fe80::1%eth0 or fe80::1%3), the interface to look on: without one,
// fe80::/64 matches on whichever link comes first, which is meaningless.
// A zone on any other address is an error.
//
// For an ECMP (multipath) route NextHops lists every path and
// Gateway/LinkIndex is the one the kernel itself picks for dst (its
// multipath hash of the destination with no source, the same answer as
// "ip -6 route get dst"): stable while the route does not change, and
// spread over the paths for different destinations. The daemon may apply
// another policy to NextHops.
//
// For one of the host's own addresses it returns the local route
// (Type unix.RTN_LOCAL, Table unix.RT_TABLE_LOCAL, the address's link).
//
// When no route matches, or the matching route is a reject route, the
// error wraps ErrNoRoute.
func (n *Netlink) RouteTo(dst netip.Addr) (Route, error) {
	oif, err := n.routeOIF(dst)
	if err != nil {
		return Route{}, fmt.Errorf("kernel: route to %v: %w", dst, err)
	}
	ip := net.IP(dst.WithZone("").AsSlice())
	rs, err := n.h.RouteGetWithOptions(ip, &netlink.RouteGetOptions{FIBMatch: true, OifIndex: oif})
	if err != nil {
		return Route{}, routeErr(dst, err)
	}
	if len(rs) != 1 {
		return Route{}, fmt.Errorf("kernel: route to %v: the kernel answered %d routes", dst, len(rs))
	}
	rt, ok := routeFrom(rs[0])
	if !ok {
		return Route{}, fmt.Errorf("kernel: route to %v: the kernel answered a non-IPv6 route", dst)
	}
	switch rt.Type {
	case unix.RTN_UNICAST, unix.RTN_LOCAL, unix.RTN_ANYCAST:
	default:
		return Route{}, fmt.Errorf("kernel: route to %v: %w (route %v of type %d)", dst, ErrNoRoute, rt.Dst, rt.Type)
	}
	if len(rt.NextHops) > 1 {
		// The FIB entry lists all paths; a plain lookup says which one
		// the kernel takes for this destination.
		chosen, err := n.h.RouteGetWithOptions(ip, &netlink.RouteGetOptions{OifIndex: oif})
		if err != nil {
			return Route{}, routeErr(dst, err)
		}
		if len(chosen) != 1 {
			return Route{}, fmt.Errorf("kernel: route to %v: the kernel answered %d routes", dst, len(chosen))
		}
		gw, ifindex := ip6(chosen[0].Gw), chosen[0].LinkIndex
		found := false
		for _, nh := range rt.NextHops {
			if nh.Gateway == gw && nh.LinkIndex == ifindex {
				rt.use(nh)
				found = true
				break
			}
		}
		if !found {
			// The route changed between the two questions.
			return Route{}, fmt.Errorf("kernel: route to %v: path via %v dev %d is not one of the route's next hops (route changed?)", dst, gw, ifindex)
		}
	}
	return rt, nil
}

// routeOIF checks dst and turns its zone into an interface index.
func (n *Netlink) routeOIF(dst netip.Addr) (int, error) {
	switch {
	case !dst.Is6() || dst.Is4In6():
		return 0, errors.New("not an IPv6 address")
	case dst.IsUnspecified() || dst.IsMulticast():
		return 0, errors.New("not a unicast address")
	}
	zone := dst.Zone()
	if !dst.IsLinkLocalUnicast() {
		if zone != "" {
			return 0, errors.New("a zone is only meaningful on a link-local address")
		}
		return 0, nil
	}
	if zone == "" {
		return 0, errors.New("a link-local destination needs a zone (the interface)")
	}
	if i, err := strconv.Atoi(zone); err == nil && i > 0 {
		return i, nil
	}
	l, err := n.h.LinkByName(zone)
	if err != nil {
		return 0, fmt.Errorf("zone %q: %w", zone, err)
	}
	return l.Attrs().Index, nil
}

// routeErr maps the errnos of a failed lookup. The kernel answers
// ENETUNREACH when nothing matches, and the reject route's error when one
// matches: EHOSTUNREACH (unreachable), EACCES (prohibit), EINVAL
// (blackhole).
func routeErr(dst netip.Addr, err error) error {
	var errno unix.Errno
	if errors.As(err, &errno) {
		switch errno {
		case unix.ENETUNREACH, unix.EHOSTUNREACH, unix.EACCES, unix.EINVAL:
			return fmt.Errorf("kernel: route to %v: %w (%w)", dst, ErrNoRoute, errno)
		}
	}
	return fmt.Errorf("kernel: route to %v: %w", dst, err)
}
