package pim

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// receiveJoinPrune handles a Join/Prune message from the neighbor src on
// the interface (RFC 7761 sections 4.5 and 4.9.5.1). Each group set is
// taken in the order of 4.5: the (*,G) entries (W and R set, naming the
// RP), then the (S,G,rpt) entries (R set), then the (S,G) entries; at the
// end of the message, the (S,G,rpt) machines that a Join(*,G) moved to a
// Tmp state and no Prune(S,G,rpt) moved back go to NoInfo ("End of
// Message", 4.5.3). An entry is
//
//   - addressed to us (the Upstream Neighbor Address is one of our
//     addresses on the interface): an event of our downstream machines
//     (4.5.1, 4.5.2, 4.5.3), and "Receive Join" of the Assert machines
//     (a loser goes back to NoInfo, 4.6);
//   - addressed to another neighbor: "See Join/Prune" of our upstream
//     machines (4.5.4, 4.5.5, 4.5.7), if that neighbor is their RPF' on
//     this interface.
//
// SSM groups take (S,G) entries only (4.8.1: (*,G) and (S,G,rpt) entries
// are counted "ssm-shared"). A Join(*,G) must name RP(G) (4.5.1: dropped,
// "wrong-rp" or "no-rp", otherwise); a Prune(*,G) is taken whatever RP it
// names, so that a router whose RP changed can still prune the old tree.
func (r *Router) receiveJoinPrune(ifc *iface, now int64, jp *pimmsg.JoinPrune) {
	toUs := ifc.isOwn(jp.UpstreamNeighbor)
	var target *neighbor
	if !toUs {
		target = ifc.nbrFor(jp.UpstreamNeighbor)
	}
	var endOfMessage []*group
	for gi := range jp.Groups {
		grp := &jp.Groups[gi]
		ifc.stats.joins += uint64(len(grp.Joins))
		ifc.stats.prunes += uint64(len(grp.Prunes))
		g := grp.Group.Addr.WithZone("")
		if grp.Group.MaskLen != 128 || !validGroup(g) {
			ifc.stats.drop(DropGroup)
			continue
		}
		if r.scopeBorder(ifc, g) { // zones.go
			ifc.stats.drop(DropScopeBorder)
			continue
		}
		if !toUs && target == nil {
			continue // for a router we do not know: nothing to see
		}
		set := jpSet{ifc: ifc, now: now, g: g, gk: keyOf(g), ssm: r.cfg.isSSM(g), target: target, holdtime: jp.Holdtime}
		// (*,G) first, then (S,G,rpt), then (S,G).
		for pass := range 3 {
			for i := range grp.Joins {
				r.joinPruneEntry(&set, &grp.Joins[i], true, pass)
			}
			for i := range grp.Prunes {
				r.joinPruneEntry(&set, &grp.Prunes[i], false, pass)
			}
		}
		if set.starJoined != nil {
			endOfMessage = append(endOfMessage, set.starJoined)
		}
	}
	for _, g := range endOfMessage {
		if r.groups[g.key] == g {
			r.rptEndOfMessage(g, int32(ifc.index))
		}
	}
}

// jpSet is one group set being processed.
type jpSet struct {
	ifc      *iface
	now      int64
	g        netip.Addr
	gk       addrKey
	ssm      bool
	target   *neighbor // nil: addressed to us
	holdtime uint16
	// starJoined is the group when a Join(*,G) to us moved (S,G,rpt)
	// machines to a Tmp state.
	starJoined *group
}

