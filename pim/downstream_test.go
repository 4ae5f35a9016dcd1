package pim

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// Downstream and upstream tests share this setup: the router has nbr1 (and
// for LAN rows nbr2) on ifD and the upstream neighbor nbr3 on ifU; the
// route to S1 and S2 is via ifU, next hop nbr3. The daemon's answer to
// WatchRPF is given at once (daemonRPF).

type ev struct {
	at   float64
	kind string // join, prune, expire, listen, unlisten
	from netip.Addr
	ht   uint16
	src  netip.Addr // default S1
	// Upstream events: the interface, the Upstream Neighbor Address of a
	// seen Join/Prune, the next hop of a route.
	ifindex int
	target  netip.Addr
	nh      netip.Addr
}

func (e ev) String() string { return fmt.Sprintf("%s@%g", e.kind, e.at) }

func j(at float64, ht uint16) ev { return ev{at: at, kind: "join", ht: ht} }
func p(at float64) ev            { return ev{at: at, kind: "prune", ht: 210} }
func x(at float64) ev            { return ev{at: at, kind: "expire"} }

// setupLAN returns the router with its neighbors heard at tR; lan adds
// nbr2 on ifD.
func setupLAN(t testing.TB, lan bool, mods ...func(*pimmsg.Hello)) *Router {
	t.Helper()
	r := newRouterRand(t, constRand(half))
	r.Expire(at(2.5))
	hello(t, r, tR, ifD, nbr1)
	if lan {
		hello(t, r, tR, ifD, nbr2, mods...)
	}
	hello(t, r, tR, ifU, nbr3)
	runUntil(r, tR, at(2.5)) // triggered Hellos
	return r
}

// daemonRPF answers the WatchRPFs of acts in one SetRPFs, as the daemon
// does: every source is via ifU, next hop nbr3.
func daemonRPF(r *Router, now time.Time, acts []Action) []Action {
	var us []RPFUpdate
	for _, a := range acts {
		if w, ok := a.(WatchRPF); ok {
			us = append(us, RPFUpdate{w.Addr, RPF{Valid: true, IfIndex: ifU, NextHop: nbr3}})
		}
	}
	if us == nil {
		return acts
	}
	return append(acts, r.SetRPFs(now, us)...)
}

func (e ev) run(t testing.TB, r *Router) []Action {
	from := e.from
	if !from.IsValid() {
		from = nbr1
	}
	s := e.src
	if !s.IsValid() {
		s = s1
	}
	now := at(e.at)
	var acts []Action
	switch e.kind {
	case "join":
		acts = joinPrune(t, r, now, ifD, from, selfD, e.ht, join(g1, s))
	case "prune":
		acts = joinPrune(t, r, now, ifD, from, selfD, e.ht, prune(g1, s))
	case "expire":
		acts = r.Expire(now)
	case "listen":
		acts = r.SetListeners(now, ListenerInput{IfIndex: ifD, Group: g1, Sources: []netip.Addr{s}})
	case "unlisten":
		acts = r.SetListeners(now, ListenerInput{IfIndex: ifD, Group: g1})
	case "seejoin":
		acts = joinPrune(t, r, now, e.ifindex, from, e.target, e.ht, join(g1, s))
	case "seeprune":
		acts = joinPrune(t, r, now, e.ifindex, from, e.target, e.ht, prune(g1, s))
	case "restart":
		acts = hello(t, r, now, e.ifindex, from, withGenID(uint32(e.ht)))
	case "goodbye":
		acts = hello(t, r, now, e.ifindex, from, withHoldtime(0))
	case "rpf":
		acts = rpf(r, now, s, e.ifindex, e.nh)
	case "norpf":
		acts = r.SetRPF(now, s, RPF{})
	default:
		t.Fatalf("event %q", e.kind)
	}
	return daemonRPF(r, now, acts)
}

