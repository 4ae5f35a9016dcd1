package pim

import (
	"net/netip"
	"testing"
	"time"
)

// TestAssertSG walks the (S,G) Assert machine of RFC 7761 section 4.6.1 on
// ifD, a LAN where nbr1 joined (S,G) and nbr2 is the other forwarder. Our
// route to S1 has preference 10 and metric 100; data from S1 has arrived
// on ifU (SPT bit set). The last step's Asserts, Join/Prunes and routes,
// and the machine after it, are checked.
func TestAssertSG(t *testing.T) {
	rt := routes{s1: {Valid: true, IfIndex: ifU, NextHop: nbr3, Preference: 10, Metric: 100}}
	base := []step{stepJP(0, ifD, nbr1, selfD, 210, join(gA, s1)), activity(1, s1, 1, 100)}
	with := func(more ...step) []step { return append(append([]step(nil), base...), more...) }
	const (
		ours   = "assert(2) S1,ff0e::1 rpt=false 10/100"
		cancel = "assert-cancel(2) S1,ff0e::1 rpt=true 2147483647/4294967295"
		lost   = "route S1,ff0e::1 iif=3 oifs=[]"
		back   = "route S1,ff0e::1 iif=3 oifs=[2]"
		pruneS = "jp(3) to fe80::3 ht=210 ff0e::1 join[] prune[S1]"
		joinS  = "jp(3) to fe80::3 ht=210 ff0e::1 join[S1] prune[]"
	)
	better := func(at float64, from netip.Addr) step { return assertFrom(at, ifD, from, s1, false, 5, 0) }
	worse := func(at float64, from netip.Addr) step { return assertFrom(at, ifD, from, s1, false, 50, 0) }
	cancelFrom := func(at float64, from netip.Addr) step { return assertFrom(at, ifD, from, s1, true, infPref, infMetric) }
	lose := with(better(10, nbr2))
	// loseJoined: nbr5 joined on ifX too, so losing on ifD leaves us
	// Joined, with the SPT bit (leaving Joined clears it, 4.5.5, and then
	// we could no longer assert: my_assert_metric would be infinite).
	loseJoined := with(stepJP(0.5, ifX, nbr5, selfX, 210, join(gA, s1)), better(10, nbr2))
	const backX = "route S1,ff0e::1 iif=3 oifs=[2 4]"
	win := with(wrongIIF(10, ifD, s1))
	for _, tc := range []struct {
		name  string
		steps []step
		acts  []string
		want  assertView
	}{
		{"NoInfo: data on I and CouldAssert: Winner, Assert, AT = 177", win, []string{ours}, assertView{AssertWinner, "fe80::d:1", 177}},
		{"NoInfo: inferior RPT Assert and CouldAssert: Winner", with(assertFrom(10, ifD, nbr2, s1, true, 0, 0)),
			[]string{ours}, assertView{AssertWinner, "fe80::d:1", 177}},
		{"NoInfo: acceptable Assert and AssertTrackingDesired: Loser, AT = 180", lose,
			[]string{pruneS, lost}, assertView{AssertLoser, "fe80::2", 180}},
		{"NoInfo: inferior (S,G) Assert: nothing", with(worse(10, nbr2)), nil, assertView{}},
		{"Winner: AT expires: Assert again", with(wrongIIF(10, ifD, s1), expireAt(186.999), expireAt(187)),
			[]string{ours}, assertView{AssertWinner, "fe80::d:1", 177}},
		{"Winner: inferior Assert: Assert again", with(wrongIIF(10, ifD, s1), worse(20, nbr2)),
			[]string{ours}, assertView{AssertWinner, "fe80::d:1", 177}},
		{"Winner: answers to inferior Asserts are rate-limited", with(wrongIIF(10, ifD, s1), worse(20, nbr2), worse(20.5, nbr2)),
			nil, assertView{AssertWinner, "fe80::d:1", 177}},
		{"Winner: preferred Assert: Loser", with(wrongIIF(10, ifD, s1), better(20, nbr2)),
			[]string{pruneS, lost}, assertView{AssertLoser, "fe80::2", 180}},
		{"Winner: CouldAssert -> false: AssertCancel, NoInfo", with(wrongIIF(10, ifD, s1), stepJP(20, ifD, nbr1, selfD, 210, prune(gA, s1)), expireAt(23)),
			[]string{cancel, pruneS, "route S1,ff0e::1 iif=3 oifs=[]"}, assertView{}},
		{"Loser: preferred Assert from another router: new winner", then(lose, assertFrom(20, ifD, nbr1, s1, false, 1, 0)),
			nil, assertView{AssertLoser, "fe80::1", 180}},
		{"Loser: acceptable Assert from the winner: AT = 180", then(lose, better(100, nbr2)), nil, assertView{AssertLoser, "fe80::2", 180}},
		{"Loser: a worse Assert from another router: nothing", then(lose, worse(100, nbr1)), nil, assertView{AssertLoser, "fe80::2", 90}},
		{"Loser: inferior Assert from the winner: NoInfo", then(loseJoined, worse(20, nbr2)), []string{backX}, assertView{}},
		{"Loser: AssertCancel from the winner: NoInfo", then(lose, cancelFrom(20, nbr2)), []string{joinS, back}, assertView{}},
		{"Loser: AT expires: NoInfo", then(lose, helloStep(100, ifD, nbr2, withHoldtime(0xffff)), helloStep(100, ifU, nbr3, withHoldtime(0xffff)),
			expireAt(189.999), expireAt(190)),
			[]string{joinS, back}, assertView{}},
		{"Loser: the winner says goodbye: NoInfo", then(lose, helloStep(20, ifD, nbr2, withHoldtime(0))), []string{joinS, back}, assertView{}},
		{"Loser: the winner restarts: NoInfo", then(lose, helloStep(20, ifD, nbr2, withGenID(9))), []string{joinS, back}, assertView{}},
		{"Loser: our metric becomes better: NoInfo", then(loseJoined, setRPF(20, s1, RPF{Valid: true, IfIndex: ifU, NextHop: nbr3, Preference: 1})),
			[]string{backX}, assertView{}},
		{"Loser: Join(S,G) on I: NoInfo", then(lose, stepJP(20, ifD, nbr1, selfD, 210, join(gA, s1))), []string{joinS, back}, assertView{}},
		{"Loser: AssertTrackingDesired -> false: NoInfo", then(lose, stepJP(20, ifD, nbr1, selfD, 210, prune(gA, s1)), expireAt(23)),
			nil, assertView{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := asmRouter(t, asmOpt{lan: true})
			acts := run(t, r, rt, tc.steps)
			last := tc.steps[len(tc.steps)-1]
			diff(t, "actions", tc.acts, only(render(acts), "assert", "jp(3)", "route"))
			diff(t, "state", tc.want, sgAssertView(r, at(last.at), s1, ifD))
		})
	}
}

