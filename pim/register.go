package pim

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"time"

	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// RegisterState is the per-(S,G) Register state of a DR (RFC 7761 section
// 4.4.1).
type RegisterState uint8

// Register states.
const (
	RegisterNoInfo      RegisterState = iota
	RegisterJoin                      // registering: the register tunnel is an outgoing interface
	RegisterJoinPending               // probing with a Null-Register before resuming
	RegisterPrune                     // suppressed by a Register-Stop
)

// String returns the RFC name.
func (s RegisterState) String() string {
	switch s {
	case RegisterJoin:
		return "Join"
	case RegisterJoinPending:
		return "Join-Pending"
	case RegisterPrune:
		return "Prune"
	}
	return "NoInfo"
}

// The Register machine of a DR (4.4.1), with the Register-Stop Timer RST:
//
//	CouldRegister(S,G) = I_am_DR(RPF_interface(S)) AND KeepaliveTimer(S,G)
//	    is running AND DirectlyConnected(S)
//	    (and, here: G is not SSM, has an RP, and the RP is not us)
//
//	NoInfo, CouldRegister -> true: -> Join (add the register tunnel)
//	Join, Register-Stop received: -> Prune (remove the tunnel); RST =
//	    rand(0.5, 1.5) * Register_Suppression_Time - Register_Probe_Time
//	Join-Pending, Register-Stop received: -> Prune; RST as above
//	Prune, RST expires: -> Join-Pending; RST = Register_Probe_Time; send
//	    a Null-Register
//	Join-Pending, RST expires: -> Join (add the tunnel)
//	Join, Join-Pending, Prune, CouldRegister -> false: -> NoInfo (remove
//	    the tunnel, stop RST)
//	Join-Pending, Prune, RP changed: -> Join (add the tunnel, stop RST);
//	    Join, RP changed: the tunnel goes to the new RP
//
// A Register-Stop naming source :: stops every source of the group. In
// Join, every packet the kernel hands to the register MIF (WholePacket)
// goes to RP(G) as a Register; in other states they are dropped.
//
// The Null-Register's dummy header (4.4.1, 4.9.3: "a dummy IP header with
// S as source, G as destination and a data length of zero") is an IPv6
// header with payload length 0 and next header 59 (No Next Header), which
// tshark decodes without complaint; Registers received are accepted in any
// form pimmsg accepts (a Null-Register's inner payload length is not
// checked).

// couldRegister is CouldRegister(S,G).
func (r *Router) couldRegister(sg *sgEntry) bool {
	g := sg.grp
	x := sg.x
	if g.ssm || !g.hasRP || r.iAmRP(g) && !r.anycastRegisters(g) || x == nil || !x.kat.running() || !sg.directlyConnected() {
		return false
	}
	ifc := r.ifaces[int(sg.rpfInterface())]
	return ifc != nil && ifc.iAmDR()
}

func (r *Router) rstRef(sg *sgEntry) timerRef { return timerRef{sg: sg, kind: timerRegisterStop} }

// updateRegister runs the rows of the machine that depend on other state,
// when the event ends.
func (r *Router) updateRegister(sg *sgEntry) {
	if sg.deleted {
		return
	}
	could := r.couldRegister(sg)
	x := sg.x
	if x == nil || x.reg == RegisterNoInfo {
		if could {
			x = sg.ext()
			x.reg, x.regRP = RegisterJoin, sg.grp.rp
		}
		return
	}
	switch {
	case !could:
		x.reg = RegisterNoInfo
		r.q.Stop(&x.rst)
	case x.regRP != sg.grp.rp:
		x.reg, x.regRP = RegisterJoin, sg.grp.rp
		r.q.Stop(&x.rst)
	}
}

// registerStopReceived is "Register-Stop received" for one (S,G).
func (r *Router) registerStopReceived(sg *sgEntry, now int64) {
	x := sg.x
	if x == nil || x.reg != RegisterJoin && x.reg != RegisterJoinPending {
		return
	}
	x.reg = RegisterPrune
	rst := r.cfg.RegisterSuppressionTime/2 + r.randBelow(r.cfg.RegisterSuppressionTime) - r.cfg.RegisterProbeTime
	r.q.Set(&x.rst, r.abs(now+int64(rst)), r.rstRef(sg))
	r.touch(sg)
}

// registerStopTimerExpired is "Register-Stop Timer expires".
func (r *Router) registerStopTimerExpired(sg *sgEntry, now int64) {
	x := sg.x
	r.touch(sg)
	if !r.couldRegister(sg) {
		// CouldRegister went false earlier in this event (the Keepalive
		// Timer expired first in the same batch): NoInfo when the event
		// ends, and no probe now.
		return
	}
	switch x.reg {
	case RegisterPrune:
		x.reg = RegisterJoinPending
		r.q.Set(&x.rst, r.abs(now+int64(r.cfg.RegisterProbeTime)), r.rstRef(sg))
		r.sendRegister(sg, &pimmsg.Register{Null: true, Packet: nullRegisterHeader(sg.key)})
	case RegisterJoinPending:
		x.reg = RegisterJoin
	}
}

