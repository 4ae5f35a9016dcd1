package pim

import (
	"net/netip"
	"slices"
	"time"
)

// RPF is the MRIB's answer for an address (RFC 7761 section 4.5:
// MRIB.next_hop(S), RPF_interface(S)).
type RPF struct {
	// Valid is false when there is no route.
	Valid bool
	// IfIndex is the outgoing interface of the route: RPF_interface.
	IfIndex int
	// NextHop is the gateway (its link-local address, as the kernel
	// reports it, or a global one that a neighbor lists in its Address
	// List), or invalid when the address is on-link (directly connected).
	NextHop netip.Addr
	// Metric and Preference are the route's, kept for Assert (4.6).
	Metric     uint32
	Preference uint32
}

// Canonical is the answer as the engine keeps it: the next hop without a
// zone (the interface names the link), and the zero RPF for no route.
// Two answers that are Canonically equal are the same route to PIM.
func (f RPF) Canonical() RPF {
	f.NextHop = f.NextHop.WithZone("")
	if !f.Valid || f.IfIndex <= 0 {
		return RPF{}
	}
	return f
}

// RPFOf returns the route the engine holds for a watched address (the last
// SetRPF answer, Canonical), and false when the address is not watched or
// not answered yet. The engine is the one record of these answers: the
// daemon asks it which looked-up routes changed.
func (r *Router) RPFOf(addr netip.Addr) (RPF, bool) {
	s := r.sources[keyOf(addr.WithZone(""))]
	if s == nil || !s.known {
		return RPF{}, false
	}
	return s.rpf, true
}

// WatchedRPF returns every address whose route the engine watches
// (WatchRPF not yet ended by UnwatchRPF), sorted.
func (r *Router) WatchedRPF() []netip.Addr {
	out := make([]netip.Addr, 0, len(r.sources))
	for k := range r.sources {
		out = append(out, k.Addr())
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out
}

// SetRPF gives the route to addr, the source of some entries: the answer to
// WatchRPF, and again whenever the route changes. Every entry of the source
// re-evaluates RPF'(S,G) and its route: a new RPF neighbor gets a Join and
// the old one a Prune (4.5.5, "RPF'(S,G) changes not due to an Assert").
// A route for an address nobody watches is ignored. See SetRPFs.
func (r *Router) SetRPF(now time.Time, addr netip.Addr, rpf RPF) []Action {
	return r.SetRPFs(now, []RPFUpdate{{addr, rpf}})
}

// RPFUpdate is the route to one address.
type RPFUpdate struct {
	Addr netip.Addr
	RPF  RPF
}

// SetRPFs is SetRPF for several addresses in one event, so that the Joins
// and Prunes they cause go out aggregated (one message per upstream
// neighbor instead of one per source). The daemon should answer all the
// WatchRPF actions of one call with one SetRPFs, and pass the routes a
// routing change moves together.
func (r *Router) SetRPFs(now time.Time, us []RPFUpdate) []Action {
	if r.closed {
		return nil
	}
	n := r.begin(now)
	for _, u := range us {
		s := r.sources[keyOf(u.Addr.WithZone(""))]
		if s == nil {
			continue
		}
		rpf := u.RPF.Canonical()
		if s.known && s.rpf == rpf {
			continue
		}
		first := !s.known
		s.rpf, s.known = rpf, true
		r.touchSource(s)
		if first {
			r.pendingData(s, n)
			r.routeKnown(n, s)
		}
	}
	return r.finish(n)
}

// rpfMRIB is NBR(RPF_interface(S), MRIB.next_hop(S)) (4.1.5): the PIM
// neighbor on the RPF interface whose primary or secondary address is the
// next hop. NULL (ifindex 0) when there is no route, the interface runs no
// PIM, S is directly connected (no next hop) or no neighbor has that
// address.
func (r *Router) rpfMRIB(sg *sgEntry) upstreamNbr {
	s := sg.src
	if !s.known || !s.rpf.Valid || !s.rpf.NextHop.IsValid() {
		return upstreamNbr{}
	}
	ifc := r.ifaces[s.rpf.IfIndex]
	if ifc == nil {
		return upstreamNbr{}
	}
	nb := ifc.nbrFor(s.rpf.NextHop)
	if nb == nil {
		return upstreamNbr{}
	}
	return upstreamNbr{addr: nb.key, ifindex: int32(ifc.index)}
}

// rpfPrime is RPF'(S,G) (4.1.5): the Assert winner on RPF_interface(S)
// when we lost an (S,G) Assert there (I_Am_Assert_Loser), else
// NBR(RPF_interface(S), MRIB.next_hop(S)).
func (r *Router) rpfPrime(sg *sgEntry) upstreamNbr {
	if i := sg.rpfInterface(); i != 0 {
		if as := sg.assertOn(i); as != nil && as.state == AssertLoser {
			return upstreamNbr{addr: as.winner.addr, ifindex: i}
		}
	}
	return r.rpfMRIB(sg)
}
