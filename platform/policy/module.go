package policy

import "go.uber.org/fx"

// Module provides the Engine. It needs a *zap.Logger and a
// prometheus.Registerer from the graph.
var Module = fx.Module("policy", fx.Provide(New))
