package credentials_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"go.uber.org/fx"
	"golang.org/x/crypto/bcrypt"

	"github.com/agentidp/agentidp/modules/agents"
	"github.com/agentidp/agentidp/modules/credentials"
	"github.com/agentidp/agentidp/platform/testenv"
)

var secretRe = regexp.MustCompile(`^sk_live_[A-Za-z0-9_-]{43}$`)

// verifyOK fails unless the pair verifies as credID of agentID.
func verifyOK(t *testing.T, v credentials.Verifier, agentID, secret, credID string) {
	t.Helper()
	got, err := v.Verify(context.Background(), agentID, secret)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got.AgentID != agentID || got.CredentialID != credID {
		t.Fatalf("Verify = %+v, want agent %s credential %s", got, agentID, credID)
	}
}

// verifyFails fails unless the pair is refused with ErrInvalidClient.
func verifyFails(t *testing.T, v credentials.Verifier, clientID, secret string) {
	t.Helper()
	if _, err := v.Verify(context.Background(), clientID, secret); !errors.Is(err, credentials.ErrInvalidClient) {
		t.Fatalf("Verify(%q): %v, want ErrInvalidClient", clientID, err)
	}
}

// eventually polls cond every 20 ms until it holds or within elapses.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestIntegrationIssueListVerify(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		h := newHarness(t, testenv.Config(t), b)
		agent := h.createAgent("issuer")
		other := h.createAgent("other")

		c := h.issue(agent, nil) // no body at all
		if !secretRe.MatchString(c.ClientSecret) {
			t.Fatalf("secret %q has not the sk_live_ + 43 base64url form", c.ClientSecret[:12])
		}
		if c.ClientID != agent || c.SecretPrefix != c.ClientSecret[:12] || c.Status != "active" || c.ExpiresAt != nil {
			t.Fatalf("issued %+v", c)
		}
		if _, err := uuid.Parse(c.CredentialID); err != nil {
			t.Fatalf("credential_id %q", c.CredentialID)
		}
		c2 := h.issue(agent, "{}")
		oc := h.issue(other, map[string]any{})

		// Shown once: the list never holds a secret or a hash.
		l, raw := h.list(agent, "")
		if len(l.Items) != 2 || l.NextCursor != nil {
			t.Fatalf("list: %s", raw)
		}
		if strings.Contains(string(raw), c.ClientSecret) || strings.Contains(string(raw), c2.ClientSecret) ||
			strings.Contains(string(raw), "client_secret") || strings.Contains(string(raw), "h1$") {
			t.Fatalf("the list shows a secret or a hash: %s", raw)
		}
		if l.Items[0].ID != c2.CredentialID {
			t.Fatalf("list is not newest first: %s", raw)
		}

		verifyOK(t, h.verifier, agent, c.ClientSecret, c.CredentialID)
		verifyOK(t, h.verifier, agent, c.ClientSecret, c.CredentialID) // cached
		verifyOK(t, h.verifier, agent, c2.ClientSecret, c2.CredentialID)
		verifyFails(t, h.verifier, agent, c.ClientSecret[:len(c.ClientSecret)-1]+"x")
		verifyFails(t, h.verifier, agent, "sk_live_"+strings.Repeat("A", 43))
		verifyFails(t, h.verifier, agent, "")
		verifyFails(t, h.verifier, agent, oc.ClientSecret) // another agent's secret
		verifyFails(t, h.verifier, uuid.NewString(), c.ClientSecret)
		verifyFails(t, h.verifier, "not-a-uuid", c.ClientSecret)
		verifyFails(t, h.verifier, strings.ReplaceAll(agent, "-", ""), c.ClientSecret)
		verifyFails(t, h.verifier, "'; DROP TABLE credentials; --", c.ClientSecret)

		// Directory answers the state.
		st, err := h.dir.State(context.Background(), c.CredentialID)
		if err != nil || st.Status != credentials.StatusActive || !st.Active(time.Now()) {
			t.Fatalf("State = %+v, %v", st, err)
		}
		if _, err := h.dir.State(context.Background(), uuid.NewString()); !errors.Is(err, credentials.ErrNotFound) {
			t.Fatalf("State(unknown) = %v", err)
		}

		// Pagination.
		p1, raw := h.list(agent, "?limit=1")
		if len(p1.Items) != 1 || p1.NextCursor == nil {
			t.Fatalf("page 1: %s", raw)
		}
		p2, raw := h.list(agent, "?limit=1&cursor="+*p1.NextCursor)
		if len(p2.Items) != 1 || p2.NextCursor != nil || p2.Items[0].ID != c.CredentialID {
			t.Fatalf("page 2: %s", raw)
		}

		// Unknown agent → 404; decommissioned handled in its own test.
		h.must(http.StatusNotFound, http.MethodPost, "/api/v1/agents/"+uuid.NewString()+"/credentials", nil)
		h.must(http.StatusNotFound, http.MethodGet, "/api/v1/agents/"+uuid.NewString()+"/credentials", nil)

		h.assertNoLeaks()
	})
}

