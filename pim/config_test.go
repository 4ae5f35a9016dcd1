package pim

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pim6sd/pim6sd/internal/timerq"
)

func TestIfConfigValidate(t *testing.T) {
	if err := DefaultIfConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, tc := range []struct {
		field string
		mod   func(*IfConfig)
	}{
		{"HelloPeriod", func(c *IfConfig) { c.HelloPeriod = 0 }},
		{"HelloHoldtime", func(c *IfConfig) { c.HelloHoldtime = 90500 * time.Millisecond }},
		{"HelloHoldtime", func(c *IfConfig) { c.HelloHoldtime = 65536 * time.Second }},
		{"HelloHoldtime", func(c *IfConfig) { c.HelloHoldtime = 30 * time.Second }},
		{"TriggeredHelloDelay", func(c *IfConfig) { c.TriggeredHelloDelay = -1 }},
		{"TriggeredHelloDelay", func(c *IfConfig) { c.TriggeredHelloDelay = time.Minute }},
		{"PropagationDelay", func(c *IfConfig) { c.PropagationDelay = 32768 * time.Millisecond }},
		{"PropagationDelay", func(c *IfConfig) { c.PropagationDelay = 1500 * time.Microsecond }},
		{"OverrideInterval", func(c *IfConfig) { c.OverrideInterval = 65536 * time.Millisecond }},
		{"JoinPrunePeriod", func(c *IfConfig) { c.JoinPrunePeriod = time.Millisecond }},
		{"JoinPruneHoldtime", func(c *IfConfig) { c.JoinPruneHoldtime = 60 * time.Second }},
		{"JoinPruneHoldtime", func(c *IfConfig) { c.JoinPruneHoldtime = 0 }},
		{"MTU", func(c *IfConfig) { c.MTU = 1279 }},
	} {
		c := DefaultIfConfig()
		tc.mod(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.field+":") {
			t.Errorf("%s: error %v", tc.field, err)
		}
	}
	// Edges that are fine.
	c := DefaultIfConfig()
	c.HelloHoldtime, c.JoinPruneHoldtime = 65535*time.Second, 65535*time.Second
	c.TriggeredHelloDelay, c.PropagationDelay, c.OverrideInterval = 0, 0, 0
	c.MTU = 1280
	if err := c.Validate(); err != nil {
		t.Errorf("edges: %v", err)
	}
	// Several errors are all reported.
	c = IfConfig{}
	if n := strings.Count(c.Validate().Error(), "\n") + 1; n < 5 {
		t.Errorf("zero config: %d errors", n)
	}
}

func TestConfigValidate(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "Rand") {
		t.Errorf("no Rand: %v", err)
	}
	c.Rand = constRand(0)
	if err := c.Validate(); err != nil {
		t.Errorf("defaults with Rand: %v", err)
	}
	c.SSMRange = []netip.Prefix{netip.MustParsePrefix("2001:db8::/32")}
	c.MaxRoutes, c.MaxNeighbors = 0, 0
	err := c.Validate()
	for _, f := range []string{"SSMRange[0]", "MaxRoutes", "MaxNeighbors"} {
		if err == nil || !strings.Contains(err.Error(), f) {
			t.Errorf("%s not reported: %v", f, err)
		}
	}
	if _, err := New(nil, c); err == nil {
		t.Error("New accepted a bad config")
	}
	if len(DefaultSSMRange()) != 16 || DefaultSSMRange()[14].String() != "ff3e::/32" {
		t.Errorf("SSM range %v", DefaultSSMRange())
	}
}

func TestAddInterfaceChecks(t *testing.T) {
	r := newRouter(t)
	if _, err := r.AddInterface(tR, 9, "x", addr("2001:db8::1"), nil, DefaultIfConfig()); err == nil {
		t.Error("global address accepted as link-local")
	}
	if _, err := r.AddInterface(tR, 0, "x", selfX, nil, DefaultIfConfig()); err == nil {
		t.Error("index 0 accepted")
	}
	if _, err := r.AddInterface(tR, 9, "x", selfX, nil, IfConfig{}); err == nil {
		t.Error("bad config accepted")
	}
	// Adding an existing interface updates it.
	acts, err := r.AddInterface(at(1), ifD, "eth2", addr("fe80::d:9"), nil, DefaultIfConfig())
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "re-add", []string{"hello(2) from fe80::d:1 ht=0", "dr(2) fe80::d:9 self=true"}, render(acts))
}

