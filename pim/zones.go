package pim

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/pim6sd/pim6sd/pim/bsr"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// Administrative scope zones of the BSR mechanism (RFC 5059 1.3). Besides
// the global zone, the Router runs one bsr.Zone for each scope zone: the
// zones of Config.BSRZones, and those it learns from Bootstrap messages.
// Each has its own election, Bootstrap Timer and RP-set (package bsr,
// scope.go). Here the Router decides:
//
//   - which zone a BSM is for: the scope zone its first group range names
//     with the Admin Scope Zone (Z) bit, else the global zone. A Z bit on
//     a range that is no admin scope range (adminScopeRange) drops the BSM
//     (bad-group);
//   - where a zone's BSMs may go: never out of an interface at its
//     border, and one that comes in there is dropped (scope-border). Only
//     configured zones have a border;
//   - which zone a group's RP comes from: the most specific scope zone
//     whose range contains G, else the global zone (rpLookup). A group of
//     a scope zone takes its RP from that zone's RP-set only, even while
//     it is empty, so that the global RP-set cannot send the zone's
//     traffic to an RP outside it;
//   - which zone's BSR hears a Candidate-RP: each range of CandidateRP
//     goes to the most specific configured zone containing it, else to
//     the global zone (zoneCRPGroups), and each zone advertises its
//     ranges to its own BSR. A received C-RP-Adv is split the same way
//     over the zones this router knows, each zone taking its ranges (a
//     zone whose BSR we are not drops them as not-bsr);
//   - learned zones: a BSM for a scope zone that is not configured makes
//     the Router learn the zone (a non-candidate machine, no border, no
//     Candidate-RP ranges), at most MaxBSRZones zones in all (counted as
//     zone-limit beyond, with a LimitHit). A learned zone is forgotten
//     when it has nothing left: no BSR in force (no information, or Accept
//     Any after its BSR timed out), no RP-set and no held BSM (pruneZones);
//   - the border for groups: a Join/Prune group set of a scoped group on
//     an interface at the border of a configured zone containing it is
//     dropped (scope-border), and so are MLD listeners of such a group
//     there, so that no state forwards the zone's groups across its
//     border.

// adminScopeRange reports whether p can be the range of an administrative
// scope zone: an IPv6 multicast prefix of /16 or longer (so that the scope
// is fixed) whose scope is between 3 (realm-local) and 13, above
// link-local and below global (RFC 7346, RFC 4291 2.7).
func adminScopeRange(p netip.Prefix) bool {
	if !p.IsValid() || !p.Addr().Is6() || p.Addr().Is4In6() || !p.Addr().IsMulticast() || p.Bits() < 16 {
		return false
	}
	scope := p.Addr().As16()[1] & 0x0f
	return scope >= 3 && scope <= 13
}

// within reports whether the range p is within the range of a zone.
func within(p, zone netip.Prefix) bool {
	return p.Bits() >= zone.Bits() && zone.Contains(p.Addr())
}

// zoneOrder sorts scope zones most specific first, then by address.
func zoneOrder(a, b *bsrZone) int {
	if a.rng.Bits() != b.rng.Bits() {
		return b.rng.Bits() - a.rng.Bits()
	}
	return a.rng.Addr().Compare(b.rng.Addr())
}

// bsrZone returns the configuration of the zone with range p, nil when it
// is not configured.
func (c *Config) bsrZone(p netip.Prefix) *BSRZone {
	for i := range c.BSRZones {
		if c.BSRZones[i].Range == p {
			return &c.BSRZones[i]
		}
	}
	return nil
}

// zoneCRPGroups returns the ranges of cfg.CandidateRP that belong to the
// zone rng (the zero Prefix: the global zone): those whose most specific
// configured zone it is.
func zoneCRPGroups(cfg *Config, rng netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	for _, g := range cfg.CandidateRP.Groups {
		var best netip.Prefix
		for _, z := range cfg.BSRZones {
			if within(g, z.Range) && (!best.IsValid() || z.Range.Bits() > best.Bits()) {
				best = z.Range
			}
		}
		if best == rng {
			out = append(out, g)
		}
	}
	return out
}

// cloneBSRZones copies the zones of a configuration, their ranges masked,
// the border sorted, the candidate's address without a zone.
func cloneBSRZones(zs []BSRZone) []BSRZone {
	zs = slices.Clone(zs)
	for i := range zs {
		z := &zs[i]
		z.Range = z.Range.Masked()
		z.Border = slices.Clone(z.Border)
		slices.Sort(z.Border)
		if b := z.CandidateBSR; b != nil {
			cb := *b
			cb.Addr = cb.Addr.WithZone("")
			z.CandidateBSR = &cb
		}
	}
	return zs
}

