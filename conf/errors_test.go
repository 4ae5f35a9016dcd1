package conf

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// parseErrors parses doc and returns its problems as "line: key: message".
func parseErrors(t *testing.T, doc string) []string {
	t.Helper()
	c, err := Parse([]byte(doc), "")
	if err == nil {
		t.Fatalf("Parse succeeded: %+v", c)
	}
	if c != nil {
		t.Errorf("Parse returned a Config with its error")
	}
	var list Errors
	if !errors.As(err, &list) {
		t.Fatalf("error %T is not Errors: %v", err, err)
	}
	out := make([]string, len(list))
	for i, e := range list {
		out[i] = e.Error()
	}
	return out
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{
			name: "unknown keys everywhere, in file order",
			doc: `[global]
mrt-tabel = 1
[mld]
query-interval = "125s"
querry-interval = "60s"
[[interface]]
name = "eth0"
[[interface]]
name = "eth1"
colour = "blue"
  [interface.mld]
  version = "2"
  foo = 1
  [interface.pim]
  keepalive-period = "1s"
[bogus]
x = 1
[limits]
max-route = 5
`,
			want: []string{
				"2: global.mrt-tabel: unknown key (did you mean mrt-table?)",
				"5: mld.querry-interval: unknown key (did you mean query-interval?)",
				"10: interface[1].colour: unknown key in [[interface]]",
				"13: interface[1].mld.foo: unknown key in [interface.mld]",
				"15: interface[1].pim.keepalive-period: not a per-interface setting: set it in [pim]",
				"16: bogus: unknown key",
				"19: limits.max-route: unknown key (did you mean max-routes?)",
			},
		},
		{
			name: "key of another table",
			doc: `[mld]
enable = false
[pim]
robustness = 3
[global]
hello-period = "10s"
`,
			want: []string{
				"2: mld.enable: unknown key (it is a key of [[interface]], [interface.mld], [interface.pim], [candidate-rp], [embedded-rp])",
				"4: pim.robustness: unknown key (it is a key of [mld], [interface.mld])",
				"6: global.hello-period: unknown key (it is a key of [pim], [interface.pim])",
			},
		},
		{
			name: "unknown key in a dotted key and an inline table",
			doc: `[[interface]]
name = "a"
mld.verson = "2"
pim = { dr-priority = 2,
  hello = "1s" }
`,
			want: []string{
				"3: interface[0].mld.verson: unknown key (did you mean version?)",
				"5: interface[0].pim.hello: unknown key in [interface.pim]",
			},
		},
		{
			name: "wrong types",
			doc: `[global]
mrt-table = "0"
ssm-range = "ff3x::/32"
socket = 1
[mld]
robustness = 2.0
query-interval = 125
version = true
[pim]
dr-priority = "10"
[[interface]]
name = 7
enable = "yes"
mld = false
`,
			want: []string{
				`2: global.mrt-table: expected an integer, found string "0"`,
				`3: global.ssm-range: expected an array, found string "ff3x::/32"`,
				"4: global.socket: expected a string, found integer 1",
				"6: mld.robustness: expected an integer, found float 2",
				`7: mld.query-interval: expected a duration string such as "125s", found integer 125`,
				`8: mld.version: expected "1", "2" or "both", found boolean true`,
				`10: pim.dr-priority: expected an integer, found string "10"`,
				"12: interface[0].name: expected a string, found integer 7",
				`13: interface[0].enable: expected true or false, found string "yes"`,
				"14: interface[0].mld: expected a table, found boolean false: write mld.enable = false",
			},
		},
		{
			name: "tables of the wrong kind",
			doc: `mld = 5
rp = [1]
[interface]
name = "a"
`,
			want: []string{
				"1: mld: expected a table, found integer 5",
				"2: rp[0]: expected a table, found integer 1",
				"3: interface: expected an array of tables: write [[interface]], not [interface]",
			},
		},
		{
			name: "bad durations",
			doc: `[mld]
query-interval = "2 minutes"
query-response-interval = "-1s"
last-listener-query-interval = "0"
[pim]
hello-period = "30"
`,
			want: []string{
				`2: mld.query-interval: "2 minutes" is not a duration: write a number and a unit, such as "125s", "500ms" or "1m30s"`,
				`3: mld.query-response-interval: "-1s" must be more than zero`,
				`4: mld.last-listener-query-interval: "0" must be more than zero`,
				`6: pim.hello-period: "30" is not a duration: write a number and a unit, such as "125s", "500ms" or "1m30s"`,
			},
		},
		{
			name: "out of range",
			doc: `[global]
mrt-table = 4294967296
default-interfaces = "some"
log-level = "verbose"
socket = "pim6sd.sock"
dump-file = ""
[mld]
version = "3"
robustness = 8
startup-query-count = 0
last-listener-query-count = 0
max-groups = -2147483649
[pim]
dr-priority = -1
spt-switch = "0kbps"
[limits]
max-routes = 2147483648
[bsr]
priority = 256
hash-mask-length = -1
`,
			want: []string{
				"2: global.mrt-table: 4294967296 is out of range 0..4294967295",
				`3: global.default-interfaces: "some" is not "all" or "none"`,
				`4: global.log-level: "verbose" is not "debug", "info", "warn" or "error"`,
				`5: global.socket: "pim6sd.sock" is not an absolute path`,
				`6: global.dump-file: "" is not an absolute path`,
				`8: mld.version: "3" is not an MLD version: use "1", "2" or "both"`,
				"9: mld.robustness: 8 is out of range 1..7",
				"10: mld.startup-query-count: 0 must be at least 1",
				"11: mld.last-listener-query-count: 0 must be at least 1",
				"12: mld.max-groups: -2147483649 is out of range -2147483648..2147483647",
				"14: pim.dr-priority: -1 is out of range 0..4294967295",
				`15: pim.spt-switch: "0kbps" is not "first-packet", "never" or a rate such as "64kbps" (bps, kbps, mbps, gbps; more than zero)`,
				"17: limits.max-routes: 2147483648 is more than 2147483647",
				"19: bsr.priority: 256 is out of range 0..255",
				"20: bsr.hash-mask-length: -1 is out of range 0..255",
			},
		},
		{
			name: "socket path too long",
			doc:  "[global]\nsocket = \"/" + strings.Repeat("s", 107) + "\"\n",
			want: []string{`2: global.socket: "/` + strings.Repeat("s", 107) + `" is longer than 107 bytes, the limit of a Unix socket path`},
		},
		{
			// What makes an address or a prefix one that a key takes is
			// the engine's rule (check_test.go).
			name: "prefixes and addresses",
			doc: `[global]
ssm-range = [
  "ff3x::/32",
  "10.0.0.0/8",
  "ff3e::/33x",
  5,
]
[[rp]]
address = "10.0.0.1"
groups = ["ff0e::/16", "::ffff:10.0.0.0/104"]
[[rp]]
address = "2002:db8::zz"
[[rp]]
groups = []
[[rp]]
address = ""
`,
			want: []string{
				`4: global.ssm-range[1]: "10.0.0.0/8" is not an IPv6 prefix`,
				`5: global.ssm-range[2]: "ff3e::/33x" is not an IPv6 prefix`,
				`6: global.ssm-range[3]: expected a prefix string such as "ff3e::/32", found integer 5`,
				`9: rp[0].address: "10.0.0.1" is not an IPv6 address`,
				`10: rp[0].groups[1]: "::ffff:10.0.0.0/104" is not an IPv6 prefix`,
				`12: rp[1].address: "2002:db8::zz" is not an IPv6 address`,
				"13: rp[2]: missing address",
				`14: rp[2].groups: must list at least one prefix (leave it out for "ff00::/8")`,
				`16: rp[3].address: "" is not an IPv6 address`,
			},
		},
		{
			name: "interface names",
			doc: `[[interface]]
name = "eth0"
[[interface]]
enable = false
[[interface]]
name = "eth0"
[[interface]]
name = "a-name-of-16-byt"
[[interface]]
name = ""
[[interface]]
name = "eth0:1"
[[interface]]
name = "eth1"
[[interface]]
name = "eth1"
`,
			want: []string{
				"3: interface[1]: missing name",
				`6: interface[2].name: duplicate interface "eth0" (first at line 2)`,
				`8: interface[3].name: "a-name-of-16-byt" is longer than 15 bytes, the limit of a Linux interface name`,
				"10: interface[4].name: must not be empty",
				`12: interface[5].name: "eth0:1" is not a valid interface name`,
				`16: interface[7].name: duplicate interface "eth1" (first at line 14)`,
			},
		},
		{
			name: "duplicate rp",
			doc: `[[rp]]
address = "2001:db8::1"
[[rp]]
address = "2001:db8::1"
groups = ["ff0e::/16"]
`,
			want: []string{`4: rp[1].address: duplicate rp 2001:db8::1 (first at line 2): list all its groups in one entry`},
		},
		{
			name: "a value with an error is not checked again",
			doc: `[mld]
query-interval = "5s"
query-response-interval = "x"
`,
			want: []string{
				`3: mld.query-response-interval: "x" is not a duration: write a number and a unit, such as "125s", "500ms" or "1m30s"`,
			},
		},
		{
			name: "quoted unknown key",
			doc:  "[global]\n\"log.level\" = \"debug\"\n",
			want: []string{`2: global."log.level": unknown key (did you mean log-level?)`},
		},
		{
			name: "syntax error keeps its line",
			doc:  "[global]\nmrt-table = 1\nsocket = \"/x\n",
			want: []string{`3: syntax error: strings cannot contain newlines (last key global.socket)`},
		},
		{
			name: "mld = true and [interface.mld] clash in TOML",
			doc:  "[[interface]]\nname = \"a\"\nmld = true\n[interface.mld]\nversion = \"2\"\n",
			want: []string{"4: syntax error: Key 'interface.mld' has already been defined. (last key interface); " +
				"mld = true/false and an [interface.mld] table cannot be used together: write enable = true/false in the table"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, parseErrors(t, tt.doc)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{File: "a.toml", Line: 3, Key: "mld.robustness", Msg: "bad"}, "a.toml:3: mld.robustness: bad"},
		{Error{Line: 3, Key: "mld.robustness", Msg: "bad"}, "3: mld.robustness: bad"},
		{Error{File: "a.toml", Key: "k", Msg: "bad"}, "a.toml: k: bad"},
		{Error{File: "a.toml", Line: 1, Msg: "syntax"}, "a.toml:1: syntax"},
		{Error{Msg: "bad"}, "bad"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("%+v: got %q, want %q", tt.e, got, tt.want)
		}
	}
}

