package bsr

import (
	"net/netip"
	"slices"
	"time"

	"github.com/pim6sd/pim6sd/internal/engine"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// Candidate-RPs (RFC 5059 3.2): this router's advertisements to the BSR,
// and, at the elected BSR, the table of Candidate-RPs its BSMs carry.

// deadRangeRepeats is how many BSMs advertise a range that lost its last
// RP with an RP count of 0.
const deadRangeRepeats = 2

// allGroups is ff00::/8, the range of a C-RP-Adv that names none.
var allGroups = engine.AllGroups

// crpEntry is one Candidate-RP at the BSR.
type crpEntry struct {
	addr     netip.Addr
	prio     uint8
	holdtime uint16
	expires  int64
	groups   []netip.Prefix
}

// CandidateRPAdvertisement is a C-RP-Adv unicast to dst, one of our
// addresses. Only the elected BSR takes it, addressed to its BSR address:
// the Candidate-RP is kept for the holdtime (0 removes it) with its valid
// group ranges (none: ff00::/8), and a change of the table makes a BSM
// soon (triggerBSM).
func (z *Zone) CandidateRPAdvertisement(now time.Time, dst netip.Addr, m *pimmsg.CandidateRPAdvertisement) []Output {
	n := z.begin(now)
	z.receiveCRPAdv(n, dst, m)
	return z.end()
}

func (z *Zone) receiveCRPAdv(now int64, dst netip.Addr, m *pimmsg.CandidateRPAdvertisement) {
	cb := z.cfg.CandidateBSR
	if z.state != Elected || cb == nil || dst != cb.Addr {
		z.emit(Dropped{Reason: NotBSR})
		return
	}
	if !routable(m.RP) {
		z.emit(Dropped{Reason: BadAddress})
		return
	}
	var groups []netip.Prefix
	for _, g := range m.Groups {
		p := g.Prefix()
		if g.Bidir || !validRange(p) {
			z.emit(Dropped{Reason: BadGroup})
			continue
		}
		groups = append(groups, p)
	}
	if len(m.Groups) == 0 {
		groups = []netip.Prefix{allGroups}
	}
	if groups = z.zoneRanges(groups); groups == nil {
		return // none within the zone: the candidate's entry stays as it was
	}
	slices.SortFunc(groups, func(a, b netip.Prefix) int { return rangeOrder(&rsRange{prefix: a}, &rsRange{prefix: b}) })
	groups = slices.Compact(groups)
	z.emit(Received{})
	z.updateCRP(now, m.RP.WithZone(""), m.Priority, m.Holdtime, groups, false)
}

// localCRP is this router's own candidacy cp at the elected BSR.
func (z *Zone) localCRP(now int64, cp *CandidateRP, holdtime uint16) {
	z.updateCRP(now, cp.Addr, cp.Priority, holdtime, slices.Clone(cp.Groups), true)
}

// updateCRP records a Candidate-RP at the BSR (holdtime 0 removes it); a
// refusal counts on the router when onRouter is set, else with the
// message.
func (z *Zone) updateCRP(now int64, k netip.Addr, prio uint8, holdtime uint16, groups []netip.Prefix, onRouter bool) {
	e := z.crps[k]
	if holdtime == 0 || len(groups) == 0 {
		if e != nil {
			z.dropCRP(e)
			z.triggerBSM(now)
			z.resetCRPTimer()
		}
		return
	}
	if e == nil {
		if len(z.crps) >= z.cfg.MaxRPSet {
			z.emit(Dropped{Reason: SetLimit, Router: onRouter})
			return
		}
		e = &crpEntry{addr: k}
		z.crps[k] = e
		z.triggerBSM(now)
	} else if e.prio != prio || !slices.Equal(e.groups, groups) {
		z.markDead(e.groups, groups)
		z.triggerBSM(now)
	}
	e.prio, e.holdtime, e.groups = prio, holdtime, groups
	e.expires = now + int64(holdtime)*int64(time.Second)
	z.resetCRPTimer()
}

// dropCRP removes a Candidate-RP; ranges left without RP are advertised
// empty for a while.
func (z *Zone) dropCRP(e *crpEntry) {
	delete(z.crps, e.addr)
	z.markDead(e.groups, nil)
}

// markDead notes the ranges of old not in keep that no Candidate-RP
// serves any more.
func (z *Zone) markDead(old, keep []netip.Prefix) {
	for _, p := range old {
		if slices.Contains(keep, p) {
			continue
		}
		served := false
		for _, e := range z.crps {
			if slices.Contains(e.groups, p) {
				served = true
				break
			}
		}
		if !served {
			if z.dead == nil {
				z.dead = make(map[netip.Prefix]int)
			}
			z.dead[p] = deadRangeRepeats
		}
	}
}

func (z *Zone) resetCRPTimer() {
	at, ok := int64(0), false
	for _, e := range z.crps {
		if !ok || e.expires < at {
			at, ok = e.expires, true
		}
	}
	if ok {
		z.q.Set(&z.crpTimer, z.abs(at), timerCRPExpiry)
	} else {
		z.q.Stop(&z.crpTimer)
	}
}

// crpsExpired removes the Candidate-RPs whose holdtime ran out.
func (z *Zone) crpsExpired(now int64) {
	for _, k := range sortedKeys(z.crps) {
		if e := z.crps[k]; e.expires <= now {
			z.dropCRP(e)
			z.triggerBSM(now)
		}
	}
	z.resetCRPTimer()
}

// advertiseCRP is this router's Candidate-RP-Advertisement (RFC 5059
// 3.2), unicast to the BSR; at the BSR itself it goes straight into the
// table. Nothing goes out while no BSR is known, or when cp is nil.
func (z *Zone) advertiseCRP(now int64, cp *CandidateRP, holdtime uint16) {
	if cp == nil {
		return
	}
	if z.state == Elected {
		z.localCRP(now, cp, holdtime)
		return
	}
	if !z.has {
		return
	}
	m := &pimmsg.CandidateRPAdvertisement{Priority: cp.Priority, Holdtime: holdtime, RP: cp.Addr}
	for _, p := range cp.Groups {
		m.Groups = append(m.Groups, pimmsg.Group{Addr: p.Addr(), MaskLen: uint8(p.Bits())})
	}
	z.emit(Advertise{Src: cp.Addr, Dst: z.addr, Msg: m})
}
