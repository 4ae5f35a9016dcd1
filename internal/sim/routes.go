package sim

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"

	"github.com/pim6sd/pim6sd/kernel"
)

// Values of rtnetlink that the simulated routes carry.
const (
	rtprotKernel    = 2 // RTPROT_KERNEL: connected routes
	rtprotStatic    = 4 // RTPROT_STATIC
	rtnUnicast      = 1
	rtnLocal        = 2
	rtnUnreachable  = 7
	tableMain       = 254
	tableLocal      = 255
	defaultMetric   = 1024 // what ip -6 route add gives a route without metric
	connectedMetric = 256
)

// StaticRoute is a unicast route for Router.AddRoute.
type StaticRoute struct {
	Dst string // the destination prefix, e.g. "2001:db8:1::/64"
	Via string // the gateway (usually a neighbor's link-local address); "" for on-link
	Dev string // the outgoing interface (not needed for a Reject route)
	// Metric is the route's priority, lower preferred among routes of the
	// same prefix; 0 means 1024, Linux's default.
	Metric uint32
	// Protocol is who installed it (RTPROT_*); 0 means static (4). The
	// daemon maps it to an Assert metric preference.
	Protocol int
	// Reject makes an unreachable route: lookups that match it fail.
	Reject bool
}

type staticRoute struct {
	dst      netip.Prefix
	via      netip.Addr
	dev      *Iface
	metric   uint32
	protocol int
	reject   bool
	auto     bool // added by AutoRoutes
	order    int
}

// Route adds (or replaces, as ip -6 route replace does) a static route
// with the default metric: r.Route("2001:db8:1::/64", "fe80::1", "eth0").
func (r *Router) Route(dst, via, dev string) {
	r.n.tb.Helper()
	r.AddRoute(StaticRoute{Dst: dst, Via: via, Dev: dev})
}

// AddRoute adds a route, replacing the route of the same prefix and
// metric if there is one (the daemon sees one RouteEvent with the new
// state).
func (r *Router) AddRoute(s StaticRoute) {
	r.n.tb.Helper()
	rt := &staticRoute{dst: r.n.prefix(s.Dst).Masked(), metric: s.Metric, protocol: s.Protocol, reject: s.Reject}
	if rt.metric == 0 {
		rt.metric = defaultMetric
	}
	if rt.protocol == 0 {
		rt.protocol = rtprotStatic
	}
	if s.Via != "" {
		rt.via = r.n.addr(s.Via)
	}
	if !s.Reject {
		rt.dev = r.Iface(s.Dev)
		if rt.dev == nil {
			r.n.fatalf("%s: route %s: no interface %q", r.name, s.Dst, s.Dev)
		}
		if !rt.dev.adminUp {
			r.n.fatalf("%s: route %s: interface %s is down (Linux: Nexthop device is not up)", r.name, s.Dst, s.Dev)
		}
	}
	r.putRoute(rt)
}

func (r *Router) putRoute(rt *staticRoute) {
	r.routeOrder++
	rt.order = r.routeOrder
	for i, old := range r.routes {
		if old.dst == rt.dst && old.metric == rt.metric {
			rt.order = old.order
			r.routes[i] = rt
			r.postNetlink(kernel.RouteEvent{Route: r.kernelRoute(rt)})
			r.n.note("%s route replace %s", r.name, r.describeRoute(rt))
			return
		}
	}
	r.routes = append(r.routes, rt)
	r.postNetlink(kernel.RouteEvent{Route: r.kernelRoute(rt)})
	r.n.note("%s route add %s", r.name, r.describeRoute(rt))
}

// DelRoute removes every static route to the prefix dst.
func (r *Router) DelRoute(dst string) {
	p := r.n.prefix(dst).Masked()
	for _, rt := range slices.Clone(r.routes) {
		if rt.dst == p {
			r.removeRoute(rt)
		}
	}
}

func (r *Router) removeRoute(rt *staticRoute) {
	r.routes = slices.DeleteFunc(r.routes, func(x *staticRoute) bool { return x == rt })
	r.postNetlink(kernel.RouteEvent{Route: r.kernelRoute(rt), Deleted: true})
	r.n.note("%s route del %s", r.name, r.describeRoute(rt))
}

func (r *Router) describeRoute(rt *staticRoute) string {
	if rt.reject {
		return fmt.Sprintf("unreachable %v metric %d", rt.dst, rt.metric)
	}
	via := ""
	if rt.via.IsValid() {
		via = " via " + rt.via.String()
	}
	return fmt.Sprintf("%v%s dev %s metric %d", rt.dst, via, rt.dev.name, rt.metric)
}

