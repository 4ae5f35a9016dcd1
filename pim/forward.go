package pim

import "slices"

// The forwarding of an (S,G) as a kernel entry (RFC 7761 section 4.2, one
// incoming interface per entry):
//
//   - SSM group: RPF_interface(S) in, immediate_olist(S,G) out.
//   - SPT bit set, or no RP tree here, or S on one of our links:
//     RPF_interface(S) in, inherited_olist(S,G) out, plus RegisterIf while
//     the DR's Register state is Join (4.4.1: the register tunnel is an
//     outgoing interface).
//   - otherwise, with (*,G) state or at the RP: the RP tree:
//     RPF_interface(RP(G)) in (RegisterIf at the RP: decapsulated
//     packets), inherited_olist(S,G,rpt) out.
//
// The incoming interface is never an outgoing one. Choices: a directly
// connected source is always taken from its link (the RP tree cannot bring
// it better, and Update_SPTbit sets the bit on its first packet whenever
// JoinDesired(S,G) holds); where RPF_interface(S) is RPF_interface(RP(G))
// and JoinDesired(S,G) holds, inherited_olist(S,G) is installed while the
// SPT bit is still clear. The packets on that interface are S's whichever
// tree brought them, and no upcall reports the one that would set the bit;
// the bit may also wait long there: for an (S,G) Assert lost on that
// interface when RPF'(S,G) is not RPF'(*,G) (Update_SPTbit, spt.go). 4.2
// would forward those packets on inherited_olist(S,G,rpt) only, leaving
// (S,G) Joins without the traffic they asked for until then.
//
// An SSM route with no outgoing interface is deleted. A non-SSM entry is
// installed while data keeps it (a cache entry, or a running Keepalive
// Timer), even with no outgoing interface (it counts packets for
// DataActivity and stops NOCACHE upcalls), or while (S,G) state of its own
// (downstream Joins, local receivers, Joined) gives it an SPT route; an RP
// tree route is for sources with data only.

// desiredRoute computes the forwarding of the entry into r.olist: the
// incoming interface (0: none) and the sorted outgoing ones.
func (r *Router) desiredRoute(sg *sgEntry) (int32, []int32) {
	g := sg.grp
	rpfS := sg.rpfInterface()
	if g.ssm {
		r.olist = r.immediateOlist(sg, r.olist)
		return canonical(rpfS, r.olist, false)
	}
	if !sg.src.known {
		return 0, nil // the route to S decides between the trees: wait for it
	}
	x := sg.x
	spt := x != nil && x.sptBit
	rpIIF := r.rpIIF(g)
	useRPT := !spt && rpIIF != 0 && (g.star != nil || r.iAmRP(g)) && !sg.directlyConnected()
	if useRPT && rpIIF == rpfS && r.joinDesired(sg) {
		useRPT = false
	}
	dataKept := x != nil && (x.cache || x.kat.running())
	if useRPT {
		if !dataKept {
			return 0, nil
		}
		r.olist = r.inheritedOlistRpt(sg, r.olist)
		return canonical(rpIIF, r.olist, true)
	}
	if !dataKept && len(sg.down) == 0 && len(sg.local) == 0 && sg.state == NotJoined {
		return 0, nil
	}
	r.olist = r.inheritedOlistSG(sg, r.olist)
	if x != nil && x.reg == RegisterJoin && rpfS != 0 {
		r.olist = append(r.olist, RegisterIf)
		slices.Sort(r.olist)
	}
	return canonical(rpfS, r.olist, dataKept)
}

// canonical removes iif from oifs and says "no entry" (0, nil) when there
// is no incoming interface, or no outgoing one unless keep.
func canonical(iif int32, oifs []int32, keep bool) (int32, []int32) {
	oifs = slices.DeleteFunc(oifs, func(i int32) bool { return i == iif })
	if iif == 0 || len(oifs) == 0 && !keep {
		return 0, nil
	}
	return iif, oifs
}

// updateRoute emits Route when the desired forwarding of the entry changed,
// and WatchActivity or UnwatchActivity when a non-SSM entry is installed or
// removed.
func (r *Router) updateRoute(sg *sgEntry) {
	if sg.deleted {
		return
	}
	iif, oifs := r.desiredRoute(sg)
	if iif != sg.iif || !slices.Equal(oifs, sg.oifs) {
		sg.iif, sg.oifs = iif, slices.Clone(oifs)
		rt := Route{Source: sg.key.s.Addr(), Group: sg.key.g.Addr(), IIF: int(iif)}
		if len(oifs) > 0 {
			rt.OIFs = make([]int, len(oifs))
			for i, o := range oifs {
				rt.OIFs[i] = int(o)
			}
		}
		r.emit(rt)
	}
	watch := !sg.grp.ssm && sg.iif != 0
	if sg.x == nil && !watch || sg.x != nil && sg.x.watching == watch {
		return
	}
	x := sg.ext()
	x.watching = watch
	if watch {
		r.nWatching++
	} else {
		r.nWatching--
	}
	if watch {
		r.emit(WatchActivity{Source: sg.key.s.Addr(), Group: sg.key.g.Addr()})
	} else {
		x.counted = false
		r.emit(UnwatchActivity{Source: sg.key.s.Addr(), Group: sg.key.g.Addr()})
	}
}
