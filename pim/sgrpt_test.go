package pim

import (
	"fmt"
	"net/netip"
	"testing"
)

func rptPrune(at float64, from netip.Addr, ht uint16) step {
	return stepJP(at, ifD, from, selfD, ht, jpg{g: gA, prunes: []netip.Addr{s1}, rpt: true})
}

func rptJoin(at float64, from netip.Addr) step {
	return stepJP(at, ifD, from, selfD, 210, jpg{g: gA, joins: []netip.Addr{s1}, rpt: true})
}

// starJoinWithRPTPrune is the periodic message of a downstream router that
// prunes S off the RP tree: Join(*,G) and Prune(S,G,rpt) in one group set.
func starJoinWithRPTPrune(at float64, from netip.Addr) step {
	return stepJP(at, ifD, from, selfD, 210,
		jpg{g: gA, joins: []netip.Addr{rpA}, wildcard: true, rpt: true},
		jpg{g: gA, prunes: []netip.Addr{s1}, rpt: true})
}

// TestRPTDownstream walks the downstream (S,G,rpt) machine of RFC 7761
// section 4.5.3 on ifD, where nbr1 (and on LAN rows nbr2) joined (*,G).
// With two neighbors the Prune-Pending Timer is 3 s; with one it is 0.
func TestRPTDownstream(t *testing.T) {
	type want struct {
		State   RPTDownState
		ET, PPT float64
	}
	for _, tc := range []struct {
		name  string
		lan   bool
		steps []step
		want  want
	}{
		{"NoInfo: Prune(S,G,rpt), one neighbor -> Prune", false, []step{starJoin(0), rptPrune(10, nbr1, 210)}, want{RPTPrune, 210, 0}},
		{"NoInfo: Prune(S,G,rpt), LAN -> Prune-Pending", true, []step{starJoin(0), rptPrune(10, nbr1, 210)}, want{RPTPrunePending, 210, 3}},
		{"NoInfo: Prune(S,G,rpt) holdtime 0: nothing", false, []step{starJoin(0), rptPrune(10, nbr1, 0)}, want{}},
		{"Prune-Pending: PPT expires -> Prune", true, []step{starJoin(0), rptPrune(10, nbr1, 210), expireAt(13)}, want{RPTPrune, 207, 0}},
		{"Prune-Pending: Prune again -> Prune-Pending, ET raised", true,
			[]step{starJoin(0), rptPrune(10, nbr1, 210), rptPrune(11, nbr1, 210)}, want{RPTPrunePending, 210, 2}},
		{"Prune: Prune(S,G,rpt) -> Prune, ET raised", false, []step{starJoin(0), rptPrune(10, nbr1, 210), rptPrune(20, nbr1, 210)}, want{RPTPrune, 210, 0}},
		{"Prune: Join(S,G,rpt) -> NoInfo", false, []step{starJoin(0), rptPrune(10, nbr1, 210), rptJoin(20, nbr1)}, want{}},
		{"Prune-Pending: Join(S,G,rpt) (an override) -> NoInfo", true,
			[]step{starJoin(0), rptPrune(10, nbr1, 210), rptJoin(11, nbr2)}, want{}},
		{"Prune: Join(*,G) alone -> PruneTmp -> end of message: NoInfo", false,
			[]step{starJoin(0), rptPrune(10, nbr1, 210), starJoin(20)}, want{}},
		{"Prune: Join(*,G) with Prune(S,G,rpt) -> Prune, ET raised", false,
			[]step{starJoin(0), rptPrune(10, nbr1, 210), starJoinWithRPTPrune(20, nbr1)}, want{RPTPrune, 210, 0}},
		{"Prune-Pending: Join(*,G) alone -> Prune-Pending-Tmp -> NoInfo", true,
			[]step{starJoin(0), rptPrune(10, nbr1, 210), starJoin(11)}, want{}},
		{"Prune-Pending: Join(*,G) with Prune(S,G,rpt) -> Prune-Pending", true,
			[]step{starJoin(0), rptPrune(10, nbr1, 210), starJoinWithRPTPrune(11, nbr1)}, want{RPTPrunePending, 210, 2}},
		{"Prune: ET expires -> NoInfo", false,
			[]step{starJoin(0), rptPrune(10, nbr1, 30), expireAt(39.999), expireAt(40)}, want{}},
		{"Prune-Pending: ET expires -> NoInfo", true,
			[]step{starJoin(0), rptPrune(10, nbr1, 2), expireAt(12)}, want{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := asmRouter(t, asmOpt{lan: tc.lan})
			run(t, r, nil, tc.steps)
			last := tc.steps[len(tc.steps)-1]
			v := rptOf(r, at(last.at), s1, ifD)
			diff(t, "state", tc.want, want{v.Down, v.ET, v.PPT})
		})
	}
}