func (r *Router) kernelRoute(rt *staticRoute) kernel.Route {
	kr := kernel.Route{Dst: rt.dst, Gateway: rt.via, Metric: rt.metric, Protocol: rt.protocol, Table: tableMain, Type: rtnUnicast}
	if rt.reject {
		kr.Type = rtnUnreachable
		return kr
	}
	kr.LinkIndex = rt.dev.index
	kr.LinkDown = !rt.dev.lowerUp()
	kr.NextHops = []kernel.NextHop{{Gateway: rt.via, LinkIndex: rt.dev.index, Weight: 1, LinkDown: kr.LinkDown}}
	return kr
}

func connectedRoute(i *Iface, p netip.Prefix) kernel.Route {
	kr := kernel.Route{Dst: p.Masked(), LinkIndex: i.index, Metric: connectedMetric, Protocol: rtprotKernel, Table: tableMain, Type: rtnUnicast, LinkDown: !i.lowerUp()}
	kr.NextHops = []kernel.NextHop{{LinkIndex: i.index, Weight: 1, LinkDown: kr.LinkDown}}
	return kr
}

// candidate is a route of the main table during a lookup.
type candidate struct {
	kr    kernel.Route
	dev   *Iface
	order int
}

// table lists the main table: connected routes (of interfaces that are
// administratively up) first, then static routes.
func (r *Router) table() []candidate {
	var out []candidate
	for _, i := range r.ifs {
		if i.deleted || !i.adminUp || i.loopback || i.register {
			continue
		}
		for _, g := range i.globals {
			if g.Bits() < 128 {
				out = append(out, candidate{kr: connectedRoute(i, g), dev: i, order: -1})
			}
		}
	}
	for _, rt := range r.routes {
		out = append(out, candidate{kr: r.kernelRoute(rt), dev: rt.dev, order: rt.order})
	}
	return out
}

// Routes lists the main table as ip -6 route would: connected routes and
// static ones (the local table and fe80::/64 routes are not listed).
func (r *Router) Routes() []kernel.Route {
	var out []kernel.Route
	for _, c := range r.table() {
		out = append(out, c.kr)
	}
	return out
}

// routeTo is RouteTo: the kernel's answer for dst (see kernel.RouteTo).
func (r *Router) routeTo(dst netip.Addr) (kernel.Route, error) {
	rt, _, err := r.lookup(dst, 0)
	return rt, err
}

// lookup finds the route to dst; with oif > 0 a route through that
// interface is preferred (as a socket's IPV6_PKTINFO interface asks).
func (r *Router) lookup(dst netip.Addr, oif int) (kernel.Route, *Iface, error) {
	switch {
	case !dst.Is6() || dst.Is4In6():
		return kernel.Route{}, nil, fmt.Errorf("sim: route to %v: not an IPv6 address", dst)
	case dst.IsUnspecified() || dst.IsMulticast():
		return kernel.Route{}, nil, fmt.Errorf("sim: route to %v: not a unicast address", dst)
	}
	if dst.IsLinkLocalUnicast() {
		zone := dst.Zone()
		if zone == "" {
			return kernel.Route{}, nil, fmt.Errorf("sim: route to %v: a link-local destination needs a zone", dst)
		}
		var i *Iface
		if idx, err := strconv.Atoi(zone); err == nil {
			i = r.ifaceByIndex(idx)
		} else {
			i = r.Iface(zone)
		}
		if i == nil || !i.adminUp {
			return kernel.Route{}, nil, fmt.Errorf("sim: route to %v: %w", dst, kernel.ErrNoRoute)
		}
		kr := connectedRoute(i, netip.MustParsePrefix("fe80::/64"))
		return kr, i, nil
	}
	if dst.Zone() != "" {
		return kernel.Route{}, nil, fmt.Errorf("sim: route to %v: a zone is only meaningful on a link-local address", dst)
	}
	if i, ok := r.owns(dst); ok {
		kr := kernel.Route{Dst: netip.PrefixFrom(dst, 128), LinkIndex: i.index, Protocol: rtprotKernel, Table: tableLocal, Type: rtnLocal}
		kr.NextHops = []kernel.NextHop{{LinkIndex: i.index, Weight: 1}}
		return kr, i, nil
	}
	var best *candidate
	better := func(c, b *candidate) bool {
		if c.kr.Dst.Bits() != b.kr.Dst.Bits() {
			return c.kr.Dst.Bits() > b.kr.Dst.Bits()
		}
		if c.kr.Metric != b.kr.Metric {
			return c.kr.Metric < b.kr.Metric
		}
		return c.order < b.order
	}
	table := r.table()
	for _, restrict := range []bool{true, false} {
		if restrict && oif <= 0 {
			continue
		}
		for k := range table {
			c := &table[k]
			if !c.kr.Dst.Contains(dst) || (restrict && (c.dev == nil || c.dev.index != oif)) {
				continue
			}
			if best == nil || better(c, best) {
				best = c
			}
		}
		if best != nil {
			break
		}
	}
	if best == nil {
		return kernel.Route{}, nil, fmt.Errorf("sim: route to %v: %w", dst, kernel.ErrNoRoute)
	}
	if best.kr.Type != rtnUnicast {
		return kernel.Route{}, nil, fmt.Errorf("sim: route to %v: %w (route %v is unreachable)", dst, kernel.ErrNoRoute, best.kr.Dst)
	}
	return best.kr, best.dev, nil
}

