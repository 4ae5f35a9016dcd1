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

// downstream is the (S,G) downstream state machine of one interface
// (4.5.2): its state, the Expiry Timer ET(S,G,I) and the Prune-Pending
// Timer PPT(S,G,I). An interface in NoInfo has no downstream value at all.
type downstream struct {
	ifindex int32
	state   JoinState
	// forever: the last Join had Holdtime 0xffff, which holds the state
	// until a Prune (4.9.5); the Expiry Timer does not run.
	forever bool
	et      lazyTimer
	ppt     timerq.ID
}

// downstream returns the state of interface i, nil in NoInfo. The pointer
// is valid until the entry's downstream list changes.
func (sg *sgEntry) downstream(i int32) *downstream {
	if k, ok := sg.findDownstream(i); ok && !sg.deleted {
		return &sg.down[k]
	}
	return nil
}

func (sg *sgEntry) findDownstream(i int32) (int, bool) {
	return slices.BinarySearchFunc(sg.down, i, func(d downstream, i int32) int { return cmp.Compare(d.ifindex, i) })
}

// addDownstream inserts interface i in NoInfo (the caller moves it on).
func (sg *sgEntry) addDownstream(i int32) *downstream {
	k, _ := sg.findDownstream(i)
	sg.down = slices.Insert(sg.down, k, downstream{ifindex: i})
	return &sg.down[k]
}

// dropDownstream returns interface i to NoInfo: its timers stop and its
// state is deleted. It reports whether there was any.
func (r *Router) dropDownstream(sg *sgEntry, i int32) bool {
	k, ok := sg.findDownstream(i)
	if !ok {
		return false
	}
	d := &sg.down[k]
	r.stopLazy(&d.et)
	r.q.Stop(&d.ppt)
	sg.down = slices.Delete(sg.down, k, k+1)
	if len(sg.down) == 0 {
		sg.down = nil
	}
	return true
}

func etRef(sg *sgEntry, i int32) timerRef {
	return timerRef{sg: sg, ifindex: i, kind: timerExpiry}
}

// raiseExpiry sets the Expiry Timer to the larger of its time left and the
// Join's Holdtime (4.5.2: "increased to the HoldTime"); 0xffff holds the
// state until pruned.
func (r *Router) raiseExpiry(sg *sgEntry, d *downstream, holdtime uint16, now int64) {
	switch {
	case d.forever:
	case holdtime == holdtimeForever:
		r.stopLazy(&d.et)
		d.forever = true
	default:
		to := now + int64(holdtime)*int64(time.Second)
		if !d.et.running() || to > d.et.at {
			r.setLazy(&d.et, to, etRef(sg, d.ifindex))
		}
	}
}

// receiveJoin is the event "Receive Join(S,G)" on interface I (4.5.2):
//
//	NoInfo        -> Join: start ET at the Holdtime
//	Join          -> Join: increase ET to the Holdtime
//	Prune-Pending -> Join: stop PPT, increase ET to the Holdtime
//
// Choice: a Join with Holdtime 0 creates no state in NoInfo (its ET would
// expire at once) and does not lower a running ET.
func (r *Router) receiveJoin(sg *sgEntry, ifc *iface, holdtime uint16, now int64) {
	i := int32(ifc.index)
	d := sg.downstream(i)
	if d == nil {
		if holdtime == 0 {
			return
		}
		d = sg.addDownstream(i)
	}
	if d.state == PrunePending {
		r.q.Stop(&d.ppt)
	}
	d.state = Join
	r.raiseExpiry(sg, d, holdtime, now)
	r.touch(sg)
}

// receivePrune is the event "Receive Prune(S,G)" on interface I (4.5.2):
//
//	NoInfo        -> NoInfo
//	Join          -> Prune-Pending: start PPT at J/P_Override_Interval(I)
//	                 when I has more than one neighbor, else at 0: it
//	                 expires at once (so NoInfo, no PruneEcho)
//	Prune-Pending -> Prune-Pending
func (r *Router) receivePrune(sg *sgEntry, ifc *iface, now int64) {
	d := sg.downstream(int32(ifc.index))
	if d == nil || d.state != Join {
		return
	}
	d.state = PrunePending
	if len(ifc.neighbors) > 1 {
		r.q.Set(&d.ppt, r.abs(now+int64(ifc.jpOverrideInterval())),
			timerRef{sg: sg, ifindex: d.ifindex, kind: timerPrunePending})
		return
	}
	r.prunePendingTimerExpired(sg, d, now)
}

// prunePendingTimerExpired is "PPT(S,G,I) expires" (4.5.2): Prune-Pending
// -> NoInfo, and a PruneEcho(S,G) (our Prune with our own address as the
// upstream neighbor, so that a downstream router whose Join override was
// lost sends it again) when the interface has more than one neighbor.
func (r *Router) prunePendingTimerExpired(sg *sgEntry, d *downstream, now int64) {
	if d.state != PrunePending {
		return
	}
	i := d.ifindex
	ifc := r.ifaces[int(i)]
	if ifc != nil && len(ifc.neighbors) > 1 {
		r.queueJP(upstreamNbr{addr: keyOf(ifc.self), ifindex: i}, sg.key, false)
	}
	r.dropDownstream(sg, i)
	r.touch(sg)
}

// expiryTimerExpired is "ET(S,G,I) expires" (4.5.2): Join or Prune-Pending
// -> NoInfo (PPT stopped).
func (r *Router) expiryTimerExpired(sg *sgEntry, d *downstream) {
	r.dropDownstream(sg, d.ifindex)
	r.touch(sg)
}
