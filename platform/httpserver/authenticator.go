package httpserver

import (
	"errors"
	"net/http"
	"strings"

	"github.com/agentidp/agentidp/platform/dpop"
	"github.com/agentidp/agentidp/platform/reqctx"
)

// AuthError is a refused authentication: its status, its error code (the problem's code,
// or the OAuth error), a description safe to show, and the WWW-Authenticate challenges to
// send (RFC 6750 §3, RFC 9449 §7).
type AuthError struct {
	Status     int
	Code       string
	Detail     string
	Challenges []string
}

func (e *AuthError) Error() string { return e.Code + ": " + e.Detail }

// dpopAlgs is the algs parameter of a DPoP challenge.
var dpopAlgs = `algs="` + strings.Join(dpop.Algs, " ") + `"`

// Challenges of an answer without credentials: both schemes the API takes.
var (
	bearerChallenge = `Bearer realm="agentidp"`
	dpopChallenge   = `DPoP ` + dpopAlgs
)

// NoCredentialsChallenges are the challenges of a 401 to a request without an access
// token (RFC 9449 §7.1: one per scheme).
func NoCredentialsChallenges() []string { return []string{bearerChallenge, dpopChallenge} }

var (
	errNoCredentials = &AuthError{Status: http.StatusUnauthorized, Code: "unauthorized",
		Detail: "a bearer access token is required", Challenges: NoCredentialsChallenges()}
	errBearerInvalid = &AuthError{Status: http.StatusUnauthorized, Code: "invalid_token",
		Detail:     "the access token is invalid, expired or revoked",
		Challenges: []string{`Bearer realm="agentidp", error="invalid_token", error_description="the access token is invalid, expired or revoked"`}}
	errDPoPInvalid   = dpopTokenError("the access token is invalid, expired or revoked")
	errBoundAsBearer = dpopTokenError("the access token is DPoP-bound: send it as Authorization: DPoP with a proof of its key")
	errNotBound      = dpopTokenError("the access token is not bound to the proof's key")
	errTwoSchemes    = &AuthError{Status: http.StatusBadRequest, Code: "invalid_request",
		Detail:     "send one access token in one Authorization header, with one scheme",
		Challenges: []string{`Bearer realm="agentidp", error="invalid_request"`, `DPoP error="invalid_request", ` + dpopAlgs}}
	errBearerWithProof = &AuthError{Status: http.StatusBadRequest, Code: "invalid_request",
		Detail:     "the access token is DPoP-bound: send it as Authorization: DPoP, not Bearer, with the proof",
		Challenges: []string{`DPoP error="invalid_request", ` + dpopAlgs}}
)

// dpopTokenError is a 401 invalid_token with the DPoP challenge.
func dpopTokenError(detail string) *AuthError {
	return &AuthError{Status: http.StatusUnauthorized, Code: "invalid_token", Detail: detail,
		Challenges: []string{`DPoP error="invalid_token", error_description="` + detail + `", ` + dpopAlgs}}
}

// proofError is the 401 of a failed DPoP proof.
func proofError(reason string) *AuthError {
	return &AuthError{Status: http.StatusUnauthorized, Code: "invalid_dpop_proof", Detail: reason,
		Challenges: []string{`DPoP error="invalid_dpop_proof", error_description="` + reason + `", ` + dpopAlgs}}
}

// Authenticator authenticates the callers of the server's own API by an access token:
// "Authorization: Bearer" (RFC 6750) for a token that is not DPoP-bound, "Authorization:
// DPoP" with a DPoP proof of the token's key (RFC 9449 §7) for a bound one. The bearer
// middleware uses it on every protected route, and introspection and revocation for callers
// that present a token.
type Authenticator struct {
	tokens Verifier
	proofs *dpop.Verifier // nil: every proof is refused
}

// NewAuthenticator checks tokens with v and proofs with proofs (nil refuses every proof,
// so every DPoP-bound token).
func NewAuthenticator(v Verifier, proofs *dpop.Verifier) *Authenticator {
	if v == nil {
		v = denyAll{}
	}
	return &Authenticator{tokens: v, proofs: proofs}
}

// HasToken reports whether r carries an Authorization header with the Bearer or DPoP
// scheme (or more than one Authorization header, which Authenticate refuses).
func HasToken(r *http.Request) bool {
	vals := r.Header.Values("Authorization")
	if len(vals) > 1 {
		return true
	}
	_, _, ok := accessToken(r)
	return ok
}

// accessToken is the scheme ("bearer" or "dpop") and token of r's Authorization header.
func accessToken(r *http.Request) (scheme, token string, ok bool) {
	s, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	switch {
	case strings.EqualFold(s, "bearer"):
		s = "bearer"
	case strings.EqualFold(s, "dpop"):
		s = "dpop"
	default:
		return "", "", false
	}
	tok = strings.TrimSpace(tok)
	return s, tok, tok != ""
}

// Authenticate returns the caller r's access token stands for. Refusals are *AuthError:
//   - no token: 401 with both challenges;
//   - two Authorization headers, or two schemes or tokens in one: 400 invalid_request;
//   - a token that does not verify: 401 invalid_token, in the scheme it was sent with;
//   - a DPoP-bound token sent as Bearer: 401 DPoP invalid_token, or 400 invalid_request
//     when a DPoP proof comes with it;
//   - DPoP: a failed proof (missing, malformed, replayed, wrong htm, htu or ath, stale)
//     401 invalid_dpop_proof; a token not bound to the proof's key 401 invalid_token;
//   - Bearer with a DPoP proof for a token that is not bound: the proof is checked all the
//     same (a request that carries a proof is judged by it) and a failed one is 401
//     invalid_dpop_proof.
//
// A store that cannot answer (the token's liveness, the proofs' replay guard) is another
// error: 503.
func (a *Authenticator) Authenticate(r *http.Request) (*reqctx.Principal, error) {
	if len(r.Header.Values("Authorization")) > 1 {
		return nil, errTwoSchemes
	}
	scheme, tok, ok := accessToken(r)
	if !ok {
		return nil, errNoCredentials
	}
	if strings.ContainsAny(tok, " ,\t") {
		return nil, errTwoSchemes
	}
	proofs := dpop.FromHTTP(r)
	p, err := a.tokens.Verify(r.Context(), tok)
	if err != nil {
		if !errors.Is(err, ErrInvalidToken) {
			return nil, err
		}
		if scheme == "dpop" {
			return nil, errDPoPInvalid
		}
		return nil, errBearerInvalid
	}
	if scheme == "bearer" && p.JKT != "" {
		if proofs.Present() {
			return nil, errBearerWithProof
		}
		return nil, errBoundAsBearer
	}
	if scheme == "bearer" && !proofs.Present() {
		return p, nil // the unbound bearer path: nothing more than before
	}
	if a.proofs == nil {
		return nil, proofError("this server takes no DPoP proofs")
	}
	proof, err := a.proofs.Verify(r.Context(), proofs, tok)
	if err != nil {
		var ip *dpop.InvalidProof
		if errors.As(err, &ip) {
			return nil, proofError(ip.Reason)
		}
		return nil, err
	}
	if scheme == "dpop" && p.JKT != proof.JKT {
		return nil, errNotBound
	}
	return p, nil
}