// TestRPTPrunesLeaveTheOlist: prunes(S,G,rpt) take the interface out of
// inherited_olist(S,G,rpt), and so out of the RP-tree route of S.
func TestRPTPrunesLeaveTheOlist(t *testing.T) {
	r := asmRouter(t, asmOpt{lan: true})
	mustAdd(t, r, tR, 5, addr("fe80::e:5")) // a stub LAN with receivers
	acts := run(t, r, nil, []step{starJoin(0), listenEx(0, 5), noCache(1, ifU, s1)})
	diff(t, "RP tree", []string{"route S1,ff0e::1 iif=3 oifs=[2 5]"}, only(render(acts), "route"))
	acts = run(t, r, nil, []step{rptPrune(10, nbr1, 210)})
	diff(t, "Prune-Pending still forwards", []string(nil), only(render(acts), "route"))
	acts = run(t, r, nil, []step{expireAt(13)})
	diff(t, "Prune", []string{"route S1,ff0e::1 iif=3 oifs=[5]"}, only(render(acts), "route"))
	acts = run(t, r, nil, []step{listenEx(20, 5, s1)})
	// (The first packet had switched S to the SPT, the same path here:
	// the (S,G) Join goes too.)
	diff(t, "pim_exclude: nothing left, the (S,G,rpt) Prune goes up", []string{
		"jp(3) to fe80::3 ht=210 ff0e::1 join[] prune[rpt:S1 S1]", "route S1,ff0e::1 iif=3 oifs=[]"}, only(render(acts), "route", "jp"))
}

