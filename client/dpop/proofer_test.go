package dpop_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/agentidp/agentidp/client/dpop"
)

// A proof, read back with go-jose alone: typ dpop+jwt, the alg asked for, the public key
// as jwk (no private part, no kid), a valid signature by it, htm, htu without query and
// fragment, iat now, a fresh jti, ath = base64url(SHA-256(token)) only with a token; the
// thumbprint is the jwk's RFC 7638 one.
func TestProofContents(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	rs, _ := rsa.GenerateKey(rand.Reader, 2048)
	for _, c := range []struct {
		key crypto.Signer
		alg string
	}{{ec, "ES256"}, {ec384, "ES384"}, {ed, "EdDSA"}, {rs, "RS256"}, {rs, "PS256"}} {
		t.Run(c.alg, func(t *testing.T) {
			p, err := dpop.NewProofer(c.key, c.alg)
			if err != nil {
				t.Fatal(err)
			}
			before := time.Now().Unix()
			raw, err := p.Proof("POST", "HTTPS://Api.Example.com:443/v1/things?x=1#frag", "the-token")
			if err != nil {
				t.Fatal(err)
			}
			tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(c.alg)})
			if err != nil {
				t.Fatal(err)
			}
			h := tok.Headers[0]
			if h.ExtraHeaders[jose.HeaderType] != "dpop+jwt" || h.Algorithm != c.alg || h.KeyID != "" {
				t.Fatalf("header: %+v", h)
			}
			if h.JSONWebKey == nil || !h.JSONWebKey.IsPublic() {
				t.Fatal("no public jwk header")
			}
			var cl dpop.Claims
			if err := tok.Claims(c.key.Public(), &cl); err != nil {
				t.Fatalf("signature: %v", err)
			}
			sum := sha256.Sum256([]byte("the-token"))
			if cl.Method != "POST" || cl.URL != "https://api.example.com/v1/things" || cl.ID == "" ||
				cl.ATH != base64.RawURLEncoding.EncodeToString(sum[:]) || cl.IssuedAt == nil ||
				int64(*cl.IssuedAt) < before || int64(*cl.IssuedAt) > time.Now().Unix() || cl.Nonce != "" {
				t.Fatalf("claims: %+v", cl)
			}
			tp, _ := h.JSONWebKey.Thumbprint(crypto.SHA256)
			if p.Thumbprint() != base64.RawURLEncoding.EncodeToString(tp) {
				t.Fatal("thumbprint")
			}
			raw2, _ := p.Proof("GET", "https://api.example.com/", "")
			tok2, _ := jwt.ParseSigned(raw2, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(c.alg)})
			var cl2 dpop.Claims
			if err := tok2.Claims(c.key.Public(), &cl2); err != nil || cl2.ID == cl.ID || cl2.ATH != "" {
				t.Fatalf("second proof: %+v %v", cl2, err)
			}
		})
	}
}

// Keys too weak or of the wrong type for the alg are refused.
func TestProoferRefusesUnfitKeys(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	for _, c := range []struct {
		key crypto.Signer
		alg string
	}{{ec, "RS256"}, {ec, "ES384"}, {small, "RS256"}, {ec, "HS256"}, {ec, "none"}} {
		if _, err := dpop.NewProofer(c.key, c.alg); err == nil {
			t.Errorf("%T with %s accepted", c.key, c.alg)
		}
	}
}

// A nonce from an origin goes into later proofs for that origin only.
func TestProoferNonce(t *testing.T) {
	p, _ := dpop.GenerateProofer()
	if !p.SetNonce("https://as.example/token", "n-1") || p.SetNonce("https://AS.example:443/other", "n-1") {
		t.Fatal("SetNonce: new/same")
	}
	for target, want := range map[string]string{"https://as.example/x": "n-1", "https://rs.example/x": ""} {
		raw, _ := p.Proof("GET", target, "")
		tok, _ := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
		var cl dpop.Claims
		_ = tok.UnsafeClaimsWithoutVerification(&cl)
		if cl.Nonce != want {
			t.Errorf("%s: nonce %q, want %q", target, cl.Nonce, want)
		}
	}
}

func TestHTU(t *testing.T) {
	for in, want := range map[string]string{
		"https://a.example":               "https://a.example/",
		"HTTP://A.example:80/p?q#f":       "http://a.example/p",
		"https://a.example:8443/x%2Fy":    "https://a.example:8443/x%2Fy",
		"http://127.0.0.1:9000/invoices/": "http://127.0.0.1:9000/invoices/",
	} {
		if got, err := dpop.HTU(in); err != nil || got != want {
			t.Errorf("HTU(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "/relative", "ftp://a.example/", "https://user@a.example/", "https://%zz"} {
		if _, err := dpop.HTU(bad); err == nil {
			t.Errorf("HTU(%q) accepted", bad)
		}
	}
}
