package agents

import (
	"context"
	"errors"
	"slices"

	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/database"
	"github.com/agentidp/agentidp/platform/policy"
	"github.com/agentidp/agentidp/platform/reqctx"
)

// This file gathers the facts the policy's authority rules need about an agent (the rules
// themselves are in policies/authz.rego; docs/security.md, "The authority model"), and asks
// the policy the object-level questions of this module's routes.

// The answers for what the caller cannot see: an unknown agent or organization, and
// another organization's (isolation answers both alike).
var (
	errNoAgent = apperr.NotFound("no agent has this id")
	errNoOrg   = apperr.Validation(apperr.FieldError{Field: "org_id", Message: "names no organization"})
)

// authorityOf is a's whole authority: its allowed scopes, plus apis:write when it holds a
// grant on an API (grants.go). (The agents that list it as a delegate add to it; that
// comes with delegation.)
func (s *service) authorityOf(ctx context.Context, a *Agent) ([]string, error) {
	auth := slices.Clone(a.AllowedScopes)
	granted, err := s.holdsGrants(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	if granted && !slices.Contains(auth, grantsScope) {
		auth = append(auth, grantsScope)
	}
	return auth, nil
}

// target is the policy target for a change to a (or to its credentials), without the
// lock-out counts.
func (s *service) target(ctx context.Context, a *Agent) (policy.Target, error) {
	auth, err := s.authorityOf(ctx, a)
	if err != nil {
		return policy.Target{}, err
	}
	return policy.Target{AgentID: a.ID, OrgID: a.OrgID, Authority: auth, Status: string(a.Status),
		Scopes: slices.Clone(a.AllowedScopes), CredentialsLeft: -1}, nil
}

// lockoutFactsInTx takes the lock-out lock of t's organization in tx and counts, for each
// lock-out role, the other active agents of the organization holding its scopes. Changes
// that could take an organization's last holder away all take the lock first, so two of
// them never both count the other as still there.
func (s *service) lockoutFactsInTx(ctx context.Context, tx bun.Tx, t *policy.Target) error {
	if err := s.repo.lockGuardians(ctx, tx, t.OrgID); err != nil {
		return err
	}
	t.OtherHolders = make(map[string]int, len(s.guardians))
	for name, g := range s.guardians {
		n, err := s.repo.countHolders(ctx, tx, t.OrgID, t.AgentID, g.Scopes)
		if err != nil {
			return err
		}
		t.OtherHolders[name] = int(n)
	}
	return nil
}

// Target implements Authority.
func (s *service) Target(ctx context.Context, agentID string) (*policy.Target, error) {
	a, err := s.dir.Lookup(ctx, agentID)
	if err != nil {
		return nil, err
	}
	t, err := s.target(ctx, a)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// LockoutFactsInTx implements Authority: it reads the agent inside tx, so its status and
// scopes are those the change commits against.
func (s *service) LockoutFactsInTx(ctx context.Context, tx bun.Tx, t *policy.Target) error {
	row, err := s.repo.get(ctx, tx, t.AgentID)
	if errors.Is(err, database.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	a, err := row.toAgent()
	if err != nil {
		return err
	}
	t.Status, t.Scopes = string(a.Status), slices.Clone(a.AllowedScopes)
	return s.lockoutFactsInTx(ctx, tx, t)
}

// authorizeChange asks the policy whether the caller in ctx may make change (nil for a
// status change) to a, read inside tx: isolation, no managing up, and, with the lock-out
// counts taken under the organization's lock, no lock-out. A call with no caller (the
// CLI) is the operator's.
func (s *service) authorizeChange(ctx context.Context, tx bun.Tx, a *Agent, change *policy.Change) error {
	if reqctx.PrincipalFrom(ctx) == nil {
		return nil
	}
	t, err := s.target(ctx, a)
	if err != nil {
		return err
	}
	if err := s.lockoutFactsInTx(ctx, tx, &t); err != nil {
		return err
	}
	return policy.Authorize(ctx, s.pol, t, change, errNoAgent)
}

// accountable are the values of a that agent.updated records before and after a change.
func accountable(a *Agent) map[string]any {
	return map[string]any{
		"allowed_scopes":    slices.Clone(a.AllowedScopes),
		"allowed_audiences": slices.Clone(a.AllowedAudiences),
		"plan":              string(a.Plan),
		"require_dpop":      a.RequireDPoP,
	}
}

// updatedDetails are agent.updated's details: the names of the changed fields, and the
// accountable ones' values before and after.
func updatedDetails(changed []string, before, after map[string]any) map[string]any {
	d := map[string]any{"fields": changed}
	for _, f := range changed {
		if b, ok := before[f]; ok {
			d[f] = map[string]any{"before": b, "after": after[f]}
		}
	}
	return d
}

// changeOf is the policy's view of what a create or update sets.
func changeOf(in agentFields) *policy.Change {
	c := &policy.Change{}
	if in.AllowedScopes.Set {
		c.AllowedScopes, c.ScopesSet = nonNilSlice(in.AllowedScopes.Value), true
	}
	if in.Plan.Set {
		c.Plan = string(in.Plan.Value)
	}
	c.Grants = in.Grants.Set
	return c
}
