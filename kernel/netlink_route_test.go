package kernel

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// nlRouteTo is RouteTo that fails the test on error.
func nlRouteTo(t *testing.T, n *Netlink, dst string) Route {
	t.Helper()
	r, err := n.RouteTo(nlAddr(dst))
	if err != nil {
		t.Fatalf("RouteTo(%s): %v", dst, err)
	}
	return r
}

// nlStatic is a single-path static route as the tests install it.
func nlStatic(dst, gw string, ifindex int, metric uint32) Route {
	nh := NextHop{Gateway: nlAddr(gw), LinkIndex: ifindex, Weight: 1}
	return Route{Dst: nlPrefix(dst), Gateway: nh.Gateway, LinkIndex: ifindex, Metric: metric,
		Protocol: unix.RTPROT_STATIC, Table: unix.RT_TABLE_MAIN, Type: unix.RTN_UNICAST, NextHops: []NextHop{nh}}
}

// A static route arrives as a RouteEvent with everything ip route said;
// RouteTo answers with its prefix; a more specific route wins where it
// matches; ip route replace with a new next hop is one RouteEvent with the
// new gateway; deleting the route is a Deleted RouteEvent and RouteTo
// falls back to the default route, then to ErrNoRoute.
func TestNetlinkRouteLifecycle(t *testing.T) {
	p := newNLPair(t)
	ev := nlSubscribe(t, p.n, nil, nil)
	a := p.a

	a.MustRun("ip", "-6", "route", "add", "default", "via", "fe80::1", "dev", "v0", "metric", "1024")
	def := ev.waitForRoute("::/0", "added", func(e RouteEvent) bool { return !e.Deleted }).Route
	if want := (Route{Dst: nlPrefix("::/0"), Gateway: nlAddr("fe80::1"), LinkIndex: p.v0, Metric: 1024,
		Protocol: unix.RTPROT_BOOT, Table: unix.RT_TABLE_MAIN, Type: unix.RTN_UNICAST,
		NextHops: []NextHop{{Gateway: nlAddr("fe80::1"), LinkIndex: p.v0, Weight: 1}}}); !cmp.Equal(def, want, nlCmp) {
		t.Errorf("default route event (-want +got):\n%s", cmp.Diff(want, def, nlCmp))
	}

	a.MustRun("ip", "-6", "route", "add", "2001:db8:77::/64", "via", "fe80::2", "dev", "v0", "metric", "50", "proto", "static")
	want := nlStatic("2001:db8:77::/64", "fe80::2", p.v0, 50)
	got := ev.waitForRoute("2001:db8:77::/64", "added", func(e RouteEvent) bool { return !e.Deleted }).Route
	if diff := cmp.Diff(want, got, nlCmp); diff != "" {
		t.Errorf("RouteEvent (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, nlRouteTo(t, p.n, "2001:db8:77::5"), nlCmp); diff != "" {
		t.Errorf("RouteTo(2001:db8:77::5) (-want +got):\n%s", diff)
	}

	a.MustRun("ip", "-6", "route", "add", "2001:db8:77:0:8000::/65", "via", "fe80::9", "dev", "d0", "metric", "100", "proto", "static")
	ev.waitForRoute("2001:db8:77:0:8000::/65", "added", func(e RouteEvent) bool { return !e.Deleted })
	if diff := cmp.Diff(nlStatic("2001:db8:77:0:8000::/65", "fe80::9", p.d0, 100), nlRouteTo(t, p.n, "2001:db8:77:0:8000::5"), nlCmp); diff != "" {
		t.Errorf("RouteTo inside the /65 (-want +got):\n%s", diff)
	}
	if got := nlRouteTo(t, p.n, "2001:db8:77::5"); got.Dst != want.Dst {
		t.Errorf("RouteTo outside the /65 = %v, want the /64", got.Dst)
	}

	a.MustRun("ip", "-6", "route", "replace", "2001:db8:77::/64", "via", "fe80::3", "dev", "v0", "metric", "50", "proto", "static")
	want = nlStatic("2001:db8:77::/64", "fe80::3", p.v0, 50)
	got = ev.waitForRoute("2001:db8:77::/64", "replaced", func(RouteEvent) bool { return true }).Route
	if diff := cmp.Diff(want, got, nlCmp); diff != "" {
		t.Errorf("RouteEvent after replace (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, nlRouteTo(t, p.n, "2001:db8:77::5"), nlCmp); diff != "" {
		t.Errorf("RouteTo after replace (-want +got):\n%s", diff)
	}

	a.MustRun("ip", "-6", "route", "del", "2001:db8:77::/64", "via", "fe80::3", "dev", "v0", "metric", "50")
	del := ev.waitForRoute("2001:db8:77::/64", "deleted", func(RouteEvent) bool { return true })
	if !del.Deleted || !cmp.Equal(del.Route, want, nlCmp) {
		t.Errorf("after ip route del: %+v, want Deleted %+v", del, want)
	}
	if diff := cmp.Diff(def, nlRouteTo(t, p.n, "2001:db8:77::5"), nlCmp); diff != "" {
		t.Errorf("RouteTo falls back to the default route (-want +got):\n%s", diff)
	}

	a.MustRun("ip", "-6", "route", "del", "default")
	ev.waitForRoute("::/0", "deleted", func(e RouteEvent) bool { return e.Deleted })
	if r, err := p.n.RouteTo(nlAddr("2001:db8:77::5")); !errors.Is(err, ErrNoRoute) {
		t.Errorf("RouteTo without a route = %+v, %v; want ErrNoRoute", r, err)
	}
}

// Toward an address of a connected prefix RouteTo gives the prefix route,
// no gateway, the interface; toward our own address the local route;
// toward a link-local address the zone's interface.
func TestNetlinkRouteConnected(t *testing.T) {
	p := newNLPair(t)
	p.a.AddAddr("v0", "2001:db8:1::1/64")

	want := Route{Dst: nlPrefix("2001:db8:1::/64"), LinkIndex: p.v0, Metric: 256, Protocol: unix.RTPROT_KERNEL,
		Table: unix.RT_TABLE_MAIN, Type: unix.RTN_UNICAST, NextHops: []NextHop{{LinkIndex: p.v0, Weight: 1}}}
	got := nlRouteTo(t, p.n, "2001:db8:1::99")
	if diff := cmp.Diff(want, got, nlCmp); diff != "" {
		t.Errorf("RouteTo(on-link) (-want +got):\n%s", diff)
	}
	if got.Gateway.IsValid() {
		t.Errorf("on-link route has a gateway %v", got.Gateway)
	}

	// The kernel adds the local route of a new address from a work queue
	// (even with nodad), a moment after ip addr add has returned and
	// just after the address's RTM_NEWADDR: until then the prefix route
	// matches. Poll.
	var own Route
	for deadline := time.Now().Add(nlDeadline); ; time.Sleep(5 * time.Millisecond) {
		own = nlRouteTo(t, p.n, "2001:db8:1::1")
		if own.Type == unix.RTN_LOCAL || time.Now().After(deadline) {
			break
		}
	}
	if own.Type != unix.RTN_LOCAL || own.Table != unix.RT_TABLE_LOCAL || own.Dst != nlPrefix("2001:db8:1::1/128") || own.LinkIndex != p.v0 {
		t.Errorf("RouteTo(own address) = %+v, want the local /128 on v0", own)
	}

	for _, zone := range []string{"v0", "d0"} {
		r := nlRouteTo(t, p.n, "fe80::5%"+zone)
		if want := p.a.IfIndex(zone); r.Dst != nlPrefix("fe80::/64") || r.LinkIndex != want || r.Gateway.IsValid() {
			t.Errorf("RouteTo(fe80::5%%%s) = %+v, want fe80::/64 on link %d", zone, r, want)
		}
	}
	if r := nlRouteTo(t, p.n, "fe80::5%"+strconv.Itoa(p.d0)); r.LinkIndex != p.d0 {
		t.Errorf("RouteTo with a numeric zone: %+v, want link %d", r, p.d0)
	}

	for _, bad := range []string{"fe80::5", "2001:db8:1::99%v0", "ff02::1", "::", "192.0.2.1", "::ffff:192.0.2.1", "fe80::5%nosuchlink"} {
		r, err := p.n.RouteTo(nlAddr(bad))
		if err == nil || errors.Is(err, ErrNoRoute) {
			t.Errorf("RouteTo(%s) = %+v, %v; want an error other than ErrNoRoute", bad, r, err)
		}
	}
}

// Reject routes make the destination unreachable: RouteTo says
// ErrNoRoute, and their RouteEvents carry their type.
func TestNetlinkRouteReject(t *testing.T) {
	p := newNLPair(t)
	ev := nlSubscribe(t, p.n, nil, nil)
	p.a.MustRun("ip", "-6", "route", "add", "default", "via", "fe80::1", "dev", "v0")
	for i, typ := range []struct {
		name string
		rtn  int
	}{{"unreachable", unix.RTN_UNREACHABLE}, {"blackhole", unix.RTN_BLACKHOLE}, {"prohibit", unix.RTN_PROHIBIT}} {
		dst := netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0x90 + byte(i)}), 48)
		p.a.MustRun("ip", "-6", "route", "add", typ.name, dst.String())
		e := ev.waitForRoute(dst.String(), "added", func(RouteEvent) bool { return true })
		if e.Deleted || e.Route.Type != typ.rtn {
			t.Errorf("%s route: %+v, want Type %d", typ.name, e, typ.rtn)
		}
		inside := dst.Addr().Next()
		if r, err := p.n.RouteTo(inside); !errors.Is(err, ErrNoRoute) {
			t.Errorf("RouteTo(%v) through a %s route = %+v, %v; want ErrNoRoute", inside, typ.name, r, err)
		}
	}
}

