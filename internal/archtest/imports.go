package archtest

import (
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Rule bounds what an impure package may reach of this module: the project
// packages it imports, directly or through other project packages. Only
// non-test files count; tests may import what they need to check the code.
type Rule struct {
	Dir  string   // the package, relative to the module root
	Deny []string // project packages Dir must not reach (AnyProject: all)
	Why  string   // the reason shown with each violation
}

// AnyProject in Rule.Deny stands for every package of the module.
const AnyProject = "..."

// Rules are the import rules of the impure side.
var Rules = []Rule{
	{
		Dir:  "internal/ctl",
		Deny: []string{AnyProject},
		Why:  "the control protocol is the contract between the daemon and pim6stat; it stands on the standard library alone",
	},
	{
		Dir:  "cmd/pim6stat",
		Deny: []string{"internal/daemon", "kernel"},
		Why:  "pim6stat is a client of the control socket and must not carry the daemon or the kernel edge",
	},
	{
		Dir:  "internal/daemon",
		Deny: []string{"internal/app", "internal/metrics", "cmd"},
		Why:  "the daemon is the loop; the process around it (app) and the exporters use it, never the other way",
	},
	{
		Dir:  "internal/view",
		Deny: []string{"internal/daemon", "internal/app", "conf", "internal/metrics"},
		Why:  "views read the engines' state and a read-only kernel lookup that the loop lends them; they own no state and take no configuration",
	},
	{
		Dir:  "conf",
		Deny: []string{"internal/daemon", "internal/app", "internal/view", "kernel"},
		Why:  "the configuration is validated by the engines alone and must parse without the daemon or the kernel",
	},
	{
		Dir:  "internal/metrics",
		Deny: []string{"kernel"},
		Why:  "metrics is a view of the daemon's snapshots (internal/ctl), not of the kernel",
	},
}

// denies reports whether pattern names the project package pkg: the same
// path, a path below it, or AnyProject.
func denies(pattern, pkg string) bool {
	return pattern == AnyProject || pkg == pattern || strings.HasPrefix(pkg, pattern+"/")
}

// projectImport is one import of a project package by a non-test file.
type projectImport struct {
	pos  token.Position
	path string // relative to the module root
}

// imports reads the project imports of the non-test Go files of dir under
// root, in file and source order. It reports whether dir holds any such
// file; a missing directory has none.
func imports(fset *token.FileSet, root, dir string) ([]projectImport, bool, error) {
	full := filepath.Join(root, dir)
	ents, err := os.ReadDir(full)
	if os.IsNotExist(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	var out []projectImport
	found := false
	for _, e := range ents {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		found = true
		f, err := parser.ParseFile(fset, filepath.Join(full, name), nil, parser.ImportsOnly|parser.SkipObjectResolution)
		if err != nil {
			return nil, true, err
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if rest, ok := strings.CutPrefix(path, Module+"/"); ok {
				out = append(out, projectImport{fset.Position(imp.Pos()), rest})
			}
		}
	}
	return out, found, nil
}

// CheckRule checks one Rule under root. Each import of r.Dir that reaches
// a denied package is a violation at that import, naming the shortest chain
// of imports that gets there. A missing r.Dir is a violation too.
func CheckRule(root string, r Rule) ([]Violation, error) {
	fset := token.NewFileSet()
	direct, found, err := imports(fset, root, r.Dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.Dir, err)
	}
	if !found {
		return []Violation{missing(r.Dir)}, nil
	}
	// The project packages below r.Dir, each with its own imports, loaded
	// once however many paths lead to it.
	deps := map[string][]string{}
	load := func(pkg string) ([]string, error) {
		if d, ok := deps[pkg]; ok {
			return d, nil
		}
		imps, _, err := imports(fset, root, pkg)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", pkg, err)
		}
		var d []string
		for _, imp := range imps {
			d = append(d, imp.path)
		}
		deps[pkg] = d
		return d, nil
	}
	var out []Violation
	for _, imp := range direct {
		chains, err := reach(imp.path, r.Deny, load)
		if err != nil {
			return nil, err
		}
		for _, c := range chains {
			what := fmt.Sprintf("imports project package %q: %s", c[0], r.Why)
			if len(c) > 1 {
				what = fmt.Sprintf("imports %q, which reaches %q (%s): %s", c[0], c[len(c)-1], strings.Join(c, " -> "), r.Why)
			}
			out = append(out, Violation{imp.pos, what})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

// reach walks the project imports from start breadth first and returns,
// for each denied package it reaches, the shortest chain of packages from
// start to it. It does not walk on from a denied package.
func reach(start string, deny []string, load func(string) ([]string, error)) ([][]string, error) {
	parent := map[string]string{start: ""}
	queue := []string{start}
	var out [][]string
	for len(queue) > 0 {
		pkg := queue[0]
		queue = queue[1:]
		if slices.ContainsFunc(deny, func(d string) bool { return denies(d, pkg) }) {
			var c []string
			for p := pkg; p != ""; p = parent[p] {
				c = append([]string{p}, c...)
			}
			out = append(out, c)
			continue // what it imports in turn is its own business
		}
		next, err := load(pkg)
		if err != nil {
			return nil, err
		}
		for _, n := range next {
			if _, seen := parent[n]; !seen {
				parent[n] = pkg
				queue = append(queue, n)
			}
		}
	}
	return out, nil
}
