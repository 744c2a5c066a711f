package httpserver

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/policy"
	"github.com/agentidp/agentidp/platform/reqctx"
)

// Verifier checks a bearer token presented to the API. The tokens module supplies the real
// one; until then (and in a graph without it) every protected route answers 401.
type Verifier interface {
	// Verify returns the caller a valid token stands for (with its cnf.jkt when the token
	// is DPoP-bound). It returns an error wrapping ErrInvalidToken for a token that is
	// malformed, expired, revoked, for another issuer or audience, or whose agent or
	// credential is no longer active; any other error (a store outage) is answered 503.
	Verify(ctx context.Context, token string) (*reqctx.Principal, error)
}

// ErrInvalidToken is the 401 invalid_token answer.
var ErrInvalidToken = errors.New("invalid_token")

// denyAll is the Verifier of a graph that has no token verifier.
type denyAll struct{}

func (denyAll) Verify(context.Context, string) (*reqctx.Principal, error) {
	return nil, ErrInvalidToken
}

// BearerToken extracts the token of an "Authorization: Bearer" header (RFC 6750 §2.1).
func BearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
		return "", false
	}
	tok := strings.TrimSpace(h[7:])
	return tok, tok != ""
}

// errNeverHidden is what a route-level decision would answer for a hidden target; it has no
// target, so it never does.
var errNeverHidden = apperr.NotFound("not found")

// protect wraps a protected route: authentication by a Bearer or DPoP access token
// (Authenticator, RFC 6750 and RFC 9449 §7 errors), then the policy decision for the route
// template.
func protect(route Route, auth *Authenticator, pol policy.Engine, log *zap.Logger) http.Handler {
	next := route.Handler
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := auth.Authenticate(r)
		if err != nil {
			var ae *AuthError
			if errors.As(err, &ae) {
				for _, c := range ae.Challenges {
					w.Header().Add("WWW-Authenticate", c)
				}
				WriteProblem(w, r, ae.Status, ae.Code, ae.Detail)
				return
			}
			WriteError(w, r, log, err)
			return
		}
		d, err := pol.Decide(r.Context(), policy.Input{Method: route.Method, Path: route.Path, Scopes: p.Scopes,
			AgentID: p.AgentID, OrgID: p.OrgID, Via: policy.ViaBearer, Delegated: p.Delegated})
		if err != nil {
			WriteError(w, r, log, err)
			return
		}
		if err := d.Err(errNeverHidden); err != nil {
			w.Header().Set("WWW-Authenticate", scheme(p)+` realm="agentidp", error="insufficient_scope", scope="`+
				strings.Join(d.MissingScopes, " ")+`"`)
			WriteError(w, r, log, err)
			return
		}
		// Every answer of a protected route is the caller's own: never stored by a cache.
		w.Header().Set("Cache-Control", "no-store")
		ctx := reqctx.WithRoute(reqctx.WithPrincipal(r.Context(), p), reqctx.Route{Method: route.Method, Path: route.Path})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// scheme is the authentication scheme p's token is used with.
func scheme(p *reqctx.Principal) string {
	if p.JKT != "" {
		return "DPoP"
	}
	return "Bearer"
}
