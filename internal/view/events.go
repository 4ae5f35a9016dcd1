package view

import (
	"fmt"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/mld"
	"github.com/pim6sd/pim6sd/mrib"
	"github.com/pim6sd/pim6sd/pim"
)

// The watch stream of the control socket (ctl.CommandWatch) is made of the
// engines' actions that an operator wants to see: neighbors, DR, BSR and
// RP changes, entries that appear or go, limits reached. The daemon
// publishes what these functions make; the event's Time is its own.

// PIMEvent is the event a PIM action makes; false for an action
// that is not one (messages to send, RPF watches...). name names an
// interface ("" when unknown). A Route makes an event only when its entry
// appears or goes, which is read from m's desired state: give it before
// the MRIB applies the Route.
func PIMEvent(a pim.Action, name func(ifindex int) string, m *mrib.Table) (ctl.Event, bool) {
	switch a := a.(type) {
	case pim.NeighborChange:
		t := ctl.EventNeighborDown
		if a.Up {
			t = ctl.EventNeighborUp
		}
		return ctl.Event{Type: t, Iface: name(a.IfIndex), Neighbor: a.Neighbor, Reason: a.Reason}, true
	case pim.DRChange:
		return ctl.Event{Type: ctl.EventDRChange, Iface: name(a.IfIndex), DR: a.DR, Self: a.Self}, true
	case pim.BSRChange:
		ev := ctl.Event{Type: ctl.EventBSRChange, BSR: a.BSR, State: string(a.State), Zone: a.Zone}
		if a.BSR.IsValid() {
			p := int(a.Priority)
			ev.Priority = &p
		}
		return ev, true
	case pim.StarGChange:
		t := ctl.EventRouteRemoved
		if a.Added {
			t = ctl.EventRouteAdded
		}
		return ctl.Event{Type: t, Group: a.Group, Kind: "*,G"}, true
	case pim.RPChange:
		return ctl.Event{Type: ctl.EventRPChange, Group: a.Group, RP: a.RP, Origin: rpOrigin(a.Origin)}, true
	case pim.LimitHit:
		return ctl.Event{Type: ctl.EventLimitHit, Subsystem: "pim", Iface: name(a.IfIndex), Kind: a.Kind, Limit: a.Limit}, true
	case pim.Route:
		_, had := m.Desired(mrib.SG{Source: a.Source, Group: a.Group})
		switch {
		case !had && !a.Delete():
			ev := ctl.Event{Type: ctl.EventRouteAdded, Source: a.Source, Group: a.Group, IIF: routeIf(a.IIF, name)}
			for _, o := range a.OIFs {
				ev.OIFs = append(ev.OIFs, routeIf(o, name))
			}
			return ev, true
		case had && a.Delete():
			return ctl.Event{Type: ctl.EventRouteRemoved, Source: a.Source, Group: a.Group}, true
		}
	}
	return ctl.Event{}, false
}

// MLDEvent is the event an MLD action makes; false for an action
// that is not one.
func MLDEvent(a mld.Action, name func(ifindex int) string) (ctl.Event, bool) {
	switch a := a.(type) {
	case mld.QuerierChange:
		return ctl.Event{Type: ctl.EventQuerierChange, Iface: name(a.IfIndex), Querier: a.Querier, Self: a.Self}, true
	case mld.LimitHit:
		return ctl.Event{Type: ctl.EventLimitHit, Subsystem: "mld", Iface: name(a.IfIndex), Kind: a.Kind, Limit: a.Limit, Group: a.Group}, true
	}
	return ctl.Event{}, false
}

// routeIf names an interface of a Route: the register MIF is "register",
// an interface without a name its index.
func routeIf(ifindex int, name func(int) string) string {
	if ifindex == pim.RegisterIf {
		return "register"
	}
	if n := name(ifindex); n != "" {
		return n
	}
	return fmt.Sprintf("if%d", ifindex)
}
