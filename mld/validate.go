package mld

import (
	"errors"

	"github.com/pim6sd/pim6sd/mld/mldmsg"
)

// receive checks a received message and hands it on. The packet checks are
// those of RFC 3810 sections 5.1.14 (Queries) and 5.2.13 (Reports): a
// link-local source (a Report from the unspecified address is dropped too),
// hop limit 1 and the Router Alert option, plus the ICMPv6 checksum (the
// kernel has usually checked it; the daemon may get packets that it has
// not) and what mldmsg.Parse rejects. A message that fails is dropped whole
// and counted under one reason.
func (r *Router) receive(ifc *iface, now int64, pkt Packet) {
	src := pkt.Src.WithZone("")
	switch {
	case !src.Is6() || src.Is4In6() || !src.IsLinkLocalUnicast():
		ifc.stats.drop(DropSource)
		return
	case pkt.HopLimit != 1:
		ifc.stats.drop(DropHopLimit)
		return
	case !pkt.RouterAlert:
		ifc.stats.drop(DropRouterAlert)
		return
	case !mldmsg.VerifyChecksum(pkt.Data, src, pkt.Dst.WithZone("")):
		ifc.stats.drop(DropChecksum)
		return
	}
	m, err := mldmsg.Parse(pkt.Data)
	if err != nil {
		switch {
		case errors.Is(err, mldmsg.ErrTruncated):
			ifc.stats.drop(DropTruncated)
		case errors.Is(err, mldmsg.ErrLength):
			ifc.stats.drop(DropLength)
		default:
			ifc.stats.drop(DropType)
		}
		return
	}
	switch m := m.(type) {
	case *mldmsg.QueryV1, *mldmsg.QueryV2:
		if src == ifc.self {
			// Our own Query, looped back by the kernel. (Our own kernel's
			// Reports come from self too; those are processed.)
			ifc.stats.drop(DropOwnQuery)
			return
		}
		r.receiveQuery(ifc, now, src, m)
	case *mldmsg.ReportV1:
		ifc.stats.recv(RecvReportV1)
		r.receiveReportV1(ifc, now, m)
	case *mldmsg.Done:
		ifc.stats.recv(RecvDone)
		r.receiveDone(ifc, now, m)
	case *mldmsg.ReportV2:
		ifc.stats.recv(RecvReportV2)
		if ifc.cfg.Version&V2 == 0 {
			ifc.stats.drop(DropVersion)
			return
		}
		for i := range m.Records {
			r.receiveRecord(ifc, now, &m.Records[i])
		}
	}
}
