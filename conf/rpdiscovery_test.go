package conf

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestParseRPDiscovery checks the values of [bsr], [candidate-rp],
// [embedded-rp] and [[rp]] override as decoded.
func TestParseRPDiscovery(t *testing.T) {
	a := netip.MustParseAddr
	p := netip.MustParsePrefix
	def := Default()
	tests := []struct {
		name  string
		doc   string
		check func(*Config) (got, want any)
	}{
		{
			name: "bsr every key",
			doc: `[bsr]
candidate = true
address = "2001:db8::53"
priority = 200
hash-mask-length = 120
period = "30s"
max-rp-set = 10
`,
			check: func(c *Config) (any, any) {
				return c.BSR, BSR{Candidate: true, Address: a("2001:db8::53"), Priority: 200, HashMaskLength: 120, Period: 30 * time.Second, MaxRPSet: 10}
			},
		},
		{
			name: "bsr bounds",
			doc:  "[bsr]\npriority = 0\nhash-mask-length = 0\nperiod = \"1s\"\nmax-rp-set = 1\n",
			check: func(c *Config) (any, any) {
				return c.BSR, BSR{Priority: 0, HashMaskLength: 0, Period: time.Second, MaxRPSet: 1}
			},
		},
		{
			name: "bsr upper bounds",
			doc:  "[bsr]\npriority = 255\nhash-mask-length = 128\nperiod = \"16383s\"\nmax-rp-set = 2147483647\n",
			check: func(c *Config) (any, any) {
				return c.BSR, BSR{Priority: 255, HashMaskLength: 128, Period: 16383 * time.Second, MaxRPSet: 2147483647}
			},
		},
		{
			name:  "bsr address kept while not a candidate",
			doc:   "[bsr]\naddress = \"fd00::53\"\n",
			check: func(c *Config) (any, any) { return []any{c.BSR.Candidate, c.BSR.Address}, []any{false, a("fd00::53")} },
		},
		{
			name: "candidate-rp every key",
			doc: `[candidate-rp]
enable = true
address = "2001:db8::1"
priority = 0
interval = "30s"
holdtime = "100s"
groups = ["ff0e::/16", "ff05::/16", "ff0e::/16", "ff3e::/16"]
`,
			check: func(c *Config) (any, any) {
				// The duplicate is dropped; ff3e::/16 only contains
				// part of the SSM range.
				return c.CandidateRP, CandidateRP{
					Enable: true, Address: a("2001:db8::1"), Priority: 0,
					Interval: 30 * time.Second, Holdtime: 100 * time.Second,
					Groups: []netip.Prefix{p("ff0e::/16"), p("ff05::/16"), p("ff3e::/16")},
				}
			},
		},
		{
			name:  "candidate-rp holdtime derived from interval",
			doc:   "[candidate-rp]\ninterval = \"30s\"\n",
			check: func(c *Config) (any, any) { return c.CandidateRP.Holdtime, 75 * time.Second },
		},
		{
			name:  "candidate-rp holdtime derived, rounded up to a second",
			doc:   "[candidate-rp]\ninterval = \"1.5s\"\n",
			check: func(c *Config) (any, any) { return c.CandidateRP.Holdtime, 4 * time.Second },
		},
		{
			name:  "candidate-rp largest derived holdtime",
			doc:   "[candidate-rp]\ninterval = \"26214s\"\n",
			check: func(c *Config) (any, any) { return c.CandidateRP.Holdtime, 65535 * time.Second },
		},
		{
			name: "candidate-rp holdtime bounds",
			doc:  "[candidate-rp]\ninterval = \"1s\"\nholdtime = \"2s\"\npriority = 255\n",
			check: func(c *Config) (any, any) {
				return []any{c.CandidateRP.Holdtime, c.CandidateRP.Priority}, []any{2 * time.Second, uint8(255)}
			},
		},
		{
			name:  "candidate-rp holdtime 65535s",
			doc:   "[candidate-rp]\ninterval = \"65534s\"\nholdtime = \"65535s\"\n",
			check: func(c *Config) (any, any) { return c.CandidateRP.Holdtime, 65535 * time.Second },
		},
		{
			name:  "candidate-rp holdtime set with a dotted key",
			doc:   "candidate-rp.holdtime = \"200s\"\n",
			check: func(c *Config) (any, any) { return c.CandidateRP.Holdtime, 200 * time.Second },
		},
		{
			name: "candidate-rp 255 groups",
			doc:  "[candidate-rp]\ngroups = [" + groupList(255) + "]\n",
			check: func(c *Config) (any, any) {
				return []any{len(c.CandidateRP.Groups), c.CandidateRP.Groups[254]}, []any{255, p("ff0e:fe::/32")}
			},
		},
		{
			name:  "candidate-rp SSM prefix allowed when not in the SSM range",
			doc:   "[global]\nssm-range = [\"ff3e::/32\"]\n[candidate-rp]\ngroups = [\"ff35::/32\"]\n",
			check: func(c *Config) (any, any) { return c.CandidateRP.Groups, []netip.Prefix{p("ff35::/32")} },
		},
		{
			name:  "candidate-rp SSM prefix allowed without an SSM range",
			doc:   "[candidate-rp]\ngroups = [\"ff3e::/32\"]\n[global]\nssm-range = []\n",
			check: func(c *Config) (any, any) { return c.CandidateRP.Groups, []netip.Prefix{p("ff3e::/32")} },
		},
		{
			name:  "embedded-rp",
			doc:   "[embedded-rp]\nenable = false\nmax-groups = 0\n",
			check: func(c *Config) (any, any) { return c.EmbeddedRP, EmbeddedRP{Enable: false, MaxGroups: 0} },
		},
		{
			name:  "embedded-rp max-groups only",
			doc:   "embedded-rp = { max-groups = 9000 }\n",
			check: func(c *Config) (any, any) { return c.EmbeddedRP, EmbeddedRP{Enable: true, MaxGroups: 9000} },
		},
		{
			name: "rp override",
			doc:  "[[rp]]\naddress = \"2001:db8::1\"\noverride = true\n[[rp]]\naddress = \"2001:db8::2\"\ngroups = [\"ff0e::/16\"]\noverride = false\n",
			check: func(c *Config) (any, any) {
				return c.RPs, []RP{
					{Address: a("2001:db8::1"), Groups: []netip.Prefix{p("ff00::/8")}, Override: true},
					{Address: a("2001:db8::2"), Groups: []netip.Prefix{p("ff0e::/16")}},
				}
			},
		},
		{
			name: "other tables keep their defaults",
			doc:  "[bsr]\ncandidate = true\naddress = \"2001:db8::53\"\n",
			check: func(c *Config) (any, any) {
				return []any{c.CandidateRP, c.EmbeddedRP}, []any{def.CandidateRP, def.EmbeddedRP}
			},
		},
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

// groupList returns n distinct prefixes ff0e:i::/32 as TOML strings.
func groupList(n int) string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf("%q", fmt.Sprintf("ff0e:%x::/32", i))
	}
	return strings.Join(s, ", ")
}