// TestDownstream walks every transition of the (S,G) downstream machine of
// RFC 7761 section 4.5.2 with explicit times. The last event is the one
// under test: its actions (Join/Prune, routes, watches) and the machine
// after it are checked. With one neighbor on ifD the Prune-Pending Timer is
// 0; with two it is J/P_Override_Interval = 0.5 + 2.5 = 3 s.
func TestDownstream(t *testing.T) {
	joined := []string{"watch S1", "jp(3) to fe80::3 ht=210 G1 join[S1] prune[]", "route S1,G1 iif=3 oifs=[2]"}
	gone := []string{"jp(3) to fe80::3 ht=210 G1 join[] prune[S1]", "route S1,G1 iif=0 oifs=[]", "unwatch S1"}
	echo := "jp(2) to fe80::d:1 ht=210 G1 join[] prune[S1]"
	for _, tc := range []struct {
		name string
		lan  bool
		mods []func(*pimmsg.Hello) // nbr2's Hello options
		evs  []ev
		acts []string
		want dsView
	}{
		// Receive Join(S,G).
		{"NoInfo: Join -> Join, ET = holdtime", false, nil, []ev{j(10, 210)}, joined, dsView{State: Join, ET: 210}},
		{"Join: Join -> Join, ET raised", false, nil, []ev{j(0, 210), j(60, 210)}, nil, dsView{State: Join, ET: 210}},
		{"Join: Join with a shorter holdtime keeps ET", false, nil, []ev{j(0, 210), j(60, 100)}, nil, dsView{State: Join, ET: 150}},
		{"Prune-Pending: Join -> Join, PPT stopped, ET raised", true, nil, []ev{j(0, 210), p(10), j(11, 210)}, nil, dsView{State: Join, ET: 210}},
		{"Prune-Pending: Join from the other router overrides", true, nil,
			[]ev{j(0, 210), p(10), {at: 11, kind: "join", from: nbr2, ht: 210}}, nil, dsView{State: Join, ET: 210}},
		{"NoInfo: Join holdtime 0xffff -> Join, no ET", false, nil, []ev{j(0, 0xffff), x(100)},
			[]string{"jp(3) to fe80::3 ht=210 G1 join[S1] prune[]"}, // the periodic Join at 60
			dsView{State: Join, Forever: true}},
		{"Join forever: finite Join keeps it", false, nil, []ev{j(0, 0xffff), j(10, 210)}, nil, dsView{State: Join, Forever: true}},
		{"NoInfo: Join holdtime 0 -> NoInfo", false, nil, []ev{j(0, 0)}, nil, dsView{}},
		// Receive Prune(S,G).
		{"NoInfo: Prune -> NoInfo", false, nil, []ev{p(10)}, nil, dsView{}},
		{"Join: Prune, one neighbor -> NoInfo at once (PPT 0)", false, nil, []ev{j(0, 210), p(10)}, gone, dsView{}},
		{"Join: Prune, LAN -> Prune-Pending, PPT 3 s", true, nil, []ev{j(0, 210), p(10)}, nil, dsView{State: PrunePending, ET: 200, PPT: 3}},
		{"Join: Prune, LAN with a larger override interval", true, []func(*pimmsg.Hello){withLPD(false, 1000, 5000)},
			[]ev{j(0, 210), p(10)}, nil, dsView{State: PrunePending, ET: 200, PPT: 6}},
		{"Join: Prune, LAN where one lacks the option: defaults", true, []func(*pimmsg.Hello){noLPD},
			[]ev{j(0, 210), p(10)}, nil, dsView{State: PrunePending, ET: 200, PPT: 3}},
		{"Prune-Pending: Prune -> Prune-Pending, PPT runs on", true, nil, []ev{j(0, 210), p(10), p(11)}, nil, dsView{State: PrunePending, ET: 199, PPT: 2}},
		// Prune-Pending Timer expires.
		{"Prune-Pending: PPT expires -> NoInfo, PruneEcho", true, nil, []ev{j(0, 210), p(10), x(12.999), x(13)},
			append([]string{echo}, gone...), dsView{}},
		// Expiry Timer expires.
		{"Join: ET expires -> NoInfo", false, nil, []ev{j(0, 30), x(29.999), x(30)}, gone, dsView{}},
		{"Join: refreshed ET expires later", false, nil, []ev{j(0, 30), j(20, 30), x(30), x(50)}, gone, dsView{}},
		{"Prune-Pending: ET expires -> NoInfo, PPT stopped", true, nil, []ev{j(0, 12), p(10), x(12)}, gone, dsView{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := setupLAN(t, tc.lan, tc.mods...)
			var acts []Action
			for _, e := range tc.evs {
				acts = e.run(t, r)
			}
			last := tc.evs[len(tc.evs)-1]
			diff(t, "actions of "+last.String(), tc.acts, only(render(acts), "jp", "route", "watch", "unwatch"))
			diff(t, "state", tc.want, downView(r, at(last.at), s1, g1, ifD))
			if tc.want.State == NoInfo && route(r, at(last.at), s1, g1) != nil {
				t.Error("entry kept in NoInfo with nothing else")
			}
		})
	}
}

