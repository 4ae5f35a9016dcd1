package pim

// The (*,G) entry of RFC 7761 section 4.1.2: per interface the local
// receivers (local_receiver_include(*,G,I), from MLD's EXCLUDE mode), the
// downstream Join/Prune machine of 4.5.1 (Join, Prune-Pending; the same
// machine as (S,G)'s, see downstream.go) and the Assert machine of 4.6.2;
// and the upstream machine of 4.5.4, with RPF'(*,G) and the RP our Joins
// named (the "last RP used" of 4.1.2), so that a Prune after an RP change
// names the old one.
//
// The upstream (*,G) machine (4.5.4) is the (S,G) one with (*,G) names:
//
//	NotJoined, JoinDesired(*,G) -> true: -> Joined; send Join(*,G) to
//	    RPF'(*,G); JT = t_periodic
//	Joined, JoinDesired(*,G) -> false:   -> NotJoined; send Prune(*,G)
//	Joined, JT expires:                  send Join(*,G); JT = t_periodic
//	Joined, see Join(*,G) to RPF'(*,G):  JT = max(JT, t_joinsuppress)
//	Joined, see Prune(*,G) to RPF'(*,G): JT = min(JT, t_override)
//	Joined, RPF'(*,G) GenID changes:     JT = min(JT, t_override)
//	Joined, RPF'(*,G) changes due to an Assert: JT = min(JT, t_override)
//	Joined, RPF'(*,G) changes not due to an Assert (a routing change, or
//	    RP(G) changed): Prune(*,G) to the old RPF'(*,G) naming the old RP,
//	    Join(*,G) to the new one; JT = t_periodic
//
// A Join(*,G) names RP(G) with the S, W and R bits (4.9.5.1); every
// (S,G,rpt) in the Pruned state goes along in the same message as a Prune
// (see flushJoinPrune). At the RP, RPF'(*,G) is NULL: it is Joined and
// sends nothing.
type starEntry struct {
	grp *group
	// announced: a StarGChange said it exists (it outlived the event
	// that made it).
	announced bool
	upstream
	upRP addrKey // the RP named by the Joins we sent to up

	down    []downstream // (4.5.1) not NoInfo, sorted by ifindex
	local   []int32      // local_receiver_include(*,G,I), sorted
	asserts []assertState

	touchEv uint64
	deleted bool
}

func (st *starEntry) inJoins(i int32) bool { _, ok := findDownstream(st.down, i); return ok }

func (st *starEntry) idle() bool {
	return !st.deleted && len(st.down) == 0 && len(st.local) == 0 && st.state == NotJoined &&
		!st.jt.running() && len(st.asserts) == 0
}

func (r *Router) starJTRef(st *starEntry) timerRef { return timerRef{star: st, kind: timerStarJoin} }

// getStar returns the (*,G) entry of gk, creating it unless MaxRoutes
// entries exist (counted on ifc, nil: the router).
func (r *Router) getStar(gk addrKey, ifc *iface) *starEntry {
	if g := r.groups[gk]; g != nil && g.star != nil {
		return g.star
	}
	if r.routeLimit(ifc) {
		return nil
	}
	g := r.acquireGroup(gk)
	st := &starEntry{grp: g}
	g.star = st
	r.nStars++
	r.touchStar(st)
	return st
}

// deleteStar forgets an idle (*,G) entry.
func (r *Router) deleteStar(st *starEntry) {
	if st.announced {
		r.emit(StarGChange{Group: st.grp.key.Addr()})
	}
	st.deleted = true
	st.grp.star = nil
	r.nStars--
	r.releaseGroup(st.grp)
}

// touchStar marks a (*,G) entry whose inputs changed, and the group's
// (S,G) entries, whose inherited olists follow it.
func (r *Router) touchStar(st *starEntry) {
	if st.touchEv == r.frame.Event() {
		return
	}
	st.touchEv = r.frame.Event()
	r.touchedStars = append(r.touchedStars, st)
	for _, sg := range st.grp.sgs {
		r.touch(sg)
	}
}

// starItem is the Join/Prune entry (*,G) naming the RP rp.
func starItem(g, rp addrKey) jpItem { return jpItem{g: g, s: rp, kind: jpStarG} }

// rpfPrimeStar is RPF'(*,G) (4.1.5): the (*,G) Assert winner on
// RPF_interface(RP(G)) when we lost the Assert there, else the MRIB
// neighbor toward the RP; NULL at the RP.
func (r *Router) rpfPrimeStar(g *group) upstreamNbr {
	if i := r.rpIIF(g); i > 0 && g.star != nil {
		if as := findAssert(g.star.asserts, i); as != nil && as.state == AssertLoser {
			return upstreamNbr{addr: as.winner.addr, ifindex: i}
		}
	}
	return r.rpMRIBNbr(g)
}

// updateStarUpstream brings the upstream (*,G) machine of a touched entry
// up to date.
func (r *Router) updateStarUpstream(st *starEntry, now int64) {
	if st.deleted {
		return
	}
	g := st.grp
	if g.hasRP && g.rpSrc != nil && !g.rpSrc.known && !r.iAmRP(g) {
		// RPF'(*,G) is unknown until the daemon answers WatchRPF for a
		// new RP: the machine waits (SetRPF touches the group), so that
		// an RP change toward the same neighbor sends a Join only.
		return
	}
	rpChanged := st.state == Joined && g.rp != st.upRP
	prune := starItem(g.key, st.upRP)
	if g.hasRP {
		st.upRP = g.rp
	}
	nbr := r.rpfPrimeStar(g)
	r.runUpstream(&st.upstream, nbr, nbr != r.rpMRIBNbr(g), r.joinDesiredStar(st), rpChanged,
		now, r.starJTRef(st), starItem(g.key, st.upRP), prune)
	if st.state == NotJoined {
		st.upRP = addrKey{}
	}
}

// starJoinTimerExpired is "Timer Expires" of the (*,G) machine.
func (r *Router) starJoinTimerExpired(st *starEntry, now int64) {
	if st.state != Joined {
		return
	}
	g := st.grp
	if nbr := r.rpfPrimeStar(g); nbr != st.up || nbr.ifindex == 0 || g.rp != st.upRP {
		r.touchStar(st)
		return
	}
	r.joinToward(&st.upstream, st.up, now, r.starJTRef(st), starItem(g.key, st.upRP))
}
