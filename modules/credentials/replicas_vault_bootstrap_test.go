package credentials_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap/zaptest"

	"github.com/agentidp/agentidp/modules/credentials"
	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/database"
	"github.com/agentidp/agentidp/platform/testenv"
	"github.com/agentidp/agentidp/platform/vault/kvtest"
)

// Two replicas on one PostgreSQL + Redis: a revoke on one reaches the other's cache through
// the broadcaster long before the cache TTL (30 s).
func TestIntegrationCacheInvalidationAcrossReplicas(t *testing.T) {
	url := testenv.PostgresURL(t)
	client, prefix := testenv.RedisClient(t)
	cfg := testenv.Config(t)
	replica := func() *harness {
		db, err := database.OpenPostgres(context.Background(), url, 5, 2, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		c := cache.NewRedis(client, prefix, zaptest.NewLogger(t))
		return newHarness(t, cfg, testenv.Backend{Name: "postgres", DB: db, Cache: c})
	}
	a, b := replica(), replica()
	agent := a.createAgent("shared")
	c := a.issue(agent, nil)
	verifyOK(t, b.verifier, agent, c.ClientSecret, c.CredentialID) // cached on b
	verifyOK(t, b.verifier, agent, c.ClientSecret, c.CredentialID)

	a.must(http.StatusNoContent, http.MethodDelete, "/api/v1/agents/"+agent+"/credentials/"+c.CredentialID, nil)
	eventually(t, 2*time.Second, "replica b refuses the revoked secret", func() bool {
		_, err := b.verifier.Verify(context.Background(), agent, c.ClientSecret)
		return errors.Is(err, credentials.ErrInvalidClient)
	})

	// A rotation on b reaches a's cache the same way.
	c2 := b.issue(agent, nil)
	verifyOK(t, a.verifier, agent, c2.ClientSecret, c2.CredentialID)
	b.rotate(agent, c2.CredentialID, nil)
	eventually(t, 2*time.Second, "replica a refuses the rotated-out secret", func() bool {
		_, err := a.verifier.Verify(context.Background(), agent, c2.ClientSecret)
		return errors.Is(err, credentials.ErrInvalidClient)
	})
	a.assertNoLeaks()
	b.assertNoLeaks()
}

func TestIntegrationVaultMode(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		fake := kvtest.NewFakeKV2(t, "hvs.credentials-test-token")
		cfg := testenv.Config(t)
		fake.Configure(cfg)
		cfg.VaultCacheTTL = 300 * time.Millisecond
		h := newHarness(t, cfg, b)
		agent := h.createAgent("vaulted")

		c := h.issue(agent, nil)
		path := "agentidp/credentials/" + agent + "/" + c.CredentialID
		vs := fake.Versions(path)
		if len(vs) != 1 || vs[0].Data["client_secret"] != c.ClientSecret {
			t.Fatalf("Vault holds %+v at %s", vs, path)
		}
		var stored struct{ Hash, Path string }
		if err := b.DB.QueryRowContext(context.Background(),
			`SELECT secret_hash, vault_path FROM credentials WHERE credential_id = ?`, c.CredentialID).
			Scan(&stored.Hash, &stored.Path); err != nil {
			t.Fatal(err)
		}
		if stored.Hash != "" || stored.Path != path {
			t.Fatalf("row keeps hash %q path %q", stored.Hash, stored.Path)
		}
		verifyOK(t, h.verifier, agent, c.ClientSecret, c.CredentialID)
		verifyFails(t, h.verifier, agent, c.ClientSecret[:20]+strings.Repeat("Q", 31))

		// Sealed: once the cached digest is stale, Verify fails as unavailable, never passes
		// and never says invalid_client.
		fake.Seal()
		time.Sleep(cfg.VaultCacheTTL + 100*time.Millisecond)
		for _, secret := range []string{c.ClientSecret, "sk_live_" + strings.Repeat("z", 43)} {
			_, err := h.verifier.Verify(context.Background(), agent, secret)
			if err == nil || errors.Is(err, credentials.ErrInvalidClient) || !errors.Is(err, apperr.ErrUnavailable) {
				t.Fatalf("Verify with Vault sealed: %v, want an unavailable error", err)
			}
		}
		// Issuing needs Vault: 503, and nothing is created.
		code, raw := h.do(http.MethodPost, "/api/v1/agents/"+agent+"/credentials", nil)
		if code != http.StatusServiceUnavailable {
			t.Fatalf("issue with Vault sealed: %d %s", code, raw)
		}
		if l, raw := h.list(agent, ""); len(l.Items) != 1 {
			t.Fatalf("a credential was created while Vault was sealed: %s", raw)
		}
		fake.Unseal()
		verifyOK(t, h.verifier, agent, c.ClientSecret, c.CredentialID)

		// Rotation writes the new secret; revoking deletes the old entry.
		n := h.rotate(agent, c.CredentialID, nil)
		verifyFails(t, h.verifier, agent, c.ClientSecret)
		verifyOK(t, h.verifier, agent, n.ClientSecret, n.CredentialID)
		if fake.Versions(path) != nil {
			t.Fatal("the rotated-out credential's Vault entry is still there")
		}
		npath := "agentidp/credentials/" + agent + "/" + n.CredentialID
		h.must(http.StatusNoContent, http.MethodDelete, "/api/v1/agents/"+agent+"/credentials/"+n.CredentialID, nil)
		verifyFails(t, h.verifier, agent, n.ClientSecret)
		if fake.Versions(npath) != nil {
			t.Fatal("the revoked credential's Vault entry is still there")
		}
		h.assertNoLeaks()
	})
}