// TestAssertOnRPFInterface: an (S,G) Assert on the RPF interface makes the
// winner RPF'(S,G) ("RPF'(S,G) changes due to an Assert": the Join goes
// there within t_override, no Prune) and sets the SPT bit (A6); when the
// route to S moves away from the interface, the machine forgets it.
func TestAssertOnRPFInterface(t *testing.T) {
	r := asmRouter(t, asmOpt{cfg: func(c *Config) { c.SPT.Never = true }})
	run(t, r, nil, []step{stepJP(0, ifD, nbr1, selfD, 210, join(gA, s1))})
	acts := run(t, r, nil, []step{assertFrom(10, ifU, nbr4, s1, false, 5, 0)})
	diff(t, "no message yet", []string(nil), only(render(acts), "jp", "assert"))
	diff(t, "upstream", upView{Joined, "fe80::4", 1.25, true}, upstreamView(r, at(10), s1, gA))
	diff(t, "tracking", assertView{AssertLoser, "fe80::4", 180}, sgAssertView(r, at(10), s1, ifU))
	diff(t, "A6: SPT bit", true, route(r, at(10), s1, gA).SPTBit)
	acts = run(t, r, nil, []step{expireAt(11.25)})
	diff(t, "Join to the winner", []string{"jp(3) to fe80::4 ht=210 ff0e::1 join[S1] prune[]"}, only(render(acts), "jp"))
	acts = run(t, r, nil, []step{setRPF(20, s1, RPF{Valid: true, IfIndex: ifX, NextHop: nbr5})})
	diff(t, "moved", []string{"jp(3) to fe80::4 ht=210 ff0e::1 join[] prune[S1]", "jp(4) to fe80::5 ht=210 ff0e::1 join[S1] prune[]"},
		only(render(acts), "jp"))
	diff(t, "forgotten", assertView{}, sgAssertView(r, at(20), s1, ifU))
}

