package dpop

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/agentidp/agentidp/client/internal/josekey"
)

// ErrInvalidProof is wrapped by every refusal of a proof (RFC 9449 §7:
// error="invalid_dpop_proof"). Errors of the replay cache do not wrap it.
var ErrInvalidProof = errors.New("invalid DPoP proof")

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidProof, fmt.Sprintf(format, a...))
}

// DefaultAlgorithms are the proof algorithms a Checker accepts unless told otherwise.
var DefaultAlgorithms = []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.EdDSA, jose.RS256, jose.PS256}

// maxProofBytes bounds a proof before it is parsed.
const maxProofBytes = 8 << 10

// Checker verifies DPoP proofs as RFC 9449 §4.3 says.
type Checker struct {
	// Algorithms accepted (asymmetric only); nil: DefaultAlgorithms.
	Algorithms []jose.SignatureAlgorithm
	// MaxAge is how old a proof's iat may be (default 60 s); FutureSkew how far ahead
	// (default 5 s).
	MaxAge, FutureSkew time.Duration
	// Replay remembers accepted proofs; required.
	Replay ReplayCache
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Request is what a proof must match.
type Request struct {
	Proof       string // the DPoP header's value
	Method      string // the request's method
	URL         string // the request's URL as the client sees it: the configured external origin + path
	AccessToken string // the token sent with the proof; "" at a token endpoint (no ath then)
}

// Result is an accepted proof.
type Result struct {
	JKT    string // RFC 7638 thumbprint of the proof key: must equal the token's cnf.jkt
	Claims Claims
}

// Check verifies req.Proof and records its jti. Every refusal wraps ErrInvalidProof.
func (c *Checker) Check(ctx context.Context, req Request) (*Result, error) {
	if c.Replay == nil {
		return nil, errors.New("dpop: Checker.Replay is not set")
	}
	if req.Proof == "" {
		return nil, invalid("no proof")
	}
	if len(req.Proof) > maxProofBytes {
		return nil, invalid("proof too large")
	}
	algs := c.Algorithms
	if algs == nil {
		algs = DefaultAlgorithms
	}
	tok, err := jwt.ParseSigned(req.Proof, algs) // refuses none, HS*, and algs not listed
	if err != nil {
		return nil, invalid("malformed: %v", err)
	}
	if len(tok.Headers) != 1 {
		return nil, invalid("one signature expected")
	}
	h := tok.Headers[0]
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(typ, ProofType) {
		return nil, invalid("typ is not %s", ProofType)
	}
	jwk := h.JSONWebKey // go-jose refuses a jwk header with private members
	if jwk == nil || !jwk.Valid() || !jwk.IsPublic() {
		return nil, invalid("no public jwk header")
	}
	if err := josekey.Fits(jose.SignatureAlgorithm(h.Algorithm), jwk.Key); err != nil {
		return nil, invalid("alg: %v", err)
	}
	var cl Claims
	if err := tok.Claims(jwk.Key, &cl); err != nil {
		return nil, invalid("signature: %v", err)
	}
	if err := c.checkClaims(&cl, req); err != nil {
		return nil, err
	}
	jkt, err := josekey.Thumbprint(jwk.Key)
	if err != nil {
		return nil, invalid("jwk: %v", err)
	}
	maxAge, skew := c.windows()
	// A replay is the same jti under the same key while the proof is fresh; the key is
	// part of the id so that nobody can spend another client's jti first.
	seen, err := c.Replay.Seen(ctx, jkt+":"+cl.ID, cl.IssuedAt.Time().Add(maxAge+skew))
	if err != nil {
		return nil, fmt.Errorf("dpop: replay cache: %w", err)
	}
	if seen {
		return nil, invalid("jti replayed")
	}
	return &Result{JKT: jkt, Claims: cl}, nil
}

func (c *Checker) windows() (maxAge, skew time.Duration) {
	maxAge, skew = c.MaxAge, c.FutureSkew
	if maxAge <= 0 {
		maxAge = 60 * time.Second
	}
	if skew <= 0 {
		skew = 5 * time.Second
	}
	return maxAge, skew
}

func (c *Checker) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// maxJTIBytes bounds a proof's jti (the replay cache keeps it).
const maxJTIBytes = 256

// checkClaims checks jti, htm, htu, iat and ath against req.
func (c *Checker) checkClaims(cl *Claims, req Request) error {
	if cl.ID == "" || len(cl.ID) > maxJTIBytes {
		return invalid("jti missing or too long")
	}
	if cl.Method != req.Method {
		return invalid("htm does not match")
	}
	want, err := HTU(req.URL)
	if err != nil {
		return fmt.Errorf("dpop: the expected URL: %w", err)
	}
	got, err := HTU(cl.URL)
	if err != nil || got != want {
		return invalid("htu does not match")
	}
	if cl.IssuedAt == nil {
		return invalid("no iat")
	}
	maxAge, skew := c.windows()
	iat, now := cl.IssuedAt.Time(), c.now()
	if iat.Before(now.Add(-maxAge)) || iat.After(now.Add(skew)) {
		return invalid("iat outside the accepted window")
	}
	if req.AccessToken != "" {
		if cl.ATH == "" {
			return invalid("no ath")
		}
		if subtle.ConstantTimeCompare([]byte(cl.ATH), []byte(ATH(req.AccessToken))) != 1 {
			return invalid("ath does not match the token")
		}
	}
	return nil
}
