// Package app assembles the whole AgentIdP Fx application: the platform modules plus one
// line per bounded-context module.
package app

import (
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"

	"github.com/agentidp/agentidp/dashboard"
	"github.com/agentidp/agentidp/modules/agents"
	"github.com/agentidp/agentidp/modules/apis"
	"github.com/agentidp/agentidp/modules/audit"
	"github.com/agentidp/agentidp/modules/credentials"
	"github.com/agentidp/agentidp/modules/metering"
	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/modules/tokens"
	"github.com/agentidp/agentidp/platform/bundle"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/httpserver"
)

// Modules are the bounded contexts, one line each.
var Modules = fx.Options(
	orgs.Module,
	apis.Module,
	agents.Module,
	audit.Module,
	credentials.Module,
	metering.Module,
	tokens.Module,
)

// ServeOnly are options that only `agentidp serve` runs (e.g. the bootstrap on first start).
var ServeOnly = fx.Options(
	credentials.AutoBootstrap,
)

// Dashboard serves the embedded web console at /dashboard/ (the HTTP server mounts it last).
var Dashboard = fx.Provide(fx.Annotate(dashboard.Handler, fx.ResultTags(`name:"dashboard"`)))

// Options is the server for cfg: platform, modules, serve-only hooks, plus extra options,
// and the HTTP server last (httpserver.Serve), so that it listens only once the migrations,
// the first signing key and the bootstrap admin are in place: whoever sees /readyz answer
// finds the admin there. With every module's routes mounted, the start also checks that
// every entry of the policy's route table names a mounted route.
func Options(cfg *config.Config, extra ...fx.Option) fx.Option {
	return fx.Options(bundle.Supply(cfg), bundle.Platform, Modules, ServeOnly, Dashboard,
		fx.Options(extra...), httpserver.Serve, httpserver.EveryPolicyRouteMounted)
}

// Command is the application without the HTTP server, for CLI commands: start it, use
// what extra populates, stop it. Fx's own event log is silenced.
func Command(cfg *config.Config, extra ...fx.Option) fx.Option {
	return fx.Options(bundle.Supply(cfg), bundle.Core, Modules, fx.Options(extra...),
		fx.WithLogger(func() fxevent.Logger { return fxevent.NopLogger }))
}
