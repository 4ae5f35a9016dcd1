package pim

import (
	"cmp"
	"slices"
	"time"

	"github.com/pim6sd/pim6sd/internal/timerq"
)

// JoinState is the downstream (S,G) Join/Prune state of an interface (RFC
// 7761 section 4.5.2).
type JoinState uint8

// Downstream states.
const (
	NoInfo JoinState = iota
	Join
	PrunePending
)

// String returns the RFC name.
func (s JoinState) String() string {
	switch s {
	case Join:
		return "Join"
	case PrunePending:
		return "Prune-Pending"
	}
	return "NoInfo"
}

// downstream is the downstream machine of one interface (4.5.1 for (*,G),
// 4.5.2 for (S,G)): its state, the Expiry Timer ET(I) and the Prune-Pending
// Timer PPT(I). An interface in NoInfo has no downstream value at all.
type downstream struct {
	ifindex int32
	state   JoinState
	// forever: the last Join had Holdtime 0xffff, which holds the state
	// until a Prune (4.9.5); the Expiry Timer does not run.
	forever bool
	et      lazyTimer
	ppt     timerq.ID
}

// dsHost is the entry a downstream list belongs to: an (S,G) entry (sg)
// or a (*,G) entry (star). The two machines are the same (4.5.1 and 4.5.2
// differ only in what they are for).
type dsHost struct {
	sg   *sgEntry
	star *starEntry
}

func (h dsHost) list() *[]downstream {
	if h.star != nil {
		return &h.star.down
	}
	return &h.sg.down
}

func (h dsHost) deleted() bool {
	if h.star != nil {
		return h.star.deleted
	}
	return h.sg.deleted
}

// etRef and pptRef are the host's timer values for interface i.
func (h dsHost) etRef(i int32) timerRef {
	if h.star != nil {
		return timerRef{star: h.star, ifindex: i, kind: timerStarExpiry}
	}
	return timerRef{sg: h.sg, ifindex: i, kind: timerExpiry}
}

func (h dsHost) pptRef(i int32) timerRef {
	if h.star != nil {
		return timerRef{star: h.star, ifindex: i, kind: timerStarPrunePending}
	}
	return timerRef{sg: h.sg, ifindex: i, kind: timerPrunePending}
}

// echo is the PruneEcho entry of the host (4.5.1, 4.5.2).
func (r *Router) echo(h dsHost) jpItem {
	if h.star != nil {
		return jpItem{g: h.star.grp.key, kind: jpStarG, s: h.star.grp.rp}
	}
	return jpItem{g: h.sg.key.g, kind: jpSG, s: h.sg.key.s}
}

func (r *Router) touchHost(h dsHost) {
	if h.star != nil {
		r.touchStar(h.star)
	} else {
		r.touch(h.sg)
	}
}

func findDownstream(l []downstream, i int32) (int, bool) {
	return slices.BinarySearchFunc(l, i, func(d downstream, i int32) int { return cmp.Compare(d.ifindex, i) })
}

// downstreamOf returns the state of interface i, nil in NoInfo. The
// pointer is valid until the list changes.
func (h dsHost) downstreamOf(i int32) *downstream {
	l := h.list()
	if k, ok := findDownstream(*l, i); ok && !h.deleted() {
		return &(*l)[k]
	}
	return nil
}

func (sg *sgEntry) findDownstream(i int32) (int, bool) { return findDownstream(sg.down, i) }

// addDownstream inserts interface i in NoInfo (the caller moves it on).
func (h dsHost) addDownstream(i int32) *downstream {
	l := h.list()
	k, _ := findDownstream(*l, i)
	*l = slices.Insert(*l, k, downstream{ifindex: i})
	return &(*l)[k]
}

