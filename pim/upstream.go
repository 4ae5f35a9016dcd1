package pim

import (
	"slices"
	"time"
)

// The upstream (S,G) state machine of RFC 7761 section 4.5.5: NotJoined and
// Joined, with the Join Timer JT(S,G).
//
//	NotJoined, JoinDesired(S,G) -> true:  -> Joined; send Join(S,G) to
//	    RPF'(S,G); JT = t_periodic
//	Joined, JoinDesired(S,G) -> false:    -> NotJoined; send Prune(S,G) to
//	    RPF'(S,G); set SPTbit(S,G) to FALSE; stop JT
//	Joined, JT expires:                   send Join(S,G) to RPF'(S,G);
//	    JT = t_periodic
//	Joined, see Join(S,G) to RPF'(S,G):   JT = max(JT, t_joinsuppress)
//	Joined, see Prune(S,G) to RPF'(S,G):  JT = min(JT, t_override)
//	Joined, RPF'(S,G) GenID changes:      JT = min(JT, t_override)
//	Joined, RPF'(S,G) changes (not by an Assert): send Join(S,G) to the
//	    new RPF'(S,G), Prune(S,G) to the old; JT = t_periodic
//
// JoinDesired and RPF' are inputs computed from other state; updateUpstream
// compares them with the machine at the end of each event. Joins to a NULL
// RPF' are not sent, and then the Join Timer does not run: it starts when
// RPF' becomes a neighbor, through the "RPF' changes" row, which sends the
// Join.
//
//	Joined, RPF'(S,G) changes due to an Assert: JT = min(JT, t_override)
//	Joined, see Prune(S,G,rpt) or Prune(*,G) to RPF'(S,G):
//	    JT = min(JT, t_override)
//
// The (*,G) machine of 4.5.4 has the same rows (starg.go) but for the SPT
// bit; runUpstream is shared.
//
// The SPT bit cleared on leaving Joined is an input of the machines that
// run after this one in the event: PruneDesired(S,G,rpt) (4.5.7), so that
// an (S,G,rpt) Prune sent while we were on the SPT is withdrawn by a
// triggered Join(S,G,rpt) at once (sgrpt.go), and CouldAssert(S,G,I)
// (4.6.1), whose Assert rows ran earlier in the event and run again.

func (r *Router) jtRef(sg *sgEntry) timerRef { return timerRef{sg: sg, kind: timerJoin} }

// tPeriodic is t_periodic (4.11) of the RPF interface.
func (r *Router) tPeriodic(ifindex int32) time.Duration {
	if ifc := r.ifaces[int(ifindex)]; ifc != nil {
		return ifc.cfg.JoinPrunePeriod
	}
	return DefaultIfConfig().JoinPrunePeriod
}

// sgItem is the Join/Prune entry of an (S,G).
func sgItem(k sgKey) jpItem { return jpItem{g: k.g, s: k.s, kind: jpSG} }

// updateUpstream brings the upstream machine of a touched entry up to date
// with JoinDesired(S,G) and RPF'(S,G).
func (r *Router) updateUpstream(sg *sgEntry, now int64) {
	if sg.deleted {
		return
	}
	nbr := r.rpfPrime(sg)
	it := sgItem(sg.key)
	wasJoined := sg.state == Joined
	r.runUpstream(&sg.upstream, nbr, nbr != r.rpfMRIB(sg), r.joinDesired(sg), false, now, r.jtRef(sg), it, it)
	if x := sg.x; wasJoined && sg.state == NotJoined && x != nil && x.sptBit && !sg.grp.ssm {
		x.sptBit = false
		r.updateSGAsserts(sg, now)
	}
	// Where RPF_interface(S) is also the RP tree's interface, the kernel
	// entry that carries the source's data already takes it from there:
	// joining (S,G) changes nothing the kernel can see, so no upcall will
	// report the next packet, which is the one Update_SPTbit (4.2.2)
	// waits for. Data is flowing on that very interface (the entry is a
	// cache entry installed for it), so take the packet as arrived now
	// rather than at the next counter poll: an (S,G) Assert needs the SPT
	// bit (4.6.1), and until then both forwarders on a LAN send duplicates.
	if x := sg.x; x != nil && x.cache && !x.sptBit && sg.upstream.state == Joined &&
		sg.iif != 0 && sg.iif == sg.rpfInterface() {
		r.updateSPTbit(sg, sg.iif)
	}
}

