package tokens_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"
	"go.uber.org/fx"
	"go.uber.org/zap/zaptest"

	"github.com/agentidp/agentidp/modules/tokens"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/testenv"
)

// flakyRecorder fails Record (the group commit) on demand; RecordTx passes through.
type flakyRecorder struct {
	audittrail.Recorder
	fail atomic.Bool
}

func (f *flakyRecorder) Record(ctx context.Context, e audittrail.Event) error {
	if f.fail.Load() {
		return errors.New("audit store down (test)")
	}
	return f.Recorder.Record(ctx, e)
}

func (f *flakyRecorder) RecordTx(ctx context.Context, tx bun.Tx, e audittrail.Event) error {
	return f.Recorder.RecordTx(ctx, tx, e)
}

// No audit row, no token: when the group commit fails, the token endpoint answers 503
// and hands nothing out.
func TestIntegrationNoTokenWithoutAuditRow(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		flaky := &flakyRecorder{}
		e := newEnv(t, b, nil, fx.Decorate(func(r audittrail.Recorder) audittrail.Recorder {
			flaky.Recorder = r
			return flaky
		}))
		a := e.newClient([]string{"agents:read"}, nil)
		before := len(auditRows(t, b.DB, tokens.ActionTokenIssued))
		flaky.fail.Store(true)
		r := e.tokenResponse(a, "", "")
		wantOAuthError(t, r, http.StatusServiceUnavailable, "temporarily_unavailable")
		if r.Header.Get("Retry-After") == "" {
			t.Fatal("no Retry-After on 503")
		}
		if n := len(auditRows(t, b.DB, tokens.ActionTokenIssued)); n != before {
			t.Fatalf("token.issued rows %d → %d while the audit failed", before, n)
		}
		flaky.fail.Store(false)
		e.token(a, "", "")
	})
}

// Quota, rate limit and brute-force guard answer 429 with Retry-After and an OAuth body.
func TestIntegrationLimits(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, func(c *config.Config) {
			c.FreeTierMonthlyTokens = 2
			c.AuthFailuresPerClientIP = 3
			c.AuthFailureWindow = time.Hour
		})
		t.Run("monthly quota", func(t *testing.T) {
			a := e.newClient([]string{"agents:read"}, nil)
			e.token(a, "", "")
			e.token(a, "", "")
			r := e.tokenResponse(a, "", "")
			wantOAuthError(t, r, http.StatusTooManyRequests, "quota_exceeded")
			if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 {
				t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
			}
		})
		t.Run("failed authentications", func(t *testing.T) {
			a := e.newClient([]string{"agents:read"}, nil)
			for i := 0; i < 3; i++ {
				wantOAuthError(t, e.tokenResponse(client{ID: a.ID, Secret: "sk_live_" + a.Secret[8:20] + "wrong"}, "", ""),
					http.StatusUnauthorized, "invalid_client")
			}
			// Budget used up: refused before the secret is even looked at.
			r := e.tokenResponse(a, "", "")
			wantOAuthError(t, r, http.StatusTooManyRequests, "rate_limited")
			if r.Header.Get("Retry-After") == "" {
				t.Fatal("no Retry-After")
			}
		})
	})
	t.Run("token rate", func(t *testing.T) {
		e := newEnv(t, testenv.SQLiteBackend(t), func(c *config.Config) {
			c.TokenRateLimit = 0.01
			c.TokenRateBurst = 3
		})
		// The admin's own budget: 3 at once; newEnv's bootstrap took none, adminToken one.
		e.adminToken()
		e.token(e.admin, "", "")
		e.token(e.admin, "", "")
		r := e.tokenResponse(e.admin, "", "")
		wantOAuthError(t, r, http.StatusTooManyRequests, "rate_limited")
	})
}

// With Redis unreachable the token endpoint answers 503 rather than issue an uncounted
// token.
func TestIntegrationIssueWithRedisDown(t *testing.T) {
	b := testenv.PostgresBackend(t)
	client, prefix := testenv.RedisClient(t)
	b.Cache = cache.NewRedis(client, prefix, zaptest.NewLogger(t))
	e := newEnv(t, b, nil)
	a := e.newClient([]string{"agents:read"}, nil)
	deadOpts := *client.Options()
	deadOpts.Addr, deadOpts.MaxRetries = "127.0.0.1:1", -1
	dead := cache.NewRedis(redis.NewClient(&deadOpts), prefix, zaptest.NewLogger(t))
	down := e.replica(nil, fx.Decorate(func(cache.Cache) cache.Cache { return dead }))
	r := down.tokenResponse(a, "", "")
	wantOAuthError(t, r, http.StatusServiceUnavailable, "temporarily_unavailable")
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
}
