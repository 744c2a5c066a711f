package credentials

import (
	"go.uber.org/fx"

	"github.com/agentidp/agentidp/platform/httpserver"
)

// Module is the credentials bounded context: its routes, the Verifier the token endpoint
// uses, the Directory token validation uses, the Bootstrapper, the agents lifecycle hook
// (decommission revokes every credential) and its background loops (last_used_at flusher,
// Vault janitor). Add AutoBootstrap to the serving app for the first-start bootstrap.
var Module = fx.Module("credentials",
	fx.Provide(fx.Private, newService),
	fx.Provide(
		func(s *service) Verifier { return s },
		func(s *service) Directory { return s },
		func(s *service) Bootstrapper { return s },
	),
	fx.Provide(httpserver.AsRoutes(newRoutes)),
)