// runUpstream runs the upstream machine m (4.5.4 for (*,G), 4.5.5 for
// (S,G)) against the final JoinDesired (jd) and RPF' (nbr; byAssert: it is
// an Assert winner) of the event; rpChanged says that RP(G) changed under
// a (*,G). join is the entry our Joins name, prune the one a Prune to the
// old RPF' names (for (*,G), the RP it was joined with).
//
// A change of RPF' is "due to an Assert" when the new or the old RPF' is
// an Assert winner on the same interface (an Assert never moves RPF' to
// another interface: that is routing). A change of the MRIB next hop on
// the interface at the same instant as an Assert change is then taken as
// the Assert's: the Join goes within t_override and the old neighbor gets
// no Prune, which its Join/Prune Holdtime covers. (Telling them apart
// would cost each entry the MRIB neighbor it last saw.)
func (r *Router) runUpstream(m *upstream, nbr upstreamNbr, byAssert, jd, rpChanged bool, now int64, ref timerRef, join, prune jpItem) {
	old, oldByAssert := m.up, m.byAssert
	m.up, m.byAssert = nbr, byAssert
	switch {
	case m.state == NotJoined && jd:
		m.state = Joined
		r.joinToward(m, nbr, now, ref, join)
	case m.state == Joined && !jd:
		m.state = NotJoined
		r.stopLazy(&m.jt)
		if old.ifindex != 0 {
			r.queueJP(old, prune, false)
		}
	case m.state == Joined && nbr != old && (byAssert || oldByAssert) && !rpChanged && nbr.ifindex != 0 && nbr.ifindex == old.ifindex:
		// RPF' changes due to an Assert: the new neighbor gets our Join
		// within t_override; no Prune to the old one, which lost or won
		// the Assert and forwards as the Assert says (4.5.4, 4.5.5).
		if !m.jt.running() {
			r.setLazy(&m.jt, now+int64(r.tOverride(r.ifaces[int(nbr.ifindex)])), ref)
		} else {
			r.lowerJoinTimer(m, r.ifaces[int(nbr.ifindex)], now, ref)
		}
	case m.state == Joined && (nbr != old || rpChanged):
		if old.ifindex != 0 {
			r.queueJP(old, prune, false)
		}
		r.joinToward(m, nbr, now, ref, join)
	case m.state == Joined && nbr.ifindex != 0 && !m.jt.running():
		// Only after a Join Timer expiry that deferred to this row
		// (joinTimerExpired) and saw RPF' come back within the event.
		r.joinToward(m, nbr, now, ref, join)
	}
}

// joinToward sends the Join to nbr and sets JT to t_periodic, or stops JT
// when nbr is NULL.
func (r *Router) joinToward(m *upstream, nbr upstreamNbr, now int64, ref timerRef, it jpItem) {
	if nbr.ifindex == 0 {
		r.stopLazy(&m.jt)
		return
	}
	r.queueJP(nbr, it, true)
	r.setLazy(&m.jt, now+int64(r.tPeriodic(nbr.ifindex)), ref)
}

// joinTimerExpired is "Timer Expires" in Joined: the periodic Join. When
// RPF' changed in this same event, the "RPF' changes" row (run when the
// event ends) sends the Join instead.
func (r *Router) joinTimerExpired(sg *sgEntry, now int64) {
	if sg.state != Joined {
		return
	}
	if nbr := r.rpfPrime(sg); nbr != sg.up || nbr.ifindex == 0 {
		r.touch(sg)
		return
	}
	r.joinToward(&sg.upstream, sg.up, now, r.jtRef(sg), sgItem(sg.key))
}

// seeJoin is "See Join to RPF'" on the RPF interface (4.5.4, 4.5.5):
// another router joined for us, so our Join can wait. t_joinsuppress is
// the smaller of t_suppressed and the message's Holdtime; a Join Timer due
// sooner is pushed to it.
func (r *Router) seeJoin(m *upstream, ref timerRef, ifc *iface, target addrKey, holdtime uint16, now int64) {
	if m.state != Joined || m.up != (upstreamNbr{target, int32(ifc.index)}) {
		return
	}
	tj := r.tSuppressed(ifc)
	if holdtime != holdtimeForever {
		tj = min(tj, time.Duration(holdtime)*time.Second)
	}
	if to := now + int64(tj); m.jt.running() && m.jt.at < to {
		r.setLazy(&m.jt, to, ref)
	}
}

// seePrune is "See Prune to RPF'" on the RPF interface (a PruneEcho
// included), and for (S,G) also "See Prune(S,G,rpt) to RPF'(S,G)" and "See
// Prune(*,G) to RPF'(S,G)": unless we override it with a Join within
// t_override, the upstream router stops forwarding.
func (r *Router) seePrune(m *upstream, ref timerRef, ifc *iface, target addrKey, now int64) {
	if m.state != Joined || m.up != (upstreamNbr{target, int32(ifc.index)}) {
		return
	}
	r.lowerJoinTimer(m, ifc, now, ref)
}

// lowerJoinTimer sets the Join Timer to t_override if it is due later.
func (r *Router) lowerJoinTimer(m *upstream, ifc *iface, now int64, ref timerRef) {
	if ifc == nil {
		return
	}
	if to := now + int64(r.tOverride(ifc)); m.jt.running() && m.jt.at > to {
		r.setLazy(&m.jt, to, ref)
	}
}

// rpfNeighborRestarted is "RPF' GenID changes" for every Joined (S,G) and
// (*,G) entry whose RPF' is nb: it lost our Join state, so we resend
// within t_override (entries in group, source order, (*,G) first, for a
// deterministic use of Rand). Assert state won by nb is forgotten (4.6.1,
// 4.6.2: "current winner's GenID changes").
func (r *Router) rpfNeighborRestarted(nb *neighbor, now int64) {
	ifc := nb.ifc
	want := upstreamNbr{nb.key, int32(ifc.index)}
	var hit []*sgEntry
	var stars []*starEntry
	for _, s := range r.sources {
		if !s.known || !s.rpf.Valid || s.rpf.IfIndex != ifc.index {
			continue
		}
		for _, sg := range s.sgs {
			if sg.state == Joined && sg.up == want {
				hit = append(hit, sg)
			}
		}
		for _, g := range s.rpGroups {
			if st := g.star; st != nil && st.state == Joined && st.up == want {
				stars = append(stars, st)
			}
		}
	}
	slices.SortFunc(stars, func(a, b *starEntry) int { return a.grp.key.Compare(b.grp.key) })
	for _, st := range stars {
		r.lowerJoinTimer(&st.upstream, ifc, now, r.starJTRef(st))
	}
	slices.SortFunc(hit, func(a, b *sgEntry) int { return a.key.compare(b.key) })
	for _, sg := range hit {
		r.lowerJoinTimer(&sg.upstream, ifc, now, r.jtRef(sg))
	}
	r.assertWinnerGone(nb)
}
