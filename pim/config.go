package pim

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/pim6sd/pim6sd/internal/engine"
	"github.com/pim6sd/pim6sd/pim/bsr"
)

// Config is the router-wide setting of the PIM engine.
type Config struct {
	// Rand returns uniformly distributed 32-bit random numbers. It is the
	// engine's only source of randomness (the package is pure): Generation
	// IDs (RFC 7761 section 4.3.1), the random Hello delays (4.3.1) and the
	// Join Timer values t_suppressed and t_override (4.11). Required. Tests
	// pass a deterministic one; the daemon a cryptographic one. It is no
	// setting: left out of JSON (conf.Config.Fingerprint hashes the rest).
	Rand func() uint32 `json:"-"`
	// SSMRange holds the Source-Specific Multicast ranges (RFC 4607
	// section 1, RFC 7761 section 4.8). Groups in it are routed on (S,G)
	// state only: they never use an RP, and (*,G) and (S,G,rpt) entries
	// for them are counted and ignored. Every other group is any-source
	// multicast (ASM) and uses the RP of RPs.
	SSMRange []netip.Prefix
	// RPs are the static RP mappings (RFC 7761 section 4.7): RP(G) is the
	// RP whose group prefix containing G is longest, ties going to the
	// highest RP address (see rp.go).
	RPs []StaticRP
	// SPT is the SPT switchover policy of a last-hop router
	// (SwitchToSptDesired, RFC 7761 section 4.2.1).
	SPT SPTPolicy
	// KeepalivePeriod is Keepalive_Period (4.11, 210 s): how long an
	// (S,G) Keepalive Timer runs after data, and how long a cache entry
	// installed for (*,G) forwarding outlives its last packet.
	KeepalivePeriod time.Duration
	// RegisterSuppressionTime is Register_Suppression_Time (4.11, 60 s)
	// and RegisterProbeTime Register_Probe_Time (4.11, 5 s), which must be
	// less than half of it. The RP keeps a registered source for
	// RP_Keepalive_Period = 3 * RegisterSuppressionTime +
	// RegisterProbeTime (4.4.2).
	RegisterSuppressionTime time.Duration
	RegisterProbeTime       time.Duration
	// AssertTime is Assert_Time (4.11, 180 s); the winner asserts again
	// Assert_Override_Interval (3 s) before it.
	AssertTime time.Duration
	// ActivityInterval is how often the daemon reads the counters of the
	// (S,G) entries it was asked to watch (WatchActivity) and reports them
	// with DataActivity. It bounds how late the Keepalive Timers learn of
	// data and the interval over which an SPT switch rate is measured, so
	// it must be well under KeepalivePeriod (at most a third of it).
	ActivityInterval time.Duration
	// MaxRegisterRate is the most Register messages per second the router
	// encapsulates as a DR (a token bucket of one second's worth); 0 means
	// no limit. Each is a packet the kernel copied to user space.
	MaxRegisterRate int
	// MaxRoutes is the most (S,G) entries (with their (S,G,rpt) state) and
	// (*,G) entries the router keeps, together.
	MaxRoutes int
	// MaxNeighbors is the most PIM neighbors per interface.
	MaxNeighbors int

	// CandidateBSR makes the router a Candidate-BSR (RFC 5059 section
	// 3.1.1); nil: it is not one and runs the non-candidate machine
	// (3.1.2). Every router accepts, stores and forwards Bootstrap
	// messages either way.
	CandidateBSR *CandidateBSR
	// CandidateRP makes the router a Candidate-RP (RFC 5059 section 3.2);
	// nil: it is not one.
	CandidateRP *CandidateRP
	// BootstrapPeriod is BS_Period (RFC 5059 section 5, 60 s): how often
	// the elected BSR originates its Bootstrap message. Every router uses
	// BS_Timeout = 2 * BS_Period + 10 s for the Bootstrap Timer, so it
	// must be the same in the whole domain (as the RFC's default is).
	BootstrapPeriod time.Duration
	// EmbeddedRP enables Embedded-RP (RFC 3956): the RP of a group of
	// ff70::/12 (flags R, P and T set) is the address the group carries.
	EmbeddedRP bool
	// MaxEmbeddedRPGroups is the most groups that take their RP from
	// their address at once; further such groups get no RP (counted as
	// DropEmbeddedRPLimit, with a LimitHit), so that a flood of groups
	// naming random RPs cannot make the router track a route to each.
	MaxEmbeddedRPGroups int
	// MaxRPSet is the most (group range, RP) pairs kept from Bootstrap
	// messages and, at the BSR, the most Candidate-RPs; more are dropped
	// and counted (DropRPSetLimit).
	MaxRPSet int

	// AnycastRP makes the router a member of an Anycast-RP set (RFC
	// 4610, see anycast.go); nil: it is none.
	AnycastRP *AnycastRP

	// Administrative scope zones of the BSR mechanism (RFC 5059 1.3,
	// zones.go).
	//
	// BSRZones are the scope zones this router is configured for: each
	// has a BSR election and an RP-set of its own, its own Candidate-BSR
	// setting, and the interfaces at its border, which its Bootstrap
	// messages never cross. The ranges of CandidateRP within a zone are
	// advertised to that zone's BSR (those within none, to the global
	// BSR). Each zone keeps at most MaxRPSet pairs.
	BSRZones []BSRZone
	// MaxBSRZones is the most scope zones known at once, the configured
	// ones included: the Bootstrap messages of further zones learned from
	// the network are dropped and counted (DropZoneLimit).
	MaxBSRZones int
}