// TestAssertStarG walks the (*,G) Assert machine of RFC 7761 section 4.6.2
// on ifD, a LAN where nbr1 joined (*,G). Our route to the RP has
// preference 20 and metric 200; S1 comes down the RP tree (SPT switch
// never), its own route being on ifX, so data on ifD fails the RPF check.
func TestAssertStarG(t *testing.T) {
	rt := routes{rpA: {Valid: true, IfIndex: ifU, NextHop: nbr3, Preference: 20, Metric: 200}, s1: {Valid: true, IfIndex: ifX, NextHop: nbr5}}
	base := []step{starJoin(0), noCache(1, ifU, s1)}
	with := func(more ...step) []step { return append(append([]step(nil), base...), more...) }
	const (
		ours   = "assert(2) S1,ff0e::1 rpt=true 20/200"
		cancel = "assert-cancel(2) 2001:db8:ff::1,ff0e::1 rpt=true 2147483647/4294967295"
		lost   = "route S1,ff0e::1 iif=3 oifs=[]"
		back   = "route S1,ff0e::1 iif=3 oifs=[2]"
	)
	better := func(at float64, from netip.Addr) step { return assertFrom(at, ifD, from, s1, true, 10, 0) }
	worse := func(at float64, from netip.Addr) step { return assertFrom(at, ifD, from, s1, true, 30, 0) }
	lose := with(better(10, nbr2))
	for _, tc := range []struct {
		name  string
		steps []step
		acts  []string
		want  assertView
	}{
		{"NoInfo: data on I and CouldAssert(*,G,I): Winner, Assert(*,G) naming S", with(wrongIIF(10, ifD, s1)),
			[]string{ours}, assertView{AssertWinner, "fe80::d:1", 177}},
		{"NoInfo: inferior Assert and CouldAssert: Winner", with(worse(10, nbr2)), []string{ours}, assertView{AssertWinner, "fe80::d:1", 177}},
		{"NoInfo: acceptable Assert and AssertTrackingDesired: Loser", lose, []string{lost}, assertView{AssertLoser, "fe80::2", 180}},
		{"Winner: AT expires: Assert again", with(wrongIIF(10, ifD, s1), expireAt(187)), []string{ours}, assertView{AssertWinner, "fe80::d:1", 177}},
		{"Winner: preferred Assert: Loser", with(wrongIIF(10, ifD, s1), better(20, nbr2)), []string{lost}, assertView{AssertLoser, "fe80::2", 180}},
		{"Winner: CouldAssert -> false: AssertCancel(*,G) naming the RP", with(wrongIIF(10, ifD, s1), starPrune(20), expireAt(23)),
			[]string{cancel, lost}, assertView{}},
		{"Loser: Join(*,G) on I: NoInfo", then(lose, starJoin(20)), []string{back}, assertView{}},
		{"Loser: AT expires: NoInfo", then(lose, helloStep(100, ifD, nbr2, withHoldtime(0xffff)), expireAt(190)), []string{back}, assertView{}},
		{"Loser: inferior Assert from the winner: NoInfo", then(lose, worse(20, nbr2)), []string{back}, assertView{}},
		{"Loser: AssertCancel(*,G) from the winner, RPT clear and source :: (FRR): NoInfo",
			then(lose, assertFrom(20, ifD, nbr2, netip.IPv6Unspecified(), false, infPref, infMetric)), []string{back}, assertView{}},
		{"Loser: RPT clear, source :: and a finite metric: dropped", then(lose, assertFrom(20, ifD, nbr2, netip.IPv6Unspecified(), false, 30, 0)),
			nil, assertView{AssertLoser, "fe80::2", 170}},
		{"Loser: an (S,G) Assert does not touch (*,G)", then(lose, assertFrom(20, ifD, nbr1, s1, false, 50, 0)), nil, assertView{AssertLoser, "fe80::2", 170}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := asmRouter(t, asmOpt{lan: true, cfg: func(c *Config) { c.SPT.Never = true }})
			acts := run(t, r, rt, tc.steps)
			last := tc.steps[len(tc.steps)-1]
			diff(t, "actions", tc.acts, only(render(acts), "assert", "route"))
			diff(t, "state", tc.want, starAssertView(r, at(last.at), ifD))
		})
	}
}

