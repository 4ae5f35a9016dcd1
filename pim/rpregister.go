package pim

import (
	"net/netip"
	"slices"

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
//
// The "else" branch holds for a Register to our Candidate-RP address too,
// for a group in its ranges that the RP-set gives to another RP, although
// the next BSM may make us RP(G): at an RP change the DR (nearer to the
// BSR, or the BSR itself) may apply the new RP-set and register to us
// before the BSM reaches us, and our Register-Stop then holds its
// Registers back until its Null-Register probe finds us the RP (4.4.1:
// rand(0.5, 1.5) * Register_Suppression_Time in all). That is the
// RFC's cost of an RP change racing the BSM; dropping the Register without
// an answer instead (as we once did) would leave a DR that registers to a
// router that never becomes the RP with no answer at all.

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
	rp, ok := r.rpFor(g)
	// An Anycast-RP member's copy comes to our unique address (anycast.go).
	ac := r.anycastFor(rp)
	fromMember := ok && r.anycastPeer(ac, src)
	if !ok || rp != dk && !(fromMember && r.isLocal(rp) && slices.Contains(ac.Members, dst.WithZone(""))) {
		c.drop(DropRegisterNotRP)
		r.sendRegisterStop(now, src, dst, k)
		r.noteRefused(k, dk, now)
		return
	}
	switch {
	case fromMember:
		pc := r.anycastCounters(src)
		if m.Null {
			pc.NullRegistersIn++
		} else {
			pc.RegistersIn++
		}
	case ac != nil:
		// From a DR: every other member gets it too, as it came. The
		// packet is copied: m.Packet is the caller's buffer.
		r.sendToMembers(ac, &pimmsg.Register{Border: m.Border, Null: m.Null, Packet: slices.Clone(m.Packet)})
	}
	sg := r.getSG(k, nil)
	if sg == nil {
		return
	}
	x := sg.ext()
	stop := x.sptBit || len(r.inheritedOlistSG(sg, r.olist)) == 0
	if stop {
		if r.sendRegisterStop(now, src, dst, k) && fromMember {
			r.anycastCounters(src).RegisterStopsOut++
		}
		r.setKAT(sg, r.rpKeepalivePeriod(), now)
	} else {
		r.setKAT(sg, r.cfg.KeepalivePeriod, now)
	}
}

// An RP change races the Bootstrap message: the DR may apply the new
// RP-set and register to our Candidate-RP address before the BSM that
// makes us RP(G) reaches us. The Register-Stop of the "else" branch then
// holds the DR's Registers back for up to 1.5 * Register_Suppression_Time
// (4.4.1). So that the flow does not wait for the DR's probe, we remember
// such refusals for that long, and when RP(G) becomes ours (adoptRefused,
// at the end of the event that made it so) we do what the Register would
// have done at the RP: start KAT(S,G), which makes JoinDesired(S,G) true
// when there are receivers (4.5.7), so the RP joins toward S and the data
// comes natively. Nothing goes on the wire that an RP receiving the
// Register then would not have sent.

// maxRefused bounds the remembered refusals; more are not remembered
// (the RFC's behaviour stands for them).
const maxRefused = 1024

// noteRefused remembers a Register refused at our Candidate-RP address dk
// for a group in its ranges.
func (r *Router) noteRefused(k sgKey, dk addrKey, now int64) {
	cp := r.cfg.CandidateRP
	if cp == nil || keyOf(cp.Addr) != dk || !slices.ContainsFunc(cp.Groups, func(p netip.Prefix) bool { return p.Contains(k.g.Addr()) }) {
		return
	}
	if r.refused == nil {
		r.refused = make(map[sgKey]int64)
	}
	if _, ok := r.refused[k]; !ok && len(r.refused) >= maxRefused {
		r.pruneRefused(now)
		if len(r.refused) >= maxRefused {
			return
		}
	}
	r.refused[k] = now
}

// refusedFor is how long a refusal is remembered: the longest time the DR
// holds its Registers back after our Register-Stop.
func (r *Router) refusedFor() int64 { return int64(r.cfg.RegisterSuppressionTime * 3 / 2) }

func (r *Router) pruneRefused(now int64) {
	for k, at := range r.refused {
		if now-at >= r.refusedFor() {
			delete(r.refused, k)
		}
	}
}

// adoptRefused starts KAT(S,G) for every remembered refusal whose group
// now has us as RP(G), and forgets refusals that are too old.
func (r *Router) adoptRefused(now int64) {
	var adopt []sgKey
	for k, at := range r.refused {
		if now-at >= r.refusedFor() {
			delete(r.refused, k)
			continue
		}
		if rp, ok := r.rpFor(k.g.Addr()); ok && r.isLocal(rp) {
			adopt = append(adopt, k)
		}
	}
	slices.SortFunc(adopt, func(a, b sgKey) int { return a.compare(b) })
	for _, k := range adopt {
		delete(r.refused, k)
		if sg := r.getSG(k, nil); sg != nil {
			r.setKAT(sg, r.cfg.KeepalivePeriod, now)
		}
	}
}

// sendRegisterStop sends Register-Stop(S,G) from our address from to the
// DR at to, at most once per regStopInterval per (DR, S, G), and reports
// whether it did.
func (r *Router) sendRegisterStop(now int64, to, from netip.Addr, k sgKey) bool {
	rk := regStopKey{keyOf(to), k.g, k.s}
	if last, ok := r.regStops[rk]; ok && now-last < regStopInterval {
		r.stats.drop(DropRegisterStopRate)
		return false
	}
	if len(r.regStops) >= 1024 {
		for key, t := range r.regStops {
			if now-t >= regStopInterval {
				delete(r.regStops, key)
			}
		}
		if len(r.regStops) >= maxRegStops {
			r.stats.drop(DropRegisterStopRate)
			return false
		}
	}
	r.regStops[rk] = now
	r.emit(SendPIM{Src: from, Dst: to, Msg: &pimmsg.RegisterStop{
		Group: pimmsg.Group{Addr: k.g.Addr(), MaskLen: 128}, Source: k.s.Addr()}})
	r.stats.sentMsg(SentRegisterStop)
	return true
}
