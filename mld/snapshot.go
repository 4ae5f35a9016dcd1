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
	n := r.rel(now)
	left := func(at int64) time.Duration { return time.Duration(max(at-n, 0)) }
	queued := func(id timerq.ID) time.Duration { return r.q.Remaining(id, now) }
	var out []InterfaceState
	for _, i := range r.Interfaces() {
		ifc := r.ifaces[i]
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
		for _, g := range ifc.groups {
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
				gs.CompatTimerLeft = queued(g.compat)
			}
			for k, s := range g.sources {
				ss := SourceState{Source: k.Addr(), QueriesLeft: int(s.rexmit)}
				if s.id != 0 {
					ss.Timer, ss.Left = s.id, left(s.at)
				}
				gs.Sources = append(gs.Sources, ss)
			}
			slices.SortFunc(gs.Sources, func(a, b SourceState) int { return a.Source.Compare(b.Source) })
			st.Groups = append(st.Groups, gs)
		}
		slices.SortFunc(st.Groups, func(a, b GroupState) int { return a.Group.Compare(b.Group) })
		out = append(out, st)
	}
	return out
}
