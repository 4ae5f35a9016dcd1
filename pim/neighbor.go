package pim

import (
	"net/netip"
	"slices"
	"time"

	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// maxSecondary is the most secondary addresses kept per neighbor; the rest
// of a longer Address List is ignored (counted "address-list-limit").
const maxSecondary = 64

// neighbor is a PIM neighbor on one interface (RFC 7761 section 4.3.1),
// identified by its primary address: the link-local source of its Hellos
// (4.3.4). It holds what its last Hello said.
type neighbor struct {
	ifc  *iface
	key  addrKey
	addr netip.Addr
	// secondary is the Address List option (4.3.4), sorted; used to match
	// an RPF next hop given as a global address (NBR(I, A), 4.5).
	secondary []netip.Addr
	holdtime  uint16    // seconds; 0xffff: never expires
	nlt       lazyTimer // Neighbor Liveness Timer, not running for 0xffff
	upSince   time.Time

	genID            uint32
	hasGenID         bool
	drPriority       uint32
	hasDRPriority    bool
	lanPruneDelay    pimmsg.LANPruneDelay
	hasLANPruneDelay bool

	// wantBSM: the neighbor is new or restarted and gets the BSM after
	// our next Hello (bsr.go).
	wantBSM bool

	deleted bool
}

// newNeighbor creates a neighbor, or refuses it when the interface has
// MaxNeighbors already (counted, LimitHit once per episode).
func (r *Router) newNeighbor(ifc *iface, now int64, src netip.Addr) *neighbor {
	if len(ifc.neighbors) >= r.cfg.MaxNeighbors {
		ifc.stats.drop(DropNeighborLimit)
		if !ifc.nbrLimitHit {
			ifc.nbrLimitHit = true
			ifc.stats.limitHit(LimitNeighbors)
			r.emit(LimitHit{IfIndex: ifc.index, Kind: LimitNeighbors, Limit: r.cfg.MaxNeighbors})
		}
		return nil
	}
	nb := &neighbor{ifc: ifc, key: keyOf(src), addr: src, upSince: r.abs(now)}
	ifc.neighbors[nb.key] = nb
	ifc.byAddr[nb.key] = nb // secondary addresses are never link-local: no clash
	return nb
}

// update records the options of a Hello. Every Hello carries the whole
// state, so an option that is absent now is forgotten.
func (nb *neighbor) update(h *pimmsg.Hello) {
	nb.hasGenID = h.GenerationID != nil
	nb.genID = 0
	if nb.hasGenID {
		nb.genID = *h.GenerationID
	}
	nb.hasDRPriority = h.DRPriority != nil
	nb.drPriority = 0
	if nb.hasDRPriority {
		nb.drPriority = *h.DRPriority
	}
	nb.hasLANPruneDelay = h.LANPruneDelay != nil
	nb.lanPruneDelay = pimmsg.LANPruneDelay{}
	if nb.hasLANPruneDelay {
		nb.lanPruneDelay = *h.LANPruneDelay
	}
}

// setSecondary records the neighbor's Address List and reports whether it
// changed. Addresses that cannot be secondary addresses (link-local,
// multicast, ...) are skipped. An address another neighbor claims moves to
// this one: the latest Hello is the best information (4.3.4 leaves this to
// the implementation; the other neighbor's next Hello takes it back if it
// still owns it).
func (r *Router) setSecondary(nb *neighbor, list []netip.Addr) bool {
	ifc := nb.ifc
	var next []netip.Addr
	for _, a := range list {
		a = a.WithZone("")
		if validSource(a) {
			next = append(next, a)
		}
	}
	slices.SortFunc(next, netip.Addr.Compare)
	next = slices.Compact(next)
	if len(next) > maxSecondary {
		ifc.stats.drop(DropAddressListLimit)
		next = next[:maxSecondary]
	}
	if slices.Equal(next, nb.secondary) {
		return false
	}
	for _, a := range nb.secondary {
		if ifc.byAddr[keyOf(a)] == nb {
			delete(ifc.byAddr, keyOf(a))
		}
	}
	for _, a := range next {
		k := keyOf(a)
		if old := ifc.byAddr[k]; old != nil && old != nb {
			r.dropSecondary(old, a)
		}
		ifc.byAddr[k] = nb
	}
	nb.secondary = next
	return true
}

// dropSecondary removes one secondary address from a neighbor.
func (r *Router) dropSecondary(nb *neighbor, a netip.Addr) {
	if i, ok := slices.BinarySearchFunc(nb.secondary, a, netip.Addr.Compare); ok {
		nb.secondary = slices.Delete(slices.Clone(nb.secondary), i, i+1)
	}
}

// neighborExpired is the expiry of the Neighbor Liveness Timer (4.3.1).
func (r *Router) neighborExpired(nb *neighbor) { r.removeNeighbor(nb, NeighborExpired) }

// removeNeighbor forgets a neighbor (timeout or goodbye): the DR is elected
// again, Asserts it won are forgotten (4.6), and every source and RP routed
// through the interface has its RPF neighbor looked up again (an entry
// whose RPF' it was gets NULL or another neighbor, 4.5.4, 4.5.5 "RPF'
// changes").
func (r *Router) removeNeighbor(nb *neighbor, reason string) {
	ifc := nb.ifc
	r.dropNeighbor(nb, reason)
	r.assertWinnerGone(nb)
	r.electDR(ifc)
	r.touchRPFInterface(ifc)
}

// dropNeighbor deletes the neighbor's state and emits NeighborChange.
func (r *Router) dropNeighbor(nb *neighbor, reason string) {
	ifc := nb.ifc
	r.stopLazy(&nb.nlt)
	nb.deleted = true
	delete(ifc.neighbors, nb.key)
	for k, v := range ifc.byAddr {
		if v == nb {
			delete(ifc.byAddr, k)
		}
	}
	if ifc.nbrLimitHit && len(ifc.neighbors) < r.cfg.MaxNeighbors {
		ifc.nbrLimitHit = false
	}
	r.emit(NeighborChange{IfIndex: ifc.index, Neighbor: nb.addr, Up: false, Reason: reason})
}

// nbrFor is NBR(I, A) of RFC 7761 section 4.5: the neighbor on the
// interface whose primary or secondary address is a.
func (ifc *iface) nbrFor(a netip.Addr) *neighbor { return ifc.byAddr[keyOf(a.WithZone(""))] }
