package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/url"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/agentidp/agentidp/client/internal/josekey"
)

// Proofer signs DPoP proofs with one key. Tokens the server issues to a request carrying
// its proof are bound to that key (cnf.jkt = Thumbprint), so the same Proofer must sign
// every proof sent with them. It remembers the last DPoP-Nonce each origin sent (RFC 9449
// §8, §9) and puts it in later proofs for that origin. Safe for concurrent use.
type Proofer struct {
	signer jose.Signer
	alg    jose.SignatureAlgorithm
	jkt    string
	now    func() time.Time

	mu     sync.Mutex
	nonces map[string]string // origin → nonce
}

// NewProofer signs proofs with key (*ecdsa.PrivateKey, *rsa.PrivateKey,
// ed25519.PrivateKey or any crypto.Signer) and alg (ES256, ES384, EdDSA, RS256, PS256; ""
// for the key's default).
func NewProofer(key crypto.Signer, alg string) (*Proofer, error) {
	sk, err := josekey.SigningKey(key, jose.SignatureAlgorithm(alg))
	if err != nil {
		return nil, fmt.Errorf("dpop: %w", err)
	}
	// EmbedJWK puts the public key in the jwk header (and no kid, as RFC 9449 §4.2 wants).
	s, err := jose.NewSigner(sk, (&jose.SignerOptions{EmbedJWK: true}).WithType(ProofType))
	if err != nil {
		return nil, fmt.Errorf("dpop: %w", err)
	}
	jkt, err := josekey.Thumbprint(key.Public())
	if err != nil {
		return nil, fmt.Errorf("dpop: %w", err)
	}
	return &Proofer{signer: s, alg: sk.Algorithm, jkt: jkt, now: time.Now, nonces: map[string]string{}}, nil
}

// GenerateProofer makes a fresh P-256 key and a Proofer for it (ES256). The key lives in
// memory only: tokens bound to it are useless to anyone who copies them.
func GenerateProofer() (*Proofer, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return NewProofer(k, string(jose.ES256))
}

// Thumbprint is the RFC 7638 thumbprint of the proof key: the cnf.jkt of bound tokens.
func (p *Proofer) Thumbprint() string { return p.jkt }

// Algorithm is the proofs' alg.
func (p *Proofer) Algorithm() string { return string(p.alg) }

// Proof returns a fresh proof for a request of method to target (its query and fragment
// are left out of htu). accessToken, when not empty, is the token sent with the request to
// a resource server: the proof then carries its ath.
func (p *Proofer) Proof(method, target, accessToken string) (string, error) {
	htu, err := HTU(target)
	if err != nil {
		return "", err
	}
	jti, err := josekey.RandomID()
	if err != nil {
		return "", err
	}
	c := Claims{ID: jti, Method: method, URL: htu, IssuedAt: jwt.NewNumericDate(p.now()), Nonce: p.nonce(htu)}
	if accessToken != "" {
		c.ATH = ATH(accessToken)
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	obj, err := p.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("dpop: signing the proof: %w", err)
	}
	return obj.CompactSerialize()
}

// SetNonce remembers nonce, received in a DPoP-Nonce header from target's origin, for the
// next proofs to that origin. It reports whether the nonce is new.
func (p *Proofer) SetNonce(target, nonce string) bool {
	o, err := origin(target)
	if err != nil || nonce == "" {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.nonces[o] == nonce {
		return false
	}
	p.nonces[o] = nonce
	return true
}

func (p *Proofer) nonce(htu string) string {
	o, err := origin(htu)
	if err != nil {
		return ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.nonces[o]
}

// origin is target's scheme and host, normalised as HTU does.
func origin(target string) (string, error) {
	h, err := HTU(target)
	if err != nil {
		return "", err
	}
	u, err := url.Parse(h)
	if err != nil {
		return "", err
	}
	return u.Scheme + "://" + u.Host, nil
}
