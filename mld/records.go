package mld

import (
	"net/netip"

	"github.com/pim6sd/pim6sd/mld/mldmsg"
)

// The record tables of RFC 3810 section 7.4, in the RFC's notation: the
// router state INCLUDE (A) or EXCLUDE (X,Y) (X the Requested List, Y the
// Exclude List), the record received with its source list B or A, the new
// state and the actions. "(B)=MALI" sets the source timers of B to the
// Multicast Address Listening Interval, "(B-A)=0" puts B-A in the Exclude
// List, "Send Q(...)" is 7.6.3 (query.go).

// createsState reports whether a record can create state for a multicast
// address that has none, that is INCLUDE ({}): an empty IS_IN, ALLOW or
// TO_IN, and any BLOCK, leave it INCLUDE ({}) and send no Query (Q(MA,{})
// is empty). Such records neither create a record nor count against
// MaxGroups.
func createsState(t mldmsg.RecordType, nsrc int) bool {
	switch t {
	case mldmsg.ModeIsExclude, mldmsg.ChangeToExclude:
		return true
	case mldmsg.ModeIsInclude, mldmsg.AllowNewSources, mldmsg.ChangeToInclude:
		return nsrc > 0
	}
	return false
}

// applyRecord applies one record of type t with sources srcs to g (7.4.1,
// 7.4.2). The caller has done the record checks, the MLDv1 compatibility
// translation (8.3.2) and the SSM rules.
func (r *Router) applyRecord(g *group, now int64, t mldmsg.RecordType, srcs []netip.Addr) {
	mali := now + g.ifc.mali()
	switch t {
	case mldmsg.ModeIsInclude, mldmsg.AllowNewSources:
		// INCLUDE (A)    IS_IN (B)  INCLUDE (A+B)        (B)=MALI
		// INCLUDE (A)    ALLOW (B)  INCLUDE (A+B)        (B)=MALI
		// EXCLUDE (X,Y)  IS_IN (A)  EXCLUDE (X+A,Y-A)    (A)=MALI
		// EXCLUDE (X,Y)  ALLOW (A)  EXCLUDE (X+A,Y-A)    (A)=MALI
		for _, a := range srcs {
			r.setSource(g, keyOf(a), mali)
		}
	case mldmsg.ModeIsExclude, mldmsg.ChangeToExclude:
		if g.mode == Include {
			r.includeToExclude(g, now, t, srcs, mali)
		} else {
			r.excludeToExclude(g, now, t, srcs, mali)
		}
	case mldmsg.ChangeToInclude:
		r.toInclude(g, now, srcs, mali)
	case mldmsg.BlockOldSources:
		r.block(g, now, srcs)
	}
}

// includeToExclude:
//
//	INCLUDE (A)  IS_EX (B)  EXCLUDE (A*B,B-A)  (B-A)=0, Delete (A-B), Filter Timer=MALI
//	INCLUDE (A)  TO_EX (B)  EXCLUDE (A*B,B-A)  (B-A)=0, Delete (A-B), Send Q(MA,A*B),
//	                                           Filter Timer=MALI
func (r *Router) includeToExclude(g *group, now int64, t mldmsg.RecordType, srcs []netip.Addr, mali int64) {
	r.mark(g, srcs) // A*B
	for k, s := range g.sources {
		if !s.mark {
			r.deleteSource(g, k) // A-B
		}
	}
	r.setMode(g, Exclude)
	query := false
	for k, s := range g.sources { // what is left is A*B
		s.mark = false
		if t == mldmsg.ChangeToExclude && r.startSourceQuery(g, k, &s, now) {
			query = true
		}
		g.sources[k] = s
	}
	for _, b := range srcs {
		if k := keyOf(b); !g.has(k) {
			r.zeroSource(g, k) // (B-A)=0
		}
	}
	r.setFilter(g, mali)
	if query {
		r.sendSpecific(g, now)
	}
}

