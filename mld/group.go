package mld

import (
	"net/netip"
	"slices"

	"github.com/pim6sd/pim6sd/internal/engine"
	"github.com/pim6sd/pim6sd/internal/timerq"
)

// key is the engines' address key (engine.Key): a compact map key that
// sorts like netip.Addr.
type key = engine.Key

func keyOf(a netip.Addr) key { return engine.KeyOf(a) }

// source is one source of a multicast address record (RFC 3810 section
// 7.2.1). In INCLUDE mode every source has a running timer; in EXCLUDE mode
// a running timer puts it in the Requested List X and a zero timer (id 0) in
// the Exclude List Y. 16 octets: it is the value of a map entry per source.
type source struct {
	at     int64     // true deadline of the source timer, ns since the Router's epoch
	id     timerq.ID // queued timer, 0 when the source timer is zero
	rexmit uint8     // Q(MA,{source}) transmissions left (7.6.3.2)
	mark   bool      // scratch of one record's set operations, false between records
}

// group is a Multicast Address Record (RFC 3810 section 7.2): the state of
// one multicast address on one interface.
type group struct {
	ifc      *iface
	addr     key
	mode     FilterMode
	routable bool // scope 3 or more: ListenerUpdates are emitted
	deleted  bool

	filterAt int64     // true deadline of the Filter Timer (EXCLUDE mode only)
	filter   timerq.ID // Filter Timer (7.2.2), 0 in INCLUDE mode
	compat   timerq.ID // Older Version Host Present timer (8.3.2); running = MLDv1 mode
	rexmit   timerq.ID // next retransmission of specific Queries (7.6.3)
	// rexmitGroup is the number of Q(MA) transmissions left (7.6.3.1).
	rexmitGroup uint8
	srcLimitHit bool   // a LimitHit for sources was emitted and the count is still at the limit
	touchEv     uint64 // the Router event in which the view was captured

	sources map[key]source
}

// compatMode is the Multicast Address Compatibility Mode (8.3.2).
func (g *group) compatMode() Version {
	if g.compat != 0 {
		return V1
	}
	return V2
}

// appendView appends the forwarding view's sources: all sources in INCLUDE
// mode, the Exclude List (zero timers) in EXCLUDE mode. Unsorted.
func (g *group) appendView(out []key) []key {
	for k, s := range g.sources {
		if g.mode == Include || s.id == 0 {
			out = append(out, k)
		}
	}
	return out
}

// touched is a group whose view may change in the current event, with its
// view from before the change (sorted in Router.oldView[off:off+n]).
type touched struct {
	g      *group
	mode   FilterMode
	off, n int
}

// touch captures the forwarding view of g before its first change in this
// event; every mutation that can change the view calls it first.
func (r *Router) touch(g *group) {
	if g.touchEv == r.frame.Event() {
		return
	}
	g.touchEv = r.frame.Event()
	t := touched{g: g, mode: g.mode, off: len(r.oldView)}
	if g.routable {
		r.oldView = g.appendView(r.oldView)
		t.n = len(r.oldView) - t.off
		slices.SortFunc(r.oldView[t.off:], key.Compare)
	}
	r.touched = append(r.touched, t)
}

// newGroup creates the record for a new multicast address, in INCLUDE mode
// with no sources; the caller has checked MaxGroups.
func (r *Router) newGroup(ifc *iface, k key) *group {
	g := &group{ifc: ifc, addr: k, routable: k.Scope() >= 3}
	ifc.groups[k] = g
	r.touch(g)
	return g
}

// lookupOrCreate returns the group, creating it when absent and MaxGroups
// allows; nil when the limit refused it (counted, LimitHit once).
func (r *Router) lookupOrCreate(ifc *iface, k key) *group {
	if g := ifc.groups[k]; g != nil {
		return g
	}
	if len(ifc.groups) >= ifc.cfg.MaxGroups {
		ifc.stats.drop(DropGroupLimit)
		if !ifc.groupLimitHit {
			ifc.groupLimitHit = true
			ifc.stats.limitHit(LimitGroups)
			r.emit(LimitHit{IfIndex: ifc.index, Kind: LimitGroups, Limit: ifc.cfg.MaxGroups})
		}
		return nil
	}
	return r.newGroup(ifc, k)
}