// bsrZones checks Config.BSRZones and MaxBSRZones.
func (v *validator) bsrZones(c *Config) {
	v.atLeast("MaxBSRZones", c.MaxBSRZones, 0)
	first := map[netip.Prefix]int{}
	for i, z := range c.BSRZones {
		f := fmt.Sprintf("BSRZones[%d]", i)
		switch {
		case i >= max(c.MaxBSRZones, 0):
			// Reported at the first zone beyond the limit.
			if i == max(c.MaxBSRZones, 0) {
				v.bad(f+".Range", "one zone too many: at most %d scope zones", c.MaxBSRZones)
			}
		case !v.prefix(f+".Range", z.Range):
		case !adminScopeRange(z.Range):
			v.bad(f+".Range", "%v is not an administrative scope range: a /16 or longer prefix whose scope (the fourth hex digit) is 3 to d, above link-local (2) and below global (e)", z.Range)
		default:
			if j, dup := first[z.Range]; dup {
				v.bad(f+".Range", "%v is the range of %s too", z.Range, fieldRef(fmt.Sprintf("BSRZones[%d].Range", j)))
				break
			}
			first[z.Range] = i
			for _, s := range c.SSMRange {
				if within(z.Range, s) {
					v.bad(f+".Range", "%v is in the SSM range (%v in %s): SSM groups use no RP", z.Range, s, fieldRef("SSMRange"))
					break
				}
			}
		}
		for j, name := range z.Border {
			switch {
			case name == "":
				v.bad(fmt.Sprintf("%s.Border[%d]", f, j), "empty interface name")
			case slices.Contains(z.Border[:j], name):
				v.bad(fmt.Sprintf("%s.Border[%d]", f, j), "%q is listed twice", name)
			}
		}
		if b := z.CandidateBSR; b != nil {
			v.address(f+".CandidateBSR.Addr", b.Addr, "required for a Candidate-BSR: a global unicast address of this router")
			if b.HashMaskLen > bsr.MaxHashMaskLen {
				v.bad(f+".CandidateBSR.HashMaskLen", "%d is more than %d", b.HashMaskLen, bsr.MaxHashMaskLen)
			}
		}
	}
}

// atBorder reports whether ifc is at the border of the zone z.
func (z *bsrZone) atBorder(ifc *iface) bool {
	if len(z.border) == 0 {
		return false
	}
	_, ok := slices.BinarySearch(z.border, ifc.name)
	return ok
}

// scoped returns the scope zones (every zone but the global one).
func (r *Router) scoped() []*bsrZone { return r.zones[1:] }

// findZone returns the scope zone with range p, nil when none is known.
func (r *Router) findZone(p netip.Prefix) *bsrZone {
	for _, z := range r.scoped() {
		if z.rng == p {
			return z
		}
	}
	return nil
}

// zoneOf returns the zone whose RP-set gives RP(G): the most specific
// scope zone containing g, else the global zone.
func (r *Router) zoneOf(g netip.Addr) *bsrZone {
	for _, z := range r.scoped() {
		if z.rng.Contains(g) {
			return z
		}
	}
	return r.zones[0]
}

// newZone makes the machine of the scope zone with range p and adds it in
// order; it starts at the event's time.
func (r *Router) newZone(p netip.Prefix, configured bool) *bsrZone {
	z := &bsrZone{rng: p, configured: configured}
	if zc := r.cfg.bsrZone(p); configured && zc != nil {
		z.border = zc.Border
	}
	z.zone = bsr.New(r.ids, bsrConfig(&r.cfg, z))
	i, _ := slices.BinarySearchFunc(r.scoped(), z, zoneOrder)
	r.zones = slices.Insert(r.zones, 1+i, z)
	return z
}

// addConfiguredZones makes the configured zones of a new Router.
func (r *Router) addConfiguredZones() {
	for _, zc := range r.cfg.BSRZones {
		r.newZone(zc.Range, true)
	}
}

