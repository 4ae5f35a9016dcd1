package bsr

import (
	"math"
	"math/bits"
	"net/netip"
	"slices"
	"time"

	"github.com/pim6sd/pim6sd/internal/engine"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// The BSR election (RFC 5059 3.1) and the Bootstrap messages: every
// router runs one of the two election machines, the Candidate-BSR machine
// (3.1.1) when Config.CandidateBSR is set, else the non-candidate machine
// (3.1.2).

// bsRandOverrideMin is the 5 s base of rand_override (RFC 5059 3.1.1).
const bsRandOverrideMin = 5 * time.Second

// maxFrags bounds the fragments of the accepted BSM kept for new
// neighbors, and the ranges waiting for their other fragments.
const maxFrags = 64

// triggeredBSMGap is the least time between two BSMs of the elected BSR.
const triggeredBSMGap = time.Second

// maxBSRPs is the most RPs one range of a BSM can count.
const maxBSRPs = 255

// startupHoldoff is how long a Candidate-BSR that knows no BSR listens
// before its rand_override starts: two Triggered_Hello_Delays, time for
// its Hellos to reach the neighbors and their unicast BSM (RFC 5059 3.3)
// to come back, so that a restarted candidate learns the BSR in place
// before it would claim the role.
const startupHoldoff = 10 * time.Second

// partialRange is a group range whose RPs come in several fragments:
// the usable RPs so far and how many RP entries were carried.
type partialRange struct {
	rps []rsRP
	got int
}

// bsTimeout is BS_Timeout (RFC 5059 section 5): 2 * BS_Period + 10 s.
func (z *Zone) bsTimeout() time.Duration { return 2*z.cfg.BootstrapPeriod + 10*time.Second }

// startupWait is the Pending time of a candidate that knows no BSR: the
// hold-off plus rand_override against itself (5 s). RFC 2362 had a
// restarted candidate wait BS_Timeout (130 s by default), so that a fresh
// domain elected its BSR only after two minutes; FRR waits rand_override
// only. Candidates with no information all wait the same; the first BSMs
// settle it at once (the best one wins, the others answer nothing).
func (z *Zone) startupWait() time.Duration {
	cb := z.cfg.CandidateBSR
	return startupHoldoff + z.randOverride(cb.Priority, cb.Addr)
}

// preferred compares BSR (prio, addr) pairs: above 0 when a is preferred
// to b (higher priority, then higher address), 0 when equal.
func preferred(pa uint8, a netip.Addr, pb uint8, b netip.Addr) int {
	if pa != pb {
		return int(pa) - int(pb)
	}
	return a.Compare(b)
}

// Arrival is how a BSM reached the router, as its owner checked it (RFC
// 5059 3.1.3).
type Arrival uint8

const (
	// Multicast: to ALL-PIM-ROUTERS without the No-Forward bit, from the
	// RPF neighbor toward its BSR. An accepted one is forwarded (3.4).
	Multicast Arrival = iota + 1
	// Refresh: unicast to one of our addresses, or multicast with the
	// No-Forward bit, within BS_Period of the router's start-up. Such a
	// BSM skips the RPF check: it is the quick refresh that the DR of a
	// link unicasts to a router that has just come up (3.3), and it is
	// used only while it is the first BSM of the zone (refreshable). It is
	// never forwarded.
	Refresh
)

// Bootstrap is a BSM fragment that arrived on interface ifindex and that
// the owner accepted from its link (RFC 5059 3.1.3): m.BSR is a routable
// unicast address that is not ours, it came from a neighbor, and it
// arrived as how says (the owner checks the RPF neighbor and the time
// since start-up). A BSM whose hash mask length is not one of an IPv6
// address is dropped (BadHashMask, see MaxHashMaskLen), and so is a
// Refresh that is not the zone's first BSM (NotStartup); the election
// machine decides whether to use the others (bootstrapEvent).
func (z *Zone) Bootstrap(now time.Time, ifindex int, m *pimmsg.Bootstrap, how Arrival) []Output {
	n := z.begin(now)
	z.emit(Received{})
	switch {
	case m.HashMaskLen > MaxHashMaskLen:
		z.emit(Dropped{Reason: BadHashMask})
	case how == Refresh && !z.refreshable(m):
		z.emit(Dropped{Reason: NotStartup})
	default:
		z.bootstrapEvent(n, ifindex, m, how)
	}
	return z.end()
}

// MaxHashMaskLen is the longest hash mask length of an IPv6 BSM: the
// mask applies to group addresses (RFC 7761 4.7.2, RFC 5059 4.1), which
// have 128 bits. A longer one is no length a BSR could mean: the BSM is
// invalid and dropped whole, as the configuration refuses such a length
// for this router's own candidacy.
const MaxHashMaskLen = 128

// refreshable reports whether a BSM that skipped the RPF check may be used
// (RFC 5059 3.1.3): no BSM has been accepted from the RPF neighbor nor
// originated (settled), and no other refresh has been accepted, except
// the fragments of the one accepted (same BSR, same fragment tag: the DR
// sends every fragment of its BSM, and on a link where we are the DR
// every router sends it).
func (z *Zone) refreshable(m *pimmsg.Bootstrap) bool {
	if z.settled {
		return false
	}
	return !z.hasTag || z.has && z.addr == m.BSR.WithZone("") && z.tag == m.FragmentTag
}

// bootstrapEvent runs the election machine on an acceptable BSM: a BSM
// preferred to ours (or to the known BSR's, or from the BSR) is accepted;
// a less preferred one is dropped, except that the elected BSR answers it
// with its own BSM at once, a pending candidate forwards it (it is still
// the others' BSR until we take over), and a Candidate whose BSR became
// worse than itself goes Pending.
func (z *Zone) bootstrapEvent(now int64, in int, m *pimmsg.Bootstrap, how Arrival) {
	fwd := how == Multicast && !m.NoForward
	bk := m.BSR.WithZone("")
	fromCur := z.has && z.addr == bk
	prefCur := !z.has || preferred(m.Priority, bk, z.prio, z.addr) >= 0
	if cb := z.cfg.CandidateBSR; cb != nil {
		if preferred(m.Priority, bk, cb.Priority, cb.Addr) > 0 {
			if z.state == Candidate && !prefCur && !fromCur {
				z.emit(Dropped{Reason: NotPreferred})
				return
			}
			z.acceptBSM(now, in, m, Candidate, how)
			return
		}
		switch {
		case z.state == Elected:
			// A worse BSR: assert ourselves at once.
			z.originateBSM(now)
			z.setBST(now + int64(z.cfg.BootstrapPeriod))
		case z.state == Pending:
			// Still the BSR for the others until we take over: its BSM
			// is forwarded, its content ignored (3.1.1).
			if fwd {
				z.emit(Forward{In: in, Msg: m})
			}
		case z.state == Candidate && fromCur:
			// The BSR became worse than us.
			z.state = Pending
			z.setBST(now + int64(z.randOverride(m.Priority, bk)))
			z.noteChange()
		}
		z.emit(Dropped{Reason: NotPreferred})
		return
	}
	if z.state == AcceptPreferred && !prefCur && !fromCur {
		z.emit(Dropped{Reason: NotPreferred})
		return
	}
	z.acceptBSM(now, in, m, AcceptPreferred, how)
}

// acceptBSM stores the BSR and the RP-set of an accepted BSM and restarts
// the Bootstrap Timer. A Multicast one is forwarded (unless its
// No-Forward bit is set) and ends the time of start-up refreshes
// (refreshable).
func (z *Zone) acceptBSM(now int64, in int, m *pimmsg.Bootstrap, state State, how Arrival) {
	fwd := how == Multicast && !m.NoForward
	if how == Multicast {
		z.settled = true
	}
	bk := m.BSR.WithZone("")
	changed := !z.has || z.addr != bk
	if z.state == Elected {
		z.crps, z.dead, z.hasOrig = nil, nil, false
		z.q.Stop(&z.crpTimer)
	}
	z.addr, z.has, z.prio, z.state = bk, true, m.Priority, state
	z.useHashMask(m.HashMaskLen)
	z.emit(WatchBSR{BSR: bk})
	z.setBST(now + int64(z.bsTimeout()))
	z.applyBSM(now, m)
	if fwd {
		z.emit(Forward{In: in, Msg: m})
	}
	if changed && z.cfg.CandidateRP != nil {
		z.setAdvTimer(now) // tell the new BSR at once (3.2)
	}
	z.noteChange()
}

// useHashMask makes l the hash mask length that RP(G) is computed with.
// A new length moves groups between RPs of equal priority (RFC 7761
// 4.7.2), so it is an RP-set change, whether it comes with a BSM of
// another BSR, after a reload ended our candidacy (the set stays, with
// the length of our last BSM), or with our own BSM (newly elected after a
// BSR with another length, or a reload of our length).
func (z *Zone) useHashMask(l uint8) {
	if z.hashMask != l {
		z.hashMask = l
		z.dirty = true
	}
}

// validRange reports whether a group range can be in the RP-set: IPv6
// multicast, /8 or longer.
func validRange(p netip.Prefix) bool {
	return p.IsValid() && p.Addr().Is6() && !p.Addr().Is4In6() && p.Bits() >= 8 && p.Addr().IsMulticast()
}

// routable reports whether a is a routable IPv6 unicast address, as an RP
// address must be.
func routable(a netip.Addr) bool {
	return a.Is6() && !a.Is4In6() && !a.IsUnspecified() && !a.IsLoopback() &&
		!a.IsMulticast() && !a.IsLinkLocalUnicast()
}

// applyBSM takes the group ranges of one fragment into the RP-set.
func (z *Zone) applyBSM(now int64, m *pimmsg.Bootstrap) {
	if !z.hasTag || z.tag != m.FragmentTag {
		if z.hasTag && z.set.dropNotSeen(z.tag) {
			z.dirty = true
		}
		z.tag, z.hasTag = m.FragmentTag, true
		z.frags = z.frags[:0]
		z.partial = nil
	}
	if len(z.frags) < maxFrags {
		z.frags = append(z.frags, m)
	}
	for i := range m.Groups {
		g := &m.Groups[i]
		p := g.Group.Prefix()
		if g.Group.Bidir || !validRange(p) {
			z.emit(Dropped{Reason: BadGroup, Router: true})
			continue
		}
		if !z.inZone(p) {
			z.emit(Dropped{Reason: OutOfZone, Router: true})
			continue
		}
		var rps []rsRP
		for _, rp := range g.RPs {
			if !routable(rp.Addr) || rp.Holdtime == 0 {
				continue
			}
			rps = append(rps, rsRP{
				addr:     rp.Addr.WithZone(""),
				prio:     rp.Priority,
				holdtime: rp.Holdtime,
				expires:  now + int64(rp.Holdtime)*int64(time.Second),
			})
		}
		if int(g.RPCount) > len(g.RPs) {
			// One fragment of a range split over several.
			if z.partial == nil {
				z.partial = make(map[netip.Prefix]*partialRange)
			}
			pr := z.partial[p]
			if pr == nil {
				if len(z.partial) >= maxFrags {
					z.emit(Dropped{Reason: SetLimit, Router: true})
					continue
				}
				pr = &partialRange{}
				z.partial[p] = pr
			}
			pr.rps = append(pr.rps, rps...)
			pr.got += len(g.RPs)
			if pr.got < int(g.RPCount) {
				continue
			}
			delete(z.partial, p)
			rps = pr.rps
		}
		old := 0
		if rg := z.set.find(p); rg != nil {
			old = len(rg.rps)
		}
		if z.set.pairs-old+len(rps) > z.cfg.MaxRPSet {
			z.emit(Dropped{Reason: SetLimit, Router: true})
			if !z.setLimitHit {
				z.setLimitHit = true
				z.emit(LimitHit{Limit: z.cfg.MaxRPSet})
			}
			continue
		}
		if z.set.put(p, rps, m.FragmentTag) {
			z.dirty = true
		}
	}
	if z.set.pairs < z.cfg.MaxRPSet {
		z.setLimitHit = false
	}
	z.resetSetTimer()
}

// resetSetTimer runs the RP-set timer to the earliest RP expiry.
func (z *Zone) resetSetTimer() {
	if at, ok := z.set.next(); ok {
		z.q.Set(&z.setTimer, z.abs(at), timerRPSet)
	} else {
		z.q.Stop(&z.setTimer)
	}
}

// NewNeighbor is a neighbor nbr on interface ifindex that came up or
// restarted and has had our Hello since: it gets the current BSM unicast,
// with the No-Forward bit (RFC 5059 3.3), when dr is set (this router is
// the link's DR, or nbr is: the DR sends it) and a BSR is known.
func (z *Zone) NewNeighbor(ifindex int, nbr netip.Addr, dr bool) []Output {
	if !z.has || len(z.frags) == 0 || !dr {
		return nil
	}
	out := make([]Output, 0, len(z.frags))
	for _, f := range z.frags {
		out = append(out, Unicast{IfIndex: ifindex, Neighbor: nbr, Msg: f})
	}
	return out
}

// bootstrapTimerExpired is "Bootstrap Timer expires" in both machines.
func (z *Zone) bootstrapTimerExpired(now int64) {
	switch z.state {
	case Candidate:
		z.state = Pending
		z.setBST(now + int64(z.randOverride(z.prio, z.addr)))
	case Pending:
		z.becomeBSR(now)
	case Elected:
		z.originateBSM(now)
		z.setBST(now + int64(z.cfg.BootstrapPeriod))
	case AcceptPreferred:
		z.state = AcceptAny
	}
	z.noteChange()
}

// becomeBSR is P-BSR -> E-BSR: the Candidate-RP table starts from the
// RP-set learned from the previous BSR, and the first BSM goes out.
func (z *Zone) becomeBSR(now int64) {
	z.state = Elected
	z.crps = make(map[netip.Addr]*crpEntry)
	for _, rg := range z.set.ranges {
		for _, rp := range rg.rps {
			e := z.crps[rp.addr]
			if e == nil {
				e = &crpEntry{addr: rp.addr, prio: rp.prio, holdtime: rp.holdtime, expires: rp.expires}
				z.crps[rp.addr] = e
			}
			e.groups = append(e.groups, rg.prefix)
			e.expires = max(e.expires, rp.expires)
		}
	}
	if cp := z.cfg.CandidateRP; cp != nil {
		z.localCRP(now, cp, cp.Holdtime)
	}
	z.resetCRPTimer()
	z.originateBSM(now)
	z.setBST(now + int64(z.cfg.BootstrapPeriod))
}

// randOverride is rand_override of RFC 5059 section 3.1.1, for IPv6:
// 5 + 2*log2(1 + bestPriority - myPriority) + AddrDelay seconds, where
// AddrDelay is log2(bestAddr - myAddr)/64 when the priorities are equal
// and 2 - myAddr/2^127 otherwise. The best values are those of the BSR
// just heard (or ours, when better).
func (z *Zone) randOverride(prio uint8, addr netip.Addr) time.Duration {
	cb := z.cfg.CandidateBSR
	my := cb.Addr
	bestPrio := max(prio, cb.Priority)
	best := addr
	if my.Compare(best) > 0 {
		best = my
	}
	d := 5 + 2*math.Log2(1+float64(bestPrio)-float64(cb.Priority))
	if bestPrio == cb.Priority {
		if diff := addrDiff(best, my); diff > 0 {
			d += math.Log2(diff) / 64
		}
	} else {
		d += 2 - addrFloat(my)/math.Exp2(127)
	}
	return max(bsRandOverrideMin, time.Duration(d*float64(time.Second)))
}

// addrFloat is an address as a (rounded) number.
func addrFloat(a netip.Addr) float64 {
	k := engine.KeyOf(a)
	return float64(k.Hi)*math.Exp2(64) + float64(k.Lo)
}

// addrDiff is a - b (a >= b) as a number. The subtraction is done on the
// 128-bit values before rounding: the difference of two rounded addresses
// (float64 keeps 53 bits) is 0 for candidates that differ only in their
// last 70 or so bits, e.g. two addresses of one /64, which would lose the
// log2(bestAddr - myAddr)/64 term of rand_override and give candidates of
// equal priority the same delay.
func addrDiff(a, b netip.Addr) float64 {
	ka, kb := engine.KeyOf(a), engine.KeyOf(b)
	lo, borrow := bits.Sub64(ka.Lo, kb.Lo, 0)
	hi, _ := bits.Sub64(ka.Hi, kb.Hi, borrow)
	return float64(hi)*math.Exp2(64) + float64(lo)
}

// originateBSM sends the elected BSR's Bootstrap message on every PIM
// interface and applies it locally: the Candidate-RPs by group range (at
// most 255 per range, the preferred ones), and the ranges that lost their
// last RP with an RP count of 0.
func (z *Zone) originateBSM(now int64) {
	cb := z.cfg.CandidateBSR
	byRange := make(map[netip.Prefix][]pimmsg.BootstrapRP)
	for _, k := range sortedKeys(z.crps) {
		e := z.crps[k]
		for _, p := range e.groups {
			byRange[p] = append(byRange[p], pimmsg.BootstrapRP{Addr: k, Holdtime: e.holdtime, Priority: e.prio})
		}
	}
	for p, n := range z.dead {
		if _, ok := byRange[p]; !ok {
			byRange[p] = nil
		}
		if n <= 1 {
			delete(z.dead, p)
		} else {
			z.dead[p] = n - 1
		}
	}
	ranges := make([]*rsRange, 0, len(byRange))
	for p := range byRange {
		ranges = append(ranges, &rsRange{prefix: p})
	}
	slices.SortFunc(ranges, rangeOrder)
	ranges = z.zoneFirst(ranges)
	bs := &pimmsg.Bootstrap{
		FragmentTag: uint16(z.cfg.Rand()),
		HashMaskLen: cb.HashMaskLen,
		Priority:    cb.Priority,
		BSR:         cb.Addr,
	}
	if bs.FragmentTag == z.tag {
		bs.FragmentTag++
	}
	for _, rg := range ranges {
		rps := byRange[rg.prefix]
		if len(rps) > maxBSRPs {
			slices.SortStableFunc(rps, func(a, b pimmsg.BootstrapRP) int { return int(a.Priority) - int(b.Priority) })
			rps = rps[:maxBSRPs]
		}
		bs.Groups = append(bs.Groups, pimmsg.BootstrapGroup{
			Group:   pimmsg.Group{Addr: rg.prefix.Addr(), MaskLen: uint8(rg.prefix.Bits()), AdminScope: rg.prefix == z.cfg.Range},
			RPCount: uint8(len(rps)),
			RPs:     rps,
		})
	}
	z.addr, z.has, z.prio, z.settled = cb.Addr, true, cb.Priority, true
	z.useHashMask(cb.HashMaskLen)
	z.emit(WatchBSR{})
	z.applyBSM(now, bs)
	z.frags = append(z.frags[:0], bs)
	z.emit(Originate{Msg: bs})
	z.lastOrig, z.hasOrig = now, true
	z.noteChange()
}

func sortedKeys[V any](m map[netip.Addr]V) []netip.Addr {
	out := make([]netip.Addr, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out
}

// triggerBSM makes the elected BSR send its BSM soon after a change of
// the Candidate-RP table: now, or a second after the last one.
func (z *Zone) triggerBSM(now int64) {
	if z.state != Elected {
		return
	}
	at := now
	if z.hasOrig {
		at = max(at, z.lastOrig+int64(triggeredBSMGap))
	}
	if at < z.bstAt {
		z.setBST(at)
	}
}
