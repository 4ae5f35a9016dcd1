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
	DropUnsupported   = "unsupported"           // Register, Register-Stop, Assert, Bootstrap, C-RP-Adv: later stages
	DropUnknownType   = "unknown-type"          // a type pimmsg keeps raw (PIM-DM, BIDIR, unassigned)
	// Group set and source checks: that part is skipped.
	DropGroup      = "bad-group"   // not multicast, scope below 3, or a group mask other than 128
	DropNotSSM     = "not-ssm"     // a group outside the SSM range: ASM is a later stage
	DropSSMShared  = "ssm-shared"  // a (*,G) or (S,G,rpt) entry (W or R bit) for an SSM group (4.8.1)
	DropSource     = "bad-source"  // not a routable unicast address, or a source mask other than 128
	DropSSMExclude = "ssm-exclude" // EXCLUDE listeners for an SSM group
	// Limits and the rest.
	DropNeighborLimit    = "neighbor-limit"     // a new neighbor beyond MaxNeighbors
	DropRouteLimit       = "route-limit"        // a new (S,G) beyond MaxRoutes
	DropAddressListLimit = "address-list-limit" // a neighbor's Address List beyond 64 addresses (the rest kept)
	DropSendError        = "send-error"         // a message we could not build (should not happen)
)

// Received message kinds, the keys of Stats.Received.
const (
	RecvHello     = "hello"
	RecvJoinPrune = "join-prune"
)

// Sent message kinds, the keys of Stats.Sent.
const (
	SentHello     = "hello"
	SentJoinPrune = "join-prune"
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
// unknown interface).
func (r *Router) Stats(ifindex int) Stats {
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
