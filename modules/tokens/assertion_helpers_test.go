package tokens_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/uuid"

	"github.com/agentidp/agentidp/modules/credentials"
	"github.com/agentidp/agentidp/modules/tokens"
)

// signingKey is a private key with its kid and algorithm.
type signingKey struct {
	key crypto.Signer
	kid string
	alg jose.SignatureAlgorithm
}

func newECKey(t testing.TB, kid string) signingKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return signingKey{key: k, kid: kid, alg: jose.ES256}
}

func newRSAKey(t testing.TB, kid string) signingKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return signingKey{key: k, kid: kid, alg: jose.RS256}
}

// public is the key's public JWK (kid and alg set).
func (k signingKey) public() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.key.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"}
}

// jwksOf is the JSON key set of the keys' public halves.
func jwksOf(t testing.TB, keys ...signingKey) json.RawMessage {
	t.Helper()
	var set jose.JSONWebKeySet
	for _, k := range keys {
		set.Keys = append(set.Keys, k.public())
	}
	raw, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// sign serialises claims as a JWS compact signed by k (kid in the header).
func (k signingKey) sign(t testing.TB, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if k.kid != "" {
		opts = opts.WithHeader(jose.HeaderKey("kid"), k.kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// keyClient is an agent authenticating with a private_key_jwt credential.
type keyClient struct {
	ID, CredentialID string
	key              signingKey
}

// newKeyClient creates an agent with the given scopes and a private_key_jwt credential
// holding key's public half.
func (e *env) newKeyClient(scopes []string, key signingKey) keyClient {
	e.t.Helper()
	admin := e.adminToken()
	var a struct {
		ID string `json:"agent_id"`
	}
	body := map[string]any{"name": "key-agent-" + uuid.NewString()[:8], "allowed_scopes": scopes}
	mustDecode(e.t, e.mustAPI(http.StatusCreated, http.MethodPost, "/api/v1/agents", admin, body).Body, &a)
	var c struct {
		CredentialID string   `json:"credential_id"`
		Type         string   `json:"type"`
		KeyIDs       []string `json:"kids"`
		Secret       *string  `json:"client_secret"`
	}
	mustDecode(e.t, e.mustAPI(http.StatusCreated, http.MethodPost, "/api/v1/agents/"+a.ID+"/credentials", admin,
		map[string]any{"type": "private_key_jwt", "jwks": jwksOf(e.t, key)}).Body, &c)
	if c.Type != "private_key_jwt" || c.Secret != nil || len(c.KeyIDs) != 1 {
		e.t.Fatalf("key credential answered type %q, kids %v, secret %v", c.Type, c.KeyIDs, c.Secret != nil)
	}
	return keyClient{ID: a.ID, CredentialID: c.CredentialID, key: key}
}

// claims are good private_key_jwt assertion claims for c, changed by edit.
func (e *env) claims(c keyClient, edit func(m map[string]any)) map[string]any {
	now := time.Now()
	m := map[string]any{"iss": c.ID, "sub": c.ID, "aud": e.cfg.Issuer, "iat": now.Unix(),
		"exp": now.Add(time.Minute).Unix(), "jti": uuid.NewString()}
	if edit != nil {
		edit(m)
	}
	return m
}

// assertionForm is a client_credentials request authenticated by assertion.
func assertionForm(assertion, typ string, extra ...string) url.Values {
	if typ == "" {
		typ = credentials.AssertionJWTBearer
	}
	f := url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {typ}, "client_assertion": {assertion}}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	return f
}

// tokenByAssertion asks for a token with a client assertion.
func (e *env) tokenByAssertion(assertion string, extra ...string) response {
	e.t.Helper()
	return e.post(tokens.PathToken, assertionForm(assertion, "", extra...))
}

func mustDecode(t testing.TB, raw []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("decoding %s: %v", raw, err)
	}
}
