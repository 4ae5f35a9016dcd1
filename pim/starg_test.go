package pim

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

const (
	joinStar3  = "jp(3) to fe80::3 ht=210 ff0e::1 join[*2001:db8:ff::1] prune[]"
	pruneStar3 = "jp(3) to fe80::3 ht=210 ff0e::1 join[] prune[*2001:db8:ff::1]"
)

// TestStarGDownstream walks the downstream (*,G) machine of RFC 7761
// section 4.5.1 (the (S,G) machine's table with (*,G) events), with the
// RP check of Join(*,G). The last step's actions and the machine on ifD
// after it are checked.
func TestStarGDownstream(t *testing.T) {
	joined := []string{"watch 2001:db8:ff::1", joinStar3}
	gone := []string{pruneStar3, "unwatch 2001:db8:ff::1"}
	echo := "jp(2) to fe80::d:1 ht=210 ff0e::1 join[] prune[*2001:db8:ff::1]"
	for _, tc := range []struct {
		name  string
		lan   bool
		steps []step
		acts  []string
		want  dsView
	}{
		{"NoInfo: Join(*,G) -> Join, ET = holdtime", false, []step{starJoin(10)}, joined, dsView{State: Join, ET: 210}},
		{"Join: Join(*,G) -> Join, ET raised", false, []step{starJoin(0), starJoin(60)}, nil, dsView{State: Join, ET: 210}},
		{"Prune-Pending: Join(*,G) -> Join, PPT stopped", true, []step{starJoin(0), starPrune(10), starJoin(11)}, nil, dsView{State: Join, ET: 210}},
		{"NoInfo: Join(*,G) with holdtime 0: nothing", false,
			[]step{stepJP(10, ifD, nbr1, selfD, 0, jpg{g: gA, joins: []netip.Addr{rpA}, wildcard: true, rpt: true})}, nil, dsView{}},
		{"NoInfo: Join(*,G) naming another RP: dropped", false, []step{starJoinFrom(10, nbr1, addr("2001:db8:ff::7"))}, nil, dsView{}},
		{"NoInfo: Prune(*,G) -> NoInfo", false, []step{starPrune(10)}, nil, dsView{}},
		{"Join: Prune(*,G), one neighbor -> NoInfo at once", false, []step{starJoin(0), starPrune(10)}, gone, dsView{}},
		{"Join: Prune(*,G), LAN -> Prune-Pending, PPT 3 s", true, []step{starJoin(0), starPrune(10)}, nil, dsView{State: PrunePending, ET: 200, PPT: 3}},
		{"Join: Prune(*,G) naming another RP is taken", false,
			[]step{starJoin(0), stepJP(10, ifD, nbr1, selfD, 210, jpg{g: gA, prunes: []netip.Addr{addr("2001:db8:ff::7")}, wildcard: true, rpt: true})},
			gone, dsView{}},
		{"Prune-Pending: PPT expires -> NoInfo, PruneEcho", true, []step{starJoin(0), starPrune(10), expireAt(12.999), expireAt(13)},
			append([]string{echo}, gone...), dsView{}},
		{"Prune-Pending: override Join from the other router", true,
			[]step{starJoin(0), starPrune(10), starJoinFrom(11, nbr2, rpA), expireAt(13)}, nil, dsView{State: Join, ET: 208}},
		{"Join: ET expires -> NoInfo", false,
			[]step{stepJP(0, ifD, nbr1, selfD, 30, jpg{g: gA, joins: []netip.Addr{rpA}, wildcard: true, rpt: true}), expireAt(29.999), expireAt(30)},
			gone, dsView{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := asmRouter(t, asmOpt{lan: tc.lan})
			acts := run(t, r, nil, tc.steps)
			last := tc.steps[len(tc.steps)-1]
			diff(t, "actions", tc.acts, only(render(acts), "jp", "watch", "unwatch", "route"))
			diff(t, "state", tc.want, starDownView(r, at(last.at), ifD))
			if tc.want.State == NoInfo && starOf(r, at(last.at)) != nil {
				t.Error("(*,G) kept in NoInfo with nothing else")
			}
		})
	}
	// The drops are counted.
	r := asmRouter(t, asmOpt{})
	run(t, r, nil, []step{starJoinFrom(1, nbr1, addr("2001:db8:ff::7")),
		stepJP(2, ifD, nbr1, selfD, 210, jpg{g: addr("ff0f::1"), joins: []netip.Addr{rpA}, wildcard: true, rpt: true})})
	diff(t, "drops", map[string]uint64{DropWrongRP: 1, DropNoRP: 1}, r.Stats(ifD).Dropped)
}