// setZonesConfig applies a new configuration to the zones (SetConfig): a
// new configured zone is made; one no longer configured gives up its
// candidacies and its border and lives on as a learned zone (it goes when
// its BSR times out, pruneZones); every zone gets its new setting.
func (r *Router) setZonesConfig(now time.Time) {
	for _, zc := range r.cfg.BSRZones {
		if z := r.findZone(zc.Range); z == nil {
			r.newZone(zc.Range, true)
		}
	}
	for _, z := range slices.Clone(r.zones) {
		if !z.rng.IsValid() {
			r.applyBSR(z, z.zone.SetConfig(now, bsrConfig(&r.cfg, z)), &r.stats, "")
			continue
		}
		zc := r.cfg.bsrZone(z.rng)
		z.configured, z.border = zc != nil, nil
		if zc != nil {
			z.border = zc.Border
		}
		r.applyBSR(z, z.zone.Start(now), &r.stats, "")
		r.applyBSR(z, z.zone.SetConfig(now, bsrConfig(&r.cfg, z)), &r.stats, "")
	}
	// Groups may have a new zone: their RP(G) is looked up again; local
	// listeners follow the borders.
	r.rpDirty = true
	r.rescopeListeners()
}

// pruneZones forgets the learned zones that have nothing left: no BSR in
// force, no RP-set, no held BSM. Their groups take their RP from the
// next zone containing them.
func (r *Router) pruneZones() {
	for i := len(r.zones) - 1; i >= 1; i-- {
		z := r.zones[i]
		if z.configured || len(z.held) > 0 {
			continue
		}
		if st := z.zone.State(); st != BSRNoInfo && st != BSRAcceptAny {
			continue
		}
		if _, _, ok := z.zone.Next(); ok {
			continue // RPs (or, in no state, anything) still timed
		}
		r.unwatchBSR(z)
		r.zones = slices.Delete(r.zones, i, i+1)
		r.rpDirty = true
	}
	if r.zoneLimitHit && len(r.scoped()) < r.cfg.MaxBSRZones {
		r.zoneLimitHit = false
	}
}

// bsmZone returns the zone a BSM received on ifc is for, learning a new
// scope zone if need be; nil when the BSM is dropped (counted on ifc): a
// Z bit on a range that is no admin scope range, a zone's BSM at its
// border, a new zone beyond MaxBSRZones.
func (r *Router) bsmZone(ifc *iface, now int64, m *pimmsg.Bootstrap) *bsrZone {
	if len(m.Groups) == 0 || !m.Groups[0].Group.AdminScope {
		return r.zones[0]
	}
	p := m.Groups[0].Group.Prefix()
	if !adminScopeRange(p) || m.Groups[0].Group.Addr.WithZone("") != p.Addr() {
		ifc.stats.drop(DropGroup)
		return nil
	}
	z := r.findZone(p)
	switch {
	case z != nil && z.atBorder(ifc):
		ifc.stats.drop(DropScopeBorder)
		return nil
	case z != nil:
		return z
	case len(r.scoped()) >= r.cfg.MaxBSRZones:
		ifc.stats.drop(DropZoneLimit)
		if !r.zoneLimitHit {
			r.zoneLimitHit = true
			ifc.stats.limitHit(LimitBSRZones)
			r.emit(LimitHit{IfIndex: ifc.index, Kind: LimitBSRZones, Limit: r.cfg.MaxBSRZones})
		}
		return nil
	}
	z = r.newZone(p, false)
	r.applyBSR(z, z.zone.Start(r.abs(now)), &r.stats, "")
	return z
}

// receiveCRPAdv gives a Candidate-RP-Advertisement to the zones: each
// range to the most specific scope zone containing it, else to the global
// zone, which also takes one with no range (all groups). c counts it (its
// interface's counters, or the router's), once.
func (r *Router) receiveCRPAdv(c *counters, now int64, dst netip.Addr, m *pimmsg.CandidateRPAdvertisement) {
	recv := RecvCRPAdv
	if len(r.zones) == 1 || len(m.Groups) == 0 {
		r.applyBSR(r.zones[0], r.zones[0].zone.CandidateRPAdvertisement(r.abs(now), dst, m), c, recv)
		return
	}
	parts := make([][]pimmsg.Group, len(r.zones))
	for _, g := range m.Groups {
		i := 0
		if p := g.Prefix(); p.IsValid() {
			for j, z := range r.scoped() {
				if within(p, z.rng) {
					i = 1 + j
					break
				}
			}
		}
		parts[i] = append(parts[i], g)
	}
	for i, z := range slices.Clone(r.zones) {
		if len(parts[i]) == 0 {
			continue
		}
		sub := *m
		sub.Groups = parts[i]
		out := z.zone.CandidateRPAdvertisement(r.abs(now), dst, &sub)
		r.applyBSR(z, out, c, recv)
		if slices.ContainsFunc(out, func(o bsr.Output) bool { _, ok := o.(bsr.Received); return ok }) {
			recv = "" // counted once
		}
	}
}

