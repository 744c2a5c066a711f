package agents

import (
	"context"
	"slices"

	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/modules/apis"
)

// This file is the agents' side of grants on APIs (docs/api.md, "APIs"): the grants live in
// the apis module's table and are set through apis.Grants inside this module's create and
// update transactions; setting them is the API owners' right (the policy wants apis:write
// for a change with Grants), and an agent holding any grant has apis:write in its authority.

// grantsScope is the scope the policy counts in the authority of an agent that holds a
// grant on an API.
const grantsScope = "apis:write"

// holdsGrants reports whether the agent holds any grant (cached by the apis module).
func (s *service) holdsGrants(ctx context.Context, agentID string) (bool, error) {
	return s.grants.HasAny(ctx, agentID)
}

// grantsChange is what a create or update did to an agent's grants.
type grantsChange struct {
	changed       bool
	before, after []apis.Grant
}

// setGrantsInTx sets a's grants in tx when the request sends them (apis.Grants validates
// them: 400 validation_failed naming grants[i]...).
func (s *service) setGrantsInTx(ctx context.Context, tx bun.Tx, a *Agent, in optional[[]apis.Grant]) (grantsChange, error) {
	if !in.Set {
		return grantsChange{}, nil
	}
	grants := in.Value
	if grants == nil {
		grants = []apis.Grant{}
	}
	before, after, err := s.grants.SetInTx(ctx, tx, a.OrgID, a.ID, grants)
	if err != nil {
		return grantsChange{}, err
	}
	same := slices.EqualFunc(before, after, func(x, y apis.Grant) bool {
		return x.APIID == y.APIID && slices.Equal(x.Scopes, y.Scopes)
	})
	return grantsChange{changed: !same, before: before, after: after}, nil
}

// withGrants adds the grants of one side of the change to agent.updated's accountable
// values, when they changed.
func (g grantsChange) withGrants(values map[string]any, after bool) map[string]any {
	if !g.changed {
		return values
	}
	if after {
		values["grants"] = g.after
	} else {
		values["grants"] = g.before
	}
	return values
}

// agentView is an agent as the API answers it: the agent and its grants.
type agentView struct {
	*Agent
	Grants []apis.Grant `json:"grants"`
}

// view is a with its grants.
func (s *service) view(ctx context.Context, a *Agent) (agentView, error) {
	g, err := s.grants.Of(ctx, a.ID)
	if err != nil {
		return agentView{}, err
	}
	return agentView{Agent: a, Grants: g}, nil
}

// views are the agents of a page with their grants, read in one query.
func (s *service) views(ctx context.Context, as []*Agent) ([]agentView, error) {
	ids := make([]string, len(as))
	for i, a := range as {
		ids[i] = a.ID
	}
	grants, err := s.grants.OfAgents(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]agentView, len(as))
	for i, a := range as {
		g := grants[a.ID]
		if g == nil {
			g = []apis.Grant{}
		}
		out[i] = agentView{Agent: a, Grants: g}
	}
	return out, nil
}
