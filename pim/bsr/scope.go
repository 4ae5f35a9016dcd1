package bsr

import (
	"net/netip"
	"slices"
)

// Administrative scope zones (RFC 5059 1.3). A Zone with Config.Range set
// is the BSR machine of one scope zone: its election, Bootstrap Timer and
// RP-set are its own, like the global zone's. What differs is the group
// ranges it deals in:
//
//   - its BSMs name the zone by their first range, Range itself with the
//     Admin Scope Zone (Z) bit, carried even when no Candidate-RP serves
//     it (an RP count of 0); the owner gives a scoped Zone only the BSMs
//     whose first range names it, so the Zone does not look at the bit;
//   - it takes only ranges within Range: from a BSM (others are dropped as
//     OutOfZone: the RP-set of a scope zone cannot map groups outside it),
//     from a Candidate-RP-Advertisement at the zone's BSR (likewise; one
//     with no range within the zone changes nothing), and from this
//     router's CandidateRP.Groups (the owner gives each zone its own
//     ranges; a scoped Zone keeps only those within Range and is no
//     Candidate-RP when none is).
//
// Which zone a group's RP comes from (the most specific zone containing
// it) and where a zone's BSMs may go (not across the zone's border) are
// the owner's: package pim, zones.go.

// inZone reports whether the range p is within the zone: always in the
// global zone.
func (z *Zone) inZone(p netip.Prefix) bool {
	r := z.cfg.Range
	return !r.IsValid() || p.Bits() >= r.Bits() && r.Contains(p.Addr())
}

// zoneRanges returns the ranges of ps within the zone, counting the
// others as OutOfZone; nil when none is.
func (z *Zone) zoneRanges(ps []netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range ps {
		if z.inZone(p) {
			out = append(out, p)
		} else {
			z.emit(Dropped{Reason: OutOfZone})
		}
	}
	return out
}

// scopedCRP is cp with only its ranges within the zone Range, nil when
// none is.
func (c *Config) scopedCRP(cp *CandidateRP) *CandidateRP {
	r := c.Range
	groups := slices.DeleteFunc(cp.Groups, func(p netip.Prefix) bool {
		return p.Bits() < r.Bits() || !r.Contains(p.Addr())
	})
	if len(groups) == 0 {
		return nil
	}
	cp.Groups = groups
	return cp
}

// zoneFirst puts the zone's own range first among the ranges of a BSM to
// originate (adding it when no Candidate-RP serves it): a scoped BSM
// names its zone by its first range. The global zone's are left as they
// are.
func (z *Zone) zoneFirst(ranges []*rsRange) []*rsRange {
	r := z.cfg.Range
	if !r.IsValid() {
		return ranges
	}
	out := make([]*rsRange, 0, len(ranges)+1)
	out = append(out, &rsRange{prefix: r})
	for _, rg := range ranges {
		if rg.prefix != r {
			out = append(out, rg)
		}
	}
	return out
}
