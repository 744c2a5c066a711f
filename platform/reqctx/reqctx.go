// Package reqctx carries what is known about the current request through a context:
// the request metadata set by the HTTP middleware and the authenticated caller. Services
// read it (for audit actors and request ids) without knowing anything of HTTP.
package reqctx

import (
	"context"
	"slices"
)

// Info is the request's metadata.
type Info struct {
	RequestID string
	ClientIP  string
	UserAgent string
}

// Principal is the authenticated caller of a protected route: an agent holding a token.
type Principal struct {
	AgentID      string
	OrgID        string // the agent's organization
	ClientID     string
	Scopes       []string
	TokenID      string // the token's jti
	CredentialID string // the credential that minted the token, when known
	Delegated    bool   // the token carries an act claim: it acts for another agent
	// Chain is a delegated token's agents (SPEC §13): the subject (AgentID) first, then
	// each actor in order, the holder (ClientID) last; nil for a plain token. Shared with
	// the validator's cache: never modified.
	Chain []string
	// JKT is a DPoP-bound token's cnf.jkt (RFC 9449 §6): the thumbprint of the key whose
	// proof must come with every use. "" for a bearer token.
	JKT string
}

// HasScope reports whether the caller holds scope.
func (p *Principal) HasScope(scope string) bool { return p != nil && slices.Contains(p.Scopes, scope) }

// Route is the route a request was matched to: its method and template, what the policy's
// route table is keyed by.
type Route struct {
	Method string
	Path   string // the route template, e.g. /api/v1/agents/{agent_id}
}

type infoKey struct{}
type principalKey struct{}
type routeKey struct{}

// WithRoute returns ctx carrying the matched route.
func WithRoute(ctx context.Context, r Route) context.Context {
	return context.WithValue(ctx, routeKey{}, r)
}

// RouteFrom returns the matched route, or the zero Route outside a request.
func RouteFrom(ctx context.Context) Route {
	r, _ := ctx.Value(routeKey{}).(Route)
	return r
}

// WithInfo returns ctx carrying info.
func WithInfo(ctx context.Context, info *Info) context.Context {
	return context.WithValue(ctx, infoKey{}, info)
}

// InfoFrom returns the request's metadata, or an empty Info outside a request.
func InfoFrom(ctx context.Context) *Info {
	if i, ok := ctx.Value(infoKey{}).(*Info); ok {
		return i
	}
	return &Info{}
}

// WithPrincipal returns ctx carrying the authenticated caller.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the authenticated caller, or nil.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// ActorID is the calling agent's id, or "" when nobody is authenticated.
func ActorID(ctx context.Context) string {
	if p := PrincipalFrom(ctx); p != nil {
		return p.AgentID
	}
	return ""
}
