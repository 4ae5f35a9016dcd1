package pim

import (
	"cmp"
	"slices"
	"time"

	"github.com/pim6sd/pim6sd/internal/timerq"
)

// RPTDownState is the downstream (S,G,rpt) state of an interface (RFC 7761
// section 4.5.3).
type RPTDownState uint8

// Downstream (S,G,rpt) states. The Tmp states live only while a Join/Prune
// message is processed: a Join(*,G) moves Prune to PruneTmp, a Prune(S,G,rpt)
// later in the message moves it back, and the end of the message sends
// what is still Tmp to NoInfo.
const (
	RPTNoInfo RPTDownState = iota
	RPTPrune
	RPTPrunePending
	RPTPruneTmp
	RPTPrunePendingTmp
)

// String returns the RFC name.
func (s RPTDownState) String() string {
	switch s {
	case RPTPrune:
		return "Prune"
	case RPTPrunePending:
		return "Prune-Pending"
	case RPTPruneTmp:
		return "PruneTmp"
	case RPTPrunePendingTmp:
		return "Prune-Pending-Tmp"
	}
	return "NoInfo"
}

// RPTState is the upstream (S,G,rpt) state (RFC 7761 section 4.5.7).
type RPTState uint8

// Upstream (S,G,rpt) states.
const (
	RPTNotJoined RPTState = iota // RPTNotJoined(G): (*,G) is not Joined
	RPTPruned                    // Pruned(S,G,rpt)
	RPTNotPruned                 // NotPruned(S,G,rpt)
)

// String returns the RFC name.
func (s RPTState) String() string {
	switch s {
	case RPTPruned:
		return "Pruned"
	case RPTNotPruned:
		return "NotPruned"
	}
	return "RPTNotJoined"
}

// rptDownstream is the downstream (S,G,rpt) machine of one interface, with
// its Expiry Timer and Prune-Pending Timer.
type rptDownstream struct {
	ifindex int32
	state   RPTDownState
	forever bool // the Prune's Holdtime was 0xffff
	et      lazyTimer
	ppt     timerq.ID
}

func (x *sgExt) findRpt(i int32) (int, bool) {
	return slices.BinarySearchFunc(x.rptDown, i, func(d rptDownstream, i int32) int { return cmp.Compare(d.ifindex, i) })
}

// rptDownstream returns the (S,G,rpt) state of interface i, nil in NoInfo.
func (x *sgExt) rptDownstream(i int32) *rptDownstream {
	if k, ok := x.findRpt(i); ok {
		return &x.rptDown[k]
	}
	return nil
}

func (r *Router) dropRptDownstream(sg *sgEntry, i int32) bool {
	x := sg.x
	if x == nil {
		return false
	}
	k, ok := x.findRpt(i)
	if !ok {
		return false
	}
	d := &x.rptDown[k]
	r.stopLazy(&d.et)
	r.q.Stop(&d.ppt)
	x.rptDown = slices.Delete(x.rptDown, k, k+1)
	if len(x.rptDown) == 0 {
		x.rptDown = nil
	}
	return true
}

// The downstream (S,G,rpt) machine of 4.5.3, per interface I:
//
//	Receive Join(*,G):       Prune -> PruneTmp; Prune-Pending ->
//	                         Prune-Pending-Tmp
//	Receive Join(S,G,rpt):   Prune, Prune-Pending -> NoInfo (timers stop)
//	Receive Prune(S,G,rpt):  NoInfo -> Prune-Pending: PPT =
//	                         J/P_Override_Interval(I) (0 with one
//	                         neighbor), ET = Holdtime;
//	                         Prune -> Prune, PruneTmp -> Prune,
//	                         Prune-Pending-Tmp -> Prune-Pending: ET raised
//	                         to the Holdtime; Prune-Pending: ET raised
//	PPT expires:             Prune-Pending -> Prune (no PruneEcho);
//	                         Prune-Pending-Tmp -> PruneTmp
//	ET expires:              any -> NoInfo
//	End of Message:          PruneTmp, Prune-Pending-Tmp -> NoInfo
//
// prunes(S,G,rpt) are the interfaces in Prune or PruneTmp.

func (sg *sgEntry) rptETRef(i int32) timerRef {
	return timerRef{sg: sg, ifindex: i, kind: timerRptExpiry}
}

func (r *Router) raiseRptExpiry(sg *sgEntry, d *rptDownstream, holdtime uint16, now int64) {
	switch {
	case d.forever:
	case holdtime == holdtimeForever:
		r.stopLazy(&d.et)
		d.forever = true
	default:
		to := now + int64(holdtime)*int64(time.Second)
		if !d.et.running() || to > d.et.at {
			r.setLazy(&d.et, to, sg.rptETRef(d.ifindex))
		}
	}
}

