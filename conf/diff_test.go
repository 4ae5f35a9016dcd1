package conf

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
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
			wantString: "[mld] defaults; interface plain: mld; interface stub: mld",
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
		},
		{
			name: "[pim] hello-period: a stub interface does not run PIM",
			old:  base,
			new:  "[pim]\nhello-period = \"20s\"\n" + base,
			want: Changes{
				PIMDefaults: true,
				Interfaces:  []InterfaceChange{{Name: "plain", PIM: true}},
			},
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
			wantString: "interface new: added,enable,mld,pim; interface plain: removed",
		},
		{
			name: "interface override changed",
			old:  base,
			new:  strings.Replace(base, `"10s"`, `"11s"`, 1),
			want: Changes{Interfaces: []InterfaceChange{{Name: "own", PIM: true}}},
		},
		{
			name: "stub starts PIM",
			old:  base,
			new:  strings.Replace(base, "pim.enable = false", "", 1),
			want: Changes{Interfaces: []InterfaceChange{{Name: "stub", PIM: true}}},
		},
		{
			name: "default-interfaces",
			old:  base,
			new:  "[global]\ndefault-interfaces = \"none\"\n" + base,
			want: Changes{DefaultInterfaces: true},
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
		},
		{
			name:       "rp added",
			old:        base,
			new:        base + "[[rp]]\naddress = \"2001:db8::2\"\ngroups = [\"ff0e::/16\"]\n",
			want:       Changes{RPsAdded: []RP{rp("2001:db8::2", "ff0e::/16")}},
			wantString: "rp 2001:db8::2 [ff0e::/16] added",
		},
		{
			name: "rp groups changed",
			old:  base,
			new:  base + "groups = [\"ff0e::/16\"]\n",
			want: Changes{
				RPsAdded:   []RP{rp("2001:db8::1", "ff0e::/16")},
				RPsRemoved: []RP{rp("2001:db8::1", "ff00::/8")},
			},
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
			wantString: "[bsr]",
		},
		{
			name: "bsr period and max-rp-set",
			old:  base + "[bsr]\nperiod = \"60s\"\n",
			new:  base + "[bsr]\nperiod = \"30s\"\nmax-rp-set = 10\n",
			want: Changes{BSR: true},
		},
		{
			name:       "candidate-rp enabled",
			old:        base,
			new:        base + "[candidate-rp]\nenable = true\naddress = \"2001:db8::1\"\n",
			want:       Changes{CandidateRP: true},
			wantString: "[candidate-rp]",
		},
		{
			name: "candidate-rp groups",
			old:  base + "[candidate-rp]\ngroups = [\"ff0e::/16\"]\n",
			new:  base + "[candidate-rp]\ngroups = [\"ff0e::/16\", \"ff05::/16\"]\n",
			want: Changes{CandidateRP: true},
		},
		{
			name: "candidate-rp holdtime other than the derived one",
			old:  base + "[candidate-rp]\ninterval = \"60s\"\n",
			new:  base + "[candidate-rp]\ninterval = \"60s\"\nholdtime = \"151s\"\n",
			want: Changes{CandidateRP: true},
		},
		{
			name: "candidate-rp interval (and the derived holdtime)",
			old:  base,
			new:  base + "[candidate-rp]\ninterval = \"100s\"\n",
			want: Changes{CandidateRP: true},
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
			wantString: "[embedded-rp]",
		},
		{
			name:       "embedded-rp max-groups",
			old:        base,
			new:        base + "[embedded-rp]\nmax-groups = 0\n",
			want:       Changes{EmbeddedRP: true},
			wantString: "[embedded-rp]",
		},
		{
			name: "rp override",
			old:  base,
			new:  base + "override = true\n",
			want: Changes{
				RPsAdded:   []RP{{Address: netip.MustParseAddr("2001:db8::1"), Groups: ssm("ff00::/8"), Override: true}},
				RPsRemoved: []RP{rp("2001:db8::1", "ff00::/8")},
			},
			wantString: "rp 2001:db8::1 [ff00::/8] removed; rp 2001:db8::1 [ff00::/8] override added",
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
			wantString: "[pim] timers; rp 2001:db8::1 [ff00::/8] removed; rp 2001:db8::1 [ff0e::/16] added; [bsr]; [candidate-rp]; [embedded-rp]; [limits]",
		},
		{
			name:       "router-wide pim timers and limits",
			old:        base,
			new:        "[pim]\nassert-time = \"100s\"\n[limits]\nmax-routes = 5\n" + base,
			want:       Changes{PIMTimers: true, Limits: true},
			wantString: "[pim] timers; [limits]",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old, new := mustParse(t, tt.old), mustParse(t, tt.new)
			ch := Diff(old, new)
			if diff := cmp.Diff(tt.want, ch, cmpNetip); diff != "" {
				t.Errorf("Diff (-want +got):\n%s", diff)
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
