package archtest

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestPurePackages is the layering rule itself: it runs over the real tree.
// Every listed package must exist, or the rule would check nothing.
func TestPurePackages(t *testing.T) {
	vs, err := CheckPure("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		t.Error(v)
	}
}

// A listed package that is missing, or has only test files, fails the rule.
func TestCheckPureReportsMissingPackages(t *testing.T) {
	root := t.TempDir()
	write(t, root, "internal/csum/csum.go", `package csum`)
	write(t, root, "internal/timerq/timerq_test.go", `package timerq`)
	vs, err := CheckPure(root)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range vs {
		if !strings.Contains(v.What, "missing") {
			t.Errorf("unexpected violation %v", v)
		}
		got = append(got, v.Pos.Filename)
	}
	var want []string
	for d := range Pure {
		if d != "internal/csum" {
			want = append(want, d)
		}
	}
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("missing packages reported: %q, want %q", got, want)
	}
}

// The checker must catch each kind of violation, or the test above proves
// nothing.
func TestCheckerCatchesViolations(t *testing.T) {
	cases := []struct {
		name, dir, src, want string
	}{
		{"os import", "pim", `package p; import "os"; var _ = os.Args`, `imports "os"`},
		{"socket import", "mld", `package p; import "net"; var _ net.IP`, `imports "net"`},
		{"unix", "pim/pimmsg", `package p; import "golang.org/x/sys/unix"; var _ = unix.AF_INET6`, `golang.org/x/sys/unix`},
		{"wall clock", "mld", `package p; import "time"; func f() { _ = time.Now() }`, "time.Now"},
		{"renamed time", "mld", `package p; import tm "time"; func f() { tm.Sleep(1) }`, "time.Sleep"},
		{"timer", "pim", `package p; import "time"; func f() { time.AfterFunc(1, nil) }`, "time.AfterFunc"},
		{"goroutine", "mrib", `package p; func f() { go f() }`, "goroutine"},
		{"randomness", "pim", `package p; import "math/rand/v2"; var _ = rand.N(3)`, "randomness"},
		{"layer upward", "mld/mldmsg", `package p; import "github.com/pim6sd/pim6sd/kernel"; var _ = kernel.X`, `project package "kernel"`},
		{"third party", "pim/pimmsg", `package p; import "github.com/google/go-cmp/cmp"; var _ = cmp.Diff`, "third-party"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, "x.go", c.src, 0)
			if err != nil {
				t.Fatal(err)
			}
			vs := CheckFile(fset, f, c.dir)
			var all []string
			for _, v := range vs {
				all = append(all, v.String())
			}
			if !strings.Contains(strings.Join(all, "\n"), c.want) {
				t.Fatalf("violations %q do not mention %q", all, c.want)
			}
		})
	}
	// And durations, netip and allowed project imports pass.
	fset := token.NewFileSet()
	ok := `package p
import ("time"; "net/netip"; "github.com/pim6sd/pim6sd/pim/pimmsg")
func f(now time.Time, d time.Duration) (time.Time, netip.Addr, pimmsg.Type) { return now.Add(d), netip.Addr{}, 0 }`
	f, err := parser.ParseFile(fset, "ok.go", ok, 0)
	if err != nil {
		t.Fatal(err)
	}
	if vs := CheckFile(fset, f, "pim"); len(vs) != 0 {
		t.Fatalf("clean file flagged: %v", vs)
	}
}

// write creates the file rel under root with src.
func write(t *testing.T, root, rel, src string) {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}
