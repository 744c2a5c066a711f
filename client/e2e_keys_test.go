package client_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/agentidp/agentidp/client"
	"github.com/agentidp/agentidp/client/internal/idptest"
)

// The server's side of private_key_jwt and federated credentials (SPEC §11) is built on
// another branch: these tests run once the discovery document lists private_key_jwt.

func publicJWKS(t *testing.T, kid, alg string, pub crypto.PublicKey) map[string]any {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKey{Key: pub, KeyID: kid, Algorithm: alg, Use: "sig"})
	if err != nil {
		t.Fatal(err)
	}
	var k map[string]any
	_ = json.Unmarshal(b, &k)
	return map[string]any{"keys": []any{k}}
}

// A token source authenticating with private_key_jwt assertions (ES256, EdDSA, RS256,
// PS256) gets tokens from the real server, one fresh assertion per request.
func TestE2EPrivateKeyJWT(t *testing.T) {
	srv := idptest.Shared(t)
	srv.RequireFeature(t, "token_endpoint_auth_methods_supported", "private_key_jwt", "private_key_jwt")
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	rs, _ := rsa.GenerateKey(rand.Reader, 2048)
	for _, c := range []struct {
		alg string
		key crypto.Signer
	}{{"ES256", ec}, {"EdDSA", ed}, {"RS256", rs}, {"PS256", rs}} {
		t.Run(c.alg, func(t *testing.T) {
			agent := srv.NewAgent(t, map[string]any{"allowed_scopes": []string{"agents:read"}})
			srv.Call(t, http.MethodPost, "/api/v1/agents/"+agent.ID+"/credentials",
				map[string]any{"type": "private_key_jwt", "jwks": publicJWKS(t, "k-"+c.alg, c.alg, c.key.Public())}, http.StatusCreated, nil)
			auth, err := client.PrivateKeyJWT(c.key, c.alg, "k-"+c.alg)
			if err != nil {
				t.Fatal(err)
			}
			ts, err := client.NewTokenSource(client.Config{Issuer: srv.Issuer, ClientID: agent.ID, Auth: auth})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := ts.Token()
			if err != nil {
				t.Fatal(err)
			}
			resp, err := ts.Client().Get(srv.Issuer + "/api/v1/agents/" + agent.ID)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if tok.TokenType != "Bearer" || resp.StatusCode != http.StatusOK {
				t.Fatalf("%s token: %s, API: %d", c.alg, tok.TokenType, resp.StatusCode)
			}
			// Another key than the registered one is refused like a wrong secret.
			other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			bad, _ := client.PrivateKeyJWT(other, "", "k-"+c.alg)
			ts2, _ := client.NewTokenSource(client.Config{Issuer: srv.Issuer, ClientID: agent.ID, Auth: bad})
			var te *client.TokenError
			if _, err := ts2.Token(); !errors.As(err, &te) || te.Code != "invalid_client" {
				t.Fatalf("a foreign key: %v", err)
			}
		})
	}
}

// workloadToken is a JWT as a Kubernetes cluster or a SPIFFE server signs it.
func workloadToken(t *testing.T, key *ecdsa.PrivateKey, iss, sub, aud string, exp time.Duration) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "wl"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	raw, err := jwt.Signed(s).Claims(jwt.Claims{Issuer: iss, Subject: sub, Audience: jwt.Audience{aud},
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(exp))}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// A federated credential: the token file is read on every token request, so a rotated
// token (as kubelet rotates it) is picked up, and a bad one fails; with the jwt-bearer type
// (Kubernetes) and the jwt-spiffe type (SPIFFE JWT-SVID).
func TestE2EFederatedTokenFile(t *testing.T) {
	srv := idptest.Shared(t)
	srv.RequireFeature(t, "token_endpoint_auth_methods_supported", "private_key_jwt", "secretless client authentication (§11)")
	for _, c := range []struct {
		name, iss, sub, typ string
	}{
		{"kubernetes", "https://kubernetes.test.example", "system:serviceaccount:agents:bot", client.AssertionTypeJWTBearer},
		{"spiffe", "https://spire.test.example", "spiffe://test.example/agent/bot", client.AssertionTypeSPIFFE},
	} {
		t.Run(c.name, func(t *testing.T) {
			key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			srv.Call(t, http.MethodPost, "/api/v1/trusted-issuers",
				map[string]any{"issuer": c.iss, "jwks": publicJWKS(t, "wl", "ES256", key.Public())}, http.StatusCreated, nil)
			agent := srv.NewAgent(t, map[string]any{"allowed_scopes": []string{"agents:read"}})
			srv.Call(t, http.MethodPost, "/api/v1/agents/"+agent.ID+"/credentials",
				map[string]any{"type": "federated", "issuer": c.iss, "subject": c.sub}, http.StatusCreated, nil)

			file := filepath.Join(t.TempDir(), "token")
			write := func(s string) {
				if err := os.WriteFile(file, []byte(s+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			write(workloadToken(t, key, c.iss, c.sub, srv.Issuer, 10*time.Minute))
			ts, err := client.NewTokenSource(client.Config{Issuer: srv.Issuer, ClientID: agent.ID,
				Auth: client.FederatedTokenFile(file, c.typ)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ts.Token(); err != nil {
				t.Fatal(err)
			}
			// Another subject's token in the file: read again, refused.
			write(workloadToken(t, key, c.iss, c.sub+"-other", srv.Issuer, 10*time.Minute))
			ts.Invalidate()
			var te *client.TokenError
			if _, err := ts.Token(); !errors.As(err, &te) || te.Code != "invalid_client" {
				t.Fatalf("another subject: %v", err)
			}
			// The rotated, right token: read again, accepted.
			write(workloadToken(t, key, c.iss, c.sub, srv.Issuer, 10*time.Minute))
			if _, err := ts.Token(); err != nil {
				t.Fatalf("rotated token: %v", err)
			}
		})
	}
}
