package tokens_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/fx"
	"go.uber.org/zap/zaptest"

	"github.com/agentidp/agentidp/modules/tokens"
	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/testenv"
)

// revoke posts to the revocation endpoint with the given auth header pair.
func (e *env) revoke(token string, headers ...string) response {
	e.t.Helper()
	return e.post(tokens.PathRevoke, url.Values{"token": {token}}, headers...)
}

// RFC 7009: who may revoke what, idempotence, and the effect on the API and introspection.
func TestIntegrationRevocation(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		a := e.newClient([]string{"agents:read"}, nil)
		other := e.newClient([]string{"agents:read", "tokens:revoke"}, nil)
		revoker := e.newClient([]string{"tokens:revoke"}, nil)

		t.Run("a client revokes its own token", func(t *testing.T) {
			tok := e.token(a, "", "")
			if s := e.apiStatus(tok, a.ID); s != http.StatusOK {
				t.Fatalf("before: %d", s)
			}
			r := e.revoke(tok, "Authorization", basic(a.ID, a.Secret))
			if r.Status != http.StatusOK || r.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("revoke: %d %q %s", r.Status, r.Header.Get("Cache-Control"), r.Body)
			}
			resp := e.api(http.MethodGet, "/api/v1/agents/"+a.ID, tok, nil)
			if resp.Status != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Fatalf("after: %d %q", resp.Status, resp.Header.Get("WWW-Authenticate"))
			}
			if e.active(tok) {
				t.Fatal("introspection says a revoked token is active")
			}
			// Again: still 200, nothing more (one event, one row).
			if r := e.revoke(tok, "Authorization", basic(a.ID, a.Secret)); r.Status != http.StatusOK {
				t.Fatalf("second revoke: %d", r.Status)
			}
			jti := claimsOf(t, tok)["jti"].(string)
			n := 0
			for _, ev := range auditRows(t, b.DB, tokens.ActionTokenRevoked) {
				if ev.TargetID == jti {
					n++
					if ev.AgentID != a.ID || ev.TargetType != "token" {
						t.Fatalf("event %+v", ev)
					}
				}
			}
			if n != 1 {
				t.Fatalf("%d token.revoked events for one token", n)
			}
			var rows int
			if err := b.DB.QueryRowContext(context.Background(), `SELECT count(*) FROM token_revocations WHERE agent_id = ?`, a.ID).Scan(&rows); err != nil {
				t.Fatal(err)
			}
			if rows != 1 {
				t.Fatalf("%d token_revocations rows", rows)
			}
		})
		t.Run("a client cannot revoke another client's token, whatever its scopes", func(t *testing.T) {
			tok := e.token(a, "", "")
			r := e.revoke(tok, "Authorization", basic(other.ID, other.Secret))
			if r.Status != http.StatusOK {
				t.Fatalf("status %d", r.Status)
			}
			if !e.active(tok) || e.apiStatus(tok, a.ID) != http.StatusOK {
				t.Fatal("another client's revocation took effect")
			}
		})
		t.Run("a bearer with tokens:revoke revokes any token", func(t *testing.T) {
			tok := e.token(a, "", "")
			bearer := e.token(revoker, "", "")
			if r := e.revoke(tok, "Authorization", "Bearer "+bearer); r.Status != http.StatusOK {
				t.Fatalf("status %d %s", r.Status, r.Body)
			}
			if e.active(tok) {
				t.Fatal("still active")
			}
		})
		t.Run("a bearer without tokens:revoke is refused", func(t *testing.T) {
			tok := e.token(a, "", "")
			r := e.revoke(tok, "Authorization", "Bearer "+e.token(a, "", ""))
			wantOAuthError(t, r, http.StatusForbidden, "insufficient_scope")
			if !e.active(tok) {
				t.Fatal("revoked anyway")
			}
		})
		t.Run("unknown and invalid tokens: 200, nothing happens", func(t *testing.T) {
			for _, tok := range []string{"garbage", strings.Repeat("x", 10000), "a.b.c"} {
				if r := e.revoke(tok, "Authorization", basic(a.ID, a.Secret)); r.Status != http.StatusOK {
					t.Fatalf("%.10s: %d", tok, r.Status)
				}
			}
		})
		t.Run("caller authentication and parameters", func(t *testing.T) {
			tok := e.token(a, "", "")
			wantOAuthError(t, e.revoke(tok), http.StatusUnauthorized, "invalid_client")
			wantOAuthError(t, e.revoke(tok, "Authorization", basic(a.ID, other.Secret)), http.StatusUnauthorized, "invalid_client")
			wantOAuthError(t, e.post(tokens.PathRevoke, url.Values{}, "Authorization", basic(a.ID, a.Secret)), http.StatusBadRequest, "invalid_request")
			if !e.active(tok) {
				t.Fatal("revoked by a refused request")
			}
		})
		e.assertNoLeaks()
	})
}