// TestRPDiscoveryDefaultsWrittenOut checks that writing every new key with
// its default value is the same as leaving it out: the same Config, and no
// change on a reload.
func TestRPDiscoveryDefaultsWrittenOut(t *testing.T) {
	docs := []string{
		`[bsr]
candidate = false
address = ""
priority = 64
hash-mask-length = 126
period = "60s"
max-rp-set = 1024
[candidate-rp]
enable = false
address = ""
priority = 192
interval = "60s"
holdtime = "150s"
groups = ["ff00::/8"]
[embedded-rp]
enable = true
max-groups = 256
`,
		"[bsr]\n[candidate-rp]\n[embedded-rp]\n",
		"[candidate-rp]\ninterval = \"1m\"\nholdtime = \"2m30s\"\n",
		"[candidate-rp]\ngroups = [\"ff00::/8\", \"ff00::/8\"]\n",
	}
	for _, doc := range docs {
		c := mustParse(t, doc)
		if diff := cmp.Diff(Default(), c, cmpNetip); diff != "" {
			t.Errorf("Parse(%q) differs from Default() (-Default +Parse):\n%s", doc, diff)
		}
		if ch := Diff(Default(), c); !ch.Empty() {
			t.Errorf("Diff(Default, %q) = %v", doc, ch)
		}
	}
	withRP := "[[rp]]\naddress = \"2001:db8::1\"\n"
	a, b := mustParse(t, withRP), mustParse(t, withRP+"override = false\n")
	if diff := cmp.Diff(a, b, cmpNetip); diff != "" {
		t.Errorf("override = false differs from no override (-absent +false):\n%s", diff)
	}
	if ch := Diff(a, b); !ch.Empty() {
		t.Errorf("Diff(no override, override = false) = %v", ch)
	}
}

