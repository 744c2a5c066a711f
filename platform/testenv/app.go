package testenv

import (
	"context"
	"crypto/rand"
	"net/http"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
	"go.uber.org/fx/fxtest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/dpop"
	"github.com/agentidp/agentidp/platform/health"
	"github.com/agentidp/agentidp/platform/httpserver"
	"github.com/agentidp/agentidp/platform/metrics"
	"github.com/agentidp/agentidp/platform/policy"
	"github.com/agentidp/agentidp/platform/vault"
)

// Backend is one combination of stores a test runs against.
type Backend struct {
	Name  string // "postgres" or "sqlite"
	DB    *bun.DB
	Cache cache.Cache
}

// ForEachBackend runs fn as a subtest on PostgreSQL + Redis and on SQLite + the in-process
// cache, each fresh for the subtest.
func ForEachBackend(t *testing.T, fn func(t *testing.T, b Backend)) {
	t.Helper()
	t.Run("postgres", func(t *testing.T) { fn(t, PostgresBackend(t)) })
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLiteBackend(t)) })
}

// PostgresBackend is a fresh PostgreSQL database and Redis key space.
func PostgresBackend(t testing.TB) Backend {
	return Backend{Name: "postgres", DB: Postgres(t), Cache: RedisCache(t)}
}

// SQLiteBackend is a fresh SQLite database and in-process cache.
func SQLiteBackend(t testing.TB) Backend {
	return Backend{Name: "sqlite", DB: SQLite(t), Cache: MemoryCache(t)}
}

// Config is a test configuration: embedded defaults, a random master key and pepper, the
// server on 127.0.0.1 with a free port. Adjust fields before building the app.
func Config(t testing.TB) *config.Config {
	t.Helper()
	cfg, err := config.Load("", []string{
		"AGENTIDP_HTTP_ADDR=127.0.0.1:0",
		"AGENTIDP_DATA_DIR=" + t.TempDir(),
		"AGENTIDP_LOG_LEVEL=debug",
		"AGENTIDP_KEY_PUBLISH_DELAY=0s",
	})
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	cfg.MasterKey = randomBytes(32)
	cfg.SecretPepper = randomBytes(32)
	return cfg
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// App is a started fxtest application.
type App struct {
	*fxtest.App
	Server *httpserver.Server
	URL    string
}

// NewApp builds and starts an fxtest app from the platform's HTTP, policy, metrics and
// vault modules on backend b and cfg, plus the options of the module(s) under test. It is
// stopped at cleanup. Populate extra values with fx.Populate in opts.
func NewApp(t testing.TB, cfg *config.Config, b Backend, opts ...fx.Option) *App {
	t.Helper()
	var srv *httpserver.Server
	a := fxtest.New(t,
		fx.WithLogger(func() fxevent.Logger { return fxevent.NopLogger }),
		fx.Supply(cfg, b.DB),
		fx.Provide(
			func() *zap.Logger { return zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)) },
			func() cache.Cache { return b.Cache },
		),
		metrics.Module,
		vault.Module,
		policy.Module,
		dpop.Module,
		httpserver.Module,
		fx.Provide(health.AsCheck(func(c cache.Cache) health.Check { return health.Check{Name: "cache", Check: c.Ping} })),
		fx.Options(opts...),
		httpserver.Serve,
		fx.Populate(&srv),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Start(ctx); err != nil {
		t.Fatalf("testenv: starting app: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = a.Stop(ctx)
	})
	return &App{App: a, Server: srv, URL: srv.URL()}
}

// Client is an HTTP client for tests, with a timeout.
var Client = &http.Client{Timeout: 30 * time.Second}
