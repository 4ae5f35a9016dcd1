package pim

import (
	"net/netip"
	"time"

	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// defaultHelloHoldtime is Default_Hello_Holdtime (RFC 7761 section 4.11),
// used for a neighbor whose Hello has no Holdtime option.
const defaultHelloHoldtime = 105

// holdtimeForever is the Holdtime that never times out (4.9.2, 4.9.5).
const holdtimeForever = 0xffff

func (r *Router) setHelloTimer(ifc *iface, at int64) {
	r.q.Set(&ifc.hello, r.abs(at), timerRef{ifindex: int32(ifc.index), kind: timerHello})
}

// triggeredHello schedules a Hello after a random delay in [0,
// Triggered_Hello_Delay) (4.3.1), unless the Hello Timer fires sooner
// anyway. Periodic Hellos follow Hello_Period after it.
func (r *Router) triggeredHello(ifc *iface, now int64) {
	at := now + int64(r.randBelow(ifc.cfg.TriggeredHelloDelay))
	if t, ok := r.q.When(ifc.hello); ok && !t.After(r.abs(at)) {
		return
	}
	r.setHelloTimer(ifc, at)
}

// sendHello sends our Hello now and restarts the Hello Timer at
// Hello_Period (4.3.1).
func (r *Router) sendHello(ifc *iface, now int64) {
	r.sendHelloHoldtime(ifc, ifc.self, seconds(ifc.cfg.HelloHoldtime))
	ifc.helloSent = true
	r.setHelloTimer(ifc, now+int64(ifc.cfg.HelloPeriod))
	r.bsmToNewNeighbors(ifc)
}

// helloFirst sends our Hello at once on an interface where the neighbors
// have not all had one with our current address (a new or restarted
// neighbor, a new primary address, PIM just started): 4.3.1 requires it
// before a Join/Prune or an Assert goes out there, so that routers which
// take those only from neighbors do not drop ours.
func (r *Router) helloFirst(ifc *iface, now int64) {
	if !ifc.helloSent {
		r.sendHello(ifc, now)
	}
}

// sendHelloHoldtime emits a Hello from src with the given Holdtime; 0 is
// the goodbye of 4.3.1.
func (r *Router) sendHelloHoldtime(ifc *iface, src netip.Addr, holdtime uint16) {
	r.emit(SendPIM{IfIndex: ifc.index, Src: src, Dst: AllPIMRouters, Msg: r.helloMessage(ifc, holdtime)})
	ifc.stats.sentMsg(SentHello)
}

// helloMessage is our Hello (4.9.2): Holdtime, LAN Prune Delay with the T
// bit of IfConfig.TrackingSupport (clear by default, 4.3.3), DR Priority,
// Generation ID and, when the interface has global addresses, the Address
// List (4.3.4).
func (r *Router) helloMessage(ifc *iface, holdtime uint16) *pimmsg.Hello {
	v := &struct {
		holdtime uint16
		lpd      pimmsg.LANPruneDelay
		prio     uint32
		genID    uint32
	}{
		holdtime: holdtime,
		lpd: pimmsg.LANPruneDelay{
			T:                ifc.cfg.TrackingSupport,
			PropagationDelay: uint16(ifc.cfg.PropagationDelay / time.Millisecond),
			OverrideInterval: uint16(ifc.cfg.OverrideInterval / time.Millisecond),
		},
		prio:  ifc.cfg.DRPriority,
		genID: ifc.genID,
	}
	h := &pimmsg.Hello{Holdtime: &v.holdtime, LANPruneDelay: &v.lpd, DRPriority: &v.prio, GenerationID: &v.genID}
	if len(ifc.globals) > 0 {
		h.AddressList = append([]netip.Addr(nil), ifc.globals...)
	}
	return h
}

// receiveHello handles a Hello from src (4.3.1, 4.3.2, 4.3.3, 4.3.4). A
// Holdtime of 0 removes the neighbor at once; otherwise the neighbor is
// created or refreshed with everything the Hello says (each Hello carries
// the neighbor's whole state, so absent options become absent). A new
// neighbor, or one with a new Generation ID (it restarted), gets a
// triggered Hello so that it learns us quickly; a restarted RPF neighbor
// also gets our Joins again soon (4.5.5, "RPF'(S,G) GenID changes").
func (r *Router) receiveHello(ifc *iface, now int64, src netip.Addr, h *pimmsg.Hello) {
	holdtime := uint16(defaultHelloHoldtime)
	if h.Holdtime != nil {
		holdtime = *h.Holdtime
	}
	k := keyOf(src)
	nb := ifc.neighbors[k]
	if holdtime == 0 {
		if nb != nil {
			r.removeNeighbor(nb, NeighborGoodbye)
		}
		return
	}
	isNew, restarted := nb == nil, false
	if isNew {
		if nb = r.newNeighbor(ifc, now, src); nb == nil {
			return
		}
		r.emit(NeighborChange{IfIndex: ifc.index, Neighbor: src, Up: true, Reason: NeighborNew})
	} else if nb.hasGenID != (h.GenerationID != nil) || h.GenerationID != nil && *h.GenerationID != nb.genID {
		restarted = true
		nb.upSince = r.abs(now)
		r.emit(NeighborChange{IfIndex: ifc.index, Neighbor: src, Up: true, Reason: NeighborRestarted})
	}
	nb.update(h)
	addrsChanged := r.setSecondary(nb, h.AddressList)
	nb.holdtime = holdtime
	ref := timerRef{nbr: nb, kind: timerNeighbor}
	if holdtime == holdtimeForever {
		r.stopLazy(&nb.nlt)
	} else {
		r.setLazy(&nb.nlt, now+int64(holdtime)*int64(time.Second), ref)
	}
	if isNew || restarted {
		ifc.helloSent = false
		nb.wantBSM = true
		r.triggeredHello(ifc, now)
	}
	if restarted {
		r.rpfNeighborRestarted(nb, now)
	}
	r.electDR(ifc)
	if isNew || addrsChanged {
		r.touchRPFInterface(ifc)
	}
}
