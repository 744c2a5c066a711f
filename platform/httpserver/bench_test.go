package httpserver_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/httpserver"
)

// BenchmarkMiddlewareChain measures the whole chain around an empty handler: front door
// (request id, headers, body limit, recovery, access log, metrics) for a public route, and
// additionally bearer authentication (a map-backed test verifier) and the OPA decision for
// a protected one. Run: go test -run xxx -bench MiddlewareChain -benchmem ./platform/httpserver/
func BenchmarkMiddlewareChain(b *testing.B) {
	t := &testing.T{}
	empty := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	f := newFixture(t, func(_ *config.Config, p *httpserver.Params) {
		p.Log = zap.NewNop()
		p.Routes = append(p.Routes,
			httpserver.Route{Method: "GET", Path: "/empty", Auth: httpserver.AuthNone, Handler: empty},
			httpserver.Route{Method: "GET", Path: "/api/v1/agents", Handler: empty},
		)
	})
	tok := f.bearers.Issue("caller", "agents:read")
	for _, c := range []struct{ name, path, auth string }{
		{"public", "/empty", ""},
		{"protected", "/api/v1/agents", "Bearer " + tok},
	} {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", c.path, nil)
			if c.auth != "" {
				req.Header.Set("Authorization", c.auth)
			}
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				f.handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusNoContent {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}