func TestIntegrationExpiry(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		h := newHarness(t, testenv.Config(t), b)
		agent := h.createAgent("expiring")
		exp := time.Now().Add(1500 * time.Millisecond).UTC().Format(time.RFC3339Nano)
		c := h.issue(agent, map[string]any{"expires_at": exp})
		if c.ExpiresAt == nil {
			t.Fatal("expires_at not echoed")
		}
		verifyOK(t, h.verifier, agent, c.ClientSecret, c.CredentialID) // now cached
		eventually(t, 10*time.Second, "the credential expires", func() bool {
			_, err := h.verifier.Verify(context.Background(), agent, c.ClientSecret)
			return errors.Is(err, credentials.ErrInvalidClient)
		})
		if s := h.statusOf(agent, c.CredentialID); s != "expired" {
			t.Fatalf("status %q, want expired", s)
		}
		st, err := h.dir.State(context.Background(), c.CredentialID)
		if err != nil || st.Active(time.Now()) || st.Status != credentials.StatusExpired {
			t.Fatalf("State = %+v, %v", st, err)
		}
		// An expired credential cannot be rotated.
		h.must(http.StatusConflict, http.MethodPost, "/api/v1/agents/"+agent+"/credentials/"+c.CredentialID+"/rotate", nil)
	})
}

func TestIntegrationRotate(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		h := newHarness(t, testenv.Config(t), b)
		agent := h.createAgent("rotating")

		// Grace 0 (no body): the old secret fails at once.
		old := h.issue(agent, nil)
		verifyOK(t, h.verifier, agent, old.ClientSecret, old.CredentialID)
		nw := h.rotate(agent, old.CredentialID, nil)
		if nw.CredentialID == old.CredentialID || nw.RotatedFrom == nil || *nw.RotatedFrom != old.CredentialID ||
			nw.ClientSecret == old.ClientSecret || !secretRe.MatchString(nw.ClientSecret) {
			t.Fatalf("rotated: %+v", nw)
		}
		verifyFails(t, h.verifier, agent, old.ClientSecret)
		verifyOK(t, h.verifier, agent, nw.ClientSecret, nw.CredentialID)
		if s := h.statusOf(agent, old.CredentialID); s != "revoked" {
			t.Fatalf("old status %q", s)
		}
		// A revoked credential cannot be rotated again.
		h.must(http.StatusConflict, http.MethodPost, "/api/v1/agents/"+agent+"/credentials/"+old.CredentialID+"/rotate", nil)

		// Grace 2 s: both work during the grace period, the old one fails after it.
		g := h.rotate(agent, nw.CredentialID, map[string]any{"grace_period_seconds": 2})
		verifyOK(t, h.verifier, agent, nw.ClientSecret, nw.CredentialID)
		verifyOK(t, h.verifier, agent, g.ClientSecret, g.CredentialID)
		if s := h.statusOf(agent, nw.CredentialID); s != "active" {
			t.Fatalf("status during grace %q", s)
		}
		st, err := h.dir.State(context.Background(), nw.CredentialID)
		if err != nil || !st.Active(time.Now()) || st.ExpiresAt.IsZero() {
			t.Fatalf("State during grace = %+v, %v", st, err)
		}
		// Already rotated: a second rotation of the same credential is refused.
		h.must(http.StatusConflict, http.MethodPost, "/api/v1/agents/"+agent+"/credentials/"+nw.CredentialID+"/rotate", nil)
		eventually(t, 10*time.Second, "the old credential stops after its grace period", func() bool {
			_, err := h.verifier.Verify(context.Background(), agent, nw.ClientSecret)
			return errors.Is(err, credentials.ErrInvalidClient)
		})
		verifyOK(t, h.verifier, agent, g.ClientSecret, g.CredentialID)
		if s := h.statusOf(agent, nw.CredentialID); s != "revoked" {
			t.Fatalf("status after grace %q", s)
		}

		// Audit: credential.rotated with its details, in the trail.
		found := false
		for _, e := range h.auditEvents(agent) {
			if e.Action == "credential.rotated" && e.TargetID == g.CredentialID && e.TargetType == "credential" {
				found = e.Details["rotated_from"] == nw.CredentialID && e.Details["grace_period_seconds"] == float64(2)
			}
		}
		if !found {
			t.Fatalf("no credential.rotated event with rotated_from and grace_period_seconds: %+v", h.auditEvents(agent))
		}
		h.assertNoLeaks()
	})
}

