package pim

import (
	"errors"
	"net/netip"

	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// receive checks a received PIM message and hands it on. ifc is nil for a
// unicast message (Register, Register-Stop, Candidate-RP-Advertisement)
// that came in on an interface without PIM. Every refused message is counted under one reason
// (Stats.Dropped, on the router for a nil ifc):
//
//   - the checksum (RFC 7761 section 4.9; pimmsg.VerifyChecksum, which
//     also accepts the whole-message Register checksum of some senders);
//   - what pimmsg.Parse rejects, by error kind;
//   - Hello, Join/Prune and Assert must come from a link-local address
//     (4.3.1, 4.9: they are link-local messages sourced from the primary
//     address); our own, looped back, are dropped;
//   - a Join/Prune or Assert from a router that is not a neighbor (4.5:
//     "SHOULD be discarded"; the same choice for Asserts);
//   - Bootstrap and Candidate-RP-Advertisement messages: see bsr.go;
//   - types pimmsg keeps raw ("unknown-type").
func (r *Router) receive(ifc *iface, now int64, src, dst netip.Addr, data []byte) {
	c := &r.stats
	if ifc != nil {
		c = &ifc.stats
	}
	if pimmsg.VerifyChecksum(data, src, dst) == pimmsg.ChecksumBad {
		c.drop(DropChecksum)
		return
	}
	m, err := pimmsg.Parse(data)
	if err != nil {
		c.drop(parseReason(err))
		return
	}
	switch m := m.(type) {
	case *pimmsg.Register:
		if m.Null {
			c.recv(RecvNullRegister)
		} else {
			c.recv(RecvRegister)
		}
		r.receiveRegister(c, now, src, dst, m)
		return
	case *pimmsg.RegisterStop:
		c.recv(RecvRegisterStop)
		r.receiveRegisterStop(c, now, src, m)
		return
	case *pimmsg.CandidateRPAdvertisement:
		r.receiveCRPAdv(c, now, dst, m)
		return
	}
	if ifc == nil {
		return // a link-local message on an interface without PIM
	}
	switch m := m.(type) {
	case *pimmsg.Hello:
		if !r.linkLocalFromOther(ifc, src) {
			return
		}
		ifc.stats.recv(RecvHello)
		r.receiveHello(ifc, now, src, m)
	case *pimmsg.JoinPrune:
		if !r.linkLocalFromOther(ifc, src) {
			return
		}
		if ifc.neighbors[keyOf(src)] == nil {
			ifc.stats.drop(DropNoNeighbor)
			return
		}
		ifc.stats.recv(RecvJoinPrune)
		r.receiveJoinPrune(ifc, now, m)
	case *pimmsg.Assert:
		if !r.linkLocalFromOther(ifc, src) {
			return
		}
		if ifc.neighbors[keyOf(src)] == nil {
			ifc.stats.drop(DropNoNeighbor)
			return
		}
		ifc.stats.recv(RecvAssert)
		r.receiveAssert(ifc, now, src, m)
	case *pimmsg.Bootstrap:
		if src == ifc.self {
			ifc.stats.drop(DropOwn)
			return
		}
		r.receiveBootstrap(ifc, now, src, dst, m)
	case *pimmsg.Unknown:
		ifc.stats.drop(DropUnknownType)
	default:
		ifc.stats.drop(DropUnsupported)
	}
}

// isUnicastType reports whether data is a Register, Register-Stop or
// Candidate-RP-Advertisement: the messages unicast to one of our addresses,
// which may arrive on any interface, PIM or not. This is the one rule for
// interfaces without PIM; the daemon hands every message to Receive.
func isUnicastType(data []byte) bool {
	if len(data) == 0 || data[0]>>4 != pimmsg.Version {
		return false
	}
	t := pimmsg.Type(data[0] & 0x0f)
	return t == pimmsg.TypeRegister || t == pimmsg.TypeRegisterStop || t == pimmsg.TypeCandidateRPAdvertisement
}

// linkLocalFromOther checks the source of a link-local message.
func (r *Router) linkLocalFromOther(ifc *iface, src netip.Addr) bool {
	switch {
	case !isLinkLocal6(src):
		ifc.stats.drop(DropNotLinkLocal)
		return false
	case src == ifc.self:
		ifc.stats.drop(DropOwn)
		return false
	}
	return true
}

// parseReason maps a pimmsg parse error to its drop reason.
func parseReason(err error) string {
	switch {
	case errors.Is(err, pimmsg.ErrVersion):
		return DropVersion
	case errors.Is(err, pimmsg.ErrAddressFamily):
		return DropAddressFamily
	case errors.Is(err, pimmsg.ErrAddress):
		return DropAddress
	case errors.Is(err, pimmsg.ErrOption):
		return DropOption
	case errors.Is(err, pimmsg.ErrLength):
		return DropLength
	case errors.Is(err, pimmsg.ErrTruncated):
		return DropTruncated
	}
	return DropMalformed
}
