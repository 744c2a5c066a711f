package policy

import (
	"context"
	"net/http"
	"strings"

	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/reqctx"
)

// Err is the error a service answers for d: nil when it allows; hidden when the policy
// hides the target (another organization's object: the service passes the error it
// answers for a missing one); 400 validation_failed for fields the change may not set;
// 403 insufficient_scope naming what is missing or why; 409 conflict for a change that
// would break an invariant (lock-out).
func (d Decision) Err(hidden error) error {
	switch {
	case d.Allow:
		return nil
	case d.NotFound:
		return hidden
	case len(d.Invalid) > 0:
		fields := make([]apperr.FieldError, len(d.Invalid))
		for i, f := range d.Invalid {
			fields[i] = apperr.FieldError{Field: f.Field, Message: f.Message}
		}
		return apperr.Validation(fields...)
	case len(d.MissingScopes) > 0 || len(d.Refused) > 0:
		return d.insufficient()
	case len(d.Conflicts) > 0:
		return apperr.Conflict(strings.Join(d.Conflicts, "; "))
	}
	return d.insufficient()
}

// insufficient is the 403 of a refusal: the missing scopes, and the reasons that are not
// a scope.
func (d Decision) insufficient() *apperr.Error {
	var parts []string
	if len(d.MissingScopes) > 0 {
		parts = append(parts, "this call needs the scope: "+strings.Join(d.MissingScopes, " "))
	}
	parts = append(parts, d.Refused...)
	if len(parts) == 0 {
		parts = append(parts, "the policy refuses this call")
	}
	return &apperr.Error{Status: http.StatusForbidden, Code: "insufficient_scope", Detail: strings.Join(parts, "; ")}
}

// Authorize is the object-level decision a service asks for the request in ctx: the caller
// (reqctx.PrincipalFrom) on the matched route (reqctx.RouteFrom), acting on target, making
// change (nil unless it creates or updates). It returns d.Err(hidden). A call with no
// principal (the CLI, a start hook) is the operator's and is not asked about.
func Authorize(ctx context.Context, e Engine, target Target, change *Change, hidden error) error {
	d, asked, err := decideFor(ctx, e, &target, change)
	if err != nil || !asked {
		return err
	}
	return d.Err(hidden)
}

// decideFor asks the policy about the request in ctx; asked is false when no agent calls.
func decideFor(ctx context.Context, e Engine, target *Target, change *Change) (Decision, bool, error) {
	p := reqctx.PrincipalFrom(ctx)
	if p == nil {
		return Decision{}, false, nil
	}
	route := reqctx.RouteFrom(ctx)
	d, err := e.Decide(ctx, Input{Method: route.Method, Path: route.Path, Scopes: p.Scopes,
		AgentID: p.AgentID, OrgID: p.OrgID, Via: ViaBearer, Delegated: p.Delegated, Target: target, Change: change})
	return d, err == nil, err
}

// ErrNoOrg answers a request naming an organization the caller cannot see: another
// organization, exactly as a missing one.
var ErrNoOrg = apperr.NotFound("no organization has this id")

// ListOrg decides which organization a list (or a total) covers for the request in ctx:
// requested is the ?org_id= filter, "" when none. It returns the organization to filter
// by, "" for every one. A caller acting on every organization (orgs:admin) gets requested
// as it is; any other caller gets its own organization, and ErrNoOrg when it asks for
// another. With no principal (the CLI) requested is returned as it is.
func ListOrg(ctx context.Context, e Engine, requested string) (string, error) {
	target := requested
	if target == "" {
		target = AllOrgs
	}
	d, asked, err := decideFor(ctx, e, &Target{OrgID: target}, nil)
	switch {
	case err != nil:
		return "", err
	case !asked:
		return requested, nil
	case d.NotFound && requested == "":
		return CallerOrg(ctx), nil // a list of one's own organization is always in reach
	}
	if err := d.Err(ErrNoOrg); err != nil {
		return "", err
	}
	return requested, nil
}

// CallerOrg is the calling agent's organization in ctx, "" when no agent calls.
func CallerOrg(ctx context.Context) string {
	if p := reqctx.PrincipalFrom(ctx); p != nil {
		return p.OrgID
	}
	return ""
}