// joinPruneEntry handles one source entry of a group set in its pass: 0
// for (*,G), 1 for (S,G,rpt), 2 for (S,G).
func (r *Router) joinPruneEntry(set *jpSet, src *pimmsg.Source, join bool, pass int) {
	ifc := set.ifc
	kind := jpSG
	switch {
	case src.WildCard && !src.RPT:
		if pass == 0 {
			ifc.stats.drop(DropWildcard)
		}
		return
	case src.WildCard:
		kind = jpStarG
	case src.RPT:
		kind = jpSGRpt
	}
	if passOf(kind) != pass {
		return
	}
	if kind != jpSG && set.ssm {
		ifc.stats.drop(DropSSMShared)
		return
	}
	s := src.Addr.WithZone("")
	if src.MaskLen != 128 || !validSource(s) {
		ifc.stats.drop(DropSource)
		return
	}
	switch kind {
	case jpStarG:
		r.starGEntry(set, s, join)
	case jpSGRpt:
		r.sgRptEntry(set, keyOf(s), join)
	default:
		r.sgEntryJP(set, keyOf(s), join)
	}
}

func passOf(k jpKind) int {
	switch k {
	case jpStarG:
		return 0
	case jpSGRpt:
		return 1
	}
	return 2
}

// starGEntry is a Join(*,G) or Prune(*,G) naming the RP rp.
func (r *Router) starGEntry(set *jpSet, rp netip.Addr, join bool) {
	ifc, now := set.ifc, set.now
	grp := r.groups[set.gk]
	var st *starEntry
	if grp != nil {
		st = grp.star
	}
	if set.target != nil {
		if st == nil {
			return
		}
		tk := set.target.key
		if join {
			r.seeJoin(&st.upstream, r.starJTRef(st), ifc, tk, set.holdtime, now)
			return
		}
		r.seePrune(&st.upstream, r.starJTRef(st), ifc, tk, now)
		// See Prune(*,G) to RPF'(S,G) (4.5.5).
		for _, sg := range grp.sgs {
			r.seePrune(&sg.upstream, r.jtRef(sg), ifc, tk, now)
		}
		return
	}
	if !join {
		if st != nil {
			r.receivePrune(dsHost{star: st}, ifc, now)
		}
		return
	}
	want, ok := r.rpFor(set.g)
	switch {
	case !ok:
		ifc.stats.drop(DropNoRP)
		return
	case want != keyOf(rp):
		ifc.stats.drop(DropWrongRP)
		return
	}
	if st == nil {
		if set.holdtime == 0 {
			return
		}
		if st = r.getStar(set.gk, ifc); st == nil {
			return
		}
	}
	i := int32(ifc.index)
	r.receiveJoin(dsHost{star: st}, ifc, set.holdtime, now)
	if as := findAssert(st.asserts, i); as != nil && as.state == AssertLoser {
		r.dropAssert(asHost{star: st}, i)
	}
	if r.rptSeeStarJoin(st.grp, i) {
		set.starJoined = st.grp
	}
}

// sgRptEntry is a Join(S,G,rpt) or Prune(S,G,rpt).
func (r *Router) sgRptEntry(set *jpSet, sk addrKey, join bool) {
	ifc, now := set.ifc, set.now
	k := sgKey{set.gk, sk}
	sg := r.sgs[k]
	if t := set.target; t != nil {
		switch {
		case join && sg != nil:
			r.rptSeeJoin(sg, ifc, t.key)
		case !join:
			if sg == nil {
				// A Prune(S,G,rpt) for a source we get from the RP tree
				// but have no entry for: create one to override it if
				// we want S (4.5.7).
				grp := r.groups[set.gk]
				if grp == nil || !grp.rptJoinDesired() || grp.star.up != (upstreamNbr{t.key, int32(ifc.index)}) {
					return
				}
				if sg = r.getSG(k, ifc); sg == nil {
					return
				}
			}
			r.rptSeePrune(sg, ifc, t.key, now)
			// See Prune(S,G,rpt) to RPF'(S,G) (4.5.5).
			r.seePrune(&sg.upstream, r.jtRef(sg), ifc, t.key, now)
		}
		return
	}
	if join {
		if sg != nil {
			r.rptReceiveJoin(sg, ifc)
		}
		return
	}
	if sg == nil {
		if set.holdtime == 0 {
			return
		}
		if sg = r.getSG(k, ifc); sg == nil {
			return
		}
	}
	r.rptReceivePrune(sg, ifc, set.holdtime, now)
}