// isCandidateBSR reports whether k is the address of one of our
// Candidate-BSRs, of any zone.
func (r *Router) isCandidateBSR(k addrKey) bool {
	if b := r.cfg.CandidateBSR; b != nil && keyOf(b.Addr) == k {
		return true
	}
	for _, z := range r.cfg.BSRZones {
		if b := z.CandidateBSR; b != nil && keyOf(b.Addr) == k {
			return true
		}
	}
	return false
}

// scopeBorder reports whether ifc is at the border of a configured zone
// that contains the group g: the zone's groups hold no state there.
func (r *Router) scopeBorder(ifc *iface, g netip.Addr) bool {
	for _, z := range r.scoped() {
		if z.rng.Contains(g) && z.atBorder(ifc) {
			return true
		}
	}
	return false
}

// borderListeners returns the listeners of u to use for the group g on
// ifc: none when ifc is at the border of a configured zone containing g.
// Those are counted (scope-border) and kept aside, so that a reload that
// moves the border gives them back (rescopeListeners); MLD bounds them
// (its groups per interface).
func (r *Router) borderListeners(ifc *iface, g netip.Addr, u ListenerInput) ListenerInput {
	gk := keyOf(g)
	if !r.scopeBorder(ifc, g) {
		delete(ifc.borderListeners, gk)
		return u
	}
	if !u.Exclude && len(u.Sources) == 0 {
		delete(ifc.borderListeners, gk)
		return u
	}
	ifc.stats.drop(DropScopeBorder)
	if ifc.borderListeners == nil {
		ifc.borderListeners = make(map[addrKey]ListenerInput)
	}
	ifc.borderListeners[gk] = ListenerInput{IfIndex: ifc.index, Group: g, Exclude: u.Exclude, Sources: slices.Clone(u.Sources)}
	return ListenerInput{IfIndex: ifc.index, Group: g}
}

// rescopeListeners applies new borders to the listeners (a reload): those
// of groups now at a border are withdrawn, those kept aside that are no
// longer at one are used.
func (r *Router) rescopeListeners() {
	for _, i := range r.Interfaces() {
		ifc := r.ifaces[i]
		var redo []ListenerInput
		for gk, ls := range ifc.listeners {
			if r.scopeBorder(ifc, gk.Addr()) {
				u := ListenerInput{IfIndex: i, Group: gk.Addr(), Exclude: ls.exclude}
				for _, s := range ls.sources {
					u.Sources = append(u.Sources, s.Addr())
				}
				redo = append(redo, u)
			}
		}
		for gk, u := range ifc.borderListeners {
			if !r.scopeBorder(ifc, gk.Addr()) {
				redo = append(redo, u)
			}
		}
		slices.SortFunc(redo, func(a, b ListenerInput) int { return a.Group.Compare(b.Group) })
		for _, u := range redo {
			r.setListeners(ifc, u)
		}
	}
}

// BSRFor returns the BSR whose RP-set gives RP(G) for the group g (zero:
// none known) and the range of its scope zone (zero: the global zone).
func (r *Router) BSRFor(g netip.Addr) (netip.Addr, netip.Prefix) {
	z := r.zoneOf(g.WithZone(""))
	b, _ := z.zone.BSR()
	return b, z.rng
}

// BSRZoneInfo is the BSR state of one administrative scope zone, for
// pim6stat: BSRInfo (without Embedded) with the zone's range, its border
// and whether it is configured (else learned from BSMs).
type BSRZoneInfo struct {
	Range      netip.Prefix
	Border     []string
	Configured bool
	BSRInfo
}

// BSRZones returns the state of the scope zones at now, most specific
// range first.
func (r *Router) BSRZones(now time.Time) []BSRZoneInfo {
	out := make([]BSRZoneInfo, 0, len(r.scoped()))
	for _, z := range r.scoped() {
		i := z.zone.Info(now)
		out = append(out, BSRZoneInfo{
			Range:      z.rng,
			Border:     slices.Clone(z.border),
			Configured: z.configured,
			BSRInfo: BSRInfo{
				State:             i.State,
				BSR:               i.BSR,
				Priority:          i.Priority,
				HashMaskLen:       i.HashMaskLen,
				Timeout:           i.Timeout,
				NextAdvertisement: i.NextAdvertisement,
				RPSet:             i.RPSet,
			},
		})
	}
	return out
}
