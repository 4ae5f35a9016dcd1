package daemon

import (
	"cmp"
	"context"
	"maps"
	"net/netip"
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

// Snapshot returns the daemon's state for pim6stat, read on the loop.
func (d *Daemon) Snapshot(ctx context.Context) (*ctl.Snapshot, error) {
	var s *ctl.Snapshot
	err := d.DoContext(ctx, func() { s = d.snapshot(d.now()) })
	return s, err
}

func left(at, now time.Time) ctl.Duration {
	if at.IsZero() || !at.After(now) {
		return 0
	}
	return ctl.Duration(at.Sub(now))
}

// SnapshotAt builds the snapshot at now without going through the loop:
// for simulations that drive the daemon themselves.
func (d *Daemon) SnapshotAt(now time.Time) *ctl.Snapshot { return d.snapshot(now) }

func (d *Daemon) snapshot(now time.Time) *ctl.Snapshot {
	s := &ctl.Snapshot{
		SchemaVersion: ctl.SchemaVersion,
		Daemon: ctl.DaemonInfo{
			Version: version.String(), PID: os.Getpid(), Started: d.started, Now: now,
			Table: d.conf.Global.MRTTable, ConfigFile: d.configFile,
		},
		Counters: map[string]map[string]uint64{},
	}
	if d.deterministic {
		s.Daemon.PID = 0
	} else {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		s.Daemon.Memory = ctl.Memory{HeapAlloc: ms.HeapAlloc, HeapInuse: ms.HeapInuse, Sys: ms.Sys, NumGC: ms.NumGC}
	}
	mldState := d.mld.Snapshot(now)
	pimState := d.pim.Snapshot(now)
	mldOf := map[int]*mld.InterfaceState{}
	for i := range mldState {
		mldOf[mldState[i].IfIndex] = &mldState[i]
	}
	pimOf := map[int]*pim.InterfaceState{}
	for i := range pimState.Interfaces {
		pimOf[pimState.Interfaces[i].IfIndex] = &pimState.Interfaces[i]
	}
	mifOf := map[int]int{}

	var ifs []*iface
	for _, i := range d.sortedIfs() {
		if i.hasMIF {
			ifs = append(ifs, i)
			mifOf[i.index] = int(i.mif)
		}
	}
	slices.SortFunc(ifs, func(a, b *iface) int { return int(a.mif) - int(b.mif) })
	for _, i := range ifs {
		ci := ctl.Interface{MIF: int(i.mif), Name: i.name, IfIndex: i.index, Down: !i.up, NoListener: !i.mldOn, MTU: i.mtu}
		if i.linkLocal.IsValid() {
			ci.Addresses = append(ci.Addresses, ctl.Address{Prefix: netip.PrefixFrom(i.linkLocal, i.llBits), ScopeID: i.index})
		}
		for _, g := range i.globals {
			ci.Addresses = append(ci.Addresses, ctl.Address{Prefix: g})
		}
		if m := mldOf[i.index]; m != nil {
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
			s.Queriers = append(s.Queriers, querierOf(m, int(i.mif), now))
			s.Groups = append(s.Groups, groupsOf(m, int(i.mif))...)
			s.Counters["mld/"+i.name] = mergeCounters(d.mld.Stats(i.index).Received, d.mld.Stats(i.index).Dropped, d.mld.Stats(i.index).Sent)
		}
		if p := pimOf[i.index]; p != nil {
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
				s.Neighbors = append(s.Neighbors, neighborOf(n, int(i.mif), i.name, now))
			}
			if p.DRSelf {
				prio := p.Config.DRPriority
				ci.DRPriority = &prio
			}
			st := d.pim.Stats(i.index)
			s.Counters["pim/"+i.name] = mergeCounters(st.Received, st.Dropped, st.Sent)
		}
		s.Interfaces = append(s.Interfaces, ci)
	}
	if len(d.upcalls) > 0 {
		s.Counters["kernel"] = maps.Clone(d.upcalls)
	}
	if d.hasRegMIF {
		mifOf[pim.RegisterIf] = int(d.regMIF)
		reg := ctl.Interface{MIF: int(d.regMIF), Name: "pim6reg", Register: true, NoListener: true, MLDVersions: []int{1}}
		// As the original did, show the register MIF with the address of
		// the first interface (the source of our Registers' link).
		if len(ifs) > 0 && ifs[0].linkLocal.IsValid() {
			reg.Addresses = []ctl.Address{{Prefix: netip.PrefixFrom(ifs[0].linkLocal, ifs[0].llBits), ScopeID: ifs[0].index}}
		}
		s.Interfaces = append(s.Interfaces, reg)
		slices.SortFunc(s.Interfaces, func(a, b ctl.Interface) int { return a.MIF - b.MIF })
	}
	installed := map[mrib.SG]bool{}
	for _, e := range d.mrib.Installed() {
		installed[e.SG] = true
	}
	for _, g := range pimState.StarG {
		s.Routes = append(s.Routes, starGOf(g, mifOf))
	}
	for _, r := range pimState.Routes {
		s.Routes = append(s.Routes, d.routeOf(r, mifOf, installed[mrib.SG{Source: r.Source, Group: r.Group}]))
	}
	bsr, pc := d.pim.BSR(now), d.pimConfig(d.conf)
	s.RPSet = d.rpSetOf(pimState, bsr, pc)
	s.Limits = d.limitsOf(mldState, pimState, bsr, pc)
	s.CacheMirrors = d.mrib.Len()
	s.Timers = append(timersOf(d.mld.Timers(), "mld", now), timersOf(d.pim.Timers(), "pim", now)...)
	slices.SortFunc(s.Timers, func(a, b ctl.Timer) int {
		if a.Left != b.Left {
			return int(a.Left - b.Left)
		}
		return int(a.ID) - int(b.ID)
	})
	return s
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

func (d *Daemon) routeOf(r pim.RouteState, mifOf map[int]int, installed bool) ctl.Route {
	mifs := func(ifindexes []int) []int {
		var out []int
		for _, x := range ifindexes {
			if m, ok := mifOf[x]; ok {
				out = append(out, m)
			}
		}
		slices.Sort(out)
		return out
	}
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
		if c, err := d.k.SGCount(r.Source, r.Group); err == nil {
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
	mifs := func(ifindexes []int) []int {
		var out []int
		for _, x := range ifindexes {
			if m, ok := mifOf[x]; ok {
				out = append(out, m)
			}
		}
		slices.Sort(out)
		return out
	}
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

// rpSetOf shows the BSR state and every RP: those of the BSR's RP-set,
// the static ones and the embedded ones in use, each with how it is
// reached (the next hop toward it) or that it is this router.
func (d *Daemon) rpSetOf(st pim.State, b pim.BSRInfo, pc pim.Config) ctl.RPSet {
	var set ctl.RPSet
	if b.BSR.IsValid() {
		set.BSR = b.BSR
		set.BSRPriority = int(b.Priority)
		set.BSRHashMaskLen = int(b.HashMaskLen)
		set.BSRTimeout = ctl.Duration(b.Timeout)
	}
	if cb := pc.CandidateBSR; cb != nil {
		set.CandidateBSR = &ctl.CandidateBSR{Address: cb.Addr, Priority: int(cb.Priority), HashMaskLen: int(cb.HashMaskLen), State: string(b.State)}
	}
	if cp := pc.CandidateRP; cp != nil {
		set.CandidateRP = &ctl.CandidateRP{Address: cp.Addr, Priority: int(cp.Priority), Holdtime: ctl.Duration(cp.Holdtime),
			Groups: slices.Clone(cp.Groups), NextAdvertisement: ctl.Duration(b.NextAdvertisement)}
		if len(set.CandidateRP.Groups) == 0 {
			set.CandidateRP.Groups = []netip.Prefix{netip.MustParsePrefix("ff00::/8")}
		}
	}
	rp := func(addr netip.Addr, origin string) *ctl.RP {
		for i := range set.RPs {
			if set.RPs[i].Address == addr && set.RPs[i].Origin == origin {
				return &set.RPs[i]
			}
		}
		c := ctl.RP{Address: addr, Origin: origin, Myself: slices.Contains(d.local, addr)}
		if !c.Myself {
			r, ok := d.rpf[addr]
			if !ok {
				r = d.lookupRPF(addr)
			}
			if r.Valid {
				// An RP on a link of ours is its own next hop.
				c.Upstream = cmp.Or(r.NextHop, addr)
				c.UpstreamIf = d.name(r.IfIndex)
			}
		}
		set.RPs = append(set.RPs, c)
		return &set.RPs[len(set.RPs)-1]
	}
	for _, e := range b.RPSet {
		c := rp(e.RP, "bsr")
		c.Groups = append(c.Groups, ctl.RPGroup{Prefix: e.Prefix, Priority: int(e.Priority), Holdtime: ctl.Duration(e.Holdtime), Left: ctl.Duration(e.Left)})
	}
	for _, s := range st.RPs {
		c := rp(s.Addr, "static")
		for _, g := range s.Groups {
			c.Groups = append(c.Groups, ctl.RPGroup{Prefix: g})
		}
	}
	for _, e := range b.Embedded {
		c := rp(e.RP, "embedded")
		c.Groups = append(c.Groups, ctl.RPGroup{Prefix: e.Prefix})
	}
	return set
}
