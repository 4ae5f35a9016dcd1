package pim

import (
	"github.com/pim6sd/pim6sd/internal/timerq"
)

// UpstreamState is the upstream (S,G) Join/Prune state of RFC 7761 section
// 4.5.5.
type UpstreamState uint8

// Upstream states.
const (
	NotJoined UpstreamState = iota
	Joined
)

// String returns the RFC name.
func (s UpstreamState) String() string {
	if s == Joined {
		return "Joined"
	}
	return "NotJoined"
}

// source is an address whose MRIB information the engine needs (the
// answer to WatchRPF): the source S of (S,G) entries, or the RP of groups
// (MRIB.next_hop(RP(G)), 4.1.5). Its users share it.
type source struct {
	key      addrKey
	rpf      RPF
	known    bool // SetRPF has answered
	sgs      []*sgEntry
	rpGroups []*group // groups whose RP this is
	bsrRefs  int      // the BSR's address, of that many zones (bsr.go)
}

func (s *source) unused() bool { return len(s.sgs) == 0 && len(s.rpGroups) == 0 && s.bsrRefs == 0 }

// upstreamNbr is RPF'(S,G) as sent to: a neighbor's primary address on an
// interface. ifindex 0 is NULL.
type upstreamNbr struct {
	addr    addrKey
	ifindex int32
}

// upstream is the state shared by the upstream (S,G) machine (4.5.5) and
// the upstream (*,G) machine (4.5.4): NotJoined or Joined, the Join Timer,
// and RPF' as of the end of the last event (where our Joins went) with
// whether it was an Assert winner, so that a change due to an Assert is
// told apart from a routing change.
type upstream struct {
	state    UpstreamState
	byAssert bool
	up       upstreamNbr
	jt       lazyTimer // Join Timer; runs while Joined toward a neighbor
}

// sgEntry is the (S,G) state of RFC 7761 section 4.1.3 and the (S,G,rpt)
// state of 4.1.4 for one source and group: the downstream per-interface
// Join state (4.5.2), the local receivers (local_receiver_include, 4.1.5),
// the upstream state with its Join Timer (4.5.5), the route last emitted,
// and, in x when needed, the rest: (S,G,rpt), the Keepalive Timer and SPT
// bit, Register state, the kernel cache entry and Assert state. SSM
// entries without asserts never allocate x.
type sgEntry struct {
	key    sgKey
	src    *source
	srcIdx int32 // index in src.sgs
	grp    *group
	grpIdx int32 // index in grp.sgs

	upstream
	down  []downstream // Join or Prune-Pending interfaces, sorted by ifindex (NoInfo is not stored)
	local []int32      // interfaces with local_receiver_include(S,G,I), sorted
	x     *sgExt

	// The route last emitted (0, nil: none).
	iif  int32
	oifs []int32

	touchEv uint64
	deleted bool
}

// sgExt is the part of an (S,G) entry that SSM channels do without.
type sgExt struct {
	// (S,G,rpt) (4.1.4): downstream state per interface (4.5.3), the
	// interfaces with local_receiver_exclude(S,G,I), and the upstream
	// machine (4.5.7) with RPF'(S,G,rpt) as of the last event and the
	// Override Timer.
	rptDown []rptDownstream
	excl    []int32
	rpt     RPTState
	rptUp   upstreamNbr
	ot      timerq.ID

	// Keepalive Timer and SPT bit (4.1.3).
	kat    lazyTimer
	sptBit bool

	// Register state of a DR (4.4.1), with the RP registered to.
	reg   RegisterState
	rst   timerq.ID
	regRP addrKey

	// The kernel cache entry (cache.go): installed for data (cache), its
	// idle timer, whether its counters are watched, their last values and
	// the rate they showed; a data arrival waiting for the route to S.
	cache      bool
	dataIdle   lazyTimer
	watching   bool
	counted    bool
	pkts       uint64
	bytes      uint64
	countAt    int64
	rateHigh   bool
	pending    bool
	pendingIIF int32

	// Assert state per interface (4.6.1), NoInfo not stored.
	asserts []assertState
}

// ext returns the entry's extended state, allocating it.
func (sg *sgEntry) ext() *sgExt {
	if sg.x == nil {
		sg.x = &sgExt{}
	}
	return sg.x
}

