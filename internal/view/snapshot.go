package view

import (
	"maps"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/internal/timerq"
	"github.com/pim6sd/pim6sd/internal/version"
	"github.com/pim6sd/pim6sd/mld"
	"github.com/pim6sd/pim6sd/mrib"
	"github.com/pim6sd/pim6sd/pim"
)

// Snapshot is the state for pim6stat, the metrics and the dump: every
// interface with a MIF, MLD's queriers and groups, PIM's neighbors and
// routes with their kernel counters, the RP-set, the limits, the timers
// and the counters.
func Snapshot(st *State) *ctl.Snapshot {
	now := st.Now
	s := &ctl.Snapshot{
		SchemaVersion: ctl.SchemaVersion,
		Daemon: ctl.DaemonInfo{
			Version: version.String(), PID: os.Getpid(), Started: st.Started, Now: now,
			Table: st.Table, ConfigFile: st.ConfigFile, Restart: st.Restart, Audit: st.Audit,
		},
		Counters: map[string]map[string]uint64{},
	}
	if st.Deterministic {
		s.Daemon.PID = 0
	} else {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		s.Daemon.Memory = ctl.Memory{HeapAlloc: ms.HeapAlloc, HeapInuse: ms.HeapInuse, Sys: ms.Sys, NumGC: ms.NumGC}
	}
	mldState := st.MLD.Snapshot(now)
	pimState := st.PIM.Snapshot(now)
	mldOf := map[int]*mld.InterfaceState{}
	for i := range mldState {
		mldOf[mldState[i].IfIndex] = &mldState[i]
	}
	pimOf := map[int]*pim.InterfaceState{}
	for i := range pimState.Interfaces {
		pimOf[pimState.Interfaces[i].IfIndex] = &pimState.Interfaces[i]
	}
	mifOf := map[int]int{}

	var ifs []*Interface
	for k := range st.Interfaces {
		i := &st.Interfaces[k]
		if m, ok := st.mif(i.Index); ok {
			ifs = append(ifs, i)
			mifOf[i.Index] = int(m)
		}
	}
	slices.SortFunc(ifs, func(a, b *Interface) int { return mifOf[a.Index] - mifOf[b.Index] })
	for _, i := range ifs {
		mif := mifOf[i.Index]
		ci := ctl.Interface{MIF: mif, Name: i.Name, IfIndex: i.Index, Down: !i.Up, NoListener: !i.MLD, MTU: i.MTU}
		if i.LinkLocal.IsValid() {
			ci.Addresses = append(ci.Addresses, ctl.Address{Prefix: i.LinkLocal, ScopeID: i.Index})
		}
		for _, g := range i.Globals {
			ci.Addresses = append(ci.Addresses, ctl.Address{Prefix: g})
		}
		if m := mldOf[i.Index]; m != nil {
			ci.Querier = m.QuerierSelf
			ci.QueryIn = left(m.NextGeneralQuery, now)
			switch m.Version {
			case mld.V1:
				ci.MLDVersions, ci.MLDVersion = []int{1}, 1
			case mld.V2:
				ci.MLDVersions, ci.MLDVersion = []int{2}, 2
			default:
				ci.MLDVersions, ci.MLDVersion = []int{1, 2}, 2
			}
			s.Queriers = append(s.Queriers, querierOf(m, mif, now))
			s.Groups = append(s.Groups, groupsOf(m, mif)...)
			ms := st.MLD.Stats(i.Index)
			s.Counters["mld/"+i.Name] = mergeCounters(ms.Received, ms.Dropped, ms.Sent)
		}
		if p := pimOf[i.Index]; p != nil {
			ci.DR = p.DRSelf
			ci.PIM = len(p.Neighbors) > 0
			ci.NoNeighbor = len(p.Neighbors) == 0
			ci.HelloIn = left(p.NextHello, now)
			ci.DRAddress = p.DR
			ci.Priority = p.Config.DRPriority
			ci.GenerationID = p.GenerationID
			ci.HelloPeriod = ctl.Duration(p.Config.HelloPeriod)
			ci.HelloHoldtime = ctl.Duration(p.Config.HelloHoldtime)
			for _, n := range p.Neighbors {
				if n.Address == p.DR {
					ci.DRPriority = n.DRPriority
				}
				s.Neighbors = append(s.Neighbors, neighborOf(n, mif, i.Name, now))
			}
			if p.DRSelf {
				prio := p.Config.DRPriority
				ci.DRPriority = &prio
			}
			ps := st.PIM.Stats(i.Index)
			s.Counters["pim/"+i.Name] = mergeCounters(ps.Received, ps.Dropped, ps.Sent)
		}
		s.Interfaces = append(s.Interfaces, ci)
	}
	if len(st.Upcalls) > 0 {
		s.Counters["kernel"] = maps.Clone(st.Upcalls)
	}
	if len(st.Checkpoint) > 0 {
		s.Counters["checkpoint"] = maps.Clone(st.Checkpoint)
	}
	if regMIF, ok := st.mif(pim.RegisterIf); ok {
		mifOf[pim.RegisterIf] = int(regMIF)
		reg := ctl.Interface{MIF: int(regMIF), Name: "pim6reg", Register: true, NoListener: true, MLDVersions: []int{1}}
		// As the original did, show the register MIF with the address of
		// the first interface (the source of our Registers' link).
		if len(ifs) > 0 && ifs[0].LinkLocal.IsValid() {
			reg.Addresses = []ctl.Address{{Prefix: ifs[0].LinkLocal, ScopeID: ifs[0].Index}}
		}
		s.Interfaces = append(s.Interfaces, reg)
		slices.SortFunc(s.Interfaces, func(a, b ctl.Interface) int { return a.MIF - b.MIF })
	}
	installed := map[mrib.SG]bool{}
	for _, e := range st.MRIB.Installed() {
		installed[e.SG] = true
	}
	for _, g := range pimState.StarG {
		s.Routes = append(s.Routes, starGOf(g, mifOf))
	}
	for _, r := range pimState.Routes {
		s.Routes = append(s.Routes, routeOf(st.Kernel, r, mifOf, installed[mrib.SG{Source: r.Source, Group: r.Group}]))
	}
	bsr := st.PIM.BSR(now)
	s.RPSet = rpSetOf(st, pimState, bsr, st.PIM.BSRZones(now))
	s.AnycastRP = anycastOf(st.PIM.Anycast())
	s.Limits = limitsOf(st, mldState, pimState, bsr)
	s.CacheMirrors = st.MRIB.Len()
	s.Timers = append(timersOf(st.MLD.Timers(), "mld", now), timersOf(st.PIM.Timers(), "pim", now)...)
	slices.SortFunc(s.Timers, func(a, b ctl.Timer) int {
		if a.Left != b.Left {
			return int(a.Left - b.Left)
		}
		return int(a.ID) - int(b.ID)
	})
	return s
}