// TestStarGUpstream walks the upstream (*,G) machine of RFC 7761 section
// 4.5.4. JoinDesired(*,G) comes from a Join(*,G) on ifD.
func TestStarGUpstream(t *testing.T) {
	rp2 := addr("2001:db8:ff::2")
	for _, tc := range []struct {
		name   string
		opt    asmOpt
		routes routes
		steps  []step
		acts   []string
		want   upView
	}{
		{"NotJoined: JoinDesired -> true: Joined, Join(*,G), JT = t_periodic", asmOpt{}, nil,
			[]step{starJoin(10)}, []string{joinStar3}, upView{Joined, "fe80::3", 60, true}},
		{"Joined: JoinDesired -> false: Prune(*,G)", asmOpt{}, nil,
			[]step{starJoin(0), starPrune(10)}, []string{pruneStar3}, upView{}},
		{"Joined: JT expires: Join(*,G)", asmOpt{}, nil,
			[]step{starJoin(0), expireAt(59.999), expireAt(60)}, []string{joinStar3}, upView{Joined, "fe80::3", 60, true}},
		{"Joined: see Join(*,G) to RPF'(*,G): JT = t_suppressed", asmOpt{}, nil,
			[]step{starJoin(0), stepJP(10, ifU, nbr4, nbr3, 210, jpg{g: gA, joins: []netip.Addr{rpA}, wildcard: true, rpt: true})},
			nil, upView{Joined, "fe80::3", 75, true}},
		{"Joined: see Prune(*,G) to RPF'(*,G): JT = t_override", asmOpt{}, nil,
			[]step{starJoin(0), stepJP(10, ifU, nbr4, nbr3, 210, jpg{g: gA, prunes: []netip.Addr{rpA}, wildcard: true, rpt: true})},
			nil, upView{Joined, "fe80::3", 1.25, true}},
		{"Joined: see Prune(*,G) to another neighbor: unchanged", asmOpt{}, nil,
			[]step{starJoin(0), stepJP(10, ifU, nbr3, nbr4, 210, jpg{g: gA, prunes: []netip.Addr{rpA}, wildcard: true, rpt: true})},
			nil, upView{Joined, "fe80::3", 50, true}},
		{"Joined: RPF'(*,G) GenID changes: JT = t_override", asmOpt{}, nil,
			[]step{starJoin(0), helloStep(10, ifU, nbr3, withGenID(2))}, nil, upView{Joined, "fe80::3", 1.25, true}},
		{"Joined: the route to the RP moves: Prune old, Join new", asmOpt{}, nil,
			[]step{starJoin(0), setRPF(10, rpA, RPF{Valid: true, IfIndex: ifX, NextHop: nbr5})},
			[]string{pruneStar3, "jp(4) to fe80::5 ht=210 ff0e::1 join[*2001:db8:ff::1] prune[]"}, upView{Joined, "fe80::5", 60, true}},
		{"Joined: the route to the RP goes: Prune, no JT", asmOpt{}, nil,
			[]step{starJoin(0), setRPF(10, rpA, RPF{})}, []string{pruneStar3}, upView{Joined, "", 0, true}},
		{"Joined: an RP on our link is its own next hop", asmOpt{}, nil,
			[]step{helloStep(0, ifX, nbr5, withAddrs(rpA)), starJoin(1), setRPF(10, rpA, RPF{Valid: true, IfIndex: ifX})},
			[]string{pruneStar3, "jp(4) to fe80::5 ht=210 ff0e::1 join[*2001:db8:ff::1] prune[]"}, upView{Joined, "fe80::5", 60, true}},
		{"Joined: RP(G) changes: Prune naming the old RP, Join naming the new", asmOpt{},
			routes{rp2: {Valid: true, IfIndex: ifX, NextHop: nbr5}},
			[]step{starJoin(0), setConfigRP(10, rp2)},
			[]string{pruneStar3, "jp(4) to fe80::5 ht=210 ff0e::1 join[*2001:db8:ff::2] prune[]"}, upView{Joined, "fe80::5", 60, true}},
		{"Joined: RP(G) changes, same neighbor: Join naming the new RP", asmOpt{}, nil,
			[]step{starJoin(0), setConfigRP(10, rp2)},
			[]string{"jp(3) to fe80::3 ht=210 ff0e::1 join[*2001:db8:ff::2] prune[]"}, upView{Joined, "fe80::3", 60, true}},
		{"Joined: RPF'(*,G) changes due to an Assert: JT = t_override, no Prune", asmOpt{}, nil,
			[]step{starJoin(0), assertFrom(10, ifU, nbr4, s1, true, 0, 0)}, nil, upView{Joined, "fe80::4", 1.25, true}},
		{"Joined: the Join after an Assert goes to the winner", asmOpt{}, nil,
			[]step{starJoin(0), assertFrom(10, ifU, nbr4, s1, true, 0, 0), expireAt(11.25)},
			[]string{"jp(3) to fe80::4 ht=210 ff0e::1 join[*2001:db8:ff::1] prune[]"}, upView{Joined, "fe80::4", 60, true}},
		{"At the RP: Joined toward nobody", asmOpt{rpSelf: true}, nil,
			[]step{starJoinFrom(10, nbr1, selfG)}, nil, upView{Joined, "", 0, true}},
		{"Local receivers (EXCLUDE) where we are DR: Joined", asmOpt{}, nil,
			[]step{listenEx(10, ifD)}, []string{joinStar3}, upView{Joined, "fe80::3", 60, true}},
		{"Local receivers where another router is DR: NotJoined", asmOpt{}, nil,
			[]step{listenEx(10, ifD), helloStep(20, ifD, addr("fe80::ff:1"))}, []string{pruneStar3}, upView{NotJoined, "fe80::3", 0, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := asmRouter(t, tc.opt)
			acts := run(t, r, tc.routes, tc.steps)
			last := tc.steps[len(tc.steps)-1]
			diff(t, "actions", tc.acts, only(render(acts), "jp"))
			diff(t, "state", tc.want, starUpView(r, at(last.at)))
		})
	}
}

