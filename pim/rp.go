package pim

import (
	"net/netip"
	"slices"
	"time"
)

// The group-to-RP mapping of RFC 7761 section 4.7 and the router's own
// addresses (I_am_RP). Only static mappings exist today; BSR (RFC 5059) and
// Embedded-RP (RFC 3956) will add candidates here, and everything else asks
// RP(G) through rpFor.

// rpEntry is one (prefix, RP) pair of the static configuration.
type rpEntry struct {
	prefix netip.Prefix
	rp     netip.Addr
}

// rpMap holds the mappings, longest prefix first and, for one prefix, the
// highest RP address first: the first entry that contains G is RP(G).
type rpMap []rpEntry

// newRPMap builds the map from the configuration.
func newRPMap(rps []StaticRP) rpMap {
	var m rpMap
	for _, rp := range rps {
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
func (r *Router) RP(g netip.Addr) (netip.Addr, bool) {
	g = g.WithZone("")
	if !validGroup(g) || r.cfg.isSSM(g) {
		return netip.Addr{}, false
	}
	return r.rps.lookup(g)
}

// rpFor is RP(G) as a key.
func (r *Router) rpFor(g netip.Addr) (addrKey, bool) {
	a, ok := r.RP(g)
	if !ok {
		return addrKey{}, false
	}
	return keyOf(a), true
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
	slices.SortFunc(next, addrKey.compare)
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
	_, ok := slices.BinarySearchFunc(r.local, a, addrKey.compare)
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
		nh = g.rp.addr()
	}
	nb := ifc.nbrFor(nh)
	if nb == nil {
		return upstreamNbr{}
	}
	return upstreamNbr{addr: nb.key, ifindex: int32(ifc.index)}
}