// ECMP: a multipath route is one RouteEvent listing both next hops;
// RouteTo gives the matching prefix, both next hops, and as
// Gateway/LinkIndex the path the kernel itself takes for that destination
// (what ip -6 route get says), the same on every call.
func TestNetlinkRouteMultipath(t *testing.T) {
	p := newNLPair(t)
	ev := nlSubscribe(t, p.n, nil, nil)
	p.a.MustRun("ip", "-6", "route", "add", "2001:db8:88::/64", "metric", "10", "proto", "static",
		"nexthop", "via", "fe80::2", "dev", "v0", "nexthop", "via", "fe80::3", "dev", "d0", "weight", "2")
	hops := []NextHop{
		{Gateway: nlAddr("fe80::2"), LinkIndex: p.v0, Weight: 1},
		{Gateway: nlAddr("fe80::3"), LinkIndex: p.d0, Weight: 2},
	}
	if p.d0 < p.v0 {
		hops[0], hops[1] = hops[1], hops[0] // NextHops are sorted by LinkIndex
	}
	e := ev.waitForRoute("2001:db8:88::/64", "added", func(RouteEvent) bool { return true })
	want := Route{Dst: nlPrefix("2001:db8:88::/64"), Gateway: hops[0].Gateway, LinkIndex: hops[0].LinkIndex, Metric: 10,
		Protocol: unix.RTPROT_STATIC, Table: unix.RT_TABLE_MAIN, Type: unix.RTN_UNICAST, NextHops: hops}
	if diff := cmp.Diff(want, e.Route, nlCmp); e.Deleted || diff != "" {
		t.Errorf("multipath RouteEvent (deleted %v) (-want +got):\n%s", e.Deleted, diff)
	}

	byIndex := map[int]NextHop{hops[0].LinkIndex: hops[0], hops[1].LinkIndex: hops[1]}
	paths := map[int]int{}
	for i := 1; i <= 16; i++ {
		dst := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0x88, 15: byte(i)})
		got, err := p.n.RouteTo(dst)
		if err != nil {
			t.Fatal(err)
		}
		// The kernel's own choice, as ip route get reports it.
		out := p.a.MustRun("ip", "-6", "-o", "route", "get", dst.String())
		chosen := p.v0
		if strings.Contains(out, " dev d0 ") {
			chosen = p.d0
		}
		paths[chosen]++
		nh := byIndex[chosen]
		want.Gateway, want.LinkIndex = nh.Gateway, nh.LinkIndex
		if diff := cmp.Diff(want, got, nlCmp); diff != "" {
			t.Errorf("RouteTo(%v) (-want +got), ip route get says %q:\n%s", dst, out, diff)
		}
		if again, err := p.n.RouteTo(dst); err != nil || !cmp.Equal(again, got, nlCmp) {
			t.Errorf("RouteTo(%v) again = %+v, %v; was %+v", dst, again, err, got)
		}
	}
	t.Logf("paths the kernel took for 16 destinations, by link index: %v", paths)
}

