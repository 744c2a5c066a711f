package agents

import (
	"testing"

	"github.com/uptrace/bun"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/modules/apis"
	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/httpserver"
	"github.com/agentidp/agentidp/platform/policy"
)

// The module's graph is complete given the platform, and only its API (Directory,
// Lifecycle, Provisioner, routes) is visible outside it.
func TestModuleExportsOnlyItsAPI(t *testing.T) {
	deps := fx.Provide(
		func() *bun.DB { return nil },
		func() cache.Cache { return nil },
		func() policy.Engine { return nil },
		func() orgs.Directory { return nil },
		func() apis.Grants { return nil },
		func() audittrail.Recorder { return nil },
		func() *config.Config { return nil },
		func() *zap.Logger { return nil },
	)
	ok := fx.Invoke(func(Directory, Lifecycle, Provisioner, Census, Authority, audittrail.AgentOrgs) {}, fx.Annotate(func([]httpserver.Route) {}, fx.ParamTags(`group:"routes"`)))
	if err := fx.ValidateApp(fx.NopLogger, Module, deps, ok); err != nil {
		t.Fatalf("public API: %v", err)
	}
	for name, inv := range map[string]any{
		"service":    func(*service) {},
		"repository": func(repository) {},
		"directory":  func(*directory) {},
		"hooks":      func(*hooks) {},
		"handler":    func(*handler) {},
	} {
		if err := fx.ValidateApp(fx.NopLogger, Module, deps, fx.Invoke(inv)); err == nil {
			t.Errorf("%s is visible outside the module", name)
		}
	}
}
