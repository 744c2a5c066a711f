package app_test

import (
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
