package resource

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/agentidp/agentidp/client/dpop"
)

// Middleware lets a request through only with a valid token holding cfg.RequiredScopes; the
// next handler finds the claims with ClaimsFrom.
func (v *Validator) Middleware(next http.Handler) http.Handler {
	return v.RequireScopes()(next)
}

// RequireScopes is Middleware wanting scopes besides cfg.RequiredScopes (e.g. per route).
func (v *Validator) RequireScopes(scopes ...string) func(http.Handler) http.Handler {
	want := append(slices.Clone(v.cfg.RequiredScopes), scopes...)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := v.Authenticate(r, want...)
			if err != nil {
				v.refuse(w, r, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(WithClaims(r.Context(), c)))
		})
	}
}

// refuse logs err for the operator and answers the client with the challenge.
func (v *Validator) refuse(w http.ResponseWriter, r *http.Request, err error) {
	if v.cfg.ErrorLog != nil {
		v.cfg.ErrorLog(r, err)
	}
	var ae *authError
	if !errors.As(err, &ae) {
		ae = &authError{status: http.StatusServiceUnavailable, cause: err}
	}
	ae.write(w, v.dpopAlgs())
}

// dpopAlgs is the algs parameter of the DPoP challenge.
func (v *Validator) dpopAlgs() string {
	algs := v.cfg.DPoPAlgorithms
	if algs == nil {
		algs = dpop.DefaultAlgorithms
	}
	s := make([]string, len(algs))
	for i, a := range algs {
		s[i] = string(a)
	}
	return strings.Join(s, " ")
}

// Authenticate checks the request's credentials and returns the token's claims. Its error
// is a refusal that Middleware renders as a challenge, or (503) a failure to check.
func (v *Validator) Authenticate(r *http.Request, scopes ...string) (*Claims, error) {
	cred, aerr := parseAuthorization(r.Header)
	if aerr != nil {
		return nil, aerr
	}
	var c *Claims
	var err error
	switch cred.scheme {
	case "":
		return nil, &authError{status: http.StatusUnauthorized, reason: "no credentials"}
	case schemeBearer:
		c, err = v.bearer(r, cred)
	case schemeDPoP:
		c, err = v.dpopBound(r, cred)
	}
	if err != nil {
		return nil, err
	}
	if v.cfg.Introspection != nil {
		if err := v.checkActive(r.Context(), cred, c); err != nil {
			return nil, err
		}
	}
	var missing []string
	for _, s := range scopes {
		if !c.HasScope(s) {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		return nil, &authError{status: http.StatusForbidden, scheme: cred.scheme, code: codeInsufficientScope,
			scope: strings.Join(scopes, " "), reason: "missing " + strings.Join(missing, " ")}
	}
	return c, nil
}

// bearer: "Authorization: Bearer". A DPoP-bound token sent so is refused (RFC 9449 §7.1),
// with a proof alongside as a bad request; a proof sent with a bearer token is still
// checked, never ignored.
func (v *Validator) bearer(r *http.Request, cred credentials) (*Claims, error) {
	c, err := v.token(r.Context(), cred)
	if err != nil {
		return nil, err
	}
	if c.JKT() != "" {
		if cred.proof != "" {
			return nil, &authError{status: http.StatusBadRequest, scheme: schemeBearer, code: codeInvalidRequest, reason: "a DPoP-bound token under the Bearer scheme, with a proof"}
		}
		return nil, &authError{status: http.StatusUnauthorized, scheme: schemeDPoP, code: codeInvalidToken, reason: "a DPoP-bound token sent as Bearer"}
	}
	if v.cfg.RequireDPoP {
		return nil, &authError{status: http.StatusUnauthorized, scheme: schemeDPoP, code: codeInvalidToken, reason: "a bearer token where DPoP is required"}
	}
	if cred.proof != "" {
		if _, err := v.proof(r, cred); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// dpopBound: "Authorization: DPoP" with a proof of the key the token is bound to.
func (v *Validator) dpopBound(r *http.Request, cred credentials) (*Claims, error) {
	res, err := v.proof(r, cred)
	if err != nil {
		return nil, err
	}
	c, err := v.token(r.Context(), credentials{scheme: schemeDPoP, token: cred.token})
	if err != nil {
		return nil, err
	}
	if c.JKT() == "" || c.JKT() != res.JKT {
		return nil, &authError{status: http.StatusUnauthorized, scheme: schemeDPoP, code: codeInvalidToken, reason: "the proof's key is not the token's cnf.jkt"}
	}
	return c, nil
}

// token validates cred.token locally.
func (v *Validator) token(ctx context.Context, cred credentials) (*Claims, error) {
	c, err := v.Validate(ctx, cred.token)
	if errors.Is(err, ErrInvalidToken) {
		return nil, &authError{status: http.StatusUnauthorized, scheme: cred.scheme, code: codeInvalidToken, cause: err}
	}
	if err != nil {
		return nil, &authError{status: http.StatusServiceUnavailable, cause: err}
	}
	return c, nil
}

// proof checks the request's DPoP proof against its method, the external origin + path,
// and the token (ath).
func (v *Validator) proof(r *http.Request, cred credentials) (*dpop.Result, error) {
	refuse := func(reason string, cause error) error {
		return &authError{status: http.StatusUnauthorized, scheme: schemeDPoP, code: codeInvalidProof, reason: reason, cause: cause}
	}
	if cred.proof == "" {
		return nil, refuse("no DPoP proof", nil)
	}
	if v.origin == "" {
		return nil, refuse("no ExternalOrigin configured to check htu against", nil)
	}
	res, err := v.checker.Check(r.Context(), dpop.Request{Proof: cred.proof, Method: r.Method,
		URL: v.origin + r.URL.EscapedPath(), AccessToken: cred.token})
	if errors.Is(err, dpop.ErrInvalidProof) {
		return nil, refuse("", err)
	}
	if err != nil {
		return nil, &authError{status: http.StatusServiceUnavailable, cause: err}
	}
	return res, nil
}

// SupportedDPoPAlgorithms is the list put in the DPoP challenge's algs.
func (v *Validator) SupportedDPoPAlgorithms() []jose.SignatureAlgorithm {
	if v.cfg.DPoPAlgorithms != nil {
		return v.cfg.DPoPAlgorithms
	}
	return dpop.DefaultAlgorithms
}
