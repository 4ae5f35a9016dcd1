package pim

import (
	"net/netip"
	"testing"
)

var (
	nbr4 = addr("fe80::4") // another router on ifU
	nbr5 = addr("fe80::5") // a router on ifX
)

// setupUpstream: nbr1 on ifD; nbr3 (RPF' of S1) and nbr4 on ifU; nbr5 on
// ifX. Rand is half: t_suppressed 75 s, t_override 1.25 s.
func setupUpstream(t testing.TB) *Router {
	t.Helper()
	r := newRouterRand(t, constRand(half))
	mustAdd(t, r, tR, ifX, selfX)
	hello(t, r, tR, ifD, nbr1)
	hello(t, r, tR, ifU, nbr3, withAddrs(addr("2001:db8:3::3")))
	hello(t, r, tR, ifU, nbr4)
	hello(t, r, tR, ifX, nbr5)
	runUntil(r, tR, at(2.5))
	return r
}

func seeJoin(at float64, target netip.Addr, ht uint16) ev {
	return ev{at: at, kind: "seejoin", from: nbr4, ifindex: ifU, target: target, ht: ht}
}
func seePrune(at float64, target netip.Addr) ev {
	return ev{at: at, kind: "seeprune", from: nbr4, ifindex: ifU, target: target, ht: 210}
}
func restart(at float64, ifindex int, n netip.Addr) ev {
	return ev{at: at, kind: "restart", from: n, ifindex: ifindex, ht: 2}
}
func route2(at float64, ifindex int, nh netip.Addr) ev {
	return ev{at: at, kind: "rpf", ifindex: ifindex, nh: nh}
}

// TestUpstream walks every transition of the (S,G) upstream machine of RFC
// 7761 section 4.5.5 that SSM has, with explicit times. JoinDesired(S,G)
// comes from a Join on ifD (nbr1); the last event is the one under test.
func TestUpstream(t *testing.T) {
	joinTo3 := "jp(3) to fe80::3 ht=210 G1 join[S1] prune[]"
	pruneTo3 := "jp(3) to fe80::3 ht=210 G1 join[] prune[S1]"
	rpf3 := "fe80::3"
	for _, tc := range []struct {
		name string
		evs  []ev
		acts []string // Join/Prune messages and routes of the last event
		want upView
	}{
		{"NotJoined: JoinDesired -> true: Joined, Join, JT = t_periodic",
			[]ev{j(10, 210)}, []string{joinTo3, "route S1,G1 iif=3 oifs=[2]"}, upView{Joined, rpf3, 60, true}},
		{"Joined: JoinDesired -> false: NotJoined, Prune",
			[]ev{j(0, 210), p(10)}, []string{pruneTo3, "route S1,G1 iif=0 oifs=[]"}, upView{}},
		{"Joined: JT expires: Join, JT = t_periodic",
			[]ev{j(0, 210), x(59.999), x(60)}, []string{joinTo3}, upView{Joined, rpf3, 60, true}},
		{"Joined: see Join to RPF': JT raised to t_suppressed",
			[]ev{j(0, 210), seeJoin(10, nbr3, 210)}, nil, upView{Joined, rpf3, 75, true}},
		{"Joined: see Join to RPF' by its secondary address",
			[]ev{j(0, 210), seeJoin(10, addr("2001:db8:3::3"), 210)}, nil, upView{Joined, rpf3, 75, true}},
		{"Joined: see Join, JT later than t_joinsuppress: unchanged",
			[]ev{j(0, 210), seeJoin(10, nbr3, 20)}, nil, upView{Joined, rpf3, 50, true}},
		{"Joined: see Join, t_joinsuppress is the message holdtime",
			[]ev{j(0, 210), seeJoin(55, nbr3, 20)}, nil, upView{Joined, rpf3, 20, true}},
		{"Joined: see Join to another neighbor: unchanged",
			[]ev{j(0, 210), seeJoin(10, nbr4, 210)}, nil, upView{Joined, rpf3, 50, true}},
		{"Joined: suppressed JT fires at its new time",
			[]ev{j(0, 210), seeJoin(10, nbr3, 210), x(60), x(84.999), x(85)}, []string{joinTo3}, upView{Joined, rpf3, 60, true}},
		{"Joined: see Prune to RPF': JT lowered to t_override",
			[]ev{j(0, 210), seePrune(10, nbr3)}, nil, upView{Joined, rpf3, 1.25, true}},
		{"Joined: see Prune, JT already sooner: unchanged",
			[]ev{j(0, 210), seePrune(59.5, nbr3)}, nil, upView{Joined, rpf3, 0.5, true}},
		{"Joined: see Prune to another neighbor: unchanged",
			[]ev{j(0, 210), seePrune(10, nbr4)}, nil, upView{Joined, rpf3, 50, true}},
		{"Joined: PruneEcho from RPF' lowers JT",
			[]ev{j(0, 210), {at: 10, kind: "seeprune", from: nbr3, ifindex: ifU, target: nbr3, ht: 210}}, nil, upView{Joined, rpf3, 1.25, true}},
		{"Joined: the override Join goes at t_override",
			[]ev{j(0, 210), seePrune(10, nbr3), x(11.25)}, []string{joinTo3}, upView{Joined, rpf3, 60, true}},
		{"Joined: RPF' GenID changes: JT lowered to t_override",
			[]ev{j(0, 210), restart(10, ifU, nbr3)}, nil, upView{Joined, rpf3, 1.25, true}},
		{"Joined: another neighbor's GenID changes: unchanged",
			[]ev{j(0, 210), restart(10, ifU, nbr4)}, nil, upView{Joined, rpf3, 50, true}},
		{"Joined: RPF' changes on the same interface: Prune old, Join new",
			[]ev{j(0, 210), route2(10, ifU, nbr4)},
			[]string{pruneTo3, "jp(3) to fe80::4 ht=210 G1 join[S1] prune[]"}, upView{Joined, "fe80::4", 60, true}},
		{"Joined: RPF' changes interface: Prune old, Join new, new IIF",
			[]ev{j(0, 210), route2(10, ifX, nbr5)},
			[]string{pruneTo3, "jp(4) to fe80::5 ht=210 G1 join[S1] prune[]", "route S1,G1 iif=4 oifs=[2]"}, upView{Joined, "fe80::5", 60, true}},
		{"Joined: RPF' by a secondary address: same neighbor, nothing sent",
			[]ev{j(0, 210), route2(10, ifU, addr("2001:db8:3::3"))}, nil, upView{Joined, rpf3, 50, true}},
		{"Joined: route lost: Prune old, no JT",
			[]ev{j(0, 210), {at: 10, kind: "norpf"}}, []string{pruneTo3, "route S1,G1 iif=0 oifs=[]"}, upView{Joined, "", 0, true}},
		{"Joined: route back: Join, JT = t_periodic",
			[]ev{j(0, 210), {at: 10, kind: "norpf"}, route2(20, ifU, nbr3)},
			[]string{joinTo3, "route S1,G1 iif=3 oifs=[2]"}, upView{Joined, rpf3, 60, true}},
		{"Joined: RPF' lost (goodbye): Prune to it, no JT",
			[]ev{j(0, 210), {at: 10, kind: "goodbye", from: nbr3, ifindex: ifU}}, []string{pruneTo3}, upView{Joined, "", 0, true}},
		{"Joined: RPF' times out: Prune to it",
			[]ev{j(0, 210), x(104.999), x(105)}, []string{pruneTo3}, upView{Joined, "", 0, true}},
		{"Joined: source becomes directly connected: Prune old, no JT",
			[]ev{j(0, 210), route2(10, ifU, netip.Addr{})}, []string{pruneTo3}, upView{Joined, "", 0, true}},
		{"NotJoined: see Join: nothing",
			[]ev{seeJoin(10, nbr3, 210)}, nil, upView{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := setupUpstream(t)
			var acts []Action
			for _, e := range tc.evs {
				acts = e.run(t, r)
			}
			last := tc.evs[len(tc.evs)-1]
			diff(t, "actions of "+last.String(), tc.acts, only(render(acts), "jp", "route"))
			diff(t, "state", tc.want, upstreamView(r, at(last.at), s1, g1))
		})
	}
}

