package view

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/kernel"
	"github.com/pim6sd/pim6sd/mld"
	"github.com/pim6sd/pim6sd/pim"
)

var addrOpts = cmp.Options{cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{})}

// The snapshot shows the loop's interfaces by MIF (the register MIF with
// the first one's address), asks the kernel for the route toward an RP
// PIM does not watch and takes a watched RP's from the loop, and names
// each interface's limits.
func TestSnapshotInterfacesRPsAndLimits(t *testing.T) {
	now := time.Unix(1000, 0)
	rpWatched, rpLooked := netip.MustParseAddr("2001:db8:ff::1"), netip.MustParseAddr("2001:db8:ff::2")
	ll0, ll1 := netip.MustParsePrefix("fe80::10/64"), netip.MustParsePrefix("fe80::11/64")
	pc := pimConfig()
	pc.RPs = []pim.StaticRP{
		{Addr: rpWatched, Groups: []netip.Prefix{netip.MustParsePrefix("ff0e::/16")}},
		{Addr: rpLooked, Groups: []netip.Prefix{netip.MustParsePrefix("ff05::/16")}},
	}
	k := &fakeKernel{routes: map[netip.Addr]kernel.Route{
		rpLooked:  {Dst: netip.MustParsePrefix("2001:db8:ff::/64"), Gateway: netip.MustParseAddr("fe80::9"), LinkIndex: 3},
		rpWatched: {Dst: netip.MustParsePrefix("2001:db8:ff::/64"), Gateway: netip.MustParseAddr("fe80::bad"), LinkIndex: 3},
	}}
	st := newState(t, now, pc, k)
	mldCfg := mld.DefaultConfig()
	mldCfg.MaxGroups = 7
	st.Interfaces = []Interface{
		{Index: 2, Name: "eth1", Up: true, MTU: 1500, LinkLocal: ll1},
		{Index: 3, Name: "eth0", Up: true, MTU: 1500, LinkLocal: ll0, MLD: true, MLDConfig: mldCfg},
		{Index: 4, Name: "dummy0"}, // no MIF: not shown
	}
	st.MRIB.SetMIF(2, 0)
	st.MRIB.SetMIF(3, 1)
	st.MRIB.SetMIF(pim.RegisterIf, 2)
	st.Upcalls = map[string]uint64{"upcall/nocache": 3}
	st.Checkpoint = map[string]uint64{"written": 5, "refused/stale": 1}
	if _, err := st.MLD.AddInterface(now, 3, "eth0", ll0.Addr(), mldCfg); err != nil {
		t.Fatal(err)
	}
	// A listener of ff0e::1 on eth0 makes PIM watch the route to
	// rpWatched; the engine's answer (not the kernel's fe80::bad) is what
	// the snapshot shows.
	if _, err := st.PIM.AddInterface(now, 3, "eth0", ll0.Addr(), nil, pim.DefaultIfConfig()); err != nil {
		t.Fatal(err)
	}
	st.PIM.SetListeners(now, pim.ListenerInput{IfIndex: 3, Group: netip.MustParseAddr("ff0e::1"), Exclude: true})
	if w := st.PIM.WatchedRPF(); len(w) != 1 || w[0] != rpWatched {
		t.Fatalf("PIM watches %v, want [%v]", w, rpWatched)
	}
	st.PIM.SetRPF(now, rpWatched, pim.RPF{Valid: true, IfIndex: 2, NextHop: netip.MustParseAddr("fe80::8")})

	s := Snapshot(st)

	var ifs []string
	for _, i := range s.Interfaces {
		ifs = append(ifs, i.Name)
	}
	if diff := cmp.Diff([]string{"eth1", "eth0", "pim6reg"}, ifs); diff != "" {
		t.Errorf("interfaces by MIF (-want +got):\n%s", diff)
	}
	if reg := s.Interfaces[2]; !reg.Register || reg.MIF != 2 || len(reg.Addresses) != 1 || reg.Addresses[0] != (ctl.Address{Prefix: ll1, ScopeID: 2}) {
		t.Errorf("register MIF %+v, want MIF 2 with eth1's link-local address", reg)
	}
	if eth1, eth0 := s.Interfaces[0], s.Interfaces[1]; !eth1.NoListener || eth0.NoListener {
		t.Errorf("NoListener: eth1 %v, eth0 %v; want true (no MLD there), false", eth1.NoListener, eth0.NoListener)
	}
	want := []ctl.RP{
		{Address: rpWatched, Origin: ctl.RPOriginStatic, Upstream: netip.MustParseAddr("fe80::8"), UpstreamIf: "eth1",
			Groups: []ctl.RPGroup{{Prefix: netip.MustParsePrefix("ff0e::/16")}}},
		{Address: rpLooked, Origin: ctl.RPOriginStatic, Upstream: netip.MustParseAddr("fe80::9"), UpstreamIf: "eth0",
			Groups: []ctl.RPGroup{{Prefix: netip.MustParsePrefix("ff05::/16")}}},
	}
	if diff := cmp.Diff(want, s.RPSet.RPs, addrOpts); diff != "" {
		t.Errorf("RPs (-want +got):\n%s", diff)
	}
	var groups *ctl.Limit
	for i := range s.Limits {
		if l := &s.Limits[i]; l.Name == "mld.max-groups" {
			groups = l
		}
	}
	if groups == nil || groups.Interface != "eth0" || groups.Max != 7 {
		t.Errorf("mld.max-groups limit %+v, want eth0's 7", groups)
	}
	if diff := cmp.Diff(map[string]uint64{"upcall/nocache": 3}, s.Counters["kernel"]); diff != "" {
		t.Errorf("kernel counters (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]uint64{"written": 5, "refused/stale": 1}, s.Counters["checkpoint"]); diff != "" {
		t.Errorf("checkpoint counters (-want +got):\n%s", diff)
	}
}
