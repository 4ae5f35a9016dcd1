package archtest

import (
	"strings"
	"testing"
)

// TestImportRules are the rules of the impure side, over the real tree.
func TestImportRules(t *testing.T) {
	for _, r := range Rules {
		vs, err := CheckRule("../..", r)
		if err != nil {
			t.Fatalf("%s: %v", r.Dir, err)
		}
		for _, v := range vs {
			t.Errorf("%s: %s", r.Dir, v)
		}
	}
}

// rule returns the Rule for dir.
func rule(t *testing.T, dir string) Rule {
	t.Helper()
	for _, r := range Rules {
		if r.Dir == dir {
			return r
		}
	}
	t.Fatalf("no rule for %s", dir)
	return Rule{}
}

// Each rule must catch what it forbids, or TestImportRules proves nothing.
// Every case is a small tree of its own; want lists the violations' texts
// in order (each a substring), none for a clean tree.
func TestImportRulesCatchViolations(t *testing.T) {
	const m = `"` + Module + `/`
	cases := []struct {
		name  string
		dir   string
		files map[string]string
		want  []string
	}{
		{
			name: "ctl imports a project package",
			dir:  "internal/ctl",
			files: map[string]string{
				"internal/ctl/a.go":         `package ctl; import "fmt"`,
				"internal/ctl/b.go":         `package ctl; import (_ "net/netip"; _ ` + m + `internal/version")`,
				"internal/version/v.go":     `package version`,
				"internal/ctl/ctl_test.go":  `package ctl; import _ ` + m + `kernel"`,
				"internal/ctl/ctltest/t.go": `package ctltest; import _ ` + m + `internal/ctl"`,
			},
			want: []string{`b.go:1:37: imports project package "internal/version"`},
		},
		{
			name: "ctl standard library only",
			dir:  "internal/ctl",
			files: map[string]string{
				"internal/ctl/a.go": `package ctl; import ("encoding/json"; "net/netip")`,
			},
		},
		{
			name: "pim6stat reaches the daemon through another package",
			dir:  "cmd/pim6stat",
			files: map[string]string{
				"cmd/pim6stat/main.go":      `package main; import (_ ` + m + `internal/ctl"; _ ` + m + `internal/decode")`,
				"internal/ctl/ctl.go":       `package ctl`,
				"internal/decode/d.go":      `package decode; import _ ` + m + `internal/app"`,
				"internal/app/app.go":       `package app; import _ ` + m + `internal/daemon"`,
				"internal/daemon/d.go":      `package daemon; import _ ` + m + `kernel"`,
				"kernel/k.go":               `package kernel`,
				"cmd/pim6stat/main_test.go": `package main; import _ ` + m + `kernel"`,
			},
			want: []string{`imports "internal/decode", which reaches "internal/daemon" (internal/decode -> internal/app -> internal/daemon)`},
		},
		{
			name: "pim6stat imports kernel",
			dir:  "cmd/pim6stat",
			files: map[string]string{
				"cmd/pim6stat/main.go": `package main; import _ ` + m + `kernel"`,
				"kernel/k.go":          `package kernel`,
			},
			want: []string{`imports project package "kernel"`},
		},
		{
			name: "pim6stat through the codecs only",
			dir:  "cmd/pim6stat",
			files: map[string]string{
				"cmd/pim6stat/main.go":  `package main; import (_ ` + m + `internal/ctl"; _ ` + m + `internal/decode")`,
				"internal/ctl/ctl.go":   `package ctl`,
				"internal/decode/d.go":  `package decode; import _ ` + m + `pim/pimmsg"`,
				"pim/pimmsg/pimmsg.go":  `package pimmsg; import _ ` + m + `internal/csum"`,
				"internal/csum/csum.go": `package csum`,
				"internal/daemon/d.go":  `package daemon; import _ ` + m + `kernel"`,
				"kernel/k.go":           `package kernel`,
			},
		},
		{
			name: "metrics imports kernel",
			dir:  "internal/metrics",
			files: map[string]string{
				"internal/metrics/c.go": `package metrics; import (_ ` + m + `internal/ctl"; _ ` + m + `kernel")`,
				"internal/ctl/ctl.go":   `package ctl`,
				"kernel/k.go":           `package kernel`,
			},
			want: []string{`imports project package "kernel": metrics is a view`},
		},
		{
			name: "a view reaches the configuration",
			dir:  "internal/view",
			files: map[string]string{
				"internal/view/v.go": `package view; import (_ ` + m + `pim"; _ ` + m + `kernel")`,
				"pim/p.go":           `package pim`,
				"kernel/k.go":        `package kernel; import _ ` + m + `conf"`,
				"conf/c.go":          `package conf`,
			},
			want: []string{`imports "kernel", which reaches "conf" (kernel -> conf)`},
		},
		{
			name: "the daemon imports the process around it",
			dir:  "internal/daemon",
			files: map[string]string{
				"internal/daemon/d.go": `package daemon; import _ ` + m + `internal/app"`,
				"internal/app/a.go":    `package app`,
			},
			want: []string{`imports project package "internal/app"`},
		},
		{
			name: "conf imports the kernel",
			dir:  "conf",
			files: map[string]string{
				"conf/c.go":   `package conf; import _ ` + m + `kernel"`,
				"kernel/k.go": `package kernel`,
			},
			want: []string{`imports project package "kernel"`},
		},
		{
			name:  "listed package missing",
			dir:   "internal/metrics",
			files: map[string]string{"internal/metrics/c_test.go": `package metrics`},
			want:  []string{"internal/metrics: listed in internal/archtest but missing"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			for name, src := range c.files {
				write(t, root, name, src)
			}
			vs, err := CheckRule(root, rule(t, c.dir))
			if err != nil {
				t.Fatal(err)
			}
			if len(vs) != len(c.want) {
				t.Fatalf("violations %v, want %d: %q", vs, len(c.want), c.want)
			}
			for i, v := range vs {
				if !strings.Contains(v.String(), c.want[i]) {
					t.Errorf("violation %q does not mention %q", v, c.want[i])
				}
			}
		})
	}
}