// TestParseErrorsRPDiscovery has one file per problem that conf finds in
// the RP discovery keys (the type and form of a value; what values the
// engine takes is its rule, check_test.go), each with the exact message.
func TestParseErrorsRPDiscovery(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want string
	}{
		// [bsr]
		{"bsr bad address", "[bsr]\ncandidate = true\naddress = \"2001:db8::zz\"\n",
			`rp.toml:3: bsr.address: "2001:db8::zz" is not an IPv6 address`},
		{"bsr IPv4 address", "[bsr]\naddress = \"192.0.2.1\"\n",
			`rp.toml:2: bsr.address: "192.0.2.1" is not an IPv6 address`},
		{"bsr candidate not a boolean", "[bsr]\ncandidate = \"yes\"\n",
			`rp.toml:2: bsr.candidate: expected true or false, found string "yes"`},
		{"bsr priority too big", "[bsr]\npriority = 256\n",
			"rp.toml:2: bsr.priority: 256 is out of range 0..255"},
		{"bsr priority negative", "[bsr]\npriority = -1\n",
			"rp.toml:2: bsr.priority: -1 is out of range 0..255"},
		{"bsr hash-mask-length negative", "[bsr]\nhash-mask-length = -1\n",
			"rp.toml:2: bsr.hash-mask-length: -1 is out of range 0..255"},
		{"bsr period zero", "[bsr]\nperiod = \"0s\"\n",
			`rp.toml:2: bsr.period: "0s" must be more than zero`},
		{"bsr period not a duration", "[bsr]\nperiod = 60\n",
			`rp.toml:2: bsr.period: expected a duration string such as "125s", found integer 60`},
		{"bsr unknown key", "[bsr]\ncandidate = false\ntimeout = \"130s\"\n",
			"rp.toml:3: bsr.timeout: unknown key in [bsr]"},
		{"bsr key of another table", "[bsr]\nenable = true\n",
			"rp.toml:2: bsr.enable: unknown key (it is a key of [[interface]], [interface.mld], [interface.pim], [candidate-rp], [embedded-rp])"},
		{"bsr as an array of tables", "[[bsr]]\ncandidate = true\n",
			"rp.toml:1: bsr: expected a table, found an array of tables"},

		// [candidate-rp]
		{"candidate-rp bad address", "[candidate-rp]\nenable = true\naddress = \"rp.example\"\n",
			`rp.toml:3: candidate-rp.address: "rp.example" is not an IPv6 address`},
		{"candidate-rp address not a string", "[candidate-rp]\naddress = 1\n",
			"rp.toml:2: candidate-rp.address: expected a string, found integer 1"},
		{"candidate-rp priority too big", "[candidate-rp]\npriority = 300\n",
			"rp.toml:2: candidate-rp.priority: 300 is out of range 0..255"},
		{"candidate-rp holdtime zero", "[candidate-rp]\nholdtime = \"0s\"\n",
			`rp.toml:2: candidate-rp.holdtime: "0s" must be more than zero`},
		{"candidate-rp bad group prefix", "[candidate-rp]\ngroups = [\"ff0e::/16\", \"ff0e::/129\"]\n",
			`rp.toml:2: candidate-rp.groups[1]: "ff0e::/129" is not an IPv6 prefix`},
		{"candidate-rp no groups", "[candidate-rp]\ngroups = []\n",
			`rp.toml:2: candidate-rp.groups: must list at least one prefix (leave it out for "ff00::/8")`},
		{"candidate-rp groups not an array", "[candidate-rp]\ngroups = \"ff0e::/16\"\n",
			`rp.toml:2: candidate-rp.groups: expected an array, found string "ff0e::/16"`},
		{"candidate-rp unknown key", "[candidate-rp]\nintervall = \"60s\"\n",
			"rp.toml:2: candidate-rp.intervall: unknown key (did you mean interval?)"},
		{"candidate-rp key of [bsr]", "[candidate-rp]\ncandidate = true\n",
			"rp.toml:2: candidate-rp.candidate: unknown key (it is a key of [bsr], [[bsr-zone]])"},

		// [embedded-rp]
		{"embedded-rp enable not a boolean", "[embedded-rp]\nenable = 1\n",
			"rp.toml:2: embedded-rp.enable: expected true or false, found integer 1"},
		{"embedded-rp unknown key", "[embedded-rp]\nmax-group = 10\n",
			"rp.toml:2: embedded-rp.max-group: unknown key (did you mean max-groups?)"},
		{"embedded-rp unknown key, no hint", "[embedded-rp]\nprefix = \"ff70::/12\"\n",
			"rp.toml:2: embedded-rp.prefix: unknown key in [embedded-rp]"},

		// [[rp]] override
		{"rp override not a boolean", "[[rp]]\naddress = \"2001:db8::1\"\noverride = \"yes\"\n",
			`rp.toml:3: rp[0].override: expected true or false, found string "yes"`},
		{"rp unknown key", "[[rp]]\naddress = \"2001:db8::1\"\noverides = true\n",
			"rp.toml:3: rp[0].overides: unknown key (did you mean override?)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.doc), "rp.toml")
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", c)
			}
			var list Errors
			if !errors.As(err, &list) {
				t.Fatalf("error %T is not Errors: %v", err, err)
			}
			if diff := cmp.Diff([]string{tt.want}, strings.Split(err.Error(), "\n")); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseErrorsRPDiscoveryTogether checks that the problems of several
// tables, conf's and the engine's, are all listed, in line order, and that
// a bad value is not checked again with the values that depend on it.
func TestParseErrorsRPDiscoveryTogether(t *testing.T) {
	doc := `[embedded-rp]
max-groups = -5
[candidate-rp]
enable = true
address = "fe80::1"
interval = "x"
holdtime = "10s"
groups = ["ff3e::/32"]
[bsr]
candidate = true
priority = 999
[[rp]]
address = "2001:db8::1"
override = 1
`
	want := []string{
		"2: embedded-rp.max-groups: -5 must be at least 0",
		`5: candidate-rp.address: fe80::1 is not a global unicast IPv6 address`,
		`6: candidate-rp.interval: "x" is not a duration: write a number and a unit, such as "125s", "500ms" or "1m30s"`,
		"8: candidate-rp.groups[0]: ff3e::/32 is in the SSM range (ff3e::/32 in global.ssm-range): SSM groups use no RP",
		"9: bsr.address: required for a Candidate-BSR: a global unicast address of this router",
		"11: bsr.priority: 999 is out of range 0..255",
		"14: rp[0].override: expected true or false, found integer 1",
	}
	if diff := cmp.Diff(want, parseErrors(t, doc)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}
