package mld

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/pim6sd/pim6sd/internal/engine"
	"github.com/pim6sd/pim6sd/mld/mldmsg"
)

// Version is a set of MLD versions: the interface setting (MLDv1 only, MLDv2
// only or both) and, for one group, its compatibility mode (V1 or V2).
type Version uint8

// Versions.
const (
	V1   Version = 1
	V2   Version = 2
	Both         = V1 | V2
)

// String returns MLDv1, MLDv2 or MLDv1+MLDv2.
func (v Version) String() string {
	switch v {
	case V1:
		return "MLDv1"
	case V2:
		return "MLDv2"
	case Both:
		return "MLDv1+MLDv2"
	}
	return fmt.Sprintf("Version(%d)", uint8(v))
}

// Config is the MLD setting of one interface. The names are those of RFC
// 3810 section 9; DefaultConfig has the RFC's default values. Every field
// is explicit: a field derived by the RFC from another (Startup Query
// Interval from the Query Interval, the counts from the Robustness Variable)
// is set by DefaultConfig, and Derive sets it from the base value for a
// configuration that changes only that.
type Config struct {
	// Version: V1 (MLDv1 only: MLDv2 Reports are dropped, MLDv1 Queries
	// sent), V2 (MLDv2 only: MLDv1 Reports and Dones are dropped, and the
	// router never falls back to MLDv1 Queries), or Both (RFC 3810
	// section 8: MLDv2 with MLDv1 compatibility).
	Version Version
	// Robustness is the Robustness Variable (9.1). RFC 3810 says it MUST
	// NOT be zero and SHOULD NOT be one; one is accepted for links that
	// want it, zero is refused.
	Robustness int
	// QueryInterval (9.2) is the interval between General Queries.
	QueryInterval time.Duration
	// QueryResponseInterval (9.3) is the Maximum Response Delay of General
	// Queries; it must be less than QueryInterval.
	QueryResponseInterval time.Duration
	// StartupQueryInterval (9.6), default QueryInterval/4; at most
	// QueryInterval.
	StartupQueryInterval time.Duration
	// StartupQueryCount (9.7), default Robustness.
	StartupQueryCount int
	// StartupQueryResponseInterval is the Maximum Response Delay of the
	// Startup Queries: the General Queries a new interface sends (at
	// start-up, and when the daemon adds an interface again after its link
	// came back), after which forwarding waits for the listeners' answers.
	// Zero means the Query Response Interval, as RFC 3810 has it; a
	// shorter one brings the answers sooner, in a tighter burst. It is our
	// own setting: RFC 3810 has no such variable, and the timers it
	// derives from the Query Response Interval (9.4, 9.5, 9.13) keep using
	// that one.
	StartupQueryResponseInterval time.Duration
	// LastListenerQueryInterval (9.8) is the Maximum Response Delay of
	// specific Queries and the interval between their retransmissions.
	LastListenerQueryInterval time.Duration
	// LastListenerQueryCount (9.9), default Robustness.
	LastListenerQueryCount int
	// SSMRange holds the Source-Specific Multicast ranges (RFC 4607), in
	// which EXCLUDE-mode records and MLDv1 Reports are ignored (RFC 4604).
	SSMRange []netip.Prefix
	// MaxGroups is the most multicast addresses tracked on the interface.
	MaxGroups int
	// MaxSources is the most sources tracked for one multicast address.
	MaxSources int
}

// Limits of counts that the engine keeps in one octet.
const maxCount = 255

// maxV1Delay is the longest Maximum Response Delay of an MLDv1 Query: 16
// bits of milliseconds, no floating-point form (RFC 2710 section 3.4).
const maxV1Delay = 0xffff * time.Millisecond

// DefaultSSMRange returns ff30::/32 .. ff3f::/32, the SSM range FF3x::/32 of
// RFC 4607 section 1 for every scope x (engine.DefaultSSMRange, kept here
// for the packages that configure MLD).
func DefaultSSMRange() []netip.Prefix { return engine.DefaultSSMRange() }

// DefaultConfig returns the defaults of RFC 3810 section 9 (the derived
// values derived, see Derive), both versions, the SSM range of RFC 4607,
// 8192 groups per interface and 1024 sources per group.
func DefaultConfig() Config {
	return Config{
		Version:                   Both,
		Robustness:                2,
		QueryInterval:             125 * time.Second,
		QueryResponseInterval:     10 * time.Second,
		LastListenerQueryInterval: time.Second,
		SSMRange:                  DefaultSSMRange(),
		MaxGroups:                 8192,
		MaxSources:                1024,
	}.Derive()
}

// Derive returns c with the values that RFC 3810 derives from others set
// where they are zero: StartupQueryInterval to QueryInterval/4 (9.6),
// StartupQueryCount and LastListenerQueryCount to Robustness (9.7, 9.9). A
// configuration that lets these be left out uses it, so that the rules
// live here.
func (c Config) Derive() Config {
	if c.StartupQueryInterval == 0 {
		c.StartupQueryInterval = c.QueryInterval / 4
	}
	if c.StartupQueryCount == 0 {
		c.StartupQueryCount = c.Robustness
	}
	if c.LastListenerQueryCount == 0 {
		c.LastListenerQueryCount = c.Robustness
	}
	return c
}

