package bsr

import (
	"net/netip"

	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// Output is one thing the owner of a Zone must do, or count. The set is
// closed: Forward, Originate, Unicast, Advertise, WatchBSR, RPSetChanged,
// Change, LimitHit, Received and Dropped.
type Output interface{ output() }

// Forward asks the owner to send the BSM fragment Msg (No-Forward clear)
// to ALL-PIM-ROUTERS out of every PIM interface other than In that has
// neighbors (RFC 5059 3.4), split again to each link's MTU.
type Forward struct {
	In  int
	Msg *pimmsg.Bootstrap
}

// Originate asks the owner to send the elected BSR's BSM to
// ALL-PIM-ROUTERS out of every PIM interface, split to each link's MTU.
type Originate struct{ Msg *pimmsg.Bootstrap }

// Unicast asks the owner to send the BSM fragment Msg, with the No-Forward
// bit set, to the new neighbor Neighbor on interface IfIndex (RFC 5059
// 3.3), split to the link's MTU.
type Unicast struct {
	IfIndex  int
	Neighbor netip.Addr
	Msg      *pimmsg.Bootstrap
}

// Advertise asks the owner to unicast this router's
// Candidate-RP-Advertisement Msg from Src (the Candidate-RP address) to
// the BSR Dst (RFC 5059 3.2), routed like any packet of the router.
type Advertise struct {
	Src, Dst netip.Addr
	Msg      *pimmsg.CandidateRPAdvertisement
}

// WatchBSR tells the owner which BSR's BSMs it must be able to RPF-check
// (RFC 5059 3.1.3): it keeps the route to BSR known. The zero BSR means
// none: this router is the BSR. It is emitted at every accepted BSM, so the
// owner compares it with what it watches.
type WatchBSR struct{ BSR netip.Addr }

// RPSetChanged says that RP(G) may have changed for some groups: the
// RP-set, or the hash mask length it is used with, changed. The owner asks
// Lookup again for the groups it holds state for. It comes at most once
// per input, last.
type RPSetChanged struct{}

// Change says that the elected BSR or the state of the election machine
// changed. BSR is the zero Addr when no BSR is known.
type Change struct {
	BSR      netip.Addr
	Priority uint8
	State    State
}

// LimitHit says that the RP-set reached Config.MaxRPSet: pairs were
// refused. It is emitted once per episode, again only after the set has
// fallen below the limit.
type LimitHit struct{ Limit int }

// Received says that the Zone took the message it was given (the owner
// counts it as received, with the message's interface).
type Received struct{}

// Dropped says that the Zone refused an input, or part of one, for the
// owner's counters: with the message that was input (its interface), or,
// when Router is set or the input was not a message, on the router.
type Dropped struct {
	Reason Reason
	Router bool
}

// Reason is why something was Dropped.
type Reason uint8

// Drop reasons.
const (
	BadAddress   Reason = iota + 1 // a C-RP-Adv's RP address is not a routable unicast address
	BadGroup                       // a group range that is not IPv6 multicast (/8 or longer), or a bidirectional one
	NotPreferred                   // a BSM the election machine does not accept
	NotBSR                         // a C-RP-Adv while this router is not the elected BSR, or not to its BSR address
	SetLimit                       // RP-set pairs or Candidate-RPs beyond Config.MaxRPSet
	NotStartup                     // a Refresh BSM once the zone has accepted another BSM (RFC 5059 3.1.3)
	OutOfZone                      // a range of a scoped zone's BSM or C-RP-Adv that is not within the zone's range
	BadHashMask                    // a BSM whose hash mask length is more than MaxHashMaskLen
)

func (Forward) output()      {}
func (Originate) output()    {}
func (Unicast) output()      {}
func (Advertise) output()    {}
func (WatchBSR) output()     {}
func (RPSetChanged) output() {}
func (Change) output()       {}
func (LimitHit) output()     {}
func (Received) output()     {}
func (Dropped) output()      {}
