package mld

import (
	"net/netip"
	"slices"
	"time"

	"github.com/pim6sd/pim6sd/internal/timerq"
)

// InterfaceState is the MLD state of one interface, for pim6stat and the
// state dump. Times left are at the `now` given to Snapshot; timer IDs are
// 0 when the timer is not running.
type InterfaceState struct {
	IfIndex int
	Name    string
	Address netip.Addr // our link-local address
	Version Version    // configured

	// The Querier (7.6.2).
	Querier      netip.Addr
	QuerierSelf  bool
	QuerierSince time.Time
	// OtherQuerierPresent is the time left on the Other Querier Present
	// timer (zero while this router is the Querier).
	OtherQuerierPresent      time.Duration
	OtherQuerierPresentTimer timerq.ID
	// NextGeneralQuery is zero while not the Querier.
	NextGeneralQuery   time.Time
	GeneralQueryTimer  timerq.ID
	StartupQueriesLeft int
	// Robustness and QueryInterval are the values in use: the Querier's
	// (adopted from its Queries, 5.1.8, 5.1.9) or ours.
	Robustness    int
	QueryInterval time.Duration

	// The Older Version Querier Present state (8.3.1): an MLDv1 router
	// was heard and our Queries are MLDv1.
	OlderVersionQuerier      netip.Addr // zero when none
	OlderVersionQuerierLeft  time.Duration
	OlderVersionQuerierTimer timerq.ID
	SendsV1                  bool

	Groups []GroupState
}

// GroupState is one Multicast Address Record (7.2).
type GroupState struct {
	Group netip.Addr
	Mode  FilterMode
	// Routed is false for link-scope groups: tracked, never routed.
	Routed bool
	// FilterTimer is the Filter Timer (EXCLUDE mode only).
	FilterTimer     timerq.ID
	FilterTimerLeft time.Duration
	// Compat is the Multicast Address Compatibility Mode (8.3.2), V1 while
	// the Older Version Host Present timer runs.
	Compat          Version
	CompatTimer     timerq.ID
	CompatTimerLeft time.Duration
	// QueriesLeft is the number of Q(MA) transmissions left (7.6.3.1).
	QueriesLeft int
	Sources     []SourceState
}

// SourceState is one source of a record (7.2.1). Timer 0 with Left 0 in
// EXCLUDE mode is a source of the Exclude List: not forwarded.
type SourceState struct {
	Source      netip.Addr
	Timer       timerq.ID
	Left        time.Duration
	QueriesLeft int // Q(MA,{Source}) transmissions left (7.6.3.2)
}

// Snapshot returns the state of every interface, sorted by interface index,
// groups and sources by address.
func (r *Router) Snapshot(now time.Time) []InterfaceState {
	var out []InterfaceState
	for _, i := range r.Interfaces() {
		ifc := r.ifaces[i]
		st := r.ifaceState(ifc, now)
		for _, g := range ifc.groups {
			st.Groups = append(st.Groups, r.groupState(g, now))
		}
		slices.SortFunc(st.Groups, func(a, b GroupState) int { return a.Group.Compare(b.Group) })
		out = append(out, st)
	}
	return out
}

// The parts of Snapshot, for views that show some of the state or read
// large tables a few entries at a time: each returns what Snapshot
// would have in its place.

// InterfaceStateOf is the state of interface ifindex without its Groups,
// false when MLD does not run there.
func (r *Router) InterfaceStateOf(now time.Time, ifindex int) (InterfaceState, bool) {
	ifc := r.ifaces[ifindex]
	if ifc == nil {
		return InterfaceState{}, false
	}
	return r.ifaceState(ifc, now), true
}

// GroupAddrs lists the groups with a record on interface ifindex, in no
// order.
func (r *Router) GroupAddrs(ifindex int) []netip.Addr {
	ifc := r.ifaces[ifindex]
	if ifc == nil {
		return nil
	}
	out := make([]netip.Addr, 0, len(ifc.groups))
	for k := range ifc.groups {
		out = append(out, k.Addr())
	}
	return out
}

// GroupStateOf is the record of group on interface ifindex, false when
// there is none.
func (r *Router) GroupStateOf(now time.Time, ifindex int, group netip.Addr) (GroupState, bool) {
	ifc := r.ifaces[ifindex]
	if ifc == nil {
		return GroupState{}, false
	}
	g := ifc.groups[keyOf(group.WithZone(""))]
	if g == nil {
		return GroupState{}, false
	}
	return r.groupState(g, now), true
}

// GroupCounts are the number of records on interface ifindex and the
// most sources one of them has.
func (r *Router) GroupCounts(ifindex int) (groups, mostSources int) {
	ifc := r.ifaces[ifindex]
	if ifc == nil {
		return 0, 0
	}
	for _, g := range ifc.groups {
		mostSources = max(mostSources, len(g.sources))
	}
	return len(ifc.groups), mostSources
}

func (r *Router) ifaceState(ifc *iface, now time.Time) InterfaceState {
	queued := func(id timerq.ID) time.Duration { return r.q.Remaining(id, now) }
	st := InterfaceState{
		IfIndex:                  ifc.index,
		Name:                     ifc.name,
		Address:                  ifc.self,
		Version:                  ifc.cfg.Version,
		Querier:                  ifc.querier,
		QuerierSelf:              ifc.querierSelf,
		QuerierSince:             ifc.querierSince,
		OtherQuerierPresent:      queued(ifc.otherQuerier),
		OtherQuerierPresentTimer: ifc.otherQuerier,
		GeneralQueryTimer:        ifc.genQuery,
		StartupQueriesLeft:       ifc.startupLeft,
		Robustness:               ifc.robustness(),
		QueryInterval:            ifc.queryInterval(),
		OlderVersionQuerier:      ifc.olderQuerierAddr,
		OlderVersionQuerierLeft:  queued(ifc.olderQuerier),
		OlderVersionQuerierTimer: ifc.olderQuerier,
		SendsV1:                  ifc.sendsV1(),
	}
	if at, ok := r.q.When(ifc.genQuery); ok {
		st.NextGeneralQuery = at
	}
	return st
}

func (r *Router) groupState(g *group, now time.Time) GroupState {
	n := r.rel(now)
	left := func(at int64) time.Duration { return time.Duration(max(at-n, 0)) }
	gs := GroupState{
		Group:       g.addr.Addr(),
		Mode:        g.mode,
		Routed:      g.routable,
		Compat:      g.compatMode(),
		CompatTimer: g.compat,
		QueriesLeft: int(g.rexmitGroup),
	}
	if g.filter != 0 {
		gs.FilterTimer, gs.FilterTimerLeft = g.filter, left(g.filterAt)
	}
	if g.compat != 0 {
		gs.CompatTimerLeft = r.q.Remaining(g.compat, now)
	}
	for k, s := range g.sources {
		ss := SourceState{Source: k.Addr(), QueriesLeft: int(s.rexmit)}
		if s.id != 0 {
			ss.Timer, ss.Left = s.id, left(s.at)
		}
		gs.Sources = append(gs.Sources, ss)
	}
	slices.SortFunc(gs.Sources, func(a, b SourceState) int { return a.Source.Compare(b.Source) })
	return gs
}