// TestUpstreamNeighborComesUp: RPF' is NULL until the next hop becomes a
// PIM neighbor; then the Join goes out, preceded by a Hello because the new
// neighbor has not heard one from us (4.3.1).
func TestUpstreamNeighborComesUp(t *testing.T) {
	r := newRouterRand(t, constRand(half))
	hello(t, r, tR, ifD, nbr1)
	ev{at: 1, kind: "join", ht: 210}.run(t, r)
	diff(t, "no neighbor yet", upView{Joined, "", 0, true}, upstreamView(r, at(1), s1, g1))
	acts := hello(t, r, at(5), ifU, nbr3)
	diff(t, "neighbor up", []string{
		"nbr(3) fe80::3 up new",
		"hello(3) from fe80::e:1 ht=105",
		"jp(3) to fe80::3 ht=210 G1 join[S1] prune[]",
	}, render(acts))
}

// TestJoinDesiredByListeners: local receivers count where we are the DR
// (pim_include, 4.1.5); losing the DR role withdraws them.
func TestJoinDesiredByListeners(t *testing.T) {
	r := setupUpstream(t)
	acts := ev{at: 10, kind: "listen"}.run(t, r)
	diff(t, "listener", []string{"watch S1", "jp(3) to fe80::3 ht=210 G1 join[S1] prune[]", "route S1,G1 iif=3 oifs=[2]"},
		only(render(acts), "jp", "route", "watch"))
	acts = hello(t, r, at(20), ifD, addr("fe80::ff:1"))
	diff(t, "a better DR", []string{"dr(2) fe80::ff:1 self=false", "jp(3) to fe80::3 ht=210 G1 join[] prune[S1]", "route S1,G1 iif=0 oifs=[]"},
		only(render(acts), "dr", "jp", "route"))
	diff(t, "entry kept for the listener", upView{NotJoined, rpf3Name, 0, false}, upstreamView(r, at(20), s1, g1))
	acts = hello(t, r, at(30), ifD, addr("fe80::ff:1"), withHoldtime(0))
	diff(t, "DR again", []string{"dr(2) fe80::d:1 self=true", "jp(3) to fe80::3 ht=210 G1 join[S1] prune[]", "route S1,G1 iif=3 oifs=[2]"},
		only(render(acts), "dr", "jp", "route"))
	acts = ev{at: 40, kind: "unlisten"}.run(t, r)
	diff(t, "listener leaves", []string{"jp(3) to fe80::3 ht=210 G1 join[] prune[S1]", "route S1,G1 iif=0 oifs=[]", "unwatch S1"},
		only(render(acts), "jp", "route", "unwatch"))
}

const rpf3Name = "fe80::3"
