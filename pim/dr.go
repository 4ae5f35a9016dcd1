package pim

import "net/netip"

// drCandidate is a router on the link as DR election sees it.
type drCandidate struct {
	addr     netip.Addr
	priority uint32
}

// electDR runs the DR election of RFC 7761 section 4.3.2 on the interface
// and emits DRChange when the DR changed. Entries with local receivers on
// the interface are re-evaluated: pim_include and pim_exclude count them
// only where we are the DR (4.1.5); so are the entries whose source is on
// it (CouldRegister, 4.4.1).
func (r *Router) electDR(ifc *iface) {
	// dr_is_better compares priorities only when every neighbor sent the
	// DR Priority option (ours is always sent).
	usePriority := true
	for _, nb := range ifc.neighbors {
		if !nb.hasDRPriority {
			usePriority = false
			break
		}
	}
	dr := drCandidate{ifc.self, ifc.cfg.DRPriority}
	for _, nb := range ifc.neighbors {
		if c := (drCandidate{nb.addr, nb.drPriority}); drIsBetter(c, dr, usePriority) {
			dr = c
		}
	}
	self := dr.addr == ifc.self
	if dr.addr == ifc.dr && self == ifc.drSelf {
		return
	}
	ifc.dr, ifc.drSelf = dr.addr, self
	r.emit(DRChange{IfIndex: ifc.index, DR: dr.addr, Self: self})
	r.touchListeners(ifc)
	r.touchRPFInterface(ifc)
}

// drIsBetter is dr_is_better(a, b, I) of 4.3.2: the higher priority when
// usePriority, ties (and every comparison otherwise) by the higher primary
// address.
func drIsBetter(a, b drCandidate, usePriority bool) bool {
	if usePriority && a.priority != b.priority {
		return a.priority > b.priority
	}
	return a.addr.Compare(b.addr) > 0
}

// iAmDR is I_am_DR(I) (4.3.2).
func (ifc *iface) iAmDR() bool { return ifc.drSelf }
