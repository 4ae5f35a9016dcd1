package mld

import (
	"net/netip"
	"slices"

	"github.com/pim6sd/pim6sd/mld/mldmsg"
)

// Specific Queries, RFC 3810 section 7.6.3. Only the Querier sends them: on
// a non-Querier the "Send Q(...)" actions of the 7.4.2 table do nothing, and
// its timers are lowered by the Querier's Queries instead (7.6.1).

// startGroupQuery is the "Send Q(MA)" action (7.6.3.1): the Filter Timer is
// lowered to LLQT and Last Listener Query Count transmissions are scheduled.
// It reports whether a transmission is due now. A Filter Timer already at
// or below LLQT is being queried (or about to expire) and is left alone, as
// 7.6.3.2 does for source timers, so that repeated Dones cannot prolong the
// sequence.
func (r *Router) startGroupQuery(g *group, now int64) bool {
	ifc := g.ifc
	if !ifc.querierSelf || g.mode != Exclude || g.filterAt-now <= ifc.llqt() {
		return false
	}
	r.setFilter(g, now+ifc.llqt())
	g.rexmitGroup = uint8(ifc.cfg.LastListenerQueryCount)
	return true
}

// startSourceQuery is "Send Q(MA,X)" for one source s of X (7.6.3.2): a
// source whose timer is above LLQT gets Last Listener Query Count
// transmissions and its timer lowered to LLQT. It reports whether it did;
// the caller stores s.
func (r *Router) startSourceQuery(g *group, k key, s *source, now int64) bool {
	ifc := g.ifc
	llqt := ifc.llqt()
	if !ifc.querierSelf || s.id == 0 || s.at-now <= llqt {
		return false
	}
	s.rexmit = uint8(ifc.cfg.LastListenerQueryCount)
	r.lazySet(&s.id, &s.at, now+llqt, r.sourceRef(g, k))
	return true
}

// lowerSource lowers the timer of source k to the deadline `to` when it is
// later (7.6.1). Zero timers stay zero.
func (r *Router) lowerSource(g *group, k key, to int64) {
	s, ok := g.sources[k]
	if !ok || s.id == 0 || s.at <= to {
		return
	}
	r.lazySet(&s.id, &s.at, to, r.sourceRef(g, k))
	g.sources[k] = s
}

// sendSpecific sends the pending specific Queries of g, now: the
// Multicast Address Specific Query with the S flag set when the Filter Timer
// is above LLQT (7.6.3.1), and the Multicast Address and Source Specific
// Queries split into the sources with timers above LLQT (S set) and the
// others (S clear), either one suppressed when empty (7.6.3.2). The S-set
// source Query is also suppressed when Q(MA) goes out at the same time, as
// 7.6.3.2 allows: Q(MA) asks for those sources too. Each transmission counts
// down; while some are left, the next is scheduled after the Last Listener
// Query Interval.
func (r *Router) sendSpecific(g *group, now int64) {
	ifc := g.ifc
	if !ifc.querierSelf {
		return
	}
	llqt := ifc.llqt()
	ma := g.addr.Addr()
	sentMA := false
	if g.rexmitGroup > 0 {
		g.rexmitGroup--
		sflag := g.mode == Exclude && g.filter != 0 && g.filterAt-now > llqt
		r.sendSpecificQuery(ifc, ma, sflag, nil)
		sentMA = true
	}
	more := g.rexmitGroup > 0
	var withS, withoutS []netip.Addr
	for k, s := range g.sources {
		if s.rexmit == 0 {
			continue
		}
		if s.id != 0 && s.at-now > llqt {
			withS = append(withS, k.Addr())
		} else {
			withoutS = append(withoutS, k.Addr())
		}
		s.rexmit--
		more = more || s.rexmit > 0
		g.sources[k] = s
	}
	if ifc.sendsV1() {
		// MLDv1 has no source-specific Query: ask for the whole address.
		if !sentMA && len(withS)+len(withoutS) > 0 {
			r.sendSpecificQuery(ifc, ma, false, nil)
		}
	} else {
		slices.SortFunc(withS, netip.Addr.Compare)
		slices.SortFunc(withoutS, netip.Addr.Compare)
		if len(withS) > 0 && !sentMA {
			r.sendSpecificQuery(ifc, ma, true, withS)
		}
		if len(withoutS) > 0 {
			r.sendSpecificQuery(ifc, ma, false, withoutS)
		}
	}
	if more {
		r.q.Set(&g.rexmit, r.abs(now+int64(ifc.cfg.LastListenerQueryInterval)), timerRef{g: g, kind: timerRexmit})
	} else {
		r.q.Stop(&g.rexmit)
	}
}

// sendSpecificQuery emits one specific Query to the multicast address (RFC
// 3810 section 5.1.15) with the Last Listener Query Interval as its Maximum
// Response Delay (5.1.3).
func (r *Router) sendSpecificQuery(ifc *iface, ma netip.Addr, sflag bool, sources []netip.Addr) {
	var m mldmsg.Message
	if ifc.sendsV1() {
		m = &mldmsg.QueryV1{MaxRespDelay: v1Delay(ifc.cfg.LastListenerQueryInterval), Group: ma}
	} else {
		m = &mldmsg.QueryV2{
			MaxRespCode:        mldmsg.EncodeMaxRespCode(ifc.cfg.LastListenerQueryInterval),
			Group:              ma,
			SuppressRouterSide: sflag,
			QRV:                qrv(ifc.cfg.Robustness),
			QQIC:               mldmsg.EncodeQQIC(ifc.cfg.QueryInterval),
			Sources:            sources,
		}
	}
	kind := SentAddress
	if len(sources) > 0 {
		kind = SentAddressSources
	}
	ifc.stats.sentQuery(kind)
	r.emit(SendQuery{IfIndex: ifc.index, Dst: ma, Msg: m})
}
