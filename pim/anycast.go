package pim

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// Anycast-RP with PIM alone (RFC 4610). Several routers, the Anycast-RP
// set, hold one RP address (on a loopback; unicast routing takes every DR
// and every last-hop router to the nearest of them) and each has a unique
// address of its own. For a group whose RP(G) is the set's address, static
// or learned from the BSR (any RP mapping that names it):
//
//   - A Register (data or Null) sent to the RP address by a router that is
//     not a member, a DR, is handled as at any RP (register.go: the
//     kernel decapsulates it, KAT(S,G), the Register-Stop rules of 4.4.2
//     toward the DR) and is also sent on, as it came (same inner packet,
//     Null and Border bits), from our unique address to the unique address
//     of every other member: each member's shared tree gets the source's
//     packets and each learns the source to join its SPT.
//   - A Register from a member (its source is a member's unique address,
//     its destination ours) is handled as one to the RP address, and is
//     never sent on: no Register travels more than one hop between
//     members. Our Register-Stop answers the member, as the rules of
//     4.4.2 say for any Register; a member that forwarded a Register takes
//     a Register-Stop for it as any router that is not registering (S,G)
//     does: it changes nothing. The DR hears only from the member it
//     registered to.
//   - A member that is itself the DR of a directly connected source
//     (RFC 4610 section 3: the RP "is also the DR") registers to every
//     other member from its unique address, with the Register machine of
//     4.4.1 that a DR runs toward a single RP: one Register-Stop
//     suppresses the data Registers to all and the Null-Register probes
//     go to all. A member that stopped us has joined toward the source or
//     has no receivers; the others keep learning of the source through the
//     Null-Registers and join its SPT (4.2.1 at the RP).
//
// Our unique address is the member that is one of our addresses; without
// one (a configuration that lists another router's addresses only, or an
// address not up yet) nothing is forwarded and the router is a plain RP
// for the set's address (AnycastState.Self is invalid; counted as
// DropAnycastNoSelf). Registers are counted per member, in and out.

// AnycastRP is one Anycast-RP set (RFC 4610).
type AnycastRP struct {
	// Addr is the RP address the members share.
	Addr netip.Addr
	// Members are the unique addresses of every member, this router's
	// included, in any order.
	Members []netip.Addr
}

// maxAnycastMembers bounds the set: each Register from a DR goes out once
// to every other member.
const maxAnycastMembers = 16

func (a *AnycastRP) clone() *AnycastRP {
	c := &AnycastRP{Addr: a.Addr.WithZone("")}
	for _, m := range a.Members {
		c.Members = append(c.Members, m.WithZone(""))
	}
	return c
}

func (a *AnycastRP) validate(v *validator) {
	v.address("AnycastRP.Addr", a.Addr, "required for an Anycast-RP set: the RP address the members share")
	if len(a.Members) < 2 {
		v.bad("AnycastRP.Members", "%d addresses: a set has at least 2 members, this router among them", len(a.Members))
	}
	if len(a.Members) > maxAnycastMembers {
		v.bad("AnycastRP.Members", "%d addresses: at most %d members", len(a.Members), maxAnycastMembers)
	}
	for i, m := range a.Members {
		field := fmt.Sprintf("AnycastRP.Members[%d]", i)
		v.address(field, m, "required: a member's unique global unicast address")
		switch {
		case m == a.Addr:
			v.bad(field, "%v is the shared RP address: each member needs a unique address of its own (RFC 4610 section 2)", m)
		case slices.Contains(a.Members[:i], m):
			v.bad(field, "%v is listed twice", m)
		}
	}
}

// AnycastPeerCounters count the Registers exchanged with one member.
type AnycastPeerCounters struct {
	// RegistersIn and NullRegistersIn: Registers from this member.
	RegistersIn, NullRegistersIn uint64
	// RegistersOut and NullRegistersOut: Registers sent to this member
	// (forwarded from DRs, or our own as the DR of a source).
	RegistersOut, NullRegistersOut uint64
	// RegisterStopsIn and RegisterStopsOut: Register-Stops from and to
	// this member.
	RegisterStopsIn, RegisterStopsOut uint64
}

