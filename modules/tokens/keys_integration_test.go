package tokens_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/agentidp/agentidp/modules/tokens"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/testenv"
)

func kidOf(t testing.TB, token string) string {
	t.Helper()
	raw, err := b64.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h.Kid
}

// jwksKIDs fetches the JWKS and returns its kids and the Cache-Control header.
func (e *env) jwksKIDs() ([]string, string) {
	e.t.Helper()
	r := e.api(http.MethodGet, tokens.PathJWKS, "", nil)
	if r.Status != http.StatusOK {
		e.t.Fatalf("JWKS: %d", r.Status)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(r.Body, &set); err != nil {
		e.t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		if !k.IsPublic() {
			e.t.Fatalf("JWKS key %s is not public", k.KeyID)
		}
		kids = append(kids, k.KeyID)
	}
	if strings.Contains(string(r.Body), `"d":`) {
		e.t.Fatal("private key member in the JWKS")
	}
	return kids, r.Header.Get("Cache-Control")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Rotation without downtime: the new key is published at once and signs only after the
// publish delay, on every replica; tokens of the old key stay valid; the JWKS cache
// lifetime never exceeds the delay; the keys API shows states and no private material.
func TestIntegrationKeyRotation(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		const delay = 3 * time.Second
		e := newEnv(t, b, func(c *config.Config) { c.KeyPublishDelay = delay })
		peer := e.replica(nil)
		a := e.newClient([]string{"agents:read"}, nil)
		old := e.token(a, "", "")
		oldKID := kidOf(t, old)

		kids, cc := e.jwksKIDs()
		if len(kids) != 1 || kids[0] != oldKID || cc != "public, max-age=3" {
			t.Fatalf("JWKS before: %v, Cache-Control %q", kids, cc)
		}

		// keys:admin is needed.
		if s := e.api(http.MethodPost, tokens.PathKeysRotate, e.token(a, "", ""), nil).Status; s != http.StatusForbidden {
			t.Fatalf("rotation without keys:admin: %d", s)
		}
		r := e.mustAPI(http.StatusOK, http.MethodPost, tokens.PathKeysRotate, e.adminToken(), nil)
		var k tokens.KeyInfo
		if err := json.Unmarshal(r.Body, &k); err != nil {
			t.Fatal(err)
		}
		if k.KID == "" || k.KID == oldKID || k.State != tokens.KeyPending || k.Alg != "RS256" ||
			k.ActivatesAt.Sub(k.CreatedAt) != delay {
			t.Fatalf("rotated key %+v", k)
		}

		// Published at once (this replica) and within seconds (the other), before it signs.
		kids, _ = e.jwksKIDs()
		if !contains(kids, k.KID) || !contains(kids, oldKID) {
			t.Fatalf("JWKS right after the rotation: %v", kids)
		}
		eventually(t, delay, "the other replica publishes the new key before it signs", func() bool {
			kids, _ := peer.jwksKIDs()
			return contains(kids, k.KID)
		})
		if time.Now().Before(k.ActivatesAt.Add(-500 * time.Millisecond)) {
			if got := kidOf(t, e.token(a, "", "")); got != oldKID {
				t.Fatalf("signed with %s before the publish delay ended", got)
			}
		}

		// After the delay, every replica signs with the new key within seconds.
		time.Sleep(time.Until(k.ActivatesAt))
		for name, r := range map[string]*env{"this replica": e, "other replica": peer} {
			eventually(t, 5*time.Second, name+" signs with the new key", func() bool {
				return kidOf(t, r.token(a, "", "")) == k.KID
			})
			// The old key's token is still good everywhere.
			if s := r.apiStatus(old, a.ID); s != http.StatusOK || !r.active(old) {
				t.Fatalf("%s: old key's token refused after the rotation (%d)", name, s)
			}
			kids, _ := r.jwksKIDs()
			if !contains(kids, oldKID) || !contains(kids, k.KID) {
				t.Fatalf("%s: JWKS after activation %v", name, kids)
			}
		}

		// The keys API: states, no private material.
		r = e.mustAPI(http.StatusOK, http.MethodGet, tokens.PathKeys, e.adminToken(), nil)
		var list struct {
			Items      []tokens.KeyInfo `json:"items"`
			NextCursor *string          `json:"next_cursor"`
		}
		if err := json.Unmarshal(r.Body, &list); err != nil {
			t.Fatal(err)
		}
		if len(list.Items) != 2 || list.Items[0].KID != k.KID || list.Items[0].State != tokens.KeyActive ||
			list.Items[1].State != tokens.KeyRetired || list.Items[1].RetiresAt == nil || list.NextCursor != nil {
			t.Fatalf("keys: %s", r.Body)
		}
		for _, bad := range []string{"private", `"d"`, "nonce", "key_wrap", "BEGIN"} {
			if strings.Contains(string(r.Body), bad) {
				t.Fatalf("keys answer shows %s: %s", bad, r.Body)
			}
		}

		// Audited.
		var rotated bool
		for _, ev := range auditRows(t, b.DB, tokens.ActionKeyRotated) {
			if ev.TargetType == "key" && ev.TargetID == k.KID {
				rotated = true
			}
		}
		if !rotated {
			t.Fatal("no key.rotated event")
		}
	})
}

// A replica started with another AGENTIDP_SIGNING_ALG rotates to a key of that algorithm
// (no publish delay in tests); tokens of the previous key stay valid everywhere.
func TestIntegrationSigningAlgChange(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		a := e.newClient([]string{"agents:read"}, nil)
		old := e.token(a, "", "")
		ed := e.replica(func(c *config.Config) { c.SigningAlg = "EdDSA" })
		tok := ed.token(a, "", "")
		raw, _ := b64.DecodeString(strings.Split(tok, ".")[0])
		if !strings.Contains(string(raw), `"alg":"EdDSA"`) {
			t.Fatalf("header %s", raw)
		}
		for name, r := range map[string]*env{"old replica": e, "new replica": ed} {
			eventually(t, 5*time.Second, name+" accepts both keys' tokens", func() bool {
				return r.apiStatus(old, a.ID) == http.StatusOK && r.apiStatus(tok, a.ID) == http.StatusOK
			})
		}
		keys, err := e.keys.ListKeys(context.Background())
		if err != nil || len(keys) != 2 || keys[0].Alg != "EdDSA" || keys[1].Alg != "RS256" {
			t.Fatalf("keys %+v %v", keys, err)
		}
	})
}
