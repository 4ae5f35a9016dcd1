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
	// Routes are the (S,G) entries, sorted by group then source.
	Routes []RouteState
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

// ListenerState is local_receiver_include for one SSM group.
type ListenerState struct {
	Group   netip.Addr
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
	// IIF and OIFs are the route last emitted (0, nil: none).
	IIF  int
	OIFs []int
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
		st.Interfaces = append(st.Interfaces, r.ifaceState(r.ifaces[i], now, n))
	}
	keys := make([]sgKey, 0, len(r.sgs))
	for k := range r.sgs {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, sgKey.compare)
	for _, k := range keys {
		st.Routes = append(st.Routes, r.routeState(r.sgs[k], now, n))
	}
	return st
}

func (r *Router) ifaceState(ifc *iface, now time.Time, n int64) InterfaceState {
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
	for g, srcs := range ifc.listeners {
		ls := ListenerState{Group: g.addr()}
		for _, s := range srcs {
			ls.Sources = append(ls.Sources, s.addr())
		}
		is.Listeners = append(is.Listeners, ls)
	}
	slices.SortFunc(is.Listeners, func(a, b ListenerState) int { return a.Group.Compare(b.Group) })
	return is
}

func (r *Router) routeState(sg *sgEntry, now time.Time, n int64) RouteState {
	rs := RouteState{
		Source:      sg.key.s.addr(),
		Group:       sg.key.g.addr(),
		RPF:         sg.src.rpf,
		RPFKnown:    sg.src.known,
		Upstream:    sg.state,
		JoinDesired: r.joinDesired(sg),
		JoinTimer:   sg.jt.id,
		IIF:         int(sg.iif),
	}
	if up := r.rpfPrime(sg); up.ifindex != 0 {
		rs.RPFNeighbor, rs.RPFNeighborIf = up.addr.addr(), int(up.ifindex)
	}
	if sg.jt.running() {
		rs.JoinTimerLeft = left(sg.jt.at, n)
	}
	for _, d := range sg.down {
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
		rs.Downstream = append(rs.Downstream, ds)
	}
	for _, i := range sg.local {
		rs.LocalReceivers = append(rs.LocalReceivers, int(i))
	}
	for _, o := range sg.oifs {
		rs.OIFs = append(rs.OIFs, int(o))
	}
	return rs
}
