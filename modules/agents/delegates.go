package agents

import (
	"context"
	"errors"
	"slices"

	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/database"
	"github.com/agentidp/agentidp/platform/ident"
)

// This file is the agents' side of delegation (SPEC §13): an agent's delegates are the
// agents of its organization that may act for it through the token exchange (the tokens
// module reads them from the Directory). Setting them is a change of the agent like any
// other (the policy's no-managing-up rule), and every agent that lists another as a
// delegate adds its authority to the other's (authorityOf).

// maxDelegates caps an agent's delegates.
const maxDelegates = 32

// checkDelegates validates the form of a delegates list: agent ids (UUIDs, canonicalised),
// no duplicates, at most maxDelegates. It returns the canonical list.
func checkDelegates(f *apperr.Fields, in optional[[]string]) []string {
	if in.Null {
		f.Add("delegates", "must not be null (send [] to clear it)")
		return nil
	}
	out := make([]string, 0, len(in.Value))
	for i, d := range in.Value {
		field := "delegates[" + itoa(i) + "]"
		id, ok := ident.Canonical(d)
		switch {
		case !ok:
			f.Add(field, "must be an agent id (a UUID)")
			continue
		case slices.Contains(out, id):
			f.Add(field, "duplicate delegate")
			continue
		}
		out = append(out, id)
	}
	if len(out) > maxDelegates {
		f.Add("delegates", "must hold at most %d agents", maxDelegates)
	}
	return out
}

// checkDelegatesInTx checks, inside the change's transaction, that every delegate of a
// create or update is another agent of a's organization that is not decommissioned: an
// agent cannot list itself, and an unknown agent and another organization's answer alike
// (400 validation_failed naming delegates[i]).
func (s *service) checkDelegatesInTx(ctx context.Context, tx bun.Tx, a *Agent, in optional[[]string]) error {
	if !in.Set {
		return nil
	}
	var f apperr.Fields
	for i, id := range in.Value {
		field := "delegates[" + itoa(i) + "]"
		if id == a.ID {
			f.Add(field, "an agent cannot be its own delegate")
			continue
		}
		row, err := s.repo.get(ctx, tx, id)
		switch {
		case errors.Is(err, database.ErrNotFound):
			f.Add(field, "names no agent of the organization")
			continue
		case err != nil:
			return err
		case row.OrgID != a.OrgID:
			f.Add(field, "names no agent of the organization")
		case row.Status == string(StatusDecommissioned):
			f.Add(field, "names a decommissioned agent")
		}
	}
	return f.Err()
}

// maxDelegatorAgents bounds the walk over the agents that list one as a delegate.
const maxDelegatorAgents = 1000

// delegatorsOf are the agents that list a as a delegate, transitively (those that list
// them, and so on), without a itself: holding a's credentials lets one act for each.
func (s *service) delegatorsOf(ctx context.Context, a *Agent) ([]*Agent, error) {
	seen := map[string]bool{a.ID: true}
	queue := []string{a.ID}
	var out []*Agent
	for len(queue) > 0 && len(out) < maxDelegatorAgents {
		id := queue[0]
		queue = queue[1:]
		rows, err := s.repo.delegators(ctx, s.db, a.OrgID, id)
		if err != nil {
			return nil, err
		}
		for i := range rows {
			if seen[rows[i].ID] {
				continue
			}
			seen[rows[i].ID] = true
			d, err := rows[i].toAgent()
			if err != nil {
				return nil, err
			}
			out = append(out, d)
			queue = append(queue, d.ID)
		}
	}
	return out, nil
}
