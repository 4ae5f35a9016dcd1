package conf

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pim6sd/pim6sd/mld"
	"github.com/pim6sd/pim6sd/pim"
)

// The engines own the rules of their settings and test each with its
// message (mld/config_test.go, pim/config_test.go). These tests check the
// mapping: a value an engine refuses is reported at its key and line, with
// the engine's message, the other fields it names written as keys.

// keyOf names the fields that the engines' messages mention, as conf
// should: by key, short within the same table.
var keyOf = map[string]string{
	"Version":              "version",
	"QueryInterval":        "query-interval",
	"HelloPeriod":          "hello-period",
	"CandidateRP.Interval": "interval",
	"SSMRange":             "global.ssm-range",
	// The message names it in full, so as the engine does: not through
	// this table.
	"RegisterSuppressionTime": "register-suppression-time",
}

// engineMsgs returns the messages of the FieldErrors for field in err (an
// engine's Validate), the fields they name written as keyOf says, leaving
// out those that name a field of skip.
func engineMsgs(t *testing.T, err error, field string, skip ...string) []string {
	t.Helper()
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("the engine accepts it (%v)", err)
	}
	name := func(f string) string {
		k, ok := keyOf[f]
		if !ok {
			t.Fatalf("keyOf has no %s", f)
		}
		return k
	}
	var out []string
	for _, e := range j.Unwrap() {
		var me *mld.FieldError
		var pe *pim.FieldError
		switch {
		case errors.As(e, &me) && me.Field == field && !slices.ContainsFunc(me.Refs(), func(r string) bool { return slices.Contains(skip, r) }):
			out = append(out, me.Message(name))
		case errors.As(e, &pe) && pe.Field == field && !slices.ContainsFunc(pe.Refs(), func(r string) bool { return slices.Contains(skip, r) }):
			out = append(out, pe.Message(name))
		}
	}
	if len(out) == 0 {
		t.Fatalf("the engine says nothing of %s: %v", field, err)
	}
	return out
}

// The engines' settings with a change: what the tests' files ask for.
func mldWith(mod func(*mld.Config)) error {
	c := mld.DefaultConfig()
	mod(&c)
	return c.Validate()
}

func pimIfWith(mod func(*pim.IfConfig)) error {
	c := pim.DefaultIfConfig()
	mod(&c)
	return c.Validate()
}

func pimWith(mod func(*pim.Config)) error {
	c := pim.DefaultConfig()
	c.Rand = func() uint32 { return 0 }
	mod(&c)
	return c.Validate()
}

// lines returns "line: key: message" for each message, with note added.
func lines(line int, key string, msgs []string, note string) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = fmt.Sprintf("%d: %s: %s%s", line, key, m, note)
	}
	return out
}

