package tokens

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/agentidp/agentidp/modules/agents"
	"github.com/agentidp/agentidp/modules/credentials"
	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/httpserver"
	"github.com/agentidp/agentidp/platform/testenv"
)

func rawToken(header, claims any, sig []byte) string {
	h, _ := json.Marshal(header)
	p, _ := json.Marshal(claims)
	return b64.EncodeToString(h) + "." + b64.EncodeToString(p) + "." + b64.EncodeToString(sig)
}

// Each hostile token is refused for the reason under test, and refusals that must come
// before any signature check do.
func TestValidatorReasons(t *testing.T) {
	u := newUnitEnv(t, testenv.SQLite(t), AlgRS256)
	ctx := context.Background()
	good := u.sign(t, u.claims())
	if _, err := u.val.validate(ctx, good, testIssuer); err != nil {
		t.Fatalf("honest token refused: %v", err)
	}
	key, _ := u.ring.signingKey(time.Now())
	kid := key.kid
	parts := strings.Split(good, ".")
	var payload map[string]any
	raw, _ := b64.DecodeString(parts[1])
	_ = json.Unmarshal(raw, &payload)
	foreign, _ := rsa.GenerateKey(rand.Reader, 2048)
	mac := func(secret []byte, in string) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(in))
		return m.Sum(nil)
	}
	hs256 := func() string {
		h, _ := json.Marshal(map[string]any{"alg": "HS256", "kid": kid, "typ": "at+jwt"})
		in := b64.EncodeToString(h) + "." + parts[1]
		return in + "." + b64.EncodeToString(mac(key.jwk, in))
	}
	withClaim := func(k string, v any) string {
		c := u.claims()
		date := func() *jwt.NumericDate {
			if v == nil {
				return nil
			}
			d := jwt.NumericDate(v.(int64))
			return &d
		}
		switch k {
		case "exp":
			c.Expiry = date()
		case "nbf":
			c.NotBefore = date()
		case "iat":
			c.IssuedAt = date()
		case "iss":
			c.Issuer = v.(string)
		case "aud":
			c.Audience = jwt.Audience{v.(string)}
		case "jti":
			c.ID = v.(string)
		}
		return u.sign(t, c)
	}
	foreignSigned, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: foreign},
		(&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	fobj, _ := foreignSigned.Sign(raw)
	foreignTok, _ := fobj.CompactSerialize()
	now := time.Now().Unix()

	cases := []struct {
		name  string
		token string
		want  error
	}{
		{"oversized", good + strings.Repeat("A", maxTokenLen), errTooLong},
		{"JWE, 5 segments", parts[0] + ".a.b." + parts[1] + "." + parts[2], errFormat},
		{"alg none, empty signature", rawToken(map[string]any{"alg": "none", "kid": kid, "typ": "at+jwt"}, payload, nil), errAlg},
		{"alg none, some signature", rawToken(map[string]any{"alg": "none", "kid": kid, "typ": "at+jwt"}, payload, []byte("x")), errAlg},
		{"HS256 keyed with the public JWK", hs256(), errAlg},
		{"ES256 header, RSA kid", rawToken(map[string]any{"alg": "ES256", "kid": kid, "typ": "at+jwt"}, payload, make([]byte, 64)), errAlg},
		{"jku", rawToken(map[string]any{"alg": "RS256", "kid": kid, "typ": "at+jwt", "jku": "https://evil/"}, payload, []byte("x")), errHeaderParam},
		{"jwk, symmetric", rawToken(map[string]any{"alg": "RS256", "kid": kid, "typ": "at+jwt", "jwk": map[string]any{"kty": "oct", "k": "AAAA"}}, payload, []byte("x")), errFormat},
		{"jwk, public", rawToken(map[string]any{"alg": "RS256", "kid": kid, "typ": "at+jwt", "jwk": jose.JSONWebKey{Key: foreign.Public()}}, payload, []byte("x")), errHeaderParam},
		{"x5c, not a certificate", rawToken(map[string]any{"alg": "RS256", "kid": kid, "typ": "at+jwt", "x5c": []string{"MII"}}, payload, []byte("x")), errFormat},
		{"x5c, a certificate", rawToken(map[string]any{"alg": "RS256", "kid": kid, "typ": "at+jwt", "x5c": []string{selfSigned(t)}}, payload, []byte("x")), errHeaderParam},
		{"x5u", rawToken(map[string]any{"alg": "RS256", "kid": kid, "typ": "at+jwt", "x5u": "https://evil/"}, payload, []byte("x")), errHeaderParam},
		{"crit", rawToken(map[string]any{"alg": "RS256", "kid": kid, "typ": "at+jwt", "crit": []string{"exp"}}, payload, []byte("x")), errHeaderParam},
		{"nonce", rawToken(map[string]any{"alg": "RS256", "kid": kid, "typ": "at+jwt", "nonce": "n"}, payload, []byte("x")), errHeaderParam},
		{"no typ", rawToken(map[string]any{"alg": "RS256", "kid": kid}, payload, []byte("x")), errTyp},
		{"no exp", withClaim("exp", nil), errMalformed},
		{"typ JWT", rawToken(map[string]any{"alg": "RS256", "kid": kid, "typ": "JWT"}, payload, []byte("x")), errTyp},
		{"unknown kid", rawToken(map[string]any{"alg": "RS256", "kid": "../../etc/passwd", "typ": "at+jwt"}, payload, []byte("x")), errKID},
		{"foreign key, our kid", foreignTok, errSignature},
		{"tampered payload", parts[0] + "." + b64.EncodeToString([]byte(strings.Replace(string(raw), "agents:read", "keys:admin", 1))) + "." + parts[2], errSignature},
		{"header not JSON", b64.EncodeToString([]byte("{")) + "." + parts[1] + "." + parts[2], errFormat},
		{"bad base64", "!!!." + parts[1] + "." + parts[2], errFormat},
		{"padded signature", good + "==", errFormat},
		{"expired", withClaim("exp", now-61), errExpired},
		{"nbf in the future", withClaim("nbf", now+120), errNotYetValid},
		{"iat in the future", withClaim("iat", now+120), errNotYetValid},
		{"wrong iss", withClaim("iss", "https://evil.example.com"), errIssuer},
		{"wrong aud", withClaim("aud", "https://rs.example.com"), errAudience},
		{"jti not a UUID", withClaim("jti", "x' OR 1=1"), errMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := u.val.validate(ctx, tc.token, testIssuer)
			if err != tc.want {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if !errors.Is(err, httpserver.ErrInvalidToken) {
				t.Fatal("does not wrap httpserver.ErrInvalidToken")
			}
		})
	}
	// Expiry within the leeway is accepted.
	if _, err := u.val.validate(ctx, withClaim("exp", now-30), testIssuer); err != nil {
		t.Fatalf("exp 30 s ago (within the leeway): %v", err)
	}
}

