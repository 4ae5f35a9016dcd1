package view

import (
	"cmp"
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

// Snapshot is the state for pim6stat, the metrics and the dump: every
// interface with a MIF, MLD's queriers and groups, PIM's neighbors and
// routes with their kernel counters, the RP-set, the limits, the timers
// and the counters. It is built at once (SnapshotOf).
func Snapshot(st *State) *ctl.Snapshot {
	s, err := SnapshotOf(st, ctl.Query{})
	if err != nil {
		panic("view: the whole snapshot failed: " + err.Error()) // the zero query cannot
	}
	return s
}

// SnapshotOf is the part of the state q asks for (ctl.Query.Apply says
// which), built at once: for simulations and tests, which own the state.
// The daemon builds it with a Build, a few entries at a time.
func SnapshotOf(st *State, q ctl.Query) (*ctl.Snapshot, error) {
	b := NewBuild(q)
	for {
		if err := b.Read(st); err != nil {
			return nil, err
		}
		if b.Work() {
			return b.Snapshot(), nil
		}
	}
}

// ReadBudget is how many group records and routes one Build.Read reads
// at most.
const ReadBudget = 256

// A Build makes a snapshot, or the part a query asks for, in steps, so
// that a large one does not hold the daemon's loop for its whole build:
// Read reads the next piece of the state the loop lends it (the first
// everything but the group records and routes, and the keys of those
// that the query may keep; each next one at most Budget records and
// routes), and Work, off the loop, does what needs no state (sorting the
// keys, the timers) and says whether the snapshot is complete.
//
// Each piece is read at its own instant: an entry shows its state of
// then, one that went away meanwhile is left out, one that came is not
// listed, and the interface table (the MIF of each interface) is the
// first Read's. Times left are counted from the first Read's Now,
// Daemon.Now.
type Build struct {
	// Budget is how many group records and routes one Read reads;
	// ReadBudget when 0.
	Budget int

	q       ctl.Query
	s       *ctl.Snapshot
	now     time.Time
	started bool
	sorted  bool
	memory  bool // Daemon.Memory is to be read (off the loop)

	mif   int         // the MIF of q.Interface, -1 when none
	mifOf map[int]int // interface index (pim.RegisterIf: the register MIF) to MIF

	// What is left to read, and the timers to convert.
	groups []groupKey
	stars  []netip.Addr
	sgs    []pim.SG
	timers [2][]timerq.Pending // MLD's, PIM's
}

// mldCounts are what the first read takes of an MLD interface's counts.
type mldCounts struct {
	stats               mld.Stats
	groups, mostSources int
}

// groupKey names a group record to read.
type groupKey struct {
	ifindex, mif int
	name         string
	group        netip.Addr
}

// NewBuild starts a build of what q asks for.
func NewBuild(q ctl.Query) *Build {
	q.Parts = slices.Clone(q.Parts)
	return &Build{q: q, mif: -1}
}

// Read reads the next piece of the state, on the loop. The first Read
// fails when the query names an interface without a MIF
// (*ctl.NoInterfaceError); the build is then over.
func (b *Build) Read(st *State) error {
	if !b.started {
		b.started = true
		return b.head(st)
	}
	s, q, n := b.s, b.q, b.budget()
	for ; n > 0 && len(b.groups) > 0; n-- {
		k := b.groups[0]
		b.groups = b.groups[1:]
		if gs, ok := st.MLD.GroupStateOf(b.now, k.ifindex, k.group); ok {
			if cg := groupOf(gs, k.mif, k.name); q.KeepsGroup(&cg) {
				s.Groups = append(s.Groups, cg)
			}
		}
	}
	for ; n > 0 && len(b.stars) > 0; n-- {
		g := b.stars[0]
		b.stars = b.stars[1:]
		if gs, ok := st.PIM.StarGStateOf(b.now, g); ok {
			if r := starGOf(gs, b.mifOf); q.KeepsRoute(&r, b.mif) {
				s.Routes = append(s.Routes, r)
			}
		}
	}
	for ; n > 0 && len(b.sgs) > 0; n-- {
		k := b.sgs[0]
		b.sgs = b.sgs[1:]
		if rs, ok := st.PIM.RouteStateOf(b.now, k); ok {
			installed := st.MRIB.IsInstalled(mrib.SG{Source: k.Source, Group: k.Group})
			if r := routeOf(st.Kernel, rs, b.mifOf, installed); q.KeepsRoute(&r, b.mif) {
				s.Routes = append(s.Routes, r)
			}
		}
	}
	return nil
}

func (b *Build) budget() int {
	if b.Budget > 0 {
		return b.Budget
	}
	return ReadBudget
}

// Work does, off the loop, what the Reads so far left that needs no
// state, and says whether the snapshot is complete.
func (b *Build) Work() bool {
	if !b.started {
		return false
	}
	if !b.sorted {
		b.sorted = true
		// What the reads append is known: no growing on the loop.
		b.s.Groups = slices.Grow(b.s.Groups, len(b.groups))
		b.s.Routes = slices.Grow(b.s.Routes, len(b.stars)+len(b.sgs))
		slices.SortFunc(b.groups, func(x, y groupKey) int { return cmp.Or(x.mif-y.mif, x.group.Compare(y.group)) })
		slices.SortFunc(b.stars, netip.Addr.Compare)
		slices.SortFunc(b.sgs, func(x, y pim.SG) int { return cmp.Or(x.Group.Compare(y.Group), x.Source.Compare(y.Source)) })
		if b.q.Wants(ctl.PartTimers) {
			b.s.Timers = append(timersOf(b.timers[0], "mld", b.now), timersOf(b.timers[1], "pim", b.now)...)
			b.timers = [2][]timerq.Pending{}
			slices.SortFunc(b.s.Timers, func(x, y ctl.Timer) int {
				return cmp.Or(cmp.Compare(x.Left, y.Left), cmp.Compare(x.ID, y.ID))
			})
		}
		if b.memory {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.s.Daemon.Memory = ctl.Memory{HeapAlloc: ms.HeapAlloc, HeapInuse: ms.HeapInuse, Sys: ms.Sys, NumGC: ms.NumGC}
		}
	}
	if len(b.groups) > 0 || len(b.stars) > 0 || len(b.sgs) > 0 {
		return false
	}
	if len(b.s.Groups) == 0 {
		b.s.Groups = nil // as when none was to read
	}
	if len(b.s.Routes) == 0 {
		b.s.Routes = nil
	}
	return true
}

// Snapshot is what was built, once Work said it is complete.
func (b *Build) Snapshot() *ctl.Snapshot { return b.s }

// head is the first Read: the daemon, the interface table with each
// interface's queriers, neighbors and counters, the limits, the RP-set,
// the Anycast-RP set, a copy of the timers and the keys of the group
// records and routes to read.
func (b *Build) head(st *State) error {
	now, q := st.Now, b.q
	b.now = now
	s := &ctl.Snapshot{
		SchemaVersion: ctl.SchemaVersion,
		Daemon: ctl.DaemonInfo{
			Version: version.String(), PID: os.Getpid(), Started: st.Started, Now: now,
			Table: st.Table, ConfigFile: st.ConfigFile, Restart: st.Restart, Audit: st.Audit,
		},
	}
	b.s = s
	if !q.IsZero() {
		s.Query = &b.q
	}
	if st.Deterministic {
		s.Daemon.PID = 0
	} else {
		b.memory = true
		if st.Pauses != nil {
			s.Daemon.ViewPauses = st.Pauses.Clone()
		}
	}
	if q.Wants(ctl.PartCounters) {
		s.Counters = map[string]map[string]uint64{}
	}
	counters := func(scope string, m map[string]uint64) {
		if s.Counters != nil && q.KeepsCounters(scope) {
			s.Counters[scope] = m
		}
	}
	// Each of these walks an interface's groups: once each.
	mldOf := map[int]mldCounts{}
	for _, i := range st.MLD.Interfaces() {
		c := mldCounts{stats: st.MLD.Stats(i)}
		c.groups, c.mostSources = st.MLD.GroupCounts(i)
		mldOf[i] = c
	}
	pimOf := map[int]*pim.InterfaceState{}
	pimIfs := st.PIM.InterfaceStates(now)
	for i := range pimIfs {
		pimOf[pimIfs[i].IfIndex] = &pimIfs[i]
	}
	b.mifOf = map[int]int{}
	var ifs []*Interface
	for k := range st.Interfaces {
		i := &st.Interfaces[k]
		if m, ok := st.mif(i.Index); ok {
			ifs = append(ifs, i)
			b.mifOf[i.Index] = int(m)
		}
	}
	slices.SortFunc(ifs, func(x, y *Interface) int { return b.mifOf[x.Index] - b.mifOf[y.Index] })
	var table []ctl.Interface
	for _, i := range ifs {
		mif := b.mifOf[i.Index]
		ci := ctl.Interface{MIF: mif, Name: i.Name, IfIndex: i.Index, Down: !i.Up, NoListener: !i.MLD, MTU: i.MTU}
		if i.LinkLocal.IsValid() {
			ci.Addresses = append(ci.Addresses, ctl.Address{Prefix: i.LinkLocal, ScopeID: i.Index})
		}
		for _, g := range i.Globals {
			ci.Addresses = append(ci.Addresses, ctl.Address{Prefix: g})
		}
		onIf := q.Interface == "" || q.Interface == i.Name
		if m, ok := st.MLD.InterfaceStateOf(now, i.Index); ok {
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
			ci.MLDGroups = mldOf[i.Index].groups
			if q.Wants(ctl.PartQueriers) && onIf {
				s.Queriers = append(s.Queriers, querierOf(&m, mif, now))
			}
			switch {
			case !q.Wants(ctl.PartGroups) || !onIf:
			case q.Group.IsSingleIP():
				// Read if there is one.
				b.groups = append(b.groups, groupKey{ifindex: i.Index, mif: mif, name: i.Name, group: q.Group.Addr()})
			default:
				b.groups = slices.Grow(b.groups, ci.MLDGroups)
				for _, g := range st.MLD.GroupAddrs(i.Index) {
					if !q.Group.IsValid() || q.Group.Contains(g) {
						b.groups = append(b.groups, groupKey{ifindex: i.Index, mif: mif, name: i.Name, group: g})
					}
				}
			}
			ms := mldOf[i.Index].stats
			counters("mld/"+i.Name, mergeCounters(ms.Received, ms.Dropped, ms.Sent))
		}
		if p := pimOf[i.Index]; p != nil {
			ci.DR = p.DRSelf
			ci.PIM = len(p.Neighbors) > 0
			ci.NoNeighbor = len(p.Neighbors) == 0
			ci.PIMNeighbors = len(p.Neighbors)
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
				if q.Wants(ctl.PartNeighbors) && onIf {
					s.Neighbors = append(s.Neighbors, neighborOf(n, mif, i.Name, now))
				}
			}
			if p.DRSelf {
				prio := p.Config.DRPriority
				ci.DRPriority = &prio
			}
			ps := st.PIM.Stats(i.Index)
			counters("pim/"+i.Name, mergeCounters(ps.Received, ps.Dropped, ps.Sent))
		}
		table = append(table, ci)
	}
	if len(st.Upcalls) > 0 {
		counters("kernel", maps.Clone(st.Upcalls))
	}
	if len(st.Checkpoint) > 0 {
		counters("checkpoint", maps.Clone(st.Checkpoint))
	}
	if regMIF, ok := st.mif(pim.RegisterIf); ok {
		b.mifOf[pim.RegisterIf] = int(regMIF)
		reg := ctl.Interface{MIF: int(regMIF), Name: "pim6reg", Register: true, NoListener: true, MLDVersions: []int{1}}
		// As the original did, show the register MIF with the address of
		// the first interface (the source of our Registers' link).
		if len(ifs) > 0 && ifs[0].LinkLocal.IsValid() {
			reg.Addresses = []ctl.Address{{Prefix: ifs[0].LinkLocal, ScopeID: ifs[0].Index}}
		}
		table = append(table, reg)
		slices.SortFunc(table, func(x, y ctl.Interface) int { return x.MIF - y.MIF })
	}
	mif, err := q.InterfaceMIF(table)
	if err != nil {
		b.groups = nil
		return err
	}
	b.mif = mif
	if q.Wants(ctl.PartInterfaces) {
		s.Interfaces = table
	}
	switch {
	case !q.Wants(ctl.PartRoutes):
	case q.Group.IsSingleIP():
		// One group's: whatever the table's size.
		if !q.Source.IsValid() {
			b.stars = []netip.Addr{q.Group.Addr()} // read if there is one
		}
		b.sgs = slices.DeleteFunc(st.PIM.GroupRouteKeys(q.Group.Addr()), func(k pim.SG) bool { return !q.KeepsRouteKey(k.Source, k.Group) })
	default:
		b.stars = slices.DeleteFunc(st.PIM.StarGroups(), func(g netip.Addr) bool { return !q.KeepsRouteKey(netip.Addr{}, g) })
		b.sgs = slices.DeleteFunc(st.PIM.RouteKeys(), func(k pim.SG) bool { return !q.KeepsRouteKey(k.Source, k.Group) })
	}
	var bsr pim.BSRInfo
	if q.Wants(ctl.PartRPSet) || q.Wants(ctl.PartLimits) {
		bsr = st.PIM.BSR(now)
	}
	if q.Wants(ctl.PartRPSet) {
		s.RPSet = rpSetOf(st, st.PIM.StaticRPs(), bsr, st.PIM.BSRZones(now))
	}
	if q.Wants(ctl.PartAnycastRP) {
		s.AnycastRP = anycastOf(st.PIM.Anycast())
	}
	if q.Wants(ctl.PartLimits) {
		for _, l := range limitsOf(st, mldOf, pimIfs, bsr) {
			if q.KeepsLimit(&l) {
				s.Limits = append(s.Limits, l)
			}
		}
	}
	if q.Wants(ctl.PartCacheMirrors) {
		s.CacheMirrors = st.MRIB.Len()
	}
	if q.Wants(ctl.PartTimers) {
		b.timers = [2][]timerq.Pending{st.MLD.Timers(), st.PIM.Timers()}
	}
	return nil
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

func groupOf(g mld.GroupState, mif int, ifname string) ctl.MLDGroup {
	cg := ctl.MLDGroup{
		MIF: mif, Interface: ifname, Group: g.Group, Mode: ctl.Include,
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
	return cg
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