func TestIntegrationRevoke(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		h := newHarness(t, testenv.Config(t), b)
		agent := h.createAgent("revoking")
		other := h.createAgent("other")
		c := h.issue(agent, nil)
		oc := h.issue(other, nil)
		verifyOK(t, h.verifier, agent, c.ClientSecret, c.CredentialID)

		// Another agent's credential, an unknown one: 404, nothing changed.
		h.must(http.StatusNotFound, http.MethodDelete, "/api/v1/agents/"+agent+"/credentials/"+oc.CredentialID, nil)
		h.must(http.StatusNotFound, http.MethodDelete, "/api/v1/agents/"+agent+"/credentials/"+uuid.NewString(), nil)
		verifyOK(t, h.verifier, other, oc.ClientSecret, oc.CredentialID)

		h.must(http.StatusNoContent, http.MethodDelete, "/api/v1/agents/"+agent+"/credentials/"+c.CredentialID, nil)
		verifyFails(t, h.verifier, agent, c.ClientSecret)
		h.must(http.StatusNoContent, http.MethodDelete, "/api/v1/agents/"+agent+"/credentials/"+c.CredentialID, nil) // idempotent
		if s := h.statusOf(agent, c.CredentialID); s != "revoked" {
			t.Fatalf("status %q", s)
		}
		st, err := h.dir.State(context.Background(), c.CredentialID)
		if err != nil || st.Status != credentials.StatusRevoked || st.RevokedAt.IsZero() || st.Active(time.Now()) {
			t.Fatalf("State = %+v, %v", st, err)
		}
		revoked, created := 0, 0
		for _, e := range h.auditEvents(agent) {
			if e.TargetType == "credential" && e.TargetID == c.CredentialID {
				switch e.Action {
				case "credential.revoked":
					revoked++
				case "credential.created":
					created++
				}
			}
		}
		if revoked != 1 || created != 1 {
			t.Fatalf("audit: %d created, %d revoked events, want 1 and 1", created, revoked)
		}
		h.assertNoLeaks()
	})
}

func TestIntegrationDecommissionRevokesAll(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		h := newHarness(t, testenv.Config(t), b)
		agent := h.createAgent("doomed")
		c1 := h.issue(agent, nil)
		old := h.issue(agent, nil)
		c2 := h.rotate(agent, old.CredentialID, map[string]any{"grace_period_seconds": 3600})
		for _, c := range []issued{c1, old, c2} {
			verifyOK(t, h.verifier, agent, c.ClientSecret, c.CredentialID)
		}
		h.must(http.StatusNoContent, http.MethodDelete, "/api/v1/agents/"+agent, nil)
		for _, c := range []issued{c1, old, c2} {
			verifyFails(t, h.verifier, agent, c.ClientSecret)
			if s := h.statusOf(agent, c.CredentialID); s != "revoked" {
				t.Fatalf("%s: status %q after decommission", c.CredentialID, s)
			}
		}
		h.must(http.StatusConflict, http.MethodPost, "/api/v1/agents/"+agent+"/credentials", nil)
		h.must(http.StatusConflict, http.MethodPost, "/api/v1/agents/"+agent+"/credentials/"+c2.CredentialID+"/rotate", nil)
		h.assertNoLeaks()
	})
}