// nullRegisterHeader is the dummy IPv6 header of a Null-Register.
func nullRegisterHeader(k sgKey) []byte {
	b := make([]byte, ipv6HeaderLen)
	b[0] = 0x60
	b[6] = 59 // No Next Header
	b[7] = 255
	s, g := k.s.Addr().As16(), k.g.Addr().As16()
	copy(b[8:], s[:])
	copy(b[24:], g[:])
	return b
}

// registerSource is the source address of our Registers for S: a global
// address of the interface S is on (the one whose /64 holds S first),
// else the lowest of the router's addresses.
func (r *Router) registerSource(sg *sgEntry) (netip.Addr, bool) {
	s := sg.key.s.Addr()
	if ifc := r.ifaces[int(sg.rpfInterface())]; ifc != nil && len(ifc.globals) > 0 {
		for _, a := range ifc.globals {
			if p, err := a.Prefix(64); err == nil && p.Contains(s) {
				return a, true
			}
		}
		return ifc.globals[0], true
	}
	if len(r.local) > 0 {
		return r.local[0].Addr(), true
	}
	return netip.Addr{}, false
}

// sendRegister sends a Register for sg to RP(G), routed (IfIndex 0); as
// a member of RP(G)'s Anycast-RP set, to the other members (anycast.go).
func (r *Router) sendRegister(sg *sgEntry, m *pimmsg.Register) bool {
	if r.iAmRP(sg.grp) {
		if a := r.anycastFor(sg.grp.rp); a != nil {
			return r.sendToMembers(a, m)
		}
	}
	src, ok := r.registerSource(sg)
	if !ok || !sg.grp.hasRP {
		r.stats.drop(DropNoAddress)
		return false
	}
	r.emit(SendPIM{Src: src, Dst: sg.grp.rp.Addr(), Msg: m})
	if m.Null {
		r.stats.sentMsg(SentNullRegister)
	} else {
		r.stats.sentMsg(SentRegister)
	}
	return true
}

// WholePacket reports a WHOLEPKT upcall: the kernel forwarded a packet
// from src to grp to the register MIF (the entry's register tunnel, added
// while the Register state is Join). In Join it becomes a Register to
// RP(G), unless Config.MaxRegisterRate is exceeded; otherwise it is
// dropped and counted. pkt is the whole IPv6 packet; the SendPIM refers to
// it, so it must stay unchanged until the actions are carried out.
func (r *Router) WholePacket(now time.Time, src, grp netip.Addr, pkt []byte) []Action {
	if r.closed {
		return nil
	}
	n := r.begin(now)
	r.stats.recv(RecvWholePacket)
	src, grp = src.WithZone(""), grp.WithZone("")
	sg := r.sgs[sgKey{keyOf(grp), keyOf(src)}]
	switch {
	case !innerOK(pkt, src, grp):
		r.stats.drop(DropBadData)
	case sg == nil || sg.x == nil || sg.x.reg != RegisterJoin:
		r.stats.drop(DropRegisterNotJoin)
	case !r.registerToken(n):
		r.stats.drop(DropRegisterRate)
	default:
		r.sendRegister(sg, &pimmsg.Register{Packet: pkt})
	}
	return r.finish(n)
}

// innerOK checks what the RP will check (pimmsg): an IPv6 packet from src
// to grp holding the payload its header announces.
func innerOK(p []byte, src, grp netip.Addr) bool {
	if len(p) < ipv6HeaderLen || p[0]>>4 != 6 || len(p) < ipv6HeaderLen+int(binary.BigEndian.Uint16(p[4:])) {
		return false
	}
	s, g := src.As16(), grp.As16()
	return slices.Equal(p[8:24], s[:]) && slices.Equal(p[24:40], g[:])
}

// registerToken takes a token of the Register rate limit (a generic cell
// rate algorithm: one second's worth of burst).
func (r *Router) registerToken(now int64) bool {
	rate := r.cfg.MaxRegisterRate
	if rate == 0 {
		return true
	}
	step := int64(time.Second) / int64(rate)
	if r.regTAT < now {
		r.regTAT = now
	}
	if r.regTAT-now >= int64(time.Second) {
		return false
	}
	r.regTAT += step
	return true
}

// receiveRegisterStop handles a Register-Stop from src (4.4.1): for
// (S,G), or for every source of G when S is ::.
func (r *Router) receiveRegisterStop(c *counters, now int64, src netip.Addr, m *pimmsg.RegisterStop) {
	if a := r.cfg.AnycastRP; a != nil && r.anycastPeer(a, src) {
		r.anycastCounters(src).RegisterStopsIn++
	}
	g := m.Group.Addr.WithZone("")
	if m.Group.MaskLen != 128 || !validGroup(g) {
		c.drop(DropGroup)
		return
	}
	gk := keyOf(g)
	s := m.Source.WithZone("")
	if s.IsUnspecified() {
		if grp := r.groups[gk]; grp != nil {
			for _, sg := range grp.sgs {
				r.registerStopReceived(sg, now)
			}
		}
		return
	}
	if !validSource(s) {
		c.drop(DropSource)
		return
	}
	if sg := r.sgs[sgKey{gk, keyOf(s)}]; sg != nil {
		r.registerStopReceived(sg, now)
	}
}
