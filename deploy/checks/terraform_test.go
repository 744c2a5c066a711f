package checks

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// terraformRoot is the Terraform tree the tests read.
const terraformRoot = "../terraform"

// tfModule is one directory of .tf files, parsed: what `terraform validate` would load,
// without the providers' schemas (they cannot be downloaded here).
type tfModule struct {
	dir       string
	bodies    []*hclsyntax.Body
	variables map[string]tfVariable
	outputs   map[string]bool
	locals    map[string]bool
	calls     []tfCall
}

type tfVariable struct {
	block       *hclsyntax.Block
	hasDefault  bool
	description bool
	typ         bool
}

// tfCall is a module block.
type tfCall struct {
	name   string
	source string
	args   map[string]*hclsyntax.Attribute
	block  *hclsyntax.Block
}

// moduleMeta are a module block's meta-arguments, not input variables.
var moduleMeta = map[string]bool{"source": true, "version": true, "count": true, "for_each": true, "depends_on": true, "providers": true}

// loadTerraform parses every directory under root that holds .tf files.
func loadTerraform(t *testing.T, root string) map[string]*tfModule {
	t.Helper()
	mods := map[string]*tfModule{}
	parser := hclparse.NewParser()
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".tf" {
			return err
		}
		f, diags := parser.ParseHCLFile(path)
		if diags.HasErrors() {
			t.Errorf("%s: %s", path, diags.Error())
			return nil
		}
		dir := filepath.Dir(path)
		m := mods[dir]
		if m == nil {
			m = &tfModule{dir: dir, variables: map[string]tfVariable{}, outputs: map[string]bool{}, locals: map[string]bool{}}
			mods[dir] = m
		}
		body := f.Body.(*hclsyntax.Body)
		m.bodies = append(m.bodies, body)
		for _, b := range body.Blocks {
			switch b.Type {
			case "variable":
				_, def := b.Body.Attributes["default"]
				_, desc := b.Body.Attributes["description"]
				_, typ := b.Body.Attributes["type"]
				m.variables[b.Labels[0]] = tfVariable{block: b, hasDefault: def, description: desc, typ: typ}
			case "output":
				m.outputs[b.Labels[0]] = true
			case "locals":
				for name := range b.Body.Attributes {
					m.locals[name] = true
				}
			case "module":
				c := tfCall{name: b.Labels[0], args: map[string]*hclsyntax.Attribute{}, block: b}
				for name, a := range b.Body.Attributes {
					if name == "source" {
						c.source = stringLiteral(t, a.Expr)
						continue
					}
					if !moduleMeta[name] {
						c.args[name] = a
					}
				}
				m.calls = append(m.calls, c)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) == 0 {
		t.Fatalf("no .tf files under %s", root)
	}
	return mods
}

func stringLiteral(t *testing.T, e hclsyntax.Expression) string {
	t.Helper()
	v, diags := e.Value(nil)
	if diags.HasErrors() || v.Type() != cty.String {
		t.Errorf("%s: want a string literal", e.Range())
		return ""
	}
	return v.AsString()
}

func TestTerraformVariablesHaveDescriptionAndType(t *testing.T) {
	for _, m := range loadTerraform(t, terraformRoot) {
		for name, v := range m.variables {
			if !v.description || !v.typ {
				t.Errorf("%s: variable %q wants both description and type", v.block.Range(), name)
			}
		}
		for _, body := range m.bodies {
			for _, b := range body.Blocks {
				if b.Type == "output" {
					if _, ok := b.Body.Attributes["description"]; !ok {
						t.Errorf("%s: output %q wants a description", b.Range(), b.Labels[0])
					}
				}
			}
		}
	}
}

func TestTerraformModuleCallsMatchTheirModules(t *testing.T) {
	mods := loadTerraform(t, terraformRoot)
	used := map[string]bool{}
	for _, m := range mods {
		for _, c := range m.calls {
			if !strings.HasPrefix(c.source, "./") && !strings.HasPrefix(c.source, "../") {
				t.Errorf("%s: module %q: source %q is not a local path", c.block.Range(), c.name, c.source)
				continue
			}
			target := mods[filepath.Join(m.dir, c.source)]
			if target == nil {
				t.Errorf("%s: module %q: no .tf files at %s", c.block.Range(), c.name, filepath.Join(m.dir, c.source))
				continue
			}
			used[target.dir] = true
			for arg, a := range c.args {
				if _, ok := target.variables[arg]; !ok {
					t.Errorf("%s: module %q passes %q, which %s does not declare", a.Range(), c.name, arg, target.dir)
				}
			}
			for name, v := range target.variables {
				if _, ok := c.args[name]; !v.hasDefault && !ok {
					t.Errorf("%s: module %q does not pass %q, which %s requires", c.block.Range(), c.name, name, target.dir)
				}
			}
		}
	}
	for dir := range mods {
		if strings.Contains(dir, string(filepath.Separator)+"modules"+string(filepath.Separator)) && !used[dir] {
			t.Errorf("%s: module used by no environment", dir)
		}
	}
}

// TestTerraformReferencesResolve checks what terraform validate would check without the
// providers: every var., local. and module.<name>.<output> reference names something declared.
func TestTerraformReferencesResolve(t *testing.T) {
	mods := loadTerraform(t, terraformRoot)
	for _, m := range mods {
		outputsOf := map[string]map[string]bool{}
		for _, c := range m.calls {
			if target := mods[filepath.Join(m.dir, c.source)]; target != nil {
				outputsOf[c.name] = target.outputs
			}
		}
		for _, body := range m.bodies {
			hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
				e, ok := n.(*hclsyntax.ScopeTraversalExpr)
				if !ok {
					return nil
				}
				tr := e.Traversal
				attr := func(i int) string {
					if len(tr) > i {
						if a, ok := tr[i].(hcl.TraverseAttr); ok {
							return a.Name
						}
					}
					return ""
				}
				switch tr.RootName() {
				case "var":
					if _, ok := m.variables[attr(1)]; !ok {
						t.Errorf("%s: var.%s is not declared", e.Range(), attr(1))
					}
				case "local":
					if !m.locals[attr(1)] {
						t.Errorf("%s: local.%s is not declared", e.Range(), attr(1))
					}
				case "module":
					outs, ok := outputsOf[attr(1)]
					if !ok {
						t.Errorf("%s: no module %q here", e.Range(), attr(1))
					} else if out := attr(2); out != "" && !outs[out] {
						t.Errorf("%s: module %q has no output %q", e.Range(), attr(1), out)
					}
				}
				return nil
			})
		}
	}
}