// sgEntryJP is a Join(S,G) or Prune(S,G).
func (r *Router) sgEntryJP(set *jpSet, sk addrKey, join bool) {
	ifc, now := set.ifc, set.now
	k := sgKey{set.gk, sk}
	sg := r.sgs[k]
	if t := set.target; t != nil {
		if sg == nil {
			return
		}
		if join {
			r.seeJoin(&sg.upstream, r.jtRef(sg), ifc, t.key, set.holdtime, now)
			return
		}
		r.seePrune(&sg.upstream, r.jtRef(sg), ifc, t.key, now)
		// See Prune(S,G) to RPF'(S,G,rpt) (4.5.7).
		if !set.ssm {
			r.rptSeePrune(sg, ifc, t.key, now)
		}
		return
	}
	if !join {
		if sg != nil {
			r.receivePrune(dsHost{sg: sg}, ifc, now)
		}
		return
	}
	if sg == nil && set.holdtime != 0 {
		sg = r.getSG(k, ifc)
	}
	if sg == nil {
		return
	}
	i := int32(ifc.index)
	r.receiveJoin(dsHost{sg: sg}, ifc, set.holdtime, now)
	if as := sg.assertOn(i); as != nil && as.state == AssertLoser {
		r.dropAssert(asHost{sg: sg}, i)
	}
}

// jpKind says what a Join/Prune entry is for.
type jpKind uint8

const (
	jpSG    jpKind = iota // (S,G): S bit only
	jpStarG               // (*,G): S, W and R, naming the RP
	jpSGRpt               // (S,G,rpt): S and R
)

// jpItem is one Join or Prune to send in this event.
type jpItem struct {
	g, s    addrKey // s is the RP for (*,G)
	kind    jpKind
	join    bool
	nbr     addrKey // the Upstream Neighbor Address
	ifindex int32
}

// queueJP records a Join or Prune to the neighbor. What the event queues is
// sent when it ends, aggregated (flushJoinPrune); for one entry and
// neighbor the last one queued wins, as it says the final state.
func (r *Router) queueJP(to upstreamNbr, it jpItem, join bool) {
	it.nbr, it.ifindex, it.join = to.addr, to.ifindex, join
	r.jps = append(r.jps, it)
}

func (a jpItem) compareDest(b jpItem) int {
	if c := cmp.Compare(a.ifindex, b.ifindex); c != 0 {
		return c
	}
	return a.nbr.Compare(b.nbr)
}

// compareEntry orders the entries of one destination: by group, kind and
// source; a group's (*,G) entries are one entry whatever RP they name.
func (a jpItem) compareEntry(b jpItem) int {
	if c := a.g.Compare(b.g); c != 0 {
		return c
	}
	if c := cmp.Compare(passOf(a.kind), passOf(b.kind)); c != 0 {
		return c
	}
	if a.kind == jpStarG {
		return 0
	}
	return a.s.Compare(b.s)
}

