package pim

import (
	"net/netip"
	"slices"
	"time"

	"github.com/pim6sd/pim6sd/internal/timerq"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// State is the PIM state of the router, for pim6stat and the state dump.
// Times left are at the `now` given to Snapshot; timer IDs are 0 when the
// timer is not running.
type State struct {
	Interfaces []InterfaceState
	// StarG are the (*,G) entries, sorted by group.
	StarG []StarGState
	// Routes are the (S,G) entries (each with its (S,G,rpt) state), sorted
	// by group then source.
	Routes []RouteState
	// RPs is the static RP configuration, with Local set for the RP
	// addresses that are ours.
	RPs []RPState
}

// RPState is one static RP.
type RPState struct {
	Addr   netip.Addr
	Groups []netip.Prefix
	Local  bool
}

// InterfaceState is one PIM interface.
type InterfaceState struct {
	IfIndex      int
	Name         string
	Address      netip.Addr   // link-local: the primary address
	Globals      []netip.Addr // secondary addresses (our Address List)
	Config       IfConfig
	GenerationID uint32
	// HelloTimer and NextHello: the next Hello (4.3.1).
	HelloTimer timerq.ID
	NextHello  time.Time
	// DR is the Designated Router (4.3.2).
	DR     netip.Addr
	DRSelf bool
	// The LAN Prune Delay values in use (4.3.3).
	LANDelayEnabled           bool
	EffectivePropagationDelay time.Duration
	EffectiveOverrideInterval time.Duration
	JPOverrideInterval        time.Duration
	SuppressionEnabled        bool

	Neighbors []NeighborState // by address
	Listeners []ListenerState // by group
}

// NeighborState is one PIM neighbor: what its last Hello said.
type NeighborState struct {
	Address   netip.Addr
	Secondary []netip.Addr
	UpSince   time.Time
	// Holdtime from its Hello; Forever for 0xffff (no Neighbor Liveness
	// Timer).
	Holdtime time.Duration
	Forever  bool
	// Timer and Expires: the Neighbor Liveness Timer and its true time
	// left.
	Timer   timerq.ID
	Expires time.Duration
	// Options; nil when absent.
	GenerationID  *uint32
	DRPriority    *uint32
	LANPruneDelay *pimmsg.LANPruneDelay
}

// ListenerState is what MLD asked for one group: the sources included, or
// EXCLUDE mode with the sources excluded.
type ListenerState struct {
	Group   netip.Addr
	Exclude bool
	Sources []netip.Addr
}

// RouteState is one (S,G) entry.
type RouteState struct {
	Source, Group netip.Addr
	// RPF is the route to the source (RPFKnown: SetRPF has answered).
	RPF      RPF
	RPFKnown bool
	// RPFNeighbor is RPF'(S,G) (invalid: NULL) on RPFNeighborIf.
	RPFNeighbor   netip.Addr
	RPFNeighborIf int
	// The upstream machine (4.5.5).
	Upstream      UpstreamState
	JoinDesired   bool
	JoinTimer     timerq.ID
	JoinTimerLeft time.Duration
	// Downstream is the Join/Prune state per interface (4.5.2); NoInfo
	// interfaces are not listed.
	Downstream []DownstreamState
	// LocalReceivers are the interfaces with local_receiver_include.
	LocalReceivers []int
	// IIF and OIFs are the route last emitted (0, nil: none; RegisterIf:
	// the register MIF).
	IIF  int
	OIFs []int

	// RP is RP(G) (invalid: none, SSM included); SSM says the group is
	// in the SSM range.
	RP  netip.Addr
	SSM bool
	// SPTBit is SPTbit(S,G) (4.1.3; always set for SSM groups).
	SPTBit bool
	// KeepaliveTimer (KAT, 4.1.3) and its true time left.
	KeepaliveTimer timerq.ID
	KeepaliveLeft  time.Duration
	// Cache: the entry was installed for data (a NOCACHE upcall) and lives
	// while its counters grow; DataTimer is its idle timer.
	Cache     bool
	DataTimer timerq.ID
	DataLeft  time.Duration
	// Register is the DR's Register state (4.4.1) and the Register-Stop
	// Timer.
	Register          RegisterState
	RegisterStopTimer timerq.ID
	RegisterStopLeft  time.Duration
	// The (S,G,rpt) state (4.1.4): the upstream machine (4.5.7) with
	// RPF'(S,G,rpt) and the Override Timer, the downstream machines
	// (4.5.3), and the interfaces with local_receiver_exclude.
	RPT            RPTState
	RPTNeighbor    netip.Addr
	RPTNeighborIf  int
	OverrideTimer  timerq.ID
	OverrideLeft   time.Duration
	RPTDownstream  []RPTDownstreamState
	ExcludedOn     []int
	HasRPTState    bool // (S,G,rpt) downstream or exclude state, or Pruned upstream
	HasSGState     bool // (S,G) downstream, local, Joined, KAT or Register state
	Asserts        []AssertInfo
	InheritedOlist []int // inherited_olist(S,G) (SSM: immediate_olist(S,G))
	// Flags for pim6stat, in its vocabulary: SPT, RP (the route comes down
	// the RP tree), REG (registering: Join or Join-Pending), REG_SUPP
	// (Register-Stop received: Prune), IIF_REG (the RP takes it from the
	// register MIF), ASSERTED (an Assert machine is out of NoInfo), SG
	// ((S,G) state). CACHE is the daemon's (installed in the kernel).
	Flags []string
}

// StarGState is one (*,G) entry.
type StarGState struct {
	Group netip.Addr
	// RP is RP(G) (invalid: none); IAmRP says it is ours; RPF is the route
	// to it (RPFKnown: SetRPF answered).
	RP       netip.Addr
	IAmRP    bool
	RPF      RPF
	RPFKnown bool
	// RPFNeighbor is RPF'(*,G) (invalid: NULL) on RPFNeighborIf.
	RPFNeighbor   netip.Addr
	RPFNeighborIf int
	// The upstream machine (4.5.4).
	Upstream      UpstreamState
	JoinDesired   bool
	JoinTimer     timerq.ID
	JoinTimerLeft time.Duration
	// Downstream is the Join/Prune state per interface (4.5.1).
	Downstream []DownstreamState
	// LocalReceivers are the interfaces with local_receiver_include(*,G,I).
	LocalReceivers []int
	// ImmediateOlist is immediate_olist(*,G).
	ImmediateOlist []int
	Asserts        []AssertInfo
	// Flags: WC, and RP when the entry is joined toward an RP.
	Flags []string
}

// RPTDownstreamState is the downstream (S,G,rpt) machine of one interface
// (4.5.3).
type RPTDownstreamState struct {
	IfIndex           int
	State             RPTDownState
	ExpiryTimer       timerq.ID
	ExpiryLeft        time.Duration
	Forever           bool
	PrunePendingTimer timerq.ID
	PrunePendingLeft  time.Duration
}

// AssertInfo is one Assert machine out of NoInfo (4.6).
type AssertInfo struct {
	IfIndex int
	State   AssertState
	// Winner and its metric (ours in Winner).
	Winner     netip.Addr
	RPT        bool
	Preference uint32
	Metric     uint32
	Timer      timerq.ID
	Left       time.Duration
}

// DownstreamState is the downstream machine of one interface.
type DownstreamState struct {
	IfIndex int
	State   JoinState
	// Expiry Timer; Forever when the Join's Holdtime was 0xffff.
	ExpiryTimer timerq.ID
	ExpiryLeft  time.Duration
	Forever     bool
	// Prune-Pending Timer.
	PrunePendingTimer timerq.ID
	PrunePendingLeft  time.Duration
}

// Snapshot returns the state of the router.
func (r *Router) Snapshot(now time.Time) State {
	n := r.rel(now)
	var st State
	for _, i := range r.Interfaces() {
		st.Interfaces = append(st.Interfaces, r.ifaceState(r.ifaces[i], now, n, true))
	}
	keys := make([]sgKey, 0, len(r.sgs))
	for k := range r.sgs {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, sgKey.compare)
	for _, k := range keys {
		st.Routes = append(st.Routes, r.routeState(r.sgs[k], now, n))
	}
	var groups []*group
	for _, g := range r.groups {
		if g.star != nil {
			groups = append(groups, g)
		}
	}
	slices.SortFunc(groups, func(a, b *group) int { return a.key.Compare(b.key) })
	for _, g := range groups {
		st.StarG = append(st.StarG, r.starState(g.star, now, n))
	}
	st.RPs = r.StaticRPs()
	return st
}

// The parts of Snapshot, for views that show some of the state or read
// large tables a few entries at a time: each returns what Snapshot
// would have in its place.

// SG names an (S,G) entry.
type SG struct{ Source, Group netip.Addr }

// RouteKeys lists the (S,G) entries, in no order.
func (r *Router) RouteKeys() []SG {
	out := make([]SG, 0, len(r.sgs))
	for k := range r.sgs {
		out = append(out, SG{Source: k.s.Addr(), Group: k.g.Addr()})
	}
	return out
}

// GroupRouteKeys lists the (S,G) entries of group, in no order.
func (r *Router) GroupRouteKeys(group netip.Addr) []SG {
	g := r.groups[keyOf(group)]
	if g == nil {
		return nil
	}
	out := make([]SG, 0, len(g.sgs))
	for _, sg := range g.sgs {
		out = append(out, SG{Source: sg.key.s.Addr(), Group: group})
	}
	return out
}

// RouteStateOf is the state of the (S,G) entry k, false when there is
// none.
func (r *Router) RouteStateOf(now time.Time, k SG) (RouteState, bool) {
	sg := r.sgs[sgKey{g: keyOf(k.Group), s: keyOf(k.Source)}]
	if sg == nil {
		return RouteState{}, false
	}
	return r.routeState(sg, now, r.rel(now)), true
}

// StarGroups lists the groups with a (*,G) entry, in no order.
func (r *Router) StarGroups() []netip.Addr {
	out := make([]netip.Addr, 0, r.nStars)
	for k, g := range r.groups {
		if g.star != nil {
			out = append(out, k.Addr())
		}
	}
	return out
}

// StarGStateOf is the state of the (*,G) entry of group, false when there
// is none.
func (r *Router) StarGStateOf(now time.Time, group netip.Addr) (StarGState, bool) {
	g := r.groups[keyOf(group)]
	if g == nil || g.star == nil {
		return StarGState{}, false
	}
	return r.starState(g.star, now, r.rel(now)), true
}

// RouteCounts are the numbers of (S,G) and (*,G) entries.
func (r *Router) RouteCounts() (sg, starG int) { return len(r.sgs), r.nStars }

// InterfaceStates are the interfaces, sorted by index, without their
// Listeners (which MLD owns; Snapshot has them).
func (r *Router) InterfaceStates(now time.Time) []InterfaceState {
	n := r.rel(now)
	var out []InterfaceState
	for _, i := range r.Interfaces() {
		out = append(out, r.ifaceState(r.ifaces[i], now, n, false))
	}
	return out
}

// StaticRPs is the static RP configuration (State.RPs).
func (r *Router) StaticRPs() []RPState {
	var out []RPState
	for _, rp := range r.cfg.RPs {
		out = append(out, RPState{Addr: rp.Addr, Groups: slices.Clone(rp.Groups), Local: r.isLocal(keyOf(rp.Addr))})
	}
	return out
}

func (r *Router) downstreamStates(l []downstream, now time.Time, n int64) []DownstreamState {
	var out []DownstreamState
	for _, d := range l {
		ds := DownstreamState{
			IfIndex:           int(d.ifindex),
			State:             d.state,
			ExpiryTimer:       d.et.id,
			Forever:           d.forever,
			PrunePendingTimer: d.ppt,
			PrunePendingLeft:  r.q.Remaining(d.ppt, now),
		}
		if d.et.running() {
			ds.ExpiryLeft = left(d.et.at, n)
		}
		out = append(out, ds)
	}
	return out
}

func (r *Router) assertInfos(l []assertState, now time.Time) []AssertInfo {
	var out []AssertInfo
	for _, as := range l {
		ai := AssertInfo{IfIndex: int(as.ifindex), State: as.state, RPT: as.winner.rpt,
			Preference: as.winner.pref, Metric: as.winner.metric, Timer: as.at, Left: r.q.Remaining(as.at, now)}
		if as.winner.addr != (addrKey{}) {
			ai.Winner = as.winner.addr.Addr()
		}
		out = append(out, ai)
	}
	return out
}

func ints(l []int32) []int {
	var out []int
	for _, i := range l {
		out = append(out, int(i))
	}
	return out
}

func (r *Router) starState(st *starEntry, now time.Time, n int64) StarGState {
	g := st.grp
	ss := StarGState{
		Group:       g.key.Addr(),
		IAmRP:       r.iAmRP(g),
		Upstream:    st.state,
		JoinDesired: r.joinDesiredStar(st),
		JoinTimer:   st.jt.id,
		Downstream:  r.downstreamStates(st.down, now, n),
		Asserts:     r.assertInfos(st.asserts, now),
		Flags:       []string{"WC"},
	}
	if g.hasRP {
		ss.RP = g.rp.Addr()
		if s := g.rpSrc; s != nil {
			ss.RPF, ss.RPFKnown = s.rpf, s.known
		}
		ss.Flags = append(ss.Flags, "RP")
	}
	if up := r.rpfPrimeStar(g); up.ifindex != 0 {
		ss.RPFNeighbor, ss.RPFNeighborIf = up.addr.Addr(), int(up.ifindex)
	}
	if st.jt.running() {
		ss.JoinTimerLeft = left(st.jt.at, n)
	}
	ss.LocalReceivers = ints(st.local)
	ss.ImmediateOlist = ints(r.immediateOlistStar(st, nil))
	return ss
}

func (r *Router) ifaceState(ifc *iface, now time.Time, n int64, listeners bool) InterfaceState {
	is := InterfaceState{
		IfIndex:                   ifc.index,
		Name:                      ifc.name,
		Address:                   ifc.self,
		Globals:                   slices.Clone(ifc.globals),
		Config:                    ifc.cfg,
		GenerationID:              ifc.genID,
		HelloTimer:                ifc.hello,
		DR:                        ifc.dr,
		DRSelf:                    ifc.drSelf,
		LANDelayEnabled:           ifc.lanDelayEnabled(),
		EffectivePropagationDelay: ifc.effectivePropagationDelay(),
		EffectiveOverrideInterval: ifc.effectiveOverrideInterval(),
		JPOverrideInterval:        ifc.jpOverrideInterval(),
		SuppressionEnabled:        ifc.suppressionEnabled(),
	}
	if at, ok := r.q.When(ifc.hello); ok {
		is.NextHello = at
	}
	for _, nb := range ifc.sortedNeighbors() {
		ns := NeighborState{
			Address:   nb.addr,
			Secondary: slices.Clone(nb.secondary),
			UpSince:   nb.upSince,
			Holdtime:  time.Duration(nb.holdtime) * time.Second,
			Forever:   nb.holdtime == holdtimeForever,
			Timer:     nb.nlt.id,
		}
		if ns.Forever {
			ns.Holdtime = 0
		}
		if nb.nlt.running() {
			ns.Expires = left(nb.nlt.at, n)
		}
		if nb.hasGenID {
			v := nb.genID
			ns.GenerationID = &v
		}
		if nb.hasDRPriority {
			v := nb.drPriority
			ns.DRPriority = &v
		}
		if nb.hasLANPruneDelay {
			v := nb.lanPruneDelay
			ns.LANPruneDelay = &v
		}
		is.Neighbors = append(is.Neighbors, ns)
	}
	if !listeners {
		return is
	}
	for g, set := range ifc.listeners {
		ls := ListenerState{Group: g.Addr(), Exclude: set.exclude}
		for _, s := range set.sources {
			ls.Sources = append(ls.Sources, s.Addr())
		}
		is.Listeners = append(is.Listeners, ls)
	}
	slices.SortFunc(is.Listeners, func(a, b ListenerState) int { return a.Group.Compare(b.Group) })
	return is
}

func (r *Router) routeState(sg *sgEntry, now time.Time, n int64) RouteState {
	rs := RouteState{
		Source:      sg.key.s.Addr(),
		Group:       sg.key.g.Addr(),
		RPF:         sg.src.rpf,
		RPFKnown:    sg.src.known,
		Upstream:    sg.state,
		JoinDesired: r.joinDesired(sg),
		JoinTimer:   sg.jt.id,
		IIF:         int(sg.iif),
	}
	if up := r.rpfPrime(sg); up.ifindex != 0 {
		rs.RPFNeighbor, rs.RPFNeighborIf = up.addr.Addr(), int(up.ifindex)
	}
	if sg.jt.running() {
		rs.JoinTimerLeft = left(sg.jt.at, n)
	}
	rs.Downstream = r.downstreamStates(sg.down, now, n)
	rs.LocalReceivers = ints(sg.local)
	rs.OIFs = ints(sg.oifs)
	g := sg.grp
	rs.SSM = g.ssm
	if g.hasRP {
		rs.RP = g.rp.Addr()
	}
	rs.SPTBit = sg.sptBit()
	rs.HasSGState = len(sg.down) > 0 || len(sg.local) > 0 || sg.state == Joined
	if g.ssm {
		rs.InheritedOlist = ints(r.immediateOlist(sg, nil))
	} else {
		rs.InheritedOlist = ints(r.inheritedOlistSG(sg, nil))
	}
	if x := sg.x; x != nil {
		rs.KeepaliveTimer = x.kat.id
		if x.kat.running() {
			rs.KeepaliveLeft = left(x.kat.at, n)
			rs.HasSGState = true
		}
		rs.Cache, rs.DataTimer = x.cache, x.dataIdle.id
		if x.dataIdle.running() {
			rs.DataLeft = left(x.dataIdle.at, n)
		}
		rs.Register, rs.RegisterStopTimer, rs.RegisterStopLeft = x.reg, x.rst, r.q.Remaining(x.rst, now)
		if x.reg != RegisterNoInfo {
			rs.HasSGState = true
		}
		rs.RPT, rs.OverrideTimer, rs.OverrideLeft = x.rpt, x.ot, r.q.Remaining(x.ot, now)
		if x.rptUp.ifindex != 0 && x.rpt != RPTNotJoined {
			rs.RPTNeighbor, rs.RPTNeighborIf = x.rptUp.addr.Addr(), int(x.rptUp.ifindex)
		}
		for _, d := range x.rptDown {
			ds := RPTDownstreamState{IfIndex: int(d.ifindex), State: d.state, ExpiryTimer: d.et.id, Forever: d.forever,
				PrunePendingTimer: d.ppt, PrunePendingLeft: r.q.Remaining(d.ppt, now)}
			if d.et.running() {
				ds.ExpiryLeft = left(d.et.at, n)
			}
			rs.RPTDownstream = append(rs.RPTDownstream, ds)
		}
		rs.ExcludedOn = ints(x.excl)
		rs.HasRPTState = len(x.rptDown) > 0 || len(x.excl) > 0 || x.rpt == RPTPruned
		rs.Asserts = r.assertInfos(x.asserts, now)
	}
	rs.Flags = routeFlags(&rs)
	return rs
}

// routeFlags are the pim6stat flags of an (S,G) entry.
func routeFlags(rs *RouteState) []string {
	var f []string
	add := func(ok bool, w string) {
		if ok {
			f = append(f, w)
		}
	}
	add(rs.SPTBit && !rs.SSM, "SPT")
	add(!rs.SSM && rs.IIF != 0 && !rs.SPTBit && rs.RP.IsValid() && rs.IIF != rs.RPF.IfIndex, "RP")
	add(rs.Register == RegisterJoin || rs.Register == RegisterJoinPending, "REG")
	add(rs.IIF == RegisterIf, "IIF_REG")
	add(len(rs.Asserts) > 0, "ASSERTED")
	add(rs.Register == RegisterPrune, "REG_SUPP")
	add(rs.HasSGState || rs.SSM, "SG")
	return f
}
