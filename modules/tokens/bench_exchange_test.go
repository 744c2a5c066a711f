package tokens_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/agentidp/agentidp/modules/tokens"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/testenv"
)

// cpuTime is the CPU time (user + system) this process has used: the server's, since the
// database and Redis run in processes of their own.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the server's CPU µs per operation since start.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime(b)-start)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
}

// benchEnv is an env on PostgreSQL + Redis whose limits count but never refuse.
func benchEnv(b *testing.B) *env {
	return newEnv(b, testenv.PostgresBackend(b), func(c *config.Config) {
		c.TokenRateLimit = 1e9
		c.TokenRateBurst = 1_000_000
		c.FreeTierMonthlyTokens = 1 << 40
		c.LogLevel = "warn"
	})
}

// threeHops makes A → B → C and returns A's token and C's (sub A, act {C, {B}}).
func threeHops(e *env) (plain, hop3 string, actor client) {
	a := e.newClient([]string{"agents:read"}, nil)
	bb, c := e.newClient([]string{}, nil), e.newClient([]string{}, nil)
	e.setDelegates(a.ID, bb.ID, c.ID)
	e.setDelegates(bb.ID, c.ID)
	plain = e.token(a, "", "")
	return plain, e.exchange(c, e.exchange(bb, plain, nil), nil), bb
}

// BenchmarkExchange is the token endpoint's whole in-process path for a token exchange
// (B acting for A), as BenchmarkIssue* measures the client credentials grant: front door,
// form, client authentication, the subject token's validation (verified cache after the
// first request, then its liveness), the delegates, rate limit and quota (Redis), the
// signature (RS256) and the token.exchanged event's group commit (PostgreSQL).
func BenchmarkExchange(b *testing.B) {
	e := benchEnv(b)
	subject, _, actor := threeHops(e)
	h := e.app.Server.Handler()
	body := url.Values{"grant_type": {grantExchange}, "subject_token": {subject}, "subject_token_type": {typeAccess}}.Encode()
	auth := basic(actor.ID, actor.Secret)
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime(b)
	defer reportCPU(b, start)
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

// benchValidate is the API's bearer check of a token already seen (PostgreSQL + Redis):
// the verified cache, then liveness — for a plain token one revocation check (in-process
// set, then one Redis GET), the agent, the organization and the credential; for a
// three-hop token the same plus, per link, its revocation check, its agent and its
// credential, and the actor.
func benchValidate(b *testing.B, threeHop bool) {
	e := benchEnv(b)
	plain, hop3, _ := threeHops(e)
	tok := plain
	if threeHop {
		tok = hop3
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime(b)
	defer reportCPU(b, start)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.verifier.Verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkValidatePlain(b *testing.B)    { benchValidate(b, false) }
func BenchmarkValidateThreeHop(b *testing.B) { benchValidate(b, true) }