// BSRZone is an administrative scope zone of the BSR mechanism (RFC 5059
// 1.3) that this router is in.
type BSRZone struct {
	// Range is the zone's group range, an IPv6 multicast prefix of /16 or
	// longer whose scope (the fourth nibble) is between 3 (realm-local)
	// and 13, below global (14): ff15::/16 is the site-local scope, for
	// example. Bootstrap messages of the zone carry it, with the Admin
	// Scope Zone bit, as their first group range.
	Range netip.Prefix
	// Border are the names of the interfaces at the zone's border (this
	// router is a Zone Border Router): the zone's Bootstrap messages are
	// neither sent nor accepted there, and Join/Prune state and local
	// listeners of the zone's groups are refused there.
	Border []string
	// CandidateBSR makes the router a Candidate-BSR of the zone; nil: it
	// is not one there.
	CandidateBSR *CandidateBSR
}

// CandidateBSR is a Candidate-BSR setting (RFC 5059 sections 3.1, 5).
type CandidateBSR struct {
	// Addr is the BSR address (a global address of this router) that its
	// Bootstrap messages carry and that Candidate-RPs unicast to.
	Addr netip.Addr
	// Priority is the BSR priority: the highest wins, then the highest
	// address. 64 by default.
	Priority uint8
	// HashMaskLen is the hash mask length this router advertises when it
	// is the BSR (RFC 7761 section 4.7.2): groups that agree on their
	// first HashMaskLen bits map to the same RP. 126 by default for IPv6.
	HashMaskLen uint8
}

// CandidateRP is a Candidate-RP setting (RFC 5059 section 3.2).
type CandidateRP struct {
	// Addr is the RP address (a global address of this router).
	Addr netip.Addr
	// Priority: the lowest wins (RFC 7761 section 4.7.2); 192 by default.
	Priority uint8
	// Holdtime is the time the BSR and every router keep this RP after
	// its last advertisement: whole seconds, at most 65535 s; 150 s
	// (2.5 * Interval) by default. It must exceed Interval.
	Holdtime time.Duration
	// Interval is C_RP_Adv_Period (RFC 5059 section 5, 60 s): how often
	// the Candidate-RP-Advertisement is unicast to the BSR.
	Interval time.Duration
	// Groups are the group ranges served; empty means ff00::/8.
	Groups []netip.Prefix
}

// StaticRP maps the groups of Groups (IPv6 multicast prefixes) to the RP
// Addr, a global unicast address (RFC 7761 section 4.7). An Override
// mapping takes precedence over the RP-set learned from the BSR; the
// others apply only to groups the RP-set does not cover (see rp.go).
type StaticRP struct {
	Addr     netip.Addr
	Groups   []netip.Prefix
	Override bool
}

