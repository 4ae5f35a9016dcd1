package pim

import (
	"net/netip"
	"slices"
	"time"

	"github.com/pim6sd/pim6sd/pim/bsr"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// The Router's side of the Bootstrap Router mechanism of RFC 5059. The
// machine itself, the election, the RP-set and the Candidate-RPs, is
// package bsr: one bsr.Zone for the global scope zone and one for each
// administrative scope zone (zones.go). The Router feeds them and carries
// out their outputs (applyBSR); what needs the Router's own state stays
// here:
//
//   - where a Bootstrap message (BSM) may come from (3.1.3): it names a
//     routable BSR address that is not ours; it comes from a PIM neighbor
//     on the interface; multicast to ALL-PIM-ROUTERS without the
//     No-Forward bit, it came in on the RPF interface toward the BSR from
//     the RPF neighbor (the MRIB next hop matched through the neighbors'
//     Address Lists, or, when the BSR is on the link itself, any neighbor
//     there). Unicast to one of our addresses, or multicast with the
//     No-Forward bit, it skips the RPF check: it is the quick refresh a
//     neighbor gives a router that has just started (3.3), refused after
//     BS_Period from our start-up (engine time 0) and, by the zone, once
//     another BSM has been accepted (bsr.Refresh); it is never forwarded.
//     While the route to a new BSR is not known yet, its BSM is held and
//     checked when the route arrives (SetRPFs). The route is the Router's
//     shared source entry for the BSR's address, watched like a source's
//     or an RP's;
//   - sending BSMs, split to each link's MTU, on the interfaces the zone
//     names, and to the neighbors that came up or restarted after our
//     next Hello (3.3), as the DR of the link;
//   - RP(G) from the RP-set (rp.go) and its changes (RPSetChanged: every
//     group's RP is looked up again when the event ends).
//
// Each zone has its own bsrZone: its watched route, its held BSMs. Which
// zone a BSM, a C-RP-Adv range or a group belongs to, and the zones'
// borders, are zones.go's.

// BSRState is the state of the BSR election machine.
type BSRState = bsr.State

// States of the Candidate-BSR machine (RFC 5059 3.1.1) and of the
// non-candidate machine (3.1.2).
const (
	BSRCandidate       = bsr.Candidate       // C-BSR: another candidate is the BSR
	BSRPending         = bsr.Pending         // P-BSR: waiting to become the BSR
	BSRElected         = bsr.Elected         // E-BSR: this router is the BSR
	BSRNoInfo          = bsr.NoInfo          // NI: no BSM yet
	BSRAcceptPreferred = bsr.AcceptPreferred // AP: accepts BSMs from the BSR or better ones
	BSRAcceptAny       = bsr.AcceptAny       // AA: the BSR timed out; any BSM is accepted
)

// BSRChange says that the elected BSR or the state of this router's
// election machine changed. BSR is the zero Addr when no BSR is known.
type BSRChange struct {
	BSR      netip.Addr
	Priority uint8
	State    BSRState
	// Zone is the range of the administrative scope zone (RFC 5059 1.3)
	// whose BSR changed; the zero Prefix for the global zone.
	Zone netip.Prefix
}

func (BSRChange) action() {}

// RPSetEntry is one (group range, RP) pair of the RP-set.
type RPSetEntry = bsr.RPSetEntry

// maxHeldBSM bounds the fragments held while the route to a new BSR is
// looked up.
const maxHeldBSM = 64

// bsrZone is the Router's side of one BSR zone: the machine, the watched
// route toward the BSR (or toward the BSR of the held BSMs), and the BSM
// fragments waiting for that route; for a scope zone, its range and
// border (zones.go).
type bsrZone struct {
	zone *bsr.Zone
	src  *source
	held []heldBSM

	// rng is the scope zone's range, the zero Prefix for the global zone.
	// border holds the names of the interfaces at its border, sorted;
	// configured says the zone is in Config.BSRZones (else it was learned
	// from a BSM, and has no border).
	rng        netip.Prefix
	border     []string
	configured bool
}

type heldBSM struct {
	ifindex  int
	src, dst netip.Addr
	m        *pimmsg.Bootstrap
}

// bsrConfig is the part of cfg of the zone z: the global zone's, or a
// configured scope zone's, its Candidate-RP ranges those that are its own
// (zoneCRPGroups). A learned zone has no candidacy.
func bsrConfig(cfg *Config, z *bsrZone) bsr.Config {
	c := bsr.Config{BootstrapPeriod: cfg.BootstrapPeriod, MaxRPSet: cfg.MaxRPSet, Rand: cfg.Rand, Range: z.rng}
	cb := cfg.CandidateBSR
	if z.rng.IsValid() {
		cb = nil
		if zc := cfg.bsrZone(z.rng); zc != nil {
			cb = zc.CandidateBSR
		}
	}
	if b := cb; b != nil {
		c.CandidateBSR = &bsr.CandidateBSR{Addr: b.Addr, Priority: b.Priority, HashMaskLen: b.HashMaskLen}
	}
	if p := cfg.CandidateRP; p != nil && (!z.rng.IsValid() || z.configured) {
		if groups := zoneCRPGroups(cfg, z.rng); len(groups) > 0 {
			c.CandidateRP = &bsr.CandidateRP{Addr: p.Addr, Priority: p.Priority, Holdtime: seconds(p.Holdtime), Interval: p.Interval, Groups: groups}
		}
	}
	return c
}

// applyBSR carries out the outputs of the zone z in order. c counts what
// concerns the message that was input (the router's counters for other
// inputs), recv is the kind it is received as ("": not counted again, a
// message some other zone counted).
func (r *Router) applyBSR(z *bsrZone, out []bsr.Output, c *counters, recv string) {
	for _, o := range out {
		switch o := o.(type) {
		case bsr.Forward:
			for _, i := range r.Interfaces() {
				if ifc := r.ifaces[i]; i != o.In && len(ifc.neighbors) > 0 && !z.atBorder(ifc) {
					r.sendBSM(ifc, AllPIMRouters, o.Msg, false)
				}
			}
		case bsr.Originate:
			for _, i := range r.Interfaces() {
				if ifc := r.ifaces[i]; !z.atBorder(ifc) {
					r.sendBSM(ifc, AllPIMRouters, o.Msg, false)
				}
			}
		case bsr.Unicast:
			if ifc := r.ifaces[o.IfIndex]; ifc != nil { // never at z's border: bsmToNewNeighbors
				r.sendBSM(ifc, o.Neighbor, o.Msg, true)
			}
		case bsr.Advertise:
			r.emit(SendPIM{Src: o.Src, Dst: o.Dst, Msg: o.Msg})
			r.stats.sentMsg(SentCRPAdv)
		case bsr.WatchBSR:
			if o.BSR.IsValid() {
				r.watchBSR(z, keyOf(o.BSR))
			} else {
				r.unwatchBSR(z)
			}
		case bsr.RPSetChanged:
			r.rpDirty = true
		case bsr.Change:
			r.emit(BSRChange{BSR: o.BSR, Priority: o.Priority, State: o.State, Zone: z.rng})
		case bsr.LimitHit:
			r.stats.limitHit(LimitRPSet)
			r.emit(LimitHit{Kind: LimitRPSet, Limit: o.Limit})
		case bsr.Received:
			if recv != "" {
				c.recv(recv)
			}
		case bsr.Dropped:
			to := c
			if o.Router {
				to = &r.stats
			}
			to.drop(bsrDropReason[o.Reason])
		}
	}
}

// bsrDropReason is the Drop... reason of each bsr.Reason.
var bsrDropReason = [...]string{
	bsr.BadAddress:   DropAddress,
	bsr.BadGroup:     DropGroup,
	bsr.NotPreferred: DropBSMNotPreferred,
	bsr.NotBSR:       DropNotBSR,
	bsr.SetLimit:     DropRPSetLimit,
	bsr.NotStartup:   DropBSMNotStartup,
	bsr.OutOfZone:    DropOutOfZone,
	bsr.BadHashMask:  DropBSMHashMask,
}

// receiveBootstrap checks where a Bootstrap message came from (see the
// top of the file) and gives it to the zone.
func (r *Router) receiveBootstrap(ifc *iface, now int64, src, dst netip.Addr, m *pimmsg.Bootstrap) {
	c := &ifc.stats
	if !validSource(m.BSR) {
		c.drop(DropAddress)
		return
	}
	bk := keyOf(m.BSR)
	if r.isLocal(bk) || r.isCandidateBSR(bk) {
		c.drop(DropOwn)
		return
	}
	if ifc.neighbors[keyOf(src)] == nil && ifc.nbrFor(src) == nil {
		c.drop(DropNoNeighbor)
		return
	}
	if dst != AllPIMRouters && dst != ifc.self && !r.isLocal(keyOf(dst)) {
		c.drop(DropNotOurs)
		return
	}
	if m.HashMaskLen > bsr.MaxHashMaskLen {
		// The zone would drop it too; dropped here, an invalid BSM
		// teaches no scope zone and waits for no route.
		c.drop(bsrDropReason[bsr.BadHashMask])
		return
	}
	z := r.bsmZone(ifc, now, m) // zones.go: counts its refusals
	if z == nil {
		return
	}
	how := bsr.Multicast
	if dst != AllPIMRouters || m.NoForward {
		// The quick refresh of a router that has just started (3.3):
		// no RPF check, but only within BS_Period of our start-up (the
		// zone also wants it to be its first BSM).
		if now >= int64(r.cfg.BootstrapPeriod) {
			c.drop(DropBSMNotStartup)
			return
		}
		how = bsr.Refresh
	} else {
		s := r.sources[bk]
		if s == nil || !s.known {
			r.holdBSM(z, ifc, src, dst, m)
			return
		}
		if !r.bsrRPFCheck(ifc, src, s) {
			c.drop(DropBSRRPF)
			return
		}
	}
	r.applyBSR(z, z.zone.Bootstrap(r.abs(now), ifc.index, m, how), c, RecvBootstrap)
}

// holdBSM keeps a fragment until the route to its BSR is known; a BSM of
// another BSR replaces what the zone holds.
func (r *Router) holdBSM(z *bsrZone, ifc *iface, src, dst netip.Addr, m *pimmsg.Bootstrap) {
	if len(z.held) > 0 && z.held[0].m.BSR != m.BSR {
		z.held = z.held[:0]
	}
	if len(z.held) >= maxHeldBSM {
		ifc.stats.drop(DropRPSetLimit)
		return
	}
	z.held = append(z.held, heldBSM{ifindex: ifc.index, src: src, dst: dst, m: m})
	r.watchBSR(z, keyOf(m.BSR))
}

// watchBSR makes the route toward k the one the zone z watches.
func (r *Router) watchBSR(z *bsrZone, k addrKey) {
	if z.src != nil && z.src.key == k {
		return
	}
	r.unwatchBSR(z)
	z.src = r.acquireSource(k)
	z.src.bsrRefs++
}

func (r *Router) unwatchBSR(z *bsrZone) {
	if z.src != nil {
		z.src.bsrRefs--
		r.releaseSource(z.src)
		z.src = nil
	}
}

// routeKnown processes the BSMs that the zones hold once the route to
// their BSR is known.
func (r *Router) routeKnown(now int64, s *source) {
	for _, z := range slices.Clone(r.zones) {
		r.zoneRouteKnown(z, now, s)
	}
}

func (r *Router) zoneRouteKnown(z *bsrZone, now int64, s *source) {
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
	b, has := z.zone.BSR()
	if z.src != nil && (!has || z.src.key != keyOf(b)) && len(z.held) == 0 {
		r.unwatchBSR(z)
		if has && z.zone.State() != BSRElected {
			r.watchBSR(z, keyOf(b))
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

// bsmToNewNeighbors offers the neighbors that came up or restarted since
// our last Hello on ifc to the zone (RFC 5059 3.3), right after that Hello
// so that they know us: the DR of the link unicasts them the BSM, or
// every router when the new neighbor is the DR.
func (r *Router) bsmToNewNeighbors(ifc *iface) {
	for _, nb := range ifc.sortedNeighbors() {
		if !nb.wantBSM {
			continue
		}
		nb.wantBSM = false
		for _, z := range r.zones {
			if !z.atBorder(ifc) {
				r.applyBSR(z, z.zone.NewNeighbor(ifc.index, nb.addr, ifc.drSelf || ifc.dr == nb.addr), &ifc.stats, "")
			}
		}
	}
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

// BSR returns the BSR state of the global zone at now (BSRZones: the
// scope zones').
func (r *Router) BSR(now time.Time) BSRInfo {
	z := r.zones[0].zone.Info(now)
	info := BSRInfo{
		State:             z.State,
		BSR:               z.BSR,
		Priority:          z.Priority,
		HashMaskLen:       z.HashMaskLen,
		Timeout:           z.Timeout,
		NextAdvertisement: z.NextAdvertisement,
		RPSet:             z.RPSet,
	}
	var emb []addrKey
	for k, g := range r.groups {
		if g.embedded {
			emb = append(emb, k)
		}
	}
	slices.SortFunc(emb, addrKey.Compare)
	for _, k := range emb {
		info.Embedded = append(info.Embedded, RPSetEntry{Prefix: netip.PrefixFrom(k.Addr(), 128), RP: r.groups[k].rp.Addr()})
	}
	return info
}
