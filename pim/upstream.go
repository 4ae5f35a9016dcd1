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
//	    RPF'(S,G); stop JT
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
// Join. ("RPF'(S,G) changes due to an Assert" and the (S,G,rpt)/(*,G)
// prune rows come with Assert and ASM.)

func (r *Router) jtRef(sg *sgEntry) timerRef { return timerRef{sg: sg, kind: timerJoin} }

// tPeriodic is t_periodic (4.11) of the RPF interface.
func (r *Router) tPeriodic(ifindex int32) time.Duration {
	if ifc := r.ifaces[int(ifindex)]; ifc != nil {
		return ifc.cfg.JoinPrunePeriod
	}
	return DefaultIfConfig().JoinPrunePeriod
}

// updateUpstream brings the upstream machine of a touched entry up to date
// with JoinDesired(S,G) and RPF'(S,G).
func (r *Router) updateUpstream(sg *sgEntry, now int64) {
	if sg.deleted {
		return
	}
	nbr := r.rpfPrime(sg)
	jd := r.joinDesired(sg)
	old := sg.up
	sg.up = nbr
	switch {
	case sg.state == NotJoined && jd:
		sg.state = Joined
		r.joinToward(sg, nbr, now)
	case sg.state == Joined && !jd:
		sg.state = NotJoined
		r.stopLazy(&sg.jt)
		if old.ifindex != 0 {
			r.queueJP(old, sg.key, false)
		}
	case sg.state == Joined && nbr != old:
		if old.ifindex != 0 {
			r.queueJP(old, sg.key, false)
		}
		r.joinToward(sg, nbr, now)
	case sg.state == Joined && nbr.ifindex != 0 && !sg.jt.running():
		// Only after a Join Timer expiry that deferred to this row
		// (joinTimerExpired) and saw RPF' come back within the event.
		r.joinToward(sg, nbr, now)
	}
}

// joinToward sends Join(S,G) to nbr and sets JT to t_periodic, or stops JT
// when nbr is NULL.
func (r *Router) joinToward(sg *sgEntry, nbr upstreamNbr, now int64) {
	if nbr.ifindex == 0 {
		r.stopLazy(&sg.jt)
		return
	}
	r.queueJP(nbr, sg.key, true)
	r.setLazy(&sg.jt, now+int64(r.tPeriodic(nbr.ifindex)), r.jtRef(sg))
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
	r.joinToward(sg, sg.up, now)
}

// seeJoin is "See Join(S,G) to RPF'(S,G)" on the RPF interface: another
// router joined for us, so our Join can wait. t_joinsuppress is the smaller
// of t_suppressed and the message's Holdtime; a Join Timer due sooner is
// pushed to it.
func (r *Router) seeJoin(sg *sgEntry, ifc *iface, target addrKey, holdtime uint16, now int64) {
	if sg.state != Joined || sg.up != (upstreamNbr{target, int32(ifc.index)}) {
		return
	}
	tj := r.tSuppressed(ifc)
	if holdtime != holdtimeForever {
		tj = min(tj, time.Duration(holdtime)*time.Second)
	}
	if to := now + int64(tj); sg.jt.running() && sg.jt.at < to {
		r.setLazy(&sg.jt, to, r.jtRef(sg))
	}
}

// seePrune is "See Prune(S,G) to RPF'(S,G)" on the RPF interface (a
// PruneEcho included): unless we override it with a Join within
// t_override, the upstream router stops forwarding.
func (r *Router) seePrune(sg *sgEntry, ifc *iface, target addrKey, now int64) {
	if sg.state != Joined || sg.up != (upstreamNbr{target, int32(ifc.index)}) {
		return
	}
	r.lowerJoinTimer(sg, ifc, now)
}

// lowerJoinTimer sets the Join Timer to t_override if it is due later.
func (r *Router) lowerJoinTimer(sg *sgEntry, ifc *iface, now int64) {
	if to := now + int64(r.tOverride(ifc)); sg.jt.running() && sg.jt.at > to {
		r.setLazy(&sg.jt, to, r.jtRef(sg))
	}
}

// rpfNeighborRestarted is "RPF'(S,G) GenID changes" for every Joined entry
// whose RPF' is nb: it lost our Join state, so we resend within t_override
// (entries in group, source order, for a deterministic use of Rand).
func (r *Router) rpfNeighborRestarted(nb *neighbor, now int64) {
	ifc := nb.ifc
	want := upstreamNbr{nb.key, int32(ifc.index)}
	var hit []*sgEntry
	for _, s := range r.sources {
		if !s.known || !s.rpf.Valid || s.rpf.IfIndex != ifc.index {
			continue
		}
		for _, sg := range s.sgs {
			if sg.state == Joined && sg.up == want {
				hit = append(hit, sg)
			}
		}
	}
	slices.SortFunc(hit, func(a, b *sgEntry) int { return a.key.compare(b.key) })
	for _, sg := range hit {
		r.lowerJoinTimer(sg, ifc, now)
	}
}
