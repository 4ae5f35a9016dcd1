package pim

import "slices"

// The state summarization macros of RFC 7761 section 4.1.5, as membership
// tests for one interface I (so that Assert's CouldAssert and the olists
// share one definition) and as sorted lists:
//
//	immediate_olist(*,G) = joins(*,G) (+) pim_include(*,G) (-) lost_assert(*,G)
//	immediate_olist(S,G) = joins(S,G) (+) pim_include(S,G) (-) lost_assert(S,G)
//	inherited_olist(S,G,rpt) = ( joins(*,G) (-) prunes(S,G,rpt) )
//	    (+) ( pim_include(*,G) (-) pim_exclude(S,G) )
//	    (-) ( lost_assert(*,G) (+) lost_assert(S,G,rpt) )
//	inherited_olist(S,G) = inherited_olist(S,G,rpt) (+) joins(S,G)
//	    (+) pim_include(S,G) (-) lost_assert(S,G)
//
// joins are the interfaces in Join or Prune-Pending (4.5.1, 4.5.2);
// prunes(S,G,rpt) those in Prune or PruneTmp (4.5.3); pim_include and
// pim_exclude count local receivers where we are the DR and have not lost
// an Assert, or where we won one:
//
//	pim_include(*,G) = { I: ((I_am_DR(I) AND NOT lost_assert(*,G,I))
//	    OR AssertWinner(*,G,I) == me) AND local_receiver_include(*,G,I) }
//	pim_include(S,G) = the same with (S,G) assert state and
//	    local_receiver_include(S,G,I)
//	pim_exclude(S,G) = the (*,G) condition AND local_receiver_exclude(S,G,I)
//
// The lost_assert macros are in assert.go.

func inSorted(l []int32, i int32) bool {
	_, ok := slices.BinarySearch(l, i)
	return ok
}

func (sg *sgEntry) inJoins(i int32) bool { _, ok := sg.findDownstream(i); return ok }

// receiverCond is the condition of pim_include and pim_exclude: we are the
// DR of I and have not lost the Assert there, or we won it.
func (r *Router) receiverCond(i int32, lost, winnerSelf bool) bool {
	if winnerSelf {
		return true
	}
	ifc := r.ifaces[int(i)]
	return ifc != nil && ifc.iAmDR() && !lost
}

// inPimIncludeSG is I in pim_include(S,G).
func (r *Router) inPimIncludeSG(sg *sgEntry, i int32) bool {
	return inSorted(sg.local, i) && r.receiverCond(i, r.lostAssertSG(sg, i), r.assertWinnerSelfSG(sg, i))
}

// inPimIncludeStar is I in pim_include(*,G).
func (r *Router) inPimIncludeStar(st *starEntry, i int32) bool {
	return st != nil && inSorted(st.local, i) && r.receiverCond(i, r.lostAssertStar(st, i), r.assertWinnerSelfStar(st, i))
}

// inPimExclude is I in pim_exclude(S,G).
func (r *Router) inPimExclude(sg *sgEntry, i int32) bool {
	if sg.x == nil || !inSorted(sg.x.excl, i) {
		return false
	}
	st := sg.grp.star
	return r.receiverCond(i, r.lostAssertStar(st, i), r.assertWinnerSelfStar(st, i))
}

// inPrunesRpt is I in prunes(S,G,rpt): Prune or PruneTmp.
func (sg *sgEntry) inPrunesRpt(i int32) bool {
	if sg.x == nil {
		return false
	}
	d := sg.x.rptDownstream(i)
	return d != nil && (d.state == RPTPrune || d.state == RPTPruneTmp)
}

// inImmediate is I in immediate_olist(S,G).
func (r *Router) inImmediate(sg *sgEntry, i int32) bool {
	return (sg.inJoins(i) || r.inPimIncludeSG(sg, i)) && !r.lostAssertSG(sg, i)
}

// inImmediateStar is I in immediate_olist(*,G).
func (r *Router) inImmediateStar(st *starEntry, i int32) bool {
	return (st.inJoins(i) || r.inPimIncludeStar(st, i)) && !r.lostAssertStar(st, i)
}

// inInheritedRpt is I in inherited_olist(S,G,rpt).
func (r *Router) inInheritedRpt(sg *sgEntry, i int32) bool {
	st := sg.grp.star
	if st == nil {
		return false
	}
	in := st.inJoins(i) && !sg.inPrunesRpt(i) || r.inPimIncludeStar(st, i) && !r.inPimExclude(sg, i)
	return in && !r.lostAssertStar(st, i) && !r.lostAssertRpt(sg, i)
}