// TestRPTUpstream walks the upstream (S,G,rpt) machine of RFC 7761 section
// 4.5.7. (*,G) is joined by local receivers on ifD; S1 reaches us over the
// RP tree (a cache entry) unless a row says otherwise.
func TestRPTUpstream(t *testing.T) {
	viaX := routes{s1: {Valid: true, IfIndex: ifX, NextHop: nbr5}}
	joined := []step{listenEx(0, ifD), noCache(1, ifU, s1)}
	for _, tc := range []struct {
		name   string
		routes routes
		steps  []step
		acts   []string
		want   rptView
	}{
		{"RPTNotJoined: cache entry on a joined tree -> NotPruned", nil, joined, nil, rptView{Up: RPTNotPruned, RPF: "fe80::3"}},
		{"RPTNotJoined: PruneDesired -> Pruned, Prune(S,G,rpt) now", nil,
			[]step{listenEx(0, ifD), listenEx(10, ifD, s1)}, []string{"jp(3) to fe80::3 ht=210 ff0e::1 join[] prune[rpt:S1]"},
			rptView{Up: RPTPruned, RPF: "fe80::3"}},
		{"RPTNotJoined: Join(*,G) with the Prune of a new excluded source", nil,
			[]step{listenEx(10, ifD, s1)}, []string{"jp(3) to fe80::3 ht=210 ff0e::1 join[*2001:db8:ff::1] prune[rpt:S1]"},
			rptView{Up: RPTPruned, RPF: "fe80::3"}},
		{"Pruned: PruneDesired -> false: NotPruned, Join(S,G,rpt)", nil,
			[]step{listenEx(0, ifD), noCache(1, ifU, s1), listenEx(10, ifD, s1), listenEx(20, ifD)},
			[]string{"jp(3) to fe80::3 ht=210 ff0e::1 join[rpt:S1] prune[]"}, rptView{Up: RPTNotPruned, RPF: "fe80::3"}},
		{"Pruned: RPTJoinDesired -> false: RPTNotJoined (the Prune(*,G) says it)", nil,
			[]step{listenEx(0, ifD), noCache(1, ifU, s1), listenEx(10, ifD, s1), listenIn(20, ifD)},
			[]string{pruneStar3}, rptView{Up: RPTNotJoined}},
		{"NotPruned: SPT bit with another RPF' -> Pruned, Prune(S,G,rpt)", viaX,
			then(joined, wrongIIF(2, ifX, s1)), []string{"jp(3) to fe80::3 ht=210 ff0e::1 join[] prune[rpt:S1]"},
			rptView{Up: RPTPruned, RPF: "fe80::3"}},
		{"NotPruned: see Prune(S,G,rpt) to RPF'(S,G,rpt): OT = t_override", nil,
			then(joined, stepJP(10, ifU, nbr4, nbr3, 210, jpg{g: gA, prunes: []netip.Addr{s1}, rpt: true})),
			nil, rptView{Up: RPTNotPruned, RPF: "fe80::3", OT: 1.25}},
		{"NotPruned: OT expires: Join(S,G,rpt)", nil,
			then(joined, stepJP(10, ifU, nbr4, nbr3, 210, jpg{g: gA, prunes: []netip.Addr{s1}, rpt: true}), expireAt(11.25)),
			[]string{"jp(3) to fe80::3 ht=210 ff0e::1 join[rpt:S1] prune[]"}, rptView{Up: RPTNotPruned, RPF: "fe80::3"}},
		{"NotPruned: see Join(S,G,rpt) to RPF'(S,G,rpt): OT stopped", nil,
			then(joined, stepJP(10, ifU, nbr4, nbr3, 210, jpg{g: gA, prunes: []netip.Addr{s1}, rpt: true}),
				stepJP(10.5, ifU, nbr4, nbr3, 210, jpg{g: gA, joins: []netip.Addr{s1}, rpt: true})),
			nil, rptView{Up: RPTNotPruned, RPF: "fe80::3"}},
		{"NotPruned: see Prune(S,G) to RPF'(S,G,rpt): OT = t_override", nil,
			then(joined, stepJP(10, ifU, nbr4, nbr3, 210, prune(gA, s1))), nil, rptView{Up: RPTNotPruned, RPF: "fe80::3", OT: 1.25}},
		{"NotPruned: see Prune(S,G,rpt) to another neighbor: nothing", nil,
			then(joined, stepJP(10, ifU, nbr3, nbr4, 210, jpg{g: gA, prunes: []netip.Addr{s1}, rpt: true})),
			nil, rptView{Up: RPTNotPruned, RPF: "fe80::3"}},
		{"NotPruned: RPTJoinDesired -> false: RPTNotJoined, OT stopped", nil,
			then(joined, stepJP(10, ifU, nbr4, nbr3, 210, jpg{g: gA, prunes: []netip.Addr{s1}, rpt: true}), listenIn(10.5, ifD)),
			[]string{pruneStar3}, rptView{Up: RPTNotJoined}},
		{"No entry: see Prune(S,G,rpt) on our RP tree: an entry to override it", nil,
			[]step{listenEx(0, ifD), stepJP(10, ifU, nbr4, nbr3, 210, jpg{g: gA, prunes: []netip.Addr{s1}, rpt: true})},
			nil, rptView{Up: RPTNotPruned, RPF: "fe80::3", OT: 1.25}},
		{"No entry: the override goes out and the entry with it", nil,
			[]step{listenEx(0, ifD), stepJP(10, ifU, nbr4, nbr3, 210, jpg{g: gA, prunes: []netip.Addr{s1}, rpt: true}), expireAt(11.25)},
			[]string{"jp(3) to fe80::3 ht=210 ff0e::1 join[rpt:S1] prune[]"}, rptView{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := asmRouter(t, asmOpt{cfg: func(c *Config) { c.SPT.Never = true }})
			if tc.routes != nil {
				r.cfg.SPT.Never = false
			}
			acts := run(t, r, tc.routes, tc.steps)
			last := tc.steps[len(tc.steps)-1]
			diff(t, "actions", tc.acts, only(render(acts), "jp(3)"))
			v := rptOf(r, at(last.at), s1, ifD)
			diff(t, "state", tc.want, rptView{Up: v.Up, RPF: v.RPF, OT: v.OT})
		})
	}
}

