package resource

import (
	"context"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4/jwt"
)

// Claims are a verified access token's claims (RFC 9068).
type Claims struct {
	jwt.Claims
	ClientID     string         `json:"client_id"`
	Scope        string         `json:"scope"`
	OrgID        string         `json:"org_id,omitempty"`
	Confirmation *Confirmation  `json:"cnf,omitempty"`
	Act          map[string]any `json:"act,omitempty"`
}

// Confirmation is the cnf claim of a sender-constrained token (RFC 9449 §6.1).
type Confirmation struct {
	JKT string `json:"jkt,omitempty"`
}

// Scopes are the token's scopes.
func (c *Claims) Scopes() []string { return strings.Fields(c.Scope) }

// HasScope reports whether the token carries scope.
func (c *Claims) HasScope(scope string) bool { return slices.Contains(c.Scopes(), scope) }

// JKT is the thumbprint of the key the token is bound to, "" for a bearer token.
func (c *Claims) JKT() string {
	if c.Confirmation == nil {
		return ""
	}
	return c.Confirmation.JKT
}

type claimsKey struct{}

// ClaimsFrom returns the claims the middleware verified for this request.
func ClaimsFrom(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok
}

// WithClaims returns ctx carrying c (for tests of handlers behind the middleware).
func WithClaims(ctx context.Context, c *Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}