var (
	// secretName matches the attribute and map keys that hold secrets.
	secretName = regexp.MustCompile(`(?i)(password|passwd|secret|token|master_key|pepper|private_key|access_key|api_key|secret_string|secret_data)$`)
	// urlCredentials matches user:password@ written into a URL.
	urlCredentials = regexp.MustCompile(`://[^/\s:@]+:[^/\s@]+@`)
)

// isLiteral reports whether e is a constant: a literal or a template without interpolation.
func isLiteral(e hclsyntax.Expression) bool {
	switch x := e.(type) {
	case *hclsyntax.LiteralValueExpr:
		return !x.Val.IsNull()
	case *hclsyntax.TemplateExpr:
		return x.IsStringLiteral()
	case *hclsyntax.TemplateWrapExpr:
		return isLiteral(x.Wrapped)
	}
	return false
}

func TestTerraformHasNoSecretLiteral(t *testing.T) {
	for _, m := range loadTerraform(t, terraformRoot) {
		for _, body := range m.bodies {
			checkNoSecretLiteral(t, body)
		}
	}
}

func checkNoSecretLiteral(t *testing.T, body *hclsyntax.Body) {
	t.Helper()
	hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
		switch x := n.(type) {
		case *hclsyntax.Attribute:
			if secretName.MatchString(x.Name) && isLiteral(x.Expr) {
				t.Errorf("%s: %s is a literal; generate it or read it from a variable or a secret store", x.Range(), x.Name)
			}
		case *hclsyntax.ObjectConsExpr:
			for _, item := range x.Items {
				key := hcl.ExprAsKeyword(item.KeyExpr)
				if key == "" {
					if v, diags := item.KeyExpr.Value(nil); !diags.HasErrors() && v.Type() == cty.String {
						key = v.AsString()
					}
				}
				if secretName.MatchString(key) && isLiteral(item.ValueExpr) {
					t.Errorf("%s: %s is a literal; generate it or read it from a variable or a secret store", item.ValueExpr.Range(), key)
				}
			}
		case *hclsyntax.TemplateExpr:
			for _, part := range x.Parts {
				if lit, ok := part.(*hclsyntax.LiteralValueExpr); ok && lit.Val.Type() == cty.String && urlCredentials.MatchString(lit.Val.AsString()) {
					t.Errorf("%s: a URL with a literal password", lit.Range())
				}
			}
		}
		return nil
	})
}

