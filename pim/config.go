package pim

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// Config is the router-wide setting of the PIM engine.
type Config struct {
	// Rand returns uniformly distributed 32-bit random numbers. It is the
	// engine's only source of randomness (the package is pure): Generation
	// IDs (RFC 7761 section 4.3.1), the random Hello delays (4.3.1) and the
	// Join Timer values t_suppressed and t_override (4.11). Required. Tests
	// pass a deterministic one; the daemon a cryptographic one.
	Rand func() uint32
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
// RFC 4607 section 1 for every scope x.
func DefaultSSMRange() []netip.Prefix {
	out := make([]netip.Prefix, 16)
	for x := range out {
		var a [16]byte
		a[0], a[1] = 0xff, 0x30|byte(x)
		out[x] = netip.PrefixFrom(netip.AddrFrom16(a), 32)
	}
	return out
}

// DefaultConfig returns the default router configuration, without Rand
// (which the caller must supply): the SSM range of RFC 4607, no RP, the
// switch to the SPT on the first packet, the timer values of RFC 7761
// section 4.11, counters read every 10 s, at most 1000 Registers per
// second, 65536 entries and 128 neighbors per interface.
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
	}
}

// allGroups is ff00::/8, every IPv6 multicast group.
var allGroups = netip.MustParsePrefix("ff00::/8")

// maxCRPGroups is the most group ranges of one Candidate-RP-Advertisement
// (its Prefix Count field has 8 bits).
const maxCRPGroups = 255

// assertOverrideInterval is Assert_Override_Interval (RFC 7761 section
// 4.11).
const assertOverrideInterval = 3 * time.Second

// Validate reports every bad value, each named by its field, joined with
// errors.Join; nil means the configuration can be used.
func (c Config) Validate() error {
	var errs []error
	if c.Rand == nil {
		errs = append(errs, errors.New("pim: Rand: required (the engine draws no random numbers of its own)"))
	}
	for i, p := range c.SSMRange {
		if !p.IsValid() || !p.Addr().Is6() || p.Addr().Is4In6() || p.Bits() < 8 || !p.Addr().IsMulticast() {
			errs = append(errs, fmt.Errorf("pim: SSMRange[%d]: %v is not an IPv6 multicast prefix (ff00::/8 or longer)", i, p))
		}
	}
	for i, rp := range c.RPs {
		if !validSource(rp.Addr) || rp.Addr.Zone() != "" {
			errs = append(errs, fmt.Errorf("pim: RPs[%d].Addr: %v is not a global unicast IPv6 address", i, rp.Addr))
		}
		for j, p := range rp.Groups {
			if !p.IsValid() || !p.Addr().Is6() || p.Addr().Is4In6() || p.Bits() < 8 || !p.Addr().IsMulticast() {
				errs = append(errs, fmt.Errorf("pim: RPs[%d].Groups[%d]: %v is not an IPv6 multicast prefix (ff00::/8 or longer)", i, j, p))
			}
		}
	}
	pos := func(field string, d, lo, hi time.Duration) {
		if d < lo || d > hi {
			errs = append(errs, fmt.Errorf("pim: %s: %v is not in [%v, %v]", field, d, lo, hi))
		}
	}
	pos("KeepalivePeriod", c.KeepalivePeriod, 3*time.Second, maxHoldtime)
	pos("RegisterSuppressionTime", c.RegisterSuppressionTime, 3*time.Second, maxHoldtime)
	pos("RegisterProbeTime", c.RegisterProbeTime, time.Second, maxHoldtime)
	if c.RegisterProbeTime*2 >= c.RegisterSuppressionTime {
		errs = append(errs, fmt.Errorf("pim: RegisterProbeTime: %v must be less than half of RegisterSuppressionTime %v (4.4.1)", c.RegisterProbeTime, c.RegisterSuppressionTime))
	}
	pos("AssertTime", c.AssertTime, assertOverrideInterval+time.Second, maxHoldtime)
	pos("ActivityInterval", c.ActivityInterval, 100*time.Millisecond, max(c.KeepalivePeriod/3, 100*time.Millisecond))
	if c.MaxRegisterRate < 0 {
		errs = append(errs, fmt.Errorf("pim: MaxRegisterRate: %d must not be negative", c.MaxRegisterRate))
	}
	if c.MaxRoutes < 1 {
		errs = append(errs, fmt.Errorf("pim: MaxRoutes: %d must be at least 1", c.MaxRoutes))
	}
	if c.MaxNeighbors < 1 {
		errs = append(errs, fmt.Errorf("pim: MaxNeighbors: %d must be at least 1", c.MaxNeighbors))
	}
	if b := c.CandidateBSR; b != nil {
		if !validSource(b.Addr) {
			errs = append(errs, fmt.Errorf("pim: CandidateBSR.Addr: %v is not a global unicast IPv6 address", b.Addr))
		}
		if b.HashMaskLen > 128 {
			errs = append(errs, fmt.Errorf("pim: CandidateBSR.HashMaskLen: %d is more than 128", b.HashMaskLen))
		}
	}
	if p := c.CandidateRP; p != nil {
		if !validSource(p.Addr) {
			errs = append(errs, fmt.Errorf("pim: CandidateRP.Addr: %v is not a global unicast IPv6 address", p.Addr))
		}
		pos("CandidateRP.Interval", p.Interval, time.Second, maxHoldtime)
		if p.Holdtime%time.Second != 0 || p.Holdtime <= p.Interval || p.Holdtime > maxHoldtime {
			errs = append(errs, fmt.Errorf("pim: CandidateRP.Holdtime: %v is not whole seconds, more than Interval %v and at most %v", p.Holdtime, p.Interval, maxHoldtime))
		}
		for j, g := range p.Groups {
			if !g.IsValid() || !g.Addr().Is6() || g.Addr().Is4In6() || g.Bits() < 8 || !g.Addr().IsMulticast() {
				errs = append(errs, fmt.Errorf("pim: CandidateRP.Groups[%d]: %v is not an IPv6 multicast prefix (ff00::/8 or longer)", j, g))
			}
		}
		if len(p.Groups) > maxCRPGroups {
			errs = append(errs, fmt.Errorf("pim: CandidateRP.Groups: %d ranges, at most %d fit an advertisement", len(p.Groups), maxCRPGroups))
		}
	}
	pos("BootstrapPeriod", c.BootstrapPeriod, time.Second, maxHoldtime/4)
	if c.MaxEmbeddedRPGroups < 0 {
		errs = append(errs, fmt.Errorf("pim: MaxEmbeddedRPGroups: %d must not be negative", c.MaxEmbeddedRPGroups))
	}
	if c.MaxRPSet < 1 {
		errs = append(errs, fmt.Errorf("pim: MaxRPSet: %d must be at least 1", c.MaxRPSet))
	}
	return errors.Join(errs...)
}

