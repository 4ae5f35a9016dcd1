package ctl

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// A Query asks for part of the snapshot: some of its parts, and in them
// only the state of one interface, one group (or range) or one source.
// Each pim6stat view asks for what it shows, so that what the daemon
// builds on its loop, and sends, scales with the view rather than with
// the whole state:
//
//	→ {"version":1,"command":"snapshot","query":{"parts":["routes"],"group":"ff0e::1:0/128"}}
//	← {"version":1,"ok":true,"snapshot":{"schema_version":1,"daemon":{...},"query":{...},"routes":[...]}}
//
// The zero Query is the whole snapshot. A snapshot taken for another
// query carries it (Snapshot.Query), and its JSON has only the parts
// asked for, besides schema_version, daemon and query.
//
// The filters keep, in the parts they apply to:
//   - Interface (a name of the interface table): the neighbors, queriers,
//     group records, counters ("ENGINE/NAME") and limits of that
//     interface, and the routes that involve it (incoming, or in any of
//     their interface sets); daemon-wide counters and limits are left out.
//     The interface table itself is always whole (at most 32 MIFs): the
//     other parts name interfaces by MIF.
//   - Group (a prefix; an address is a /128): the group records and the
//     (*,G) and (S,G) routes of groups in it; no (*,*,RP) route.
//   - Source: the (S,G) routes of that source, and the group records
//     whose listeners want it (INCLUDE mode with the source listed,
//     EXCLUDE mode without it excluded).
//
// The filters combine (all must keep an entry). The RP-set, the
// Anycast-RP set, the timers and the number of kernel entries are never
// filtered.
type Query struct {
	// Parts are the JSON keys of the snapshot's parts (Part...); empty
	// for every one.
	Parts     []string     `json:"parts,omitempty"`
	Interface string       `json:"interface,omitempty"`
	Group     netip.Prefix `json:"group,omitzero"`
	Source    netip.Addr   `json:"source,omitzero"`
}

// The parts of a snapshot, by their JSON keys.
const (
	PartInterfaces   = "interfaces"
	PartNeighbors    = "neighbors"
	PartQueriers     = "queriers"
	PartGroups       = "groups"
	PartRoutes       = "routes"
	PartCacheMirrors = "cache_mirrors"
	PartRPSet        = "rp_set"
	PartAnycastRP    = "anycast_rp"
	PartTimers       = "timers"
	PartCounters     = "counters"
	PartLimits       = "limits"
)

// Parts are all the parts, in the snapshot's order.
var Parts = []string{
	PartInterfaces, PartNeighbors, PartQueriers, PartGroups, PartRoutes, PartCacheMirrors,
	PartRPSet, PartAnycastRP, PartTimers, PartCounters, PartLimits,
}

// IsZero says whether q is the whole snapshot.
func (q Query) IsZero() bool {
	return len(q.Parts) == 0 && q.Interface == "" && !q.Group.IsValid() && !q.Source.IsValid()
}

// Check says what is wrong with q: an unknown part, or an address that
// cannot be a group or a source.
func (q Query) Check() error {
	for _, p := range q.Parts {
		if !slices.Contains(Parts, p) {
			return fmt.Errorf("unknown part %s (known: %s)", clip(p), strings.Join(Parts, ", "))
		}
	}
	if q.Group.IsValid() && (!q.Group.Addr().Is6() || q.Group.Addr().Is4In6()) {
		return fmt.Errorf("group %s is not an IPv6 prefix", q.Group)
	}
	if q.Source.IsValid() && (!q.Source.Is6() || q.Source.Is4In6() || q.Source.Zone() != "") {
		return fmt.Errorf("source %s is not an IPv6 address without a zone", q.Source)
	}
	return nil
}

// Wants says whether the part is asked for.
func (q Query) Wants(part string) bool { return len(q.Parts) == 0 || slices.Contains(q.Parts, part) }

// NoInterfaceError is a query for an interface that has no MIF.
type NoInterfaceError struct {
	Name  string
	Known []string // the names of the interface table
}

func (e *NoInterfaceError) Error() string {
	return fmt.Sprintf("no multicast interface %s (known: %s)", clip(e.Name), strings.Join(e.Known, ", "))
}

// InterfaceMIF is the MIF of q's interface in the interface table ifs,
// -1 when q names none, and a *NoInterfaceError when ifs has no such
// interface.
func (q Query) InterfaceMIF(ifs []Interface) (int, error) {
	if q.Interface == "" {
		return -1, nil
	}
	var known []string
	for _, i := range ifs {
		if i.Name == q.Interface {
			return i.MIF, nil
		}
		known = append(known, i.Name)
	}
	return -1, &NoInterfaceError{Name: q.Interface, Known: known}
}

func (q Query) onInterface(name string) bool { return q.Interface == "" || name == q.Interface }

// KeepsNeighbor says whether q keeps the neighbor.
func (q Query) KeepsNeighbor(n *Neighbor) bool { return q.onInterface(n.Interface) }

