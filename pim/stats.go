package pim

// Drop reasons, the keys of Stats.Dropped. A message, group set, source
// entry or listener input is counted under exactly one.
const (
	// Message checks (RFC 7761 section 4.9): the message is dropped whole.
	DropChecksum      = "bad-checksum"
	DropTruncated     = "truncated"             // pimmsg.ErrTruncated
	DropVersion       = "bad-version"           // pimmsg.ErrVersion
	DropLength        = "bad-length"            // pimmsg.ErrLength
	DropOption        = "bad-option"            // pimmsg.ErrOption
	DropAddressFamily = "bad-address-family"    // pimmsg.ErrAddressFamily
	DropAddress       = "bad-address"           // pimmsg.ErrAddress
	DropMalformed     = "malformed"             // any other parse error
	DropNotLinkLocal  = "source-not-link-local" // Hello or Join/Prune not from a link-local address
	DropOwn           = "own-message"           // our own Hello or Join/Prune, looped back
	DropNoNeighbor    = "no-neighbor"           // Join/Prune from a router we have no Hello from (4.5)
	DropUnsupported   = "unsupported"           // a message type the router does not process
	// Bootstrap and Candidate-RP-Advertisement messages (RFC 5059).
	DropBSRRPF          = "bsr-rpf"           // a BSM not from the RPF neighbor toward its BSR
	DropBSMNotPreferred = "bsm-not-preferred" // a BSM the election machine does not accept
	DropNotBSR          = "not-bsr"           // a C-RP-Adv while this router is not the elected BSR, or not to its BSR address
	DropNotOurs         = "not-ours"          // a unicast BSM to an address that is not ours
	DropBSMNotStartup   = "bsm-not-startup"   // a unicast or No-Forward BSM that is not the start-up refresh (RFC 5059 3.1.3)
	DropBSMHashMask     = "bad-hash-mask"     // a BSM whose hash mask length is more than 128 (bsr.MaxHashMaskLen)
	DropRPSetLimit      = "rp-set-limit"      // RP-set pairs or Candidate-RPs beyond MaxRPSet
	DropEmbeddedRPLimit = "embedded-rp-limit" // an Embedded-RP group beyond MaxEmbeddedRPGroups
	DropUnknownType     = "unknown-type"      // a type pimmsg keeps raw (PIM-DM, BIDIR, unassigned)
	// Group set and source checks: that part is skipped.
	DropGroup      = "bad-group"    // not multicast, scope below 3, or a group mask other than 128
	DropSSMShared  = "ssm-shared"   // a (*,G) or (S,G,rpt) entry (W or R bit), or an RPT Assert, for an SSM group (4.8.1)
	DropSource     = "bad-source"   // not a routable unicast address, or a source mask other than 128
	DropSSMExclude = "ssm-exclude"  // EXCLUDE listeners for an SSM group
	DropWildcard   = "bad-wildcard" // a source with W set and R clear (4.9.5.1)
	DropNoRP       = "no-rp"        // a Join(*,G) for a group without an RP
	DropWrongRP    = "wrong-rp"     // a Join(*,G) naming another RP than RP(G) (4.5.1)
	// Asserts (4.6).
	DropAssertNoState = "assert-no-state" // an Assert for a source or group we hold no state for
	DropAssertRate    = "assert-rate"     // an answer to an inferior Assert sent less than 1 s after the last
	// Registers (4.4), counted on the interface they came in on, or on the
	// router (Stats(0)).
	DropRegisterPacket   = "register-bad-packet" // the inner packet is not from a unicast source to a routable group
	DropRegisterNotOurs  = "register-not-ours"   // addressed to an address that is not ours
	DropRegisterSSM      = "register-ssm"        // for an SSM group (a Register-Stop answers)
	DropRegisterNotRP    = "register-not-rp"     // we are not RP(G), or it was sent to another of our addresses (a Register-Stop answers)
	DropRegisterStopRate = "register-stop-rate"  // a Register-Stop to the same DR for the same (S,G) within 1 s
	DropAnycastNoSelf    = "anycast-no-self"     // a Register to send to the other Anycast-RP members while no member address is ours
	// Data-plane inputs (NoCache, WrongIIF, WholePacket, DataActivity),
	// counted on the router (Stats(0)).
	DropBadData         = "bad-data"          // an invalid source, group or interface, or a whole packet that does not match them
	DropDataSSM         = "data-ssm"          // a NoCache for an SSM group without state
	DropDataNotRP       = "data-not-rp"       // a packet decapsulated by the kernel for a group we are not the RP of
	DropDataNoState     = "data-no-state"     // a WrongIIF or DataActivity for an entry we do not hold
	DropRegisterNotJoin = "register-not-join" // a whole packet for an entry whose Register state is not Join
	DropRegisterRate    = "register-rate"     // a Register beyond Config.MaxRegisterRate
	DropNoAddress       = "no-address"        // no global address to send a Register from
	// Limits and the rest.
	DropNeighborLimit    = "neighbor-limit"     // a new neighbor beyond MaxNeighbors
	DropRouteLimit       = "route-limit"        // a new (S,G) or (*,G) beyond MaxRoutes
	DropAddressListLimit = "address-list-limit" // a neighbor's Address List beyond 64 addresses (the rest kept)
	DropSendError        = "send-error"         // a message we could not build (should not happen)
)

