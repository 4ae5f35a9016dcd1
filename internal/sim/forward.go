package sim

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/pim6sd/pim6sd/internal/daemon"
	"github.com/pim6sd/pim6sd/kernel"
	"github.com/pim6sd/pim6sd/mld/mldmsg"
	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// receive is the router's IPv6 input (ipv6_rcv) for a packet that arrived
// on ifc.
func (r *Router) receive(ifc *Iface, p *Packet, _ *Iface) {
	if p.Dst.IsMulticast() {
		r.receiveMulticast(ifc, p)
		return
	}
	if p.Dst.IsLinkLocalUnicast() {
		// Link-local: for this interface only, never forwarded.
		if p.Dst == ifc.LinkLocal() {
			r.deliverLocal(ifc, p)
		}
		return
	}
	if _, ok := r.owns(p.Dst); ok {
		r.deliverLocal(ifc, p)
		return
	}
	r.forwardUnicast(p)
}

// joined reports whether the router listens to multicast address g on
// ifc: ff02::1 always, ff02::2 always (a router with forwarding on joins
// it), ff02::16 when the MLD socket joined there, ff02::d when the PIM
// socket did.
func (r *Router) joined(ifc *Iface, g netip.Addr) bool {
	k := r.k
	switch g {
	case allNodes, allRouters:
		return true
	case allMLDv2:
		return k.open && k.mldJoined[ifc.index]
	case allPIM:
		return k.open && k.pimJoined[ifc.index]
	}
	return false
}

// receiveMulticast is ip6_mc_input: local delivery when the router
// listens to the group; MLD messages to other than link-scope groups are
// delivered (not forwarded) while mc_forwarding is on (MRT6_INIT) if they
// carry Router Alert; everything else of wider than link scope goes to
// the multicast forwarding code (ip6_mr_input).
func (r *Router) receiveMulticast(ifc *Iface, p *Packet) {
	k := r.k
	if p.Proto == protoICMPv6 && isMLD(p.Payload) {
		deliver := r.joined(ifc, p.Dst)
		if !deliver && k.open && !isLinkScope(p.Dst) && p.RouterAlert {
			// mc_forwarding, and (on a real NIC) allmulti from the MIF.
			deliver = k.mifOf(ifc.index) >= 0
		}
		if deliver {
			r.toMLD(ifc, p)
		} else {
			r.drop("mld-not-delivered")
		}
		return
	}
	if r.joined(ifc, p.Dst) {
		if p.Proto == protoPIM {
			r.toPIM(ifc, p)
		}
		return
	}
	if isLinkScope(p.Dst) || !k.open {
		return
	}
	k.mrInput(ifc, p)
}

// toMLD hands a message to the MLD socket, which gets only messages whose
// ICMPv6 checksum verifies (the kernel drops the others).
func (r *Router) toMLD(ifc *Iface, p *Packet) {
	if !r.k.open {
		return
	}
	if !mldmsg.VerifyChecksum(p.Payload, p.Src, p.Dst) {
		r.drop("icmpv6-checksum")
		return
	}
	r.delivered["mld"]++
	r.post(daemon.MLDInput{
		Info: kernel.RecvInfo{IfIndex: ifc.index, Src: p.Src, Dst: p.Dst, HopLimit: p.HopLimit, RouterAlert: p.RouterAlert},
		Data: append([]byte(nil), p.Payload...),
	})
}

// toPIM hands a message to the PIM socket (no checksum check: the socket
// has IPV6_CHECKSUM off).
func (r *Router) toPIM(ifc *Iface, p *Packet) {
	if !r.k.open {
		return
	}
	r.delivered["pim"]++
	if len(p.Payload) > 0 {
		r.delivered["pim/"+pimmsg.Type(p.Payload[0]&0x0f).String()]++
	}
	r.post(daemon.PIMInput{
		Info: kernel.RecvInfo{IfIndex: ifc.index, Src: p.Src, Dst: p.Dst, HopLimit: p.HopLimit},
		Data: append([]byte(nil), p.Payload...),
	})
}

// deliverLocal is a unicast packet for one of the router's addresses:
// PIM goes to the PIM socket (raw sockets get their copy first), and a
// Register is then decapsulated by pim6_rcv.
func (r *Router) deliverLocal(ifc *Iface, p *Packet) {
	if p.Proto != protoPIM {
		return
	}
	r.toPIM(ifc, p)
	r.decapsulate(p)
}

