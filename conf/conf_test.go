package conf

import (
	"log/slog"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pim6sd/pim6sd/mld"
	"github.com/pim6sd/pim6sd/pim"
)

var cmpNetip = cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{})

const examplePath = "../etc/pim6sd.toml"

func readExample(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func mustParse(t *testing.T, doc string) *Config {
	t.Helper()
	c, err := Parse([]byte(doc), "test.toml")
	if err != nil {
		t.Fatalf("Parse:\n%v", err)
	}
	return c
}

func TestDefaultIsEmptyFile(t *testing.T) {
	for _, doc := range []string{"", "\n", "# only a comment\n", "[global]\n[mld]\n[pim]\n[limits]\n"} {
		if diff := cmp.Diff(Default(), mustParse(t, doc), cmpNetip); diff != "" {
			t.Errorf("Parse(%q) differs from Default() (-Default +Parse):\n%s", doc, diff)
		}
	}
}

// TestDefaultIsTheEngines checks that the configuration without a file
// is the engines' defaults (which cite their RFCs), for the router and for
// an interface, and lists the defaults that are the daemon's own.
func TestDefaultIsTheEngines(t *testing.T) {
	c := Default()
	e := c.Engines(Link{Name: "eth0"})
	if diff := cmp.Diff(mld.DefaultConfig(), e.MLD, cmpNetip); diff != "" {
		t.Errorf("MLD (-mld.DefaultConfig +Default):\n%s", diff)
	}
	if diff := cmp.Diff(pim.DefaultIfConfig(), e.PIMInterface); diff != "" {
		t.Errorf("PIM interface (-pim.DefaultIfConfig +Default):\n%s", diff)
	}
	if diff := cmp.Diff(pim.DefaultConfig(), e.PIM, cmpNetip, cmpopts.IgnoreFields(pim.Config{}, "Rand")); diff != "" {
		t.Errorf("PIM router (-pim.DefaultConfig +Default):\n%s", diff)
	}
	// The candidacies are off, with the engine's defaults for when they
	// are switched on.
	b, r := pim.DefaultCandidateBSR(), pim.DefaultCandidateRP()
	if diff := cmp.Diff(BSR{Priority: b.Priority, HashMaskLength: b.HashMaskLen, Period: e.PIM.BootstrapPeriod, MaxRPSet: e.PIM.MaxRPSet}, c.BSR, cmpNetip); diff != "" {
		t.Errorf("[bsr] (-engine +Default):\n%s", diff)
	}
	if diff := cmp.Diff(CandidateRP{Priority: r.Priority, Interval: r.Interval, Holdtime: r.Holdtime, Groups: r.Groups}, c.CandidateRP, cmpNetip); diff != "" {
		t.Errorf("[candidate-rp] (-engine +Default):\n%s", diff)
	}
	tests := []struct {
		name      string
		got, want any
	}{
		{"global.mrt-table (the kernel's default table)", c.Global.MRTTable, uint32(0)},
		{"global.default-interfaces", c.Global.DefaultInterfaces, AllInterfaces},
		{"global.socket", c.Global.Socket, "/var/run/pim6sd.sock"},
		{"global.dump-file", c.Global.DumpFile, "/var/run/pim6sd.dump"},
		{"global.pid-file", c.Global.PIDFile, "/var/run/pim6sd.pid"},
		{"global.log-level", c.Global.LogLevel, slog.LevelInfo},
		{"MLD and PIM run on an interface without an entry", []bool{e.RunMLD, e.RunPIM}, []bool{true, true}},
		{"derived values not set", []any{c.MLD.StartupQueryInterval, c.MLD.StartupQueryCount, c.MLD.LastListenerQueryCount, c.PIM.HelloHoldtime, c.PIM.JoinPruneHoldtime},
			[]any{time.Duration(0), 0, 0, time.Duration(0), time.Duration(0)}},
		{"no [[interface]]", len(c.Interfaces), 0},
		{"no [[rp]]", len(c.RPs), 0},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.got, cmpNetip); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

// TestExampleFile parses etc/pim6sd.toml: it equals Default except for its
// [[interface]], [[rp]], [[bsr-zone]] and [anycast-rp] examples.
func TestExampleFile(t *testing.T) {
	c, err := Load(examplePath)
	if err != nil {
		t.Fatalf("Load:\n%v", err)
	}
	wantIfaces := []Interface{
		{
			Name: "eth0", Enable: true,
			MLD: MLDOverride{Enable: true, Version: new(mld.V2), QueryInterval: new(60 * time.Second)},
			PIM: PIMOverride{Enable: true, DRPriority: new(uint32(10))},
		},
		{Name: "eth1", Enable: true, MLD: MLDOverride{Enable: true}, PIM: PIMOverride{Enable: false}},
		{Name: "eth2", Enable: false, MLD: MLDOverride{Enable: true}, PIM: PIMOverride{Enable: true}},
	}
	if diff := cmp.Diff(wantIfaces, c.Interfaces, cmpNetip); diff != "" {
		t.Errorf("example [[interface]] (-want +got):\n%s", diff)
	}
	wantRPs := []RP{{Address: netip.MustParseAddr("2001:db8::1"), Groups: []netip.Prefix{netip.MustParsePrefix("ff0e::/16")}}}
	if diff := cmp.Diff(wantRPs, c.RPs, cmpNetip); diff != "" {
		t.Errorf("example [[rp]] (-want +got):\n%s", diff)
	}
	wantZones := []BSRZone{{Range: netip.MustParsePrefix("ff15::/16"), Border: []string{"eth3"}, Priority: 64, HashMaskLength: 126}}
	if diff := cmp.Diff(wantZones, c.BSRZones, cmpNetip); diff != "" {
		t.Errorf("example [[bsr-zone]] (-want +got):\n%s", diff)
	}
	wantAnycast := AnycastRP{Enable: true, Address: netip.MustParseAddr("2001:db8::1"),
		Members: []netip.Addr{netip.MustParseAddr("2001:db8:0:1::1"), netip.MustParseAddr("2001:db8:0:2::1")}}
	if diff := cmp.Diff(wantAnycast, c.AnycastRP, cmpNetip); diff != "" {
		t.Errorf("example [anycast-rp] (-want +got):\n%s", diff)
	}
	rest := *c
	rest.Interfaces, rest.RPs, rest.BSRZones, rest.AnycastRP = nil, nil, nil, AnycastRP{}
	if diff := cmp.Diff(Default(), &rest, cmpNetip); diff != "" {
		t.Errorf("example file differs from Default() outside its examples (-Default +example):\n%s", diff)
	}
	// The comment on eth0's query-interval.
	if m, _ := c.InterfaceMLD("eth0"); m.StartupQueryInterval != 15*time.Second {
		t.Errorf("eth0 startup-query-interval = %v, want 15s", m.StartupQueryInterval)
	}
}

// TestExampleDocumentsEverySchemaKey checks that every key of every table
// appears in the example file, set or commented out, in its table, so the
// documentation cannot fall behind the code.
func TestExampleDocumentsEverySchemaKey(t *testing.T) {
	header := regexp.MustCompile(`^\s*\[\[?\s*([A-Za-z0-9_.-]+)\s*\]\]?`)
	keyLine := regexp.MustCompile(`^\s*(?:#\s*)?([A-Za-z0-9_.-]+)\s*=`)
	seen := map[string]bool{}
	table := ""
	for _, line := range strings.Split(string(readExample(t)), "\n") {
		if m := header.FindStringSubmatch(line); m != nil {
			table = m[1]
			// A table is a key of its parent table.
			if strings.Contains(table, ".") {
				seen[table] = true
			} else {
				seen["."+table] = true
			}
			continue
		}
		if m := keyLine.FindStringSubmatch(line); m != nil {
			// A dotted key such as pim.enable in [[interface]].
			k := table
			parts := strings.Split(m[1], ".")
			if len(parts) > 1 {
				k += "." + strings.Join(parts[:len(parts)-1], ".")
			}
			seen[k+"."+parts[len(parts)-1]] = true
		}
	}
	if len(schemaKeys) != len(schemaTables) {
		t.Fatalf("schemaKeys has %d tables, schemaTables %d", len(schemaKeys), len(schemaTables))
	}
	n := 0
	for _, tab := range schemaTables {
		for _, k := range schemaKeys[tab] {
			n++
			// The override tables take the keys of [mld] and [pim],
			// documented there.
			inherited := strings.TrimPrefix(tab, "interface.")
			if !seen[tab+"."+k] && !(inherited != tab && seen[inherited+"."+k]) {
				t.Errorf("key %s of %s is not in %s", k, tableName(tab), examplePath)
			}
		}
	}
	if n < 45 {
		t.Errorf("the schema has %d keys; is it all there?", n)
	}
}

// TestParseValues checks that values are decoded as documented.
func TestParseValues(t *testing.T) {
	p := netip.MustParsePrefix
	tests := []struct {
		name  string
		doc   string
		check func(*Config) (got, want any)
	}{
		{"version as integer 1", "[mld]\nversion = 1\n", func(c *Config) (any, any) { return c.MLD.Version, mld.V1 }},
		{"version as string 2", "[mld]\nversion = \"2\"\n", func(c *Config) (any, any) { return c.MLD.Version, mld.V2 }},
		{"version both", "[mld]\nversion = \"both\"\n", func(c *Config) (any, any) { return c.MLD.Version, mld.Both }},
		{"ssm-range custom, shorthand deduplicated", "[global]\nssm-range = [\"ff3e::/32\", \"FF3X::/32\", \"ff05:1::/32\"]\n", func(c *Config) (any, any) {
			return c.Global.SSMRange, append([]netip.Prefix{p("ff3e::/32")}, append(slices.DeleteFunc(mld.DefaultSSMRange(), func(x netip.Prefix) bool { return x == p("ff3e::/32") }), p("ff05:1::/32"))...)
		}},
		{"ssm-range empty", "[global]\nssm-range = []\n", func(c *Config) (any, any) { return len(c.Global.SSMRange), 0 }},
		{"mrt-table max", "[global]\nmrt-table = 4294967295\n", func(c *Config) (any, any) { return c.Global.MRTTable, uint32(4294967295) }},
		{"default-interfaces none", "[global]\ndefault-interfaces = \"none\"\n", func(c *Config) (any, any) { return c.Global.DefaultInterfaces, NoInterfaces }},
		{"pid-file empty", "[global]\npid-file = \"\"\n", func(c *Config) (any, any) { return c.Global.PIDFile, "" }},
		{"log-level debug", "[global]\nlog-level = \"debug\"\n", func(c *Config) (any, any) { return c.Global.LogLevel, slog.LevelDebug }},
		{"log-level WARN", "[global]\nlog-level = \"WARN\"\n", func(c *Config) (any, any) { return c.Global.LogLevel, slog.LevelWarn }},
		{"spt-switch never", "[pim]\nspt-switch = \"never\"\n", func(c *Config) (any, any) { return c.PIM.SPTSwitch, SPTSwitch{Never: true} }},
		{"spt-switch 64kbps", "[pim]\nspt-switch = \"64kbps\"\n", func(c *Config) (any, any) { return c.PIM.SPTSwitch, SPTSwitch{Rate: 64000} }},
		{"spt-switch 1500bps", "[pim]\nspt-switch = \"1500bps\"\n", func(c *Config) (any, any) { return c.PIM.SPTSwitch.String(), "1500bps" }},
		{"spt-switch 2mbps", "[pim]\nspt-switch = \"2mbps\"\n", func(c *Config) (any, any) { return c.PIM.SPTSwitch.String(), "2mbps" }},
		{"spt-switch 3gbps", "[pim]\nspt-switch = \"3gbps\"\n", func(c *Config) (any, any) { return c.PIM.SPTSwitch.Rate, uint64(3e9) }},
		{"derived values follow [mld]", "[mld]\nrobustness = 3\nquery-interval = \"100s\"\n", func(c *Config) (any, any) {
			m, _ := c.InterfaceMLD("x")
			return []any{m.StartupQueryInterval, m.StartupQueryCount, m.LastListenerQueryCount}, []any{25 * time.Second, 3, 3}
		}},
		{"derived values not stored", "[mld]\nrobustness = 3\n", func(c *Config) (any, any) {
			return []any{c.MLD.StartupQueryInterval, c.MLD.StartupQueryCount, c.MLD.LastListenerQueryCount}, []any{time.Duration(0), 0, 0}
		}},
		{"holdtimes follow [pim], rounded up", "[pim]\nhello-period = \"3s\"\ntriggered-hello-delay = \"2s\"\njoin-prune-period = \"10s\"\n", func(c *Config) (any, any) {
			p := c.Engines(Link{Name: "x"}).PIMInterface
			return []any{p.HelloHoldtime, p.JoinPruneHoldtime}, []any{11 * time.Second, 35 * time.Second}
		}},
		{"holdtime 65535s (never expire)", "[pim]\nhello-holdtime = \"65535s\"\njoin-prune-holdtime = \"65535s\"\n", func(c *Config) (any, any) {
			return c.PIM.HelloHoldtime, 65535 * time.Second
		}},
		{"dr-priority 0 and max", "[pim]\ndr-priority = 0\n[[interface]]\nname = \"a\"\npim.dr-priority = 4294967295\n", func(c *Config) (any, any) {
			a, b := c.Engines(Link{Name: "a"}).PIMInterface, c.Engines(Link{Name: "b"}).PIMInterface
			return []uint32{a.DRPriority, b.DRPriority}, []uint32{4294967295, 0}
		}},
		{"rp groups default", "[[rp]]\naddress = \"2001:db8::9\"\n", func(c *Config) (any, any) {
			return c.RPs, []RP{{Address: netip.MustParseAddr("2001:db8::9"), Groups: []netip.Prefix{p("ff00::/8")}}}
		}},
		{"rp unique local address", "[[rp]]\naddress = \"fd00::1\"\ngroups = [\"ff0e::/16\", \"ff05::/16\"]\n", func(c *Config) (any, any) {
			return c.RPs, []RP{{Address: netip.MustParseAddr("fd00::1"), Groups: []netip.Prefix{p("ff0e::/16"), p("ff05::/16")}}}
		}},
		{"inline array of interface tables", "interface = [{name = \"a\"}, {name = \"b\", enable = false}]\n", func(c *Config) (any, any) {
			return []bool{c.Enabled("a", true), c.Enabled("b", true)}, []bool{true, false}
		}},
		{"limits", "[limits]\nmax-routes = 10\nmax-neighbors-per-interface = 2\n", func(c *Config) (any, any) {
			return c.Limits, Limits{10, 2}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, want := tt.check(mustParse(t, tt.doc))
			if diff := cmp.Diff(want, got, cmpNetip); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSPTSwitchString(t *testing.T) {
	for _, s := range []string{"first-packet", "never", "1bps", "1500bps", "64kbps", "1500kbps", "2mbps", "3gbps"} {
		sw, ok := parseSPTSwitch(s)
		if !ok || sw.String() != s {
			t.Errorf("parseSPTSwitch(%q) = %+v, %v; String %q", s, sw, ok, sw.String())
		}
	}
	for _, s := range []string{"", "0bps", "fast", "64 kbps", "-1bps", "99999999999999999999bps", "18446744073709552gbps"} {
		if sw, ok := parseSPTSwitch(s); ok {
			t.Errorf("parseSPTSwitch(%q) = %+v, want an error", s, sw)
		}
	}
}