// setConfigRP moves the RP of ff0e::/16 to rp.
func setConfigRP(at float64, rp netip.Addr) step {
	return step{at, func(t testing.TB, r *Router, now time.Time) []Action {
		cfg := r.cfg
		cfg.RPs = []StaticRP{{Addr: rp, Groups: []netip.Prefix{netip.MustParsePrefix("ff0e::/16")}}}
		acts, err := r.SetConfig(now, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return acts
	}}
}

// TestStarGJoinCarriesRPTPrunes: every Join(*,G), periodic ones included,
// carries the Prunes of the Pruned (S,G,rpt) entries toward the same
// neighbor, and SplitJoinPrune keeps them in one message.
func TestStarGJoinCarriesRPTPrunes(t *testing.T) {
	r := asmRouter(t, asmOpt{})
	acts := run(t, r, nil, []step{listenEx(10, ifD, s1, s2)})
	diff(t, "first Join", []string{"jp(3) to fe80::3 ht=210 ff0e::1 join[*2001:db8:ff::1] prune[rpt:S1 rpt:S2]"}, only(render(acts), "jp"))
	acts = run(t, r, nil, []step{expireAt(70)})
	diff(t, "periodic", []string{"jp(3) to fe80::3 ht=210 ff0e::1 join[*2001:db8:ff::1] prune[rpt:S1 rpt:S2]"}, only(render(acts), "jp"))
	for _, a := range acts {
		if s, ok := a.(SendPIM); ok {
			if jp, ok := s.Msg.(*pimmsg.JoinPrune); ok {
				g := jp.Groups[0]
				if !g.Joins[0].WildCard || !g.Joins[0].RPT || !g.Joins[0].Sparse || g.Prunes[0].WildCard || !g.Prunes[0].RPT {
					t.Errorf("bits %+v", g)
				}
			}
		}
	}
}