// flushJoinPrune sends what the event queued: one Join/Prune message per
// interface and upstream neighbor (split to the interface MTU), groups and
// sources in address order (4.9.5). Every Join(*,G) carries the Prunes of
// the group's (S,G,rpt) entries in the Pruned state toward the same
// neighbor (4.5.6: they are refreshed with it). An interface on which no
// Hello with our current address has gone out yet gets one first (4.3.1:
// "MUST immediately send the relevant Hello message ... followed by the
// Join/Prune").
func (r *Router) flushJoinPrune(now int64) {
	if len(r.jps) == 0 {
		return
	}
	for _, it := range r.jps {
		if it.kind != jpStarG || !it.join {
			continue
		}
		g := r.groups[it.g]
		if g == nil {
			continue
		}
		to := upstreamNbr{it.nbr, it.ifindex}
		for _, sg := range g.sgs {
			if x := sg.x; x != nil && x.rpt == RPTPruned && x.rptUp == to {
				r.queueJP(to, rptItem(sg.key), false)
			}
		}
	}
	slices.SortStableFunc(r.jps, func(a, b jpItem) int {
		if c := a.compareDest(b); c != 0 {
			return c
		}
		return a.compareEntry(b)
	})
	// Keep the last item of each (interface, neighbor, entry).
	out := r.jps[:0]
	for i, it := range r.jps {
		if i+1 < len(r.jps) && r.jps[i+1].compareDest(it) == 0 && r.jps[i+1].compareEntry(it) == 0 {
			continue
		}
		out = append(out, it)
	}
	for i := 0; i < len(out); {
		j := i + 1
		for j < len(out) && out[j].compareDest(out[i]) == 0 {
			j++
		}
		r.sendJoinPrune(out[i:j], now)
		i = j
	}
	clear(r.jps)
	r.jps = r.jps[:0]
}

// sendJoinPrune builds and emits the messages for items of one interface
// and neighbor, sorted by entry. Sources are encoded as 4.9.5.1 says: (S,G)
// with the S bit, (*,G) as the RP address with S, W and R, (S,G,rpt) with
// S and R; masks 128. In a group set the Join(*,G) comes first and the
// (S,G,rpt) Prunes first among the prunes, so that SplitJoinPrune keeps
// them in one message. The Holdtime is J/P_HoldTime.
func (r *Router) sendJoinPrune(items []jpItem, now int64) {
	ifc := r.ifaces[int(items[0].ifindex)]
	if ifc == nil {
		return // the interface went away in this event
	}
	r.helloFirst(ifc, now)
	jp := &pimmsg.JoinPrune{UpstreamNeighbor: items[0].nbr.Addr(), Holdtime: seconds(ifc.cfg.JoinPruneHoldtime)}
	// One backing array for every source: joins and prunes of a group are
	// sub-slices of it.
	srcs := make([]pimmsg.Source, len(items))
	for i := 0; i < len(items); {
		g := items[i].g
		j := i
		for j < len(items) && items[j].g == g {
			j++
		}
		run := srcs[i:j]
		nj := 0
		for _, it := range items[i:j] {
			if it.join {
				nj++
			}
		}
		a, b := 0, nj
		for _, it := range items[i:j] {
			s := pimmsg.Source{Addr: it.s.Addr(), MaskLen: 128, Sparse: true,
				WildCard: it.kind == jpStarG, RPT: it.kind != jpSG}
			if it.join {
				run[a] = s
				a++
				ifc.stats.joinsSent++
			} else {
				run[b] = s
				b++
				ifc.stats.prunesSent++
			}
		}
		// Prunes: (S,G,rpt) first (they sort before (S,G) already, and
		// (*,G) first among joins); a Prune(*,G) goes last.
		prunes := run[nj:]
		if len(prunes) > 0 && prunes[0].WildCard {
			first := prunes[0]
			copy(prunes, prunes[1:])
			prunes[len(prunes)-1] = first
		}
		grp := pimmsg.JoinPruneGroup{Group: pimmsg.Group{Addr: g.Addr(), MaskLen: 128}}
		if nj > 0 {
			grp.Joins = run[:nj:nj]
		}
		if nj < len(run) {
			grp.Prunes = run[nj:len(run):len(run)]
		}
		jp.Groups = append(jp.Groups, grp)
		i = j
	}
	msgs, err := pimmsg.SplitJoinPrune(jp, ifc.cfg.MTU-ipv6HeaderLen)
	if err != nil {
		// Cannot happen: IfConfig.Validate keeps the MTU at 1280 or more.
		ifc.stats.drop(DropSendError)
		return
	}
	for _, m := range msgs {
		r.emit(SendPIM{IfIndex: ifc.index, Src: ifc.self, Dst: AllPIMRouters, Msg: m})
		ifc.stats.sentMsg(SentJoinPrune)
	}
}
