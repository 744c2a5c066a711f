package tokens_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"go.uber.org/fx"

	"github.com/agentidp/agentidp/modules/tokens"
	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/testenv"
)

// roomyGuard lifts the brute-force guard's budgets, so that a long table of refusals for
// one client is answered by the verification rather than by 429.
func roomyGuard(cfg *config.Config) {
	cfg.AuthFailuresPerClientIP, cfg.AuthFailuresPerIP = 10_000, 10_000
}

// wantSameAsWrongSecret fails unless r is exactly the wrong-secret answer.
func wantSameAsWrongSecret(t *testing.T, what string, r, wrong response) {
	t.Helper()
	if r.Status != http.StatusUnauthorized || !bytes.Equal(r.Body, wrong.Body) ||
		r.Header.Get("WWW-Authenticate") != wrong.Header.Get("WWW-Authenticate") {
		t.Errorf("%s: status %d %s; want the wrong secret's 401 %s", what, r.Status, r.Body, wrong.Body)
	}
}

func TestIntegrationPrivateKeyJWT(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, roomyGuard)
		key := newECKey(t, "k1")
		c := e.newKeyClient([]string{"agents:read", "tokens:introspect", "tokens:revoke"}, key)

		// A good assertion gets a token; the token names the key credential.
		r := e.tokenByAssertion(key.sign(t, e.claims(c, nil)))
		if r.Status != http.StatusOK {
			t.Fatalf("good assertion: %d %s", r.Status, r.Body)
		}
		tok := r.json(t)["access_token"].(string)
		info := e.introspect(tok)
		if info["active"] != true || info["sub"] != c.ID {
			t.Fatalf("introspection of the token: %v", info)
		}
		// An RSA key with PS256, aud as a one-member array, client_id equal to iss, no kid.
		rk := newRSAKey(t, "")
		rk.alg = jose.PS256
		rc := e.newKeyClient([]string{"agents:read"}, rk)
		if r := e.tokenByAssertion(rk.sign(t, e.claims(rc, func(m map[string]any) { m["aud"] = []string{e.cfg.Issuer} })),
			"client_id", rc.ID); r.Status != http.StatusOK {
			t.Fatalf("PS256, aud array of one, client_id = iss: %d %s", r.Status, r.Body)
		}

		// Introspection and revocation authenticate by assertion too.
		ir := e.post(tokens.PathIntrospect, url.Values{"token": {tok},
			"client_assertion_type": {assertionForm("", "").Get("client_assertion_type")},
			"client_assertion":      {key.sign(t, e.claims(c, nil))}})
		if ir.Status != http.StatusOK || ir.json(t)["active"] != true {
			t.Fatalf("introspection by assertion: %d %s", ir.Status, ir.Body)
		}
		rv := e.post(tokens.PathRevoke, url.Values{"token": {tok},
			"client_assertion_type": {assertionForm("", "").Get("client_assertion_type")},
			"client_assertion":      {key.sign(t, e.claims(c, nil))}})
		if rv.Status != http.StatusOK || e.active(tok) {
			t.Fatalf("revocation by assertion: %d %s, still active %v", rv.Status, rv.Body, e.active(tok))
		}

		wrong := e.post(tokens.PathToken, url.Values{"grant_type": {"client_credentials"}},
			"Authorization", basic(c.ID, "sk_live_"+strings.Repeat("A", 43)))
		wantOAuthError(t, wrong, http.StatusUnauthorized, "invalid_client")

		// A replayed assertion.
		once := key.sign(t, e.claims(c, nil))
		if r := e.tokenByAssertion(once); r.Status != http.StatusOK {
			t.Fatalf("first use: %d %s", r.Status, r.Body)
		}
		wantSameAsWrongSecret(t, "replay", e.tokenByAssertion(once), wrong)

		other := newECKey(t, "k1") // same kid, another key
		otherAgent := e.newClient([]string{"agents:read"}, nil)
		now := time.Now()
		for name, a := range map[string]string{
			"wrong aud":          key.sign(t, e.claims(c, func(m map[string]any) { m["aud"] = "https://elsewhere.example" })),
			"token endpoint aud": key.sign(t, e.claims(c, func(m map[string]any) { m["aud"] = e.cfg.Issuer + tokens.PathToken })),
			"aud array of two":   key.sign(t, e.claims(c, func(m map[string]any) { m["aud"] = []string{e.cfg.Issuer, e.cfg.Issuer} })),
			"no aud":             key.sign(t, e.claims(c, func(m map[string]any) { delete(m, "aud") })),
			"expired": key.sign(t, e.claims(c, func(m map[string]any) {
				m["iat"], m["exp"] = now.Add(-2*time.Minute).Unix(), now.Add(-time.Minute).Unix()
			})),
			"too long-lived":   key.sign(t, e.claims(c, func(m map[string]any) { m["exp"] = now.Add(301 * time.Second).Unix() })),
			"too long, no iat": key.sign(t, e.claims(c, func(m map[string]any) { delete(m, "iat"); m["exp"] = now.Add(10 * time.Minute).Unix() })),
			"future iat": key.sign(t, e.claims(c, func(m map[string]any) {
				m["iat"], m["exp"] = now.Add(2*time.Minute).Unix(), now.Add(3*time.Minute).Unix()
			})),
			"no exp":               key.sign(t, e.claims(c, func(m map[string]any) { delete(m, "exp") })),
			"no jti":               key.sign(t, e.claims(c, func(m map[string]any) { delete(m, "jti") })),
			"wrong iss":            key.sign(t, e.claims(c, func(m map[string]any) { m["iss"] = otherAgent.ID })),
			"wrong sub":            key.sign(t, e.claims(c, func(m map[string]any) { m["sub"] = otherAgent.ID })),
			"iss and sub another":  key.sign(t, e.claims(c, func(m map[string]any) { m["iss"], m["sub"] = otherAgent.ID, otherAgent.ID })),
			"unknown kid":          newECKey(t, "nope").sign(t, e.claims(c, nil)),
			"another key, its kid": other.sign(t, e.claims(c, nil)),
			"alg none":             unsigned(e.claims(c, nil)),
			"HS256, public key":    hs256WithPublicKey(t, key, e.claims(c, nil)),
			"not a JWT":            "not.a.jwt",
		} {
			wantSameAsWrongSecret(t, name, e.tokenByAssertion(a), wrong)
		}
		wantSameAsWrongSecret(t, "client_id mismatch", e.tokenByAssertion(key.sign(t, e.claims(c, nil)), "client_id", otherAgent.ID), wrong)
		wantSameAsWrongSecret(t, "unknown assertion type", e.post(tokens.PathToken,
			assertionForm(key.sign(t, e.claims(c, nil)), "urn:example:other")), wrong)

		// Two methods at once.
		r = e.post(tokens.PathToken, assertionForm(key.sign(t, e.claims(c, nil)), ""), "Authorization", basic(c.ID, "x"))
		wantOAuthError(t, r, http.StatusBadRequest, "invalid_request")

		// A revoked key credential authenticates nothing.
		e.mustAPI(http.StatusNoContent, http.MethodDelete, "/api/v1/agents/"+c.ID+"/credentials/"+c.CredentialID, e.adminToken(), nil)
		wantSameAsWrongSecret(t, "revoked credential", e.tokenByAssertion(key.sign(t, e.claims(c, nil))), wrong)

		e.remember(once)
		e.assertNoLeaks()
		if strings.Contains(e.logs.String(), once) {
			t.Fatal("an assertion reached the logs")
		}
	})
}