// SPTPolicy is SwitchToSptDesired(S,G) (RFC 7761 section 4.2.1): when a
// last-hop router on the RP tree joins the shortest-path tree of a source.
// The zero value switches on the first packet.
type SPTPolicy struct {
	// Never: stay on the RP tree.
	Never bool
	// Rate, if not zero, switches when the (S,G) traffic measured over
	// one ActivityInterval exceeds this many bits per second.
	Rate uint64
}

// String returns "first-packet", "never" or the rate in bits/s.
func (p SPTPolicy) String() string {
	switch {
	case p.Never:
		return "never"
	case p.Rate == 0:
		return "first-packet"
	}
	return fmt.Sprintf("%dbps", p.Rate)
}

// DefaultSSMRange returns ff30::/32 .. ff3f::/32, the SSM range FF3x::/32 of
// RFC 4607 section 1 for every scope x (engine.DefaultSSMRange, kept here
// for the packages that configure PIM).
func DefaultSSMRange() []netip.Prefix { return engine.DefaultSSMRange() }

// DefaultConfig returns the default router configuration, without Rand
// (which the caller must supply): the SSM range of RFC 4607, no RP, the
// switch to the SPT on the first packet, the timer values of RFC 7761
// section 4.11, counters read every 10 s, at most 1000 Registers per
// second, 65536 entries and 128 neighbors per interface, BS_Period 60 s
// (RFC 5059 section 5), Embedded-RP on for at most 256 groups and an
// RP-set of at most 1024 entries. The router is no candidate: see
// DefaultCandidateBSR and DefaultCandidateRP for the defaults of one.
func DefaultConfig() Config {
	return Config{
		SSMRange:                DefaultSSMRange(),
		KeepalivePeriod:         210 * time.Second,
		RegisterSuppressionTime: 60 * time.Second,
		RegisterProbeTime:       5 * time.Second,
		AssertTime:              180 * time.Second,
		ActivityInterval:        10 * time.Second,
		MaxRegisterRate:         1000,
		MaxRoutes:               65536,
		MaxNeighbors:            128,
		BootstrapPeriod:         60 * time.Second,
		EmbeddedRP:              true,
		MaxEmbeddedRPGroups:     256,
		MaxRPSet:                1024,
		MaxBSRZones:             DefaultMaxBSRZones,
	}
}

// DefaultMaxBSRZones is the default of Config.MaxBSRZones: a zone for
// each of the eleven scopes a zone can have (3 to 13), with room to spare
// for zones nested within one scope.
const DefaultMaxBSRZones = 16

// DefaultCandidateBSR returns the defaults of a Candidate-BSR, without its
// address: priority 64 and hash mask length 126 (RFC 5059 section 3.1.1,
// RFC 7761 section 4.7.2 for IPv6).
func DefaultCandidateBSR() CandidateBSR {
	return CandidateBSR{Priority: 64, HashMaskLen: 126}
}

// DefaultCandidateRP returns the defaults of a Candidate-RP, without its
// address: priority 192, C_RP_Adv_Period 60 s (RFC 5059 section 5), the
// holdtime Derive gives for it (150 s) and every group (ff00::/8).
func DefaultCandidateRP() CandidateRP {
	return CandidateRP{
		Priority: 192,
		Interval: 60 * time.Second,
		Groups:   []netip.Prefix{allGroups},
	}.Derive()
}

// Derive returns p with a zero Holdtime set to 2.5 times Interval, as RFC
// 5059 suggests, rounded up to a whole second, the unit of the Holdtime
// field. A configuration that lets the holdtime be left out uses it, so
// that the derived value and the rule live here.
func (p CandidateRP) Derive() CandidateRP {
	if p.Holdtime == 0 {
		p.Holdtime = ceilSecond(p.Interval * 5 / 2)
	}
	return p
}

// ceilSecond rounds d up to a whole second.
func ceilSecond(d time.Duration) time.Duration {
	if r := d % time.Second; r != 0 {
		d += time.Second - r
	}
	return d
}