// TestAssertSPTBeatsRPT: an (S,G) forwarder on the SPT that hears an
// Assert(*,G) naming S from an RP-tree forwarder wins with Assert(S,G)
// (4.6.1: "receive inferior Assert with RPTbit set and CouldAssert").
func TestAssertSPTBeatsRPT(t *testing.T) {
	r := asmRouter(t, asmOpt{lan: true})
	acts := run(t, r, nil, []step{stepJP(0, ifD, nbr1, selfD, 210, join(gA, s1)), activity(1, s1, 1, 100),
		assertFrom(10, ifD, nbr2, s1, true, 0, 0)})
	diff(t, "ours", []string{"assert(2) S1,ff0e::1 rpt=false 0/0"}, only(render(acts), "assert"))
	diff(t, "state", assertView{AssertWinner, "fe80::d:1", 177}, sgAssertView(r, at(10), s1, ifD))
	diff(t, "stats", uint64(1), r.Stats(ifD).Received[RecvAssert])
}

// TestAssertCancelNeverAcceptable: an Assert with an infinite metric (an
// AssertCancel: metric preference and metric all ones, whatever the RPT
// bit; FRR sends its AssertCancel(S,G) with the RPT bit clear) is never
// acceptable nor preferred (RFC 7761 4.6.1: "An assert is never considered
// acceptable if its metric is infinite"), so it never makes us a loser.
// On ifU, RPF_interface of the RP and of S1, my_assert_metric is itself
// infinite (we cannot assert there): the AssertCancel from nbrHi, whose
// address is above ours (fe80::e:1), must not win on the address
// tie-break, which would make nbrHi RPF' and send our Joins to it. The
// AssertCancel from the current winner still ends the Loser state.
func TestAssertCancelNeverAcceptable(t *testing.T) {
	nbrHi := addr("fe80::f:1")
	base := []step{helloStep(0, ifU, nbrHi, withHoldtime(0xffff))}
	star := then(base, starJoin(0))
	sg := then(base, stepJP(0, ifD, nbr1, selfD, 210, join(gA, s1)))
	cancelFrom := func(at float64, from, src netip.Addr, rpt bool) step {
		return assertFrom(at, ifU, from, src, rpt, infPref, infMetric)
	}
	type view struct {
		Assert assertView
		RPF    string // RPF'
		SPTBit bool
	}
	starView := func(r *Router, now time.Time) view {
		return view{Assert: starAssertView(r, now, ifU), RPF: starUpView(r, now).RPF}
	}
	sgView := func(r *Router, now time.Time) view {
		v := view{Assert: sgAssertView(r, now, s1, ifU), RPF: upstreamView(r, now, s1, gA).RPF}
		if rs := route(r, now, s1, gA); rs != nil {
			v.SPTBit = rs.SPTBit
		}
		return v
	}
	const (
		starToHi = "jp(3) to fe80::f:1 ht=210 ff0e::1 join[*2001:db8:ff::1] prune[]"
		starTo3  = "jp(3) to fe80::3 ht=210 ff0e::1 join[*2001:db8:ff::1] prune[]"
		sgTo4    = "jp(3) to fe80::4 ht=210 ff0e::1 join[S1] prune[]"
		sgTo3    = "jp(3) to fe80::3 ht=210 ff0e::1 join[S1] prune[]"
	)
	for _, tc := range []struct {
		name  string
		steps []step // the last one is Expire 2 s after the Assert: t_override is 1.25 s
		view  func(*Router, time.Time) view
		acts  []string
		want  view
	}{
		// The (*,G) machine (4.6.2).
		{"(*,G) NoInfo: AssertCancel from a higher address: NoInfo, Joins stay with RPF(RP)",
			then(star, cancelFrom(10, nbrHi, rpA, true), expireAt(12)), starView,
			nil, view{RPF: "fe80::3"}},
		{"(*,G) NoInfo: acceptable Assert: Loser, Join to the winner",
			then(star, assertFrom(10, ifU, nbrHi, rpA, true, 10, 10), expireAt(12)), starView,
			[]string{starToHi}, view{Assert: assertView{AssertLoser, "fe80::f:1", 178}, RPF: "fe80::f:1"}},
		{"(*,G) Loser: AssertCancel from the winner: NoInfo, Join back to RPF(RP)",
			then(star, assertFrom(10, ifU, nbrHi, rpA, true, 10, 10), expireAt(15), cancelFrom(20, nbrHi, rpA, true), expireAt(22)), starView,
			[]string{starTo3}, view{RPF: "fe80::3"}},
		{"(*,G) Loser: AssertCancel from another router: still Loser",
			then(star, assertFrom(10, ifU, nbrHi, rpA, true, 10, 10), expireAt(15), cancelFrom(20, nbr4, rpA, true), expireAt(22)), starView,
			nil, view{Assert: assertView{AssertLoser, "fe80::f:1", 168}, RPF: "fe80::f:1"}},

		// The (S,G) machine (4.6.1).
		{"(S,G) NoInfo: AssertCancel with the RPT bit clear: NoInfo, no SPT bit, Joins stay with RPF(S)",
			then(sg, cancelFrom(10, nbr4, s1, false), expireAt(12)), sgView,
			nil, view{RPF: "fe80::3"}},
		{"(S,G) NoInfo: AssertCancel with the RPT bit set: NoInfo",
			then(sg, cancelFrom(10, nbrHi, s1, true), expireAt(12)), sgView,
			nil, view{RPF: "fe80::3"}},
		{"(S,G) NoInfo: acceptable Assert: Loser (A6), Join to the winner",
			then(sg, assertFrom(10, ifU, nbr4, s1, false, 5, 0), expireAt(12)), sgView,
			[]string{sgTo4}, view{Assert: assertView{AssertLoser, "fe80::4", 178}, RPF: "fe80::4", SPTBit: true}},
		{"(S,G) Loser: AssertCancel with the RPT bit clear from the winner: NoInfo, Join back to RPF(S)",
			then(sg, assertFrom(10, ifU, nbr4, s1, false, 5, 0), expireAt(15), cancelFrom(20, nbr4, s1, false), expireAt(22)), sgView,
			[]string{sgTo3}, view{RPF: "fe80::3", SPTBit: true}},
		{"(S,G) Loser: AssertCancel with the RPT bit set from the winner: NoInfo, Join back to RPF(S)",
			then(sg, assertFrom(10, ifU, nbr4, s1, false, 5, 0), expireAt(15), cancelFrom(20, nbr4, s1, true), expireAt(22)), sgView,
			[]string{sgTo3}, view{RPF: "fe80::3", SPTBit: true}},
		{"(S,G) Loser: AssertCancel from another router: still Loser",
			then(sg, assertFrom(10, ifU, nbr4, s1, false, 5, 0), expireAt(15), cancelFrom(20, nbrHi, s1, false), expireAt(22)), sgView,
			nil, view{Assert: assertView{AssertLoser, "fe80::4", 168}, RPF: "fe80::4", SPTBit: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := asmRouter(t, asmOpt{lan: true, cfg: func(c *Config) { c.SPT.Never = true }})
			acts := run(t, r, nil, tc.steps)
			last := tc.steps[len(tc.steps)-1]
			diff(t, "actions", tc.acts, only(render(acts), "assert", "jp(3)"))
			diff(t, "state", tc.want, tc.view(r, at(last.at)))
		})
	}
}

