package pim

import (
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