// idle reports whether nothing keeps the entry: no downstream state, no
// local receivers, NotJoined (so no Join Timer), no route, and nothing of
// the extended state that needs keeping (the (S,G,rpt) states follow from
// the rest and are dropped with it).
func (sg *sgEntry) idle() bool {
	if sg.deleted || len(sg.down) > 0 || len(sg.local) > 0 || sg.state != NotJoined ||
		sg.jt.running() || sg.iif != 0 || len(sg.oifs) > 0 {
		return false
	}
	x := sg.x
	return x == nil || len(x.rptDown) == 0 && len(x.excl) == 0 && x.ot == 0 &&
		!x.kat.running() && x.reg == RegisterNoInfo && x.rst == 0 && !x.cache &&
		!x.watching && len(x.asserts) == 0
}

// getSG returns the entry for k, creating it (and asking for the route to
// S with WatchRPF when S is new) unless MaxRoutes entries exist: then the
// refusal is counted on ifc (nil: the router) and LimitHit emitted once
// per episode.
func (r *Router) getSG(k sgKey, ifc *iface) *sgEntry {
	if sg := r.sgs[k]; sg != nil {
		return sg
	}
	if r.routeLimit(ifc) {
		return nil
	}
	s := r.acquireSource(k.s)
	g := r.acquireGroup(k.g)
	sg := &sgEntry{key: k, src: s, srcIdx: int32(len(s.sgs)), grp: g, grpIdx: int32(len(g.sgs))}
	s.sgs = append(s.sgs, sg)
	g.sgs = append(g.sgs, sg)
	r.sgs[k] = sg
	r.touch(sg)
	return sg
}

// deleteSG forgets an idle entry; the last entry of a source takes the
// source with it (UnwatchRPF when the event ends), the last of a group the
// group.
func (r *Router) deleteSG(sg *sgEntry) {
	sg.deleted = true
	r.stopLazy(&sg.jt)
	if x := sg.x; x != nil {
		// Idle entries have no timer left but these two lazy ones may
		// still be queued.
		r.stopLazy(&x.kat)
		r.stopLazy(&x.dataIdle)
	}
	delete(r.sgs, sg.key)
	s := sg.src
	last := len(s.sgs) - 1
	s.sgs[sg.srcIdx] = s.sgs[last]
	s.sgs[sg.srcIdx].srcIdx = sg.srcIdx
	s.sgs[last] = nil
	s.sgs = s.sgs[:last]
	r.releaseSource(s)
	g := sg.grp
	last = len(g.sgs) - 1
	g.sgs[sg.grpIdx] = g.sgs[last]
	g.sgs[sg.grpIdx].grpIdx = sg.grpIdx
	g.sgs[last] = nil
	g.sgs = g.sgs[:last]
	r.releaseGroup(g)
}

// touchSource marks every entry of a source, and every group whose RP it
// is.
func (r *Router) touchSource(s *source) {
	for _, sg := range s.sgs {
		r.touch(sg)
	}
	for _, g := range s.rpGroups {
		r.touchGroup(g)
	}
}

// touchRPFInterface marks every entry whose source or RP is routed through
// the interface: its neighbors (so RPF'), its PIM state or its DR changed.
func (r *Router) touchRPFInterface(ifc *iface) {
	for _, s := range r.sources {
		if s.known && s.rpf.Valid && s.rpf.IfIndex == ifc.index {
			r.touchSource(s)
		}
	}
}

// touchListeners marks every entry with local receivers (included or
// excluded sources, or (*,G)) on the interface.
func (r *Router) touchListeners(ifc *iface) {
	for g, ls := range ifc.listeners {
		for _, s := range ls.sources {
			if sg := r.sgs[sgKey{g, s}]; sg != nil {
				r.touch(sg)
			}
		}
		if ls.exclude {
			if gs := r.groups[g]; gs != nil {
				r.touchGroup(gs)
			}
		}
	}
}

// rpfInterface is RPF_interface(S) (4.1.5): the interface of the MRIB
// route to S, 0 when there is none (yet).
func (sg *sgEntry) rpfInterface() int32 {
	if s := sg.src; s.known && s.rpf.Valid {
		return int32(s.rpf.IfIndex)
	}
	return 0
}

// directlyConnected is DirectlyConnected(S) (4.1.5): the route to S has no
// gateway, so S is on one of our links.
func (sg *sgEntry) directlyConnected() bool {
	s := sg.src
	return s.known && s.rpf.Valid && !s.rpf.NextHop.IsValid()
}
