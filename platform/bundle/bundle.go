// Package bundle groups the platform's Fx modules. The binary's assembly
// (cmd/agentidp/app) adds the bounded-context modules to it; platform/ itself never
// imports modules/.
package bundle

import (
	"go.uber.org/fx"

	"github.com/agentidp/agentidp/platform/apidoc"
	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/database"
	"github.com/agentidp/agentidp/platform/dpop"
	"github.com/agentidp/agentidp/platform/health"
	"github.com/agentidp/agentidp/platform/httpserver"
	"github.com/agentidp/agentidp/platform/log"
	"github.com/agentidp/agentidp/platform/metrics"
	"github.com/agentidp/agentidp/platform/policy"
	"github.com/agentidp/agentidp/platform/tracing"
	"github.com/agentidp/agentidp/platform/vault"
)

// Core is every shared module but the HTTP server (what CLI commands need), expecting a
// *config.Config in the graph.
var Core = fx.Options(
	log.Module,
	metrics.Module,
	tracing.Module,
	database.Module,
	cache.Module,
	dpop.Module,
	vault.Module,
	policy.Module,
	fx.Provide(
		fx.Annotate(vaultCheck, fx.ResultTags(`group:"readiness,flatten"`)),
	),
)

// Platform is Core plus the HTTP server's provider and the OpenAPI document's route (what
// `agentidp serve` runs); the app adds httpserver.Serve last, so that the server listens
// only after every other start hook.
var Platform = fx.Options(Core, httpserver.Module, apidoc.Module)

// vaultCheck contributes the "vault" readiness check only when Vault mode is on.
func vaultCheck(kv vault.KV) []health.Check {
	if !vault.Enabled(kv) {
		return nil
	}
	return []health.Check{{Name: "vault", Check: kv.Ready}}
}

// Supply puts an already loaded configuration in the graph.
func Supply(cfg *config.Config) fx.Option { return fx.Supply(cfg) }
