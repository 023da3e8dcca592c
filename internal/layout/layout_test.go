// Package layout holds no code, only the tests that keep DESIGN.md §3's
// rules: sim imports nothing of the project and nothing that does I/O for
// the UI or network; lessons never reach session or server; session/room
// knows nothing of Bubble Tea or SSH; and session, lessons and sim keep no
// package-level variables (hundreds of sessions share one process).
package layout

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/expedition-llm/expedition"

func deps(t *testing.T, pkg string) []string {
	t.Helper()
	return goList(t, "-deps", module+"/"+pkg)
}

func goList(t *testing.T, args ...string) []string {
	t.Helper()
	pkg := args[len(args)-1]
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

func TestImportRules(t *testing.T) {
	rules := []struct {
		pkg       string
		forbidden []string
	}{
		{"sim", []string{module + "/", "charm.land/", "net", "net/http", "os/exec"}},
		{"lessons", []string{module + "/session", module + "/server", "charm.land/ssh", "charm.land/wish"}},
		{"lessons/ui", []string{module + "/lessons", module + "/session", module + "/server", "charm.land/ssh"}},
		{"session", []string{module + "/server", "charm.land/ssh", "charm.land/wish"}},
		{"session/room", []string{module + "/lessons", module + "/server", module + "/store", "charm.land/", "golang.org/x/crypto/ssh", "github.com/nats-io/"}},
	}
	for _, r := range rules {
		for _, d := range deps(t, r.pkg) {
			if d == module+"/"+r.pkg {
				continue
			}
			for _, f := range r.forbidden {
				if d == f || strings.HasSuffix(f, "/") && strings.HasPrefix(d, f) {
					t.Errorf("%s depends on %s, which DESIGN.md §3 forbids", r.pkg, d)
				}
			}
		}
	}
}

// TestSimTakesNoClockOrRandomness checks sim's own imports: a clock, global
// randomness or I/O there would make screens irreproducible. (Libraries it
// uses may import time for their own timeouts.)
func TestSimTakesNoClockOrRandomness(t *testing.T) {
	imports := goList(t, "-f", "{{join .Imports \"\\n\"}}", module+"/sim")
	if !slices.Contains(imports, "strings") {
		t.Fatalf("go list gave no imports for sim: %q", imports)
	}
	for _, imp := range imports {
		switch imp {
		case "time", "math/rand", "crypto/rand", "os", "io", "net", "io/fs", "os/exec":
			t.Errorf("sim imports %s", imp)
		}
	}
}

// TestSimRandomnessIsSeeded allows math/rand/v2 in sim only for generators
// built from a seed (rand.New, rand.NewPCG, …); its package-level functions
// draw from a global source and would make screens irreproducible.
func TestSimRandomnessIsSeeded(t *testing.T) {
	files, err := filepath.Glob("../../sim/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sim files: %v", err)
	}
	allowed := map[string]bool{"New": true, "NewPCG": true, "NewChaCha8": true, "Rand": true, "PCG": true, "Source": true, "ChaCha8": true}
	fset := token.NewFileSet()
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		name := ""
		for _, imp := range f.Imports {
			if strings.Trim(imp.Path.Value, `"`) == "math/rand/v2" {
				name = "rand"
				if imp.Name != nil {
					name = imp.Name.Name
				}
			}
		}
		if name == "" {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == name && !allowed[sel.Sel.Name] {
					t.Errorf("%s: rand.%s uses the global source; take a seed", fset.Position(sel.Pos()), sel.Sel.Name)
				}
			}
			return true
		})
	}
}

// TestNoPackageVariables rejects package-level var declarations in the
// packages whose state must be per session (errors.New sentinels are
// allowed: they are never changed, and callers compare against them).
func TestNoPackageVariables(t *testing.T) {
	var files []string
	for _, dir := range []string{"session", "session/room", "lessons", "lessons/ui", "sim"} {
		fs, err := filepath.Glob(filepath.Join("../..", dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, fs...)
	}
	if len(files) < 20 {
		t.Fatalf("found only %d files", len(files))
	}
	fset := token.NewFileSet()
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			g, ok := decl.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				if embedded(g, vs) || sentinel(vs) {
					continue
				}
				for _, n := range vs.Names {
					if n.Name != "_" {
						t.Errorf("%s: package-level var %s", fset.Position(n.Pos()), n.Name)
					}
				}
			}
		}
	}
}

// embedded reports a //go:embed variable: read-only data in the binary.
func embedded(g *ast.GenDecl, vs *ast.ValueSpec) bool {
	for _, doc := range []*ast.CommentGroup{g.Doc, vs.Doc} {
		if doc != nil && strings.Contains(doc.Text(), "go:embed") {
			return true
		}
		if doc != nil {
			for _, c := range doc.List {
				if strings.HasPrefix(c.Text, "//go:embed") {
					return true
				}
			}
		}
	}
	return false
}

// sentinel reports var ErrX = errors.New(...).
func sentinel(vs *ast.ValueSpec) bool {
	if len(vs.Values) != len(vs.Names) {
		return false
	}
	for i, v := range vs.Values {
		call, ok := v.(*ast.CallExpr)
		if !ok || !strings.HasPrefix(vs.Names[i].Name, "Err") {
			return false
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || sel.Sel.Name != "New" {
			return false
		}
	}
	return true
}