var bootLine = regexp.MustCompile(`^bootstrap admin: client_id=([0-9a-f-]{36}) client_secret=(sk_live_[A-Za-z0-9_-]{43})\n$`)

func TestIntegrationAutoBootstrap(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		var out bytes.Buffer
		h := newHarness(t, testenv.Config(t), b, credentials.AutoBootstrapTo(&out))
		m := bootLine.FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("printed %q, want one bootstrap line", out.String())
		}
		id, secret := m[1], m[2]
		h.secrets = append(h.secrets, secret)
		got, err := h.verifier.Verify(context.Background(), id, secret)
		if err != nil || got.AgentID != id {
			t.Fatalf("the printed credentials do not verify: %+v %v", got, err)
		}
		var agent struct {
			Name          string   `json:"name"`
			Plan          string   `json:"plan"`
			AllowedScopes []string `json:"allowed_scopes"`
		}
		decode(t, h.must(http.StatusOK, http.MethodGet, "/api/v1/agents/"+id, nil), &agent)
		if agent.Plan != "unlimited" || strings.Join(agent.AllowedScopes, " ") != strings.Join(allScopes, " ") {
			t.Fatalf("admin agent %+v", agent)
		}
		// The logs never show it (it went to standard output only).
		h.assertNoLeaks()

		// A second bootstrap (another start, or the CLI) refuses.
		if _, err := h.boot.Bootstrap(context.Background()); !errors.Is(err, credentials.ErrAdminExists) {
			t.Fatalf("second Bootstrap: %v, want ErrAdminExists", err)
		}
	})
}

// A second start against the same database prints nothing.
func TestIntegrationAutoBootstrapOnce(t *testing.T) {
	b := testenv.PostgresBackend(t)
	var first, second bytes.Buffer
	cfg := testenv.Config(t)
	newHarness(t, cfg, b, credentials.AutoBootstrapTo(&first))
	if !bootLine.MatchString(first.String()) {
		t.Fatalf("first start printed %q", first.String())
	}
	newHarness(t, cfg, b, credentials.AutoBootstrapTo(&second))
	if second.Len() != 0 {
		t.Fatalf("second start printed %q", second.String())
	}
}

func TestIntegrationBootstrapFromEnvironment(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		cfg := testenv.Config(t)
		cfg.BootstrapClientID = uuid.NewString()
		cfg.BootstrapClientSecret = "sk_live_" + strings.Repeat("e", 40) + "NVx"
		var out bytes.Buffer
		h := newHarness(t, cfg, b, credentials.AutoBootstrapTo(&out))
		want := "bootstrap admin: client_id=" + cfg.BootstrapClientID + " client_secret=(from AGENTIDP_BOOTSTRAP_CLIENT_SECRET)\n"
		if out.String() != want {
			t.Fatalf("printed %q, want %q", out.String(), want)
		}
		h.secrets = append(h.secrets, cfg.BootstrapClientSecret)
		got, err := h.verifier.Verify(context.Background(), cfg.BootstrapClientID, cfg.BootstrapClientSecret)
		if err != nil || got.AgentID != cfg.BootstrapClientID {
			t.Fatalf("env credentials: %+v %v", got, err)
		}
		h.assertNoLeaks()
	})
}

// Replicas bootstrapping together create one admin (PostgreSQL advisory lock).
func TestIntegrationBootstrapRace(t *testing.T) {
	b := testenv.PostgresBackend(t)
	h := newHarness(t, testenv.Config(t), b)
	var wg sync.WaitGroup
	results := make([]error, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := h.boot.Bootstrap(context.Background())
			if err == nil {
				h.secrets = append(h.secrets[:0:0], res.ClientSecret)
			}
			results[i] = err
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range results {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, credentials.ErrAdminExists):
			t.Fatalf("Bootstrap: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d bootstraps succeeded, want exactly 1", ok)
	}
}