// TestConfigValidateASM: the RP mappings and the ASM timers are checked,
// each error naming its field.
func TestConfigValidateASM(t *testing.T) {
	for _, tc := range []struct {
		field string
		mod   func(*Config)
	}{
		{"RPs[0].Addr", func(c *Config) { c.RPs = []StaticRP{{Addr: addr("fe80::1")}} }},
		{"RPs[0].Groups[1]", func(c *Config) {
			c.RPs = []StaticRP{{Addr: rpA, Groups: []netip.Prefix{netip.MustParsePrefix("ff00::/8"), netip.MustParsePrefix("2001:db8::/32")}}}
		}},
		{"KeepalivePeriod", func(c *Config) { c.KeepalivePeriod = 0 }},
		{"RegisterSuppressionTime", func(c *Config) { c.RegisterSuppressionTime = time.Second }},
		{"RegisterProbeTime", func(c *Config) { c.RegisterProbeTime = 30 * time.Second }},
		{"AssertTime", func(c *Config) { c.AssertTime = 3 * time.Second }},
		{"ActivityInterval", func(c *Config) { c.ActivityInterval = 0 }},
		{"ActivityInterval", func(c *Config) { c.ActivityInterval = 71 * time.Second }},
		{"MaxRegisterRate", func(c *Config) { c.MaxRegisterRate = -1 }},
	} {
		c := testConfig(constRand(0))
		tc.mod(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.field+":") {
			t.Errorf("%s: error %v", tc.field, err)
		}
	}
	diff(t, "policies", []string{"first-packet", "never", "64000bps"},
		[]string{SPTPolicy{}.String(), SPTPolicy{Never: true}.String(), SPTPolicy{Rate: 64000}.String()})
	// New keeps its own copy of the RPs.
	c := testConfig(constRand(0))
	c.RPs = []StaticRP{{Addr: rpA, Groups: []netip.Prefix{netip.MustParsePrefix("ff0e::/16")}}}
	r, err := New(new(timerq.IDs), c)
	if err != nil {
		t.Fatal(err)
	}
	c.RPs[0].Groups[0] = netip.MustParsePrefix("ff05::/16")
	if got, ok := r.RP(gA); !ok || got != rpA {
		t.Errorf("RP(G) = %v %v after the caller changed its slice", got, ok)
	}
}

// fieldErrors returns what Validate said, as "Field: message" with the
// other fields named by their Go paths, checking that each is a
// *FieldError.
func fieldErrors(t *testing.T, err error) []string {
	t.Helper()
	var out []string
	if err == nil {
		return out
	}
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		fe, ok := e.(*FieldError)
		if !ok {
			t.Fatalf("%T is not a *FieldError: %v", e, e)
		}
		out = append(out, fe.Field+": "+fe.Message(nil))
	}
	return out
}