// dropDownstream returns interface i to NoInfo: its timers stop and its
// state is deleted. It reports whether there was any.
func (r *Router) dropDownstream(h dsHost, i int32) bool {
	l := h.list()
	k, ok := findDownstream(*l, i)
	if !ok {
		return false
	}
	d := &(*l)[k]
	r.stopLazy(&d.et)
	r.q.Stop(&d.ppt)
	*l = slices.Delete(*l, k, k+1)
	if len(*l) == 0 {
		*l = nil
	}
	return true
}

// raiseExpiry sets the Expiry Timer to the larger of its time left and the
// Join's Holdtime (4.5.1, 4.5.2: "increased to the HoldTime"); 0xffff
// holds the state until pruned.
func (r *Router) raiseExpiry(d *downstream, ref timerRef, holdtime uint16, now int64) {
	switch {
	case d.forever:
	case holdtime == holdtimeForever:
		r.stopLazy(&d.et)
		d.forever = true
	default:
		to := now + int64(holdtime)*int64(time.Second)
		if !d.et.running() || to > d.et.at {
			r.setLazy(&d.et, to, ref)
		}
	}
}

// receiveJoin is the event "Receive Join(S,G)" (4.5.2) or "Receive
// Join(*,G)" (4.5.1) on interface I:
//
//	NoInfo        -> Join: start ET at the Holdtime
//	Join          -> Join: increase ET to the Holdtime
//	Prune-Pending -> Join: stop PPT, increase ET to the Holdtime
//
// Choice: a Join with Holdtime 0 creates no state in NoInfo (its ET would
// expire at once) and does not lower a running ET.
func (r *Router) receiveJoin(h dsHost, ifc *iface, holdtime uint16, now int64) {
	i := int32(ifc.index)
	d := h.downstreamOf(i)
	if d == nil {
		if holdtime == 0 {
			return
		}
		d = h.addDownstream(i)
	}
	if d.state == PrunePending {
		r.q.Stop(&d.ppt)
	}
	d.state = Join
	r.raiseExpiry(d, h.etRef(i), holdtime, now)
	r.touchHost(h)
}

// receivePrune is the event "Receive Prune(S,G)" or "Receive Prune(*,G)"
// on interface I (4.5.1, 4.5.2):
//
//	NoInfo        -> NoInfo
//	Join          -> Prune-Pending: start PPT at J/P_Override_Interval(I)
//	                 when I has more than one neighbor, else at 0: it
//	                 expires at once (so NoInfo, no PruneEcho)
//	Prune-Pending -> Prune-Pending
func (r *Router) receivePrune(h dsHost, ifc *iface, now int64) {
	d := h.downstreamOf(int32(ifc.index))
	if d == nil || d.state != Join {
		return
	}
	d.state = PrunePending
	if len(ifc.neighbors) > 1 {
		r.q.Set(&d.ppt, r.abs(now+int64(ifc.jpOverrideInterval())), h.pptRef(d.ifindex))
		return
	}
	r.prunePendingTimerExpired(h, d, now)
}

// prunePendingTimerExpired is "PPT(I) expires" (4.5.1, 4.5.2):
// Prune-Pending -> NoInfo, and a PruneEcho (our Prune with our own address
// as the upstream neighbor, so that a downstream router whose Join override
// was lost sends it again) when the interface has more than one neighbor.
func (r *Router) prunePendingTimerExpired(h dsHost, d *downstream, now int64) {
	if d.state != PrunePending {
		return
	}
	i := d.ifindex
	ifc := r.ifaces[int(i)]
	if ifc != nil && len(ifc.neighbors) > 1 {
		r.queueJP(upstreamNbr{addr: keyOf(ifc.self), ifindex: i}, r.echo(h), false)
	}
	r.dropDownstream(h, i)
	r.touchHost(h)
}

// expiryTimerExpired is "ET(I) expires" (4.5.1, 4.5.2): Join or
// Prune-Pending -> NoInfo (PPT stopped).
func (r *Router) expiryTimerExpired(h dsHost, d *downstream) {
	r.dropDownstream(h, d.ifindex)
	r.touchHost(h)
}