// A revocation survives the loss of everything in Redis: the replica that revoked, a
// replica that was running, and a replica started after the flush all refuse the token.
func TestIntegrationRevocationSurvivesCacheFlush(t *testing.T) {
	b := testenv.PostgresBackend(t)
	client, prefix := testenv.RedisClient(t)
	b.Cache = cache.NewRedis(client, prefix, zaptest.NewLogger(t))
	e := newEnv(t, b, nil)
	running := e.replica(nil)
	a := e.newClient([]string{"agents:read"}, nil)
	tok := e.token(a, "", "")
	jti := claimsOf(t, tok)["jti"].(string)

	if r := e.revoke(tok, "Authorization", basic(a.ID, a.Secret)); r.Status != http.StatusOK {
		t.Fatalf("revoke: %d", r.Status)
	}
	ctx := context.Background()
	if n, err := client.Exists(ctx, prefix+"revoked:"+jti).Result(); err != nil || n != 1 {
		t.Fatalf("revoked:{jti} not in Redis: %d %v", n, err)
	}
	// FLUSHALL, limited to this test's keys.
	keys, err := client.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) == 0 {
		t.Fatal("no keys to flush")
	}
	if err := client.Del(ctx, keys...).Err(); err != nil {
		t.Fatal(err)
	}
	late := e.replica(nil)
	for name, r := range map[string]*env{"revoking replica": e, "running replica": running, "replica started after the flush": late} {
		if s := r.apiStatus(tok, a.ID); s != http.StatusUnauthorized {
			t.Fatalf("%s: API status %d after the flush", name, s)
		}
		if r.active(tok) {
			t.Fatalf("%s: introspection active after the flush", name)
		}
	}
}

// With Redis unreachable, a revoked token is still refused (the database answers), and a
// revocation still works; nothing is accepted that should be refused.
func TestIntegrationRevocationWithRedisDown(t *testing.T) {
	b := testenv.PostgresBackend(t)
	client, prefix := testenv.RedisClient(t)
	b.Cache = cache.NewRedis(client, prefix, zaptest.NewLogger(t))
	e := newEnv(t, b, nil)
	a := e.newClient([]string{"agents:read"}, nil)
	early := e.token(a, "", "")
	if r := e.revoke(early, "Authorization", basic(a.ID, a.Secret)); r.Status != http.StatusOK {
		t.Fatalf("revoke: %d", r.Status)
	}
	late, kept, third := e.token(a, "", ""), e.token(a, "", ""), e.token(a, "", "")

	// A replica whose Redis is a closed port: every cache call fails, no broadcast
	// reaches it.
	deadOpts := *client.Options()
	deadOpts.Addr, deadOpts.MaxRetries = "127.0.0.1:1", -1
	dead := cache.NewRedis(redis.NewClient(&deadOpts), prefix, zaptest.NewLogger(t))
	down := e.replica(nil, fx.Decorate(func(cache.Cache) cache.Cache { return dead }))

	// Revoked before it started (loaded from the database) and revoked on another replica
	// after it started (no broadcast, no cache: the database answers).
	if r := e.revoke(late, "Authorization", basic(a.ID, a.Secret)); r.Status != http.StatusOK {
		t.Fatalf("revoke: %d", r.Status)
	}
	for name, tok := range map[string]string{"revoked before": early, "revoked after": late} {
		if s := down.apiStatus(tok, a.ID); s != http.StatusUnauthorized {
			t.Fatalf("%s, Redis down: API status %d", name, s)
		}
	}
	// A token not revoked: accepted, or 503 where another module needs the cache; never
	// 401, never a wrong answer.
	if s := down.apiStatus(kept, a.ID); s != http.StatusOK && s != http.StatusServiceUnavailable {
		t.Fatalf("valid token with Redis down: %d", s)
	}
	// A revocation through the replica without Redis works and counts everywhere.
	if r := down.revoke(third, "Authorization", "Bearer "+e.adminToken()); r.Status != http.StatusOK {
		t.Fatalf("revoke with Redis down: %d %s", r.Status, r.Body)
	}
	for name, r := range map[string]*env{"healthy replica": e, "replica without Redis": down} {
		eventually(t, 5*time.Second, name+" refuses the token revoked without Redis", func() bool {
			return r.apiStatus(third, a.ID) == http.StatusUnauthorized
		})
	}
}