// removeGroup deletes the record with all its timers.
func (r *Router) removeGroup(g *group) {
	r.touch(g)
	for k, s := range g.sources {
		r.q.Stop(&s.id)
		delete(g.sources, k)
	}
	r.q.Stop(&g.filter)
	r.q.Stop(&g.compat)
	r.q.Stop(&g.rexmit)
	g.mode, g.rexmitGroup = Include, 0
	g.deleted = true
	ifc := g.ifc
	if ifc.groups[g.addr] == g {
		delete(ifc.groups, g.addr)
	}
	if ifc.groupLimitHit && len(ifc.groups) < ifc.cfg.MaxGroups {
		ifc.groupLimitHit = false
	}
}

func (r *Router) sourceRef(g *group, k key) timerRef {
	return timerRef{g: g, src: k, kind: timerSource}
}

// admitSource reports whether g may get one more source (MaxSources),
// counting and reporting a refusal.
func (r *Router) admitSource(g *group) bool {
	if len(g.sources) < g.ifc.cfg.MaxSources {
		return true
	}
	g.ifc.stats.drop(DropSourceLimit)
	if !g.srcLimitHit {
		g.srcLimitHit = true
		g.ifc.stats.limitHit(LimitSources)
		r.emit(LimitHit{IfIndex: g.ifc.index, Group: g.addr.Addr(), Kind: LimitSources, Limit: g.ifc.cfg.MaxSources})
	}
	return false
}

// setSource sets the timer of source k to the deadline at, creating the
// source if needed (MaxSources permitting). In EXCLUDE mode a source with a
// zero timer moves from the Exclude List to the Requested List.
func (r *Router) setSource(g *group, k key, at int64) {
	s, ok := g.sources[k]
	switch {
	case !ok:
		if !r.admitSource(g) {
			return
		}
		r.touch(g)
		if g.sources == nil {
			g.sources = make(map[key]source)
		}
	case s.id == 0:
		r.touch(g)
	}
	r.lazySet(&s.id, &s.at, at, r.sourceRef(g, k))
	g.sources[k] = s
}

// zeroSource sets the timer of source k to zero: in EXCLUDE mode, the
// source is in the Exclude List Y. It creates the source if needed.
func (r *Router) zeroSource(g *group, k key) {
	s, ok := g.sources[k]
	if ok && s.id == 0 {
		return
	}
	if !ok {
		if !r.admitSource(g) {
			return
		}
		if g.sources == nil {
			g.sources = make(map[key]source)
		}
	}
	r.touch(g)
	r.q.Stop(&s.id)
	s.rexmit = 0
	g.sources[k] = s
}

// deleteSource removes source k with its timer.
func (r *Router) deleteSource(g *group, k key) {
	s, ok := g.sources[k]
	if !ok {
		return
	}
	r.touch(g)
	r.q.Stop(&s.id)
	delete(g.sources, k)
}

// setFilter sets the Filter Timer to the deadline at.
func (r *Router) setFilter(g *group, at int64) {
	r.lazySet(&g.filter, &g.filterAt, at, timerRef{g: g, kind: timerFilter})
}

// setMode switches the filter mode.
func (r *Router) setMode(g *group, m FilterMode) {
	if g.mode == m {
		return
	}
	r.touch(g)
	g.mode = m
	if m == Include {
		r.q.Stop(&g.filter)
		g.rexmitGroup = 0
	}
}

// switchToInclude is the expiry of the Filter Timer in EXCLUDE mode (7.5,
// and the table of 7.2.2): the Exclude List is deleted and the sources of
// the Requested List, with their timers, make the INCLUDE-mode record. An
// empty record is deleted when the event ends.
func (r *Router) switchToInclude(g *group) {
	if g.mode != Exclude {
		return
	}
	for k, s := range g.sources {
		if s.id == 0 {
			r.deleteSource(g, k)
		}
	}
	r.setMode(g, Include)
}