// A verification racing with a decommission reads the credentials from before its commit
// (here: from inside the decommission's transaction, through another connection, as a
// token request on another goroutine would). Once the decommission has returned, no
// stale live credential may be left in the cache: the secret fails at once, and the
// credential's State is no longer active.
func TestIntegrationDecommissionRacingVerificationLeavesNothingStale(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		var mu sync.Mutex
		var target struct{ agent, secret, credID string }
		var racing []error
		// Subscribed after the credentials module's own hook, so it runs after the
		// credentials' revocation inside the transaction, before the commit.
		race := fx.Invoke(func(l agents.Lifecycle, v credentials.Verifier, d credentials.Directory) {
			l.OnStatusChange(func(_ context.Context, _ bun.Tx, ev agents.LifecycleEvent) error {
				mu.Lock()
				tg := target
				mu.Unlock()
				if ev.To != agents.StatusDecommissioned || ev.AgentID != tg.agent {
					return nil
				}
				_, err := v.Verify(context.Background(), tg.agent, tg.secret)
				st, serr := d.State(context.Background(), tg.credID)
				if serr == nil && !st.Active(time.Now()) {
					serr = errors.New("State is not active before the commit")
				}
				mu.Lock()
				racing = append(racing, err, serr)
				mu.Unlock()
				return nil
			})
		})
		h := newHarness(t, testenv.Config(t), b, race)
		for i := range 3 {
			agent := h.createAgent(fmt.Sprintf("racing-%d", i))
			c := h.issue(agent, nil)
			verifyOK(t, h.verifier, agent, c.ClientSecret, c.CredentialID)
			if st, err := h.dir.State(context.Background(), c.CredentialID); err != nil || !st.Active(time.Now()) {
				t.Fatalf("State before: %+v %v", st, err)
			}
			mu.Lock()
			target.agent, target.secret, target.credID = agent, c.ClientSecret, c.CredentialID
			racing = nil
			mu.Unlock()

			h.must(http.StatusNoContent, http.MethodDelete, "/api/v1/agents/"+agent, nil)

			mu.Lock()
			raced := slices.Clone(racing)
			mu.Unlock()
			if len(raced) != 2 || raced[0] != nil || raced[1] != nil {
				t.Fatalf("the racing reads did not see the credential live before the commit: %v", raced)
			}
			// No eventually: the decommission has returned, so it must hold now.
			verifyFails(t, h.verifier, agent, c.ClientSecret)
			st, err := h.dir.State(context.Background(), c.CredentialID)
			if err != nil || st.Active(time.Now()) || st.Status != credentials.StatusRevoked {
				t.Fatalf("State after the decommission returned: %+v %v", st, err)
			}
		}
		h.assertNoLeaks()
	})
}

func TestIntegrationBcryptHashVerifies(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		h := newHarness(t, testenv.Config(t), b)
		agent := h.createAgent("imported")
		h.issue(agent, nil) // a regular one beside it
		secret := "sk_live_" + strings.Repeat("b", 40) + "xyz"
		hash, err := bcrypt.GenerateFromPassword([]byte(secret), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		credID := uuid.NewString()
		_, err = b.DB.ExecContext(context.Background(),
			`INSERT INTO credentials (credential_id, agent_id, secret_hash, secret_prefix, created_at) VALUES (?, ?, ?, ?, ?)`,
			credID, agent, string(hash), secret[:12], time.Now().UTC())
		if err != nil {
			t.Fatal(err)
		}
		// Nothing verified for this agent yet, so its entry is loaded with the bcrypt row.
		verifyOK(t, h.verifier, agent, secret, credID)
		verifyOK(t, h.verifier, agent, secret, credID) // memoised: bcrypt not run again
		verifyFails(t, h.verifier, agent, "sk_live_"+strings.Repeat("b", 40)+"xyZ")
		h.must(http.StatusNoContent, http.MethodDelete, "/api/v1/agents/"+agent+"/credentials/"+credID, nil)
		verifyFails(t, h.verifier, agent, secret)
	})
}

