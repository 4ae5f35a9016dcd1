package pim

import (
	"cmp"
	"slices"

	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// receiveJoinPrune handles a Join/Prune message from the neighbor src on
// the interface (RFC 7761 section 4.5). Each (S,G) entry of it is taken on
// its own:
//
//   - addressed to us (the Upstream Neighbor Address is one of our
//     addresses on the interface): "Receive Join(S,G)" or "Receive
//     Prune(S,G)" of the downstream machine (4.5.2);
//   - addressed to another neighbor: "See Join(S,G) to RPF'(S,G)" or "See
//     Prune(S,G) to RPF'(S,G)" of our upstream machine (4.5.5), if that
//     neighbor is our RPF' for (S,G) on this interface.
//
// In this stage only SSM groups are routed: group sets outside the SSM
// range are counted ("not-ssm") and skipped, as are (*,G) and (S,G,rpt)
// entries in the SSM range (RFC 4607 section 2, RFC 7761 section 4.8.1:
// there is no shared tree for SSM groups).
func (r *Router) receiveJoinPrune(ifc *iface, now int64, jp *pimmsg.JoinPrune) {
	toUs := ifc.isOwn(jp.UpstreamNeighbor)
	var target *neighbor
	if !toUs {
		target = ifc.nbrFor(jp.UpstreamNeighbor)
	}
	for gi := range jp.Groups {
		grp := &jp.Groups[gi]
		ifc.stats.joins += uint64(len(grp.Joins))
		ifc.stats.prunes += uint64(len(grp.Prunes))
		g := grp.Group.Addr.WithZone("")
		if grp.Group.MaskLen != 128 || !validGroup(g) {
			ifc.stats.drop(DropGroup)
			continue
		}
		if !r.cfg.isSSM(g) {
			ifc.stats.drop(DropNotSSM)
			continue
		}
		if !toUs && target == nil {
			continue // for a router we do not know: nothing to see
		}
		gk := keyOf(g)
		for i := range grp.Joins {
			r.joinPruneEntry(ifc, now, gk, &grp.Joins[i], true, target, jp.Holdtime)
		}
		for i := range grp.Prunes {
			r.joinPruneEntry(ifc, now, gk, &grp.Prunes[i], false, target, jp.Holdtime)
		}
	}
}

// joinPruneEntry handles one source of a group set; target is nil when the
// message is addressed to us.
func (r *Router) joinPruneEntry(ifc *iface, now int64, gk addrKey, src *pimmsg.Source, join bool, target *neighbor, holdtime uint16) {
	if src.WildCard || src.RPT {
		ifc.stats.drop(DropSSMShared)
		return
	}
	s := src.Addr.WithZone("")
	if src.MaskLen != 128 || !validSource(s) {
		ifc.stats.drop(DropSource)
		return
	}
	k := sgKey{gk, keyOf(s)}
	sg := r.sgs[k]
	switch {
	case target != nil && sg == nil:
	case target != nil && join:
		r.seeJoin(sg, ifc, target.key, holdtime, now)
	case target != nil:
		r.seePrune(sg, ifc, target.key, now)
	case join:
		if sg == nil && holdtime != 0 {
			sg = r.getSG(k, ifc)
		}
		if sg != nil {
			r.receiveJoin(sg, ifc, holdtime, now)
		}
	case sg != nil:
		r.receivePrune(sg, ifc, now)
	}
}

// jpItem is one (S,G) Join or Prune to send in this event.
type jpItem struct {
	sg      sgKey
	nbr     addrKey // the Upstream Neighbor Address
	ifindex int32
	join    bool
}

// queueJP records a Join or Prune(S,G) to the neighbor. What the event
// queues is sent when it ends, aggregated (flushJoinPrune); for one (S,G)
// and neighbor the last one queued wins, as it says the final state.
func (r *Router) queueJP(to upstreamNbr, k sgKey, join bool) {
	r.jps = append(r.jps, jpItem{sg: k, nbr: to.addr, ifindex: to.ifindex, join: join})
}

func (a jpItem) compareDest(b jpItem) int {
	if c := cmp.Compare(a.ifindex, b.ifindex); c != 0 {
		return c
	}
	return a.nbr.compare(b.nbr)
}

// flushJoinPrune sends what the event queued: one Join/Prune message per
// interface and upstream neighbor (split to the interface MTU), groups and
// sources in address order (4.9.5). An interface on which no Hello with our
// current address has gone out yet gets one first (4.3.1: "MUST
// immediately send the relevant Hello message ... followed by the
// Join/Prune").
func (r *Router) flushJoinPrune(now int64) {
	if len(r.jps) == 0 {
		return
	}
	slices.SortStableFunc(r.jps, func(a, b jpItem) int {
		if c := a.compareDest(b); c != 0 {
			return c
		}
		return a.sg.compare(b.sg)
	})
	// Keep the last item of each (interface, neighbor, S, G).
	out := r.jps[:0]
	for i, it := range r.jps {
		if i+1 < len(r.jps) && r.jps[i+1].compareDest(it) == 0 && r.jps[i+1].sg == it.sg {
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
// and neighbor, sorted by (G, S). Sources are (S,G) entries: S bit set, W
// and R clear, mask 128 (4.9.5.1); the Holdtime is J/P_HoldTime.
func (r *Router) sendJoinPrune(items []jpItem, now int64) {
	ifc := r.ifaces[int(items[0].ifindex)]
	if ifc == nil {
		return // the interface went away in this event
	}
	if !ifc.helloSent {
		r.sendHello(ifc, now)
	}
	jp := &pimmsg.JoinPrune{UpstreamNeighbor: items[0].nbr.addr(), Holdtime: seconds(ifc.cfg.JoinPruneHoldtime)}
	// One backing array for every source: joins and prunes of a group are
	// sub-slices of it.
	srcs := make([]pimmsg.Source, len(items))
	for i := 0; i < len(items); {
		g := items[i].sg.g
		j := i
		for j < len(items) && items[j].sg.g == g {
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
			s := pimmsg.Source{Addr: it.sg.s.addr(), MaskLen: 128, Sparse: true}
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
		grp := pimmsg.JoinPruneGroup{Group: pimmsg.Group{Addr: g.addr(), MaskLen: 128}}
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