// decapsulate is ip6mr's pim6_rcv: a PIM Register (not a Null-Register)
// whose checksum verifies (either convention) and whose inner packet is
// for a multicast group, arriving while the register MIF exists, has its
// inner packet enter multicast forwarding as if it arrived on the
// register MIF. Linux does not require MRT6_PIM for this, only the
// register MIF.
func (r *Router) decapsulate(p *Packet) {
	k := r.k
	b := p.Payload
	if len(b) < 8+ipv6HeaderLen || b[0] != pimmsg.Version<<4|uint8(pimmsg.TypeRegister) {
		return
	}
	if binary.BigEndian.Uint32(b[4:])&0x40000000 != 0 {
		return // Null-Register
	}
	if pimmsg.VerifyChecksum(b, p.Src, p.Dst) == pimmsg.ChecksumBad {
		r.drop("register-checksum")
		return
	}
	inner, err := ParsePacket(b[8:])
	if err != nil || !inner.Dst.IsMulticast() || len(inner.Payload) == 0 {
		r.drop("register-inner")
		return
	}
	if !k.open || k.regDev == nil {
		r.drop("register-no-mif")
		return
	}
	k.r.n.note("%s register decap (%v,%v) from %v", r.name, inner.Src, inner.Dst, p.Src)
	if isLinkScope(inner.Dst) {
		return
	}
	k.mrInput(k.regDev, inner)
}

// mrInput is ip6_mr_input: the (S,G) entry forwards the packet, or the
// (S,G) is unresolved (NOCACHE) if the packet arrived on a MIF.
func (k *Kernel) mrInput(arrival *Iface, p *Packet) {
	key := sgKey{p.Src, p.Dst}
	if e := k.mfc[key]; e != nil {
		k.forward(e, arrival, p)
		return
	}
	vif := k.mifOf(arrival.index)
	if vif < 0 {
		k.r.drop("no-mif")
		return
	}
	k.unresolved(vif, arrival, p)
}

// unresolved is ip6mr_cache_unresolved: at most 10 unresolved entries,
// each reported once with NOCACHE and holding up to 4 packets for 10 s.
func (k *Kernel) unresolved(vif int, arrival *Iface, p *Packet) {
	key := sgKey{p.Src, p.Dst}
	var u *unresEntry
	for _, x := range k.unres {
		if x.key == key {
			u = x
			break
		}
	}
	if u == nil {
		if len(k.unres) >= unresMax {
			k.r.drop("unresolved-full")
			return
		}
		u = &unresEntry{key: key}
		k.unres = append(k.unres, u)
		session := k.session
		u.expiry = k.r.n.schedule(k.now().Add(unresTimeout), func() {
			if k.session != session {
				return
			}
			for i, x := range k.unres {
				if x == u {
					k.unres = append(k.unres[:i], k.unres[i+1:]...)
					k.r.drops["unresolved-expired"] += len(u.queued)
					break
				}
			}
		})
		k.upcall(kernel.Upcall{Type: kernel.NoCache, MIF: kernel.MIF(vif), Src: p.Src, Dst: p.Dst})
	}
	if len(u.queued) >= unresQueueMax {
		k.r.drop("unresolved-queue")
		return
	}
	u.queued = append(u.queued, queuedPacket{arrival, p})
}

// forward is ip6_mr_forward: count, check the incoming MIF (a wrong one
// is counted and, with MRT6_PIM, reported at most every 3 s per entry),
// then send a copy to every oif, highest MIF first, if the hop limit
// allows (the entry's threshold is 1: hop limit 2 or more).
func (k *Kernel) forward(e *mfcEntry, arrival *Iface, p *Packet) {
	e.packets++
	e.bytes += uint64(p.Len())
	iif := k.mifs[e.iif]
	if !iif.used || iif.gone || iif.ifindex != arrival.index {
		e.wrongIf++
		vif := k.mifOf(arrival.index)
		if vif >= 0 && k.pim && k.now().Sub(e.lastAssert) > assertThresh {
			e.lastAssert = k.now()
			k.upcall(kernel.Upcall{Type: kernel.WrongMIF, MIF: kernel.MIF(vif), Src: p.Src, Dst: p.Dst})
			if k.wrmifWhole {
				k.upcall(kernel.Upcall{Type: kernel.WrongMIFWhole, MIF: kernel.MIF(vif), Src: p.Src, Dst: p.Dst, Packet: p.Marshal()})
			}
		}
		return
	}
	for ct := kernel.MaxMIFs - 1; ct >= 0; ct-- {
		if e.oifs.Has(kernel.MIF(ct)) && p.HopLimit > 1 {
			k.output(kernel.MIF(ct), p)
		}
	}
}