func (c *Config) isSSM(g netip.Addr) bool {
	for _, p := range c.SSMRange {
		if p.Contains(g) {
			return true
		}
	}
	return false
}

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

// minMTU is the IPv6 minimum link MTU (RFC 8200 section 5).
const minMTU = 1280

// DefaultIfConfig returns the defaults of RFC 7761 section 4.11 and an MTU
// of 1500.
func DefaultIfConfig() IfConfig {
	return IfConfig{
		HelloPeriod:         30 * time.Second,
		HelloHoldtime:       105 * time.Second,
		TriggeredHelloDelay: 5 * time.Second,
		DRPriority:          1,
		PropagationDelay:    500 * time.Millisecond,
		OverrideInterval:    2500 * time.Millisecond,
		JoinPrunePeriod:     60 * time.Second,
		JoinPruneHoldtime:   210 * time.Second,
		MTU:                 1500,
	}
}

const (
	maxHoldtime         = 0xffff * time.Second
	maxPropagationDelay = 0x7fff * time.Millisecond
	maxOverrideInterval = 0xffff * time.Millisecond
)

// Validate reports every bad value, each named by its field, joined with
// errors.Join; nil means the configuration can be used.
func (c IfConfig) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("pim: %s: "+format, append([]any{field}, args...)...))
	}
	if c.HelloPeriod < time.Second || c.HelloPeriod > maxHoldtime {
		bad("HelloPeriod", "%v is not in [1s, %v]", c.HelloPeriod, maxHoldtime)
	}
	switch {
	case c.HelloHoldtime%time.Second != 0 || c.HelloHoldtime < time.Second || c.HelloHoldtime > maxHoldtime:
		bad("HelloHoldtime", "%v is not whole seconds in [1s, %v] (the option carries 16 bits of seconds)", c.HelloHoldtime, maxHoldtime)
	case c.HelloHoldtime <= c.HelloPeriod:
		bad("HelloHoldtime", "%v must be more than HelloPeriod %v, or neighbors time us out between Hellos", c.HelloHoldtime, c.HelloPeriod)
	}
	if c.TriggeredHelloDelay < 0 || c.TriggeredHelloDelay > c.HelloPeriod {
		bad("TriggeredHelloDelay", "%v is not in [0, HelloPeriod %v]", c.TriggeredHelloDelay, c.HelloPeriod)
	}
	if c.PropagationDelay%time.Millisecond != 0 || c.PropagationDelay < 0 || c.PropagationDelay > maxPropagationDelay {
		bad("PropagationDelay", "%v is not whole milliseconds in [0, %v] (15 bits in the LAN Prune Delay option)", c.PropagationDelay, maxPropagationDelay)
	}
	if c.OverrideInterval%time.Millisecond != 0 || c.OverrideInterval < 0 || c.OverrideInterval > maxOverrideInterval {
		bad("OverrideInterval", "%v is not whole milliseconds in [0, %v] (16 bits in the LAN Prune Delay option)", c.OverrideInterval, maxOverrideInterval)
	}
	if c.JoinPrunePeriod < time.Second || c.JoinPrunePeriod > maxHoldtime {
		bad("JoinPrunePeriod", "%v is not in [1s, %v]", c.JoinPrunePeriod, maxHoldtime)
	}
	switch {
	case c.JoinPruneHoldtime%time.Second != 0 || c.JoinPruneHoldtime < time.Second || c.JoinPruneHoldtime > maxHoldtime:
		bad("JoinPruneHoldtime", "%v is not whole seconds in [1s, %v] (the field carries 16 bits of seconds)", c.JoinPruneHoldtime, maxHoldtime)
	case c.JoinPruneHoldtime <= c.JoinPrunePeriod:
		bad("JoinPruneHoldtime", "%v must be more than JoinPrunePeriod %v, or upstream state expires between refreshes", c.JoinPruneHoldtime, c.JoinPrunePeriod)
	}
	if c.MTU < minMTU || c.MTU > 0xffff+ipv6HeaderLen {
		bad("MTU", "%d is not in [%d, %d]", c.MTU, minMTU, 0xffff+ipv6HeaderLen)
	}
	return errors.Join(errs...)
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
		cp.Groups = slices.Clone(cp.Groups)
		if len(cp.Groups) == 0 {
			cp.Groups = []netip.Prefix{allGroups}
		}
		for i, g := range cp.Groups {
			cp.Groups[i] = g.Masked()
		}
		c.CandidateRP = &cp
	}
	return c
}
