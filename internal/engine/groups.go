package engine

import (
	"net/netip"
	"slices"
)

// AllGroups is ff00::/8, every IPv6 multicast group: the range of a
// Candidate-RP that names none (RFC 5059 section 4.2).
var AllGroups = netip.MustParsePrefix("ff00::/8")

// CandidateRPGroups returns a Candidate-RP's group ranges as the engines
// keep them: a new slice, each range masked to its length, AllGroups when
// there are none.
func CandidateRPGroups(gs []netip.Prefix) []netip.Prefix {
	if len(gs) == 0 {
		return []netip.Prefix{AllGroups}
	}
	out := slices.Clone(gs)
	for i, g := range out {
		out[i] = g.Masked()
	}
	return out
}