// output is ip6mr_forward2: to the register MIF a WHOLEPKT upcall with
// the packet as it arrived; to an interface a copy with the hop limit
// decremented.
func (k *Kernel) output(m kernel.MIF, p *Packet) {
	s := k.mifs[m]
	if !s.used || s.gone {
		return
	}
	if s.register {
		k.upcall(kernel.Upcall{Type: kernel.WholePkt, MIF: m, Src: p.Src, Dst: p.Dst, Packet: p.Marshal()})
		return
	}
	i := k.r.ifaceByIndex(s.ifindex)
	if i == nil {
		return
	}
	if !k.r.n.transmit(i, p.withHopLimit(p.HopLimit-1), nil) {
		k.r.drop("oif-down")
	}
}

// upcall queues an upcall on the MRT socket.
func (k *Kernel) upcall(u kernel.Upcall) {
	r := k.r
	r.upcalls = append(r.upcalls, UpcallRecord{At: r.n.now, Upcall: u})
	r.n.note("%s upcall %v mif=%d (%v,%v)", r.name, u.Type, u.MIF, u.Src, u.Dst)
	r.delivered["upcall"]++
	r.post(daemon.UpcallInput{Upcall: u})
}

// --- unicast ---

// sendUnicast sends a locally originated unicast packet: to ourselves
// through lo, else along the route (one through oif preferred) to the
// next hop's interface.
func (r *Router) sendUnicast(p *Packet, oif int) error {
	if p.Dst.IsLinkLocalUnicast() {
		// The interface names the link (IPV6_PKTINFO).
		out := r.ifaceByIndex(oif)
		if out == nil {
			return fmt.Errorf("%w: %v: no interface %d", errUnreachable, p.Dst, oif)
		}
		if p.Dst == out.LinkLocal() {
			r.n.schedule(r.n.now, func() { r.deliverLocal(out, p) })
			return nil
		}
		nbr := r.n.neighbor(out, p.Dst)
		if nbr == nil {
			r.drop("no-neighbor")
			return fmt.Errorf("%w: %v on %s", errUnreachable, p.Dst, out.name)
		}
		if !r.n.transmit(out, p, nbr) {
			return fmt.Errorf("sim: send to %v on %s: interface down", p.Dst, out.name)
		}
		return nil
	}
	if i, ok := r.owns(p.Dst); ok {
		r.n.schedule(r.n.now, func() { r.deliverLocal(i, p) })
		return nil
	}
	if err := r.routeOut(p, oif); err != nil {
		return err
	}
	return nil
}

// forwardUnicast is ip6_forward: hop limit checked and decremented, then
// routed.
func (r *Router) forwardUnicast(p *Packet) {
	if p.HopLimit <= 1 {
		r.drop("hop-limit")
		return
	}
	if err := r.routeOut(p.withHopLimit(p.HopLimit-1), 0); err != nil {
		r.drop("no-route")
	}
}

// routeOut sends p toward its destination: the route's gateway, or the
// destination itself when on-link, must answer neighbor discovery on the
// route's interface.
func (r *Router) routeOut(p *Packet, oif int) error {
	rt, dev, err := r.lookup(p.Dst, oif)
	if err != nil {
		return err
	}
	next := rt.Gateway
	if !next.IsValid() {
		next = p.Dst
	}
	nbr := r.n.neighbor(dev, next)
	if nbr == nil {
		r.drop("no-neighbor")
		return fmt.Errorf("%w: %v via %v dev %s", errUnreachable, p.Dst, next, dev.name)
	}
	if !r.n.transmit(dev, p, nbr) {
		return fmt.Errorf("sim: send to %v on %s: interface down", p.Dst, dev.name)
	}
	return nil
}