// rptSeeStarJoin is "Receive Join(*,G)" for the (S,G,rpt) machines of the
// group on interface i. It reports whether any moved to a Tmp state (the
// message's end must then be processed).
func (r *Router) rptSeeStarJoin(g *group, i int32) bool {
	moved := false
	for _, sg := range g.sgs {
		if sg.x == nil {
			continue
		}
		d := sg.x.rptDownstream(i)
		switch {
		case d == nil:
		case d.state == RPTPrune:
			d.state = RPTPruneTmp
			moved = true
		case d.state == RPTPrunePending:
			d.state = RPTPrunePendingTmp
			moved = true
		}
	}
	return moved
}

// rptEndOfMessage is "End of Message" for the group's machines on i.
func (r *Router) rptEndOfMessage(g *group, i int32) {
	for _, sg := range g.sgs {
		if sg.x == nil {
			continue
		}
		if d := sg.x.rptDownstream(i); d != nil && (d.state == RPTPruneTmp || d.state == RPTPrunePendingTmp) {
			r.dropRptDownstream(sg, i)
			r.touch(sg)
		}
	}
}

// rptReceiveJoin is "Receive Join(S,G,rpt)" on ifc.
func (r *Router) rptReceiveJoin(sg *sgEntry, ifc *iface) {
	if sg.x == nil {
		return
	}
	if d := sg.x.rptDownstream(int32(ifc.index)); d != nil && (d.state == RPTPrune || d.state == RPTPrunePending) {
		r.dropRptDownstream(sg, d.ifindex)
		r.touch(sg)
	}
}

// rptReceivePrune is "Receive Prune(S,G,rpt)" on ifc. A Holdtime of 0
// creates no state (its ET would expire at once).
func (r *Router) rptReceivePrune(sg *sgEntry, ifc *iface, holdtime uint16, now int64) {
	i := int32(ifc.index)
	x := sg.ext()
	d := x.rptDownstream(i)
	if d == nil {
		if holdtime == 0 {
			return
		}
		k, _ := x.findRpt(i)
		x.rptDown = slices.Insert(x.rptDown, k, rptDownstream{ifindex: i, state: RPTPrunePending})
		d = &x.rptDown[k]
		r.raiseRptExpiry(sg, d, holdtime, now)
		r.touch(sg)
		if len(ifc.neighbors) > 1 {
			r.q.Set(&d.ppt, r.abs(now+int64(ifc.jpOverrideInterval())), timerRef{sg: sg, ifindex: i, kind: timerRptPrunePending})
		} else {
			d.state = RPTPrune
		}
		return
	}
	switch d.state {
	case RPTPruneTmp:
		d.state = RPTPrune
	case RPTPrunePendingTmp:
		d.state = RPTPrunePending
	}
	r.raiseRptExpiry(sg, d, holdtime, now)
	r.touch(sg)
}

// rptPrunePendingExpired is "PPT(S,G,rpt,I) expires".
func (r *Router) rptPrunePendingExpired(sg *sgEntry, d *rptDownstream) {
	switch d.state {
	case RPTPrunePending:
		d.state = RPTPrune
	case RPTPrunePendingTmp:
		d.state = RPTPruneTmp
	}
	r.touch(sg)
}

// The upstream (S,G,rpt) machine of 4.5.7 ("(S,G,rpt) Triggered Messages"), run when an event ends:
//
//	RPTNotJoined, PruneDesired(S,G,rpt) -> true: -> Pruned
//	RPTNotJoined, inherited_olist(S,G,rpt) -> non-NULL: -> NotPruned
//	Pruned, PruneDesired(S,G,rpt) -> false: -> NotPruned; send
//	    Join(S,G,rpt) to RPF'(S,G,rpt)
//	Pruned, RPTJoinDesired(G) -> false: -> RPTNotJoined
//	NotPruned, PruneDesired(S,G,rpt) -> true: -> Pruned; send
//	    Prune(S,G,rpt) to RPF'(S,G,rpt); stop OT
//	NotPruned, RPTJoinDesired(G) -> false: -> RPTNotJoined; stop OT
//	NotPruned, OT expires: send Join(S,G,rpt) to RPF'(S,G,rpt)
//	NotPruned, see Prune(S,G,rpt) or Prune(S,G) to RPF'(S,G,rpt):
//	    OT = min(OT, t_override)
//	NotPruned, see Join(S,G,rpt) to RPF'(S,G,rpt): stop OT
//	NotPruned, RPF'(S,G,rpt) -> RPF'(*,G): OT = min(OT, t_override)
//
// with PruneDesired(S,G,rpt) = RPTJoinDesired(G) AND (inherited_olist(S,G,rpt)
// == NULL OR (SPTbit(S,G) AND RPF'(*,G) != RPF'(S,G))).
//
// Choice: entering Pruned from RPTNotJoined sends the Prune(S,G,rpt) at
// once rather than waiting for the next periodic Join(*,G) (a new excluded
// source, or a new entry on a joined tree, is pruned now); it is the same
// message entry the Join(*,G) of this event, if any, carries anyway.
// (S,G,rpt) Prunes are refreshed only by the periodic Join(*,G) they ride
// with (4.5.6), so one toward an RPF'(S,G,rpt) other than RPF'(*,G) (after
// an Assert) is sent once.