// inInheritedSG is I in inherited_olist(S,G).
func (r *Router) inInheritedSG(sg *sgEntry, i int32) bool {
	return (r.inInheritedRpt(sg, i) || sg.inJoins(i) || r.inPimIncludeSG(sg, i)) && !r.lostAssertSG(sg, i)
}

// candidates appends to out[:0] every interface named by the downstream
// and local receiver lists of sg and st (either may be nil), sorted and
// unique: the olists are subsets of it.
func candidates(sg *sgEntry, st *starEntry, out []int32) []int32 {
	out = out[:0]
	if sg != nil {
		for i := range sg.down {
			out = append(out, sg.down[i].ifindex)
		}
		out = append(out, sg.local...)
	}
	if st != nil {
		for i := range st.down {
			out = append(out, st.down[i].ifindex)
		}
		out = append(out, st.local...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// immediateOlist is immediate_olist(S,G), appended to out[:0].
func (r *Router) immediateOlist(sg *sgEntry, out []int32) []int32 {
	if sg.x == nil || len(sg.x.asserts) == 0 {
		// No Assert state (every SSM channel but a few): joins(S,G) plus
		// the local receivers where we are the DR.
		out = out[:0]
		for i := range sg.down {
			out = append(out, sg.down[i].ifindex)
		}
		if len(sg.local) == 0 {
			return out
		}
		for _, i := range sg.local {
			if ifc := r.ifaces[int(i)]; ifc != nil && ifc.iAmDR() {
				out = append(out, i)
			}
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	out = candidates(sg, nil, out)
	return slices.DeleteFunc(out, func(i int32) bool { return !r.inImmediate(sg, i) })
}

// inheritedOlistRpt is inherited_olist(S,G,rpt), appended to out[:0].
func (r *Router) inheritedOlistRpt(sg *sgEntry, out []int32) []int32 {
	st := sg.grp.star
	if st == nil {
		return out[:0]
	}
	out = candidates(nil, st, out)
	return slices.DeleteFunc(out, func(i int32) bool { return !r.inInheritedRpt(sg, i) })
}

// inheritedOlistSG is inherited_olist(S,G), appended to out[:0].
func (r *Router) inheritedOlistSG(sg *sgEntry, out []int32) []int32 {
	out = candidates(sg, sg.grp.star, out)
	return slices.DeleteFunc(out, func(i int32) bool { return !r.inInheritedSG(sg, i) })
}

// immediateOlistStar is immediate_olist(*,G), appended to out[:0].
func (r *Router) immediateOlistStar(st *starEntry, out []int32) []int32 {
	out = candidates(nil, st, out)
	return slices.DeleteFunc(out, func(i int32) bool { return !r.inImmediateStar(st, i) })
}

// joinDesired is JoinDesired(S,G) (4.5.5): immediate_olist(S,G) is not
// empty, or the Keepalive Timer runs and inherited_olist(S,G) is not
// empty. SSM entries never run the Keepalive Timer.
//
// The olists include RPF_interface(S) when a Join or a receiver is there
// (4.1.5 takes nothing out of them for it): a downstream router on a LAN
// may join through us while our own route to S goes through another
// router on that same LAN, and only our Join brings the traffic there.
// Forwarding alone takes the incoming interface out (4.2: "oiflist =
// oiflist (-) iif"; canonical, forward.go). The Assert macros, which name
// RPF_interface(S) where they exclude it (CouldAssert, lost_assert), are
// not changed by it.
func (r *Router) joinDesired(sg *sgEntry) bool {
	r.jdBuf = r.immediateOlist(sg, r.jdBuf)
	if len(r.jdBuf) > 0 {
		return true
	}
	if sg.x == nil || !sg.x.kat.running() {
		return false
	}
	r.jdBuf = r.inheritedOlistSG(sg, r.jdBuf)
	return len(r.jdBuf) > 0
}

// joinDesiredStar is JoinDesired(*,G) (4.5.4): immediate_olist(*,G) is not
// empty (RFC 7761 dropped RFC 4601's (*,*,RP) term). A Join(*,G) heard on
// RPF_interface(RP(G)) counts, as for (S,G).
func (r *Router) joinDesiredStar(st *starEntry) bool {
	r.jdBuf = r.immediateOlistStar(st, r.jdBuf)
	return len(r.jdBuf) > 0
}

// rptJoinDesired is RPTJoinDesired(G) = JoinDesired(*,G) (4.5.7), as the
// (*,G) upstream machine has it: (*,G) entries run before the (S,G) ones
// when an event ends.
func (g *group) rptJoinDesired() bool { return g.star != nil && g.star.state == Joined }