// TestDownstreamTwoInterfaces: each interface has its own machine; the
// route's OIFs follow joins(S,G), the RPF interface's excepted.
func TestDownstreamTwoInterfaces(t *testing.T) {
	r := setupLAN(t, false)
	mustAdd(t, r, tR, ifX, selfX)
	hello(t, r, tR, ifX, addr("fe80::4"))
	ev{at: 1, kind: "join", ht: 210}.run(t, r)
	acts := joinPrune(t, r, at(2), ifX, addr("fe80::4"), selfX, 210, join(g1, s1))
	diff(t, "second interface", []string{"route S1,G1 iif=3 oifs=[2 4]"}, only(render(acts), "route", "jp(3)"))
	acts = joinPrune(t, r, at(3), ifD, nbr1, selfD, 210, prune(g1, s1))
	diff(t, "first leaves", []string{"route S1,G1 iif=3 oifs=[4]"}, only(render(acts), "route", "jp(3)"))
	// A Join heard on the RPF interface is kept and counts for
	// JoinDesired(S,G) (it is in immediate_olist(S,G), RFC 7761 4.1.5),
	// but is never forwarded to (4.2: the olist minus the iif).
	acts = joinPrune(t, r, at(4), ifU, nbr3, selfU, 210, join(g1, s1))
	diff(t, "join on the RPF interface", []string(nil), only(render(acts), "route", "jp(3)"))
	acts = joinPrune(t, r, at(5), ifX, addr("fe80::4"), selfX, 210, prune(g1, s1))
	diff(t, "last other one leaves: no Prune, no route", []string{"route S1,G1 iif=0 oifs=[]"},
		only(render(acts), "route", "jp(3)"))
	diff(t, "RPF interface state stays", dsView{State: Join, ET: 209}, downView(r, at(5), s1, g1, ifU))
	diff(t, "still Joined", Joined, upstreamView(r, at(5), s1, g1).State)
	acts = joinPrune(t, r, at(6), ifU, nbr3, selfU, 210, prune(g1, s1))
	diff(t, "the RPF interface's one leaves", []string{"jp(3) to fe80::3 ht=210 G1 join[] prune[S1]"},
		only(render(acts), "route", "jp(3)"))
}

// TestJoinForever: a Join with Holdtime 0xffff holds the state until a
// Prune (4.9.5).
func TestJoinForever(t *testing.T) {
	r := newRouter(t)
	hello(t, r, tR, ifD, nbr1, withHoldtime(0xffff))
	hello(t, r, tR, ifU, nbr3, withHoldtime(0xffff))
	ev{at: 1, kind: "join", ht: 0xffff}.run(t, r)
	lines := runUntil(r, at(1), at(1e5))
	diff(t, "a hundred thousand seconds", []string(nil), only(lines, "jp(2)", "route", "100000 jp"))
	diff(t, "state", dsView{State: Join, Forever: true}, downView(r, at(1e5), s1, g1, ifD))
	acts := ev{at: 1e6, kind: "prune"}.run(t, r)
	diff(t, "prune", []string{"jp(3) to fe80::3 ht=210 G1 join[] prune[S1]", "route S1,G1 iif=0 oifs=[]", "unwatch S1"},
		only(render(acts), "jp", "route", "unwatch"))
}
