package mld

import "github.com/pim6sd/pim6sd/mld/mldmsg"

// Drop reasons, the keys of Stats.Dropped. A packet or record is counted
// under exactly one.
const (
	// Packet checks (RFC 3810 sections 5.1.14, 5.2.13, 7): the message is
	// dropped whole.
	DropSource      = "source-not-link-local" // not from a link-local unicast address
	DropHopLimit    = "hop-limit"             // IPv6 hop limit not 1
	DropRouterAlert = "no-router-alert"       // no hop-by-hop Router Alert
	DropChecksum    = "bad-checksum"
	DropTruncated   = "truncated"    // mldmsg.ErrTruncated
	DropLength      = "bad-length"   // mldmsg.ErrLength (a Query of 25-27 octets, RFC 3810 8.1)
	DropType        = "unknown-type" // mldmsg.ErrType
	DropVersion     = "version"      // a message type the interface's Version disables
	DropOwnQuery    = "own-query"    // our own Query looped back
	// Record checks: the record (or the MLDv1 message) is ignored.
	DropGroup      = "bad-group"       // not multicast, scope 0 or 1, or ff02::1
	DropRecordType = "bad-record-type" // record type outside 1..6 (5.2.12)
	DropSSMExclude = "ssm-exclude"     // IS_EX or TO_EX in the SSM range (RFC 4604)
	DropSSMV1      = "ssm-v1"          // MLDv1 Report or Done in the SSM range (RFC 4604)
	DropCompatV1   = "compat-v1-block" // BLOCK in MLDv1 compatibility mode (8.3.2)
	DropDone       = "done-not-v1"     // Done for a group not in MLDv1 compatibility mode (8.3.2)
	// Limits: counted per ignored record (groups) or source (sources).
	DropGroupLimit  = "group-limit"
	DropSourceLimit = "source-limit"
)

// Received message kinds, the keys of Stats.Received.
const (
	RecvQueryV1  = "query-v1"
	RecvQueryV2  = "query-v2"
	RecvReportV1 = "report-v1"
	RecvReportV2 = "report-v2"
	RecvDone     = "done"
)

// Sent query kinds, the keys of Stats.Sent.
const (
	SentGeneral        = "general"          // General Query
	SentAddress        = "address-specific" // Multicast Address Specific Query
	SentAddressSources = "source-specific"  // Multicast Address and Source Specific Query
)

// Stats are the counters of one interface. Maps hold only non-zero counts.
type Stats struct {
	// Received counts messages that passed the packet checks, by kind.
	Received map[string]uint64
	// Records counts Multicast Address Records of MLDv2 Reports by type
	// (IS_IN ... BLOCK, "other" for types outside 1..6), before any record
	// check.
	Records map[string]uint64
	// Dropped counts what was dropped or ignored, by reason (Drop...).
	Dropped map[string]uint64
	// Sent counts Queries sent, by kind (Sent...).
	Sent map[string]uint64
	// LimitHits counts LimitHit episodes by kind (LimitGroups, LimitSources).
	LimitHits map[string]uint64
	// Groups and Sources are the numbers tracked now.
	Groups, Sources int
}

// counters is the in-engine form: fixed arrays, no allocation to count.
type counters struct {
	received  map[string]uint64
	records   [7]uint64 // index = record type 1..6; 0 for any other type
	dropped   map[string]uint64
	sent      map[string]uint64
	limitHits map[string]uint64
}

func (c *counters) count(m *map[string]uint64, key string) {
	if *m == nil {
		*m = make(map[string]uint64)
	}
	(*m)[key]++
}

func (c *counters) drop(reason string)   { c.count(&c.dropped, reason) }
func (c *counters) recv(kind string)     { c.count(&c.received, kind) }
func (c *counters) sentQuery(k string)   { c.count(&c.sent, k) }
func (c *counters) limitHit(kind string) { c.count(&c.limitHits, kind) }

func (c *counters) record(t mldmsg.RecordType) {
	if t >= 1 && t <= 6 {
		c.records[t]++
	} else {
		c.records[0]++
	}
}

func copyCounts(m map[string]uint64) map[string]uint64 {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]uint64, len(m))
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
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
	s := Stats{
		Received:  copyCounts(c.received),
		Dropped:   copyCounts(c.dropped),
		Sent:      copyCounts(c.sent),
		LimitHits: copyCounts(c.limitHits),
		Groups:    len(ifc.groups),
	}
	for t, n := range c.records {
		if n == 0 {
			continue
		}
		if s.Records == nil {
			s.Records = make(map[string]uint64)
		}
		name := "other"
		if t != 0 {
			name = mldmsg.RecordType(t).String()
		}
		s.Records[name] += n
	}
	for _, g := range ifc.groups {
		s.Sources += len(g.sources)
	}
	return s
}
