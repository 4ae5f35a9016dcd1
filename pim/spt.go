package pim

// Data arrival (RFC 7761 section 4.2) and the switch from the RP tree to
// the shortest-path tree (4.2.1, 4.2.2). The kernel forwards; the engine
// sees a packet only as a NoCache or WrongIIF upcall or as grown counters
// (cache.go), and applies the rules of 4.2 that change state:
//
//	on data from S to G arriving on iif:
//	  if DirectlyConnected(S) and iif == RPF_interface(S):
//	      set KeepaliveTimer(S,G) to Keepalive_Period
//	  if iif == RPF_interface(S) and UpstreamJPState(S,G) == Joined and
//	      inherited_olist(S,G) != NULL:
//	      set KeepaliveTimer(S,G) to Keepalive_Period
//	  Update_SPTbit(S,G,iif)
//	  if iif == RPF_interface(S) and SPTbit(S,G): forward on the SPT
//	  else if iif == RPF_interface(RP(G)) and not SPTbit(S,G):
//	      forward on the RP tree; CheckSwitchToSpt(S,G)
//	  else: the RPF check failed: Assert(S,G) on iif if SPTbit and iif is
//	      in inherited_olist(S,G), Assert(*,G) if not SPTbit and iif is in
//	      inherited_olist(S,G,rpt) (assert.go)
//
//	Update_SPTbit(S,G,iif): SPTbit = TRUE if iif == RPF_interface(S) and
//	  JoinDesired(S,G) and (DirectlyConnected(S) or
//	  RPF_interface(S) != RPF_interface(RP(G)) or inherited_olist(S,G,rpt)
//	  == NULL or (RPF'(S,G) == RPF'(*,G) and RPF'(S,G) != NULL) or
//	  I_Am_Assert_Loser(S,G,iif))
//
// The conditions say when a packet on RPF_interface(S) can only have come
// down the SPT. Where S and the RP are reached through the same interface
// with different upstream neighbors, a packet there may still be the RP
// tree's: the bit waits until RPF'(S,G) and RPF'(*,G) agree or we lose an
// (S,G) Assert there (the duplicates of both trees on the LAN bring one;
// the Assert machine's A6 sets the bit itself, 4.6.1), and until then the
// RP tree's copy is taken and S is not pruned off it (PruneDesired(S,G,rpt),
// sgrpt.go). SPTbit is cleared when the upstream (S,G) machine leaves
// Joined (4.5.5) and when the Keepalive Timer expires (kat.go).
//
//	CheckSwitchToSpt(S,G): if (pim_include(*,G) (-) pim_exclude(S,G)
//	  (+) pim_include(S,G)) != NULL and SwitchToSptDesired(S,G):
//	  set KeepaliveTimer(S,G) to Keepalive_Period (which makes
//	  JoinDesired(S,G) true: the Join toward S)
//
// SwitchToSptDesired is Config.SPT: always (first packet), never, or once
// the (S,G) rate measured over an ActivityInterval exceeded the threshold.
// There is no switch back to the RP tree when the rate falls: the (S,G)
// state lasts while data keeps the Keepalive Timer running.
//
// SSM groups have no RP tree: their SPT bit is always set and the KAT does
// not run; data only matters to their Asserts.

// dataArrived applies the rules above to a packet from S to G on iif. It
// waits for the route to S when it is not known yet (a new source): then
// SetRPF runs it (pendingData).
func (r *Router) dataArrived(sg *sgEntry, iif int32, now int64) {
	if iif == RegisterIf {
		return // decapsulated at the RP: the Register itself counted (rpregister.go)
	}
	if !sg.src.known {
		x := sg.ext()
		x.pending, x.pendingIIF = true, iif
		return
	}
	r.touch(sg)
	g := sg.grp
	rpfS := sg.rpfInterface()
	if g.ssm {
		if iif != rpfS {
			r.assertData(sg, iif, now)
		}
		return
	}
	x := sg.ext()
	if iif == rpfS && rpfS != 0 {
		if sg.directlyConnected() {
			r.setKAT(sg, r.cfg.KeepalivePeriod, now)
		}
		if sg.state == Joined && len(r.inheritedOlistSG(sg, r.olist)) > 0 {
			r.setKAT(sg, r.cfg.KeepalivePeriod, now)
		}
	}
	r.updateSPTbit(sg, iif)
	rpIIF := r.rpIIF(g)
	switch {
	case iif == rpfS && x.sptBit:
	case iif == rpIIF && !x.sptBit:
		r.checkSwitchToSpt(sg, now)
	default:
		r.assertData(sg, iif, now)
	}
}

// pendingData runs the data arrivals that waited for the route to s.
func (r *Router) pendingData(s *source, now int64) {
	for _, sg := range s.sgs {
		if x := sg.x; x != nil && x.pending {
			x.pending = false
			r.dataArrived(sg, x.pendingIIF, now)
		}
	}
}

// updateSPTbit is Update_SPTbit(S,G,iif) (4.2.2).
func (r *Router) updateSPTbit(sg *sgEntry, iif int32) {
	x := sg.ext()
	if x.sptBit || iif != sg.rpfInterface() || iif == 0 || !r.joinDesired(sg) {
		return
	}
	if r.sptBitCondition(sg, iif) {
		x.sptBit = true
	}
}

// sptBitCondition is the disjunction of Update_SPTbit(S,G,iif) (4.2.2)
// for a packet on iif == RPF_interface(S): DirectlyConnected(S), or
// RPF_interface(S) != RPF_interface(RP(G)), or inherited_olist(S,G,rpt)
// == NULL, or RPF'(S,G) == RPF'(*,G) != NULL, or I_Am_Assert_Loser(S,G,iif).
func (r *Router) sptBitCondition(sg *sgEntry, iif int32) bool {
	g := sg.grp
	if sg.directlyConnected() || iif != r.rpIIF(g) {
		return true
	}
	if len(r.inheritedOlistRpt(sg, r.olist)) == 0 {
		return true
	}
	if up := r.rpfPrime(sg); up.ifindex != 0 && up == r.rpfPrimeStar(g) {
		return true
	}
	as := sg.assertOn(iif)
	return as != nil && as.state == AssertLoser
}

// checkSwitchToSpt is CheckSwitchToSpt(S,G) (4.2.1).
func (r *Router) checkSwitchToSpt(sg *sgEntry, now int64) {
	if !r.switchToSptDesired(sg) || !r.hasLocalWanting(sg) {
		return
	}
	r.setKAT(sg, r.cfg.KeepalivePeriod, now)
}

// hasLocalWanting is (pim_include(*,G) (-) pim_exclude(S,G)) (+)
// pim_include(S,G) != NULL: we are a last-hop router for S.
func (r *Router) hasLocalWanting(sg *sgEntry) bool {
	st := sg.grp.star
	if st != nil {
		for _, i := range st.local {
			if r.inPimIncludeStar(st, i) && !r.inPimExclude(sg, i) {
				return true
			}
		}
	}
	for _, i := range sg.local {
		if r.inPimIncludeSG(sg, i) {
			return true
		}
	}
	return false
}

// switchToSptDesired is SwitchToSptDesired(S,G), the policy of Config.SPT.
func (r *Router) switchToSptDesired(sg *sgEntry) bool {
	p := r.cfg.SPT
	switch {
	case p.Never:
		return false
	case p.Rate == 0:
		return true
	}
	return sg.x != nil && sg.x.rateHigh
}
