package view

import (
	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/mld"
	"github.com/pim6sd/pim6sd/pim"
)

// limitsOf reports every configured resource limit with its use and the
// state it refused (the engines' drop counters), named by the
// configuration key that sets it: per interface for MLD groups and
// sources and PIM neighbors, daemon-wide for routes, the RP-set and
// Embedded-RP groups.
func limitsOf(st *State, mldOf map[int]mldCounts, pimIfs []pim.InterfaceState, b pim.BSRInfo) []ctl.Limit {
	pc := st.PIM.Config()
	var out []ctl.Limit
	for _, idx := range st.MLD.Interfaces() {
		ifc := st.iface(idx)
		if ifc == nil || !ifc.MLD {
			continue
		}
		cfg, c := ifc.MLDConfig, mldOf[idx]
		out = append(out,
			ctl.Limit{Name: "mld.max-groups", Interface: ifc.Name, Max: uint64(cfg.MaxGroups), Used: uint64(c.groups), Refused: c.stats.Dropped[mld.DropGroupLimit]},
			ctl.Limit{Name: "mld.max-sources", Interface: ifc.Name, Max: uint64(cfg.MaxSources), Used: uint64(c.mostSources), Refused: c.stats.Dropped[mld.DropSourceLimit]},
		)
	}
	router := st.PIM.Stats(0)
	refused := func(reason string) uint64 {
		n := router.Dropped[reason]
		for _, p := range pimIfs {
			n += st.PIM.Stats(p.IfIndex).Dropped[reason]
		}
		return n
	}
	for _, p := range pimIfs {
		out = append(out, ctl.Limit{Name: "limits.max-neighbors-per-interface", Interface: p.Name,
			Max: uint64(pc.MaxNeighbors), Used: uint64(len(p.Neighbors)), Refused: st.PIM.Stats(p.IfIndex).Dropped[pim.DropNeighborLimit]})
	}
	sgs, stars := st.PIM.RouteCounts()
	out = append(out,
		ctl.Limit{Name: "limits.max-routes", Max: uint64(pc.MaxRoutes), Used: uint64(sgs + stars), Refused: refused(pim.DropRouteLimit)},
		ctl.Limit{Name: "bsr.max-rp-set", Max: uint64(pc.MaxRPSet), Used: uint64(len(b.RPSet)), Refused: refused(pim.DropRPSetLimit)},
		ctl.Limit{Name: "embedded-rp.max-groups", Max: uint64(pc.MaxEmbeddedRPGroups), Used: uint64(len(b.Embedded)), Refused: refused(pim.DropEmbeddedRPLimit)},
	)
	return out
}