// TestTerraformSecretLiteralCheckCatches feeds the secret check what it must refuse.
func TestTerraformSecretLiteralCheckCatches(t *testing.T) {
	for _, src := range []string{
		`resource "x" "y" { password = "hunter2" }`,
		`resource "x" "y" { secret_string = jsonencode({ AGENTIDP_MASTER_KEY = "c2VjcmV0" }) }`,
		`locals { url = "postgres://agentidp:hunter2@db:5432/agentidp" }`,
		`resource "x" "y" { env = { "AGENTIDP_SECRET_PEPPER" = "abc" } }`,
	} {
		f, diags := hclsyntax.ParseConfig([]byte(src), "case.tf", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		inner := &testing.T{}
		checkNoSecretLiteral(inner, f.Body.(*hclsyntax.Body))
		if !inner.Failed() {
			t.Errorf("not refused: %s", src)
		}
	}
}

// TestTerraformEnvironmentsWireTheSameModules: environments/aws and environments/gcp call the
// same set of modules, each from modules/<name>/<cloud>, and each declares its region with
// the documented default.
func TestTerraformEnvironmentsWireTheSameModules(t *testing.T) {
	mods := loadTerraform(t, terraformRoot)
	want := map[string]string{"aws": "us-east-1", "gcp": "us-central1"}
	var sets [][]string
	for cloud, region := range want {
		env := mods[filepath.Join(terraformRoot, "environments", cloud)]
		if env == nil {
			t.Fatalf("no environments/%s", cloud)
		}
		var names []string
		for _, c := range env.calls {
			names = append(names, c.name)
			if wantSrc := "../../modules/" + c.name + "/" + cloud; c.source != wantSrc {
				t.Errorf("environments/%s: module %q from %q, want %q", cloud, c.name, c.source, wantSrc)
			}
		}
		sort.Strings(names)
		sets = append(sets, names)
		for _, m := range []string{"network", "registry", "rds", "redis", "agentidp", "lb"} {
			if !slices.Contains(names, m) {
				t.Errorf("environments/%s does not wire module %q", cloud, m)
			}
		}
		v, ok := env.variables[cloud+"_region"]
		if !ok {
			t.Errorf("environments/%s: no variable %s_region", cloud, cloud)
			continue
		}
		def, diags := v.block.Body.Attributes["default"].Expr.Value(nil)
		if diags.HasErrors() || def.Type() != cty.String || def.AsString() != region {
			t.Errorf("environments/%s: %s_region defaults to %#v, want %q", cloud, cloud, def, region)
		}
	}
	if !slices.Equal(sets[0], sets[1]) {
		t.Errorf("the environments wire different modules: %v and %v", sets[0], sets[1])
	}
}