// Validate reports every bad value as a *FieldError, joined with
// errors.Join; nil means the configuration can be used. The Field of each
// is the value's Go path in c ("QueryInterval", "SSMRange[2]").
func (c Config) Validate() error {
	var errs []error
	bad := func(field string, format string, args ...any) {
		errs = append(errs, engine.NewFieldError("mld", field, format, args...))
	}
	if c.Version != V1 && c.Version != V2 && c.Version != Both {
		bad("Version", "%d is not MLDv1 (1), MLDv2 (2) or both (3)", uint8(c.Version))
	}
	if c.Robustness < 1 || c.Robustness > maxCount {
		bad("Robustness", "%d is not in 1..%d (RFC 3810 9.1: it must not be zero)", c.Robustness, maxCount)
	}
	// The QQIC carries whole seconds: below one second it would say 0,
	// which receivers read as "use your default".
	switch {
	case c.QueryInterval < time.Second:
		bad("QueryInterval", "%v is less than 1s, the unit of the QQIC (RFC 3810 5.1.9)", c.QueryInterval)
	case c.QueryInterval > mldmsg.QueryIntervalLimit:
		bad("QueryInterval", "%v is more than %v, the largest a QQIC can carry", c.QueryInterval, mldmsg.QueryIntervalLimit)
	}
	c.checkDelay(bad, "QueryResponseInterval", c.QueryResponseInterval)
	if c.QueryResponseInterval >= c.QueryInterval && c.QueryInterval > 0 {
		bad("QueryResponseInterval", "%v must be less than %s %v (RFC 3810 9.3)", c.QueryResponseInterval, fieldRef("QueryInterval"), c.QueryInterval)
	}
	if c.StartupQueryInterval <= 0 || c.StartupQueryInterval > c.QueryInterval && c.QueryInterval > 0 {
		bad("StartupQueryInterval", "%v is not in (0, %s %v]: start-up is meant to be faster (RFC 3810 9.6)", c.StartupQueryInterval, fieldRef("QueryInterval"), c.QueryInterval)
	}
	if c.StartupQueryCount < 1 || c.StartupQueryCount > maxCount {
		bad("StartupQueryCount", "%d is not in 1..%d", c.StartupQueryCount, maxCount)
	}
	if c.StartupQueryResponseInterval != 0 {
		c.checkDelay(bad, "StartupQueryResponseInterval", c.StartupQueryResponseInterval)
		if c.StartupQueryResponseInterval > c.QueryResponseInterval && c.QueryResponseInterval > 0 {
			bad("StartupQueryResponseInterval", "%v is more than %s %v: the Startup Queries' answers are meant to come sooner", c.StartupQueryResponseInterval, fieldRef("QueryResponseInterval"), c.QueryResponseInterval)
		}
	}
	c.checkDelay(bad, "LastListenerQueryInterval", c.LastListenerQueryInterval)
	if c.LastListenerQueryCount < 1 || c.LastListenerQueryCount > maxCount {
		bad("LastListenerQueryCount", "%d is not in 1..%d", c.LastListenerQueryCount, maxCount)
	}
	for i, p := range c.SSMRange {
		field := fmt.Sprintf("SSMRange[%d]", i)
		switch {
		case !p.IsValid() || !p.Addr().Is6() || p.Addr().Is4In6() || p.Bits() < 8 || !p.Addr().IsMulticast():
			bad(field, "%v is not an IPv6 multicast prefix (ff00::/8 or longer)", p)
		case p.Masked() != p:
			bad(field, "%v has bits set beyond its length: write %v", p, p.Masked())
		}
	}
	if c.MaxGroups < 1 {
		bad("MaxGroups", "%d must be at least 1", c.MaxGroups)
	}
	if c.MaxSources < 1 {
		bad("MaxSources", "%d must be at least 1", c.MaxSources)
	}
	return errors.Join(errs...)
}

// checkDelay checks a Maximum Response Delay: at least the 1 ms unit of the
// Maximum Response Code, at most what it can carry, and at most 16 bits of
// milliseconds when MLDv1 Queries may be sent.
func (c Config) checkDelay(bad func(field, format string, args ...any), field string, d time.Duration) {
	switch {
	case d < time.Millisecond:
		bad(field, "%v is less than 1ms, the unit of the Maximum Response Code", d)
	case d > mldmsg.MaxRespDelayLimit:
		bad(field, "%v is more than %v, the largest a Maximum Response Code can carry", d, mldmsg.MaxRespDelayLimit)
	case c.Version&V1 != 0 && d > maxV1Delay:
		bad(field, "%v is more than %v, the largest an MLDv1 Query can carry (%s includes MLDv1)", d, maxV1Delay, fieldRef("Version"))
	}
}

// FieldError is a value the engine refuses (engine.FieldError): Validate
// returns them joined, and callers take them apart with errors.As.
type FieldError = engine.FieldError

// fieldRef names another field in a FieldError's message.
type fieldRef = engine.FieldRef

// isSSM reports whether g is in the configured SSM range.
func (c *Config) isSSM(g netip.Addr) bool { return engine.IsSSM(c.SSMRange, g) }

// lastListenerQueryTime is LLQT (9.10): LLQI times LLQC.
func (c *Config) lastListenerQueryTime() time.Duration {
	return c.LastListenerQueryInterval * time.Duration(c.LastListenerQueryCount)
}
