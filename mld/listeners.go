package mld

import (
	"net/netip"
	"slices"
)

// The engine is the one record of listener state: ListenerUpdate reports
// each change, and Listener and Listeners say what holds now (for the
// daemon when PIM starts on an interface that already has listeners, and
// for the views), so that no caller keeps a copy.

// Listener returns the current forwarding state of group on the interface
// as the last ListenerUpdate for it said, and false when the group has no
// listeners there (or is link-scope, which is never reported).
func (r *Router) Listener(ifindex int, group netip.Addr) (ListenerUpdate, bool) {
	ifc := r.ifaces[ifindex]
	if ifc == nil {
		return ListenerUpdate{}, false
	}
	g := ifc.groups[keyOf(group.WithZone(""))]
	if g == nil {
		return ListenerUpdate{}, false
	}
	return r.listenerOf(g)
}

// Listeners returns the current forwarding state of every group with
// listeners on the interface, sorted by group.
func (r *Router) Listeners(ifindex int) []ListenerUpdate {
	ifc := r.ifaces[ifindex]
	if ifc == nil {
		return nil
	}
	var out []ListenerUpdate
	for _, g := range ifc.groups {
		if u, ok := r.listenerOf(g); ok {
			out = append(out, u)
		}
	}
	slices.SortFunc(out, func(a, b ListenerUpdate) int { return a.Group.Compare(b.Group) })
	return out
}

// listenerOf is the group's state as a ListenerUpdate, false when it has
// no listeners or is not routable.
func (r *Router) listenerOf(g *group) (ListenerUpdate, bool) {
	if !g.routable || g.deleted || g.mode == Include && len(g.sources) == 0 {
		return ListenerUpdate{}, false
	}
	view := g.appendView(nil)
	slices.SortFunc(view, key.Compare)
	u := ListenerUpdate{IfIndex: g.ifc.index, Group: g.addr.Addr(), Mode: g.mode}
	if len(view) > 0 {
		u.Sources = make([]netip.Addr, len(view))
		for i, k := range view {
			u.Sources[i] = k.Addr()
		}
	}
	return u, true
}
