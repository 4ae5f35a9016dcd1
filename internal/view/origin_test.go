package view

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pim6sd/pim6sd/internal/ctl"
	"github.com/pim6sd/pim6sd/pim"
)

// Every origin the PIM engine can give RP(G) has its word on the wire.
// The engine's origins are read from its source (every exported constant
// named Origin...), so that a new one fails here until rpOrigin knows it.
func TestRPOriginEveryPIMOriginMaps(t *testing.T) {
	want := map[string]string{
		"OriginStatic":         ctl.RPOriginStatic,
		"OriginStaticOverride": ctl.RPOriginOverride,
		"OriginBSR":            ctl.RPOriginBSR,
		"OriginEmbedded":       ctl.RPOriginEmbedded,
	}
	// The names above are pim's: check they are its constants' values.
	for name, v := range map[string]string{
		"OriginStatic": pim.OriginStatic, "OriginStaticOverride": pim.OriginStaticOverride,
		"OriginBSR": pim.OriginBSR, "OriginEmbedded": pim.OriginEmbedded,
	} {
		if got := rpOrigin(v); got != want[name] {
			t.Errorf("rpOrigin(pim.%s = %q) = %q, want %q", name, v, got, want[name])
		}
	}

	origins := pimOrigins(t)
	if len(origins) == 0 {
		t.Fatal("found no Origin... constant in package pim: the test reads the wrong place")
	}
	for name, v := range origins {
		w, ok := want[name]
		if !ok {
			t.Errorf("pim.%s (%q) is new: give it a ctl.RPOrigin... word in rpOrigin and here", name, v)
			continue
		}
		if got := rpOrigin(v); got != w {
			t.Errorf("rpOrigin(pim.%s = %q) = %q, want %q", name, v, got, w)
		}
	}
	for name := range want {
		if _, ok := origins[name]; !ok {
			t.Errorf("pim.%s is gone: remove it here and in rpOrigin", name)
		}
	}
	if got := rpOrigin(""); got != "" {
		t.Errorf(`rpOrigin("") = %q, want ""`, got)
	}
}

// pimOrigins reads the exported constants named Origin... of package pim
// (its non-test files) with their string values.
func pimOrigins(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "pim", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if !n.IsExported() || !strings.HasPrefix(n.Name, "Origin") {
						continue
					}
					var bl *ast.BasicLit
					if i < len(vs.Values) {
						bl, _ = vs.Values[i].(*ast.BasicLit)
					}
					if bl == nil || bl.Kind != token.STRING {
						t.Fatalf("%s: pim.%s is not a string literal: teach pimOrigins to read it", fset.Position(n.Pos()), n.Name)
					}
					v, err := strconv.Unquote(bl.Value)
					if err != nil {
						t.Fatal(err)
					}
					out[n.Name] = v
				}
			}
		}
	}
	return out
}