// excludeToExclude:
//
//	EXCLUDE (X,Y)  IS_EX (A)  EXCLUDE (A-Y,Y*A)  (A-X-Y)=MALI, Delete (X-A), Delete (Y-A),
//	                                             Filter Timer=MALI
//	EXCLUDE (X,Y)  TO_EX (A)  EXCLUDE (A-Y,Y*A)  (A-X-Y)=Filter Timer, Delete (X-A),
//	                                             Delete (Y-A), Send Q(MA,A-Y), Filter Timer=MALI
func (r *Router) excludeToExclude(g *group, now int64, t mldmsg.RecordType, srcs []netip.Addr, mali int64) {
	newAt := mali
	if t == mldmsg.ChangeToExclude {
		newAt = g.filterAt // the Filter Timer before it is set to MALI
	}
	r.mark(g, srcs) // (X+Y)*A
	for k, s := range g.sources {
		if !s.mark {
			r.deleteSource(g, k) // X-A, Y-A
			continue
		}
		s.mark = false
		g.sources[k] = s
	}
	for _, a := range srcs {
		if k := keyOf(a); !g.has(k) {
			r.setSource(g, k, newAt) // A-X-Y
		}
	}
	r.setFilter(g, mali)
	if t != mldmsg.ChangeToExclude {
		return
	}
	query := false
	for k, s := range g.sources { // every source left is in A: those with timers are A-Y
		if r.startSourceQuery(g, k, &s, now) {
			g.sources[k] = s
			query = true
		}
	}
	if query {
		r.sendSpecific(g, now)
	}
}

// toInclude:
//
//	INCLUDE (A)    TO_IN (B)  INCLUDE (A+B)      (B)=MALI, Send Q(MA,A-B)
//	EXCLUDE (X,Y)  TO_IN (A)  EXCLUDE (X+A,Y-A)  (A)=MALI, Send Q(MA,X-A), Send Q(MA)
func (r *Router) toInclude(g *group, now int64, srcs []netip.Addr, mali int64) {
	for _, a := range srcs {
		r.setSource(g, keyOf(a), mali)
	}
	r.mark(g, srcs)
	query := false
	for k, s := range g.sources {
		if s.mark {
			s.mark = false
			g.sources[k] = s
			continue
		}
		// Unmarked: A-B in INCLUDE mode; X-A, and Y-A with zero timers
		// that startSourceQuery skips, in EXCLUDE mode.
		if r.startSourceQuery(g, k, &s, now) {
			g.sources[k] = s
			query = true
		}
	}
	if g.mode == Exclude && r.startGroupQuery(g, now) {
		query = true
	}
	if query {
		r.sendSpecific(g, now)
	}
}

// block:
//
//	INCLUDE (A)    BLOCK (B)  INCLUDE (A)          Send Q(MA,A*B)
//	EXCLUDE (X,Y)  BLOCK (A)  EXCLUDE (X+(A-Y),Y)  (A-X-Y)=Filter Timer, Send Q(MA,A-Y)
func (r *Router) block(g *group, now int64, srcs []netip.Addr) {
	query := false
	for _, a := range srcs {
		k := keyOf(a)
		s, ok := g.sources[k]
		if !ok {
			if g.mode == Include {
				continue // not in A*B
			}
			r.setSource(g, k, g.filterAt) // A-X-Y
			if s, ok = g.sources[k]; !ok {
				continue // MaxSources
			}
		}
		if r.startSourceQuery(g, k, &s, now) { // skips Y: zero timers
			g.sources[k] = s
			query = true
		}
	}
	if query {
		r.sendSpecific(g, now)
	}
}

// mark sets the mark of every source of g listed in srcs.
func (r *Router) mark(g *group, srcs []netip.Addr) {
	for _, a := range srcs {
		k := keyOf(a)
		if s, ok := g.sources[k]; ok && !s.mark {
			s.mark = true
			g.sources[k] = s
		}
	}
}

func (g *group) has(k key) bool {
	_, ok := g.sources[k]
	return ok
}