// TestAssertCancelDownstream: on an interface where we can assert, an
// AssertCancel is inferior to our metric like any worse Assert (4.6.4:
// it is "simply an RPT Assert message but with infinite metric"): in
// NoInfo with the RPT bit set and CouldAssert we win (A1), in Winner we
// assert again (A3); with the RPT bit clear it is neither acceptable nor
// the "inferior Assert with RPTbit set" of NoInfo: nothing.
func TestAssertCancelDownstream(t *testing.T) {
	base := []step{stepJP(0, ifD, nbr1, selfD, 210, join(gA, s1)), activity(1, s1, 1, 100)}
	cancelFrom := func(at float64, rpt bool) step { return assertFrom(at, ifD, nbr2, s1, rpt, infPref, infMetric) }
	const ours = "assert(2) S1,ff0e::1 rpt=false 0/0"
	for _, tc := range []struct {
		name  string
		steps []step
		acts  []string
		want  assertView
	}{
		{"NoInfo: AssertCancel with the RPT bit set: Winner", then(base, cancelFrom(10, true)), []string{ours}, assertView{AssertWinner, "fe80::d:1", 177}},
		{"NoInfo: AssertCancel with the RPT bit clear: nothing", then(base, cancelFrom(10, false)), nil, assertView{}},
		{"Winner: AssertCancel with the RPT bit clear: Assert again", then(base, wrongIIF(5, ifD, s1), cancelFrom(10, false)),
			[]string{ours}, assertView{AssertWinner, "fe80::d:1", 177}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := asmRouter(t, asmOpt{lan: true})
			acts := run(t, r, nil, tc.steps)
			last := tc.steps[len(tc.steps)-1]
			diff(t, "actions", tc.acts, only(render(acts), "assert"))
			diff(t, "state", tc.want, sgAssertView(r, at(last.at), s1, ifD))
		})
	}
}