// TestErrorsValue checks the error Parse returns as a whole: one problem
// per line, the file name in each, and errors.As reaching a single Error.
func TestErrorsValue(t *testing.T) {
	_, err := Parse([]byte("[mld]\nrobustness = 0\n[pim]\ndr-priority = -1\n"), "/etc/pim6sd.toml")
	want := "/etc/pim6sd.toml:2: mld.robustness: 0 is out of range 1..7\n" +
		"/etc/pim6sd.toml:4: pim.dr-priority: -1 is out of range 0..4294967295"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want\n%s", err, want)
	}
	var one *Error
	if !errors.As(err, &one) || one.Line != 2 || one.Key != "mld.robustness" || one.File != "/etc/pim6sd.toml" {
		t.Errorf("errors.As(*Error) = %+v", one)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "missing.toml")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want fs.ErrNotExist", err)
	}
	path := filepath.Join(dir, "p.toml")
	if err := os.WriteFile(path, []byte("[pim]\ndr-priority = 7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil || c.PIM.DRPriority != 7 {
		t.Errorf("Load = %+v, %v", c, err)
	}
	if err := os.WriteFile(path, []byte("[pim]\ndr-priority = \"7\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.HasPrefix(err.Error(), path+":2: pim.dr-priority: ") {
		t.Errorf("Load(bad) = %v, want the file name and line", err)
	}
}

// FuzzParse checks that Parse never panics, that every problem has a line
// inside the document, and that the engines accept whatever it accepts:
// the PIM router's configuration and every interface's MLD and PIM
// settings (what check-config passes, the daemon can run).
func FuzzParse(f *testing.F) {
	f.Add(readExample(f))
	f.Add([]byte("[[bsr-zone]]\nrange = \"ff15::/16\"\nborder = [\"eth1\"]\ncandidate = true\naddress = \"2001:db8::5\"\n[[bsr-zone]]\nrange = \"ff18::/16\"\n"))
	f.Add([]byte("[mld]\nquery-interval = \"5s\"\n[[interface]]\nname = \"a\"\nmld = { version = 1 }\npim.hello-period = \"90s\"\n"))
	f.Add([]byte("[global]\nssm-range = [\"ff3x::/32\", \"ff05::/16\"]\n[[rp]]\naddress = \"2001:db8::1\"\n"))
	f.Add([]byte("[bsr]\ncandidate = true\naddress = \"2001:db8::2\"\n[candidate-rp]\nenable = true\naddress = \"2001:db8::2\"\ninterval = \"10s\"\ngroups = [\"ff0e::/16\"]\n[embedded-rp]\nmax-groups = 0\n[[rp]]\naddress = \"2001:db8::1\"\noverride = true\n"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		c, err := Parse(doc, "f")
		lines := strings.Count(string(doc), "\n") + 1
		if err != nil {
			var list Errors
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %T %v", err, err)
			}
			for _, e := range list {
				if e.Line < 0 || e.Line > lines {
					t.Fatalf("line %d of %d: %v", e.Line, lines, e)
				}
			}
			return
		}
		names := []string{"not-listed"}
		for _, ifc := range c.Interfaces {
			names = append(names, ifc.Name)
		}
		for _, name := range names {
			e := c.Engines(Link{Name: name})
			if err := e.MLD.Validate(); err != nil {
				t.Fatalf("accepted, but the MLD engine refuses interface %s: %v", name, err)
			}
			if err := e.PIMInterface.Validate(); err != nil {
				t.Fatalf("accepted, but the PIM engine refuses interface %s: %v", name, err)
			}
		}
		pc := c.Engines(Link{}).PIM
		pc.Rand = func() uint32 { return 0 }
		if err := pc.Validate(); err != nil {
			t.Fatalf("accepted, but the PIM engine refuses the router's configuration: %v", err)
		}
		if ch := Diff(c, c); !ch.Empty() || len(ch.Keys) != 0 {
			t.Fatalf("Diff(c, c) = %v", ch)
		}
		// The log names a key exactly when the reload changes something.
		for _, ch := range []Changes{Diff(Default(), c), Diff(c, Default())} {
			if ch.Empty() != (len(ch.Keys) == 0 && len(ch.RestartNeeded) == 0) {
				t.Fatalf("Empty() = %v with keys %q: %+v", ch.Empty(), ch.Keys, ch)
			}
		}
	})
}