// left is the time from now until at, zero when at is zero or past.
func left(at, now time.Time) ctl.Duration {
	if at.IsZero() || !at.After(now) {
		return 0
	}
	return ctl.Duration(at.Sub(now))
}

func mergeCounters(ms ...map[string]uint64) map[string]uint64 {
	out := map[string]uint64{}
	for i, m := range ms {
		prefix := [...]string{"received/", "dropped/", "sent/"}[i]
		for k, v := range m {
			out[prefix+k] = v
		}
	}
	return out
}

func querierOf(m *mld.InterfaceState, mif int, now time.Time) ctl.Querier {
	q := ctl.Querier{
		MIF: mif, Interface: m.Name, Address: m.Querier, Self: m.QuerierSelf,
		Left: ctl.Duration(m.OtherQuerierPresent), Robustness: m.Robustness,
		QueryInterval: ctl.Duration(m.QueryInterval), Version: 2,
		OlderVersionQuerier: m.OlderVersionQuerier, OlderVersionLeft: ctl.Duration(m.OlderVersionQuerierLeft),
	}
	if m.SendsV1 {
		q.Version = 1
	}
	if !m.QuerierSince.IsZero() {
		q.Age = ctl.Duration(now.Sub(m.QuerierSince))
	}
	return q
}

func groupsOf(m *mld.InterfaceState, mif int) []ctl.MLDGroup {
	var out []ctl.MLDGroup
	for _, g := range m.Groups {
		cg := ctl.MLDGroup{
			MIF: mif, Interface: m.Name, Group: g.Group, Mode: ctl.Include,
			FilterTimerID: uint32(g.FilterTimer), FilterTimerLeft: ctl.Duration(g.FilterTimerLeft),
			Version: 2, CompatTimerID: uint32(g.CompatTimer), CompatTimerLeft: ctl.Duration(g.CompatTimerLeft),
			Routed: g.Routed,
		}
		if g.Mode == mld.Exclude {
			cg.Mode = ctl.Exclude
		}
		if g.Compat == mld.V1 {
			cg.Version = 1
		}
		for _, src := range g.Sources {
			cg.Sources = append(cg.Sources, ctl.MLDSource{Address: src.Source, TimerID: uint32(src.Timer), Left: ctl.Duration(src.Left)})
		}
		out = append(out, cg)
	}
	return out
}

