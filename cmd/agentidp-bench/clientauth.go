package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// The token-pkjwt and token-dpop scenarios: a token request authenticated by a fresh ES256
// client assertion, and one with a client secret and a fresh ES256 DPoP proof. Each request
// is signed in the worker's loop (an ES256 signature costs the load generator ~25 µs).

const jwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// jtiSource makes unique jti values: a random prefix per run and a counter.
type jtiSource struct {
	prefix string
	n      atomic.Uint64
}

func newJTISource() *jtiSource { return &jtiSource{prefix: randHex(8)} }

func (s *jtiSource) next() string { return s.prefix + "-" + strconv.FormatUint(s.n.Add(1), 36) }

// es256Key is a fresh P-256 key with its public JWK (kid, use sig, alg ES256).
func es256Key(kid string) (*ecdsa.PrivateKey, jose.JSONWebKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, jose.JSONWebKey{}, err
	}
	return k, jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Use: "sig", Algorithm: string(jose.ES256)}, nil
}

// assertionSigner signs private_key_jwt assertions of one agent: iss = sub = the agent,
// aud = the issuer, a minute's life, a unique jti.
type assertionSigner struct {
	signer          jose.Signer
	agentID, issuer string
	jtis            *jtiSource
}

func newAssertionSigner(key *ecdsa.PrivateKey, kid, agentID, issuer string, jtis *jtiSource) (*assertionSigner, error) {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader(jose.HeaderKey("kid"), kid))
	if err != nil {
		return nil, err
	}
	return &assertionSigner{signer: s, agentID: agentID, issuer: issuer, jtis: jtis}, nil
}

func (a *assertionSigner) assertion(now time.Time) (string, error) {
	return jwt.Signed(a.signer).Claims(jwt.Claims{
		Issuer: a.agentID, Subject: a.agentID, Audience: jwt.Audience{a.issuer}, ID: a.jtis.next(),
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Minute)),
	}).Serialize()
}

// dpopClaims are a DPoP proof's claims (RFC 9449 §4.2).
type dpopClaims struct {
	ID       string           `json:"jti"`
	Method   string           `json:"htm"`
	URL      string           `json:"htu"`
	IssuedAt *jwt.NumericDate `json:"iat"`
}

// proofSigner signs DPoP proofs of POST to htu with one key, its public JWK in the header.
type proofSigner struct {
	signer jose.Signer
	htu    string
	jtis   *jtiSource
}

func newProofSigner(key *ecdsa.PrivateKey, htu string, jtis *jtiSource) (*proofSigner, error) {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		return nil, err
	}
	return &proofSigner{signer: s, htu: htu, jtis: jtis}, nil
}

func (p *proofSigner) proof(now time.Time) (string, error) {
	return jwt.Signed(p.signer).Claims(dpopClaims{
		ID: p.jtis.next(), Method: http.MethodPost, URL: p.htu, IssuedAt: jwt.NewNumericDate(now),
	}).Serialize()
}

// addKeyCredential gives the agent a private_key_jwt credential holding jwk.
func addKeyCredential(base, admin, agentID string, jwk jose.JSONWebKey) error {
	body, err := json.Marshal(map[string]any{"type": "private_key_jwt", "jwks": jose.JSONWebKeySet{Keys: []jose.JSONWebKey{jwk}}})
	if err != nil {
		return err
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/agents/"+agentID+"/credentials", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+admin)
	var out struct {
		ID string `json:"credential_id"`
	}
	if err := call(req, 201, &out); err != nil {
		return fmt.Errorf("private_key_jwt credential: %w", err)
	}
	return nil
}

// assertionRequests sets up a private_key_jwt credential for each agent and returns the
// scenario's request maker: client_credentials with a fresh assertion, no secret.
func assertionRequests(base, admin, tokenURL string, agents []agentCred) (request, error) {
	jtis := newJTISource()
	signers := make([]*assertionSigner, len(agents))
	for i, a := range agents {
		kid := fmt.Sprintf("bench-%d", i)
		key, jwk, err := es256Key(kid)
		if err != nil {
			return nil, err
		}
		if err := addKeyCredential(base, admin, a.id, jwk); err != nil {
			return nil, err
		}
		if signers[i], err = newAssertionSigner(key, kid, a.id, base, jtis); err != nil {
			return nil, err
		}
	}
	return func(w int) (*http.Request, error) {
		assertion, err := signers[w%len(signers)].assertion(time.Now())
		if err != nil {
			return nil, err
		}
		form := url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {jwtBearer}, "client_assertion": {assertion}}
		req, err := http.NewRequest(http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req, nil
	}, nil
}

// dpopRequests returns the token-dpop scenario's request maker: the agent's secret (Basic)
// and a fresh proof of a key per agent, for tokens bound to it.
func dpopRequests(tokenURL string, agents []agentCred) (request, error) {
	jtis := newJTISource()
	signers := make([]*proofSigner, len(agents))
	for i := range agents {
		key, _, err := es256Key("")
		if err != nil {
			return nil, err
		}
		if signers[i], err = newProofSigner(key, tokenURL, jtis); err != nil {
			return nil, err
		}
	}
	return func(w int) (*http.Request, error) {
		a := agents[w%len(agents)]
		proof, err := signers[w%len(signers)].proof(time.Now())
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequest(http.MethodPost, tokenURL, strings.NewReader("grant_type=client_credentials"))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(a.id), url.QueryEscape(a.secret))
		req.Header.Set("DPoP", proof)
		return req, nil
	}, nil
}