func TestIntegrationValidation(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		h := newHarness(t, testenv.Config(t), b)
		agent := h.createAgent("strict")
		c := h.issue(agent, nil)
		base := "/api/v1/agents/" + agent + "/credentials"
		past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
		for _, tc := range []struct {
			name, method, path string
			body               any
			code, field        string
		}{
			{"grace negative", http.MethodPost, base + "/" + c.CredentialID + "/rotate", map[string]any{"grace_period_seconds": -1}, "validation_failed", "grace_period_seconds"},
			{"grace too long", http.MethodPost, base + "/" + c.CredentialID + "/rotate", map[string]any{"grace_period_seconds": 86401}, "validation_failed", "grace_period_seconds"},
			{"grace not integer", http.MethodPost, base + "/" + c.CredentialID + "/rotate", `{"grace_period_seconds": 1.5}`, "validation_failed", "grace_period_seconds"},
			{"grace string", http.MethodPost, base + "/" + c.CredentialID + "/rotate", `{"grace_period_seconds": "10"}`, "validation_failed", "grace_period_seconds"},
			{"expires in the past", http.MethodPost, base, map[string]any{"expires_at": past}, "validation_failed", "expires_at"},
			{"expires not a date", http.MethodPost, base, map[string]any{"expires_at": "tomorrow"}, "validation_failed", "expires_at"},
			{"unknown field", http.MethodPost, base, map[string]any{"client_secret": "sk_live_mine"}, "validation_failed", "client_secret"},
			{"malformed body", http.MethodPost, base, `{"expires_at":`, "malformed_body", ""},
			{"agent not a uuid", http.MethodPost, "/api/v1/agents/not-a-uuid/credentials", nil, "validation_failed", "agent_id"},
			{"agent sql", http.MethodGet, "/api/v1/agents/1'%20OR%20'1'='1/credentials", nil, "validation_failed", "agent_id"},
			{"credential not a uuid (rotate)", http.MethodPost, base + "/123/rotate", nil, "validation_failed", "credential_id"},
			{"credential not a uuid (revoke)", http.MethodDelete, base + "/123", nil, "validation_failed", "credential_id"},
			{"limit 0", http.MethodGet, base + "?limit=0", nil, "validation_failed", "limit"},
			{"limit 201", http.MethodGet, base + "?limit=201", nil, "validation_failed", "limit"},
			{"limit text", http.MethodGet, base + "?limit=ten", nil, "validation_failed", "limit"},
			{"bad cursor", http.MethodGet, base + "?cursor=%27--", nil, "validation_failed", "cursor"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				code, raw := h.do(tc.method, tc.path, tc.body)
				var p struct {
					Code   string `json:"code"`
					Errors []struct {
						Field string `json:"field"`
					} `json:"errors"`
				}
				decode(t, raw, &p)
				if code != http.StatusBadRequest || p.Code != tc.code {
					t.Fatalf("status %d code %q, want 400 %q: %s", code, p.Code, tc.code, raw)
				}
				if tc.field != "" && (len(p.Errors) == 0 || p.Errors[0].Field != tc.field) {
					t.Fatalf("errors %s, want the field %s", raw, tc.field)
				}
			})
		}
		// Nothing changed: one credential, still active and working.
		l, raw := h.list(agent, "")
		if len(l.Items) != 1 || l.Items[0].Status != "active" || l.Items[0].RevokedAt != nil {
			t.Fatalf("after bad requests: %s", raw)
		}
		verifyOK(t, h.verifier, agent, c.ClientSecret, c.CredentialID)
	})
}

func TestIntegrationUnavailableIsNotInvalidClient(t *testing.T) {
	b := testenv.SQLiteBackend(t)
	h := newHarness(t, testenv.Config(t), b)
	agent := h.createAgent("outage")
	c := h.issue(agent, nil)
	fresh := h.createAgent("never verified")
	verifyOK(t, h.verifier, agent, c.ClientSecret, c.CredentialID)
	if err := b.DB.Close(); err != nil { // the database goes away
		t.Fatal(err)
	}
	// Cached: still verifies without the database.
	verifyOK(t, h.verifier, agent, c.ClientSecret, c.CredentialID)
	// Not cached: an error, but not ErrInvalidClient, and never a pass.
	_, err := h.verifier.Verify(context.Background(), fresh, c.ClientSecret)
	if err == nil || errors.Is(err, credentials.ErrInvalidClient) {
		t.Fatalf("Verify with the database gone: %v", err)
	}
}

// last_used_at is written in batches, not per verification; stopping the app flushes it.
func TestIntegrationLastUsedFlushedOnStop(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		h := newHarness(t, testenv.Config(t), b)
		agent := h.createAgent("user")
		used, unused := h.issue(agent, nil), h.issue(agent, nil)
		for range 50 {
			verifyOK(t, h.verifier, agent, used.ClientSecret, used.CredentialID)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := h.app.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		lastUsed := func(id string) *time.Time {
			var ts *time.Time
			if err := b.DB.NewSelect().Table("credentials").Column("last_used_at").
				Where("credential_id = ?", id).Scan(context.Background(), &ts); err != nil {
				t.Fatal(err)
			}
			return ts
		}
		if ts := lastUsed(used.CredentialID); ts == nil || time.Since(*ts) > time.Minute {
			t.Fatalf("last_used_at of the used credential: %v", ts)
		}
		if ts := lastUsed(unused.CredentialID); ts != nil {
			t.Fatalf("last_used_at of an unused credential: %v", ts)
		}
	})
}