// TestIfConfigMessages has each rule of IfConfig.Validate with its exact
// message: these are what a configuration file's user reads (conf names
// the fields by their keys).
func TestIfConfigMessages(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*IfConfig)
		want []string
	}{
		{"period below 1s", func(c *IfConfig) { c.HelloPeriod, c.TriggeredHelloDelay = 500*time.Millisecond, 400*time.Millisecond }, []string{
			"HelloPeriod: 500ms is less than 1s",
		}},
		{"period above the largest holdtime", func(c *IfConfig) { c.JoinPrunePeriod = 70000 * time.Second }, []string{
			"JoinPrunePeriod: 19h26m40s is more than 65535s, the largest holdtime",
			"JoinPruneHoldtime: 3m30s must be more than JoinPrunePeriod 19h26m40s, or upstream state expires between refreshes",
		}},
		{"holdtime not above the period", func(c *IfConfig) { c.HelloHoldtime = 30 * time.Second }, []string{
			"HelloHoldtime: 30s must be more than HelloPeriod 30s, or neighbors time us out between Hellos",
		}},
		{"holdtime above 16 bits", func(c *IfConfig) { c.JoinPruneHoldtime = 70000 * time.Second }, []string{
			"JoinPruneHoldtime: 19h26m40s is more than 65535s, the largest Join/Prune Holdtime (65535s means never expire)",
		}},
		{"holdtime not whole seconds", func(c *IfConfig) { c.HelloHoldtime = 100500 * time.Millisecond }, []string{
			"HelloHoldtime: 1m40.5s is not a whole number of seconds, the unit of the Hello Holdtime",
		}},
		{"triggered delay", func(c *IfConfig) { c.TriggeredHelloDelay = time.Minute }, []string{
			"TriggeredHelloDelay: 1m0s is more than HelloPeriod 30s",
		}},
		{"LAN Prune Delay", func(c *IfConfig) { c.PropagationDelay, c.OverrideInterval = 33*time.Second, 1500*time.Microsecond }, []string{
			"PropagationDelay: 33s is more than 32.767s, the largest the LAN Prune Delay option can carry",
			"OverrideInterval: 1.5ms is not a whole number of milliseconds, the unit of the LAN Prune Delay option",
		}},
		{"negative", func(c *IfConfig) { c.TriggeredHelloDelay, c.OverrideInterval = -1, -1 }, []string{
			"TriggeredHelloDelay: -1ns is negative",
			"OverrideInterval: -1ns is negative",
		}},
		{"MTU", func(c *IfConfig) { c.MTU = 1279 }, []string{"MTU: 1279 is not in 1280..65575"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultIfConfig()
			tt.mod(&c)
			diff(t, "errors", tt.want, fieldErrors(t, c.Validate()))
		})
	}
}

