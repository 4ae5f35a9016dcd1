package pim

import (
	"net/netip"
	"slices"
	"time"
)

// The group-to-RP mapping of RFC 7761 section 4.7 and the router's own
// addresses (I_am_RP). RP(G) comes from the first of these that has one:
//
//  1. Embedded-RP (RFC 3956) for a group of ff70::/12 that carries a valid
//     RP address, when Config.EmbeddedRP is on (RFC 3956 section 7: the
//     embedded address overrides other mappings); at most
//     MaxEmbeddedRPGroups groups at once;
//  2. the static mappings with Override;
//  3. the RP-set of the BSR (RFC 5059; package bsr, bsr.go) of the most
//     specific administrative scope zone containing G, or of the global
//     zone when none does (zones.go);
//  4. the other static mappings.
//
// Everything else asks RP(G) through rpFor.

// rpEntry is one (prefix, RP) pair of the static configuration.
type rpEntry struct {
	prefix netip.Prefix
	rp     netip.Addr
}

// rpMap holds the mappings, longest prefix first and, for one prefix, the
// highest RP address first: the first entry that contains G is RP(G).
type rpMap []rpEntry

// newRPMap builds the map of the static mappings whose Override is
// override.
func newRPMap(rps []StaticRP, override bool) rpMap {
	var m rpMap
	for _, rp := range rps {
		if rp.Override != override {
			continue
		}
		for _, p := range rp.Groups {
			m = append(m, rpEntry{prefix: p.Masked(), rp: rp.Addr.WithZone("")})
		}
	}
	slices.SortStableFunc(m, func(a, b rpEntry) int {
		if a.prefix.Bits() != b.prefix.Bits() {
			return b.prefix.Bits() - a.prefix.Bits()
		}
		return b.rp.Compare(a.rp)
	})
	return m
}

// lookup is the static RP(G): the longest matching prefix, ties by the
// highest RP address. (RFC 7761 leaves static ties to the implementation;
// the hash function of 4.7.2 is for BSR's candidate sets.)
func (m rpMap) lookup(g netip.Addr) (netip.Addr, bool) {
	for _, e := range m {
		if e.prefix.Contains(g) {
			return e.rp, true
		}
	}
	return netip.Addr{}, false
}

// RP returns RP(G), the Rendezvous Point of group g (RFC 7761 section 4.7),
// and false when g has none: a group in the SSM range (4.8), an invalid
// group, or one no mapping covers.
// A group that holds state answers with the RP its state uses.
func (r *Router) RP(g netip.Addr) (netip.Addr, bool) {
	g = g.WithZone("")
	if grp := r.groups[keyOf(g)]; grp != nil && validGroup(g) {
		if !grp.hasRP {
			return netip.Addr{}, false
		}
		return grp.rp.Addr(), true
	}
	k, _, ok := r.rpLookup(g)
	if !ok {
		return netip.Addr{}, false
	}
	return k.Addr(), true
}

// Where RP(G) comes from, as RPOrigin and RPChange say it.
const (
	OriginStatic         = "static"          // a static mapping
	OriginStaticOverride = "static-override" // a static mapping with Override
	OriginBSR            = "bsr"             // the BSR's RP-set
	OriginEmbedded       = "embedded"        // the group's address (RFC 3956)
)

// RPOrigin returns RP(G) as RP does, with where it comes from (Origin...
// constants).
func (r *Router) RPOrigin(g netip.Addr) (netip.Addr, string, bool) {
	g = g.WithZone("")
	rp, ok := r.RP(g)
	if !ok {
		return netip.Addr{}, "", false
	}
	return rp, r.originOf(g, keyOf(rp)), true
}

// originOf names where the mapping of g to rp comes from ("" when the
// mappings give g another RP now).
func (r *Router) originOf(g netip.Addr, rp addrKey) string {
	if k, origin, ok := r.rpLookup(g); ok && k == rp {
		return origin
	}
	return ""
}

// RPChange says that RP(G) of a group holding state changed (an RP-set
// from the BSR, an RP expiring, a reload, an Embedded-RP group getting
// room): RP is the new one (the zero Addr: none) and Origin where it
// comes from. The group's state moves with it.
type RPChange struct {
	Group  netip.Addr
	RP     netip.Addr
	Origin string
}

func (RPChange) action() {}

// StarGChange says that a (*,G) entry came to be (Added) or went away.
// Linux forwards only (S,G) entries, so no Route follows it; it is for
// the operator's event stream. An entry made and dropped within one event
// (a Prune(*,G) for a group without state) is not reported.
type StarGChange struct {
	Group netip.Addr
	Added bool
}

func (StarGChange) action() {}

// noteRPChange emits RPChange for g after setGroupRP changed its RP.
func (r *Router) noteRPChange(g *group) {
	ev := RPChange{Group: g.key.Addr()}
	if g.hasRP {
		ev.RP = g.rp.Addr()
		ev.Origin = r.originOf(ev.Group, g.rp)
	}
	r.emit(ev)
}