// errUnreachable is the reason a locally sent unicast packet is refused.
var errUnreachable = errors.New("sim: no route or no neighbor")

// AutoRoutes installs, on every router, a static route to every prefix of
// the network it is not connected to (router interfaces' global prefixes
// and lo addresses), along a shortest path in hops over links whose
// interfaces are up, as an IGP would. Ties go to the router's interface
// with the lowest ifindex, then to the neighbor attached first. Routes it
// added before and no longer computes are removed; routes added by the
// test (Route, AddRoute) are never touched: call it again after changing
// the topology.
func (n *Net) AutoRoutes() {
	var prefixes []netip.Prefix
	owners := map[netip.Prefix][]*Router{}
	add := func(p netip.Prefix, r *Router) {
		p = p.Masked()
		if _, ok := owners[p]; !ok {
			prefixes = append(prefixes, p)
		}
		if !slices.Contains(owners[p], r) {
			owners[p] = append(owners[p], r)
		}
	}
	for _, r := range n.routers {
		for _, i := range r.ifs {
			if i.deleted || !i.adminUp || i.loopback || i.register {
				continue
			}
			for _, g := range i.globals {
				add(g, r)
			}
		}
		for _, a := range r.loopbacks {
			add(netip.PrefixFrom(a, 128), r)
		}
	}
	// adjacency: for each router, its (interface, neighbor interface)
	// pairs over links where both are up.
	type adj struct {
		out, nbr *Iface
	}
	adjs := map[*Router][]adj{}
	for _, r := range n.routers {
		for _, i := range r.ifs {
			if !i.Up() || i.link == nil || i.loopback || i.register {
				continue
			}
			for _, j := range i.link.ifs {
				if nr, ok := j.owner.(*Router); ok && j != i && nr != r && j.Up() {
					adjs[r] = append(adjs[r], adj{i, j})
				}
			}
		}
	}
	want := map[*Router]map[netip.Prefix]*staticRoute{}
	for _, p := range prefixes {
		// Breadth-first from the owners gives every router's distance.
		dist := map[*Router]int{}
		queue := slices.Clone(owners[p])
		for _, o := range queue {
			dist[o] = 0
		}
		for len(queue) > 0 {
			r := queue[0]
			queue = queue[1:]
			for _, a := range adjs[r] {
				nr := a.nbr.owner.(*Router)
				if _, seen := dist[nr]; !seen {
					dist[nr] = dist[r] + 1
					queue = append(queue, nr)
				}
			}
		}
		for _, r := range n.routers {
			d, ok := dist[r]
			if !ok || d == 0 {
				continue
			}
			for _, a := range adjs[r] {
				if dist[a.nbr.owner.(*Router)] == d-1 {
					if want[r] == nil {
						want[r] = map[netip.Prefix]*staticRoute{}
					}
					want[r][p] = &staticRoute{dst: p, via: a.nbr.ll, dev: a.out, metric: defaultMetric, protocol: rtprotStatic, auto: true}
					break
				}
			}
		}
	}
	for _, r := range n.routers {
		for _, rt := range slices.Clone(r.routes) {
			if !rt.auto {
				continue
			}
			if w := want[r][rt.dst]; w == nil || w.metric != rt.metric {
				r.removeRoute(rt)
			}
		}
		for _, p := range prefixes {
			w := want[r][p]
			if w == nil {
				continue
			}
			idx := slices.IndexFunc(r.routes, func(x *staticRoute) bool { return x.dst == p && x.metric == w.metric })
			if idx >= 0 {
				old := r.routes[idx]
				if !old.auto || (old.via == w.via && old.dev == w.dev) {
					continue
				}
			}
			r.putRoute(w)
		}
	}
}