// What can change during a token's life is checked on every use, cached or not.
func TestValidatorLiveness(t *testing.T) {
	u := newUnitEnv(t, testenv.SQLite(t), AlgEdDSA)
	ctx := context.Background()
	tok := u.sign(t, u.claims())
	for i := 0; i < 2; i++ { // the second use comes from the verified cache
		if _, err := u.val.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	set := func(f func(a *agents.Agent)) {
		u.agents.mu.Lock()
		a := *u.agents.m[u.agent]
		f(&a)
		u.agents.m[u.agent] = &a
		u.agents.mu.Unlock()
	}
	set(func(a *agents.Agent) { a.Status = agents.StatusSuspended })
	if _, err := u.val.Verify(ctx, tok); err != errAgentInactive {
		t.Fatalf("suspended: %v", err)
	}
	// Reactivated, with the cut-off at the suspension: the token stays dead.
	set(func(a *agents.Agent) { a.Status = agents.StatusActive; a.TokensNotBefore = time.Now() })
	if _, err := u.val.Verify(ctx, tok); err != errAgentCutoff {
		t.Fatalf("after reactivation: %v", err)
	}
	// A token issued after the cut-off (issuedAt dates it past the cut-off second).
	u.agents.mu.Lock()
	iat := issuedAt(time.Now(), u.agents.m[u.agent], u.orgs.m[orgs.RootID])
	u.agents.mu.Unlock()
	c := newClaims(testIssuer, orgs.RootID, u.agent, u.cred, testIssuer, "agents:read", "0191f0a4-1c2d-4e3f-8a4b-5c6d7e8f9a04", iat, time.Hour)
	fresh := u.sign(t, c)
	if _, err := u.val.Verify(ctx, fresh); err != nil {
		t.Fatalf("token after the cut-off: %v", err)
	}
	u.creds.mu.Lock()
	u.creds.m[u.cred] = credentials.State{Status: credentials.StatusRevoked, RevokedAt: time.Now()}
	u.creds.mu.Unlock()
	if _, err := u.val.Verify(ctx, fresh); err != errCredential {
		t.Fatalf("revoked credential: %v", err)
	}
}

// Only the exact bytes of a verified token hit the cache: another signature over the same
// header and payload is checked, and refused.
func TestVerifiedCacheNeedsTheExactToken(t *testing.T) {
	u := newUnitEnv(t, testenv.SQLite(t), AlgES256)
	tok := u.sign(t, u.claims())
	if _, err := u.val.validate(context.Background(), tok, testIssuer); err != nil {
		t.Fatal(err)
	}
	forged := tok[:strings.LastIndexByte(tok, '.')+1] + b64.EncodeToString(make([]byte, 64))
	if _, err := u.val.validate(context.Background(), forged, testIssuer); err != errSignature {
		t.Fatalf("forged signature over a cached token's payload: %v", err)
	}
	if _, ok := u.val.cache.Get(forged); ok {
		t.Fatal("the forged token was cached")
	}
}

// selfSigned is a self-signed certificate, base64 DER as in x5c.
func selfSigned(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}