// When the peer takes its end down the kernel keeps the route, flags it
// LinkDown, sends no RouteEvent, and (ignore_routes_with_linkdown being
// 0) still answers it to RouteTo.
func TestNetlinkRouteLinkDown(t *testing.T) {
	p := newNLPair(t)
	ev := nlSubscribe(t, p.n, nil, nil)
	p.a.MustRun("ip", "-6", "route", "add", "2001:db8:77::/64", "via", "fe80::2", "dev", "v0", "proto", "static")
	ev.waitForRoute("2001:db8:77::/64", "added", func(RouteEvent) bool { return true })

	noRouteEvents := func() {
		t.Helper()
		for _, e := range ev.seen {
			if re, ok := e.(RouteEvent); ok {
				t.Errorf("RouteEvent on carrier change: %+v", re)
			}
		}
	}
	p.b.MustRun("ip", "link", "set", "p0", "down")
	ev.waitForLink("v0", "without carrier", func(e LinkEvent) bool { return !e.Link.LowerUp })
	noRouteEvents()
	r := nlRouteTo(t, p.n, "2001:db8:77::5")
	if !r.LinkDown || !r.NextHops[0].LinkDown || r.Gateway != nlAddr("fe80::2") {
		t.Errorf("RouteTo over a link without carrier = %+v, want the route flagged LinkDown", r)
	}

	p.b.MustRun("ip", "link", "set", "p0", "up")
	ev.waitForLink("v0", "with carrier", func(e LinkEvent) bool { return e.Link.Up })
	noRouteEvents()
	if r := nlRouteTo(t, p.n, "2001:db8:77::5"); r.LinkDown {
		t.Errorf("RouteTo after carrier is back = %+v, still LinkDown", r)
	}
	// No RouteEvent for the carrier changes: the first one seen since is
	// the marker.
	p.a.MustRun("ip", "-6", "route", "add", "2001:db8:78::/64", "via", "fe80::2", "dev", "v0")
	ev.waitForRoute("2001:db8:78::/64", "added (marker)", func(RouteEvent) bool { return true })
	noRouteEvents()
}
