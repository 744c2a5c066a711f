// Package dpop checks DPoP proofs (RFC 9449): the token endpoint binds a token to the
// proof's key, and the API's authentication (platform/httpserver) and introspection check
// that a bound token comes with a fresh proof of that key. Every JWS and JWK goes through
// go-jose v4; nothing of a proof is parsed by hand.
package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// HeaderName is the request header that carries a proof.
const HeaderName = "DPoP"

// proofType is the typ a proof's header must carry (RFC 9449 §4.2).
const proofType = "dpop+jwt"

// maxProofLen bounds a proof before anything is decoded (an RSA-4096 key and its signature
// fit in well under 4 KiB).
const maxProofLen = 8 << 10

// Algs are the proof algorithms accepted, as the discovery document and the DPoP
// challenge list them (dpop_signing_alg_values_supported).
var Algs = []string{"RS256", "PS256", "ES256", "EdDSA"}

// algs are Algs for go-jose: anything else (none, the HMAC family) is refused by the parser
// before any key is looked at.
var algs = []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256, jose.EdDSA}

// ErrInvalidProof is wrapped by every refusal of a proof (invalid_dpop_proof).
var ErrInvalidProof = errors.New("invalid_dpop_proof")

// InvalidProof is a proof refused for Reason, which is safe to show to the caller (it
// never quotes the proof).
type InvalidProof struct{ Reason string }

func (e *InvalidProof) Error() string { return "invalid_dpop_proof: " + e.Reason }
func (e *InvalidProof) Unwrap() error { return ErrInvalidProof }

// The reasons a proof is refused (preallocated).
var (
	errMissing     = &InvalidProof{"a DPoP proof is required"}
	errMultiple    = &InvalidProof{"send exactly one DPoP header"}
	errTooLong     = &InvalidProof{"the proof is too long"}
	errFormat      = &InvalidProof{"the proof is not a compact JWS"}
	errAlg         = &InvalidProof{"the proof's alg is not one of " + strings.Join(Algs, ", ")}
	errTyp         = &InvalidProof{"the proof's typ is not dpop+jwt"}
	errNoKey       = &InvalidProof{"the proof's header has no public jwk"}
	errKey         = &InvalidProof{"the proof's jwk does not fit its alg (RSA of at least 2048 bits, EC P-256, Ed25519)"}
	errSignature   = &InvalidProof{"the proof's signature does not verify with its jwk"}
	errClaims      = &InvalidProof{"the proof's claims are malformed or lack jti, iat, htm or htu"}
	errHTM         = &InvalidProof{"the proof's htm is not the request's method"}
	errHTU         = &InvalidProof{"the proof's htu is not this server's URL of the request"}
	errStale       = &InvalidProof{"the proof's iat is too old"}
	errFuture      = &InvalidProof{"the proof's iat is in the future"}
	errATHMissing  = &InvalidProof{"the proof has no ath (the access token's hash)"}
	errATH         = &InvalidProof{"the proof's ath is not the hash of the access token"}
	errReplayed    = &InvalidProof{"the proof was used before (its jti is not new)"}
	errThumbprint  = &InvalidProof{"the proof's jwk has no thumbprint"}
	errPrivateJWK  = &InvalidProof{"the proof's jwk must be a public key"}
	errHeaderParam = &InvalidProof{"the proof's header names a certificate or key URL"}
)

// Claims are a proof's claims (RFC 9449 §4.2): jti and iat through go-jose's jwt.Claims.
type Claims struct {
	jwt.Claims
	HTM   string `json:"htm"`
	HTU   string `json:"htu"`
	ATH   string `json:"ath,omitempty"`
	Nonce string `json:"nonce,omitempty"`
}

// Proof is a proof whose form and signature checked out.
type Proof struct {
	Claims
	// JKT is the RFC 7638 SHA-256 thumbprint of the proof's key, base64url: what a bound
	// token's cnf.jkt holds.
	JKT string
}

// Parse checks what a proof says by itself: a compact JWS of an accepted algorithm, typ
// dpop+jwt, a public jwk in the header that fits the algorithm, the signature by that key,
// and claims with jti, iat, htm and htu. It does not check them against a request (Verify
// does). Errors are *InvalidProof.
func Parse(raw string) (*Proof, error) {
	if len(raw) > maxProofLen {
		return nil, errTooLong
	}
	tok, err := jwt.ParseSigned(raw, algs)
	if err != nil {
		var alg *jose.ErrUnexpectedSignatureAlgorithm
		switch {
		case errors.As(err, &alg):
			return nil, errAlg
		case strings.Contains(err.Error(), "private parameters"), strings.Contains(err.Error(), "embedded jwk"):
			// go-jose refuses a jwk header with private members before parsing it (only the
			// reason given differs: either way the proof is refused).
			return nil, errPrivateJWK
		}
		return nil, errFormat
	}
	h := tok.Headers[0] // a compact JWS has exactly one signature
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	if !strings.EqualFold(typ, proofType) {
		return nil, errTyp
	}
	if _, ok := h.ExtraHeaders["jku"]; ok {
		return nil, errHeaderParam
	}
	if _, ok := h.ExtraHeaders["x5u"]; ok {
		return nil, errHeaderParam
	}
	jwk := h.JSONWebKey
	if jwk == nil {
		return nil, errNoKey
	}
	if !jwk.IsPublic() {
		return nil, errPrivateJWK
	}
	if !keyFits(h.Algorithm, jwk.Key) {
		return nil, errKey
	}
	p := &Proof{}
	if err := tok.Claims(jwk, &p.Claims); err != nil {
		if errors.Is(err, jose.ErrCryptoFailure) {
			return nil, errSignature
		}
		return nil, errClaims
	}
	if p.ID == "" || p.IssuedAt == nil || p.HTM == "" || p.HTU == "" {
		return nil, errClaims
	}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, errThumbprint
	}
	p.JKT = base64.RawURLEncoding.EncodeToString(tp)
	return p, nil
}

// keyFits reports whether key is a public key of the kind alg needs: RSA of at least 2048
// bits for RS256 and PS256, ECDSA P-256 for ES256, Ed25519 for EdDSA.
func keyFits(alg string, key any) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return (alg == string(jose.RS256) || alg == string(jose.PS256)) && k.N.BitLen() >= 2048
	case *ecdsa.PublicKey:
		return alg == string(jose.ES256) && k.Curve == elliptic.P256()
	case ed25519.PublicKey:
		return alg == string(jose.EdDSA) && len(k) == ed25519.PublicKeySize
	}
	return false
}