// TestHelloBeforeAssert: an Assert or AssertCancel on an interface where
// we have not yet sent a Hello with our current address to every
// neighbor goes right after one, in the same event (RFC 7761 4.3.1: a
// router that "needs to send a Join/Prune or Assert message on an
// interface on which it has not yet sent a Hello message with the
// currently configured IP address ... MUST immediately send the relevant
// Hello message without waiting for the Hello Timer to expire, followed
// by the Join/Prune or Assert message"). Neighbors that take Asserts only
// from routers they have a Hello from (as we do) would drop it. The
// Hello restarts the Hello Timer, so the triggered Hello does not follow.
func TestHelloBeforeAssert(t *testing.T) {
	newNbr := func(at float64) step { return helloStep(at, ifD, addr("fe80::9"), withHoldtime(0xffff)) }
	newSelf := addr("fe80::d:2")
	newAddr := step{10, func(t testing.TB, r *Router, now time.Time) []Action { return r.SetAddresses(now, ifD, newSelf, nil) }}
	sg := []step{stepJP(0, ifD, nbr1, selfD, 210, join(gA, s1)), activity(1, s1, 1, 100)}
	starRt := routes{s1: {Valid: true, IfIndex: ifX, NextHop: nbr5}}
	star := []step{starJoin(0), noCache(1, ifU, s1)}
	const (
		hello     = "hello(2) from fe80::d:1 ht=105"
		sgAssert  = "assert(2) S1,ff0e::1 rpt=false 0/0"
		sgCancel  = "assert-cancel(2) S1,ff0e::1 rpt=true 2147483647/4294967295"
		starAsrt  = "assert(2) S1,ff0e::1 rpt=true 0/0"
		starCancl = "assert-cancel(2) 2001:db8:ff::1,ff0e::1 rpt=true 2147483647/4294967295"
	)
	for _, tc := range []struct {
		name  string
		never bool // SPT switch never: (*,G) Asserts
		rt    routes
		steps []step // a new neighbor or address at 10 s or later: the triggered Hello is due 2.5 s later
		acts  []string
	}{
		{"Hello sent already: the Assert alone", false, nil, then(sg, wrongIIF(11, ifD, s1)), []string{sgAssert}},
		{"(S,G) Assert on data (A1)", false, nil, then(sg, newNbr(10), wrongIIF(11, ifD, s1)), []string{hello, sgAssert}},
		{"(S,G) Assert answering an inferior one (A3)", false, nil,
			then(sg, wrongIIF(5, ifD, s1), newNbr(10), assertFrom(11, ifD, nbr2, s1, false, 50, 0)), []string{hello, sgAssert}},
		{"(S,G) Assert at AT expiry (A3)", false, nil,
			then(sg, wrongIIF(5, ifD, s1), expireAt(180.5), newNbr(181), expireAt(182)), []string{hello, sgAssert}},
		{"(S,G) AssertCancel (A4)", false, nil,
			then(sg, wrongIIF(5, ifD, s1), stepJP(10, ifD, nbr1, selfD, 210, prune(gA, s1)), newNbr(11), expireAt(13)),
			[]string{hello, sgCancel}},
		{"(*,G) Assert on data", true, starRt, then(star, newNbr(10), wrongIIF(11, ifD, s1)), []string{hello, starAsrt}},
		{"(*,G) AssertCancel", true, starRt,
			then(star, wrongIIF(5, ifD, s1), starPrune(10), newNbr(11), expireAt(13)), []string{hello, starCancl}},
		{"a new address: the Hello from it, then the Assert", false, nil, then(sg, newAddr, wrongIIF(11, ifD, s1)),
			[]string{"hello(2) from fe80::d:2 ht=105", "assert(2) S1,ff0e::1 rpt=false 0/0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := asmRouter(t, asmOpt{lan: true, cfg: func(c *Config) { c.SPT.Never = tc.never }})
			acts := run(t, r, tc.rt, tc.steps)
			last := tc.steps[len(tc.steps)-1]
			diff(t, "actions", tc.acts, only(render(acts), "hello(2)", "assert"))
			diff(t, "no triggered Hello after", []string(nil), only(render(r.Expire(at(last.at+2.5))), "hello(2)"))
		})
	}
}

