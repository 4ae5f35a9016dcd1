package conf

import (
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/google/go-cmp/cmp"
)

// TestKeyLines checks the line of every key, table and element on documents
// with the TOML forms that move keys around: arrays of tables (also nested),
// sub-tables of their elements, dotted keys, quoted keys, inline tables and
// arrays over several lines, and strings and comments that look like keys
// or headers.
func TestKeyLines(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want map[string]int
	}{
		{
			name: "tables and keys",
			doc: `# comment = 1
top = 1
[a]
x = 1   # y = 2

  [ a . b ]
  y = "z"
`,
			want: map[string]int{"top": 2, "a": 3, "a.x": 4, "a.b": 6, "a.b.y": 7},
		},
		{
			name: "arrays of tables and their sub-tables",
			doc: `[[interface]]
name = "a"
[interface.mld]
version = "2"
[[interface]]
name = "b"
[[interface]]
name = "c"
  [interface.pim]
  dr-priority = 1
  [interface.mld]
  foo = 1
`,
			want: map[string]int{
				"interface":    1,
				"interface[0]": 1, "interface[0].name": 2, "interface[0].mld": 3, "interface[0].mld.version": 4,
				"interface[1]": 5, "interface[1].name": 6,
				"interface[2]": 7, "interface[2].name": 8,
				"interface[2].pim": 9, "interface[2].pim.dr-priority": 10,
				"interface[2].mld": 11, "interface[2].mld.foo": 12,
			},
		},
		{
			name: "nested arrays of tables",
			doc: `[[a]]
[[a.b]]
x = 1
[[a.b]]
x = 2
[[a]]
[[a.b]]
x = 3
[a.c]
y = 4
`,
			want: map[string]int{
				"a": 1, "a[0]": 1, "a[0].b": 2, "a[0].b[0]": 2, "a[0].b[0].x": 3, "a[0].b[1]": 4, "a[0].b[1].x": 5,
				"a[1]": 6, "a[1].b": 7, "a[1].b[0]": 7, "a[1].b[0].x": 8, "a[1].c": 9, "a[1].c.y": 10,
			},
		},
		{
			name: "dotted and quoted keys",
			doc: `[[interface]]
name = "a"
mld.version = "2"
pim . "dr-priority" = 3
"odd.key" = 1
'lit key' = 2
[global]
"x\u0041" = 1
`,
			want: map[string]int{
				"interface": 1, "interface[0]": 1, "interface[0].name": 2,
				"interface[0].mld": 3, "interface[0].mld.version": 3,
				"interface[0].pim": 4, "interface[0].pim.dr-priority": 4,
				`interface[0]."odd.key"`: 5, `interface[0]."lit key"`: 6,
				"global": 7, "global.xA": 8,
			},
		},
		{
			name: "inline tables and arrays",
			doc: `ssm = [
  "ff3e::/32", # a comment with "quotes" and [brackets]
  "ff35::/32",

  "ff38::/32"]
interface = [ { name = "a", mld = { version = "2" } },
  { name = "b",
    pim = { dr-priority = 1 } } ]
nested = [[1, 2], [
  3]]
after = 1
`,
			want: map[string]int{
				"ssm": 1, "ssm[0]": 2, "ssm[1]": 3, "ssm[2]": 5,
				"interface": 6, "interface[0]": 6, "interface[0].name": 6, "interface[0].mld": 6, "interface[0].mld.version": 6,
				"interface[1]": 7, "interface[1].name": 7, "interface[1].pim": 8, "interface[1].pim.dr-priority": 8,
				"nested": 9, "nested[0]": 9, "nested[0][0]": 9, "nested[0][1]": 9, "nested[1]": 9, "nested[1][0]": 10,
				"after": 11,
			},
		},
		{
			name: "strings that look like keys and headers",
			doc: `a = """
[[interface]]
b = 1 \"""
"""
c = '''
[x]
d = 2'''
e = "f = [g] \" # h"
i = 'j = "k'
l = """x""""
m = 1979-05-27 07:32:00
n = [1979-05-27 07:32:00, 1]
o = 1
`,
			want: map[string]int{
				"a": 1, "c": 5, "e": 8, "i": 9, "l": 10, "m": 11, "n": 12, "n[0]": 12, "n[1]": 12, "o": 13,
			},
		},
		{
			name: "windows line ends and tabs",
			doc:  "[a]\r\n\tx = 1\r\n[[b]]\r\ny = [\r\n 1]\r\n",
			want: map[string]int{"a": 1, "a.x": 2, "b": 3, "b[0]": 3, "b[0].y": 4, "b[0].y[0]": 5},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v map[string]any
			if _, err := toml.Decode(tt.doc, &v); err != nil {
				t.Fatalf("the test document is not valid TOML: %v", err)
			}
			if diff := cmp.Diff(tt.want, keyLines([]byte(tt.doc))); diff != "" {
				t.Errorf("keyLines (-want +got):\n%s", diff)
			}
		})
	}
}

// TestKeyLinesEveryKey checks that every key the toml package decodes has
// a line, on the example file.
func TestKeyLinesEveryKey(t *testing.T) {
	data := readExample(t)
	var v map[string]any
	md, err := toml.Decode(string(data), &v)
	if err != nil {
		t.Fatal(err)
	}
	lines := keyLines(data)
	for _, k := range md.Keys() {
		// Keys of arrays of tables have no index: look for any element.
		found := false
		for p := range lines {
			if stripIndexes(p) == k.String() {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("key %s has no line", k)
		}
	}
}

// stripIndexes removes "[i]" from a path.
func stripIndexes(p string) string {
	out := make([]byte, 0, len(p))
	for i := 0; i < len(p); i++ {
		if p[i] == '[' {
			for i < len(p) && p[i] != ']' {
				i++
			}
			continue
		}
		out = append(out, p[i])
	}
	return string(out)
}

// TestKeyLinesNoPanic runs the scanner over truncated and mangled
// documents: it must end without panicking whatever it is given.
func TestKeyLinesNoPanic(t *testing.T) {
	doc := string(readExample(t)) + "a = \"\"\"x\\\n\"\"\"\nb = '''y'''\nc = { d = [1, {e = \"\\u00e9\"}] }\n"
	for i := 0; i <= len(doc); i++ {
		keyLines([]byte(doc[:i]))
		keyLines([]byte(doc[i:]))
	}
}

func FuzzKeyLines(f *testing.F) {
	f.Add([]byte("[[a]]\nb.c = [1, {d = 'e'}]\n[a.f]\n\"g\" = \"\"\"h\"\"\"\n"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		lines := keyLines(doc)
		n := 1
		for _, c := range doc {
			if c == '\n' {
				n++
			}
		}
		for p, l := range lines {
			if l < 1 || l > n {
				t.Fatalf("%s at line %d of %d", p, l, n)
			}
		}
	})
}
