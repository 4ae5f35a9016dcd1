package pim

import (
	"net/netip"
	"testing"
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