// TestSyntaxErrorLine checks the line of syntax errors whose offending
// character is the end of a line: the toml package counts that newline
// before it reports, so it names the next line. The line of the header or
// value that is not finished is the one to fix.
func TestSyntaxErrorLine(t *testing.T) {
	// Eight lines before the mistake, so that it is on line 9.
	head := "# pim6sd\n[global]\nlog-level = \"info\"\n\n[mld]\nrobustness = 2\n\n# next\n"
	tests := []struct {
		name string
		doc  string
		line int
	}{
		{"unclosed table", head + "[pim\nhello-period = \"30s\"\n", 9},
		{"unclosed table at the end of the file", head + "[pim", 9},
		{"unclosed table, newline at the end of the file", head + "[pim\n", 9},
		{"unclosed table with blanks", head + "[ pim \n\n", 9},
		{"unclosed dotted table", head + "[interface.\nx = 1\n", 9},
		{"unclosed array of tables", head + "[[bsr-zone\nrange = \"ff15::/16\"\n", 9},
		{"array of tables closed once", head + "[[bsr-zone]\nrange = \"ff15::/16\"\n", 9},
		{"array of tables closed once, CRLF", strings.ReplaceAll(head, "\n", "\r\n") + "[[interface]\r\nname = \"eth0\"\r\n", 9},
		{"unclosed table, CRLF", strings.ReplaceAll(head, "\n", "\r\n") + "[pim\r\nx = 1\r\n", 9},
		{"unclosed table after a byte order mark", "\ufeff" + head + "[pim\nx = 1\n", 9},
		{"key without a value", head + "[pim]\nhello-period =\n", 10},
		{"unclosed table followed by a comment", head + "[pim # the PIM table\n", 9},
		// Errors the toml package already places right stay where they are.
		{"string with a newline", head + "[limits]\nmax-routes = \"x\n", 10},
		{"garbage after a header", head + "[pim]x\n", 9},
		{"first line", "[pim\nx = 1\n", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc), "p.toml")
			var list Errors
			if !errors.As(err, &list) || len(list) != 1 {
				t.Fatalf("got %v, want one syntax error", err)
			}
			if e := list[0]; e.Line != tt.line || !strings.HasPrefix(e.Msg, "syntax error") {
				t.Errorf("got %q (line %d), want a syntax error on line %d", e.Error(), e.Line, tt.line)
			}
		})
	}
}
