package mld

import (
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Checkpoints: the listener state of an interface, exported so that a
// daemon killed without a goodbye (kill -9: Linux removes what its
// routing socket installed) forwards again as soon as it is back, instead
// of after its Startup Queries are answered. The state is what a router
// learns from Reports (RFC 3810 section 7.2: per multicast address the
// filter mode, the Filter Timer, the sources with their timers, and the
// compatibility mode of 8.3.2) and the Older Version Querier Present state
// of the interface (8.3.1). Timers travel as time left when the
// checkpoint was taken, so that a checkpoint restored later loses the time
// in between. What the Querier election and the specific Query
// retransmissions hold is not kept: a restarted router is the Querier
// again and sends its Startup Queries (7.6.2), which also confirm the
// restored state.

// InterfaceCheckpoint is the listener state of one interface.
type InterfaceCheckpoint struct {
	// Name is the interface's name: interfaces are matched by name, as
	// their indexes change when they are made again.
	Name   string            `json:"name"`
	Groups []GroupCheckpoint `json:"groups,omitempty"`
	// OlderQuerier is the MLDv1 Querier heard on the link, with the time
	// left on the Older Version Querier Present timer (8.3.1); zero when
	// none.
	OlderQuerier     netip.Addr    `json:"older_querier,omitzero"`
	OlderQuerierLeft time.Duration `json:"older_querier_left,omitempty"`
}

// GroupCheckpoint is one Multicast Address Record (7.2).
type GroupCheckpoint struct {
	Group netip.Addr `json:"group"`
	// Exclude is the filter mode (false: INCLUDE), FilterLeft the time
	// left on the Filter Timer (EXCLUDE mode only).
	Exclude    bool          `json:"exclude,omitempty"`
	FilterLeft time.Duration `json:"filter_left,omitempty"`
	// CompatLeft is the time left on the Older Version Host Present
	// timer: non-zero while the address is in MLDv1 mode (8.3.2).
	CompatLeft time.Duration      `json:"compat_left,omitempty"`
	Sources    []SourceCheckpoint `json:"sources,omitempty"`
}

// SourceCheckpoint is one source of a record with the time left on its
// timer; 0 in EXCLUDE mode is a source of the Exclude List (7.2.1).
type SourceCheckpoint struct {
	Source netip.Addr    `json:"source"`
	Left   time.Duration `json:"left,omitempty"`
}

// Checkpoint exports the listener state of every interface at now, sorted
// by interface name, groups and sources by address. Interfaces without
// state are left out.
func (r *Router) Checkpoint(now time.Time) []InterfaceCheckpoint {
	n := r.rel(now)
	left := func(at int64) time.Duration { return time.Duration(max(at-n, 0)) }
	var out []InterfaceCheckpoint
	for _, ifc := range r.ifaces {
		c := InterfaceCheckpoint{Name: ifc.name}
		if ifc.olderQuerier != 0 {
			c.OlderQuerier, c.OlderQuerierLeft = ifc.olderQuerierAddr, r.q.Remaining(ifc.olderQuerier, now)
		}
		for _, g := range ifc.groups {
			gc := GroupCheckpoint{Group: g.addr.Addr(), Exclude: g.mode == Exclude}
			if g.mode == Exclude && g.filter != 0 {
				gc.FilterLeft = left(g.filterAt)
			}
			if g.compat != 0 {
				gc.CompatLeft = r.q.Remaining(g.compat, now)
			}
			for k, s := range g.sources {
				sc := SourceCheckpoint{Source: k.Addr()}
				if s.id != 0 {
					sc.Left = left(s.at)
				}
				gc.Sources = append(gc.Sources, sc)
			}
			slices.SortFunc(gc.Sources, func(a, b SourceCheckpoint) int { return a.Source.Compare(b.Source) })
			c.Groups = append(c.Groups, gc)
		}
		if len(c.Groups) == 0 && !c.OlderQuerier.IsValid() {
			continue
		}
		slices.SortFunc(c.Groups, func(a, b GroupCheckpoint) int { return a.Group.Compare(b.Group) })
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b InterfaceCheckpoint) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// RestoreOptions say how a checkpoint is restored.
type RestoreOptions struct {
	// Taken is when the checkpoint was taken: the time from Taken to the
	// restore's now is taken off every timer, and what ran out meanwhile
	// has expired (as its timer's expiry would have done it). Zero: now.
	Taken time.Time
	// Hold, if positive, is the most time a restored timer is given: the
	// restored state is provisional until the listeners confirm it. It is
	// never cut below the end of the Startup Queries' response window, so
	// that every listener has answered every Startup Query before the
	// state of one that did not goes. Zero keeps the timers as they were.
	Hold time.Duration
}

// Restored counts what a restore did.
type Restored struct {
	Groups  int // records restored
	Sources int // sources restored, in those records
	// Expired are the records whose timers ran out since the checkpoint;
	// Refused those the interface refuses now (an invalid or SSM address
	// in EXCLUDE mode, a record it has already, its limits).
	Expired int
	Refused int
}

// Restore gives the interface ifindex (added with AddInterface just
// before, so that its Startup Queries are running) the listener state of
// a checkpoint, as if the Reports that made it had been heard here. It
// returns the actions (ListenerUpdates for the restored groups, which the
// routing protocol needs) and what it restored. State the interface has
// already is kept as it is; what its configuration now refuses (MLDv1 mode
// on an MLDv2-only interface, EXCLUDE mode in the SSM range, records over
// MaxGroups or sources over MaxSources) is left out. An unknown ifindex
// restores nothing.
func (r *Router) Restore(now time.Time, ifindex int, c InterfaceCheckpoint, o RestoreOptions) ([]Action, Restored) {
	var res Restored
	ifc := r.ifaces[ifindex]
	if ifc == nil {
		return nil, res
	}
	n := r.begin(now)
	elapsed := time.Duration(0)
	if !o.Taken.IsZero() && now.After(o.Taken) {
		elapsed = now.Sub(o.Taken)
	}
	hold := o.Hold
	if hold > 0 {
		hold = max(hold, r.startupWindow(ifc, n))
	}
	// deadline is the restored deadline of a timer with left time left
	// when the checkpoint was taken; false when it has run out since. No
	// timer of this interface runs longer than MALI (9.4, 9.13).
	mali := time.Duration(ifc.mali())
	deadline := func(left time.Duration, capped bool) (int64, bool) {
		l := min(left, mali) - elapsed
		if l <= 0 {
			return 0, false
		}
		if capped && hold > 0 {
			l = min(l, hold)
		}
		return n + int64(l), true
	}
	if q := c.OlderQuerier.WithZone(""); q.IsValid() && ifc.cfg.Version == Both && ifc.olderQuerier == 0 {
		// Not a listener's state: nothing confirms it at start-up, so it
		// keeps its time (the MLDv1 Querier's next Query refreshes it).
		if at, ok := deadline(c.OlderQuerierLeft, false); ok {
			ifc.olderQuerierAddr = q
			r.q.Set(&ifc.olderQuerier, r.abs(at), r.ifaceRef(ifc, timerOlderQuerier))
			r.emit(OlderQuerier{IfIndex: ifc.index, Querier: q, Present: true})
		}
	}
	for _, gc := range c.Groups {
		r.restoreGroup(ifc, gc, deadline, &res)
	}
	return r.finish(), res
}

// restoreGroup restores one record (Restore).
func (r *Router) restoreGroup(ifc *iface, gc GroupCheckpoint, deadline func(time.Duration, bool) (int64, bool), res *Restored) {
	ga := gc.Group.WithZone("")
	k := keyOf(ga)
	if !validListenerGroup(ga) || gc.Exclude && ifc.cfg.isSSM(ga) || ifc.groups[k] != nil {
		res.Refused++
		return
	}
	exclude := gc.Exclude
	var filterAt int64
	if exclude {
		at, ok := deadline(gc.FilterLeft, true)
		// A Filter Timer that ran out switched the record to INCLUDE
		// mode with the Requested List (7.2.2, 7.5).
		exclude, filterAt = ok, at
	}
	type src struct {
		k  key
		at int64 // 0: zero timer (Exclude List)
	}
	var srcs []src
	for _, sc := range gc.Sources {
		s := sc.Source.WithZone("")
		if !s.Is6() {
			continue
		}
		at, ok := deadline(sc.Left, true)
		switch {
		case sc.Left > 0 && ok:
			srcs = append(srcs, src{keyOf(s), at})
		case exclude:
			// The Exclude List, and sources whose timers ran out in
			// EXCLUDE mode, which joined it (7.2.3).
			srcs = append(srcs, src{keyOf(s), 0})
		}
	}
	if !exclude && len(srcs) == 0 {
		res.Expired++
		return
	}
	g := r.lookupOrCreate(ifc, k)
	if g == nil {
		res.Refused++
		return
	}
	if exclude {
		r.setMode(g, Exclude)
		r.setFilter(g, filterAt)
	}
	for _, s := range srcs {
		if s.at == 0 {
			r.zeroSource(g, s.k)
		} else {
			r.setSource(g, s.k, s.at)
		}
	}
	if gc.CompatLeft > 0 && ifc.cfg.Version&V1 != 0 && !ifc.cfg.isSSM(ga) {
		if at, ok := deadline(gc.CompatLeft, true); ok {
			r.q.Set(&g.compat, r.abs(at), timerRef{g: g, kind: timerCompat})
		}
	}
	res.Groups++
	res.Sources += len(g.sources)
}

// startupWindow is the time from now until the answers to the interface's
// last Startup Query are due (9.6, 9.7): its last Startup Query plus the
// Maximum Response Delay it carries. 0 when none is to come.
func (r *Router) startupWindow(ifc *iface, now int64) time.Duration {
	if !ifc.querierSelf || !ifc.startup {
		return 0
	}
	last := now
	if ifc.startupLeft > 0 {
		at, ok := r.q.When(ifc.genQuery)
		if !ok {
			return 0
		}
		last = r.rel(at) + int64(ifc.startupLeft-1)*int64(ifc.cfg.StartupQueryInterval)
	}
	mrd := ifc.cfg.QueryResponseInterval
	if ifc.cfg.StartupQueryResponseInterval > 0 {
		mrd = ifc.cfg.StartupQueryResponseInterval
	}
	return time.Duration(last-now) + mrd
}
