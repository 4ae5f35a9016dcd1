package mld

import (
	"slices"
	"testing"

	"github.com/pim6sd/pim6sd/mld/mldmsg"
)

// The parts of Snapshot give what Snapshot gives: the views read large
// tables with them a few entries at a time.
func TestSnapshotParts(t *testing.T) {
	r := newRouter(t, at(0), DefaultConfig())
	g2, g3 := addr("ff0e::200"), addr("ff0e::300")
	r.Receive(at(1), ifx, report(t,
		rec(mldmsg.ModeIsInclude, grp, "a", "b"),
		rec(mldmsg.ModeIsExclude, g2, "c"),
		rec(mldmsg.ModeIsInclude, g3, "a", "b", "c", "d")))
	r.Receive(at(2), ifx, reportV1(t, addr("ff0e::400")))
	now := at(3)
	all := r.Snapshot(now)
	if len(all) != 1 || len(all[0].Groups) != 4 {
		t.Fatalf("snapshot %+v", all)
	}
	want := all[0]
	got, ok := r.InterfaceStateOf(now, ifx)
	if !ok {
		t.Fatal("InterfaceStateOf: none")
	}
	groups := want.Groups
	want.Groups = nil
	diff(t, "InterfaceStateOf", want, got)
	addrs := r.GroupAddrs(ifx)
	if len(addrs) != len(groups) {
		t.Errorf("GroupAddrs %v", addrs)
	}
	for _, g := range groups {
		gs, ok := r.GroupStateOf(now, ifx, g.Group)
		if !ok || !slices.Contains(addrs, g.Group) {
			t.Fatalf("GroupStateOf(%v): none (listed: %v)", g.Group, slices.Contains(addrs, g.Group))
		}
		diff(t, "GroupStateOf", g, gs)
	}
	if n, most := r.GroupCounts(ifx); n != 4 || most != 4 {
		t.Errorf("GroupCounts %d, %d; want 4, 4", n, most)
	}
	if _, ok := r.GroupStateOf(now, ifx, addr("ff0e::999")); ok {
		t.Error("GroupStateOf of a group without a record")
	}
	if _, ok := r.InterfaceStateOf(now, ifx+1); ok || r.GroupAddrs(ifx+1) != nil {
		t.Error("state of an interface without MLD")
	}
}
