// Package app assembles the whole AgentIdP Fx application: the platform modules plus one
// line per bounded-context module.
package app

import (
	"go.uber.org/fx"

	"github.com/agentidp/agentidp/platform/app"
	"github.com/agentidp/agentidp/platform/config"
)

// Modules are the bounded contexts, one line each.
var Modules = fx.Options()

// Options is the full application for cfg, plus any extra options (tests, commands).
func Options(cfg *config.Config, extra ...fx.Option) fx.Option {
	return fx.Options(
		app.Supply(cfg),
		app.Platform,
		Modules,
		fx.Options(extra...),
	)
}
