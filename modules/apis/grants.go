package apis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/platform/database"
	"github.com/agentidp/agentidp/platform/ident"
)

// grantStore implements Grants: the api_grants table, read through grantsCache.
type grantStore struct {
	db    *bun.DB
	repo  repository
	cache *grantsCache
	val   *validator
	now   func() time.Time
}

var _ Grants = (*grantStore)(nil)

// SetInTx implements Grants. The APIs named are read inside tx and locked against changes
// until it ends (PostgreSQL: FOR SHARE), so that a concurrent PATCH removing one of their
// scopes, or a DELETE, waits for the grant and then removes it again, never the other way
// round. Setting the same grants again writes nothing.
func (g *grantStore) SetInTx(ctx context.Context, tx bun.Tx, orgID, agentID string, in []Grant) ([]Grant, []Grant, error) {
	org, okOrg := ident.Canonical(orgID)
	agent, okAgent := ident.Canonical(agentID)
	if !okOrg || !okAgent {
		return nil, nil, fmt.Errorf("apis: SetInTx: org %q, agent %q: not UUIDs", orgID, agentID)
	}
	grants, f := checkGrants(in)
	for i, gr := range grants {
		if gr.Audience != "" && origin(gr.Audience) == g.val.issuerOrigin {
			f.Add("grants["+strconv.Itoa(i)+"].audience", "is the server's own API: allowed_scopes is the grant for it")
		}
	}
	if err := f.Err(); err != nil {
		return nil, nil, err
	}
	auds := make([]string, len(grants))
	for i, gr := range grants {
		auds[i] = gr.Audience
	}
	rows, err := g.repo.liveByIdentifiers(ctx, tx, org, auds)
	if err != nil {
		return nil, nil, err
	}
	byAud := make(map[string]*API, len(rows))
	for i := range rows {
		a, err := rows[i].toAPI()
		if err != nil {
			return nil, nil, err
		}
		byAud[a.Identifier] = a
	}
	for i := range grants {
		field := "grants[" + strconv.Itoa(i) + "]"
		a := byAud[grants[i].Audience]
		if a == nil {
			f.Add(field+".audience", "names no API of the agent's organization")
			continue
		}
		grants[i].APIID = a.ID
		for j, s := range grants[i].Scopes {
			if !a.HasScope(s) {
				f.Add(field+".scopes["+strconv.Itoa(j)+"]", "%q is not a scope of the API %s", s, a.Identifier)
			}
		}
	}
	if err := f.Err(); err != nil {
		return nil, nil, err
	}

	before := []Grant{}
	var prev time.Time
	row, err := g.repo.grantsOfForUpdate(ctx, tx, agent)
	switch {
	case errors.Is(err, database.ErrNotFound):
	case err != nil:
		return nil, nil, err
	default:
		if before, err = decodeGrants(agent, row.Grants); err != nil {
			return nil, nil, err
		}
		prev = row.UpdatedAt
	}
	if sameGrants(before, grants) {
		return before, before, nil
	}
	raw, err := encodeGrants(grants)
	if err != nil {
		return nil, nil, err
	}
	if err := g.repo.putGrants(ctx, tx, &grantsRow{AgentID: agent, OrgID: org, Grants: raw, UpdatedAt: stamp(g.now(), prev)}); err != nil {
		return nil, nil, err
	}
	return before, grants, nil
}

// Committed implements Grants.
func (g *grantStore) Committed(ctx context.Context, agentID string) {
	if id, ok := ident.Canonical(agentID); ok {
		g.cache.rows.Changed(ctx, id)
	}
}

// Of implements Grants.
func (g *grantStore) Of(ctx context.Context, agentID string) ([]Grant, error) {
	id, ok := ident.Canonical(agentID)
	if !ok {
		return []Grant{}, nil
	}
	grants, found, err := g.cache.rows.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !found || grants == nil {
		return []Grant{}, nil
	}
	return grants, nil
}

// OfAgents implements Grants.
func (g *grantStore) OfAgents(ctx context.Context, agentIDs []string) (map[string][]Grant, error) {
	ids := make([]string, 0, len(agentIDs))
	for _, a := range agentIDs {
		if id, ok := ident.Canonical(a); ok {
			ids = append(ids, id)
		}
	}
	rows, err := g.repo.grantsOfAgents(ctx, g.db, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]Grant, len(rows))
	for _, r := range rows {
		grants, err := decodeGrants(r.AgentID, r.Grants)
		if err != nil {
			return nil, err
		}
		if len(grants) > 0 {
			out[r.AgentID] = grants
		}
	}
	return out, nil
}

// HasAny implements Grants.
func (g *grantStore) HasAny(ctx context.Context, agentID string) (bool, error) {
	grants, err := g.Of(ctx, agentID)
	return len(grants) > 0, err
}

// withdraw takes the API's grants back inside tx (the API's transaction, which holds the
// API's row lock): every scope in removed, or, with all, the whole grant. It returns the
// agents whose grants changed, sorted; the caller drops them from the cache after commit.
func (g *grantStore) withdraw(ctx context.Context, tx bun.Tx, a *API, removed []string, all bool) ([]string, error) {
	rows, err := g.repo.grantsOnAPI(ctx, tx, a.OrgID, a.ID)
	if err != nil {
		return nil, err
	}
	var changed []string
	for _, r := range rows {
		grants, err := decodeGrants(r.AgentID, r.Grants)
		if err != nil {
			return nil, err
		}
		kept, differs := withdrawFrom(grants, a.ID, removed, all)
		if !differs {
			continue
		}
		raw, err := encodeGrants(kept)
		if err != nil {
			return nil, err
		}
		if err := g.repo.putGrants(ctx, tx, &grantsRow{AgentID: r.AgentID, OrgID: r.OrgID, Grants: raw,
			UpdatedAt: stamp(g.now(), r.UpdatedAt)}); err != nil {
			return nil, err
		}
		changed = append(changed, r.AgentID)
	}
	return changed, nil
}

// withdrawFrom is grants without the grant on apiID (all) or without the removed scopes in
// it; differs reports a change.
func withdrawFrom(grants []Grant, apiID string, removed []string, all bool) ([]Grant, bool) {
	out := make([]Grant, 0, len(grants))
	differs := false
	for _, gr := range grants {
		if gr.APIID != apiID {
			out = append(out, gr)
			continue
		}
		if all {
			differs = true
			continue
		}
		kept := make([]string, 0, len(gr.Scopes))
		for _, s := range gr.Scopes {
			if slices.Contains(removed, s) {
				differs = true
				continue
			}
			kept = append(kept, s)
		}
		gr.Scopes = kept
		out = append(out, gr)
	}
	return out, differs
}

// sameGrants compares two grants lists, order included.
func sameGrants(a, b []Grant) bool {
	return slices.EqualFunc(a, b, func(x, y Grant) bool {
		return x.APIID == y.APIID && x.Audience == y.Audience && slices.Equal(x.Scopes, y.Scopes)
	})
}

// stamp is the updated_at of a change to a row last updated at prev: now, but never
// before prev (replicas' clocks may disagree slightly).
func stamp(now, prev time.Time) time.Time {
	now = database.Time(now)
	if now.Before(prev) {
		return prev
	}
	return now
}
