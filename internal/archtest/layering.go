package archtest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Module is the module path of this repository.
const Module = "github.com/pim6sd/pim6sd"

// Pure lists the packages (directories relative to the module root) that must
// stay pure, and for each the project packages it may import.
var Pure = map[string][]string{
	"internal/csum":   nil,
	"internal/timerq": nil,
	"internal/engine": nil,
	"mld/mldmsg":      {"internal/csum"},
	"pim/pimmsg":      {"internal/csum"},
	"mld":             {"internal/csum", "internal/timerq", "internal/engine", "mld/mldmsg"},
	"pim/bsr":         {"internal/timerq", "internal/engine", "pim/pimmsg"},
	"pim":             {"internal/csum", "internal/timerq", "internal/engine", "pim/pimmsg", "pim/bsr"},
	"mrib":            {"internal/csum", "internal/timerq", "internal/engine", "mld/mldmsg", "pim/pimmsg", "mld", "pim"},
	// The checkpoint's format: the engines' exports, no file access.
	"internal/checkpoint": {"internal/csum", "internal/timerq", "internal/engine", "mld/mldmsg", "pim/pimmsg", "pim/bsr", "mld", "pim"},
}

// forbiddenImports are standard or external packages a pure package may not
// import, with the reason shown in the report.
var forbiddenImports = map[string]string{
	"os":                    "operating system access",
	"os/exec":               "operating system access",
	"os/signal":             "operating system access",
	"net":                   "sockets (use net/netip for addresses)",
	"syscall":               "system calls",
	"unsafe":                "memory layout belongs to the kernel package",
	"golang.org/x/sys/unix": "system calls",
	"log":                   "global logger (pass a *slog.Logger)",
	"math/rand":             "own randomness (take random values as inputs)",
	"math/rand/v2":          "own randomness (take random values as inputs)",
	"crypto/rand":           "own randomness (take random values as inputs)",
	"io/ioutil":             "file access",
	"path/filepath":         "file access",
}

var forbiddenPrefixes = []string{"golang.org/x/net/", "golang.org/x/sys/", "github.com/vishvananda/", "github.com/mdlayher/", "github.com/jsimonetti/"}

// forbiddenTime are functions of package time that read or wait on the wall
// clock; pure code receives `now` instead.
var forbiddenTime = map[string]bool{
	"Now": true, "Since": true, "Until": true, "Sleep": true, "After": true,
	"AfterFunc": true, "Tick": true, "NewTicker": true, "NewTimer": true,
}

// Violation is one broken rule.
type Violation struct {
	Pos  token.Position
	What string
}

func (v Violation) String() string { return fmt.Sprintf("%s: %s", v.Pos, v.What) }

// CheckFile reports the violations in one parsed non-test file of package
// dir (relative to the module root).
func CheckFile(fset *token.FileSet, f *ast.File, dir string) []Violation {
	var out []Violation
	timeName := ""
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		pos := fset.Position(imp.Pos())
		if why, bad := forbiddenImports[path]; bad {
			out = append(out, Violation{pos, fmt.Sprintf("imports %q: %s", path, why)})
			continue
		}
		for _, p := range forbiddenPrefixes {
			if strings.HasPrefix(path, p) {
				out = append(out, Violation{pos, fmt.Sprintf("imports %q: kernel-side library", path)})
			}
		}
		if rest, ok := strings.CutPrefix(path, Module+"/"); ok {
			allowed := false
			for _, a := range Pure[dir] {
				if a == rest {
					allowed = true
				}
			}
			if !allowed {
				out = append(out, Violation{pos, fmt.Sprintf("imports project package %q, which %s may not use", rest, dir)})
			}
		} else if !strings.Contains(strings.SplitN(path, "/", 2)[0], ".") {
			// standard library: allowed unless listed above
		} else if path != "" {
			out = append(out, Violation{pos, fmt.Sprintf("imports third-party package %q: pure packages use the standard library only", path)})
		}
		if path == "time" {
			timeName = "time"
			if imp.Name != nil {
				timeName = imp.Name.Name
			}
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.GoStmt:
			out = append(out, Violation{fset.Position(x.Pos()), "starts a goroutine"})
		case *ast.SelectorExpr:
			if id, ok := x.X.(*ast.Ident); ok && timeName != "" && id.Name == timeName && forbiddenTime[x.Sel.Name] {
				out = append(out, Violation{fset.Position(x.Pos()), fmt.Sprintf("uses time.%s: take `now` as an input", x.Sel.Name)})
			}
		}
		return true
	})
	return out
}

// CheckPure checks every package of Pure under root. A listed package that
// is missing or has no non-test Go files is itself a violation: a rule over
// a path that was moved or misspelt would otherwise pass by checking
// nothing.
func CheckPure(root string) ([]Violation, error) {
	dirs := make([]string, 0, len(Pure))
	for d := range Pure {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	var out []Violation
	for _, dir := range dirs {
		vs, found, err := CheckDir(root, dir)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		if !found {
			out = append(out, missing(dir))
		}
		out = append(out, vs...)
	}
	return out, nil
}

// missing is the violation of a listed package that has no Go files.
func missing(dir string) Violation {
	return Violation{token.Position{Filename: dir}, "listed in internal/archtest but missing or without non-test Go files"}
}

// CheckDir parses the non-test Go files of dir under root and checks them.
// It reports whether the directory holds any Go files.
func CheckDir(root, dir string) ([]Violation, bool, error) {
	full := filepath.Join(root, dir)
	ents, err := os.ReadDir(full)
	if os.IsNotExist(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	fset := token.NewFileSet()
	var out []Violation
	found := false
	for _, e := range ents {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		found = true
		f, err := parser.ParseFile(fset, filepath.Join(full, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, true, err
		}
		out = append(out, CheckFile(fset, f, dir)...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, found, nil
}