// allGroups is ff00::/8, every IPv6 multicast group.
var allGroups = engine.AllGroups

// maxCRPGroups is the most group ranges of one Candidate-RP-Advertisement
// (its Prefix Count field has 8 bits, RFC 5059 section 4.2).
const maxCRPGroups = 255

// assertOverrideInterval is Assert_Override_Interval (RFC 7761 section
// 4.11).
const assertOverrideInterval = 3 * time.Second

// maxBootstrapPeriod is the largest BS_Period: a quarter of the largest
// holdtime, in whole seconds.
const maxBootstrapPeriod = 16383 * time.Second

// Validate reports every bad value as a *FieldError, joined with
// errors.Join; nil means the configuration can be used. The Field of each
// is the value's Go path in c ("KeepalivePeriod", "CandidateRP.Holdtime",
// "RPs[1].Groups[0]").
func (c Config) Validate() error {
	var v validator
	if c.Rand == nil {
		v.bad("Rand", "required (the engine draws no random numbers of its own)")
	}
	for i, p := range c.SSMRange {
		v.prefix(fmt.Sprintf("SSMRange[%d]", i), p)
	}
	for i, rp := range c.RPs {
		v.address(fmt.Sprintf("RPs[%d].Addr", i), rp.Addr, "required: the RP's global unicast address")
		for j, p := range rp.Groups {
			v.prefix(fmt.Sprintf("RPs[%d].Groups[%d]", i, j), p)
		}
	}
	v.duration("KeepalivePeriod", c.KeepalivePeriod, 3*time.Second, maxHoldtime, "")
	v.duration("RegisterSuppressionTime", c.RegisterSuppressionTime, 3*time.Second, maxHoldtime, "")
	if v.duration("RegisterProbeTime", c.RegisterProbeTime, time.Second, maxHoldtime, "") &&
		c.RegisterProbeTime*2 >= c.RegisterSuppressionTime {
		v.bad("RegisterProbeTime", "%v must be less than half of %s %v (RFC 7761 4.4.1)", c.RegisterProbeTime, fieldRef("RegisterSuppressionTime"), c.RegisterSuppressionTime)
	}
	switch minAssert := assertOverrideInterval + time.Second; {
	case c.AssertTime < minAssert:
		// The winner asserts again Assert_Override_Interval before
		// Assert_Time ends: that must leave it time.
		v.bad("AssertTime", "%v is less than %v: the winner asserts again Assert_Override_Interval (%v) before it ends (RFC 7761 4.11)", c.AssertTime, minAssert, assertOverrideInterval)
	case c.AssertTime > maxHoldtime:
		v.bad("AssertTime", "%v is more than %s", c.AssertTime, limit(maxHoldtime))
	}
	v.duration("ActivityInterval", c.ActivityInterval, 100*time.Millisecond, max(c.KeepalivePeriod/3, 100*time.Millisecond), "a third of KeepalivePeriod")
	v.atLeast("MaxRegisterRate", c.MaxRegisterRate, 0)
	v.atLeast("MaxRoutes", c.MaxRoutes, 1)
	v.atLeast("MaxNeighbors", c.MaxNeighbors, 1)
	if b := c.CandidateBSR; b != nil {
		v.address("CandidateBSR.Addr", b.Addr, "required for a Candidate-BSR: a global unicast address of this router")
		if b.HashMaskLen > bsr.MaxHashMaskLen {
			v.bad("CandidateBSR.HashMaskLen", "%d is more than %d", b.HashMaskLen, bsr.MaxHashMaskLen)
		}
	}
	if p := c.CandidateRP; p != nil {
		v.address("CandidateRP.Addr", p.Addr, "required for a Candidate-RP: a global unicast address of this router")
		v.duration("CandidateRP.Interval", p.Interval, time.Second, maxHoldtime, "the largest advertisement interval")
		switch h := p.Holdtime; {
		case h <= p.Interval:
			v.bad("CandidateRP.Holdtime", "%v must be more than %s %v, or the RP expires between advertisements", h, fieldRef("CandidateRP.Interval"), p.Interval)
		case h > maxHoldtime:
			v.bad("CandidateRP.Holdtime", "%v is more than %s, the largest Holdtime of a Candidate-RP-Advertisement", h, limit(maxHoldtime))
		case h%time.Second != 0:
			v.bad("CandidateRP.Holdtime", "%v is not a whole number of seconds, the unit of the Holdtime", h)
		}
		for j, g := range p.Groups {
			field := fmt.Sprintf("CandidateRP.Groups[%d]", j)
			if !v.prefix(field, g) {
				continue
			}
			// A group range inside the SSM range would be advertised for
			// groups that never use an RP (RFC 4607). One that only
			// contains part of it (such as ff00::/8) is fine.
			for _, s := range c.SSMRange {
				if s.Bits() <= g.Bits() && s.Contains(g.Addr()) {
					v.bad(field, "%v is in the SSM range (%v in %s): SSM groups use no RP", g, s, fieldRef("SSMRange"))
					break
				}
			}
		}
		if len(p.Groups) > maxCRPGroups {
			v.bad("CandidateRP.Groups", "%d prefixes: at most %d fit in a Candidate-RP-Advertisement", len(p.Groups), maxCRPGroups)
		}
	}
	v.duration("BootstrapPeriod", c.BootstrapPeriod, time.Second, maxBootstrapPeriod, "the largest Bootstrap period")
	v.atLeast("MaxEmbeddedRPGroups", c.MaxEmbeddedRPGroups, 0)
	v.atLeast("MaxRPSet", c.MaxRPSet, 1)
	if a := c.AnycastRP; a != nil {
		a.validate(&v)
	}
	v.bsrZones(&c) // zones.go
	return errors.Join(v.errs...)
}

