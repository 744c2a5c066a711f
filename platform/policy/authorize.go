package policy

import (
	"context"
	"strings"

	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/reqctx"
)

// Authorize is the object-level decision a service asks for the request in ctx: the caller
// (reqctx.PrincipalFrom) on the matched route (reqctx.RouteFrom), acting on target. It
// returns nil when the policy allows, hidden when the policy hides the target (another
// organization's object: the service passes the error it answers for a missing one), and
// a 403 insufficient_scope otherwise. A call with no principal (the CLI, a start hook)
// is the operator's and is not asked about.
func Authorize(ctx context.Context, e Engine, target Target, hidden error) error {
	p := reqctx.PrincipalFrom(ctx)
	if p == nil {
		return nil
	}
	route := reqctx.RouteFrom(ctx)
	d, err := e.Decide(ctx, Input{Method: route.Method, Path: route.Path, Scopes: p.Scopes,
		AgentID: p.AgentID, OrgID: p.OrgID, Via: ViaBearer, Target: &target})
	switch {
	case err != nil:
		return err
	case d.NotFound:
		return hidden
	case !d.Allow:
		return apperr.InsufficientScope(strings.Join(d.MissingScopes, " "))
	}
	return nil
}

// CallerOrg is the calling agent's organization in ctx, "" when no agent calls.
func CallerOrg(ctx context.Context) string {
	if p := reqctx.PrincipalFrom(ctx); p != nil {
		return p.OrgID
	}
	return ""
}
