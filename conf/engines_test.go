package conf

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pim6sd/pim6sd/pim"
)

// rpDiscovery is the part of pim.Config that RP discovery sets.
type rpDiscovery struct {
	RPs                 []pim.StaticRP
	CandidateBSR        *pim.CandidateBSR
	CandidateRP         *pim.CandidateRP
	BootstrapPeriod     time.Duration
	EmbeddedRP          bool
	MaxEmbeddedRPGroups int
	MaxRPSet            int
}

func rpDiscoveryOf(pc pim.Config) rpDiscovery {
	return rpDiscovery{
		RPs:                 pc.RPs,
		CandidateBSR:        pc.CandidateBSR,
		CandidateRP:         pc.CandidateRP,
		BootstrapPeriod:     pc.BootstrapPeriod,
		EmbeddedRP:          pc.EmbeddedRP,
		MaxEmbeddedRPGroups: pc.MaxEmbeddedRPGroups,
		MaxRPSet:            pc.MaxRPSet,
	}
}

// mapPIM is the PIM router's configuration that Engines builds, with the
// randomness the daemon adds.
func mapPIM(c *Config) pim.Config {
	pc := c.Engines(Link{}).PIM
	pc.Rand = func() uint32 { return 4 }
	return pc
}

// TestEnginesPIMTimers maps the router-wide [pim] values and [limits],
// and the counter interval that follows keepalive-period.
func TestEnginesPIMTimers(t *testing.T) {
	c := mustParse(t, `
[global]
ssm-range = ["ff3e::/32"]
[pim]
keepalive-period = "15s"
register-suppression-time = "40s"
register-probe-time = "3s"
assert-time = "100s"
spt-switch = "64kbps"
[limits]
max-routes = 10
max-neighbors-per-interface = 3
`)
	pc := mapPIM(c)
	if err := pc.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	got := []any{pc.SSMRange, pc.KeepalivePeriod, pc.RegisterSuppressionTime, pc.RegisterProbeTime, pc.AssertTime,
		pc.SPT, pc.ActivityInterval, pc.MaxRoutes, pc.MaxNeighbors}
	want := []any{[]netip.Prefix{netip.MustParsePrefix("ff3e::/32")}, 15 * time.Second, 40 * time.Second, 3 * time.Second, 100 * time.Second,
		pim.SPTPolicy{Rate: 64000}, 5 * time.Second, 10, 3}
	if diff := cmp.Diff(want, got, cmpNetip); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if d := mapPIM(Default()).ActivityInterval; d != pim.DefaultConfig().ActivityInterval {
		t.Errorf("default activity interval %v", d)
	}
}

// TestEnginesPIMExample maps etc/pim6sd.toml: the engine accepts it, and RP
// discovery is the engine's default with the example's static RP.
func TestEnginesPIMExample(t *testing.T) {
	c, err := Load(examplePath)
	if err != nil {
		t.Fatalf("Load:\n%v", err)
	}
	pc := mapPIM(c)
	if err := pc.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	want := rpDiscoveryOf(pim.DefaultConfig())
	want.RPs = []pim.StaticRP{{Addr: netip.MustParseAddr("2001:db8::1"), Groups: []netip.Prefix{netip.MustParsePrefix("ff0e::/16")}}}
	if diff := cmp.Diff(want, rpDiscoveryOf(pc), cmpNetip); diff != "" {
		t.Errorf("RP discovery of the example (-want +got):\n%s", diff)
	}
}

// TestEnginesPIMEverything maps a file that enables every RP discovery
// feature with values other than the defaults.
func TestEnginesPIMEverything(t *testing.T) {
	c, err := Parse([]byte(`
[bsr]
candidate = true
address = "2001:db8::53"
priority = 200
hash-mask-length = 120
period = "30s"
max-rp-set = 10
[candidate-rp]
enable = true
address = "2001:db8::1"
priority = 7
interval = "20s"
groups = ["ff0e::/16", "ff05::/16"]
[embedded-rp]
enable = false
max-groups = 0
[[rp]]
address = "2001:db8::2"
groups = ["ff0e:1::/32"]
override = true
[[rp]]
address = "2001:db8::3"
`), "everything.toml")
	if err != nil {
		t.Fatalf("Parse:\n%v", err)
	}
	pc := mapPIM(c)
	if err := pc.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	a, p := netip.MustParseAddr, netip.MustParsePrefix
	want := rpDiscovery{
		RPs: []pim.StaticRP{
			{Addr: a("2001:db8::2"), Groups: []netip.Prefix{p("ff0e:1::/32")}, Override: true},
			{Addr: a("2001:db8::3"), Groups: []netip.Prefix{p("ff00::/8")}},
		},
		CandidateBSR: &pim.CandidateBSR{Addr: a("2001:db8::53"), Priority: 200, HashMaskLen: 120},
		CandidateRP: &pim.CandidateRP{
			Addr: a("2001:db8::1"), Priority: 7,
			Holdtime: 50 * time.Second, // 2.5 x interval
			Interval: 20 * time.Second,
			Groups:   []netip.Prefix{p("ff0e::/16"), p("ff05::/16")},
		},
		BootstrapPeriod:     30 * time.Second,
		EmbeddedRP:          false,
		MaxEmbeddedRPGroups: 0,
		MaxRPSet:            10,
	}
	if diff := cmp.Diff(want, rpDiscoveryOf(pc), cmpNetip); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestEnginesPIMBounds checks that what conf accepts at the edges of each
// range, the engine accepts too.
func TestEnginesPIMBounds(t *testing.T) {
	docs := map[string]string{
		"lowest": `[bsr]
candidate = true
address = "::2"
priority = 0
hash-mask-length = 0
period = "1s"
max-rp-set = 1
[candidate-rp]
enable = true
address = "fd00::1"
priority = 0
interval = "1s"
holdtime = "2s"
groups = ["ff00::/8"]
[embedded-rp]
max-groups = 0
`,
		"highest": `[bsr]
candidate = true
address = "2001:db8::53"
priority = 255
hash-mask-length = 128
period = "16383s"
max-rp-set = 2147483647
[candidate-rp]
enable = true
address = "2001:db8::1"
priority = 255
interval = "65534s"
holdtime = "65535s"
groups = ["ff0e::/128"]
[embedded-rp]
max-groups = 2147483647
`,
		"derived holdtime at its limit": `[candidate-rp]
enable = true
address = "2001:db8::1"
interval = "26214s"
`,
		"fractional interval": `[candidate-rp]
enable = true
address = "2001:db8::1"
interval = "1.5s"
`,
		"disabled candidates with addresses": `[bsr]
address = "2001:db8::53"
[candidate-rp]
address = "2001:db8::1"
`,
	}
	var groups []string
	for i := range 255 {
		groups = append(groups, netip.PrefixFrom(netip.AddrFrom16([16]byte{0xff, 0x0e, byte(i)}), 24).String())
	}
	doc := "[candidate-rp]\nenable = true\naddress = \"2001:db8::1\"\ngroups = ["
	for i, g := range groups {
		if i > 0 {
			doc += ", "
		}
		doc += `"` + g + `"`
	}
	docs["255 groups"] = doc + "]\n"
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			c, err := Parse([]byte(doc), name)
			if err != nil {
				t.Fatalf("Parse:\n%v", err)
			}
			if err := mapPIM(c).Validate(); err != nil {
				t.Errorf("conf accepted it, the engine refuses it: %v", err)
			}
		})
	}
}