// Drop reasons of administrative scope zones (RFC 5059 1.3, zones.go).
const (
	DropScopeBorder = "scope-border" // a scope zone's BSM, or a Join/Prune group set or listener of its group, on an interface at its border
	DropOutOfZone   = "out-of-zone"  // a range of a scope zone's BSM or C-RP-Adv that is not within the zone
	DropZoneLimit   = "zone-limit"   // a BSM of a new scope zone beyond MaxBSRZones
)

// Received message kinds, the keys of Stats.Received.
const (
	RecvHello        = "hello"
	RecvJoinPrune    = "join-prune"
	RecvAssert       = "assert"
	RecvRegister     = "register"
	RecvNullRegister = "null-register"
	RecvRegisterStop = "register-stop"
	RecvBootstrap    = "bootstrap"
	RecvCRPAdv       = "c-rp-adv" // on the router (Stats(0))
	// Data-plane inputs, on the router (Stats(0)).
	RecvNoCache     = "nocache"
	RecvWrongIIF    = "wrong-iif"
	RecvWholePacket = "whole-packet"
)

// Sent message kinds, the keys of Stats.Sent.
const (
	SentHello        = "hello"
	SentJoinPrune    = "join-prune"
	SentAssert       = "assert"
	SentAssertCancel = "assert-cancel"
	// Unicast messages, on the router (Stats(0)).
	SentRegister     = "register"
	SentNullRegister = "null-register"
	SentRegisterStop = "register-stop"
	SentCRPAdv       = "c-rp-adv"
	// Per interface.
	SentBootstrap = "bootstrap"
)

// Stats are the counters of one interface. Maps hold only non-zero counts.
type Stats struct {
	// Received counts messages that passed the message checks, by kind.
	Received map[string]uint64
	// Dropped counts what was refused or ignored, by reason (Drop...).
	Dropped map[string]uint64
	// Sent counts messages sent, by kind (Sent...).
	Sent map[string]uint64
	// LimitHits counts LimitHit episodes by kind.
	LimitHits map[string]uint64
	// JoinsReceived and PrunesReceived count the source entries of
	// accepted Join/Prune messages (any group, any upstream neighbor);
	// JoinsSent and PrunesSent those we sent (PruneEchoes included).
	JoinsReceived, PrunesReceived uint64
	JoinsSent, PrunesSent         uint64
	// Neighbors is the number of neighbors now.
	Neighbors int
}

type counters struct {
	received, dropped, sent, limitHits map[string]uint64

	joins, prunes, joinsSent, prunesSent uint64
}

func count(m *map[string]uint64, key string) {
	if *m == nil {
		*m = make(map[string]uint64)
	}
	(*m)[key]++
}

func (c *counters) drop(reason string)   { count(&c.dropped, reason) }
func (c *counters) recv(kind string)     { count(&c.received, kind) }
func (c *counters) sentMsg(kind string)  { count(&c.sent, kind) }
func (c *counters) limitHit(kind string) { count(&c.limitHits, kind) }

func copyCounts(m map[string]uint64) map[string]uint64 {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]uint64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Stats returns the counters of the interface ifindex (zero Stats for an
// unknown interface). Stats(0) returns the router's own counters: the
// data-plane inputs, the unicast messages (Registers and Register-Stops
// sent, and those received on an interface without PIM), and what they
// dropped.
func (r *Router) Stats(ifindex int) Stats {
	if ifindex == 0 {
		c := &r.stats
		return Stats{Received: copyCounts(c.received), Dropped: copyCounts(c.dropped), Sent: copyCounts(c.sent), LimitHits: copyCounts(c.limitHits)}
	}
	ifc := r.ifaces[ifindex]
	if ifc == nil {
		return Stats{}
	}
	c := &ifc.stats
	return Stats{
		Received:       copyCounts(c.received),
		Dropped:        copyCounts(c.dropped),
		Sent:           copyCounts(c.sent),
		LimitHits:      copyCounts(c.limitHits),
		JoinsReceived:  c.joins,
		PrunesReceived: c.prunes,
		JoinsSent:      c.joinsSent,
		PrunesSent:     c.prunesSent,
		Neighbors:      len(ifc.neighbors),
	}
}
