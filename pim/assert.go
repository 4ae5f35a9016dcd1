package pim

import (
	"cmp"
	"net/netip"
	"slices"
	"time"

	"github.com/pim6sd/pim6sd/internal/timerq"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// AssertState is the state of an (S,G) or (*,G) Assert machine on one
// interface (RFC 7761 sections 4.6.1 and 4.6.2).
type AssertState uint8

// Assert states.
const (
	AssertNoInfo AssertState = iota
	AssertWinner             // I am Assert Winner
	AssertLoser              // I am Assert Loser
)

// String returns the RFC name.
func (s AssertState) String() string {
	switch s {
	case AssertWinner:
		return "Winner"
	case AssertLoser:
		return "Loser"
	}
	return "NoInfo"
}

// The (S,G) Assert machine of 4.6.1, per interface I; AT is the Assert
// Timer, A2 stores the winner and sets AT to Assert_Time, A3 sends
// Assert(S,G) and sets AT to Assert_Time - Assert_Override_Interval, A4
// sends AssertCancel(S,G), A5 forgets the winner:
//
//	NoInfo, data from S arrives on I and CouldAssert(S,G,I): -> Winner, A3
//	NoInfo, receive inferior Assert with the RPT bit set and
//	    CouldAssert(S,G,I): -> Winner, A3
//	NoInfo, receive acceptable Assert with the RPT bit clear and
//	    AssertTrackingDesired(S,G,I): -> Loser, A2; and (A6) SPTbit(S,G)
//	    = TRUE if I is RPF_interface(S) and we are Joined
//	Winner, AT expires: A3
//	Winner, receive inferior Assert: A3
//	Winner, receive preferred Assert: -> Loser, A2
//	Winner, CouldAssert(S,G,I) -> false: -> NoInfo, A4
//	Loser, receive preferred Assert: A2 (a new winner)
//	Loser, receive acceptable Assert (RPT clear) from the winner: A2
//	Loser, receive inferior Assert or AssertCancel from the winner:
//	    -> NoInfo, A5
//	Loser, AT expires; the winner's Neighbor Liveness Timer expires or
//	    its Generation ID changes; AssertTrackingDesired(S,G,I) -> false;
//	    my_assert_metric(S,G,I) becomes better than the winner's;
//	    RPF_interface(S) stops being I; receive Join(S,G) on I:
//	    -> NoInfo, A5
//
// The (*,G) machine of 4.6.2 has the same rows with CouldAssert(*,G,I),
// AssertTrackingDesired(*,G,I), rpt_assert_metric and Assert(*,G)
// messages (RPT bit set); it takes only Asserts with the RPT bit set, and
// data triggers it only while the (S,G) machine of the interface is in
// NoInfo. Asserts with the RPT bit set and a source S also go to that
// source's (S,G) machine, where they are inferior to any SPT metric.
//
// "Preferred" is better than the current winner's (or, in Winner, than
// ours); "acceptable" better than my_assert_metric; "inferior" worse than
// it. Metrics compare by RPT bit (clear wins), preference, metric, then
// the higher address (4.6.3). An Assert with an infinite metric (an
// AssertCancel, 4.6.4) is never acceptable, and no Assert is inferior
// while my_assert_metric is infinite (4.6.1): where we cannot assert (on
// the RPF interface, say) an AssertCancel must not beat our infinite
// metric on the address tie-break and make its sender our RPF'.
//
// Choices: an infinite metric is never preferred either, so the winner we
// lose to never has one; a metric is infinite when its preference and
// metric are all ones, whatever the RPT bit (infinite_assert_metric()
// sets it, FRR sends its AssertCancel(S,G) with it clear); Asserts are
// taken from neighbors only (as Join/Prunes, 4.5); an Assert sent because
// of a received inferior one is rate-limited to one per second per
// machine (the timer's and data's are not); a (*,G) Assert names the
// source of the packet that triggered it (the RP address in an
// AssertCancel(*,G), 4.6.4); every Assert goes after our Hello when the
// interface's neighbors have not all had one (4.3.1).

const (
	infPref   = 1<<31 - 1
	infMetric = 1<<32 - 1
	// assertRateLimit is the least time between two Asserts a machine
	// sends in answer to inferior ones.
	assertRateLimit = int64(time.Second)
)

// assertMetric is an assert metric of 4.6.3: the RPT bit, metric
// preference, route metric and the router's address on the link.
type assertMetric struct {
	rpt    bool
	pref   uint32
	metric uint32
	addr   addrKey
}

// better reports whether a is better than b (4.6.3).
func (a assertMetric) better(b assertMetric) bool {
	if a.rpt != b.rpt {
		return !a.rpt
	}
	if a.pref != b.pref {
		return a.pref < b.pref
	}
	if a.metric != b.metric {
		return a.metric < b.metric
	}
	return a.addr.Compare(b.addr) > 0
}

// infiniteMetric is infinite_assert_metric().
var infiniteMetric = assertMetric{rpt: true, pref: infPref, metric: infMetric}

// infinite reports whether a is an infinite metric: that of an
// AssertCancel (4.6.4), or ours where we cannot assert. The RPT bit does
// not matter: infinite_assert_metric() sets it, but FRR sends its
// AssertCancel(S,G) with the bit clear, and such an Assert would otherwise
// beat any RPT metric (ours on the RPF interface among them).
func (a assertMetric) infinite() bool { return a.pref == infPref && a.metric == infMetric }

// acceptable reports whether a received metric m is an "acceptable
// assert" against my_assert_metric my: better, and not infinite (4.6.1,
// 4.6.2).
func acceptable(m, my assertMetric) bool { return !m.infinite() && m.better(my) }

// inferior reports whether m is an "inferior assert": worse than my, which
// is not infinite (4.6.1, 4.6.2).
func inferior(m, my assertMetric) bool { return !my.infinite() && my.better(m) }

// preferred reports whether m is a "preferred assert": better than the
// current winner's metric w. An infinite metric never is (see the
// machine's comment).
func preferred(m, w assertMetric) bool { return !m.infinite() && m.better(w) }

// assertState is one Assert machine not in NoInfo.
type assertState struct {
	ifindex int32
	state   AssertState
	at      timerq.ID
	// winner is AssertWinner and AssertWinnerMetric: the winner's metric
	// and address (ours in Winner).
	winner assertMetric
	// onRPF: in Loser, I was the RPF interface when we lost; the machine
	// leaves when it stops being.
	onRPF bool
	// src is the source our Assert(*,G) names.
	src      addrKey
	lastSent int64
}

func findAssertIdx(l []assertState, i int32) (int, bool) {
	return slices.BinarySearchFunc(l, i, func(a assertState, i int32) int { return cmp.Compare(a.ifindex, i) })
}

func findAssert(l []assertState, i int32) *assertState {
	if k, ok := findAssertIdx(l, i); ok {
		return &l[k]
	}
	return nil
}

// assertOn returns the (S,G) Assert machine of interface i, nil in NoInfo.
func (sg *sgEntry) assertOn(i int32) *assertState {
	if sg.x == nil {
		return nil
	}
	return findAssert(sg.x.asserts, i)
}

// asHost is the entry an Assert machine belongs to.
type asHost struct {
	sg   *sgEntry
	star *starEntry
}

func (h asHost) list() *[]assertState {
	if h.star != nil {
		return &h.star.asserts
	}
	return &h.sg.ext().asserts
}

func (h asHost) ref(i int32) timerRef {
	if h.star != nil {
		return timerRef{star: h.star, ifindex: i, kind: timerStarAssert}
	}
	return timerRef{sg: h.sg, ifindex: i, kind: timerAssert}
}

func (r *Router) touchAsHost(h asHost) {
	if h.star != nil {
		r.touchStar(h.star)
	} else {
		r.touch(h.sg)
	}
}

// setAssert puts the machine of interface i in state with the winner, its
// Assert Timer at now+d.
func (r *Router) setAssert(h asHost, i int32, state AssertState, winner assertMetric, d time.Duration, now int64) *assertState {
	l := h.list()
	k, ok := findAssertIdx(*l, i)
	if !ok {
		*l = slices.Insert(*l, k, assertState{ifindex: i, lastSent: -1 << 62})
		r.nAsserts++
	}
	as := &(*l)[k]
	as.state, as.winner = state, winner
	r.q.Set(&as.at, r.abs(now+int64(d)), h.ref(i))
	r.touchAsHost(h)
	return as
}

// dropAssert returns the machine of interface i to NoInfo (A5).
func (r *Router) dropAssert(h asHost, i int32) {
	if h.sg != nil && h.sg.x == nil {
		return
	}
	l := h.list()
	k, ok := findAssertIdx(*l, i)
	if !ok {
		return
	}
	r.q.Stop(&(*l)[k].at)
	*l = slices.Delete(*l, k, k+1)
	r.nAsserts--
	if len(*l) == 0 {
		*l = nil
	}
	r.touchAsHost(h)
}

// The macros of 4.6.5 and 4.1.5.

// lostAssertSG is lost_assert(S,G,I).
func (r *Router) lostAssertSG(sg *sgEntry, i int32) bool {
	as := sg.assertOn(i)
	if as == nil || as.state != AssertLoser || i == sg.rpfInterface() {
		return false
	}
	return as.winner.better(r.sptMetric(sg, i))
}

// lostAssertStar is lost_assert(*,G,I).
func (r *Router) lostAssertStar(st *starEntry, i int32) bool {
	if st == nil {
		return false
	}
	as := findAssert(st.asserts, i)
	return as != nil && as.state == AssertLoser && i != r.rpIIF(st.grp)
}

// lostAssertRpt is lost_assert(S,G,rpt,I).
func (r *Router) lostAssertRpt(sg *sgEntry, i int32) bool {
	if i == r.rpIIF(sg.grp) || i == sg.rpfInterface() && sg.sptBit() {
		return false
	}
	as := sg.assertOn(i)
	return as != nil && as.state == AssertLoser
}

func (r *Router) assertWinnerSelfSG(sg *sgEntry, i int32) bool {
	as := sg.assertOn(i)
	return as != nil && as.state == AssertWinner
}

func (r *Router) assertWinnerSelfStar(st *starEntry, i int32) bool {
	if st == nil {
		return false
	}
	as := findAssert(st.asserts, i)
	return as != nil && as.state == AssertWinner
}

// sptBit is SPTbit(S,G); always true for SSM groups (there is no RP tree
// to leave, 4.8).
func (sg *sgEntry) sptBit() bool { return sg.grp.ssm || sg.x != nil && sg.x.sptBit }

// inRptPart is I in ( joins(*,G) (-) prunes(S,G,rpt) ) (+) ( pim_include(*,G)
// (-) pim_exclude(S,G) ) (-) lost_assert(*,G), the part CouldAssert(S,G,I)
// and AssertTrackingDesired(S,G,I) share.
func (r *Router) inRptPart(sg *sgEntry, i int32) bool {
	st := sg.grp.star
	if st == nil {
		return false
	}
	in := st.inJoins(i) && !sg.inPrunesRpt(i) || r.inPimIncludeStar(st, i) && !r.inPimExclude(sg, i)
	return in && !r.lostAssertStar(st, i)
}

// couldAssertSG is CouldAssert(S,G,I).
func (r *Router) couldAssertSG(sg *sgEntry, i int32) bool {
	if i <= 0 || !sg.sptBit() || sg.rpfInterface() == i {
		return false
	}
	return r.inRptPart(sg, i) || sg.inJoins(i) || r.inPimIncludeSG(sg, i)
}

// trackingSG is AssertTrackingDesired(S,G,I).
func (r *Router) trackingSG(sg *sgEntry, i int32) bool {
	if r.inRptPart(sg, i) || sg.inJoins(i) {
		return true
	}
	if inSorted(sg.local, i) {
		if ifc := r.ifaces[int(i)]; ifc != nil && ifc.iAmDR() || r.assertWinnerSelfSG(sg, i) {
			return true
		}
	}
	if sg.rpfInterface() == i && r.joinDesired(sg) {
		return true
	}
	return r.rpIIF(sg.grp) == i && sg.grp.rptJoinDesired() && !sg.sptBit()
}

// couldAssertStar is CouldAssert(*,G,I).
func (r *Router) couldAssertStar(st *starEntry, i int32) bool {
	return i > 0 && (st.inJoins(i) || r.inPimIncludeStar(st, i)) && r.rpIIF(st.grp) != i
}

// trackingStar is AssertTrackingDesired(*,G,I).
func (r *Router) trackingStar(st *starEntry, i int32) bool {
	if r.couldAssertStar(st, i) {
		return true
	}
	if inSorted(st.local, i) {
		if ifc := r.ifaces[int(i)]; ifc != nil && ifc.iAmDR() || r.assertWinnerSelfStar(st, i) {
			return true
		}
	}
	return r.rpIIF(st.grp) == i && st.state == Joined
}

// routeMetric is an assert metric from the route to s.
func (r *Router) routeMetric(s *source, rpt bool, i int32) assertMetric {
	m := assertMetric{rpt: rpt, pref: infPref, metric: infMetric}
	if s != nil && s.known && s.rpf.Valid {
		m.pref, m.metric = min(s.rpf.Preference, infPref), s.rpf.Metric
	}
	if ifc := r.ifaces[int(i)]; ifc != nil {
		m.addr = keyOf(ifc.self)
	}
	return m
}

// sptMetric is spt_assert_metric(S,I).
func (r *Router) sptMetric(sg *sgEntry, i int32) assertMetric { return r.routeMetric(sg.src, false, i) }

// rptMetric is rpt_assert_metric(G,I); the RP itself is at distance 0.
func (r *Router) rptMetric(g *group, i int32) assertMetric {
	if r.iAmRP(g) {
		m := r.routeMetric(nil, true, i)
		m.pref, m.metric = 0, 0
		return m
	}
	return r.routeMetric(g.rpSrc, true, i)
}

// myMetricSG is my_assert_metric(S,G,I).
func (r *Router) myMetricSG(sg *sgEntry, i int32) assertMetric {
	switch {
	case r.couldAssertSG(sg, i):
		return r.sptMetric(sg, i)
	case sg.grp.star != nil && r.couldAssertStar(sg.grp.star, i):
		return r.rptMetric(sg.grp, i)
	}
	return infiniteMetric
}

// myMetricStar is my_assert_metric for the (*,G) machine.
func (r *Router) myMetricStar(st *starEntry, i int32) assertMetric {
	if r.couldAssertStar(st, i) {
		return r.rptMetric(st.grp, i)
	}
	return infiniteMetric
}

// receiveAssert handles an Assert from the neighbor src on ifc (4.6).
func (r *Router) receiveAssert(ifc *iface, now int64, src netip.Addr, a *pimmsg.Assert) {
	g := a.Group.Addr.WithZone("")
	if a.Group.MaskLen != 128 || !validGroup(g) {
		ifc.stats.drop(DropGroup)
		return
	}
	gk := keyOf(g)
	grp := r.groups[gk]
	ssm := r.cfg.isSSM(g)
	i := int32(ifc.index)
	m := assertMetric{rpt: a.RPT, pref: a.MetricPreference, metric: a.Metric, addr: keyOf(src)}
	s := a.Source.WithZone("")
	if !a.RPT && s.IsUnspecified() && m.infinite() {
		// An AssertCancel(*,G) with the RPT bit clear (FRR sends it so):
		// a source of :: names no (S,G), and the infinite metric is
		// infinite_assert_metric(), whose RPT bit is set (4.6.4).
		m.rpt = true
	}
	if !m.rpt {
		if !validSource(s) {
			ifc.stats.drop(DropSource)
			return
		}
		k := sgKey{gk, keyOf(s)}
		sg := r.sgs[k]
		if sg == nil && grp != nil && grp.star != nil {
			// (S,G) tracking through the RP tree needs an entry
			// (AssertTrackingDesired(S,G,I) via (*,G) state).
			st := grp.star
			if st.inJoins(i) || r.inPimIncludeStar(st, i) || r.rpIIF(grp) == i && st.state == Joined {
				sg = r.getSG(k, ifc)
			}
		}
		if sg == nil {
			ifc.stats.drop(DropAssertNoState)
			return
		}
		r.sgAssertReceived(sg, ifc, m, now)
		return
	}
	if ssm {
		ifc.stats.drop(DropSSMShared)
		return
	}
	used := false
	if grp != nil && grp.star != nil {
		r.starAssertReceived(grp.star, ifc, m, s, now)
		used = true
	}
	if validSource(s) {
		if sg := r.sgs[sgKey{gk, keyOf(s)}]; sg != nil {
			r.sgAssertReceived(sg, ifc, m, now)
			used = true
		}
	}
	if !used {
		ifc.stats.drop(DropAssertNoState)
	}
}

// sgAssertReceived is "Receive Assert" of the (S,G) machine on ifc.
func (r *Router) sgAssertReceived(sg *sgEntry, ifc *iface, m assertMetric, now int64) {
	i := int32(ifc.index)
	h := asHost{sg: sg}
	as := sg.assertOn(i)
	my := r.myMetricSG(sg, i)
	switch {
	case as == nil:
		switch {
		case m.rpt && inferior(m, my) && r.couldAssertSG(sg, i):
			r.assertWin(h, i, addrKey{}, now, true)
		case !m.rpt && acceptable(m, my) && r.trackingSG(sg, i):
			as = r.setAssert(h, i, AssertLoser, m, r.cfg.AssertTime, now)
			as.onRPF = i == sg.rpfInterface()
			if as.onRPF && sg.state == Joined {
				sg.ext().sptBit = true // A6
			}
		}
	case as.state == AssertWinner:
		switch {
		case inferior(m, my):
			r.assertWin(h, i, addrKey{}, now, false)
		case preferred(m, my):
			r.setAssert(h, i, AssertLoser, m, r.cfg.AssertTime, now).onRPF = i == sg.rpfInterface()
		}
	case m.addr == as.winner.addr:
		switch {
		case m.infinite() || inferior(m, my):
			r.dropAssert(h, i)
		case !m.rpt && acceptable(m, my):
			r.setAssert(h, i, AssertLoser, m, r.cfg.AssertTime, now)
		}
	case preferred(m, as.winner):
		r.setAssert(h, i, AssertLoser, m, r.cfg.AssertTime, now)
	}
}

// starAssertReceived is "Receive Assert" (RPT bit set) of the (*,G)
// machine on ifc; src is the source the Assert names.
func (r *Router) starAssertReceived(st *starEntry, ifc *iface, m assertMetric, src netip.Addr, now int64) {
	i := int32(ifc.index)
	h := asHost{star: st}
	as := findAssert(st.asserts, i)
	my := r.myMetricStar(st, i)
	var sk addrKey
	if validSource(src) {
		sk = keyOf(src)
	}
	switch {
	case as == nil:
		switch {
		case inferior(m, my) && r.couldAssertStar(st, i):
			r.assertWin(h, i, sk, now, true)
		case acceptable(m, my) && r.trackingStar(st, i):
			r.setAssert(h, i, AssertLoser, m, r.cfg.AssertTime, now).onRPF = i == r.rpIIF(st.grp)
		}
	case as.state == AssertWinner:
		switch {
		case inferior(m, my):
			r.assertWin(h, i, as.src, now, false)
		case preferred(m, my):
			r.setAssert(h, i, AssertLoser, m, r.cfg.AssertTime, now).onRPF = i == r.rpIIF(st.grp)
		}
	case m.addr == as.winner.addr:
		switch {
		case m.infinite() || inferior(m, my):
			r.dropAssert(h, i)
		case acceptable(m, my):
			r.setAssert(h, i, AssertLoser, m, r.cfg.AssertTime, now)
		}
	case preferred(m, as.winner):
		r.setAssert(h, i, AssertLoser, m, r.cfg.AssertTime, now)
	}
}

// assertWin is A3 (and A1): we are the winner; our Assert goes out (unless
// an answer to an inferior Assert came too soon after the last one) and
// AT = Assert_Time - Assert_Override_Interval.
func (r *Router) assertWin(h asHost, i int32, src addrKey, now int64, force bool) {
	var my assertMetric
	if h.star != nil {
		my = r.rptMetric(h.star.grp, i)
	} else {
		my = r.sptMetric(h.sg, i)
	}
	as := r.setAssert(h, i, AssertWinner, my, r.cfg.AssertTime-assertOverrideInterval, now)
	if src != (addrKey{}) {
		as.src = src
	}
	if !force && now-as.lastSent < assertRateLimit {
		if ifc := r.ifaces[int(i)]; ifc != nil {
			ifc.stats.drop(DropAssertRate)
		}
		return
	}
	as.lastSent = now
	r.sendAssert(h, i, my, as.src, now)
}

// sendAssert emits Assert(S,G) or Assert(*,G) with metric m on interface
// i, after our Hello if the neighbors there have not all had one (4.3.1).
func (r *Router) sendAssert(h asHost, i int32, m assertMetric, src addrKey, now int64) {
	ifc := r.ifaces[int(i)]
	if ifc == nil {
		return
	}
	r.helloFirst(ifc, now)
	a := &pimmsg.Assert{RPT: m.rpt, MetricPreference: m.pref, Metric: m.metric}
	if h.star != nil {
		a.Group = pimmsg.Group{Addr: h.star.grp.key.Addr(), MaskLen: 128}
		a.Source = netip.IPv6Unspecified()
		if src != (addrKey{}) {
			a.Source = src.Addr()
		}
	} else {
		a.Group = pimmsg.Group{Addr: h.sg.key.g.Addr(), MaskLen: 128}
		a.Source = h.sg.key.s.Addr()
	}
	kind := SentAssert
	if m.infinite() {
		kind = SentAssertCancel
	}
	r.emit(SendPIM{IfIndex: ifc.index, Src: ifc.self, Dst: AllPIMRouters, Msg: a})
	ifc.stats.sentMsg(kind)
}

// assertData is "data arrives on I" with the RPF check failed (4.2): an
// interface we forward on got the packet from another forwarder.
func (r *Router) assertData(sg *sgEntry, i int32, now int64) {
	if sg.sptBit() {
		if sg.assertOn(i) == nil && r.couldAssertSG(sg, i) {
			r.assertWin(asHost{sg: sg}, i, addrKey{}, now, true)
		}
		return
	}
	st := sg.grp.star
	if st == nil || findAssert(st.asserts, i) != nil || sg.assertOn(i) != nil || !r.couldAssertStar(st, i) {
		return
	}
	if !r.inInheritedRpt(sg, i) {
		return
	}
	r.assertWin(asHost{star: st}, i, sg.key.s, now, true)
}

// updateSGAsserts runs the rows of the (S,G) machines that depend on other
// state, when an event ends: a winner that can no longer assert cancels
// (A4); a loser that no longer tracks, whose own metric became better, or
// whose RPF interface moved, forgets (A5).
func (r *Router) updateSGAsserts(sg *sgEntry, now int64) {
	if sg.deleted || sg.x == nil || len(sg.x.asserts) == 0 {
		return
	}
	h := asHost{sg: sg}
	for _, i := range assertIfs(sg.x.asserts, r.asBuf[:0]) {
		as := sg.assertOn(i)
		switch {
		case as.state == AssertWinner && !r.couldAssertSG(sg, i):
			r.dropAssert(h, i)
			r.sendAssert(h, i, r.cancelMetric(i), addrKey{}, now)
		case as.state == AssertLoser && (!r.trackingSG(sg, i) || r.myMetricSG(sg, i).better(as.winner) ||
			as.onRPF && sg.rpfInterface() != i):
			r.dropAssert(h, i)
		}
	}
}

// updateStarAsserts is updateSGAsserts for the (*,G) machines.
func (r *Router) updateStarAsserts(st *starEntry, now int64) {
	if st.deleted || len(st.asserts) == 0 {
		return
	}
	h := asHost{star: st}
	for _, i := range assertIfs(st.asserts, r.asBuf[:0]) {
		as := findAssert(st.asserts, i)
		switch {
		case as.state == AssertWinner && !r.couldAssertStar(st, i):
			r.dropAssert(h, i)
			r.sendAssert(h, i, r.cancelMetric(i), st.grp.rp, now)
		case as.state == AssertLoser && (!r.trackingStar(st, i) || r.myMetricStar(st, i).better(as.winner) ||
			as.onRPF && r.rpIIF(st.grp) != i):
			r.dropAssert(h, i)
		}
	}
}

// cancelMetric is the metric of an AssertCancel (4.6.4): infinite, RPT set.
func (r *Router) cancelMetric(i int32) assertMetric {
	m := infiniteMetric
	if ifc := r.ifaces[int(i)]; ifc != nil {
		m.addr = keyOf(ifc.self)
	}
	return m
}

func assertIfs(l []assertState, out []int32) []int32 {
	for i := range l {
		out = append(out, l[i].ifindex)
	}
	return out
}

// assertTimerExpired is "AT expires": the winner asserts again (A3), the
// loser forgets (A5).
func (r *Router) assertTimerExpired(h asHost, as *assertState, now int64) {
	if as.state == AssertWinner {
		r.assertWin(h, as.ifindex, as.src, now, true)
		return
	}
	r.dropAssert(h, as.ifindex)
}

// assertWinnerGone forgets the Asserts nb won: its Neighbor Liveness Timer
// expired, it said goodbye or it restarted (4.6.1, 4.6.2).
func (r *Router) assertWinnerGone(nb *neighbor) {
	if r.nAsserts == 0 {
		return
	}
	i := int32(nb.ifc.index)
	for _, g := range r.groups {
		if st := g.star; st != nil {
			if as := findAssert(st.asserts, i); as != nil && as.state == AssertLoser && as.winner.addr == nb.key {
				r.dropAssert(asHost{star: st}, i)
			}
		}
		for _, sg := range g.sgs {
			if as := sg.assertOn(i); as != nil && as.state == AssertLoser && as.winner.addr == nb.key {
				r.dropAssert(asHost{sg: sg}, i)
			}
		}
	}
}

// dropAssertsOn forgets every Assert machine of interface i (the interface
// is going away).
func (r *Router) dropAssertsOn(i int32) {
	if r.nAsserts == 0 {
		return
	}
	for _, g := range r.groups {
		if st := g.star; st != nil && findAssert(st.asserts, i) != nil {
			r.dropAssert(asHost{star: st}, i)
		}
		for _, sg := range g.sgs {
			if sg.assertOn(i) != nil {
				r.dropAssert(asHost{sg: sg}, i)
			}
		}
	}
}
