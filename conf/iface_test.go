package conf

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pim6sd/pim6sd/mld"
	"github.com/pim6sd/pim6sd/pim"
)

// TestInterfaceRun checks Enabled, and whether Engines says each protocol
// runs, for default-interfaces all and none and the enable switches.
func TestInterfaceRun(t *testing.T) {
	entries := `
[[interface]]
name = "plain"
[[interface]]
name = "off"
enable = false
[[interface]]
name = "pimonly"
mld.enable = false
[[interface]]
name = "stub"
pim.enable = false
[[interface]]
name = "on"
enable = true
`
	type run struct{ enabled, ineligible, mld, pim bool }
	tests := []struct {
		name   string
		doc    string
		ifaces map[string]run
	}{
		{
			name: "no file",
			ifaces: map[string]run{
				"eth9": {enabled: true, mld: true, pim: true},
			},
		},
		{
			name: "all",
			doc:  "[global]\ndefault-interfaces = \"all\"\n" + entries,
			ifaces: map[string]run{
				"eth9":    {enabled: true, mld: true, pim: true},
				"plain":   {enabled: true, mld: true, pim: true},
				"on":      {enabled: true, mld: true, pim: true},
				"off":     {},
				"pimonly": {enabled: true, pim: true},
				"stub":    {enabled: true, mld: true},
			},
		},
		{
			name: "none",
			doc:  "[global]\ndefault-interfaces = \"none\"\n" + entries,
			ifaces: map[string]run{
				"eth9":    {},
				"plain":   {enabled: true, mld: true, pim: true},
				"on":      {enabled: true, mld: true, pim: true},
				"off":     {},
				"pimonly": {enabled: true, pim: true},
				"stub":    {enabled: true, mld: true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, tt.doc)
			for name, want := range tt.ifaces {
				e := c.Engines(Link{Name: name})
				got := run{
					enabled:    c.Enabled(name, true),
					ineligible: c.Enabled(name, false),
					mld:        e.RunMLD,
					pim:        e.RunPIM,
				}
				if _, runMLD := c.InterfaceMLD(name); runMLD != e.RunMLD {
					t.Errorf("%s: InterfaceMLD says %v, Engines %v", name, runMLD, e.RunMLD)
				}
				if got != want {
					t.Errorf("%s: got %+v, want %+v", name, got, want)
				}
			}
		})
	}
}

