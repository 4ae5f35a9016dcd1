package pim

// group is the state of one group G: whether it is an SSM group, its RP
// (RP(G), 4.7) with the watched route to it, its (*,G) entry and its (S,G)
// entries. It exists while it has entries.
type group struct {
	key   addrKey
	ssm   bool
	rp    addrKey
	hasRP bool
	rpSrc *source // the route to the RP (watched like a source)
	rpIdx int32   // index in rpSrc.rpGroups
	// embedded: the RP is the one the group's address carries (RFC 3956),
	// counted in Router.nEmbedded.
	embedded bool
	star     *starEntry
	sgs      []*sgEntry // sg.grpIdx is the index
}

// acquireGroup returns the state of group gk, creating it (and watching
// the route to its RP) when it is new.
func (r *Router) acquireGroup(gk addrKey) *group {
	if g := r.groups[gk]; g != nil {
		return g
	}
	ga := gk.Addr()
	g := &group{key: gk, ssm: r.cfg.isSSM(ga)}
	r.groups[gk] = g
	if rp, ok := r.rpFor(ga); ok {
		r.setGroupRP(g, rp, true)
	}
	return g
}

// setGroupRP records RP(G); the route to the new RP is watched and the old
// one released.
func (r *Router) setGroupRP(g *group, rp addrKey, has bool) {
	if g.hasRP == has && (!has || g.rp == rp) {
		return
	}
	if s := g.rpSrc; s != nil {
		last := len(s.rpGroups) - 1
		s.rpGroups[g.rpIdx] = s.rpGroups[last]
		s.rpGroups[g.rpIdx].rpIdx = g.rpIdx
		s.rpGroups[last] = nil
		s.rpGroups = s.rpGroups[:last]
		r.releaseSource(s)
		g.rpSrc = nil
	}
	g.rp, g.hasRP = rp, has
	emb := false
	if has && r.cfg.EmbeddedRP {
		if a, ok := EmbeddedRP(g.key.Addr()); ok && keyOf(a) == rp {
			emb = true
		}
	}
	if emb != g.embedded {
		g.embedded = emb
		if emb {
			r.nEmbedded++
		} else {
			r.nEmbedded--
			if r.nEmbedded < r.cfg.MaxEmbeddedRPGroups {
				if r.embLimitHit {
					// Groups refused an RP may have one now.
					r.rpDirty = true
				}
				r.embLimitHit = false
			}
		}
	}
	if !has {
		g.rp = addrKey{}
		return
	}
	if len(r.refused) > 0 && r.isLocal(rp) {
		r.adoptPending = true // rpregister.go
	}
	s := r.acquireSource(rp)
	g.rpIdx = int32(len(s.rpGroups))
	s.rpGroups = append(s.rpGroups, g)
	g.rpSrc = s
}

// releaseGroup forgets the group when it has no entry left.
func (r *Router) releaseGroup(g *group) {
	if g.star != nil || len(g.sgs) > 0 || r.groups[g.key] != g {
		return
	}
	r.setGroupRP(g, addrKey{}, false)
	delete(r.groups, g.key)
}

// touchGroup marks the (*,G) entry and every (S,G) entry of the group.
func (r *Router) touchGroup(g *group) {
	if g.star != nil {
		r.touchStar(g.star)
	}
	for _, sg := range g.sgs {
		r.touch(sg)
	}
}

// acquireSource returns the watched address k, asking the daemon for its
// route (WatchRPF) when it is new.
func (r *Router) acquireSource(k addrKey) *source {
	s := r.sources[k]
	if s == nil {
		s = &source{key: k}
		r.sources[k] = s
		r.emit(WatchRPF{Addr: k.Addr()})
	}
	return s
}

// releaseSource notes that s may have lost its last user. It is forgotten
// (UnwatchRPF) when the event ends if nothing took it again meanwhile.
func (r *Router) releaseSource(s *source) {
	if s.unused() {
		r.unwatch = append(r.unwatch, s.key)
	}
}

// routeLimit reports whether a new entry would exceed MaxRoutes, counting
// the refusal on ifc (nil: the router's counters) and emitting LimitHit
// once per episode.
func (r *Router) routeLimit(ifc *iface) bool {
	if len(r.sgs)+r.nStars < r.cfg.MaxRoutes {
		return false
	}
	c, idx := &r.stats, 0
	if ifc != nil {
		c, idx = &ifc.stats, ifc.index
	}
	c.drop(DropRouteLimit)
	if !r.routeLimitHit {
		r.routeLimitHit = true
		c.limitHit(LimitRoutes)
		r.emit(LimitHit{IfIndex: idx, Kind: LimitRoutes, Limit: r.cfg.MaxRoutes})
	}
	return true
}