// AnycastState is the Anycast-RP set in use and its counters.
type AnycastState struct {
	Addr netip.Addr
	// Self is our unique address: the member that is ours; invalid when
	// no member is.
	Self netip.Addr
	// Local: the shared address is one of ours (without it we are not the
	// RP and take no Registers for it).
	Local   bool
	Members []AnycastMemberState // in the configured order
}

// AnycastMemberState is one member of the set.
type AnycastMemberState struct {
	Addr netip.Addr
	Self bool
	AnycastPeerCounters
}

// Anycast returns the Anycast-RP set and its counters; nil when the router
// is no member.
func (r *Router) Anycast() *AnycastState {
	a := r.cfg.AnycastRP
	if a == nil {
		return nil
	}
	self, _ := r.anycastSelf(a)
	st := &AnycastState{Addr: a.Addr, Self: self, Local: r.isLocal(keyOf(a.Addr))}
	for _, m := range a.Members {
		ms := AnycastMemberState{Addr: m, Self: m == self}
		if c := r.anycastCount[keyOf(m)]; c != nil {
			ms.AnycastPeerCounters = *c
		}
		st.Members = append(st.Members, ms)
	}
	return st
}

// anycastEqual reports whether two settings are the same set.
func anycastEqual(a, b *AnycastRP) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Addr.WithZone("") == b.Addr.WithZone("") && slices.EqualFunc(a.Members, b.Members, func(x, y netip.Addr) bool { return x.WithZone("") == y.WithZone("") })
}

// anycastFor is the Anycast-RP set whose address is rp, or nil.
func (r *Router) anycastFor(rp addrKey) *AnycastRP {
	if a := r.cfg.AnycastRP; a != nil && keyOf(a.Addr) == rp {
		return a
	}
	return nil
}

// anycastSelf is our unique address in a: the first member that is ours.
func (r *Router) anycastSelf(a *AnycastRP) (netip.Addr, bool) {
	for _, m := range a.Members {
		if r.isLocal(keyOf(m)) {
			return m, true
		}
	}
	return netip.Addr{}, false
}

// anycastPeer reports whether src is another member of a.
func (r *Router) anycastPeer(a *AnycastRP, src netip.Addr) bool {
	src = src.WithZone("")
	return a != nil && slices.Contains(a.Members, src) && !r.isLocal(keyOf(src))
}

// anycastCounters returns the counters of member m, created on first use
// (the set is bounded by maxAnycastMembers; counters of members removed
// by a reload are dropped then).
func (r *Router) anycastCounters(m netip.Addr) *AnycastPeerCounters {
	k := keyOf(m)
	c := r.anycastCount[k]
	if c == nil {
		if r.anycastCount == nil {
			r.anycastCount = make(map[addrKey]*AnycastPeerCounters)
		}
		c = &AnycastPeerCounters{}
		r.anycastCount[k] = c
	}
	return c
}

// pruneAnycastCounters forgets the counters of addresses that are no
// longer members (after SetConfig).
func (r *Router) pruneAnycastCounters() {
	a := r.cfg.AnycastRP
	for k := range r.anycastCount {
		if a == nil || !slices.Contains(a.Members, k.Addr()) {
			delete(r.anycastCount, k)
		}
	}
}

// anycastRegisters reports whether we, the RP of g through an Anycast-RP
// set, register g's directly connected sources to the other members.
func (r *Router) anycastRegisters(g *group) bool {
	a := r.anycastFor(g.rp)
	if a == nil {
		return false
	}
	_, ok := r.anycastSelf(a)
	return ok
}

// sendToMembers sends m from our unique address to every other member of
// a, and reports whether it had an address to send from.
func (r *Router) sendToMembers(a *AnycastRP, m *pimmsg.Register) bool {
	self, ok := r.anycastSelf(a)
	if !ok {
		r.stats.drop(DropAnycastNoSelf)
		return false
	}
	for _, peer := range a.Members {
		if peer == self || r.isLocal(keyOf(peer)) {
			continue
		}
		r.emit(SendPIM{Src: self, Dst: peer, Msg: m})
		c := r.anycastCounters(peer)
		if m.Null {
			c.NullRegistersOut++
			r.stats.sentMsg(SentNullRegister)
		} else {
			c.RegistersOut++
			r.stats.sentMsg(SentRegister)
		}
	}
	return true
}