func TestEngineErrorsMapped(t *testing.T) {
	p := netip.MustParsePrefix
	// qiWith is the MLD setting with a query interval and what it
	// derives.
	qiWith := func(qi time.Duration) func(*mld.Config) {
		return func(c *mld.Config) {
			c.QueryInterval, c.StartupQueryInterval = qi, 0
			*c = c.Derive()
		}
	}
	tests := []struct {
		name string
		doc  string
		want func(t *testing.T) []string
	}{
		{
			name: "an MLD value, with the fields its messages name written as keys",
			doc:  "[mld]\nquery-response-interval = \"200s\"\n",
			want: func(t *testing.T) []string {
				err := mldWith(func(c *mld.Config) { c.QueryResponseInterval = 200 * time.Second })
				return lines(2, "mld.query-response-interval", engineMsgs(t, err, "QueryResponseInterval"), "")
			},
		},
		{
			name: "a default in conflict, at its table's line",
			doc:  "# the default query-response-interval is 10s\n[mld]\nquery-interval = \"5s\"\n",
			want: func(t *testing.T) []string {
				msgs := engineMsgs(t, mldWith(qiWith(5*time.Second)), "QueryResponseInterval")
				return lines(2, "mld.query-response-interval", msgs, " (not set: the default)")
			},
		},
		{
			name: "an interface's own values",
			doc:  "[[interface]]\nname = \"a\"\nmld.query-interval = \"8s\"\n",
			want: func(t *testing.T) []string {
				msgs := engineMsgs(t, mldWith(qiWith(8*time.Second)), "QueryResponseInterval")
				return lines(3, "interface[0].mld.query-response-interval", msgs, " (not set here: from [mld] or the default)")
			},
		},
		{
			name: "a problem an interface inherits, once, at the section",
			doc:  "[mld]\nquery-interval = \"5s\"\n[[interface]]\nname = \"a\"\nmld.robustness = 3\n",
			want: func(t *testing.T) []string {
				msgs := engineMsgs(t, mldWith(qiWith(5*time.Second)), "QueryResponseInterval")
				return lines(1, "mld.query-response-interval", msgs, " (not set: the default)")
			},
		},
		{
			name: "a value an interface writes again is reported there too",
			doc:  "[mld]\nmax-groups = 0\n[[interface]]\nname = \"a\"\nmld.max-groups = 0\nmld.robustness = 3\n",
			want: func(t *testing.T) []string {
				msgs := engineMsgs(t, mldWith(func(c *mld.Config) { c.MaxGroups = 0 }), "MaxGroups")
				return append(lines(2, "mld.max-groups", msgs, ""), lines(5, "interface[0].mld.max-groups", msgs, "")...)
			},
		},
		{
			name: "a value conf refused is not judged again, nor with those it bounds",
			doc:  "[mld]\nquery-interval = \"x\"\nquery-response-interval = \"200s\"\nstartup-query-count = 0\n",
			want: func(t *testing.T) []string {
				err := mldWith(func(c *mld.Config) { c.QueryResponseInterval = 200 * time.Second })
				return append([]string{
					`2: mld.query-interval: "x" is not a duration: write a number and a unit, such as "125s", "500ms" or "1m30s"`,
				}, append(lines(3, "mld.query-response-interval", engineMsgs(t, err, "QueryResponseInterval", "QueryInterval"), ""),
					"4: mld.startup-query-count: 0 must be at least 1")...)
			},
		},
		{
			name: "a PIM interface value",
			doc:  "[pim]\nhello-holdtime = \"20s\"\n",
			want: func(t *testing.T) []string {
				err := pimIfWith(func(c *pim.IfConfig) { c.HelloHoldtime = 20 * time.Second })
				return lines(2, "pim.hello-holdtime", engineMsgs(t, err, "HelloHoldtime"), "")
			},
		},
		{
			name: "a PIM value an interface inherits, below its own period",
			doc:  "[pim]\nhello-holdtime = \"60s\"\n[[interface]]\nname = \"a\"\npim.hello-period = \"90s\"\n",
			want: func(t *testing.T) []string {
				err := pimIfWith(func(c *pim.IfConfig) { c.HelloPeriod, c.HelloHoldtime = 90*time.Second, 60*time.Second })
				return lines(5, "interface[0].pim.hello-holdtime", engineMsgs(t, err, "HelloHoldtime"), " (not set here: from [pim] or the default)")
			},
		},
		{
			name: "router-wide values",
			doc:  "[pim]\nregister-probe-time = \"30s\"\n[limits]\nmax-routes = 0\nmax-neighbors-per-interface = -5\n[embedded-rp]\nmax-groups = -1\n",
			want: func(t *testing.T) []string {
				err := pimWith(func(c *pim.Config) {
					c.RegisterProbeTime, c.MaxRoutes, c.MaxNeighbors, c.MaxEmbeddedRPGroups = 30*time.Second, 0, -5, -1
				})
				return slices.Concat(
					lines(2, "pim.register-probe-time", engineMsgs(t, err, "RegisterProbeTime"), ""),
					lines(4, "limits.max-routes", engineMsgs(t, err, "MaxRoutes"), ""),
					lines(5, "limits.max-neighbors-per-interface", engineMsgs(t, err, "MaxNeighbors"), ""),
					lines(7, "embedded-rp.max-groups", engineMsgs(t, err, "MaxEmbeddedRPGroups"), ""),
				)
			},
		},
		{
			name: "a Candidate-BSR",
			doc:  "[bsr]\ncandidate = true\nhash-mask-length = 129\nperiod = \"0.5s\"\nmax-rp-set = 0\n",
			want: func(t *testing.T) []string {
				err := pimWith(func(c *pim.Config) {
					c.CandidateBSR = &pim.CandidateBSR{HashMaskLen: 129}
					c.BootstrapPeriod, c.MaxRPSet = 500*time.Millisecond, 0
				})
				return slices.Concat(
					lines(1, "bsr.address", engineMsgs(t, err, "CandidateBSR.Addr"), ""), // no default to speak of
					lines(3, "bsr.hash-mask-length", engineMsgs(t, err, "CandidateBSR.HashMaskLen"), ""),
					lines(4, "bsr.period", engineMsgs(t, err, "BootstrapPeriod"), ""),
					lines(5, "bsr.max-rp-set", engineMsgs(t, err, "MaxRPSet"), ""),
				)
			},
		},
		{
			name: "a missing address with dotted keys",
			doc:  "bsr.candidate = true\n",
			want: func(t *testing.T) []string {
				err := pimWith(func(c *pim.Config) { c.CandidateBSR = &pim.CandidateBSR{} })
				return lines(1, "bsr.address", engineMsgs(t, err, "CandidateBSR.Addr"), "")
			},
		},
		{
			name: "a Candidate-RP's values, checked while it is off",
			doc:  "[candidate-rp]\naddress = \"fe80::1\"\ninterval = \"60s\"\nholdtime = \"60s\"\n",
			want: func(t *testing.T) []string {
				err := pimWith(func(c *pim.Config) {
					c.CandidateRP = &pim.CandidateRP{Addr: netip.MustParseAddr("fe80::1"), Interval: time.Minute, Holdtime: time.Minute}
				})
				return slices.Concat(
					lines(2, "candidate-rp.address", engineMsgs(t, err, "CandidateRP.Addr"), ""),
					lines(4, "candidate-rp.holdtime", engineMsgs(t, err, "CandidateRP.Holdtime"), ""),
				)
			},
		},
		{
			name: "a derived Candidate-RP holdtime",
			doc:  "[candidate-rp]\ninterval = \"30000s\"\n",
			want: func(t *testing.T) []string {
				err := pimWith(func(c *pim.Config) {
					r := pim.CandidateRP{Addr: netip.MustParseAddr("2001:db8::1"), Interval: 30000 * time.Second}.Derive()
					c.CandidateRP = &r
				})
				return lines(1, "candidate-rp.holdtime", engineMsgs(t, err, "CandidateRP.Holdtime"), " (not set: derived from interval)")
			},
		},
		{
			name: "the file's element of an engine's index, after a duplicate; a key of another table in full",
			doc:  "[candidate-rp]\ngroups = [\n  \"ff05::/16\",\n  \"ff05::/16\",\n  \"ff3e:1::/32\",\n]\n[global]\nssm-range = [\"ff3e::/16\"]\n",
			want: func(t *testing.T) []string {
				err := pimWith(func(c *pim.Config) {
					c.SSMRange = []netip.Prefix{p("ff3e::/16")}
					c.CandidateRP = &pim.CandidateRP{Addr: netip.MustParseAddr("2001:db8::1"), Interval: time.Minute, Holdtime: 150 * time.Second,
						Groups: []netip.Prefix{p("ff05::/16"), p("ff3e:1::/32")}}
				})
				return lines(5, "candidate-rp.groups[2]", engineMsgs(t, err, "CandidateRP.Groups[1]"), "")
			},
		},
		{
			name: "static RPs",
			doc:  "[[rp]]\naddress = \"fe80::1\"\ngroups = [\"ff0e::/16\", \"ff0e::/16\",\n  \"2001::/16\"]\n[[rp]]\naddress = \"2001:db8::1%eth0\"\n",
			want: func(t *testing.T) []string {
				err := pimWith(func(c *pim.Config) {
					c.RPs = []pim.StaticRP{
						{Addr: netip.MustParseAddr("fe80::1"), Groups: []netip.Prefix{p("ff0e::/16"), p("2001::/16")}},
						{Addr: netip.MustParseAddr("2001:db8::1%eth0")},
					}
				})
				return slices.Concat(
					lines(2, "rp[0].address", engineMsgs(t, err, "RPs[0].Addr"), ""),
					lines(4, "rp[0].groups[2]", engineMsgs(t, err, "RPs[0].Groups[1]"), ""),
					lines(6, "rp[1].address", engineMsgs(t, err, "RPs[1].Addr"), ""),
				)
			},
		},
		{
			name: "the SSM range after its shorthand, once although both engines refuse it",
			doc:  "[global]\nssm-range = [\n  \"ff3x::/32\",\n  \"ff3e::1/32\",\n  \"2001:db8::/32\",\n]\n",
			want: func(t *testing.T) []string {
				err := pimWith(func(c *pim.Config) { c.SSMRange = append(c.SSMRange, p("ff3e::1/32"), p("2001:db8::/32")) })
				return slices.Concat(
					lines(4, "global.ssm-range[1]", engineMsgs(t, err, "SSMRange[16]"), ""),
					lines(5, "global.ssm-range[2]", engineMsgs(t, err, "SSMRange[17]"), ""),
				)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want(t), parseErrors(t, tt.doc)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEngineErrorTexts shows a few problems whole, as check-config prints
// them: the engine's words, conf's keys.
func TestEngineErrorTexts(t *testing.T) {
	_, err := Parse([]byte(`[mld]
version = "2"
query-interval = "500ms"
query-response-interval = "2h"
[candidate-rp]
groups = ["ff3e::/32"]
`), "f.toml")
	want := []string{
		"f.toml:3: mld.query-interval: 500ms is less than 1s, the unit of the QQIC (RFC 3810 5.1.9)",
		"f.toml:4: mld.query-response-interval: 2h0m0s must be less than query-interval 500ms (RFC 3810 9.3)",
		"f.toml:6: candidate-rp.groups[0]: ff3e::/32 is in the SSM range (ff3e::/32 in global.ssm-range): SSM groups use no RP",
	}
	if err == nil {
		t.Fatal("accepted")
	}
	if diff := cmp.Diff(want, strings.Split(err.Error(), "\n")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestCandidacyOff checks what a candidacy that is off may leave out: its
// address, and (when its table is not in the file) defaults that only
// conflict with other settings once it is on.
func TestCandidacyOff(t *testing.T) {
	for _, doc := range []string{
		"[bsr]\npriority = 5\n",
		"[candidate-rp]\ngroups = [\"ff0e::/16\"]\n",
		"bsr.address = \"\"\ncandidate-rp.address = \"\"\n",
		// Everything SSM: the default Candidate-RP groups (ff00::/8)
		// would be inside it.
		"[global]\nssm-range = [\"ff00::/8\"]\n",
	} {
		if _, err := Parse([]byte(doc), "off.toml"); err != nil {
			t.Errorf("%q:\n%v", doc, err)
		}
	}
}

// TestKeyTables checks that every field of the engines' settings has an
// entry in the key tables (a key, or "" for a value the file does not
// set), and that every key there is one of the schema.
func TestKeyTables(t *testing.T) {
	tables := []struct {
		name   string
		keys   map[string]string
		of     any
		schema []string // the tables the keys are in, "" for paths from the top
	}{
		{"mldKeys", mldKeys, mld.Config{}, []string{"mld", "interface.mld"}},
		{"pimIfKeys", pimIfKeys, pim.IfConfig{}, []string{"pim", "interface.pim"}},
		{"pimKeys", pimKeys, pim.Config{}, []string{""}},
	}
	for _, tt := range tables {
		for _, f := range leafFields(reflect.TypeOf(tt.of), "") {
			if _, ok := tt.keys[f]; !ok {
				t.Errorf("%s has no entry for %s", tt.name, f)
			}
		}
		for f, key := range tt.keys {
			if key == "" {
				continue
			}
			for _, tab := range tt.schema {
				table, k := tab, strings.ReplaceAll(key, "[]", "")
				if tab == "" {
					table, k, _ = strings.Cut(k, ".")
				}
				if table == "pim" && slices.Contains(schemaKeys["pim"], k) {
					continue
				}
				if !slices.Contains(schemaKeys[table], k) {
					t.Errorf("%s: %s is %s, not a key of %s", tt.name, f, key, tableName(table))
				}
			}
		}
	}
}

// leafFields returns the Go paths of the values of a struct type as
// FieldErrors name them, "[]" for indices: into pointers to structs and
// slices of structs of the engines, not into other values.
func leafFields(t reflect.Type, prefix string) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		path := prefix + f.Name
		ft := f.Type
		switch {
		case ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct:
			out = append(out, leafFields(ft.Elem(), path+".")...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct && ft.Elem().PkgPath() == t.PkgPath():
			out = append(out, leafFields(ft.Elem(), path+"[].")...)
		case ft.Kind() == reflect.Slice:
			out = append(out, path+"[]")
		default:
			out = append(out, path)
		}
	}
	return out
}
