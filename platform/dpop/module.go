package dpop

import (
	"go.uber.org/fx"

	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/config"
)

// Module provides the server's *Verifier (it needs *config.Config and cache.Cache).
var Module = fx.Module("dpop", fx.Provide(newModuleVerifier))

func newModuleVerifier(cfg *config.Config, c cache.Cache) *Verifier { return New(cfg, c) }