// isSSM reports whether g is in the configured SSM range.
func (c *Config) isSSM(g netip.Addr) bool { return engine.IsSSM(c.SSMRange, g) }

// IfConfig is the PIM setting of one interface. Names and defaults are
// those of RFC 7761 section 4.11 (timer values) and 4.3 (Hello options).
type IfConfig struct {
	// HelloPeriod is Hello_Period (4.11): the interval of periodic Hellos.
	HelloPeriod time.Duration
	// HelloHoldtime is the Holdtime option we send, Default_Hello_Holdtime
	// = 3.5 * Hello_Period (4.11). Whole seconds; 65535 s tells neighbors
	// never to time us out (4.9.2).
	HelloHoldtime time.Duration
	// TriggeredHelloDelay is Triggered_Hello_Delay (4.11): the bound of the
	// random delay of the first and of triggered Hellos (4.3.1).
	TriggeredHelloDelay time.Duration
	// DRPriority is the DR Priority option we send (4.3.2, 4.9.2).
	DRPriority uint32
	// PropagationDelay and OverrideInterval are the values of our LAN
	// Prune Delay option (4.3.3, 4.9.2): Propagation_delay_default and
	// t_override_default of 4.11. Whole milliseconds, the option's unit;
	// the propagation delay has 15 bits.
	PropagationDelay time.Duration
	OverrideInterval time.Duration
	// TrackingSupport is the T bit of our LAN Prune Delay option (4.3.3):
	// set it only if this router can do without Join suppression. Join
	// suppression is off on a link only when every router there, this one
	// included, sets it (Suppression_Enabled).
	TrackingSupport bool
	// JoinPrunePeriod is t_periodic (4.11): the interval of periodic
	// Join/Prune messages.
	JoinPrunePeriod time.Duration
	// JoinPruneHoldtime is J/P_HoldTime (4.11), 3.5 * t_periodic: the
	// Holdtime field of the Join/Prune messages we send. Whole seconds;
	// 65535 s means "until pruned" to the receiver (4.9.5).
	JoinPruneHoldtime time.Duration
	// MTU is the link MTU; Join/Prune messages are split to fit MTU less
	// the 40-octet IPv6 header.
	MTU int
}

// ipv6HeaderLen is what an IPv6 header takes out of the link MTU.
const ipv6HeaderLen = 40

