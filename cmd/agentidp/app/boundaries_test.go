package app_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const modulePath = "github.com/agentidp/agentidp"

// surfaceFiles are the files of a module whose top-level names other code may use: api.go
// (interfaces, DTOs, errors, constants) and module.go (the Fx Module and options).
var surfaceFiles = []string{"api.go", "module.go"}

// TestModuleBoundaries keeps the bounded contexts apart. Code outside a module (another
// module, cmd/, tests of another module) uses only names the module declares in api.go or
// module.go; and platform/ never depends on modules/ or cmd/, even indirectly.
func TestModuleBoundaries(t *testing.T) {
	root := repoRoot(t)
	surfaces := moduleSurfaces(t, root)
	checked := 0
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		for _, use := range moduleUses(t, path) {
			own := strings.HasPrefix(filepath.ToSlash(rel), "modules/"+use.module+"/")
			if own {
				continue
			}
			checked++
			if !surfaces[use.module][use.name] {
				t.Errorf("%s uses %s.%s, which modules/%s declares outside %s", rel, use.module, use.name,
					use.module, strings.Join(surfaceFiles, " and "))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatal("no use of a module from outside it was found: the test checks nothing")
	}

	out, err := exec.Command("go", "list", "-deps", modulePath+"/platform/...").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, modulePath+"/modules/") || strings.HasPrefix(dep, modulePath+"/cmd/") {
			t.Errorf("platform depends on %s", dep)
		}
	}
}

// repoRoot is the repository's root (two levels above this package).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod at %s", root)
	}
	return root
}

// moduleSurfaces maps each module to the top-level names of its surface files.
func moduleSurfaces(t *testing.T, root string) map[string]map[string]bool {
	t.Helper()
	dirs, err := os.ReadDir(filepath.Join(root, "modules"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]bool{}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		names := map[string]bool{}
		for _, f := range surfaceFiles {
			path := filepath.Join(root, "modules", d.Name(), f)
			if _, err := os.Stat(path); err != nil {
				continue
			}
			file, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			for _, decl := range file.Decls {
				for _, n := range declaredNames(decl) {
					names[n] = true
				}
			}
		}
		out[d.Name()] = names
	}
	return out
}

func declaredNames(decl ast.Decl) []string {
	var out []string
	switch d := decl.(type) {
	case *ast.FuncDecl:
		if d.Recv == nil {
			out = append(out, d.Name.Name)
		}
	case *ast.GenDecl:
		for _, spec := range d.Specs {
			switch s := spec.(type) {
			case *ast.TypeSpec:
				out = append(out, s.Name.Name)
			case *ast.ValueSpec:
				for _, n := range s.Names {
					out = append(out, n.Name)
				}
			}
		}
	}
	return out
}

// use is one reference module.name in a file.
type use struct{ module, name string }

// moduleUses lists the references a file makes to names of the modules it imports.
func moduleUses(t *testing.T, path string) []use {
	t.Helper()
	file, err := parser.ParseFile(token.NewFileSet(), path, nil, 0) // resolved: a local variable is not a package
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	imported := map[string]string{} // local name → module
	for _, im := range file.Imports {
		p, _ := strconv.Unquote(im.Path.Value)
		mod, ok := strings.CutPrefix(p, modulePath+"/modules/")
		if !ok {
			continue
		}
		if strings.Contains(mod, "/") {
			t.Errorf("%s imports %s: a module is used only through its root package", path, p)
			continue
		}
		name := mod
		if im.Name != nil {
			name = im.Name.Name
		}
		imported[name] = mod
	}
	var out []use
	ast.Inspect(file, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && id.Obj == nil {
				if mod, ok := imported[id.Name]; ok {
					out = append(out, use{mod, sel.Sel.Name})
				}
			}
		}
		return true
	})
	return slices.Clip(out)
}