// rpLookup is RP(G) with where it came from (an Origin... constant; see
// the top of the file).
func (r *Router) rpLookup(g netip.Addr) (addrKey, string, bool) {
	if !validGroup(g) || r.cfg.isSSM(g) {
		return addrKey{}, "", false
	}
	if r.cfg.EmbeddedRP {
		if a, ok := EmbeddedRP(g); ok {
			return keyOf(a), OriginEmbedded, true
		}
	}
	if a, ok := r.rpsOverride.lookup(g); ok {
		return keyOf(a), OriginStaticOverride, true
	}
	if a, ok := r.zoneOf(g).zone.Lookup(g); ok { // zones.go
		return keyOf(a), OriginBSR, true
	}
	if a, ok := r.rps.lookup(g); ok {
		return keyOf(a), OriginStatic, true
	}
	return addrKey{}, "", false
}

// rpFor is RP(G) as a key. An Embedded-RP group that holds no state yet
// gets no RP once MaxEmbeddedRPGroups groups use theirs (counted as
// DropEmbeddedRPLimit, LimitHit once per episode).
func (r *Router) rpFor(g netip.Addr) (addrKey, bool) {
	k, origin, ok := r.rpLookup(g)
	if !ok || origin != OriginEmbedded {
		return k, ok
	}
	if grp := r.groups[keyOf(g)]; grp != nil && grp.embedded {
		return k, true
	}
	if r.nEmbedded >= r.cfg.MaxEmbeddedRPGroups {
		r.stats.drop(DropEmbeddedRPLimit)
		if !r.embLimitHit {
			r.embLimitHit = true
			r.stats.limitHit(LimitEmbeddedRP)
			r.emit(LimitHit{Kind: LimitEmbeddedRP, Limit: r.cfg.MaxEmbeddedRPGroups})
		}
		return addrKey{}, false
	}
	return k, true
}

// remapGroups gives every group its RP(G) again after a change of the
// mappings; the groups whose RP changed move (see SetConfig).
func (r *Router) remapGroups() {
	keys := make([]addrKey, 0, len(r.groups))
	for k := range r.groups {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, addrKey.Compare)
	for _, k := range keys {
		g := r.groups[k]
		rp, ok := r.rpFor(k.Addr())
		if ok != g.hasRP || rp != g.rp {
			r.setGroupRP(g, rp, ok)
			r.touchGroup(g)
			r.noteRPChange(g)
		}
	}
}

// SetLocalAddresses gives every global unicast address of the router (the
// addresses of all interfaces, PIM or not, loopback included). They make
// I_am_RP(G) (RFC 7761 section 4.7: RP(G) is one of ours), are where a
// Register must be addressed (4.4.2), and source our Registers when the
// source's interface has no global address. The daemon calls it at start
// and after every address change; groups whose I_am_RP changes move their
// state (the RP no longer joins toward itself, or starts to).
func (r *Router) SetLocalAddresses(now time.Time, addrs []netip.Addr) []Action {
	if r.closed {
		return nil
	}
	var next []addrKey
	for _, a := range addrs {
		if a = a.WithZone(""); validSource(a) {
			next = append(next, keyOf(a))
		}
	}
	slices.SortFunc(next, addrKey.Compare)
	next = slices.Compact(next)
	if slices.Equal(next, r.local) {
		return nil
	}
	n := r.begin(now)
	r.local = next
	for _, g := range r.groups {
		if g.hasRP {
			r.touchGroup(g)
		}
	}
	return r.finish(n)
}

// isLocal reports whether a is one of the router's own addresses.
func (r *Router) isLocal(a addrKey) bool {
	_, ok := slices.BinarySearchFunc(r.local, a, addrKey.Compare)
	return ok
}

// iAmRP is I_am_RP(G).
func (r *Router) iAmRP(g *group) bool { return g.hasRP && r.isLocal(g.rp) }

// rpIIF is RPF_interface(RP(G)): the interface of the route to the RP;
// RegisterIf at the RP itself (decapsulated packets arrive on the register
// MIF); 0 when there is no RP or no route yet.
func (r *Router) rpIIF(g *group) int32 {
	switch {
	case !g.hasRP:
		return 0
	case r.isLocal(g.rp):
		return RegisterIf
	}
	if s := g.rpSrc; s != nil && s.known && s.rpf.Valid {
		return int32(s.rpf.IfIndex)
	}
	return 0
}

// rpMRIBNbr is NBR(RPF_interface(RP(G)), MRIB.next_hop(RP(G))) (4.1.5):
// the neighbor toward the RP, NULL at the RP itself or without a route.
// An RP on a link of ours (no gateway) is its own next hop: it is found by
// the address in its Hello's Address List.
func (r *Router) rpMRIBNbr(g *group) upstreamNbr {
	if !g.hasRP || r.isLocal(g.rp) {
		return upstreamNbr{}
	}
	s := g.rpSrc
	if s == nil || !s.known || !s.rpf.Valid {
		return upstreamNbr{}
	}
	ifc := r.ifaces[s.rpf.IfIndex]
	if ifc == nil {
		return upstreamNbr{}
	}
	nh := s.rpf.NextHop
	if !nh.IsValid() {
		nh = g.rp.Addr()
	}
	nb := ifc.nbrFor(nh)
	if nb == nil {
		return upstreamNbr{}
	}
	return upstreamNbr{addr: nb.key, ifindex: int32(ifc.index)}
}