func neighborOf(n pim.NeighborState, mif int, ifname string, now time.Time) ctl.Neighbor {
	cn := ctl.Neighbor{
		MIF: mif, Interface: ifname, Address: n.Address, Secondary: n.Secondary,
		Left: ctl.Duration(n.Expires), Holdtime: ctl.Duration(n.Holdtime), Forever: n.Forever,
		DRPriority: n.DRPriority, GenerationID: n.GenerationID,
	}
	if !n.UpSince.IsZero() {
		cn.Uptime = ctl.Duration(now.Sub(n.UpSince))
	}
	if l := n.LANPruneDelay; l != nil {
		cn.LANPruneDelay = &ctl.LANPruneDelay{
			PropagationDelay:   ctl.Duration(time.Duration(l.PropagationDelay) * time.Millisecond),
			OverrideInterval:   ctl.Duration(time.Duration(l.OverrideInterval) * time.Millisecond),
			JoinSuppressionOff: l.T,
		}
	}
	return cn
}

func routeOf(k Lookup, r pim.RouteState, mifOf map[int]int, installed bool) ctl.Route {
	mifs := func(ifindexes []int) []int { return mifsOf(mifOf, ifindexes) }
	cr := ctl.Route{
		Kind: ctl.SG, Source: r.Source, Group: r.Group, RP: r.RP, Flags: slices.Clone(r.Flags),
		Incoming: -1, UpstreamNeighbor: r.RPFNeighbor,
		JPTimer: ctl.Duration(r.JoinTimerLeft), UpstreamState: r.Upstream.String(), JoinDesired: r.JoinDesired,
		Leaves: mifs(r.LocalReceivers), Outgoing: mifs(r.OIFs),
		EntryTimer: ctl.Duration(r.KeepaliveLeft), RSTimer: ctl.Duration(r.RegisterStopLeft),
	}
	var asserted []int
	for _, a := range r.Asserts {
		if m, ok := mifOf[a.IfIndex]; ok {
			asserted = append(asserted, m)
		}
		cr.AssertTimer = max(cr.AssertTimer, ctl.Duration(a.Left))
	}
	slices.Sort(asserted)
	cr.Asserted = asserted
	if installed {
		cr.Flags = append(cr.Flags, "CACHE")
		if c, err := k.SGCount(r.Source, r.Group); err == nil {
			cr.Packets, cr.Bytes, cr.WrongIf = c.Packets, c.Bytes, c.WrongIf
		}
	}
	if m, ok := mifOf[r.IIF]; ok && r.IIF != 0 {
		cr.Incoming = m
	}
	for _, ds := range r.RPTDownstream {
		if m, ok := mifOf[ds.IfIndex]; ok {
			cr.Pruned = append(cr.Pruned, m)
		}
	}
	var joined, pruned []int
	maxMIF := -1
	for _, ds := range r.Downstream {
		m, ok := mifOf[ds.IfIndex]
		if !ok {
			continue
		}
		maxMIF = max(maxMIF, m)
		switch ds.State {
		case pim.Join:
			joined = append(joined, m)
		case pim.PrunePending:
			pruned = append(pruned, m)
		}
		cr.Downstream = append(cr.Downstream, ctl.Downstream{
			MIF: m, State: ds.State.String(), ExpiryLeft: ctl.Duration(ds.ExpiryLeft),
			Forever: ds.Forever, PrunePendingLeft: ctl.Duration(ds.PrunePendingLeft),
		})
	}
	cr.Joined = joined
	cr.Pruned = append(cr.Pruned, pruned...)
	slices.Sort(cr.Pruned)
	cr.Pruned = slices.Compact(cr.Pruned)
	if maxMIF >= 0 {
		cr.OIFTimers = make([]ctl.Duration, maxMIF+1)
		for _, ds := range cr.Downstream {
			cr.OIFTimers[ds.MIF] = ds.ExpiryLeft
		}
	}
	return cr
}