// TestConfigMessages has each rule of Config.Validate with its exact
// message.
func TestConfigMessages(t *testing.T) {
	p := netip.MustParsePrefix
	crp := func(c *Config) *CandidateRP {
		r := DefaultCandidateRP()
		r.Addr = selfG
		c.CandidateRP = &r
		return c.CandidateRP
	}
	tests := []struct {
		name string
		mod  func(*Config)
		want []string
	}{
		{"no Rand", func(c *Config) { c.Rand = nil }, []string{"Rand: required (the engine draws no random numbers of its own)"}},
		{"prefixes", func(c *Config) {
			c.SSMRange = []netip.Prefix{p("2001:db8::/32"), p("ff3e::1/32"), p("ff00::/4")}
			c.RPs = []StaticRP{{Addr: rpA, Groups: []netip.Prefix{p("ff0e::/16"), p("10.0.0.0/8")}}}
		}, []string{
			"SSMRange[0]: 2001:db8::/32 is not an IPv6 multicast prefix (ff00::/8 or longer)",
			"SSMRange[1]: ff3e::1/32 has bits set beyond its length: write ff3e::/32",
			"SSMRange[2]: ff00::/4 is not an IPv6 multicast prefix (ff00::/8 or longer)",
			"RPs[0].Groups[1]: 10.0.0.0/8 is not an IPv6 multicast prefix (ff00::/8 or longer)",
		}},
		{"addresses", func(c *Config) {
			c.RPs = []StaticRP{{Addr: addr("fe80::1")}, {Addr: addr("2001:db8::1%eth0")}, {}}
			c.CandidateBSR = &CandidateBSR{Addr: addr("::1")}
			c.CandidateRP = &CandidateRP{Addr: addr("2001:db8::1%eth0"), Interval: time.Minute, Holdtime: 150 * time.Second}
		}, []string{
			"RPs[0].Addr: fe80::1 is not a global unicast IPv6 address",
			"RPs[1].Addr: 2001:db8::1%eth0 has a zone: a global address takes none",
			"RPs[2].Addr: required: the RP's global unicast address",
			"CandidateBSR.Addr: ::1 is not a global unicast IPv6 address",
			"CandidateRP.Addr: 2001:db8::1%eth0 has a zone: a global address takes none",
		}},
		{"candidates need an address", func(c *Config) {
			c.CandidateBSR = &CandidateBSR{}
			crp(c).Addr = netip.Addr{}
		}, []string{
			"CandidateBSR.Addr: required for a Candidate-BSR: a global unicast address of this router",
			"CandidateRP.Addr: required for a Candidate-RP: a global unicast address of this router",
		}},
		{"timers", func(c *Config) {
			c.KeepalivePeriod, c.RegisterSuppressionTime, c.RegisterProbeTime = 70000*time.Second, 60*time.Second, 30*time.Second
			c.AssertTime, c.BootstrapPeriod = 3500*time.Millisecond, 16384*time.Second
		}, []string{
			"KeepalivePeriod: 19h26m40s is more than 65535s",
			"RegisterProbeTime: 30s must be less than half of RegisterSuppressionTime 1m0s (RFC 7761 4.4.1)",
			"AssertTime: 3.5s is less than 4s: the winner asserts again Assert_Override_Interval (3s) before it ends (RFC 7761 4.11)",
			"BootstrapPeriod: 4h33m4s is more than 16383s, the largest Bootstrap period",
		}},
		{"counts", func(c *Config) {
			c.MaxRoutes, c.MaxNeighbors, c.MaxRegisterRate, c.MaxEmbeddedRPGroups, c.MaxRPSet = 0, 0, -1, -1, 0
		}, []string{
			"MaxRegisterRate: -1 must be at least 0",
			"MaxRoutes: 0 must be at least 1",
			"MaxNeighbors: 0 must be at least 1",
			"MaxEmbeddedRPGroups: -1 must be at least 0",
			"MaxRPSet: 0 must be at least 1",
		}},
		{"hash mask", func(c *Config) { c.CandidateBSR = &CandidateBSR{Addr: selfG, HashMaskLen: 129} }, []string{
			"CandidateBSR.HashMaskLen: 129 is more than 128",
		}},
		{"candidate-RP interval", func(c *Config) { r := crp(c); r.Interval, r.Holdtime = 500*time.Millisecond, 2*time.Second }, []string{
			"CandidateRP.Interval: 500ms is less than 1s",
		}},
		{"candidate-RP holdtime not above the interval", func(c *Config) { crp(c).Holdtime = time.Minute }, []string{
			"CandidateRP.Holdtime: 1m0s must be more than CandidateRP.Interval 1m0s, or the RP expires between advertisements",
		}},
		{"candidate-RP holdtime above 16 bits", func(c *Config) { crp(c).Holdtime = 70000 * time.Second }, []string{
			"CandidateRP.Holdtime: 19h26m40s is more than 65535s, the largest Holdtime of a Candidate-RP-Advertisement",
		}},
		{"candidate-RP holdtime not whole seconds", func(c *Config) { crp(c).Holdtime = 150500 * time.Millisecond }, []string{
			"CandidateRP.Holdtime: 2m30.5s is not a whole number of seconds, the unit of the Holdtime",
		}},
		{"candidate-RP groups", func(c *Config) {
			c.SSMRange = []netip.Prefix{p("ff3e::/16")}
			// ff00::/8 only contains part of the SSM range: fine.
			crp(c).Groups = []netip.Prefix{p("ff00::/8"), p("ff3e:1::/32"), p("ff0e::1/16"), p("2001::/16")}
		}, []string{
			"CandidateRP.Groups[1]: ff3e:1::/32 is in the SSM range (ff3e::/16 in SSMRange): SSM groups use no RP",
			"CandidateRP.Groups[2]: ff0e::1/16 has bits set beyond its length: write ff0e::/16",
			"CandidateRP.Groups[3]: 2001::/16 is not an IPv6 multicast prefix (ff00::/8 or longer)",
		}},
		{"candidate-RP too many groups", func(c *Config) {
			r := crp(c)
			r.Groups = nil
			for i := range 256 {
				r.Groups = append(r.Groups, netip.PrefixFrom(netip.AddrFrom16([16]byte{0xff, 0x0e, byte(i)}), 24))
			}
		}, []string{"CandidateRP.Groups: 256 prefixes: at most 255 fit in a Candidate-RP-Advertisement"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testConfig(constRand(0))
			tt.mod(&c)
			diff(t, "errors", tt.want, fieldErrors(t, c.Validate()))
		})
	}
}

