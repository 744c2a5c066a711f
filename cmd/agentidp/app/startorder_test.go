package app_test

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
	"go.uber.org/fx/fxtest"

	"github.com/agentidp/agentidp/cmd/agentidp/app"
	"github.com/agentidp/agentidp/platform/testenv"
)

// hookLog records the start hooks in the order they run.
type hookLog struct {
	mu    sync.Mutex
	hooks []string
}

func (l *hookLog) LogEvent(e fxevent.Event) {
	if s, ok := e.(*fxevent.OnStartExecuting); ok {
		l.mu.Lock()
		l.hooks = append(l.hooks, s.FunctionName)
		l.mu.Unlock()
	}
}

// The HTTP server starts listening last: after the migrations, the signing keys and the
// bootstrap admin, so that a client that sees the server answer (a load balancer polling
// /readyz, a script reading the bootstrap line) never gets a 401 for an admin that is still
// being created.
func TestServerListensAfterEveryOtherStartHook(t *testing.T) {
	cfg := testenv.Config(t)
	log := &hookLog{}
	a := fxtest.New(t, app.Options(cfg), fx.WithLogger(func() fxevent.Logger { return log }))
	a.RequireStart()
	a.RequireStop()
	at := func(part string) int {
		return slices.IndexFunc(log.hooks, func(h string) bool { return strings.Contains(h, part) })
	}
	server, bootstrap := at("httpserver.(*Server).start"), at("credentials.AutoBootstrapTo")
	if server < 0 || bootstrap < 0 {
		t.Fatalf("hooks not found (server %d, bootstrap %d) in %q", server, bootstrap, log.hooks)
	}
	if server != len(log.hooks)-1 && !strings.Contains(log.hooks[len(log.hooks)-1], "pprof") {
		t.Errorf("the server is not the last start hook: %q", log.hooks)
	}
	if bootstrap > server {
		t.Errorf("the bootstrap runs after the server listens: %q", log.hooks)
	}
}
