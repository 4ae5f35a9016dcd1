package mld

import (
	"net/netip"
	"time"

	"github.com/pim6sd/pim6sd/internal/timerq"
	"github.com/pim6sd/pim6sd/mld/mldmsg"
)

// The Querier of each interface (RFC 3810 section 7.6.2): the election by
// lowest address, the General Queries the Querier sends (5.1, 9.6, 9.7),
// the interface timers (General Query, Other Querier Present, Older
// Version Querier Present) and the Queries heard from other routers
// (7.6.1, 8.3.1). SetAddress, in iface.go, re-runs the election.

// becomeQuerier makes this router the Querier: it sends a General Query now
// and then `queries`-1 more at the Startup Query Interval (9.6, 9.7) before
// the Query Interval. At start-up queries is the Startup Query Count and
// startup is set: those are the Startup Queries, which carry the Startup
// Query Response Interval. After the Other Querier Present timer expires,
// or with a new lower address, queries is 1 (7.6.2: "send a General
// Query") and startup is clear: the router kept the state of the Reports
// it heard, so the Query is an ordinary one.
func (r *Router) becomeQuerier(ifc *iface, now int64, queries int, startup bool) {
	r.q.Stop(&ifc.otherQuerier)
	ifc.adoptedRobustness, ifc.adoptedInterval = 0, 0
	r.setQuerier(ifc, now, ifc.self, true)
	ifc.startupLeft, ifc.startup = queries, startup
	r.generalQuery(ifc, now)
}

// setQuerier records the Querier, emitting QuerierChange when it changed.
func (r *Router) setQuerier(ifc *iface, now int64, q netip.Addr, self bool) {
	if ifc.querier == q && ifc.querierSelf == self {
		return
	}
	ifc.querier, ifc.querierSelf, ifc.querierSince = q, self, r.abs(now)
	r.emit(QuerierChange{IfIndex: ifc.index, Querier: q, Self: self})
}

// generalQuery sends a General Query and schedules the next one.
func (r *Router) generalQuery(ifc *iface, now int64) {
	mrd := ifc.cfg.QueryResponseInterval
	if ifc.startup && ifc.startupLeft > 0 && ifc.cfg.StartupQueryResponseInterval > 0 {
		mrd = ifc.cfg.StartupQueryResponseInterval
	}
	var m mldmsg.Message
	if ifc.sendsV1() {
		m = &mldmsg.QueryV1{MaxRespDelay: v1Delay(mrd), Group: netip.IPv6Unspecified()}
	} else {
		m = &mldmsg.QueryV2{
			MaxRespCode: mldmsg.EncodeMaxRespCode(mrd),
			Group:       netip.IPv6Unspecified(),
			QRV:         qrv(ifc.cfg.Robustness),
			QQIC:        mldmsg.EncodeQQIC(ifc.cfg.QueryInterval),
		}
	}
	r.emit(SendQuery{IfIndex: ifc.index, Dst: allNodes, Msg: m})
	ifc.stats.sentQuery(SentGeneral)
	if ifc.startupLeft > 0 {
		ifc.startupLeft--
	}
	next := ifc.cfg.QueryInterval
	if ifc.startupLeft > 0 {
		next = ifc.cfg.StartupQueryInterval
	}
	r.q.Set(&ifc.genQuery, r.abs(now+int64(next)), r.ifaceRef(ifc, timerGeneralQuery))
}

// qrv is the QRV field for a Robustness Variable: 0 when it does not fit in
// 3 bits (5.1.8).
func qrv(robustness int) uint8 {
	if robustness > 7 {
		return 0
	}
	return uint8(robustness)
}

// v1Delay is an MLDv1 Maximum Response Delay: plain milliseconds
// (Config.Validate keeps it within 16 bits when MLDv1 is enabled).
func v1Delay(d time.Duration) uint16 { return uint16(min(d, maxV1Delay) / time.Millisecond) }

