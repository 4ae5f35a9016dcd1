package pim

import (
	"slices"
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

// source is a source address S with entries: its MRIB information (the
// answer to WatchRPF). The entries of S share it.
type source struct {
	key   addrKey
	rpf   RPF
	known bool // SetRPF has answered
	sgs   []*sgEntry
}

// upstreamNbr is RPF'(S,G) as sent to: a neighbor's primary address on an
// interface. ifindex 0 is NULL.
type upstreamNbr struct {
	addr    addrKey
	ifindex int32
}

// sgEntry is the (S,G) state of RFC 7761 section 4.1.3 that SSM uses: the
// downstream per-interface Join state (4.5.2), the local receivers
// (local_receiver_include, 4.1.5), the upstream state with its Join Timer
// (4.5.5), and the route last emitted. The ASM parts ((S,G,rpt), the
// Keepalive Timer, the SPT bit, Assert and Register state) will join it in
// their own fields and files.
type sgEntry struct {
	key    sgKey
	src    *source
	srcIdx int32 // index in src.sgs

	// Upstream (4.5.5). up is RPF'(S,G) as of the end of the last event:
	// where our Joins went.
	state UpstreamState
	up    upstreamNbr
	jt    lazyTimer // Join Timer; runs while Joined toward a neighbor

	down  []downstream // Join or Prune-Pending interfaces, sorted by ifindex (NoInfo is not stored)
	local []int32      // interfaces with local_receiver_include(S,G,I), sorted

	// The route last emitted (0, nil: none).
	iif  int32
	oifs []int32

	touchEv uint64
	deleted bool
}

// idle reports whether nothing keeps the entry: no downstream state, no
// local receivers, NotJoined (so no Join Timer) and no route.
func (sg *sgEntry) idle() bool {
	return !sg.deleted && len(sg.down) == 0 && len(sg.local) == 0 && sg.state == NotJoined &&
		!sg.jt.running() && sg.iif == 0 && len(sg.oifs) == 0
}

// getSG returns the entry for k, creating it (and asking for the route to
// S with WatchRPF when S is new) unless MaxRoutes entries exist: then the
// refusal is counted on ifc and LimitHit emitted once per episode.
func (r *Router) getSG(k sgKey, ifc *iface) *sgEntry {
	if sg := r.sgs[k]; sg != nil {
		return sg
	}
	if len(r.sgs) >= r.cfg.MaxRoutes {
		ifc.stats.drop(DropRouteLimit)
		if !r.routeLimitHit {
			r.routeLimitHit = true
			ifc.stats.limitHit(LimitRoutes)
			r.emit(LimitHit{IfIndex: ifc.index, Kind: LimitRoutes, Limit: r.cfg.MaxRoutes})
		}
		return nil
	}
	s := r.sources[k.s]
	if s == nil {
		s = &source{key: k.s}
		r.sources[k.s] = s
		r.emit(WatchRPF{Addr: k.s.addr()})
	}
	sg := &sgEntry{key: k, src: s, srcIdx: int32(len(s.sgs))}
	s.sgs = append(s.sgs, sg)
	r.sgs[k] = sg
	r.touch(sg)
	return sg
}

// deleteSG forgets an idle entry; the last entry of a source takes the
// source with it (UnwatchRPF when the event ends).
func (r *Router) deleteSG(sg *sgEntry) {
	sg.deleted = true
	delete(r.sgs, sg.key)
	s := sg.src
	last := len(s.sgs) - 1
	s.sgs[sg.srcIdx] = s.sgs[last]
	s.sgs[sg.srcIdx].srcIdx = sg.srcIdx
	s.sgs[last] = nil
	s.sgs = s.sgs[:last]
	if len(s.sgs) == 0 {
		delete(r.sources, s.key)
		r.unwatch = append(r.unwatch, s.key)
	}
}

// touchSource marks every entry of a source.
func (r *Router) touchSource(s *source) {
	for _, sg := range s.sgs {
		r.touch(sg)
	}
}

// touchRPFInterface marks every entry whose source is routed through the
// interface: its neighbors (so RPF'(S,G)) or its PIM state changed.
func (r *Router) touchRPFInterface(ifc *iface) {
	for _, s := range r.sources {
		if s.known && s.rpf.Valid && s.rpf.IfIndex == ifc.index {
			r.touchSource(s)
		}
	}
}

// touchListeners marks every entry with local receivers on the interface.
func (r *Router) touchListeners(ifc *iface) {
	for g, srcs := range ifc.listeners {
		for _, s := range srcs {
			if sg := r.sgs[sgKey{g, s}]; sg != nil {
				r.touch(sg)
			}
		}
	}
}

// lostAssert is lost_assert(S,G,I) (4.6.5). Without Assert (a later stage)
// no interface is lost.
func (r *Router) lostAssert(*sgEntry, int32) bool { return false }

// assertWinnerSelf is AssertWinner(S,G,I) == me (4.6). Without Assert we
// never win one.
func (r *Router) assertWinnerSelf(*sgEntry, int32) bool { return false }

// immediateOlist is immediate_olist(S,G) (4.1.5) = joins(S,G) (+)
// pim_include(S,G) (-) lost_assert(S,G), where joins(S,G) are the
// interfaces in Join or Prune-Pending (4.5.2) and pim_include(S,G) those
// with local_receiver_include(S,G,I) where we are the DR (or the assert
// winner) and have not lost an assert. Sorted, appended to out[:0].
func (r *Router) immediateOlist(sg *sgEntry, out []int32) []int32 {
	out = out[:0]
	for i := range sg.down {
		if i := sg.down[i].ifindex; !r.lostAssert(sg, i) {
			out = append(out, i)
		}
	}
	for _, i := range sg.local {
		ifc := r.ifaces[int(i)]
		if ifc != nil && (ifc.iAmDR() && !r.lostAssert(sg, i) || r.assertWinnerSelf(sg, i)) {
			out = append(out, i)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// rpfInterface is RPF_interface(S) (4.5): the interface of the MRIB route
// to S, 0 when there is none (yet).
func (sg *sgEntry) rpfInterface() int32 {
	if s := sg.src; s.known && s.rpf.Valid {
		return int32(s.rpf.IfIndex)
	}
	return 0
}

// joinDesired is JoinDesired(S,G) (4.5.5): immediate_olist(S,G) is not
// empty. (The Keepalive Timer term belongs to ASM.) Choice: the RPF
// interface does not count: a Join heard on RPF_interface(S) asks for
// traffic we receive there, and sending a Join upstream for it could keep a
// transient routing loop of Joins alive.
func (r *Router) joinDesired(sg *sgEntry) bool {
	iif := sg.rpfInterface()
	r.olist = r.immediateOlist(sg, r.olist)
	for _, i := range r.olist {
		if i != iif {
			return true
		}
	}
	return false
}

// updateRoute computes the desired forwarding of the entry (4.2: packets
// from S arriving on RPF_interface(S) go out of immediate_olist(S,G) minus
// the incoming interface) and emits Route when it changed.
func (r *Router) updateRoute(sg *sgEntry) {
	if sg.deleted {
		return
	}
	iif := sg.rpfInterface()
	r.olist = r.immediateOlist(sg, r.olist)
	oifs := slices.DeleteFunc(r.olist, func(i int32) bool { return i == iif })
	if iif == 0 || len(oifs) == 0 {
		iif, oifs = 0, nil
	}
	if iif == sg.iif && slices.Equal(oifs, sg.oifs) {
		return
	}
	sg.iif, sg.oifs = iif, slices.Clone(oifs)
	rt := Route{Source: sg.key.s.addr(), Group: sg.key.g.addr(), IIF: int(iif)}
	if len(oifs) > 0 {
		rt.OIFs = make([]int, len(oifs))
		for i, o := range oifs {
			rt.OIFs[i] = int(o)
		}
	}
	r.emit(rt)
}
