package credentials_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/agentidp/agentidp/platform/jwks"
	"github.com/agentidp/agentidp/platform/testenv"
)

func jwkSet(t *testing.T, keys ...jose.JSONWebKey) json.RawMessage {
	t.Helper()
	raw, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// Credential types through HTTP: a private_key_jwt credential holds public keys only and
// answers no secret; a key without kid gets its RFC 7638 thumbprint; bad key sets are 400
// and change nothing; only secrets rotate; every type revokes.
func TestIntegrationCredentialTypes(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		h := newHarness(t, testenv.Config(t), b)
		agent := h.createAgent("typed")
		ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		small, _ := rsa.GenerateKey(rand.Reader, 1024)
		path := "/api/v1/agents/" + agent + "/credentials"

		raw := h.must(http.StatusCreated, http.MethodPost, path,
			map[string]any{"type": "private_key_jwt", "jwks": jwkSet(t, jose.JSONWebKey{Key: &ek.PublicKey})})
		var key struct {
			ID     string   `json:"credential_id"`
			Type   string   `json:"type"`
			KeyIDs []string `json:"kids"`
		}
		decode(t, raw, &key)
		tp, _ := jwks.Thumbprint(jose.JSONWebKey{Key: &ek.PublicKey})
		if key.Type != "private_key_jwt" || len(key.KeyIDs) != 1 || key.KeyIDs[0] != tp || strings.Contains(string(raw), "client_secret") {
			t.Fatalf("key credential: %s (want kids [%s] and no secret)", raw, tp)
		}
		secret := h.issue(agent, nil)

		for name, body := range map[string]any{
			"private EC key":            map[string]any{"type": "private_key_jwt", "jwks": jwkSet(t, jose.JSONWebKey{Key: ek, KeyID: "p"})},
			"symmetric key":             map[string]any{"type": "private_key_jwt", "jwks": jwkSet(t, jose.JSONWebKey{Key: []byte("0123456789abcdef0123456789abcdef")})},
			"RSA 1024":                  map[string]any{"type": "private_key_jwt", "jwks": jwkSet(t, jose.JSONWebKey{Key: &small.PublicKey})},
			"no jwks":                   map[string]any{"type": "private_key_jwt"},
			"unknown type":              map[string]any{"type": "password"},
			"federated, no issuer":      map[string]any{"type": "federated", "subject": "s"},
			"federated, unknown issuer": map[string]any{"type": "federated", "issuer": "https://nobody.example", "subject": "s"},
		} {
			if code, out := h.do(http.MethodPost, path, body); code != http.StatusBadRequest {
				t.Errorf("%s: status %d %s; want 400", name, code, out)
			}
		}
		l, listRaw := h.list(agent, "")
		if len(l.Items) != 2 {
			t.Fatalf("%d credentials after the refusals; want 2: %s", len(l.Items), listRaw)
		}
		var typed struct {
			Items []struct {
				ID     string   `json:"credential_id"`
				Type   string   `json:"type"`
				KeyIDs []string `json:"kids"`
			} `json:"items"`
		}
		decode(t, listRaw, &typed)
		for _, it := range typed.Items {
			want := map[string]string{key.ID: "private_key_jwt", secret.CredentialID: "secret"}[it.ID]
			if it.Type != want || (want == "private_key_jwt") != (len(it.KeyIDs) == 1) {
				t.Errorf("listed %s as %q with kids %v; want %q", it.ID, it.Type, it.KeyIDs, want)
			}
		}

		if code, out := h.do(http.MethodPost, path+"/"+key.ID+"/rotate", nil); code != http.StatusBadRequest {
			t.Fatalf("rotating a key credential: %d %s; want 400", code, out)
		}
		h.must(http.StatusNoContent, http.MethodDelete, path+"/"+key.ID, nil)
		if st := h.statusOf(agent, key.ID); st != "revoked" {
			t.Fatalf("revoked key credential listed %s", st)
		}

		// The audit event names the kids, never key material.
		var pubJWK struct {
			X string `json:"x"`
		}
		pubRaw, err := json.Marshal(jose.JSONWebKey{Key: &ek.PublicKey})
		if err != nil {
			t.Fatal(err)
		}
		decode(t, pubRaw, &pubJWK)
		x := pubJWK.X
		for _, e := range h.auditEvents(agent) {
			if e.TargetID == key.ID && e.Action == "credential.created" {
				if e.Details["type"] != "private_key_jwt" || e.Details["kids"] == nil {
					t.Errorf("credential.created details %v", e.Details)
				}
			}
			if strings.Contains(e.Raw, x) {
				t.Error("an audit row holds key material")
			}
		}
		h.assertNoLeaks()
	})
}
