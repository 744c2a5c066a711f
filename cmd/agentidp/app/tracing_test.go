package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
	"go.uber.org/fx/fxtest"

	"github.com/agentidp/agentidp/cmd/agentidp/app"
	"github.com/agentidp/agentidp/platform/httpserver"
	"github.com/agentidp/agentidp/platform/testenv"
	"github.com/agentidp/agentidp/platform/tracing"
)

// A token request through the real server on PostgreSQL + Redis yields a server span named
// after the route, with bun query spans under it and Redis command spans, and no span name or
// attribute carries the client secret or the token issued.
func TestIntegrationTracingSpans(t *testing.T) {
	cfg := testenv.Config(t)
	cfg.DatabaseURL = testenv.PostgresURL(t)
	_, prefix := testenv.RedisClient(t)
	cfg.RedisURL, cfg.RedisKeyPrefix = testenv.RedisURL(), prefix
	cfg.BootstrapClientID = uuid.NewString()
	cfg.BootstrapClientSecret = newSecret()
	exp := tracetest.NewInMemoryExporter()
	var srv *httpserver.Server
	a := fxtest.New(t,
		app.Options(cfg,
			fx.Decorate(func(*tracing.Tracing) (*tracing.Tracing, error) {
				return tracing.Enable(sdktrace.WithSyncer(exp))
			}),
			fx.Populate(&srv),
		),
		fx.WithLogger(func() fxevent.Logger { return fxevent.NopLogger }),
	)
	a.RequireStart()
	t.Cleanup(a.RequireStop)
	exp.Reset()

	code, out := form(t, srv.URL(), "/api/v1/token", url.Values{"grant_type": {"client_credentials"}},
		cfg.BootstrapClientID, cfg.BootstrapClientSecret, "")
	if code != http.StatusOK {
		t.Fatalf("token: %d %v", code, out)
	}
	token := out["access_token"].(string)
	// The token used once, so that its verification runs too.
	if c := status(t, "GET", srv.URL()+"/api/v1/agents", token, ""); c != http.StatusOK {
		t.Fatalf("agents: %d", c)
	}

	spans := exp.GetSpans()
	// Database and Redis spans per trace, and the trace of each route's server span.
	db, redis, traces := map[string]int{}, map[string]int{}, map[string]string{}
	for _, s := range spans {
		tid := s.SpanContext.TraceID().String()
		if s.SpanKind == trace.SpanKindServer {
			traces[s.Name] = tid
		}
		for _, kv := range s.Attributes {
			if kv.Key == "db.system" && kv.Value.AsString() == "redis" {
				redis[tid]++
			} else if kv.Key == "db.system" {
				db[tid]++
			}
		}
	}
	tok, ok := traces["POST /api/v1/token"]
	if !ok {
		t.Fatalf("no server span named after the route: %v", traces)
	}
	agents := traces["GET /api/v1/agents"]
	if db[tok] == 0 || db[agents] == 0 {
		t.Errorf("no database spans under the requests: token %d, agents %d", db[tok], db[agents])
	}
	// The cache batches requests' commands into shared pipelines (platform/cache
	// redis_pipeline.go) on a context of its own: its spans are traces of their own.
	n := 0
	for _, c := range redis {
		n += c
	}
	if n == 0 {
		t.Errorf("no Redis spans (%d spans: %v)", len(spans), names(spans))
	}
	secrets := []string{cfg.BootstrapClientSecret, token, token[:40]}
	for _, s := range spans {
		for _, sec := range secrets {
			if strings.Contains(s.Name, sec) {
				t.Errorf("span name %q carries a secret", s.Name)
			}
			for _, kv := range s.Attributes {
				if strings.Contains(kv.Value.String(), sec) {
					t.Errorf("span %q attribute %s carries a secret", s.Name, kv.Key)
				}
			}
		}
	}
}

func names(spans tracetest.SpanStubs) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}