// unsigned is an "alg":"none" JWT, made by hand as an attacker would.
func unsigned(claims map[string]any) string {
	h, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	p, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p) + "."
}

// hs256WithPublicKey signs with HS256 using the agent's public JWK as the HMAC secret (the
// key-confusion attack).
func hs256WithPublicKey(t *testing.T, k signingKey, claims map[string]any) string {
	t.Helper()
	pub, err := json.Marshal(k.public())
	if err != nil {
		t.Fatal(err)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: pub},
		(&jose.SignerOptions{}).WithHeader(jose.HeaderKey("kid"), k.kid))
	if err != nil {
		t.Fatal(err)
	}
	out, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// One jti is accepted once on the whole server: a replay at another replica is refused.
func TestIntegrationAssertionReplayAcrossReplicas(t *testing.T) {
	e := newEnv(t, testenv.PostgresBackend(t), roomyGuard)
	key := newECKey(t, "k1")
	c := e.newKeyClient([]string{"agents:read"}, key)
	other := e.replica(nil)
	a := key.sign(t, e.claims(c, nil))
	if r := other.tokenByAssertion(a); r.Status != http.StatusOK {
		t.Fatalf("first use at replica 2: %d %s", r.Status, r.Body)
	}
	wantOAuthError(t, e.tokenByAssertion(a), http.StatusUnauthorized, "invalid_client")
}

// replayDown is a cache whose set-if-absent of replay keys fails, everything else working:
// the replay guard, and only it, cannot answer.
type replayDown struct{ cache.Cache }

func (r replayDown) SetNX(ctx context.Context, key, value string, ttl time.Duration) (bool, error) {
	if strings.HasPrefix(key, "replay:") {
		return false, cache.ErrUnavailable
	}
	return r.Cache.SetNX(ctx, key, value, ttl)
}

// With the replay cache unavailable an assertion is refused with 503, never accepted
// unchecked; secrets still work.
func TestIntegrationAssertionReplayCacheDown(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil, fx.Decorate(func(c cache.Cache) cache.Cache { return replayDown{c} }))
		key := newECKey(t, "k1")
		c := e.newKeyClient([]string{"agents:read"}, key)
		r := e.tokenByAssertion(key.sign(t, e.claims(c, nil)))
		wantOAuthError(t, r, http.StatusServiceUnavailable, "temporarily_unavailable")
		if r.Header.Get("Retry-After") == "" {
			t.Fatal("no Retry-After")
		}
	})
}

func TestIntegrationDiscoveryListsPrivateKeyJWT(t *testing.T) {
	e := newEnv(t, testenv.SQLiteBackend(t), nil)
	resp, err := testenv.Client.Get(e.app.URL + tokens.PathOAuthMeta)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string][]string
	var raw map[string]json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	m = map[string][]string{}
	for k, v := range raw {
		var list []string
		if json.Unmarshal(v, &list) == nil {
			m[k] = list
		}
	}
	for _, ep := range []string{"token", "introspection", "revocation"} {
		methods := strings.Join(m[ep+"_endpoint_auth_methods_supported"], " ")
		if !strings.Contains(methods, "private_key_jwt") {
			t.Errorf("%s_endpoint_auth_methods_supported = %q", ep, methods)
		}
		if got := strings.Join(m[ep+"_endpoint_auth_signing_alg_values_supported"], " "); got != "RS256 PS256 ES256 ES384 EdDSA" {
			t.Errorf("%s_endpoint_auth_signing_alg_values_supported = %q", ep, got)
		}
	}
}
