package pim

import (
	"math"
	"math/bits"
	"net/netip"
	"slices"
	"time"

	"github.com/pim6sd/pim6sd/internal/timerq"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// The Bootstrap Router mechanism of RFC 5059 for the one global scope zone
// (administratively scoped zones are not supported: the Z bit of a group
// range is ignored and the range is used like any other).
//
// Every router runs one of the two election machines: the Candidate-BSR
// machine (3.1.1) when Config.CandidateBSR is set, else the non-candidate
// machine (3.1.2). A Bootstrap message (BSM) is accepted when:
//
//   - it names a routable BSR address that is not ours;
//   - it comes from a PIM neighbor on the interface;
//   - multicast to ALL-PIM-ROUTERS, it passes the RPF check (3.1.3): it
//     came in on the RPF interface toward the BSR from the RPF neighbor
//     (the MRIB next hop matched through the neighbors' Address Lists, or,
//     when the BSR is on the link itself, any neighbor there). While the
//     route to a new BSR is not known yet, its BSM is held and checked when
//     the route arrives (SetRPF);
//   - unicast to one of our addresses (the BSM a neighbor sends to a new
//     or restarted neighbor, 3.3), it is used but never forwarded;
//   - the election machine accepts it (preferred BSMs, see bootstrapEvent);
//     a pending candidate forwards a less preferred one without using it.
//
// An accepted BSM restarts the Bootstrap Timer (BS_Timeout), updates the
// RP-set, and is forwarded on every other PIM interface unless its
// No-Forward bit is set. The RP-set takes each group range of a fragment
// once all its RPs are in (a range split over fragments is reassembled by
// fragment tag); a range that two whole BSMs in a row did not carry is
// dropped when the next BSM begins, and every RP expires with its
// holdtime.
//
// The elected BSR builds the RP-set from the Candidate-RP-Advertisements
// it receives (each kept for its holdtime; a range that lost its last RP
// is advertised with no RP twice, so that the other routers drop it at
// once), originates a BSM every BS_Period and, when the set changes, at
// most once a second; a new BSR starts from the set it learned before.
// A Candidate-RP unicasts its advertisement to the BSR every
// C_RP_Adv_Period, at once when the BSR changes, and with holdtime 0 when
// it stops.

// BSRState is the state of the BSR election machine.
type BSRState string

// States of the Candidate-BSR machine (RFC 5059 3.1.1) and of the
// non-candidate machine (3.1.2).
const (
	BSRCandidate       BSRState = "candidate"        // C-BSR: another candidate is the BSR
	BSRPending         BSRState = "pending"          // P-BSR: waiting to become the BSR
	BSRElected         BSRState = "elected"          // E-BSR: this router is the BSR
	BSRNoInfo          BSRState = "no-info"          // NI: no BSM yet
	BSRAcceptPreferred BSRState = "accept-preferred" // AP: accepts BSMs from the BSR or better ones
	BSRAcceptAny       BSRState = "accept-any"       // AA: the BSR timed out; any BSM is accepted
)

// BSRChange says that the elected BSR or the state of this router's
// election machine changed. BSR is the zero Addr when no BSR is known.
type BSRChange struct {
	BSR      netip.Addr
	Priority uint8
	State    BSRState
}

func (BSRChange) action() {}

// bsRandOverrideMin is the 5 s base of rand_override (RFC 5059 3.1.1).
const bsRandOverrideMin = 5 * time.Second

// maxHeldBSM bounds the fragments held while the route to a new BSR is
// looked up, and the fragments of the accepted BSM kept for new neighbors.
const maxHeldBSM = 64

// deadRangeRepeats is how many BSMs advertise a range that lost its last
// RP with an RP count of 0.
const deadRangeRepeats = 2

// triggeredBSMGap is the least time between two BSMs of the elected BSR.
const triggeredBSMGap = time.Second

// bsrZone is the BSR state of the router.
type bsrZone struct {
	started bool
	state   BSRState
	// The elected BSR as known (this router's address when Elected).
	addr     addrKey
	has      bool
	prio     uint8
	hashMask uint8
	bst      timerq.ID // Bootstrap Timer
	bstAt    int64
	src      *source // the watched route toward addr (or toward held's BSR)

	// The accepted BSM: its fragment tag and fragments (sent to new
	// neighbors), and the ranges not complete yet.
	tag     uint16
	hasTag  bool
	frags   []*pimmsg.Bootstrap
	partial map[netip.Prefix]*partialRange

	set      rpSet
	setTimer timerq.ID
	// held are BSM fragments waiting for the route to their BSR.
	held []heldBSM

	// At the elected BSR: the Candidate-RPs, their expiry timer, the ranges
	// advertised empty, and when the last BSM went out.
	crps     map[addrKey]*crpEntry
	crpTimer timerq.ID
	dead     map[netip.Prefix]int
	lastOrig int64
	hasOrig  bool

	// This router's Candidate-RP advertisement timer.
	adv   timerq.ID
	advAt int64

	setLimitHit, embLimitHit bool
	lastEvent                BSRChange
}

// partialRange is a group range whose RPs come in several fragments:
// the usable RPs so far and how many RP entries were carried.
type partialRange struct {
	rps []rsRP
	got int
}

type heldBSM struct {
	ifindex  int
	src, dst netip.Addr
	m        *pimmsg.Bootstrap
}

// crpEntry is one Candidate-RP at the BSR.
type crpEntry struct {
	addr     addrKey
	prio     uint8
	holdtime uint16
	expires  int64
	groups   []netip.Prefix
}

// bsTimeout is BS_Timeout (RFC 5059 section 5): 2 * BS_Period + 10 s.
func (r *Router) bsTimeout() time.Duration { return 2*r.cfg.BootstrapPeriod + 10*time.Second }

// startBSR starts the election machine at the first event with a time.
func (r *Router) startBSR(now int64) {
	z := &r.bsr
	if z.started {
		return
	}
	z.started = true
	z.state = BSRNoInfo
	z.lastEvent = BSRChange{State: BSRNoInfo}
	if r.cfg.CandidateBSR != nil {
		z.state = BSRPending
		r.setBST(now + int64(r.startupWait()))
	}
	if r.cfg.CandidateRP != nil {
		r.setAdvTimer(now)
	}
	r.noteBSR()
}

// startupHoldoff is how long a Candidate-BSR that knows no BSR listens
// before its rand_override starts: two Triggered_Hello_Delays, time for
// its Hellos to reach the neighbors and their unicast BSM (RFC 5059 3.3)
// to come back, so that a restarted candidate learns the BSR in place
// before it would claim the role.
const startupHoldoff = 10 * time.Second

// startupWait is the Pending time of a candidate that knows no BSR: the
// hold-off plus rand_override against itself (5 s). RFC 2362 had a
// restarted candidate wait BS_Timeout (130 s by default), so that a fresh
// domain elected its BSR only after two minutes; FRR waits rand_override
// only. Candidates with no information all wait the same; the first BSMs
// settle it at once (the best one wins, the others answer nothing).
func (r *Router) startupWait() time.Duration {
	cb := r.cfg.CandidateBSR
	return startupHoldoff + r.randOverride(cb.Priority, keyOf(cb.Addr))
}

func (r *Router) setBST(at int64) {
	r.bsr.bstAt = at
	r.q.Set(&r.bsr.bst, r.abs(at), timerRef{kind: timerBootstrap})
}

func (r *Router) setAdvTimer(at int64) {
	r.bsr.advAt = at
	r.q.Set(&r.bsr.adv, r.abs(at), timerRef{kind: timerCRPAdv})
}

// noteBSR emits BSRChange when the BSR or the state changed.
func (r *Router) noteBSR() {
	z := &r.bsr
	ev := BSRChange{State: z.state}
	if z.has {
		ev.BSR, ev.Priority = z.addr.addr(), z.prio
	}
	if ev != z.lastEvent {
		z.lastEvent = ev
		r.emit(ev)
	}
}

// preferred compares BSR (prio, addr) pairs: above 0 when a is preferred
// to b (higher priority, then higher address), 0 when equal.
func preferred(pa uint8, a addrKey, pb uint8, b addrKey) int {
	if pa != pb {
		return int(pa) - int(pb)
	}
	return a.compare(b)
}

// receiveBootstrap checks a Bootstrap message (see the top of the file).
func (r *Router) receiveBootstrap(ifc *iface, now int64, src, dst netip.Addr, m *pimmsg.Bootstrap) {
	c := &ifc.stats
	if !validSource(m.BSR) {
		c.drop(DropAddress)
		return
	}
	bk := keyOf(m.BSR)
	if r.isLocal(bk) || r.cfg.CandidateBSR != nil && keyOf(r.cfg.CandidateBSR.Addr) == bk {
		c.drop(DropOwn)
		return
	}
	if ifc.neighbors[keyOf(src)] == nil && ifc.nbrFor(src) == nil {
		c.drop(DropNoNeighbor)
		return
	}
	unicast := dst != AllPIMRouters
	if unicast {
		if dst != ifc.self && !r.isLocal(keyOf(dst)) {
			c.drop(DropNotOurs)
			return
		}
	} else {
		s := r.sources[bk]
		if s == nil || !s.known {
			r.holdBSM(ifc, src, dst, m)
			return
		}
		if !r.bsrRPFCheck(ifc, src, s) {
			c.drop(DropBSRRPF)
			return
		}
	}
	c.recv(RecvBootstrap)
	r.bootstrapEvent(now, ifc, m, !unicast && !m.NoForward)
}

// holdBSM keeps a fragment until the route to its BSR is known; a BSM of
// another BSR replaces what is held.
func (r *Router) holdBSM(ifc *iface, src, dst netip.Addr, m *pimmsg.Bootstrap) {
	z := &r.bsr
	if len(z.held) > 0 && z.held[0].m.BSR != m.BSR {
		z.held = z.held[:0]
	}
	if len(z.held) >= maxHeldBSM {
		ifc.stats.drop(DropRPSetLimit)
		return
	}
	z.held = append(z.held, heldBSM{ifindex: ifc.index, src: src, dst: dst, m: m})
	r.watchBSR(keyOf(m.BSR))
}

// watchBSR makes the route toward k the one the zone watches.
func (r *Router) watchBSR(k addrKey) {
	z := &r.bsr
	if z.src != nil && z.src.key == k {
		return
	}
	r.unwatchBSR()
	z.src = r.acquireSource(k)
	z.src.bsrRef = true
}

func (r *Router) unwatchBSR() {
	z := &r.bsr
	if z.src != nil {
		z.src.bsrRef = false
		r.releaseSource(z.src)
		z.src = nil
	}
}

// routeKnown processes the held BSM once the route to its BSR is known.
func (r *Router) routeKnown(now int64, s *source) {
	z := &r.bsr
	if len(z.held) == 0 || keyOf(z.held[0].m.BSR) != s.key {
		return
	}
	held := z.held
	z.held = nil
	for _, h := range held {
		if ifc := r.ifaces[h.ifindex]; ifc != nil {
			r.receiveBootstrap(ifc, now, h.src, h.dst, h.m)
		}
	}
	// The watch may stay on a BSR that was not accepted.
	if z.src != nil && (!z.has || z.src.key != z.addr) && len(z.held) == 0 {
		r.unwatchBSR()
		if z.has && z.state != BSRElected {
			r.watchBSR(z.addr)
		}
	}
}

// bsrRPFCheck reports whether a multicast BSM from src on ifc came from
// the RPF neighbor toward the BSR (RFC 5059 3.1.3).
func (r *Router) bsrRPFCheck(ifc *iface, src netip.Addr, s *source) bool {
	if !s.rpf.Valid || s.rpf.IfIndex != ifc.index {
		return false
	}
	nb := ifc.neighbors[keyOf(src)]
	if nb == nil {
		nb = ifc.nbrFor(src)
	}
	nh := s.rpf.NextHop
	if !nh.IsValid() {
		return true // the BSR is on this link
	}
	if rn := ifc.nbrFor(nh); rn != nil {
		return rn == nb
	}
	return nh == src
}

// bootstrapEvent runs the election machine on an acceptable BSM.
func (r *Router) bootstrapEvent(now int64, ifc *iface, m *pimmsg.Bootstrap, fwd bool) {
	z := &r.bsr
	r.startBSR(now)
	bk := keyOf(m.BSR)
	fromCur := z.has && z.addr == bk
	prefCur := !z.has || preferred(m.Priority, bk, z.prio, z.addr) >= 0
	if cb := r.cfg.CandidateBSR; cb != nil {
		if preferred(m.Priority, bk, cb.Priority, keyOf(cb.Addr)) > 0 {
			if z.state == BSRCandidate && !prefCur && !fromCur {
				ifc.stats.drop(DropBSMNotPreferred)
				return
			}
			r.acceptBSM(now, ifc, m, BSRCandidate, fwd)
			return
		}
		switch {
		case z.state == BSRElected:
			// A worse BSR: assert ourselves at once.
			r.originateBSM(now)
			r.setBST(now + int64(r.cfg.BootstrapPeriod))
		case z.state == BSRPending:
			// Still the BSR for the others until we take over: its BSM
			// is forwarded, its content ignored (3.1.1).
			if fwd {
				r.forwardBSM(ifc, m)
			}
		case z.state == BSRCandidate && fromCur:
			// The BSR became worse than us.
			z.state = BSRPending
			r.setBST(now + int64(r.randOverride(m.Priority, bk)))
			r.noteBSR()
		}
		ifc.stats.drop(DropBSMNotPreferred)
		return
	}
	if z.state == BSRAcceptPreferred && !prefCur && !fromCur {
		ifc.stats.drop(DropBSMNotPreferred)
		return
	}
	r.acceptBSM(now, ifc, m, BSRAcceptPreferred, fwd)
}

// acceptBSM stores the BSR and the RP-set of an accepted BSM, restarts
// the Bootstrap Timer and forwards the BSM.
func (r *Router) acceptBSM(now int64, in *iface, m *pimmsg.Bootstrap, state BSRState, fwd bool) {
	z := &r.bsr
	bk := keyOf(m.BSR)
	changed := !z.has || z.addr != bk
	if z.has && z.hashMask != m.HashMaskLen {
		r.rpDirty = true
	}
	if z.state == BSRElected {
		z.crps, z.dead, z.hasOrig = nil, nil, false
		r.q.Stop(&z.crpTimer)
	}
	z.addr, z.has, z.prio, z.hashMask, z.state = bk, true, m.Priority, m.HashMaskLen, state
	r.watchBSR(bk)
	r.setBST(now + int64(r.bsTimeout()))
	r.applyBSM(now, m)
	if fwd {
		r.forwardBSM(in, m)
	}
	if changed && r.cfg.CandidateRP != nil {
		r.setAdvTimer(now) // tell the new BSR at once (3.2)
	}
	r.noteBSR()
}

// forwardBSM sends a BSM that came in on `in` out of every other PIM
// interface that has neighbors (RFC 5059 3.4).
func (r *Router) forwardBSM(in *iface, m *pimmsg.Bootstrap) {
	for _, i := range r.Interfaces() {
		if ifc := r.ifaces[i]; ifc != in && len(ifc.neighbors) > 0 {
			r.sendBSM(ifc, AllPIMRouters, m, false)
		}
	}
}

// applyBSM takes the group ranges of one fragment into the RP-set.
func (r *Router) applyBSM(now int64, m *pimmsg.Bootstrap) {
	z := &r.bsr
	if !z.hasTag || z.tag != m.FragmentTag {
		if z.hasTag && z.set.dropNotSeen(z.tag) {
			r.rpDirty = true
		}
		z.tag, z.hasTag = m.FragmentTag, true
		z.frags = z.frags[:0]
		z.partial = nil
	}
	if len(z.frags) < maxHeldBSM {
		z.frags = append(z.frags, m)
	}
	for i := range m.Groups {
		g := &m.Groups[i]
		p := g.Group.Prefix()
		if g.Group.Bidir || !p.IsValid() || !p.Addr().Is6() || p.Addr().Is4In6() || p.Bits() < 8 || !p.Addr().IsMulticast() {
			r.stats.drop(DropGroup)
			continue
		}
		var rps []rsRP
		for _, rp := range g.RPs {
			if !validSource(rp.Addr) || rp.Holdtime == 0 {
				continue
			}
			rps = append(rps, rsRP{
				addr:     keyOf(rp.Addr.WithZone("")),
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
				if len(z.partial) >= maxHeldBSM {
					r.stats.drop(DropRPSetLimit)
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
		if z.set.pairs-old+len(rps) > r.cfg.MaxRPSet {
			r.stats.drop(DropRPSetLimit)
			if !z.setLimitHit {
				z.setLimitHit = true
				r.stats.limitHit(LimitRPSet)
				r.emit(LimitHit{Kind: LimitRPSet, Limit: r.cfg.MaxRPSet})
			}
			continue
		}
		if z.set.put(p, rps, m.FragmentTag) {
			r.rpDirty = true
		}
	}
	if z.set.pairs < r.cfg.MaxRPSet {
		z.setLimitHit = false
	}
	r.resetSetTimer()
}

// resetSetTimer runs the RP-set timer to the earliest RP expiry.
func (r *Router) resetSetTimer() {
	z := &r.bsr
	if at, ok := z.set.next(); ok {
		r.q.Set(&z.setTimer, r.abs(at), timerRef{kind: timerRPSet})
	} else {
		r.q.Stop(&z.setTimer)
	}
}

// sendBSM sends a BSM's fragment on ifc, split again to the link MTU.
func (r *Router) sendBSM(ifc *iface, dst netip.Addr, m *pimmsg.Bootstrap, noForward bool) {
	cp := *m
	cp.NoForward = noForward
	frags, err := pimmsg.SplitBootstrap(&cp, ifc.cfg.MTU-ipv6HeaderLen)
	if err != nil {
		ifc.stats.drop(DropSendError)
		return
	}
	for _, f := range frags {
		r.emit(SendPIM{IfIndex: ifc.index, Src: ifc.self, Dst: dst, Msg: f})
		ifc.stats.sentMsg(SentBootstrap)
	}
}

// bsmToNewNeighbors unicasts the current BSM, with the No-Forward bit, to
// the neighbors that came up or restarted since our last Hello on ifc
// (RFC 5059 3.3), right after that Hello so that they know us. The DR of
// the link sends it, or every router when the new neighbor is the DR.
func (r *Router) bsmToNewNeighbors(ifc *iface) {
	z := &r.bsr
	for _, nb := range ifc.sortedNeighbors() {
		if !nb.wantBSM {
			continue
		}
		nb.wantBSM = false
		if !z.has || len(z.frags) == 0 || !(ifc.drSelf || ifc.dr == nb.addr) {
			continue
		}
		for _, f := range z.frags {
			r.sendBSM(ifc, nb.addr, f, true)
		}
	}
}

// bootstrapTimerExpired is "Bootstrap Timer expires" in both machines.
func (r *Router) bootstrapTimerExpired(now int64) {
	z := &r.bsr
	switch z.state {
	case BSRCandidate:
		z.state = BSRPending
		r.setBST(now + int64(r.randOverride(z.prio, z.addr)))
	case BSRPending:
		r.becomeBSR(now)
	case BSRElected:
		r.originateBSM(now)
		r.setBST(now + int64(r.cfg.BootstrapPeriod))
	case BSRAcceptPreferred:
		z.state = BSRAcceptAny
	}
	r.noteBSR()
}

// becomeBSR is P-BSR -> E-BSR: the Candidate-RP table starts from the
// RP-set learned from the previous BSR, and the first BSM goes out.
func (r *Router) becomeBSR(now int64) {
	z := &r.bsr
	z.state = BSRElected
	z.crps = make(map[addrKey]*crpEntry)
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
	if r.cfg.CandidateRP != nil {
		r.localCRP(now, r.cfg.CandidateRP, seconds(r.cfg.CandidateRP.Holdtime))
	}
	r.resetCRPTimer()
	r.originateBSM(now)
	r.setBST(now + int64(r.cfg.BootstrapPeriod))
}

// randOverride is rand_override of RFC 5059 section 3.1.1, for IPv6:
// 5 + 2*log2(1 + bestPriority - myPriority) + AddrDelay seconds, where
// AddrDelay is log2(bestAddr - myAddr)/64 when the priorities are equal
// and 2 - myAddr/2^127 otherwise. The best values are those of the BSR
// just heard (or ours, when better).
func (r *Router) randOverride(prio uint8, addr addrKey) time.Duration {
	cb := r.cfg.CandidateBSR
	my := keyOf(cb.Addr)
	bestPrio := max(prio, cb.Priority)
	best := addr
	if my.compare(best) > 0 {
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
func addrFloat(k addrKey) float64 {
	return float64(k.hi)*math.Exp2(64) + float64(k.lo)
}

// addrDiff is a - b (a >= b) as a number. The subtraction is done on the
// 128-bit values before rounding: the difference of two rounded addresses
// (float64 keeps 53 bits) is 0 for candidates that differ only in their
// last 70 or so bits, e.g. two addresses of one /64, which would lose the
// log2(bestAddr - myAddr)/64 term of rand_override and give candidates of
// equal priority the same delay.
func addrDiff(a, b addrKey) float64 {
	lo, borrow := bits.Sub64(a.lo, b.lo, 0)
	hi, _ := bits.Sub64(a.hi, b.hi, borrow)
	return float64(hi)*math.Exp2(64) + float64(lo)
}

// originateBSM sends the elected BSR's Bootstrap message on every PIM
// interface and applies it locally: the Candidate-RPs by group range (at
// most 255 per range, the preferred ones), and the ranges that lost their
// last RP with an RP count of 0.
func (r *Router) originateBSM(now int64) {
	z := &r.bsr
	cb := r.cfg.CandidateBSR
	byRange := make(map[netip.Prefix][]pimmsg.BootstrapRP)
	for _, k := range sortedKeys(z.crps) {
		e := z.crps[k]
		for _, p := range e.groups {
			byRange[p] = append(byRange[p], pimmsg.BootstrapRP{Addr: k.addr(), Holdtime: e.holdtime, Priority: e.prio})
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
	bs := &pimmsg.Bootstrap{
		FragmentTag: uint16(r.cfg.Rand()),
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
			Group:   pimmsg.Group{Addr: rg.prefix.Addr(), MaskLen: uint8(rg.prefix.Bits())},
			RPCount: uint8(len(rps)),
			RPs:     rps,
		})
	}
	z.addr, z.has, z.prio, z.hashMask = keyOf(cb.Addr), true, cb.Priority, cb.HashMaskLen
	r.unwatchBSR()
	r.applyBSM(now, bs)
	z.frags = append(z.frags[:0], bs)
	for _, i := range r.Interfaces() {
		r.sendBSM(r.ifaces[i], AllPIMRouters, bs, false)
	}
	z.lastOrig, z.hasOrig = now, true
	r.noteBSR()
}

// maxBSRPs is the most RPs one range of a BSM can count.
const maxBSRPs = 255

func sortedKeys[V any](m map[addrKey]V) []addrKey {
	out := make([]addrKey, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.SortFunc(out, addrKey.compare)
	return out
}

// triggerBSM makes the elected BSR send its BSM soon after a change of
// the Candidate-RP table: now, or a second after the last one.
func (r *Router) triggerBSM(now int64) {
	z := &r.bsr
	if z.state != BSRElected {
		return
	}
	at := now
	if z.hasOrig {
		at = max(at, z.lastOrig+int64(triggeredBSMGap))
	}
	if at < z.bstAt {
		r.setBST(at)
	}
}

// receiveCRPAdv is a Candidate-RP-Advertisement at the elected BSR.
func (r *Router) receiveCRPAdv(c *counters, now int64, dst netip.Addr, m *pimmsg.CandidateRPAdvertisement) {
	z := &r.bsr
	cb := r.cfg.CandidateBSR
	if z.state != BSRElected || cb == nil || dst != cb.Addr {
		c.drop(DropNotBSR)
		return
	}
	if !validSource(m.RP) {
		c.drop(DropAddress)
		return
	}
	var groups []netip.Prefix
	for _, g := range m.Groups {
		p := g.Prefix()
		if g.Bidir || !p.IsValid() || !p.Addr().Is6() || p.Addr().Is4In6() || p.Bits() < 8 || !p.Addr().IsMulticast() {
			c.drop(DropGroup)
			continue
		}
		groups = append(groups, p)
	}
	if len(m.Groups) == 0 {
		groups = []netip.Prefix{allGroups}
	}
	slices.SortFunc(groups, func(a, b netip.Prefix) int { return rangeOrder(&rsRange{prefix: a}, &rsRange{prefix: b}) })
	groups = slices.Compact(groups)
	c.recv(RecvCRPAdv)
	r.updateCRP(now, keyOf(m.RP.WithZone("")), m.Priority, m.Holdtime, groups, c)
}

// localCRP is this router's own candidacy cp at the elected BSR.
func (r *Router) localCRP(now int64, cp *CandidateRP, holdtime uint16) {
	r.updateCRP(now, keyOf(cp.Addr), cp.Priority, holdtime, slices.Clone(cp.Groups), &r.stats)
}

// updateCRP records a Candidate-RP at the BSR (holdtime 0 removes it).
func (r *Router) updateCRP(now int64, k addrKey, prio uint8, holdtime uint16, groups []netip.Prefix, c *counters) {
	z := &r.bsr
	e := z.crps[k]
	if holdtime == 0 || len(groups) == 0 {
		if e != nil {
			r.dropCRP(e)
			r.triggerBSM(now)
			r.resetCRPTimer()
		}
		return
	}
	if e == nil {
		if len(z.crps) >= r.cfg.MaxRPSet {
			c.drop(DropRPSetLimit)
			return
		}
		e = &crpEntry{addr: k}
		z.crps[k] = e
		r.triggerBSM(now)
	} else if e.prio != prio || !slices.Equal(e.groups, groups) {
		r.markDead(e.groups, groups)
		r.triggerBSM(now)
	}
	e.prio, e.holdtime, e.groups = prio, holdtime, groups
	e.expires = now + int64(holdtime)*int64(time.Second)
	r.resetCRPTimer()
}

// dropCRP removes a Candidate-RP; ranges left without RP are advertised
// empty for a while.
func (r *Router) dropCRP(e *crpEntry) {
	delete(r.bsr.crps, e.addr)
	r.markDead(e.groups, nil)
}

// markDead notes the ranges of old not in keep that no Candidate-RP
// serves any more.
func (r *Router) markDead(old, keep []netip.Prefix) {
	z := &r.bsr
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

func (r *Router) resetCRPTimer() {
	z := &r.bsr
	at, ok := int64(0), false
	for _, e := range z.crps {
		if !ok || e.expires < at {
			at, ok = e.expires, true
		}
	}
	if ok {
		r.q.Set(&z.crpTimer, r.abs(at), timerRef{kind: timerCRPExpiry})
	} else {
		r.q.Stop(&z.crpTimer)
	}
}

// crpsExpired removes the Candidate-RPs whose holdtime ran out.
func (r *Router) crpsExpired(now int64) {
	z := &r.bsr
	for _, k := range sortedKeys(z.crps) {
		if e := z.crps[k]; e.expires <= now {
			r.dropCRP(e)
			r.triggerBSM(now)
		}
	}
	r.resetCRPTimer()
}

// advertiseCRP is this router's Candidate-RP-Advertisement (RFC 5059
// 3.2), unicast to the BSR; at the BSR itself it goes straight into the
// table. Nothing goes out while no BSR is known, or when cp is nil.
func (r *Router) advertiseCRP(now int64, cp *CandidateRP, holdtime uint16) {
	z := &r.bsr
	if cp == nil {
		return
	}
	if z.state == BSRElected {
		r.localCRP(now, cp, holdtime)
		return
	}
	if !z.has {
		return
	}
	m := &pimmsg.CandidateRPAdvertisement{Priority: cp.Priority, Holdtime: holdtime, RP: cp.Addr}
	for _, p := range cp.Groups {
		m.Groups = append(m.Groups, pimmsg.Group{Addr: p.Addr(), MaskLen: uint8(p.Bits())})
	}
	r.emit(SendPIM{Src: cp.Addr, Dst: z.addr.addr(), Msg: m})
	r.stats.sentMsg(SentCRPAdv)
}

// bsrConfigChanged applies a new CandidateBSR or CandidateRP (SetConfig).
func (r *Router) bsrConfigChanged(now int64, old Config) {
	z := &r.bsr
	if !z.started {
		return
	}
	ob, nb := old.CandidateBSR, r.cfg.CandidateBSR
	switch {
	case ob == nil && nb != nil:
		switch {
		case z.state == BSRAcceptPreferred && preferred(z.prio, z.addr, nb.Priority, keyOf(nb.Addr)) > 0:
			z.state = BSRCandidate
		case z.state == BSRAcceptPreferred || z.state == BSRAcceptAny:
			z.state = BSRPending
			r.setBST(now + int64(r.randOverride(z.prio, z.addr)))
		default:
			z.state = BSRPending
			r.setBST(now + int64(r.startupWait()))
		}
	case ob != nil && nb == nil:
		switch z.state {
		case BSRCandidate:
			z.state = BSRAcceptPreferred
		case BSRElected:
			z.crps, z.dead, z.hasOrig = nil, nil, false
			r.q.Stop(&z.crpTimer)
			z.has = false
			z.state = BSRNoInfo
			r.q.Stop(&z.bst)
		default:
			z.state = BSRNoInfo
			r.q.Stop(&z.bst)
		}
	case ob != nil && *ob != *nb:
		switch {
		case z.state == BSRElected:
			r.originateBSM(now)
			r.setBST(now + int64(r.cfg.BootstrapPeriod))
		case z.state == BSRCandidate && preferred(z.prio, z.addr, nb.Priority, keyOf(nb.Addr)) <= 0:
			z.state = BSRPending
			r.setBST(now + int64(r.randOverride(z.prio, z.addr)))
		}
	}
	oc, nc := old.CandidateRP, r.cfg.CandidateRP
	switch {
	case oc != nil && nc == nil:
		r.advertiseCRP(now, oc, 0)
		r.q.Stop(&z.adv)
	case nc != nil && (oc == nil || oc.Addr != nc.Addr || oc.Priority != nc.Priority || oc.Holdtime != nc.Holdtime || !slices.Equal(oc.Groups, nc.Groups)):
		if oc != nil && oc.Addr != nc.Addr {
			r.advertiseCRP(now, oc, 0)
		}
		r.setAdvTimer(now)
	case nc != nil && oc.Interval != nc.Interval:
		r.setAdvTimer(min(z.advAt, now+int64(nc.Interval)))
	}
	r.noteBSR()
}

// BSRInfo is the BSR state of the router, for pim6stat.
type BSRInfo struct {
	State BSRState
	// BSR is the elected BSR (zero: none known), with the priority and
	// hash mask length of its BSM; Timeout is the Bootstrap Timer left.
	BSR         netip.Addr
	Priority    uint8
	HashMaskLen uint8
	Timeout     time.Duration
	// NextAdvertisement is the time to this router's next
	// Candidate-RP-Advertisement (0 when it is no Candidate-RP).
	NextAdvertisement time.Duration
	// RPSet is the RP-set in use.
	RPSet []RPSetEntry
	// Embedded are the groups whose RP is embedded in their address
	// (Prefix is the group as a /128), by group.
	Embedded []RPSetEntry
}

// BSR returns the BSR state at now.
func (r *Router) BSR(now time.Time) BSRInfo {
	z := &r.bsr
	n := r.rel(now)
	info := BSRInfo{State: z.state, RPSet: z.set.entries(n)}
	if info.State == "" {
		info.State = BSRNoInfo
	}
	if z.has {
		info.BSR, info.Priority, info.HashMaskLen = z.addr.addr(), z.prio, z.hashMask
	}
	if z.bst != 0 {
		info.Timeout = left(z.bstAt, n)
	}
	if z.adv != 0 {
		info.NextAdvertisement = left(z.advAt, n)
	}
	for _, k := range sortedKeys(r.groups) {
		if g := r.groups[k]; g.embedded {
			info.Embedded = append(info.Embedded, RPSetEntry{Prefix: netip.PrefixFrom(k.addr(), 128), RP: g.rp.addr()})
		}
	}
	return info
}
