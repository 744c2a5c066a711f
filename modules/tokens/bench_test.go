package tokens_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/agentidp/agentidp/modules/tokens"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/testenv"
)

// benchIssue measures the token endpoint's whole in-process path on PostgreSQL + Redis:
// the server's handler (front door, routing, form parsing), the brute-force guard, the
// secret check, the agent lookup, the rate limit and the quota (Redis), the signature and
// the audit event's group commit (PostgreSQL). Only the TCP hop is left out. Limits are
// raised so that they count but never refuse. 16 requests per core are in flight, as
// under load: the path waits on Redis and on the group commit more than it computes.
func benchIssue(b *testing.B, alg string) {
	e := newEnv(b, testenv.PostgresBackend(b), func(c *config.Config) {
		c.SigningAlg = alg
		c.TokenRateLimit = 1e9
		c.TokenRateBurst = 1_000_000
		c.FreeTierMonthlyTokens = 1 << 40
		c.LogLevel = "warn"
	})
	h := e.app.Server.Handler()
	body := url.Values{"grant_type": {"client_credentials"}, "scope": {"agents:read"}}.Encode()
	auth := basic(e.admin.ID, e.admin.Secret)
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, tokens.PathToken, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Authorization", auth)
			req.RemoteAddr = "10.0.0.1:1234"
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
}

func BenchmarkIssueRS256(b *testing.B) { benchIssue(b, "RS256") }
func BenchmarkIssueEdDSA(b *testing.B) { benchIssue(b, "EdDSA") }

// BenchmarkVerifyLive is the API's bearer check (httpserver.Verifier from the graph) of a
// token already seen, on PostgreSQL + Redis: the verified cache, then the revocation
// check (in-process set, then one Redis GET), the agent and the credential (cached by
// their modules).
func BenchmarkVerifyLive(b *testing.B) {
	e := newEnv(b, testenv.PostgresBackend(b), nil)
	tok := e.adminToken()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.verifier.Verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}
