package bsr

import (
	"net/netip"
	"slices"
	"time"
)

// The RP-set (RFC 5059): the group ranges and their candidate RPs learned
// from the elected BSR's Bootstrap messages (or, at the BSR, built from
// the Candidate-RP-Advertisements), each RP expiring with its holdtime,
// and RP(G) from it (RFC 7761 section 4.7.2).

// rsRP is one candidate RP of a range.
type rsRP struct {
	addr     netip.Addr
	prio     uint8
	holdtime uint16 // seconds, as advertised
	expires  int64  // zone time
}

// rsRange is one group range with its RPs, sorted by address.
type rsRange struct {
	prefix netip.Prefix
	rps    []rsRP
	// tag is the fragment tag of the last Bootstrap message that carried
	// the range; missed counts the whole BSMs since that did not (see
	// dropNotSeen).
	tag    uint16
	missed uint8
}

// rpSet is the RP-set. ranges are sorted longest prefix first, then by
// prefix address, so that the first range containing G is the longest
// match of RFC 7761 section 4.7.2.
type rpSet struct {
	ranges []*rsRange
	pairs  int // (range, RP) pairs, bounded by Config.MaxRPSet
}

func rangeOrder(a, b *rsRange) int {
	if a.prefix.Bits() != b.prefix.Bits() {
		return b.prefix.Bits() - a.prefix.Bits()
	}
	return a.prefix.Addr().Compare(b.prefix.Addr())
}

// find returns the range with prefix p, or nil.
func (s *rpSet) find(p netip.Prefix) *rsRange {
	i, ok := slices.BinarySearchFunc(s.ranges, &rsRange{prefix: p}, rangeOrder)
	if !ok {
		return nil
	}
	return s.ranges[i]
}

// put replaces the RPs of range p (creating it); no RPs removes it. It
// reports whether the RPs or priorities changed (holdtimes and expiries do
// not change the mapping).
func (s *rpSet) put(p netip.Prefix, rps []rsRP, tag uint16) bool {
	slices.SortFunc(rps, func(a, b rsRP) int { return a.addr.Compare(b.addr) })
	rps = slices.CompactFunc(rps, func(a, b rsRP) bool { return a.addr == b.addr })
	i, ok := slices.BinarySearchFunc(s.ranges, &rsRange{prefix: p}, rangeOrder)
	if !ok {
		if len(rps) == 0 {
			return false
		}
		s.ranges = slices.Insert(s.ranges, i, &rsRange{prefix: p, rps: rps, tag: tag})
		s.pairs += len(rps)
		return true
	}
	rg := s.ranges[i]
	rg.tag, rg.missed = tag, 0
	if len(rps) == 0 {
		s.pairs -= len(rg.rps)
		s.ranges = slices.Delete(s.ranges, i, i+1)
		return true
	}
	changed := !slices.EqualFunc(rg.rps, rps, func(a, b rsRP) bool { return a.addr == b.addr && a.prio == b.prio })
	s.pairs += len(rps) - len(rg.rps)
	rg.rps = rps
	return changed
}

// missedBSMs is how many whole BSMs in a row must leave a range out
// before it is dropped: two, so that one lost fragment does not make the
// range's groups lose their RP for the moment until its fragment of the
// next BSM arrives.
const missedBSMs = 2

// dropNotSeen is called when a BSM ends (the next one begins): the ranges
// it (tag) did not carry count a miss, and go at missedBSMs misses.
func (s *rpSet) dropNotSeen(tag uint16) bool {
	n := len(s.ranges)
	s.ranges = slices.DeleteFunc(s.ranges, func(rg *rsRange) bool {
		if rg.tag == tag {
			return false
		}
		rg.missed++
		if rg.missed >= missedBSMs {
			s.pairs -= len(rg.rps)
			return true
		}
		return false
	})
	return len(s.ranges) != n
}

// expire removes the RPs whose holdtime ran out by now (and ranges left
// empty); it reports whether anything went.
func (s *rpSet) expire(now int64) bool {
	changed := false
	for _, rg := range s.ranges {
		n := len(rg.rps)
		rg.rps = slices.DeleteFunc(rg.rps, func(rp rsRP) bool { return rp.expires <= now })
		if len(rg.rps) != n {
			s.pairs -= n - len(rg.rps)
			changed = true
		}
	}
	s.ranges = slices.DeleteFunc(s.ranges, func(rg *rsRange) bool { return len(rg.rps) == 0 })
	return changed
}

// next returns the earliest expiry, false when the set is empty.
func (s *rpSet) next() (int64, bool) {
	at, ok := int64(0), false
	for _, rg := range s.ranges {
		for _, rp := range rg.rps {
			if !ok || rp.expires < at {
				at, ok = rp.expires, true
			}
		}
	}
	return at, ok
}

// lookup is RP(G) from the RP-set (RFC 7761 section 4.7.2): the longest
// matching range; of its RPs the lowest priority value; of those the
// highest hash value Value(G, M, C) with the BSR's hash mask length; of
// those the highest address.
func (s *rpSet) lookup(g netip.Addr, hashMask uint8) (netip.Addr, bool) {
	for _, rg := range s.ranges {
		if !rg.prefix.Contains(g) {
			continue
		}
		return selectRP(rg.rps, g, hashMask), true
	}
	return netip.Addr{}, false
}

// selectRP applies steps 2 to 5 of RFC 7761 section 4.7.2 to the RPs of
// one range (not empty).
func selectRP(rps []rsRP, g netip.Addr, hashMask uint8) netip.Addr {
	best := rps[0]
	bestHash := rpHash(g, best.addr, hashMask)
	for _, c := range rps[1:] {
		switch {
		case c.prio > best.prio:
			continue
		case c.prio == best.prio:
			h := rpHash(g, c.addr, hashMask)
			if h < bestHash || h == bestHash && c.addr.Compare(best.addr) < 0 {
				continue
			}
			best, bestHash = c, h
		default:
			best, bestHash = c, rpHash(g, c.addr, hashMask)
		}
	}
	return best.addr
}

// RPSetEntry is one (group range, RP) pair of the RP-set.
type RPSetEntry struct {
	Prefix   netip.Prefix
	RP       netip.Addr
	Priority uint8
	// Holdtime is the advertised holdtime; Left the time to its expiry.
	Holdtime time.Duration
	Left     time.Duration
}

// entries lists the set, by range (longest first) then RP address.
func (s *rpSet) entries(now int64) []RPSetEntry {
	var out []RPSetEntry
	for _, rg := range s.ranges {
		for _, rp := range rg.rps {
			out = append(out, RPSetEntry{
				Prefix:   rg.prefix,
				RP:       rp.addr,
				Priority: rp.prio,
				Holdtime: time.Duration(rp.holdtime) * time.Second,
				Left:     left(rp.expires, now),
			})
		}
	}
	return out
}
