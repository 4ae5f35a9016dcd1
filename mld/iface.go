package mld

import (
	"net/netip"
	"slices"
	"time"

	"github.com/pim6sd/pim6sd/internal/timerq"
)

// allNodes is where General Queries go (RFC 3810 section 5.1.15).
var allNodes = netip.MustParseAddr("ff02::1")

// iface is the MLD state of one interface: the Querier election and the
// records of its multicast addresses.
type iface struct {
	index int
	name  string
	self  netip.Addr // our link-local address, no zone
	cfg   Config

	// Querier election (7.6.2).
	querier      netip.Addr // the Querier: self or another router
	querierSelf  bool
	querierSince time.Time
	otherQuerier timerq.ID // Other Querier Present timer
	genQuery     timerq.ID // next General Query, while Querier
	startupLeft  int       // Startup Queries not sent yet
	// startup: the queries of startupLeft are the Startup Queries of a new
	// interface (becomeQuerier), which carry StartupQueryResponseInterval.
	startup bool

	// Values adopted from the Querier's Queries while not the Querier
	// (5.1.8, 5.1.9); zero means none, use the configuration.
	adoptedRobustness int
	adoptedInterval   time.Duration

	// MLDv1 Querier present (8.3.1).
	olderQuerier     timerq.ID
	olderQuerierAddr netip.Addr

	groups        map[key]*group
	groupLimitHit bool
	stats         counters
}

func cloneConfig(c Config) Config {
	c.SSMRange = slices.Clone(c.SSMRange)
	return c
}

// robustness is the Robustness Variable in use: the Querier's QRV while
// another router is Querier and sent a non-zero one, else ours (5.1.8).
func (ifc *iface) robustness() int {
	if !ifc.querierSelf && ifc.adoptedRobustness != 0 {
		return ifc.adoptedRobustness
	}
	return ifc.cfg.Robustness
}

// queryInterval is the Query Interval in use (5.1.9).
func (ifc *iface) queryInterval() time.Duration {
	if !ifc.querierSelf && ifc.adoptedInterval != 0 {
		return ifc.adoptedInterval
	}
	return ifc.cfg.QueryInterval
}

// mali is the Multicast Address Listening Interval (9.4): Robustness times
// Query Interval plus Query Response Interval. The Older Version Querier
// and Host Present Timeouts (9.12, 9.13) have the same value.
func (ifc *iface) mali() int64 {
	return int64(time.Duration(ifc.robustness())*ifc.queryInterval() + ifc.cfg.QueryResponseInterval)
}

// otherQuerierPresentInterval is OQPI (9.5): Robustness times Query
// Interval plus half the Query Response Interval.
func (ifc *iface) otherQuerierPresentInterval() time.Duration {
	return time.Duration(ifc.robustness())*ifc.queryInterval() + ifc.cfg.QueryResponseInterval/2
}

// llqt is the Last Listener Query Time (9.10).
func (ifc *iface) llqt() int64 { return int64(ifc.cfg.lastListenerQueryTime()) }

// sendsV1 reports whether our Queries are MLDv1: the interface is MLDv1
// only, or an MLDv1 Querier was heard (8.3.1).
func (ifc *iface) sendsV1() bool {
	return ifc.cfg.Version == V1 || ifc.olderQuerier != 0
}

func (r *Router) ifaceRef(ifc *iface, k timerKind) timerRef {
	return timerRef{ifindex: int32(ifc.index), kind: k}
}

// stopRetransmissions ends every pending specific Query: only the Querier
// sends them.
func (r *Router) stopRetransmissions(ifc *iface) {
	for _, g := range ifc.groups {
		if g.rexmit == 0 && g.rexmitGroup == 0 {
			continue
		}
		r.q.Stop(&g.rexmit)
		g.rexmitGroup = 0
		for k, s := range g.sources {
			if s.rexmit != 0 {
				s.rexmit = 0
				g.sources[k] = s
			}
		}
	}
}

// SetAddress records a new link-local address of the interface and re-runs
// the election (7.6.2): with an address lower than the Querier's, this
// router becomes the Querier. An address that is not link-local is ignored
// (the daemon removes the interface instead).
func (r *Router) SetAddress(now time.Time, ifindex int, self netip.Addr) []Action {
	ifc := r.ifaces[ifindex]
	self = self.WithZone("")
	if ifc == nil || !self.Is6() || self.Is4In6() || !self.IsLinkLocalUnicast() || self == ifc.self {
		return nil
	}
	n := r.begin(now)
	ifc.self = self
	switch {
	case ifc.querierSelf:
		r.setQuerier(ifc, n, self, true)
	case self.Less(ifc.querier):
		r.becomeQuerier(ifc, n, 1, false)
	}
	return r.finish()
}

// SetConfig applies a new configuration to the interface, keeping its
// group state: later timers use the new values, a General Query due later
// than the new Query Interval is brought forward, MLDv1 compatibility
// state that the new Version forbids ends, groups now in the SSM range lose
// their EXCLUDE-mode state (as at Filter Timer expiry) and MLDv1 mode.
// An invalid cfg is refused whole: the old one stays.
func (r *Router) SetConfig(now time.Time, ifindex int, cfg Config) ([]Action, error) {
	ifc := r.ifaces[ifindex]
	if ifc == nil {
		return nil, nil
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := r.begin(now)
	ifc.cfg = cloneConfig(cfg)
	if ifc.querierSelf && ifc.startupLeft == 0 {
		if at, ok := r.q.When(ifc.genQuery); ok && at.After(r.abs(n+int64(cfg.QueryInterval))) {
			r.q.Set(&ifc.genQuery, r.abs(n+int64(cfg.QueryInterval)), r.ifaceRef(ifc, timerGeneralQuery))
		}
	}
	if cfg.Version != Both && ifc.olderQuerier != 0 {
		r.q.Stop(&ifc.olderQuerier)
		r.emit(OlderQuerier{IfIndex: ifc.index, Querier: ifc.olderQuerierAddr, Present: false})
		ifc.olderQuerierAddr = netip.Addr{}
	}
	for _, g := range ifc.groups {
		ssm := cfg.isSSM(g.addr.Addr())
		if cfg.Version&V1 == 0 || ssm {
			r.q.Stop(&g.compat)
		}
		if ssm {
			r.switchToInclude(g)
		}
	}
	ifc.groupLimitHit = ifc.groupLimitHit && len(ifc.groups) >= cfg.MaxGroups
	for _, g := range ifc.groups {
		g.srcLimitHit = g.srcLimitHit && len(g.sources) >= cfg.MaxSources
	}
	return r.finish(), nil
}
