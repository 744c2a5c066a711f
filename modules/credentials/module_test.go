package credentials

import (
	"testing"

	"github.com/uptrace/bun"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/modules/agents"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/httpserver"
	"github.com/agentidp/agentidp/platform/policy"
	"github.com/agentidp/agentidp/platform/vault"
)

// The module's graph is complete given the platform and the agents API, and only its API
// (Verifier, Directory, Bootstrapper, routes) is visible outside it: the verifier, the
// admin service, the caches and the workers' parts are internals.
func TestModuleExportsOnlyItsAPI(t *testing.T) {
	deps := fx.Provide(
		func() *bun.DB { return nil },
		func() cache.Cache { return nil },
		func() vault.KV { return nil },
		func() policy.Engine { return nil },
		func() audittrail.Recorder { return nil },
		func() *config.Config { return nil },
		func() *zap.Logger { return nil },
		func() agents.Directory { return nil },
		func() agents.Lifecycle { return nil },
		func() agents.Provisioner { return nil },
		func() agents.Authority { return nil },
	)
	ok := fx.Invoke(func(Verifier, Directory, Bootstrapper) {}, fx.Annotate(func([]httpserver.Route) {}, fx.ParamTags(`group:"routes"`)))
	if err := fx.ValidateApp(fx.NopLogger, Module, deps, ok); err != nil {
		t.Fatalf("public API: %v", err)
	}
	for name, inv := range map[string]any{
		"verifier":    func(*verifier) {},
		"service":     func(*service) {},
		"repository":  func(repository) {},
		"caches":      func(*caches) {},
		"usage":       func(*usageTracker) {},
		"invalidator": func(*invalidator) {},
		"hasher":      func(*hasher) {},
	} {
		if err := fx.ValidateApp(fx.NopLogger, Module, deps, fx.Invoke(inv)); err == nil {
			t.Errorf("%s is visible outside the module", name)
		}
	}
}