// rpfPrimeRpt is RPF'(S,G,rpt) (4.1.5): the (S,G) Assert winner on
// RPF_interface(RP(G)) if we lost there, else RPF'(*,G).
func (r *Router) rpfPrimeRpt(sg *sgEntry) upstreamNbr {
	g := sg.grp
	if i := r.rpIIF(g); i > 0 {
		if as := sg.assertOn(i); as != nil && as.state == AssertLoser {
			return upstreamNbr{addr: as.winner.addr, ifindex: i}
		}
	}
	return r.rpfPrimeStar(g)
}

// pruneDesired is PruneDesired(S,G,rpt).
func (r *Router) pruneDesired(sg *sgEntry) bool {
	g := sg.grp
	if !g.rptJoinDesired() {
		return false
	}
	r.rptBuf = r.inheritedOlistRpt(sg, r.rptBuf)
	if len(r.rptBuf) == 0 {
		return true
	}
	return sg.x != nil && sg.x.sptBit && r.rpfPrimeStar(g) != r.rpfPrime(sg)
}

func rptItem(k sgKey) jpItem { return jpItem{g: k.g, s: k.s, kind: jpSGRpt} }

// updateRptUpstream runs the upstream (S,G,rpt) machine of a touched entry.
func (r *Router) updateRptUpstream(sg *sgEntry, now int64) {
	if sg.deleted || sg.grp.ssm {
		return
	}
	g := sg.grp
	rjd := g.rptJoinDesired()
	if sg.x == nil && !rjd {
		return
	}
	x := sg.ext()
	up := r.rpfPrimeRpt(sg)
	oldUp := x.rptUp
	x.rptUp = up
	pd := rjd && r.pruneDesired(sg)
	switch x.rpt {
	case RPTNotJoined:
		switch {
		case pd:
			x.rpt = RPTPruned
			if up.ifindex != 0 {
				r.queueJP(up, rptItem(sg.key), false)
			}
		case rjd && len(r.inheritedOlistRpt(sg, r.rptBuf)) > 0:
			x.rpt = RPTNotPruned
		}
	case RPTPruned:
		switch {
		case !rjd:
			x.rpt = RPTNotJoined
		case !pd:
			x.rpt = RPTNotPruned
			if up.ifindex != 0 {
				r.queueJP(up, rptItem(sg.key), true)
			}
		}
	case RPTNotPruned:
		switch {
		case !rjd:
			x.rpt = RPTNotJoined
			r.q.Stop(&x.ot)
		case pd:
			x.rpt = RPTPruned
			r.q.Stop(&x.ot)
			if up.ifindex != 0 {
				r.queueJP(up, rptItem(sg.key), false)
			}
		case up != oldUp && up == r.rpfPrimeStar(g):
			r.lowerOverride(sg, now)
		}
	}
}

// lowerOverride sets the Override Timer to t_override if it is not
// running or due later.
func (r *Router) lowerOverride(sg *sgEntry, now int64) {
	x := sg.x
	ifc := r.ifaces[int(x.rptUp.ifindex)]
	if ifc == nil {
		return
	}
	to := r.abs(now + int64(r.tOverride(ifc)))
	if at, ok := r.q.When(x.ot); ok && !at.After(to) {
		return
	}
	r.q.Set(&x.ot, to, timerRef{sg: sg, kind: timerOverride})
}

// overrideTimerExpired is "OT(S,G,rpt) expires" in NotPruned: the
// Join(S,G,rpt) that overrides another router's Prune(S,G,rpt) on the LAN.
func (r *Router) overrideTimerExpired(sg *sgEntry) {
	x := sg.x
	if x.rpt == RPTNotPruned && x.rptUp.ifindex != 0 {
		r.queueJP(x.rptUp, rptItem(sg.key), true)
	}
	r.touch(sg) // the timer may have been all that kept the entry
}

// rptSeePrune is "See Prune(S,G,rpt) to RPF'(S,G,rpt)" and "See
// Prune(S,G) to RPF'(S,G,rpt)" (4.5.7). The machine is first brought up to
// date, so that an entry created for the occasion is in NotPruned.
func (r *Router) rptSeePrune(sg *sgEntry, ifc *iface, target addrKey, now int64) {
	r.updateRptUpstream(sg, now)
	x := sg.x
	if x != nil && x.rpt == RPTNotPruned && x.rptUp == (upstreamNbr{target, int32(ifc.index)}) {
		r.lowerOverride(sg, now)
	}
}

// rptSeeJoin is "See Join(S,G,rpt) to RPF'(S,G,rpt)": someone else
// overrode the Prune.
func (r *Router) rptSeeJoin(sg *sgEntry, ifc *iface, target addrKey) {
	x := sg.x
	if x != nil && x.rpt == RPTNotPruned && x.rptUp == (upstreamNbr{target, int32(ifc.index)}) {
		r.q.Stop(&x.ot)
	}
}
