package mld

import (
	"net/netip"

	"github.com/pim6sd/pim6sd/mld/mldmsg"
)

// Action is one thing the caller must do or may log. The set is closed:
// SendQuery, ListenerUpdate, QuerierChange, OlderQuerier and LimitHit.
type Action interface{ action() }

// SendQuery asks the daemon to send Msg (a *mldmsg.QueryV1 or
// *mldmsg.QueryV2) on the interface to Dst, from the interface's link-local
// address, with hop limit 1 and Router Alert (RFC 3810 section 5).
type SendQuery struct {
	IfIndex int
	Dst     netip.Addr
	Msg     mldmsg.Message
}

// FilterMode is the filter mode of a multicast address record (RFC 3810
// section 7.2). The zero value is Include, which with no sources means no
// listeners.
type FilterMode uint8

// Filter modes.
const (
	Include FilterMode = iota
	Exclude
)

// String returns INCLUDE or EXCLUDE, as the RFC writes them.
func (m FilterMode) String() string {
	if m == Exclude {
		return "EXCLUDE"
	}
	return "INCLUDE"
}

// ListenerUpdate says that the forwarding state of (interface, group)
// changed (RFC 3810 section 7.2: the router's "suggestions" to the routing
// protocol). Include with Sources: forward traffic from those sources.
// Exclude with Sources: forward traffic from all sources but those (the
// sources whose timers are zero). Include with no Sources: no listeners
// left. Sources are sorted. It is emitted only when the state really changed
// over one call, and never for link-scope groups (see the package
// documentation).
type ListenerUpdate struct {
	IfIndex int
	Group   netip.Addr
	Mode    FilterMode
	Sources []netip.Addr
}

// QuerierChange says who the Querier of the interface is now (RFC 3810
// section 7.6.2). Self is true when it is this router.
type QuerierChange struct {
	IfIndex int
	Querier netip.Addr
	Self    bool
}

// OlderQuerier says that an MLDv1 Querier was heard on the interface
// (Present, with its address) or that none has been heard for the Older
// Version Querier Present Timeout (RFC 3810 section 8.3.1, which asks for a
// rate-limited warning). It is emitted when the state starts and ends, not
// for every MLDv1 Query.
type OlderQuerier struct {
	IfIndex int
	Querier netip.Addr
	Present bool
}

// LimitHit says that a record was ignored because the interface already
// tracks MaxGroups groups (Kind "groups") or Group already has MaxSources
// sources (Kind "sources"). It is emitted once per episode: again only after
// the count has fallen below the limit.
type LimitHit struct {
	IfIndex int
	Group   netip.Addr // zero for Kind "groups"
	Kind    string
	Limit   int
}

// Limit kinds of LimitHit.
const (
	LimitGroups  = "groups"
	LimitSources = "sources"
)

func (SendQuery) action()      {}
func (ListenerUpdate) action() {}
func (QuerierChange) action()  {}
func (OlderQuerier) action()   {}
func (LimitHit) action()       {}
