package view

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/mld"
	"github.com/pim6sd/pim6sd/mrib"
	"github.com/pim6sd/pim6sd/pim"
)

// names is the interface table of the event tests.
func names(ifindex int) string {
	return map[int]string{3: "eth1", 4: "eth2"}[ifindex]
}

// The engines' actions become events: neighbors, DR, BSR, limits, and a
// Route only when its entry appears or goes.
func TestEventsFromActions(t *testing.T) {
	m := mrib.New()
	src, grp := netip.MustParseAddr("2001:db8::10"), netip.MustParseAddr("ff3e::1")
	nbr := netip.MustParseAddr("fe80::2")
	rp := netip.MustParseAddr("2001:db8:ff::1")

	var got []ctl.Event
	publish := func(a pim.Action) {
		if ev, ok := PIMEvent(a, names, m); ok {
			got = append(got, ev)
		}
	}
	// route is what the daemon does with a Route: the event first, then
	// the MRIB.
	route := func(r pim.Route) {
		publish(r)
		m.Set(mrib.Route{SG: mrib.SG{Source: r.Source, Group: r.Group}, IIF: r.IIF, OIFs: r.OIFs})
	}
	publish(pim.NeighborChange{IfIndex: 3, Neighbor: nbr, Up: true, Reason: pim.NeighborNew})
	publish(pim.DRChange{IfIndex: 3, DR: nbr})
	publish(pim.BSRChange{BSR: nbr, Priority: 0, State: pim.BSRState("AcceptPreferred")})
	publish(pim.LimitHit{IfIndex: 4, Kind: pim.LimitRoutes, Limit: 10})
	publish(pim.RPChange{Group: grp, RP: rp, Origin: pim.OriginBSR})
	publish(pim.RPChange{Group: grp})
	publish(pim.StarGChange{Group: grp, Added: true})
	publish(pim.StarGChange{Group: grp})
	route(pim.Route{Source: src, Group: grp, IIF: 3, OIFs: []int{pim.RegisterIf, 4, 9}})
	route(pim.Route{Source: src, Group: grp, IIF: 3, OIFs: []int{4}}) // a change: no event
	route(pim.Route{Source: src, Group: grp})
	route(pim.Route{Source: src, Group: grp}) // gone already: no event
	publish(pim.NeighborChange{IfIndex: 3, Neighbor: nbr, Reason: pim.NeighborGoodbye})
	publish(pim.SendPIM{}) // not an event

	zero := 0
	want := []ctl.Event{
		{Type: ctl.EventNeighborUp, Iface: "eth1", Neighbor: nbr, Reason: "new"},
		{Type: ctl.EventDRChange, Iface: "eth1", DR: nbr},
		{Type: ctl.EventBSRChange, BSR: nbr, Priority: &zero, State: "AcceptPreferred"},
		{Type: ctl.EventLimitHit, Subsystem: "pim", Iface: "eth2", Kind: "routes", Limit: 10},
		{Type: ctl.EventRPChange, Group: grp, RP: rp, Origin: "bsr"},
		{Type: ctl.EventRPChange, Group: grp},
		{Type: ctl.EventRouteAdded, Group: grp, Kind: "*,G"},
		{Type: ctl.EventRouteRemoved, Group: grp, Kind: "*,G"},
		{Type: ctl.EventRouteAdded, Source: src, Group: grp, IIF: "eth1", OIFs: []string{"register", "eth2", "if9"}},
		{Type: ctl.EventRouteRemoved, Source: src, Group: grp},
		{Type: ctl.EventNeighborDown, Iface: "eth1", Neighbor: nbr, Reason: "goodbye"},
	}
	if diff := cmp.Diff(want, got, addrOpts); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// MLD's querier changes and limits are events; its other actions are not.
func TestEventsFromMLDActions(t *testing.T) {
	q, grp := netip.MustParseAddr("fe80::3"), netip.MustParseAddr("ff0e::5")
	var got []ctl.Event
	for _, a := range []mld.Action{
		mld.QuerierChange{IfIndex: 3, Querier: q},
		mld.ListenerUpdate{IfIndex: 3, Group: grp}, // for PIM, not an event
		mld.LimitHit{IfIndex: 4, Kind: mld.LimitGroups, Limit: 2, Group: grp},
	} {
		if ev, ok := MLDEvent(a, names); ok {
			got = append(got, ev)
		}
	}
	want := []ctl.Event{
		{Type: ctl.EventQuerierChange, Iface: "eth1", Querier: q},
		{Type: ctl.EventLimitHit, Subsystem: "mld", Iface: "eth2", Kind: "groups", Limit: 2, Group: grp},
	}
	if diff := cmp.Diff(want, got, addrOpts); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}
