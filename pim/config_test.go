package pim

import (
	"net/netip"
	"strings"
	"testing"
	"time"
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