// ifaceTimer handles the expiry of an interface timer.
func (r *Router) ifaceTimer(ifc *iface, now int64, id timerq.ID, k timerKind) {
	switch k {
	case timerGeneralQuery:
		if ifc.genQuery == id {
			ifc.genQuery = 0
			r.generalQuery(ifc, now)
		}
	case timerOtherQuerier:
		// 7.6.2: no Query from a lower address for OQPI: Querier again.
		if ifc.otherQuerier == id {
			ifc.otherQuerier = 0
			r.becomeQuerier(ifc, now, 1, false)
		}
	case timerOlderQuerier:
		if ifc.olderQuerier == id {
			ifc.olderQuerier = 0
			r.emit(OlderQuerier{IfIndex: ifc.index, Querier: ifc.olderQuerierAddr, Present: false})
			ifc.olderQuerierAddr = netip.Addr{}
		}
	}
}

// receiveQuery handles a Query from another router: the election (7.6.2),
// MLDv1 routers (8.3.1), and router-side processing (7.6.1).
func (r *Router) receiveQuery(ifc *iface, now int64, src netip.Addr, m mldmsg.Message) {
	var (
		group    netip.Addr
		suppress bool // S flag
		v2       *mldmsg.QueryV2
	)
	switch m := m.(type) {
	case *mldmsg.QueryV1:
		ifc.stats.recv(RecvQueryV1)
		group = m.Group
	case *mldmsg.QueryV2:
		ifc.stats.recv(RecvQueryV2)
		group, suppress, v2 = m.Group, m.SuppressRouterSide, m
	}
	if !group.IsUnspecified() && (!group.IsMulticast() || group.Is4In6()) {
		ifc.stats.drop(DropGroup)
		return
	}
	if v2 == nil && ifc.cfg.Version == Both {
		// 8.3.1: an MLDv1 router is on the link. RFC 3810 leaves the
		// switch to the administrator and asks for a warning; we also
		// send MLDv1 Queries until none has been heard for the Older
		// Version Querier Present Timeout, so that MLDv1 routers and
		// hosts understand us when we are the Querier.
		if ifc.olderQuerier == 0 {
			ifc.olderQuerierAddr = src
			r.emit(OlderQuerier{IfIndex: ifc.index, Querier: src, Present: true})
		}
		r.q.Set(&ifc.olderQuerier, r.abs(now+ifc.mali()), r.ifaceRef(ifc, timerOlderQuerier))
	}
	if src.Less(ifc.self) {
		r.otherQuerierHeard(ifc, now, src, v2)
	}
	if group.IsUnspecified() || suppress {
		return
	}
	// 7.6.1: a Query with the S flag clear (an MLDv1 Query has none)
	// lowers the timers it queries to LLQT, as the Querier did when it
	// sent it (RFC 2710 section 4 says the same for MLDv1 non-queriers).
	g := ifc.groups[keyOf(group)]
	if g == nil {
		return
	}
	to := now + ifc.llqt()
	if v2 == nil || len(v2.Sources) == 0 {
		if g.mode == Exclude && g.filterAt > to {
			r.setFilter(g, to)
		}
		return
	}
	for _, a := range v2.Sources {
		r.lowerSource(g, keyOf(a), to)
	}
}

// otherQuerierHeard handles a Query from a lower address: that router is
// the Querier (7.6.2). A non-Querier adopts its QRV and QQI (5.1.8, 5.1.9)
// unless they are zero.
func (r *Router) otherQuerierHeard(ifc *iface, now int64, src netip.Addr, v2 *mldmsg.QueryV2) {
	if ifc.querierSelf {
		r.q.Stop(&ifc.genQuery)
		ifc.startupLeft = 0
		r.stopRetransmissions(ifc)
	}
	r.setQuerier(ifc, now, src, false)
	if v2 != nil {
		ifc.adoptedRobustness = int(v2.QRV)
		ifc.adoptedInterval = v2.QueryInterval()
	}
	r.q.Set(&ifc.otherQuerier, r.abs(now+int64(ifc.otherQuerierPresentInterval())), r.ifaceRef(ifc, timerOtherQuerier))
}
