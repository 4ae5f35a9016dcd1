package pim

import (
	"net/netip"

	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// The RP's side of registering (RFC 7761 section 4.4.2):
//
//	packet_arrives_on_rp_tunnel(pkt):
//	  if outer.dst is not one of my addresses: drop silently
//	  if I_am_RP(G) and outer.dst == RP(G):
//	    if SPTbit(S,G) or (SwitchToSptDesired(S,G) and
//	        inherited_olist(S,G) == NULL):
//	      send Register-Stop(S,G) to outer.src
//	    if SPTbit(S,G) or SwitchToSptDesired(S,G):
//	      KeepaliveTimer(S,G) = RP_Keepalive_Period if we sent the
//	      Register-Stop, else Keepalive_Period
//	    if not SPTbit(S,G) and not a Null-Register:
//	      decapsulate and forward to inherited_olist(S,G,rpt)
//	  else: send Register-Stop(S,G) to outer.src
//
// SwitchToSptDesired(S,G) is always true at the RP (a choice: the RP joins
// toward every registering source that has receivers, so that Registers
// stop; Config.SPT is the last-hop policy). The Keepalive Timer makes
// JoinDesired(S,G) true while inherited_olist(S,G) has interfaces: the RP
// joins toward S; once native data sets the SPT bit (a WrongIIF or NoCache
// on RPF_interface(S), or counters of the SPT route), the next Register
// gets a Register-Stop. Linux decapsulates Registers itself (pim6reg) and
// forwards them by the (S,G) entry with IIF RegisterIf that forward.go
// installs while the SPT bit is clear.
//
// The Border bit is not handled (no PMBR). Register-Stops to one DR for
// one (S,G) go out at most once a second. A Register we cannot use is
// counted: not for us, an SSM group (a Register-Stop still goes back, as
// the "else" branch says for any group we are not the RP of), not the RP,
// or an inner packet that is not an IPv6 packet from a unicast source to a
// routable group (dropped silently).

// mayBecomeRP reports whether a Register to our address dk for group g
// may be ahead of the Bootstrap message that makes us RP(G): dk is our
// Candidate-RP address, g is in its ranges, and RP(G) is not fixed by an
// Embedded-RP or a static override (which no BSM can change). Such a
// Register is dropped without the Register-Stop of the "else" branch: the
// BSR, or a DR nearer to it, applies a new RP-set before the BSM reaches
// the new RP, and a Register-Stop then would silence the DR for
// Register_Suppression_Time (found by the end-to-end RP failover test).
// The DR's Registers are used as soon as the BSM arrives.
func (r *Router) mayBecomeRP(g netip.Addr, dk addrKey) bool {
	cp := r.cfg.CandidateRP
	if cp == nil || keyOf(cp.Addr) != dk {
		return false
	}
	if _, origin, ok := r.rpLookup(g); ok && (origin == OriginEmbedded || origin == OriginStaticOverride) {
		return false
	}
	for _, p := range cp.Groups {
		if p.Contains(g) {
			return true
		}
	}
	return false
}

// regStopInterval is the least time between two Register-Stops for one
// (S,G) to one DR.
const regStopInterval = int64(1e9)

// maxRegStops bounds the rate limit's memory: beyond it, Register-Stops
// wait for older entries to age out.
const maxRegStops = 4096

type regStopKey struct{ to, g, s addrKey }

// receiveRegister handles a Register from src to dst.
func (r *Router) receiveRegister(c *counters, now int64, src, dst netip.Addr, m *pimmsg.Register) {
	var sb, gb [16]byte
	copy(sb[:], m.Packet[8:24])
	copy(gb[:], m.Packet[24:40])
	s, g := netip.AddrFrom16(sb), netip.AddrFrom16(gb)
	if !validSource(s) || !validGroup(g) || !validSource(src) {
		c.drop(DropRegisterPacket)
		return
	}
	dk := keyOf(dst)
	if !r.isLocal(dk) {
		c.drop(DropRegisterNotOurs)
		return
	}
	k := sgKey{keyOf(g), keyOf(s)}
	if r.cfg.isSSM(g) {
		c.drop(DropRegisterSSM)
		r.sendRegisterStop(now, src, dst, k)
		return
	}
	if rp, ok := r.rpFor(g); !ok || rp != dk {
		if r.mayBecomeRP(g, dk) {
			c.drop(DropRegisterCandidateRP)
			return
		}
		c.drop(DropRegisterNotRP)
		r.sendRegisterStop(now, src, dst, k)
		return
	}
	sg := r.getSG(k, nil)
	if sg == nil {
		return
	}
	x := sg.ext()
	stop := x.sptBit || len(r.inheritedOlistSG(sg, r.olist)) == 0
	if stop {
		r.sendRegisterStop(now, src, dst, k)
		r.setKAT(sg, r.rpKeepalivePeriod(), now)
	} else {
		r.setKAT(sg, r.cfg.KeepalivePeriod, now)
	}
}

// sendRegisterStop sends Register-Stop(S,G) from our address from to the
// DR at to, at most once per regStopInterval per (DR, S, G).
func (r *Router) sendRegisterStop(now int64, to, from netip.Addr, k sgKey) {
	rk := regStopKey{keyOf(to), k.g, k.s}
	if last, ok := r.regStops[rk]; ok && now-last < regStopInterval {
		r.stats.drop(DropRegisterStopRate)
		return
	}
	if len(r.regStops) >= 1024 {
		for key, t := range r.regStops {
			if now-t >= regStopInterval {
				delete(r.regStops, key)
			}
		}
		if len(r.regStops) >= maxRegStops {
			r.stats.drop(DropRegisterStopRate)
			return
		}
	}
	r.regStops[rk] = now
	r.emit(SendPIM{Src: from, Dst: to, Msg: &pimmsg.RegisterStop{
		Group: pimmsg.Group{Addr: k.g.Addr(), MaskLen: 128}, Source: k.s.Addr()}})
	r.stats.sentMsg(SentRegisterStop)
}