// MinMTU is the IPv6 minimum link MTU (RFC 8200 section 5), the least
// IfConfig.MTU.
const MinMTU = 1280

// DefaultIfConfig returns the defaults of RFC 7761 section 4.11 (the
// holdtimes derived from the periods, see Derive) and an MTU of 1500.
func DefaultIfConfig() IfConfig {
	return IfConfig{
		HelloPeriod:         30 * time.Second,
		TriggeredHelloDelay: 5 * time.Second,
		DRPriority:          1,
		PropagationDelay:    500 * time.Millisecond,
		OverrideInterval:    2500 * time.Millisecond,
		JoinPrunePeriod:     60 * time.Second,
		MTU:                 1500,
	}.Derive()
}

// Derive returns c with the holdtimes that are zero set to the values RFC
// 7761 section 4.11 derives from their periods: Default_Hello_Holdtime =
// 3.5 * Hello_Period and J/P_HoldTime = 3.5 * t_periodic, rounded up to a
// whole second, the unit of the Holdtime fields. A configuration that lets
// a holdtime be left out uses it, so that the rule lives here.
func (c IfConfig) Derive() IfConfig {
	if c.HelloHoldtime == 0 {
		c.HelloHoldtime = ceilSecond(c.HelloPeriod * 7 / 2)
	}
	if c.JoinPruneHoldtime == 0 {
		c.JoinPruneHoldtime = ceilSecond(c.JoinPrunePeriod * 7 / 2)
	}
	return c
}

const (
	maxHoldtime         = 0xffff * time.Second
	maxPropagationDelay = 0x7fff * time.Millisecond
	maxOverrideInterval = 0xffff * time.Millisecond
)

// Validate reports every bad value as a *FieldError, joined with
// errors.Join; nil means the configuration can be used.
func (c IfConfig) Validate() error {
	var v validator
	v.duration("HelloPeriod", c.HelloPeriod, time.Second, maxHoldtime, "the largest holdtime")
	v.holdtime("HelloHoldtime", "Hello Holdtime", c.HelloHoldtime, "HelloPeriod", c.HelloPeriod, "or neighbors time us out between Hellos")
	switch {
	case c.TriggeredHelloDelay < 0:
		v.bad("TriggeredHelloDelay", "%v is negative", c.TriggeredHelloDelay)
	case c.TriggeredHelloDelay > c.HelloPeriod:
		v.bad("TriggeredHelloDelay", "%v is more than %s %v", c.TriggeredHelloDelay, fieldRef("HelloPeriod"), c.HelloPeriod)
	}
	v.millis("PropagationDelay", c.PropagationDelay, maxPropagationDelay)
	v.millis("OverrideInterval", c.OverrideInterval, maxOverrideInterval)
	v.duration("JoinPrunePeriod", c.JoinPrunePeriod, time.Second, maxHoldtime, "the largest holdtime")
	v.holdtime("JoinPruneHoldtime", "Join/Prune Holdtime", c.JoinPruneHoldtime, "JoinPrunePeriod", c.JoinPrunePeriod, "or upstream state expires between refreshes")
	if c.MTU < MinMTU || c.MTU > 0xffff+ipv6HeaderLen {
		v.bad("MTU", "%d is not in %d..%d", c.MTU, MinMTU, 0xffff+ipv6HeaderLen)
	}
	return errors.Join(v.errs...)
}

// seconds returns a validated whole-second duration as a 16-bit field.
func seconds(d time.Duration) uint16 { return uint16(min(d, maxHoldtime) / time.Second) }

func cloneConfig(c Config) Config {
	c.SSMRange = slices.Clone(c.SSMRange)
	c.RPs = slices.Clone(c.RPs)
	for i := range c.RPs {
		c.RPs[i].Addr = c.RPs[i].Addr.WithZone("")
		c.RPs[i].Groups = slices.Clone(c.RPs[i].Groups)
	}
	if b := c.CandidateBSR; b != nil {
		cb := *b
		cb.Addr = cb.Addr.WithZone("")
		c.CandidateBSR = &cb
	}
	if p := c.CandidateRP; p != nil {
		cp := *p
		cp.Addr = cp.Addr.WithZone("")
		cp.Groups = engine.CandidateRPGroups(cp.Groups)
		c.CandidateRP = &cp
	}
	if a := c.AnycastRP; a != nil {
		c.AnycastRP = a.clone()
	}
	c.BSRZones = cloneBSRZones(c.BSRZones) // zones.go
	return c
}

