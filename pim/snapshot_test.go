package pim

import (
	"slices"
	"testing"
)

// The parts of Snapshot give what Snapshot gives, entry by entry: the
// views read large tables with them a few entries at a time.
func TestSnapshotParts(t *testing.T) {
	r := benchStarRouter(t)
	now := at(7)
	for g := range 20 {
		for s := range 3 {
			src, grp := asmSource(g, s), asmGroup(g)
			r.NoCache(now, ifU, src, grp)
			r.SetRPF(now, src, RPF{Valid: true, IfIndex: ifU, NextHop: nbr3})
		}
	}
	now = at(8)
	st := r.Snapshot(now)
	if len(st.Routes) != 60 || len(st.StarG) != benchStarGroups {
		t.Fatalf("%d (S,G), %d (*,G)", len(st.Routes), len(st.StarG))
	}
	if sg, star := r.RouteCounts(); sg != len(st.Routes) || star != len(st.StarG) {
		t.Errorf("RouteCounts %d, %d; want %d, %d", sg, star, len(st.Routes), len(st.StarG))
	}
	keys := r.RouteKeys()
	if len(keys) != len(st.Routes) {
		t.Fatalf("%d keys", len(keys))
	}
	for _, rs := range st.Routes {
		if !slices.Contains(keys, SG{Source: rs.Source, Group: rs.Group}) {
			t.Errorf("no key for (%v, %v)", rs.Source, rs.Group)
		}
		got, ok := r.RouteStateOf(now, SG{Source: rs.Source, Group: rs.Group})
		if !ok {
			t.Fatalf("RouteStateOf(%v, %v): none", rs.Source, rs.Group)
		}
		diff(t, "RouteStateOf", rs, got)
	}
	for _, k := range keys {
		if !slices.Contains(r.GroupRouteKeys(k.Group), k) {
			t.Errorf("GroupRouteKeys(%v) lacks %v", k.Group, k.Source)
		}
	}
	if n := len(r.GroupRouteKeys(asmGroup(0))); n != 3 {
		t.Errorf("GroupRouteKeys: %d entries of a group with 3", n)
	}
	if ks := r.GroupRouteKeys(asmGroup(999999)); ks != nil {
		t.Errorf("GroupRouteKeys of a group without state: %v", ks)
	}
	groups := r.StarGroups()
	if len(groups) != len(st.StarG) {
		t.Fatalf("%d star groups", len(groups))
	}
	for _, gs := range st.StarG {
		got, ok := r.StarGStateOf(now, gs.Group)
		if !ok || !slices.Contains(groups, gs.Group) {
			t.Fatalf("StarGStateOf(%v): none (listed: %v)", gs.Group, slices.Contains(groups, gs.Group))
		}
		diff(t, "StarGStateOf", gs, got)
	}
	if _, ok := r.RouteStateOf(now, SG{Source: asmSource(99, 0), Group: asmGroup(99)}); ok {
		t.Error("RouteStateOf of an entry that does not exist")
	}
	if _, ok := r.StarGStateOf(now, asmSource(0, 0)); ok {
		t.Error("StarGStateOf of a group without (*,G)")
	}
	ifs := r.InterfaceStates(now)
	for i := range st.Interfaces {
		st.Interfaces[i].Listeners = nil
	}
	diff(t, "InterfaceStates", st.Interfaces, ifs)
	diff(t, "StaticRPs", st.RPs, r.StaticRPs())
}
