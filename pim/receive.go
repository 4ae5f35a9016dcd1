package pim

import (
	"errors"
	"net/netip"

	"github.com/pim6sd/pim6sd/pim/pimmsg"
)

// receive checks a received PIM message and hands it on. Every refused
// message is counted under one reason (Stats.Dropped):
//
//   - the checksum (RFC 7761 section 4.9; pimmsg.VerifyChecksum, which
//     also accepts the whole-message Register checksum of some senders);
//   - what pimmsg.Parse rejects, by error kind;
//   - Hello and Join/Prune must come from a link-local address (4.3.1,
//     4.9: they are link-local messages sourced from the primary address);
//     our own, looped back, are dropped;
//   - a Join/Prune from a router that is not a neighbor (4.5: "SHOULD be
//     discarded");
//   - message types this stage does not process: Register, Register-Stop,
//     Assert, Bootstrap and Candidate-RP-Advertisement ("unsupported"), and
//     types pimmsg keeps raw ("unknown-type").
func (r *Router) receive(ifc *iface, now int64, src, dst netip.Addr, data []byte) {
	if pimmsg.VerifyChecksum(data, src, dst) == pimmsg.ChecksumBad {
		ifc.stats.drop(DropChecksum)
		return
	}
	m, err := pimmsg.Parse(data)
	if err != nil {
		ifc.stats.drop(parseReason(err))
		return
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
	case *pimmsg.Unknown:
		ifc.stats.drop(DropUnknownType)
	default:
		ifc.stats.drop(DropUnsupported)
	}
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