// TestAssertMetricTerms: the words of 4.6.1 over metrics, with the
// infinite metric's two exceptions: an Assert with one is never
// acceptable (nor, our choice, preferred), and none is inferior to an
// infinite metric of ours, although the order of 4.6.3 alone would
// decide by the address.
func TestAssertMetricTerms(t *testing.T) {
	lo, hi := keyOf(addr("fe80::1")), keyOf(addr("fe80::2"))
	inf := func(rpt bool, a addrKey) assertMetric {
		return assertMetric{rpt: rpt, pref: infPref, metric: infMetric, addr: a}
	}
	fin := func(rpt bool, pref uint32, a addrKey) assertMetric {
		return assertMetric{rpt: rpt, pref: pref, addr: a}
	}
	type terms struct{ Better, Acceptable, Inferior, Preferred bool }
	for _, tc := range []struct {
		name  string
		m, my assertMetric
		want  terms
	}{
		{"AssertCancel from a higher address against our infinite metric", inf(true, hi), inf(true, lo), terms{Better: true}},
		{"AssertCancel with the RPT bit clear against our infinite metric", inf(false, lo), inf(true, hi), terms{Better: true}},
		{"AssertCancel from a lower address against our infinite metric", inf(true, lo), inf(true, hi), terms{}},
		{"AssertCancel against our metric", inf(true, hi), fin(false, 10, lo), terms{Inferior: true}},
		{"AssertCancel with the RPT bit clear against an RPT metric", inf(false, hi), fin(true, 10, lo), terms{Better: true}},
		{"an Assert against our infinite metric", fin(true, 10, lo), inf(true, hi), terms{Better: true, Acceptable: true, Preferred: true}},
		{"a better Assert", fin(false, 5, lo), fin(false, 10, hi), terms{Better: true, Acceptable: true, Preferred: true}},
		{"a worse Assert", fin(false, 50, hi), fin(false, 10, lo), terms{Inferior: true}},
		{"an equal metric from a higher address", fin(false, 10, hi), fin(false, 10, lo), terms{Better: true, Acceptable: true, Preferred: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := terms{tc.m.better(tc.my), acceptable(tc.m, tc.my), inferior(tc.m, tc.my), preferred(tc.m, tc.my)}
			diff(t, "terms", tc.want, got)
		})
	}
}