// TestConfigEdges checks values at the edges of each range that are
// accepted.
func TestConfigEdges(t *testing.T) {
	c := testConfig(constRand(0))
	c.KeepalivePeriod, c.RegisterSuppressionTime, c.RegisterProbeTime = 3*time.Second, 65535*time.Second, time.Second
	c.AssertTime, c.BootstrapPeriod, c.MaxRegisterRate, c.MaxEmbeddedRPGroups = 4*time.Second, 16383*time.Second, 0, 0
	c.ActivityInterval = time.Second
	c.CandidateBSR = &CandidateBSR{Addr: addr("::2"), HashMaskLen: 128}
	c.CandidateRP = &CandidateRP{Addr: addr("fd00::1"), Interval: 65534 * time.Second, Holdtime: 65535 * time.Second}
	c.RPs = []StaticRP{{Addr: addr("fd00::2"), Groups: []netip.Prefix{netip.MustParsePrefix("ff00::/8"), netip.MustParsePrefix("ff0e::1/128")}}}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}

// TestFieldError checks what a caller takes apart: Validate's error is a
// join of *FieldError, each with its field, the fields its message names
// and the message with those named as the caller says.
func TestFieldError(t *testing.T) {
	c := DefaultIfConfig()
	c.HelloHoldtime, c.MTU = 20*time.Second, 0
	err := c.Validate()
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("errors.As(%v) found no *FieldError", err)
	}
	diff(t, "first error", []any{"HelloHoldtime", []string{"HelloPeriod"}}, []any{fe.Field, fe.Refs()})
	keys := map[string]string{"HelloPeriod": "hello-period"}
	diff(t, "named", "20s must be more than hello-period 30s, or neighbors time us out between Hellos",
		fe.Message(func(f string) string { return keys[f] }))
	diff(t, "Error", "pim: HelloHoldtime: 20s must be more than HelloPeriod 30s, or neighbors time us out between Hellos", fe.Error())
	diff(t, "all", []string{
		"pim: HelloHoldtime: 20s must be more than HelloPeriod 30s, or neighbors time us out between Hellos",
		"pim: MTU: 0 is not in 1280..65575",
	}, strings.Split(err.Error(), "\n"))
}

// TestDerive checks the values derived from others: the holdtimes from
// their periods (3.5 times, rounded up to a whole second) and only where
// they are zero, and the defaults built with them.
func TestDerive(t *testing.T) {
	got := IfConfig{HelloPeriod: 3 * time.Second, JoinPrunePeriod: 10 * time.Second, HelloHoldtime: 7 * time.Second}.Derive()
	diff(t, "IfConfig", []time.Duration{7 * time.Second, 35 * time.Second}, []time.Duration{got.HelloHoldtime, got.JoinPruneHoldtime})
	got = IfConfig{HelloPeriod: 3100 * time.Millisecond}.Derive()
	diff(t, "rounded up", 11*time.Second, got.HelloHoldtime)
	d := DefaultIfConfig()
	diff(t, "default holdtimes (RFC 7761 4.11)", []time.Duration{105 * time.Second, 210 * time.Second}, []time.Duration{d.HelloHoldtime, d.JoinPruneHoldtime})

	diff(t, "CandidateRP", []time.Duration{75 * time.Second, 4 * time.Second, 9 * time.Second}, []time.Duration{
		CandidateRP{Interval: 30 * time.Second}.Derive().Holdtime,
		CandidateRP{Interval: 1500 * time.Millisecond}.Derive().Holdtime,
		CandidateRP{Interval: 30 * time.Second, Holdtime: 9 * time.Second}.Derive().Holdtime,
	})
	diff(t, "DefaultCandidateRP", CandidateRP{Priority: 192, Interval: 60 * time.Second, Holdtime: 150 * time.Second, Groups: []netip.Prefix{allGroups}}, DefaultCandidateRP())
	diff(t, "DefaultCandidateBSR", CandidateBSR{Priority: 64, HashMaskLen: 126}, DefaultCandidateBSR())
	c := testConfig(constRand(0))
	b, r := DefaultCandidateBSR(), DefaultCandidateRP()
	b.Addr, r.Addr = selfG, selfG
	c.CandidateBSR, c.CandidateRP = &b, &r
	if err := c.Validate(); err != nil {
		t.Errorf("default candidacies: %v", err)
	}
}
