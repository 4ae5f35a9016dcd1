package pim

import (
	"slices"
	"time"
)

// SetConfig applies a new router configuration (a reload); an invalid one
// is refused whole and the old one stays. What changes:
//
//   - Candidacies (Candidate-BSR, Candidate-RP): see bsr.Zone.SetConfig.
//   - RP mappings (static, Embedded-RP): every group whose RP(G) changed
//     moves. Its (*,G) state
//     follows the new RP (RFC 7761 4.5.4, "RPF'(*,G) changes not due to an
//     Assert": a Prune(*,G) naming the old RP to the old RPF'(*,G), a
//     Join(*,G) to the new one once the route to the new RP is known), a
//     registering DR registers to the new RP (4.4.1, "RP changed"), and
//     I_am_RP(G) is evaluated again.
//   - The SSM range: a group that joins it drops its RP-tree state ((*,G):
//     pruned upstream then forgotten; (S,G,rpt), Register, Keepalive and
//     cache state; EXCLUDE listeners), keeping its (S,G) state; a group
//     that leaves it keeps its (S,G) state and gains an RP. Listener
//     updates refused earlier (EXCLUDE for a then-SSM group) are not
//     remembered: the daemon gives the listeners again after a change of
//     the SSM range.
//   - Limits apply to new state (nothing is removed to fit a lower
//     MaxRoutes); timers, the SPT policy and the Register rate apply from
//     their next use.
//
// Rand is taken from cfg too.
func (r *Router) SetConfig(now time.Time, cfg Config) ([]Action, error) {
	if r.closed {
		return nil, nil
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := r.begin(now)
	anycastChanged := !anycastEqual(r.cfg.AnycastRP, cfg.AnycastRP)
	r.cfg = cloneConfig(cfg)
	r.pruneAnycastCounters()
	r.rps = newRPMap(r.cfg.RPs, false)
	r.rpsOverride = newRPMap(r.cfg.RPs, true)
	r.setZonesConfig(now) // zones.go
	keys := make([]addrKey, 0, len(r.groups))
	for k := range r.groups {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, addrKey.Compare)
	for _, k := range keys {
		g := r.groups[k]
		ga := k.Addr()
		if ssm := r.cfg.isSSM(ga); ssm != g.ssm {
			g.ssm = ssm
			if ssm {
				r.dropRPTree(g)
			}
			r.touchGroup(g)
		} else if anycastChanged && g.hasRP {
			// CouldRegister of a member's own sources (anycast.go).
			r.touchGroup(g)
		}
	}
	r.remapGroups()
	for _, i := range r.Interfaces() {
		ifc := r.ifaces[i]
		var gone []addrKey
		for gk, ls := range ifc.listeners {
			if ls.exclude && r.cfg.isSSM(gk.Addr()) {
				gone = append(gone, gk)
			}
		}
		slices.SortFunc(gone, addrKey.Compare)
		for _, gk := range gone {
			r.setListeners(ifc, ListenerInput{IfIndex: i, Group: gk.Addr()})
		}
	}
	return r.finish(n), nil
}

// dropRPTree removes the RP-tree state of a group that became SSM. The
// (*,G) entry loses its downstream state, receivers and Asserts, so that
// its upstream machine prunes when the event ends and it is deleted.
func (r *Router) dropRPTree(g *group) {
	if st := g.star; st != nil {
		for len(st.down) > 0 {
			r.dropDownstream(dsHost{star: st}, st.down[0].ifindex)
		}
		st.local = nil
		for len(st.asserts) > 0 {
			r.dropAssert(asHost{star: st}, st.asserts[0].ifindex)
		}
	}
	for _, sg := range g.sgs {
		x := sg.x
		if x == nil {
			continue
		}
		for len(x.rptDown) > 0 {
			r.dropRptDownstream(sg, x.rptDown[0].ifindex)
		}
		x.excl = nil
		x.rpt = RPTNotJoined
		r.q.Stop(&x.ot)
		r.stopLazy(&x.kat)
		x.sptBit = false
		x.cache = false
		r.stopLazy(&x.dataIdle)
		x.reg = RegisterNoInfo
		r.q.Stop(&x.rst)
		x.pending = false
	}
}

// Config returns the configuration in force, as the engine keeps it
// (addresses without zones, ranges masked, a Candidate-RP's groups
// ff00::/8 when none were given): the one record of it for views.
func (r *Router) Config() Config { return cloneConfig(r.cfg) }
