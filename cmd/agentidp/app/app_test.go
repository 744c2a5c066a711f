package app_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"

	"github.com/agentidp/agentidp/cmd/agentidp/app"
	"github.com/agentidp/agentidp/platform/testenv"
)

// The full graph is complete and acyclic: every dependency of every module is provided.
func TestValidateApp(t *testing.T) {
	cfg := testenv.Config(t)
	if err := fx.ValidateApp(app.Options(cfg)); err != nil {
		t.Fatalf("server app: %v", err)
	}
	if err := fx.ValidateApp(app.Command(cfg)); err != nil {
		t.Fatalf("command app: %v", err)
	}
}

const modulePath = "github.com/agentidp/agentidp"

// TestModuleBoundaries keeps the bounded contexts apart: a module may import another module
// only through its root (API) package, never a sub-package of it, and platform/ never
// depends on modules/, even indirectly.
func TestModuleBoundaries(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, modulePath+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		own := moduleOf(pkg)
		if own == "" {
			continue
		}
		checked++
		for _, imp := range imports {
			other := moduleOf(imp)
			if other == "" || other == own {
				continue
			}
			if imp != modulePath+"/modules/"+other {
				t.Errorf("%s imports %s: another module's internals (use its root API package)", pkg, imp)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no module packages found: the test checks nothing")
	}

	out, err = exec.Command("go", "list", "-deps", modulePath+"/platform/...").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, modulePath+"/modules/") || strings.HasPrefix(dep, modulePath+"/cmd/") {
			t.Errorf("platform depends on %s", dep)
		}
	}
}

// moduleOf names the module a package belongs to, or "" outside modules/.
func moduleOf(pkg string) string {
	rest, ok := strings.CutPrefix(pkg, modulePath+"/modules/")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "/")
	return name
}

// Every app registers its collectors (promauto) in a registry of its own: two apps in one
// process, as the replica tests build, do not collide, and each registry holds every
// module's series.
func TestEveryAppHasItsOwnRegistry(t *testing.T) {
	regs := make([]*prometheus.Registry, 2)
	for i := range regs {
		cfg := testenv.Config(t)
		cfg.LogLevel = "warn"
		a := fx.New(app.Options(cfg), fx.Populate(&regs[i]), fx.NopLogger)
		if err := a.Err(); err != nil {
			t.Fatalf("app %d: %v", i, err)
		}
	}
	if regs[0] == regs[1] {
		t.Fatal("both apps share one registry")
	}
	for i, reg := range regs {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]bool{}
		for _, mf := range mfs {
			have[mf.GetName()] = true
		}
		for _, name := range []string{"agentidp_tokens_issued_total", "agentidp_rate_limited_total",
			"agentidp_cache_operations_total", "agentidp_audit_batch_size", "agentidp_policy_decision_duration_seconds"} {
			if !have[name] {
				t.Errorf("app %d: no %s in its registry", i, name)
			}
		}
	}
}