// KeepsQuerier says whether q keeps the querier.
func (q Query) KeepsQuerier(x *Querier) bool { return q.onInterface(x.Interface) }

// KeepsGroup says whether q keeps the group record.
func (q Query) KeepsGroup(g *MLDGroup) bool {
	if !q.onInterface(g.Interface) || q.Group.IsValid() && !q.Group.Contains(g.Group) {
		return false
	}
	return !q.Source.IsValid() || g.Wants(q.Source)
}

// Wants says whether the record's listeners want traffic from src (RFC
// 3810 6.2, 7.2): in INCLUDE mode when it is listed, in EXCLUDE mode
// unless it is excluded (listed without a timer).
func (g *MLDGroup) Wants(src netip.Addr) bool {
	i := slices.IndexFunc(g.Sources, func(s MLDSource) bool { return s.Address == src })
	if g.Mode == Exclude {
		return i < 0 || g.Sources[i].TimerID != 0
	}
	return i >= 0
}

// KeepsRoute says whether q keeps the route; mif is the MIF of q's
// interface (InterfaceMIF).
func (q Query) KeepsRoute(r *Route, mif int) bool {
	if q.Source.IsValid() && (r.Kind != SG || r.Source != q.Source) {
		return false
	}
	if q.Group.IsValid() && (r.Kind == StarRP || !q.Group.Contains(r.Group)) {
		return false
	}
	return q.Interface == "" || r.Involves(mif)
}

// Involves says whether the route involves the MIF: incoming, or in one
// of its interface sets.
func (r *Route) Involves(mif int) bool {
	if r.Incoming == mif && mif >= 0 {
		return true
	}
	for _, set := range [][]int{r.Joined, r.Pruned, r.Leaves, r.Asserted, r.Outgoing} {
		if slices.Contains(set, mif) {
			return true
		}
	}
	return slices.ContainsFunc(r.Downstream, func(d Downstream) bool { return d.MIF == mif })
}

// KeepsRouteKey says whether q may keep a route of this source (zero for
// (*,G)) and group, before the rest of it is known: a cheap first cut for
// who builds routes.
func (q Query) KeepsRouteKey(source, group netip.Addr) bool {
	if q.Source.IsValid() && source != q.Source {
		return false
	}
	return !q.Group.IsValid() || q.Group.Contains(group)
}

// KeepsCounters says whether q keeps the counters of scope
// ("ENGINE/IFNAME", or "ENGINE" for the daemon-wide ones).
func (q Query) KeepsCounters(scope string) bool {
	if q.Interface == "" {
		return true
	}
	_, name, ok := strings.Cut(scope, "/")
	return ok && name == q.Interface
}

// KeepsLimit says whether q keeps the limit.
func (q Query) KeepsLimit(l *Limit) bool { return q.Interface == "" || l.Interface == q.Interface }

// Apply returns what the daemon answers to q when its whole state is s:
// the parts q asks for, filtered. It is the definition of a query; a
// daemon builds the same without building the rest. s is not modified;
// the result shares its entries.
func (q Query) Apply(s *Snapshot) (*Snapshot, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	mif, err := q.InterfaceMIF(s.Interfaces)
	if err != nil {
		return nil, err
	}
	out := &Snapshot{SchemaVersion: s.SchemaVersion, Daemon: s.Daemon}
	if q.IsZero() {
		*out = *s
		return out, nil
	}
	out.Query = &q
	if q.Wants(PartInterfaces) {
		out.Interfaces = s.Interfaces
	}
	if q.Wants(PartNeighbors) {
		out.Neighbors = keep(s.Neighbors, q.KeepsNeighbor)
	}
	if q.Wants(PartQueriers) {
		out.Queriers = keep(s.Queriers, q.KeepsQuerier)
	}
	if q.Wants(PartGroups) {
		out.Groups = keep(s.Groups, q.KeepsGroup)
	}
	if q.Wants(PartRoutes) {
		out.Routes = keep(s.Routes, func(r *Route) bool { return q.KeepsRoute(r, mif) })
	}
	if q.Wants(PartCacheMirrors) {
		out.CacheMirrors = s.CacheMirrors
	}
	if q.Wants(PartRPSet) {
		out.RPSet = s.RPSet
	}
	if q.Wants(PartAnycastRP) {
		out.AnycastRP = s.AnycastRP
	}
	if q.Wants(PartTimers) {
		out.Timers = s.Timers
	}
	if q.Wants(PartCounters) {
		out.Counters = map[string]map[string]uint64{}
		for scope, m := range s.Counters {
			if q.KeepsCounters(scope) {
				out.Counters[scope] = m
			}
		}
	}
	if q.Wants(PartLimits) {
		out.Limits = keep(s.Limits, q.KeepsLimit)
	}
	return out, nil
}

func keep[T any](s []T, f func(*T) bool) []T {
	var out []T
	for i := range s {
		if f(&s[i]) {
			out = append(out, s[i])
		}
	}
	return out
}