// FieldError is a value the engine refuses (engine.FieldError): Validate
// returns them joined, and callers take them apart with errors.As.
type FieldError = engine.FieldError

// fieldRef names another field in a FieldError's message.
type fieldRef = engine.FieldRef

// validator collects the FieldErrors of one Validate.
type validator struct{ errs []error }

func (v *validator) bad(field, format string, args ...any) {
	v.errs = append(v.errs, engine.NewFieldError("pim", field, format, args...))
}

// duration checks lo <= d <= hi; why says what hi is ("" for nothing).
// It reports whether d is in range.
func (v *validator) duration(field string, d, lo, hi time.Duration, why string) bool {
	switch {
	case d < lo:
		v.bad(field, "%v is less than %v", d, lo)
	case d > hi && why != "":
		v.bad(field, "%v is more than %s, %s", d, limit(hi), why)
	case d > hi:
		v.bad(field, "%v is more than %s", d, limit(hi))
	default:
		return true
	}
	return false
}

// holdtime checks a holdtime sent in a 16-bit field of seconds against
// the period of the messages that refresh it; what names the field, and
// expires says what happens when it is not above the period.
func (v *validator) holdtime(field, what string, hold time.Duration, periodField string, period time.Duration, expires string) {
	switch {
	case hold <= period:
		v.bad(field, "%v must be more than %s %v, "+expires, hold, fieldRef(periodField), period)
	case hold > maxHoldtime:
		v.bad(field, "%v is more than %s, the largest %s (65535s means never expire)", hold, limit(maxHoldtime), what)
	case hold%time.Second != 0:
		v.bad(field, "%v is not a whole number of seconds, the unit of the %s", hold, what)
	}
}

// millis checks a value of the LAN Prune Delay option (RFC 7761 4.9.2):
// whole milliseconds, at most hi.
func (v *validator) millis(field string, d, hi time.Duration) {
	switch {
	case d < 0:
		v.bad(field, "%v is negative", d)
	case d > hi:
		v.bad(field, "%v is more than %v, the largest the LAN Prune Delay option can carry", d, hi)
	case d%time.Millisecond != 0:
		v.bad(field, "%v is not a whole number of milliseconds, the unit of the LAN Prune Delay option", d)
	}
}

func (v *validator) atLeast(field string, n, lo int) {
	if n < lo {
		v.bad(field, "%d must be at least %d", n, lo)
	}
}

// address checks a global unicast address of this router or an RP;
// missing says what is wrong when there is none.
func (v *validator) address(field string, a netip.Addr, missing string) {
	switch {
	case !a.IsValid():
		v.bad(field, "%s", missing)
	case !validSource(a):
		v.bad(field, "%v is not a global unicast IPv6 address", a)
	case a.Zone() != "":
		v.bad(field, "%v has a zone: a global address takes none", a)
	}
}

// prefix checks an IPv6 multicast prefix, written without bits beyond its
// length, and reports whether it is one.
func (v *validator) prefix(field string, p netip.Prefix) bool {
	switch {
	case !p.IsValid() || !p.Addr().Is6() || p.Addr().Is4In6() || p.Bits() < 8 || !p.Addr().IsMulticast():
		v.bad(field, "%v is not an IPv6 multicast prefix (ff00::/8 or longer)", p)
	case p.Masked() != p:
		v.bad(field, "%v has bits set beyond its length: write %v", p, p.Masked())
	default:
		return true
	}
	return false
}

// limit writes a limit of whole seconds in seconds ("65535s"), the way
// the RFCs and the configuration file state them, and others as Go does.
func limit(d time.Duration) string {
	if d >= time.Minute && d%time.Second == 0 {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return d.String()
}
