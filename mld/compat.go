package mld

import (
	"net/netip"

	"github.com/pim6sd/pim6sd/mld/mldmsg"
)

// MLDv1 listeners, RFC 3810 section 8.3.2. Each multicast address has a
// compatibility mode: MLDv1 while its Older Version Host Present timer runs
// (set to the Older Version Host Present Timeout, 9.13, by every MLDv1
// Report), else MLDv2. In MLDv1 mode the router translates
//
//	MLDv1 Report  ->  IS_EX( {} )
//	MLDv1 Done    ->  TO_IN( {} )
//
// and ignores MLDv2 BLOCK records and the source lists of TO_EX records
// (TO_EX(x) is taken as TO_EX({})). MLDv1 routers on the link (8.3.1) are
// handled in iface.go.

// v1Acceptable checks an MLDv1 Report or Done before it touches state,
// counting the reason when it is refused.
func v1Acceptable(ifc *iface, group netip.Addr) bool {
	switch {
	case ifc.cfg.Version&V1 == 0:
		ifc.stats.drop(DropVersion)
	case !validListenerGroup(group):
		ifc.stats.drop(DropGroup)
	case ifc.cfg.isSSM(group):
		// RFC 4604 (SSM-aware routers): MLDv1 messages for an SSM address
		// create no state, and do not start MLDv1 mode either.
		ifc.stats.drop(DropSSMV1)
	default:
		return true
	}
	return false
}

// receiveReportV1 handles an MLDv1 Report (RFC 2710 section 4).
func (r *Router) receiveReportV1(ifc *iface, now int64, m *mldmsg.ReportV1) {
	if !v1Acceptable(ifc, m.Group) {
		return
	}
	g := r.lookupOrCreate(ifc, keyOf(m.Group))
	if g == nil {
		return
	}
	r.q.Set(&g.compat, r.abs(now+ifc.mali()), timerRef{g: g, kind: timerCompat})
	r.applyRecord(g, now, mldmsg.ModeIsExclude, nil)
}

// receiveDone handles an MLDv1 Done. It means TO_IN({}) for an address in
// MLDv1 mode. In MLDv2 mode 8.3.2 translates nothing: no MLDv1 Report was
// heard for the Older Version Host Present Timeout, which equals the
// Multicast Address Listening Interval, so no state of this router came
// from an MLDv1 listener and the Done is ignored (counted).
func (r *Router) receiveDone(ifc *iface, now int64, m *mldmsg.Done) {
	if !v1Acceptable(ifc, m.Group) {
		return
	}
	g := ifc.groups[keyOf(m.Group)]
	if g == nil || g.compat == 0 {
		ifc.stats.drop(DropDone)
		return
	}
	r.applyRecord(g, now, mldmsg.ChangeToInclude, nil)
}

// receiveRecord checks one record of an MLDv2 Report and applies it.
func (r *Router) receiveRecord(ifc *iface, now int64, rec *mldmsg.Record) {
	ifc.stats.record(rec.Type)
	if rec.Type < mldmsg.ModeIsInclude || rec.Type > mldmsg.BlockOldSources {
		ifc.stats.drop(DropRecordType) // 5.2.12: ignore unknown records
		return
	}
	if !validListenerGroup(rec.Group) {
		ifc.stats.drop(DropGroup)
		return
	}
	t, srcs := rec.Type, rec.Sources
	if (t == mldmsg.ModeIsExclude || t == mldmsg.ChangeToExclude) && ifc.cfg.isSSM(rec.Group) {
		// RFC 4604: an SSM-aware router ignores MODE_IS_EXCLUDE and
		// CHANGE_TO_EXCLUDE_MODE records for SSM addresses.
		ifc.stats.drop(DropSSMExclude)
		return
	}
	k := keyOf(rec.Group)
	g := ifc.groups[k]
	if g != nil && g.compat != 0 {
		switch t {
		case mldmsg.BlockOldSources:
			ifc.stats.drop(DropCompatV1)
			return
		case mldmsg.ChangeToExclude:
			srcs = nil
		}
	}
	if g == nil {
		if !createsState(t, len(srcs)) {
			return
		}
		if g = r.lookupOrCreate(ifc, k); g == nil {
			return
		}
	}
	r.applyRecord(g, now, t, srcs)
}

// validListenerGroup reports whether a listener may report g: a multicast
// address of scope 2 or more (RFC 3810 section 6: never scope 0 or 1) other
// than the all-nodes address ff02::1, which is never reported.
func validListenerGroup(g netip.Addr) bool {
	if !g.Is6() || g.Is4In6() || !g.IsMulticast() || g == allNodes {
		return false
	}
	return keyOf(g).Scope() >= 2
}