// TestInterfaceSettings checks precedence: interface override > section >
// the engine's default, and derived values derived per interface.
func TestInterfaceSettings(t *testing.T) {
	c := mustParse(t, `
[global]
ssm-range = ["ff3e::/32"]
[mld]
robustness = 3
query-response-interval = "5s"
last-listener-query-count = 4
[pim]
hello-period = "20s"
dr-priority = 5
join-prune-holdtime = "300s"

[[interface]]
name = "a"
  [interface.mld]
  version = "2"
  query-interval = "60s"
  robustness = 4
  [interface.pim]
  hello-period = "40s"
  dr-priority = 0
  join-prune-period = "100s"
[[interface]]
name = "b"
mld.startup-query-interval = "7s"
pim.hello-holdtime = "200s"
`)
	def := mld.DefaultConfig()
	tests := []struct {
		name    string
		wantMLD mld.Config
		wantPIM pim.IfConfig
	}{
		{
			name: "a",
			wantMLD: mld.Config{
				Version:                   mld.V2,           // interface
				Robustness:                4,                // interface over [mld]
				QueryInterval:             60 * time.Second, // interface
				QueryResponseInterval:     5 * time.Second,  // [mld]
				StartupQueryInterval:      15 * time.Second, // derived from the interface's query-interval
				StartupQueryCount:         4,                // derived from the interface's robustness
				LastListenerQueryInterval: time.Second,      // RFC
				LastListenerQueryCount:    4,                // [mld], not derived
				SSMRange:                  ssm("ff3e::/32"), // global
				MaxGroups:                 def.MaxGroups,    // RFC
				MaxSources:                def.MaxSources,   // RFC
			},
			wantPIM: pim.IfConfig{
				HelloPeriod:         40 * time.Second,        // interface
				HelloHoldtime:       140 * time.Second,       // derived from the interface's period
				TriggeredHelloDelay: 5 * time.Second,         // RFC
				DRPriority:          0,                       // interface over [pim]
				JoinPrunePeriod:     100 * time.Second,       // interface
				JoinPruneHoldtime:   300 * time.Second,       // [pim], not derived
				PropagationDelay:    500 * time.Millisecond,  // RFC
				OverrideInterval:    2500 * time.Millisecond, // RFC
				MTU:                 1400,                    // the link's
			},
		},
		{
			name: "b",
			wantMLD: mld.Config{
				Version:                   mld.Both,
				Robustness:                3,
				QueryInterval:             125 * time.Second,
				QueryResponseInterval:     5 * time.Second,
				StartupQueryInterval:      7 * time.Second,
				StartupQueryCount:         3,
				LastListenerQueryInterval: time.Second,
				LastListenerQueryCount:    4,
				SSMRange:                  ssm("ff3e::/32"),
				MaxGroups:                 def.MaxGroups,
				MaxSources:                def.MaxSources,
			},
			wantPIM: pim.IfConfig{
				HelloPeriod:         20 * time.Second,
				HelloHoldtime:       200 * time.Second,
				TriggeredHelloDelay: 5 * time.Second,
				DRPriority:          5,
				JoinPrunePeriod:     60 * time.Second,
				JoinPruneHoldtime:   300 * time.Second,
				PropagationDelay:    500 * time.Millisecond,
				OverrideInterval:    2500 * time.Millisecond,
				MTU:                 1400,
			},
		},
		{
			name: "not listed",
			wantMLD: mld.Config{
				Version:                   mld.Both,
				Robustness:                3,
				QueryInterval:             125 * time.Second,
				QueryResponseInterval:     5 * time.Second,
				StartupQueryInterval:      31250 * time.Millisecond,
				StartupQueryCount:         3,
				LastListenerQueryInterval: time.Second,
				LastListenerQueryCount:    4,
				SSMRange:                  ssm("ff3e::/32"),
				MaxGroups:                 def.MaxGroups,
				MaxSources:                def.MaxSources,
			},
			wantPIM: pim.IfConfig{
				HelloPeriod:         20 * time.Second,
				HelloHoldtime:       70 * time.Second,
				TriggeredHelloDelay: 5 * time.Second,
				DRPriority:          5,
				JoinPrunePeriod:     60 * time.Second,
				JoinPruneHoldtime:   300 * time.Second,
				PropagationDelay:    500 * time.Millisecond,
				OverrideInterval:    2500 * time.Millisecond,
				MTU:                 1400,
			},
		},
	}
	for _, tt := range tests {
		e := c.Engines(Link{Name: tt.name, MTU: 1400})
		if diff := cmp.Diff(tt.wantMLD, e.MLD, cmpNetip); diff != "" {
			t.Errorf("MLD of %s (-want +got):\n%s", tt.name, diff)
		}
		if err := e.MLD.Validate(); err != nil {
			t.Errorf("MLD of %s does not validate: %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.wantPIM, e.PIMInterface); diff != "" {
			t.Errorf("PIM of %s (-want +got):\n%s", tt.name, diff)
		}
		if err := e.PIMInterface.Validate(); err != nil {
			t.Errorf("PIM of %s does not validate: %v", tt.name, err)
		}
	}
	// An MTU IPv6 does not allow (or none) gives the engine's default.
	if got := c.Engines(Link{Name: "a", MTU: 1279}).PIMInterface.MTU; got != pim.DefaultIfConfig().MTU {
		t.Errorf("MTU 1279 gives %d", got)
	}
	// The returned SSM range is a copy.
	e := c.Engines(Link{Name: "a"})
	e.MLD.SSMRange[0] = ssm("ff05::/16")[0]
	e.PIM.SSMRange[0] = ssm("ff05::/16")[0]
	if c.Global.SSMRange[0] != ssm("ff3e::/32")[0] {
		t.Error("Engines shares the SSM range with the Config")
	}
}
