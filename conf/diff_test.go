package conf

import (
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func ssm(ps ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ps))
	for i, p := range ps {
		out[i] = netip.MustParsePrefix(p)
	}
	return out
}

func TestDiff(t *testing.T) {
	base := `
[[interface]]
name = "own"
mld.query-interval = "60s"
pim.hello-period = "10s"
[[interface]]
name = "plain"
[[interface]]
name = "stub"
pim.enable = false
[[rp]]
address = "2001:db8::1"
`
	rp := func(a string, groups ...string) RP {
		return RP{Address: netip.MustParseAddr(a), Groups: ssm(groups...)}
	}
	tests := []struct {
		name       string
		old, new   string
		want       Changes
		keys       []string // Changes.Keys
		wantString string
	}{
		{
			name:       "no change",
			old:        base,
			new:        base + "\n# a comment\n[mld]\nquery-interval = \"125s\"\n",
			want:       Changes{},
			wantString: "no change",
		},
		{
			name: "[mld] query-interval: interfaces without an override change",
			old:  base,
			new:  "[mld]\nquery-interval = \"100s\"\n" + base,
			want: Changes{
				MLDDefaults: true,
				Interfaces: []InterfaceChange{
					{Name: "plain", MLD: true},
					{Name: "stub", MLD: true},
				},
			},
			wantString: "mld.query-interval",
			keys:       []string{"mld.query-interval"},
		},
		{
			name: "[mld] startup-query-interval set: the override's derived value is replaced",
			old:  base,
			new:  "[mld]\nstartup-query-interval = \"20s\"\n" + base,
			want: Changes{
				MLDDefaults: true,
				Interfaces: []InterfaceChange{
					{Name: "own", MLD: true},
					{Name: "plain", MLD: true},
					{Name: "stub", MLD: true},
				},
			},
			keys: []string{"mld.startup-query-interval"},
		},
		{
			name: "[pim] hello-period: a stub interface does not run PIM",
			old:  base,
			new:  "[pim]\nhello-period = \"20s\"\n" + base,
			want: Changes{
				PIMDefaults: true,
				Interfaces:  []InterfaceChange{{Name: "plain", PIM: true}},
			},
			keys: []string{"pim.hello-period"},
		},
		{
			name: "interface added and removed",
			old:  base,
			new:  strings.Replace(base, `name = "plain"`, `name = "new"`+"\nenable = false", 1),
			want: Changes{
				Interfaces: []InterfaceChange{
					{Name: "new", Added: true, Enable: true, MLD: true, PIM: true},
					{Name: "plain", Removed: true},
				},
			},
			wantString: `interface "new" added; interface "plain" removed`,
			keys:       []string{`interface "new" added`, `interface "plain" removed`},
		},
		{
			name: "interface override changed",
			old:  base,
			new:  strings.Replace(base, `"10s"`, `"11s"`, 1),
			want: Changes{Interfaces: []InterfaceChange{{Name: "own", PIM: true}}},
			keys: []string{`interface "own".pim.hello-period`},
		},
		{
			name: "stub starts PIM",
			old:  base,
			new:  strings.Replace(base, "pim.enable = false", "", 1),
			want: Changes{Interfaces: []InterfaceChange{{Name: "stub", PIM: true}}},
			keys: []string{`interface "stub".pim.enable`},
		},
		{
			name: "default-interfaces",
			old:  base,
			new:  "[global]\ndefault-interfaces = \"none\"\n" + base,
			want: Changes{DefaultInterfaces: true},
			keys: []string{"global.default-interfaces"},
		},
		{
			name: "ssm-range changes every MLD interface",
			old:  base,
			new:  "[global]\nssm-range = [\"ff3e::/32\"]\n" + base,
			want: Changes{
				SSMRange:    true,
				MLDDefaults: true,
				Interfaces: []InterfaceChange{
					{Name: "own", MLD: true},
					{Name: "plain", MLD: true},
					{Name: "stub", MLD: true},
				},
			},
			keys: []string{"global.ssm-range"},
		},
		{
			name:       "rp added",
			old:        base,
			new:        base + "[[rp]]\naddress = \"2001:db8::2\"\ngroups = [\"ff0e::/16\"]\n",
			want:       Changes{RPsAdded: []RP{rp("2001:db8::2", "ff0e::/16")}},
			wantString: `rp "2001:db8::2" added`,
			keys:       []string{`rp "2001:db8::2" added`},
		},
		{
			name: "rp groups changed",
			old:  base,
			new:  base + "groups = [\"ff0e::/16\"]\n",
			want: Changes{
				RPsAdded:   []RP{rp("2001:db8::1", "ff0e::/16")},
				RPsRemoved: []RP{rp("2001:db8::1", "ff00::/8")},
			},
			keys: []string{`rp "2001:db8::1".groups`},
		},
		{
			name: "global values",
			old:  base,
			new:  "[global]\nmrt-table = 10\nsocket = \"/run/p.sock\"\npid-file = \"\"\nlog-level = \"debug\"\ndump-file = \"/tmp/d\"\ndump-file-mode = \"0640\"\n" + base,
			want: Changes{
				RestartNeeded: []string{
					"global.mrt-table 0 -> 10 (the multicast routing table is chosen at start-up)",
					`global.socket "/var/run/pim6sd.sock" -> "/run/p.sock" (the control socket is opened at start-up)`,
					`global.pid-file "/var/run/pim6sd.pid" -> "" (the pid file is written at start-up)`,
				},
				LogLevel:     true,
				DumpFile:     true,
				DumpFileMode: true,
			},
			keys: []string{"global.dump-file", "global.dump-file-mode", "global.log-level"},
		},
		{
			name:       "mrt-table needs a restart",
			old:        base,
			new:        "[global]\nmrt-table = 10\n" + base,
			want:       Changes{RestartNeeded: []string{"global.mrt-table 0 -> 10 (the multicast routing table is chosen at start-up)"}},
			wantString: "restart needed: global.mrt-table 0 -> 10 (the multicast routing table is chosen at start-up)",
		},
		{
			name:       "bsr candidate",
			old:        base,
			new:        base + "[bsr]\ncandidate = true\naddress = \"2001:db8::53\"\n",
			want:       Changes{BSR: true},
			wantString: "bsr.candidate; bsr.address",
			keys:       []string{"bsr.candidate", "bsr.address"},
		},
		{
			name: "bsr period and max-rp-set",
			old:  base + "[bsr]\nperiod = \"60s\"\n",
			new:  base + "[bsr]\nperiod = \"30s\"\nmax-rp-set = 10\n",
			want: Changes{BSR: true},
			keys: []string{"bsr.period", "bsr.max-rp-set"},
		},
		{
			name:       "candidate-rp enabled",
			old:        base,
			new:        base + "[candidate-rp]\nenable = true\naddress = \"2001:db8::1\"\n",
			want:       Changes{CandidateRP: true},
			wantString: "candidate-rp.enable; candidate-rp.address",
			keys:       []string{"candidate-rp.enable", "candidate-rp.address"},
		},
		{
			name: "candidate-rp groups",
			old:  base + "[candidate-rp]\ngroups = [\"ff0e::/16\"]\n",
			new:  base + "[candidate-rp]\ngroups = [\"ff0e::/16\", \"ff05::/16\"]\n",
			want: Changes{CandidateRP: true},
			keys: []string{"candidate-rp.groups"},
		},
		{
			name: "candidate-rp holdtime other than the derived one",
			old:  base + "[candidate-rp]\ninterval = \"60s\"\n",
			new:  base + "[candidate-rp]\ninterval = \"60s\"\nholdtime = \"151s\"\n",
			want: Changes{CandidateRP: true},
			keys: []string{"candidate-rp.holdtime"},
		},
		{
			name: "candidate-rp interval (and the derived holdtime)",
			old:  base,
			new:  base + "[candidate-rp]\ninterval = \"100s\"\n",
			want: Changes{CandidateRP: true},
			keys: []string{"candidate-rp.interval"},
		},
		{
			name:       "candidate-rp holdtime written as its derived value",
			old:        base + "[candidate-rp]\ninterval = \"40s\"\n",
			new:        base + "[candidate-rp]\ninterval = \"40s\"\nholdtime = \"100s\"\n",
			want:       Changes{},
			wantString: "no change",
		},
		{
			name:       "embedded-rp",
			old:        base,
			new:        base + "[embedded-rp]\nenable = false\n",
			want:       Changes{EmbeddedRP: true},
			wantString: "embedded-rp.enable",
			keys:       []string{"embedded-rp.enable"},
		},
		{
			name:       "embedded-rp max-groups",
			old:        base,
			new:        base + "[embedded-rp]\nmax-groups = 0\n",
			want:       Changes{EmbeddedRP: true},
			wantString: "embedded-rp.max-groups",
			keys:       []string{"embedded-rp.max-groups"},
		},
		{
			name: "rp override",
			old:  base,
			new:  base + "override = true\n",
			want: Changes{
				RPsAdded:   []RP{{Address: netip.MustParseAddr("2001:db8::1"), Groups: ssm("ff00::/8"), Override: true}},
				RPsRemoved: []RP{rp("2001:db8::1", "ff00::/8")},
			},
			wantString: `rp "2001:db8::1".override`,
			keys:       []string{`rp "2001:db8::1".override`},
		},
		{
			name:       "rp override = false is no change",
			old:        base,
			new:        base + "override = false\n",
			want:       Changes{},
			wantString: "no change",
		},
		{
			name: "every RP discovery table with the router-wide pim settings",
			old:  base,
			new: "[pim]\nkeepalive-period = \"100s\"\n[bsr]\npriority = 1\n[candidate-rp]\npriority = 1\n[embedded-rp]\nmax-groups = 1\n[limits]\nmax-routes = 5\n" +
				base + "groups = [\"ff0e::/16\"]\n",
			want: Changes{
				PIMTimers: true, BSR: true, CandidateRP: true, EmbeddedRP: true, Limits: true,
				RPsAdded:   []RP{rp("2001:db8::1", "ff0e::/16")},
				RPsRemoved: []RP{rp("2001:db8::1", "ff00::/8")},
			},
			wantString: `pim.keepalive-period; rp "2001:db8::1".groups; bsr.priority; candidate-rp.priority; embedded-rp.max-groups; limits.max-routes`,
			keys:       []string{"pim.keepalive-period", `rp "2001:db8::1".groups`, "bsr.priority", "candidate-rp.priority", "embedded-rp.max-groups", "limits.max-routes"},
		},
		{
			name:       "router-wide pim timers and limits",
			old:        base,
			new:        "[pim]\nassert-time = \"100s\"\n[limits]\nmax-routes = 5\n" + base,
			want:       Changes{PIMTimers: true, Limits: true},
			wantString: "pim.assert-time; limits.max-routes",
			keys:       []string{"pim.assert-time", "limits.max-routes"},
		},
		{
			name: "interface override removed: the interface inherits another value",
			old:  base,
			new:  strings.Replace(base, "mld.query-interval = \"60s\"\n", "", 1),
			want: Changes{Interfaces: []InterfaceChange{{Name: "own", MLD: true}}},
			keys: []string{`interface "own".mld.query-interval`},
		},
		{
			name: "interface sets a derived value",
			old:  base,
			new:  strings.Replace(base, "mld.query-interval = \"60s\"\n", "mld.query-interval = \"60s\"\nmld.startup-query-interval = \"7s\"\n", 1),
			want: Changes{Interfaces: []InterfaceChange{{Name: "own", MLD: true}}},
			keys: []string{`interface "own".mld.startup-query-interval`},
		},
		{
			name:       "interface override where MLD does not run",
			old:        base + "[[interface]]\nname = \"pimonly\"\nmld.enable = false\nmld.robustness = 3\n",
			new:        base + "[[interface]]\nname = \"pimonly\"\nmld.enable = false\nmld.robustness = 4\n",
			want:       Changes{},
			wantString: "no change",
		},
		{
			name:       "interface mld.enable",
			old:        base,
			new:        strings.Replace(base, "pim.enable = false", "pim.enable = false\nmld.enable = false", 1),
			want:       Changes{Interfaces: []InterfaceChange{{Name: "stub", MLD: true}}},
			keys:       []string{`interface "stub".mld.enable`},
			wantString: `interface "stub".mld.enable`,
		},
		{
			name: "interface enable",
			old:  base,
			new:  strings.Replace(base, `name = "plain"`, `name = "plain"`+"\nenable = false", 1),
			want: Changes{Interfaces: []InterfaceChange{{Name: "plain", Enable: true, MLD: true, PIM: true}}},
			keys: []string{`interface "plain".enable`},
		},
		{
			name: "[mld] and an interface's own value",
			old:  base,
			new:  "[pim]\nhello-period = \"20s\"\n" + strings.Replace(base, `"60s"`, `"61s"`, 1),
			want: Changes{
				PIMDefaults: true,
				Interfaces:  []InterfaceChange{{Name: "own", MLD: true}, {Name: "plain", PIM: true}},
			},
			keys:       []string{"pim.hello-period", `interface "own".mld.query-interval`},
			wantString: `pim.hello-period; interface "own".mld.query-interval`,
		},
		{
			name: "[mld] startup-query-response-interval",
			old:  base,
			new:  "[mld]\nstartup-query-response-interval = \"2s\"\n" + base,
			want: Changes{
				MLDDefaults: true,
				Interfaces: []InterfaceChange{
					{Name: "own", MLD: true},
					{Name: "plain", MLD: true},
					{Name: "stub", MLD: true},
				},
			},
			keys: []string{"mld.startup-query-response-interval"},
		},
		{
			name: "global values with a restart",
			old:  base,
			new:  "[global]\nmrt-table = 10\nlog-level = \"debug\"\n" + base,
			want: Changes{
				RestartNeeded: []string{"global.mrt-table 0 -> 10 (the multicast routing table is chosen at start-up)"},
				LogLevel:      true,
			},
			keys:       []string{"global.log-level"},
			wantString: "restart needed: global.mrt-table 0 -> 10 (the multicast routing table is chosen at start-up); global.log-level",
		},
		{
			name:       "anycast-rp added",
			old:        base,
			new:        base + "[anycast-rp]\naddress = \"2001:db8::99\"\nmembers = [\"2001:db8::1\", \"2001:db8::2\"]\n",
			want:       Changes{AnycastRP: true},
			keys:       []string{"anycast-rp added"},
			wantString: "anycast-rp added",
		},
		{
			name: "anycast-rp members",
			old:  base + "[anycast-rp]\naddress = \"2001:db8::99\"\nmembers = [\"2001:db8::1\", \"2001:db8::2\"]\n",
			new:  base + "[anycast-rp]\naddress = \"2001:db8::99\"\nmembers = [\"2001:db8::1\", \"2001:db8::3\"]\n",
			want: Changes{AnycastRP: true},
			keys: []string{"anycast-rp.members"},
		},
		{
			name: "anycast-rp removed",
			old:  base + "[anycast-rp]\naddress = \"2001:db8::99\"\nmembers = [\"2001:db8::1\", \"2001:db8::2\"]\n",
			new:  base,
			want: Changes{AnycastRP: true},
			keys: []string{"anycast-rp removed"},
		},
		{
			name:       "bsr-zone added",
			old:        base,
			new:        base + "[[bsr-zone]]\nrange = \"ff15::/16\"\n",
			want:       Changes{BSRZones: true},
			keys:       []string{`bsr-zone "ff15::/16" added`},
			wantString: `bsr-zone "ff15::/16" added`,
		},
		{
			name: "bsr-zone changed and removed",
			old:  base + "[[bsr-zone]]\nrange = \"ff15::/16\"\n[[bsr-zone]]\nrange = \"ff18::/16\"\n",
			new:  base + "[[bsr-zone]]\nrange = \"ff15::/16\"\nborder = [\"own\"]\npriority = 1\n",
			want: Changes{BSRZones: true},
			keys: []string{`bsr-zone "ff15::/16".border`, `bsr-zone "ff15::/16".priority`, `bsr-zone "ff18::/16" removed`},
		},
		{
			name: "bsr-zone order",
			old:  base + "[[bsr-zone]]\nrange = \"ff15::/16\"\n[[bsr-zone]]\nrange = \"ff18::/16\"\n",
			new:  base + "[[bsr-zone]]\nrange = \"ff18::/16\"\n[[bsr-zone]]\nrange = \"ff15::/16\"\n",
			want: Changes{BSRZones: true},
			keys: []string{"bsr-zone order"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old, new := mustParse(t, tt.old), mustParse(t, tt.new)
			ch := Diff(old, new)
			if diff := cmp.Diff(tt.want, ch, cmpNetip, cmpopts.IgnoreFields(Changes{}, "Keys")); diff != "" {
				t.Errorf("Diff (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.keys, ch.Keys); diff != "" {
				t.Errorf("Keys (-want +got):\n%s", diff)
			}
			if ch.Empty() != (len(ch.Keys) == 0 && len(ch.RestartNeeded) == 0) {
				t.Errorf("Empty() = %v with keys %q", ch.Empty(), ch.Keys)
			}
			if ch.Empty() != (tt.wantString == "no change") && tt.wantString != "" {
				t.Errorf("Empty() = %v", ch.Empty())
			}
			if tt.wantString != "" && ch.String() != tt.wantString {
				t.Errorf("String() = %q, want %q", ch.String(), tt.wantString)
			}
			if !Diff(new, new).Empty() {
				t.Errorf("Diff(new, new) = %v, want empty", Diff(new, new))
			}
		})
	}
}

// TestDiffInterfaceUnlisted checks DiffInterface for an interface without
// an entry, which Diff covers with MLDDefaults, PIMDefaults and
// DefaultInterfaces.
func TestDiffInterfaceUnlisted(t *testing.T) {
	old := Default()
	new := mustParse(t, "[global]\ndefault-interfaces = \"none\"\n")
	want := InterfaceChange{Name: "eth9", Enable: true, MLD: true, PIM: true}
	if got := DiffInterface(old, new, "eth9"); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	new = mustParse(t, "[mld]\nrobustness = 3\n")
	want = InterfaceChange{Name: "eth9", MLD: true}
	if got := DiffInterface(old, new, "eth9"); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// TestDiffKeyNames checks that the keys Diff names after the fields of
// conf's own structs (keyName) are keys of the schema, so that the log
// never names a key the file cannot have.
func TestDiffKeyNames(t *testing.T) {
	for _, tt := range []struct {
		table string
		v     any
		skip  []string // not compared (restart, the [pim] interface part, entry names), or not by their name
	}{
		{"global", Global{}, []string{"MRTTable", "Socket", "PIDFile", "StateFile"}},
		{"pim", PIM{}, []string{"PIMInterface"}},
		{"rp", RP{}, []string{"Address"}},
		{"bsr", BSR{}, nil},
		{"candidate-rp", CandidateRP{}, nil},
		{"embedded-rp", EmbeddedRP{}, nil},
		{"anycast-rp", AnycastRP{}, []string{"Enable"}},
		{"limits", Limits{}, nil},
		{"bsr-zone", BSRZone{}, []string{"Range"}},
	} {
		typ := reflect.TypeOf(tt.v)
		for i := range typ.NumField() {
			f := typ.Field(i).Name
			if slices.Contains(tt.skip, f) {
				continue
			}
			if k := keyName(f); !slices.Contains(schemaKeys[tt.table], k) {
				t.Errorf("%s.%s: %q is not a key of %s", typ.Name(), f, k, tableName(tt.table))
			}
		}
	}
	// An interface's key is named where its entry writes it: the override
	// tables have a field of the same name for each engine field with a
	// key.
	for _, tt := range []struct {
		keys     map[string]string
		override any
	}{{mldKeys, MLDOverride{}}, {pimIfKeys, PIMOverride{}}} {
		for f, k := range tt.keys {
			if _, ok := reflect.TypeOf(tt.override).FieldByName(f); k != "" && !ok {
				t.Errorf("%T has no field %s for key %s", tt.override, f, k)
			}
		}
	}
	for name, want := range map[string]string{"HashMaskLength": "hash-mask-length", "MaxRPSet": "max-rp-set", "SSMRange": "ssm-range", "DumpFileMode": "dump-file-mode", "Enable": "enable"} {
		if got := keyName(name); got != want {
			t.Errorf("keyName(%q) = %q, want %q", name, got, want)
		}
	}
}