func timersOf(ps []timerq.Pending, engine string, now time.Time) []ctl.Timer {
	out := make([]ctl.Timer, 0, len(ps))
	for _, p := range ps {
		out = append(out, ctl.Timer{ID: uint32(p.ID), Left: left(p.At, now), Engine: engine})
	}
	return out
}

func starGOf(g pim.StarGState, mifOf map[int]int) ctl.Route {
	mifs := func(ifindexes []int) []int { return mifsOf(mifOf, ifindexes) }
	cr := ctl.Route{
		Kind: ctl.StarG, Group: g.Group, RP: g.RP, Flags: slices.Clone(g.Flags),
		Incoming: -1, UpstreamNeighbor: g.RPFNeighbor,
		JPTimer: ctl.Duration(g.JoinTimerLeft), UpstreamState: g.Upstream.String(), JoinDesired: g.JoinDesired,
		Leaves: mifs(g.LocalReceivers), Outgoing: mifs(g.ImmediateOlist),
	}
	if g.RPF.Valid {
		if m, ok := mifOf[g.RPF.IfIndex]; ok {
			cr.Incoming = m
		}
	}
	if g.IAmRP {
		if m, ok := mifOf[pim.RegisterIf]; ok {
			cr.Incoming = m
		}
	}
	for _, ds := range g.Downstream {
		m, ok := mifOf[ds.IfIndex]
		if !ok {
			continue
		}
		switch ds.State {
		case pim.Join:
			cr.Joined = append(cr.Joined, m)
		case pim.PrunePending:
			cr.Pruned = append(cr.Pruned, m)
		}
		cr.Downstream = append(cr.Downstream, ctl.Downstream{MIF: m, State: ds.State.String(), ExpiryLeft: ctl.Duration(ds.ExpiryLeft), Forever: ds.Forever, PrunePendingLeft: ctl.Duration(ds.PrunePendingLeft)})
		if len(cr.OIFTimers) <= m {
			cr.OIFTimers = append(cr.OIFTimers, make([]ctl.Duration, m+1-len(cr.OIFTimers))...)
		}
		cr.OIFTimers[m] = ctl.Duration(ds.ExpiryLeft)
	}
	slices.Sort(cr.Joined)
	slices.Sort(cr.Pruned)
	for _, a := range g.Asserts {
		if m, ok := mifOf[a.IfIndex]; ok {
			cr.Asserted = append(cr.Asserted, m)
		}
		cr.AssertTimer = max(cr.AssertTimer, ctl.Duration(a.Left))
	}
	slices.Sort(cr.Asserted)
	return cr
}

// mifsOf maps interface indexes to their MIFs (mifOf), sorted, leaving
// out interfaces without one.
func mifsOf(mifOf map[int]int, ifindexes []int) []int {
	var out []int
	for _, x := range ifindexes {
		if m, ok := mifOf[x]; ok {
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return out
}
