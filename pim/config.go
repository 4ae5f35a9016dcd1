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
	// section 1, RFC 7761 section 4.8): the groups this engine routes in
	// this stage. Join/Prune entries and listener updates for other groups
	// are counted and ignored.
	SSMRange []netip.Prefix
	// MaxRoutes is the most (S,G) entries the router keeps.
	MaxRoutes int
	// MaxNeighbors is the most PIM neighbors per interface.
	MaxNeighbors int
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
// (which the caller must supply): the SSM range of RFC 4607, 65536 (S,G)
// entries and 128 neighbors per interface.
func DefaultConfig() Config {
	return Config{SSMRange: DefaultSSMRange(), MaxRoutes: 65536, MaxNeighbors: 128}
}

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
	if c.MaxRoutes < 1 {
		errs = append(errs, fmt.Errorf("pim: MaxRoutes: %d must be at least 1", c.MaxRoutes))
	}
	if c.MaxNeighbors < 1 {
		errs = append(errs, fmt.Errorf("pim: MaxNeighbors: %d must be at least 1", c.MaxNeighbors))
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
	return c
}