// TestSPTbitClearedLeavingJoined: the upstream (S,G) machine's Joined ->
// NotJoined sends Prune(S,G) and sets SPTbit(S,G) to FALSE (RFC 7761
// 4.5.5). nbr1 joined (*,G) and (S,G) on ifD; S1 is reached over ifX
// (nbr5), the RP over ifU (nbr3). nbr5's Assert(S,G) on ifX, our
// RPF_interface(S), makes us a loser there while Joined, which sets the
// SPT bit (4.6.1, A6): RPF'(S,G) is not RPF'(*,G), so Prune(S,G,rpt) goes
// toward the RP (4.5.7). When nbr1 prunes (S,G), PruneDesired(S,G,rpt)
// falls with the bit, and the Prune(S,G,rpt) is withdrawn at once by a
// Join(S,G,rpt) to RPF'(S,G,rpt) (Pruned -> NotPruned), in the same event
// as the Prune(S,G): nbr1 still wants S over the RP tree.
func TestSPTbitClearedLeavingJoined(t *testing.T) {
	viaX := routes{s1: {Valid: true, IfIndex: ifX, NextHop: nbr5}}
	steps := []step{
		starJoin(0),
		stepJP(0.5, ifD, nbr1, selfD, 210, join(gA, s1)),
		assertFrom(10, ifX, nbr5, s1, false, 1, 1),
		stepJP(20, ifD, nbr1, selfD, 210, prune(gA, s1)),
	}
	type view struct {
		SPT bool
		Up  UpstreamState
		RPT RPTState
	}
	r := asmRouter(t, asmOpt{})
	for i, want := range []struct {
		acts []string
		v    view
	}{
		{[]string{"jp(3) to fe80::3 ht=210 ff0e::1 join[*2001:db8:ff::1] prune[]"}, view{}},
		{[]string{"jp(4) to fe80::5 ht=210 ff0e::1 join[S1] prune[]"}, view{false, Joined, RPTNotPruned}},
		{[]string{"jp(3) to fe80::3 ht=210 ff0e::1 join[] prune[rpt:S1]"}, view{true, Joined, RPTPruned}},
		// NotJoined, NotPruned: and then nothing keeps the entry.
		{[]string{"jp(3) to fe80::3 ht=210 ff0e::1 join[rpt:S1] prune[]", "jp(4) to fe80::5 ht=210 ff0e::1 join[] prune[S1]"},
			view{}},
	} {
		st := steps[i]
		acts := run(t, r, viaX, []step{st})
		diff(t, fmt.Sprintf("actions at %v", st.at), want.acts, only(render(acts), "jp"))
		var got view
		if rs := route(r, at(st.at), s1, gA); rs != nil {
			got = view{rs.SPTBit, rs.Upstream, rs.RPT}
		} else if i > 0 && i < 3 {
			t.Fatalf("no (S,G) entry at %v", st.at)
		}
		diff(t, fmt.Sprintf("state at %v", st.at), want.v, got)
	}
}

// TestSPTbitClearedCancelsAssert: the SPT bit cleared on leaving Joined is
// also CouldAssert(S,G,I)'s (4.6.1): an (S,G) Assert we won through the
// (*,G) Join on the LAN ifD ends with an AssertCancel in the same event.
func TestSPTbitClearedCancelsAssert(t *testing.T) {
	viaX := routes{s1: {Valid: true, IfIndex: ifX, NextHop: nbr5}}
	r := asmRouter(t, asmOpt{lan: true})
	run(t, r, viaX, []step{
		starJoin(0),
		stepJP(0.5, ifD, nbr1, selfD, 210, join(gA, s1)),
		assertFrom(10, ifX, nbr5, s1, false, 1, 1), // A6: the SPT bit
	})
	acts := run(t, r, viaX, []step{assertFrom(15, ifD, nbr2, s1, true, 1, 1)})
	diff(t, "an inferior RPT Assert: we win, (S,G) and (*,G)", []string{"assert(2) S1,ff0e::1 rpt=true 0/0", "assert(2) S1,ff0e::1 rpt=false 0/0"},
		only(render(acts), "assert"))
	// nbr1's Prune(S,G) on the LAN takes effect when the Prune-Pending
	// Timer expires (J/P_Override_Interval, 3 s).
	acts = run(t, r, viaX, []step{stepJP(20, ifD, nbr1, selfD, 210, prune(gA, s1)), expireAt(23)})
	diff(t, "leaving Joined", []string{
		"assert-cancel(2) S1,ff0e::1 rpt=true 2147483647/4294967295",
		"jp(3) to fe80::3 ht=210 ff0e::1 join[rpt:S1] prune[]",
		"jp(4) to fe80::5 ht=210 ff0e::1 join[] prune[S1]",
	}, only(render(acts), "assert", "jp(3)", "jp(4)"))
	diff(t, "no Assert state", assertView{}, sgAssertView(r, at(23), s1, ifD))
}
