package agents

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/modules/apis"
	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/cursor"
	"github.com/agentidp/agentidp/platform/database"
	"github.com/agentidp/agentidp/platform/ident"
	"github.com/agentidp/agentidp/platform/policy"
	"github.com/agentidp/agentidp/platform/reqctx"
)

// Audit actions this module records.
const (
	ActionCreated        = "agent.created"
	ActionUpdated        = "agent.updated"
	ActionSuspended      = "agent.suspended"
	ActionReactivated    = "agent.reactivated"
	ActionDecommissioned = "agent.decommissioned"
)

// Pagination bounds of List.
const (
	defaultPageSize = 50
	maxPageSize     = 200
)

// page is one page of List.
type page struct {
	Items      []*Agent
	NextCursor string // "" on the last page
}

// service holds the agents' rules: validation, the lifecycle, the free plan's limit,
// auditing in the change's transaction and cache invalidation after commit. It knows
// nothing of HTTP.
type service struct {
	db    *bun.DB
	repo  repository
	rec   audittrail.Recorder
	hooks *hooks
	dir   *directory
	val   *validator
	orgs  orgs.Directory
	// grants are the agents' grants on APIs (modules/apis; grants.go).
	grants apis.Grants
	pol    policy.Engine
	// guardians are the policy's lock-out roles, whose holders lockoutFactsInTx counts.
	guardians map[string]policy.Guardian
	log       *zap.Logger
	now       func() time.Time
}

var (
	_ Provisioner = (*service)(nil)
	_ Authority   = (*service)(nil)
)

// errDecommissioned is the 409 for any change to a decommissioned agent.
var errDecommissioned = apperr.Conflict("the agent is decommissioned, which is final; it can no longer be changed")

// Create validates in and creates an active agent, every field not given at its default;
// its organization is the one named, else the caller's.
func (s *service) Create(ctx context.Context, in agentFields) (*Agent, error) {
	in, err := s.val.check(in, true)
	if err != nil {
		return nil, err
	}
	if !in.OrgID.Set {
		in.OrgID = some(callerOrg(ctx))
	}
	// Isolation (another organization, unless the caller acts on every one, is as unknown
	// as a missing one), attenuation, root-only scopes and plans.
	if err := policy.Authorize(ctx, s.pol, policy.Target{OrgID: in.OrgID.Value}, changeOf(in), errNoOrg); err != nil {
		return nil, err
	}
	a, err := s.newAgent("", in)
	if err != nil {
		return nil, err
	}
	// Read before the transaction: a read through another connection while the transaction
	// waits for the free plan's lock could exhaust the pool under concurrent creates.
	org, err := s.org(ctx, a.OrgID)
	if err != nil {
		return nil, err
	}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		g, err := s.setGrantsInTx(ctx, tx, a, in.Grants)
		if err != nil {
			return err
		}
		return s.insert(ctx, tx, a, org, false, g.after)
	})
	if err != nil {
		return nil, s.translate(err)
	}
	s.dir.changed(ctx, a.ID)
	if in.Grants.Set {
		s.grants.Committed(ctx, a.ID)
	}
	return a, nil
}

// CreateInTx implements Provisioner: the agent is marked as bootstrap admin unless it is an
// organization's first admin (in.OrgAdmin).
func (s *service) CreateInTx(ctx context.Context, tx bun.Tx, in NewAgent) (*Agent, error) {
	org := in.OrgID
	if in.Org != nil {
		org = in.Org.ID
	}
	if org == "" {
		org = orgs.RootID
	}
	fields := agentFields{
		OrgID:         some(org),
		Name:          some(in.Name),
		Description:   some(in.Description),
		AllowedScopes: some(nonNilSlice(in.AllowedScopes)),
		Metadata:      some(jsonObject(in.Metadata)),
	}
	if in.Plan != "" {
		fields.Plan = some(in.Plan)
	}
	var f apperr.Fields
	id := ""
	if in.ID != "" {
		var ok bool
		if id, ok = ident.Canonical(in.ID); !ok {
			f.Add("id", "must be a UUID")
		}
	}
	fields, err := s.val.check(fields, true)
	if err != nil {
		var ae *apperr.Error
		if !errors.As(err, &ae) {
			return nil, err
		}
		f = append(f, ae.Fields...)
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	a, err := s.newAgent(id, fields)
	if err != nil {
		return nil, err
	}
	o := in.Org
	if o == nil {
		if o, err = s.org(ctx, a.OrgID); err != nil {
			return nil, err
		}
	}
	if err := s.insert(ctx, tx, a, o, !in.OrgAdmin, nil); err != nil {
		return nil, s.translate(err)
	}
	// Before the caller's commit: a lookup racing with it may cache "not found" for at
	// most the Directory's TTL, which only matters to the very first token request.
	s.dir.changed(ctx, a.ID)
	return a, nil
}

// AdminExists implements Provisioner.
// CountByStatus implements Census.
func (s *service) CountByStatus(ctx context.Context, orgID string) (map[string]int, error) {
	return s.repo.countByStatus(ctx, s.db, orgID)
}

func (s *service) AdminExists(ctx context.Context) (bool, error) {
	return s.repo.adminExists(ctx, s.db)
}

// newAgent builds an active agent from validated fields, with defaults for absent ones.
func (s *service) newAgent(id string, in agentFields) (*Agent, error) {
	if id == "" {
		u, err := uuid.NewV7()
		if err != nil {
			return nil, fmt.Errorf("generating an agent id: %w", err)
		}
		id = u.String()
	}
	now := database.Time(s.now())
	a := &Agent{
		ID:               id,
		OrgID:            in.OrgID.Value,
		Status:           StatusActive,
		Plan:             PlanFree,
		AllowedScopes:    []string{},
		AllowedAudiences: []string{},
		Metadata:         map[string]any{},
		CreatedAt:        now,
		UpdatedAt:        now,
	}
	apply(a, in)
	return a, nil
}

// insert writes a new agent and its agent.created event in tx, within the free plan's
// limit; grants, when not nil, are the grants set in tx, for the event.
func (s *service) insert(ctx context.Context, tx bun.Tx, a *Agent, org *orgs.Org, admin bool, grants []apis.Grant) error {
	if !org.Active() {
		return apperr.Conflict("the organization is suspended; it gets no new agents")
	}
	if a.Plan == PlanFree {
		if err := s.checkFreeLimit(ctx, tx, org); err != nil {
			return err
		}
	}
	row, err := toRow(a, admin)
	if err != nil {
		return err
	}
	if err := s.repo.insert(ctx, tx, row); err != nil {
		if errors.Is(err, database.ErrAlreadyExists) {
			return apperr.Conflict("an agent with this id already exists")
		}
		return err
	}
	details := map[string]any{"name": a.Name, "plan": string(a.Plan), "allowed_scopes": a.AllowedScopes, "org_id": a.OrgID,
		"require_dpop": a.RequireDPoP}
	if admin {
		details["bootstrap_admin"] = true
	}
	if grants != nil {
		details["grants"] = grants
	}
	return s.record(ctx, tx, ActionCreated, a, details)
}

// checkFreeLimit refuses one more live agent on plan free in org past the org's maximum
// (max_agents). The advisory lock (PostgreSQL) or the write lock (SQLite) is held until tx
// ends, so concurrent creates on any replica cannot overshoot.
func (s *service) checkFreeLimit(ctx context.Context, tx bun.Tx, org *orgs.Org) error {
	if err := s.repo.lockFreePlan(ctx, tx); err != nil {
		return err
	}
	n, err := s.repo.countFreeLive(ctx, tx, org.ID)
	if err != nil {
		return err
	}
	if n >= int64(org.MaxAgents) {
		return apperr.Conflict(fmt.Sprintf(
			"the free plan allows the organization at most %d agents that are not decommissioned, and %d exist; "+
				"decommission one or use plan \"unlimited\"", org.MaxAgents, n))
	}
	return nil
}

// Get answers from the Directory's cache, which every change drops at once on this
// replica and, through the broadcast, on the others (entries also expire within seconds):
// the read path of GET /api/v1/agents/{id} then costs no database round trip. The agent
// returned is shared and must not be modified.
func (s *service) Get(ctx context.Context, id string) (*Agent, error) {
	a, err := s.dir.Lookup(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, errNoAgent
	}
	if err != nil {
		return nil, err
	}
	if err := policy.Authorize(ctx, s.pol, policy.Target{OrgID: a.OrgID}, nil, errNoAgent); err != nil {
		return nil, err
	}
	return a, nil
}

// List returns one page, newest first by (created_at, agent_id).
func (s *service) List(ctx context.Context, q listQuery) (page, error) {
	org, err := policy.ListOrg(ctx, s.pol, q.OrgID)
	if err != nil {
		return page{}, err
	}
	q.OrgID = org
	want := q.Limit
	q.Limit = want + 1
	rows, err := s.repo.list(ctx, s.db, q)
	if err != nil {
		return page{}, s.translate(err)
	}
	var p page
	if len(rows) > want {
		rows = rows[:want]
		last := rows[want-1]
		p.NextCursor = cursor.Position{CreatedAt: last.CreatedAt, ID: last.ID}.Encode()
	}
	p.Items = make([]*Agent, 0, len(rows))
	for i := range rows {
		a, err := rows[i].toAgent()
		if err != nil {
			return page{}, err
		}
		p.Items = append(p.Items, a)
	}
	return p, nil
}

// Update applies the fields that are set. A request that changes nothing answers the
// agent unchanged, without an event. Moving an agent to plan free counts against the
// free plan's limit.
func (s *service) Update(ctx context.Context, id string, in agentFields) (*Agent, error) {
	in, err := s.val.check(in, false)
	if err != nil {
		return nil, err
	}
	var out *Agent
	var changed []string
	var before map[string]any
	var g grantsChange
	toFree := in.Plan.Set && in.Plan.Value == PlanFree
	var org *orgs.Org
	if toFree { // read before the transaction, as in Create; an agent's org never changes
		cur, err := s.dir.Lookup(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return nil, errNoAgent
		}
		if err != nil {
			return nil, err
		}
		if org, err = s.org(ctx, cur.OrgID); err != nil {
			return nil, err
		}
	}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if toFree {
			// Taken before the row lock, in the same order as Create.
			if err := s.repo.lockFreePlan(ctx, tx); err != nil {
				return err
			}
		}
		row, err := s.repo.getForUpdate(ctx, tx, id)
		if err != nil {
			return err
		}
		a, err := row.toAgent()
		if err != nil {
			return err
		}
		if err := s.authorizeChange(ctx, tx, a, changeOf(in)); err != nil {
			return err
		}
		if a.Status == StatusDecommissioned {
			return errDecommissioned
		}
		wasFree := a.Plan == PlanFree
		before = accountable(a)
		changed = apply(a, in)
		out = a
		if g, err = s.setGrantsInTx(ctx, tx, a, in.Grants); err != nil {
			return err
		}
		if g.changed {
			changed = append(changed, "grants")
		}
		if len(changed) == 0 {
			return nil
		}
		if toFree && !wasFree {
			if err := s.checkFreeLimit(ctx, tx, org); err != nil {
				return err
			}
		}
		a.UpdatedAt = s.stamp(a.UpdatedAt)
		newRow, err := toRow(a, row.IsAdmin)
		if err != nil {
			return err
		}
		if err := s.repo.update(ctx, tx, newRow, append(columnsOf(changed), "updated_at")...); err != nil {
			return err
		}
		return s.record(ctx, tx, ActionUpdated, a,
			updatedDetails(changed, g.withGrants(before, false), g.withGrants(accountable(a), true)))
	})
	if err != nil {
		return nil, s.translate(err)
	}
	if len(changed) > 0 {
		s.dir.changed(ctx, id)
	}
	if g.changed {
		s.grants.Committed(ctx, id)
	}
	return out, nil
}

// Suspend stops the agent's tokens and refuses it new ones. Suspending a suspended agent
// changes nothing and succeeds.
func (s *service) Suspend(ctx context.Context, id string) (*Agent, error) {
	return s.setStatus(ctx, id, StatusSuspended)
}

// Reactivate lets a suspended agent get tokens again; tokens issued before the suspension
// stay dead. Reactivating an active agent changes nothing and succeeds.
func (s *service) Reactivate(ctx context.Context, id string) (*Agent, error) {
	return s.setStatus(ctx, id, StatusActive)
}

// Decommission ends the agent for good. Decommissioning it again changes nothing and
// succeeds.
func (s *service) Decommission(ctx context.Context, id string) (*Agent, error) {
	return s.setStatus(ctx, id, StatusDecommissioned)
}

var statusActions = map[Status]string{
	StatusActive:         ActionReactivated,
	StatusSuspended:      ActionSuspended,
	StatusDecommissioned: ActionDecommissioned,
}

// setStatus moves the agent to status to in one transaction with the lifecycle hooks and
// the audit event: a failing hook or audit write leaves the agent as it was. Once the
// transaction has committed, it drops the agent from the Directory (here and, by broadcast,
// on every replica) and runs the after-commit hooks, before it returns.
func (s *service) setStatus(ctx context.Context, id string, to Status) (*Agent, error) {
	var out *Agent
	var changed bool
	var ev LifecycleEvent
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		row, err := s.repo.getForUpdate(ctx, tx, id)
		if err != nil {
			return err
		}
		a, err := row.toAgent()
		if err != nil {
			return err
		}
		if err := s.authorizeChange(ctx, tx, a, nil); err != nil {
			return err
		}
		out = a
		from := a.Status
		switch {
		case from == to:
			return nil // idempotent, decommission included
		case from == StatusDecommissioned:
			return errDecommissioned
		}
		now := database.Time(s.now())
		a.Status, a.UpdatedAt = to, s.stamp(a.UpdatedAt)
		if to != StatusActive {
			a.TokensNotBefore = now
		}
		newRow, err := toRow(a, row.IsAdmin)
		if err != nil {
			return err
		}
		if err := s.repo.update(ctx, tx, newRow, "status", "updated_at", "tokens_not_before"); err != nil {
			return err
		}
		ev = LifecycleEvent{AgentID: a.ID, OrgID: a.OrgID, From: from, To: to, At: now}
		if err := s.hooks.run(ctx, tx, ev); err != nil {
			return err
		}
		changed = true
		return s.record(ctx, tx, statusActions[to], a, map[string]any{"from": string(from), "to": string(to)})
	})
	if err != nil {
		return nil, s.translate(err)
	}
	if changed {
		s.dir.changed(ctx, id)
		s.hooks.committed(ctx, ev)
	}
	return out, nil
}

// stamp is the updated_at of a change to a row last updated at prev: now, but never
// before prev (replicas' clocks may disagree slightly).
func (s *service) stamp(prev time.Time) time.Time {
	now := database.Time(s.now())
	if now.Before(prev) {
		return prev
	}
	return now
}

// record writes an audit event about agent a in tx (of a's organization).
func (s *service) record(ctx context.Context, tx bun.Tx, action string, a *Agent, details map[string]any) error {
	return s.rec.RecordTx(ctx, tx, audittrail.Event{
		Action:     action,
		AgentID:    a.ID,
		OrgID:      a.OrgID,
		TargetType: audittrail.TargetAgent,
		TargetID:   a.ID,
		Outcome:    audittrail.Success,
		Details:    details,
	})
}

// translate maps repository sentinels to public errors; others pass unchanged.
func (s *service) translate(err error) error {
	switch {
	case errors.Is(err, database.ErrNotFound):
		return errNoAgent
	case errors.Is(err, database.ErrAlreadyExists):
		return apperr.Conflict("an agent with this id already exists")
	}
	return err
}

// apply sets the fields of in that are set on a and returns the names of those whose
// value changed, in a fixed order.
func apply(a *Agent, in agentFields) []string {
	var changed []string
	set := func(name string, differs bool, assign func()) {
		if differs {
			assign()
			changed = append(changed, name)
		}
	}
	if in.Name.Set {
		set("name", a.Name != in.Name.Value, func() { a.Name = in.Name.Value })
	}
	if in.Description.Set {
		set("description", a.Description != in.Description.Value, func() { a.Description = in.Description.Value })
	}
	if in.Owner.Set {
		set("owner", a.Owner != in.Owner.Value, func() { a.Owner = in.Owner.Value })
	}
	if in.AllowedScopes.Set {
		v := nonNilSlice(in.AllowedScopes.Value)
		set("allowed_scopes", !slices.Equal(a.AllowedScopes, v), func() { a.AllowedScopes = v })
	}
	if in.AllowedAudiences.Set {
		v := nonNilSlice(in.AllowedAudiences.Value)
		set("allowed_audiences", !slices.Equal(a.AllowedAudiences, v), func() { a.AllowedAudiences = v })
	}
	if in.Plan.Set {
		set("plan", a.Plan != in.Plan.Value, func() { a.Plan = in.Plan.Value })
	}
	if in.RequireDPoP.Set {
		set("require_dpop", a.RequireDPoP != in.RequireDPoP.Value, func() { a.RequireDPoP = in.RequireDPoP.Value })
	}
	if in.Metadata.Set {
		v := map[string]any(in.Metadata.Value)
		if v == nil {
			v = map[string]any{}
		}
		set("metadata", !sameJSON(a.Metadata, v), func() { a.Metadata = v })
	}
	return changed
}

// sameJSON compares two metadata objects as JSON values.
func sameJSON(a, b map[string]any) bool {
	ja, errA := marshalMetadata(a)
	jb, errB := marshalMetadata(b)
	if errA != nil || errB != nil {
		return reflect.DeepEqual(a, b)
	}
	return ja == jb
}

// columnsOf maps changed field names to the columns to update.
func columnsOf(fields []string) []string {
	cols := make([]string, 0, len(fields)+1)
	for _, f := range fields {
		if f == "grants" { // kept by the apis module, in its own table
			continue
		}
		cols = append(cols, f)
		if f == "name" {
			cols = append(cols, "name_lower")
		}
	}
	return cols
}

// org looks up an agent's organization: a validation error when there is none.
func (s *service) org(ctx context.Context, id string) (*orgs.Org, error) {
	o, err := s.orgs.Lookup(ctx, id)
	if errors.Is(err, orgs.ErrNotFound) {
		return nil, apperr.Validation(apperr.FieldError{Field: "org_id", Message: "names no organization"})
	}
	return o, err
}

// callerOrg is the calling agent's organization, root when no agent calls (the CLI).
func callerOrg(ctx context.Context) string {
	if p := reqctx.PrincipalFrom(ctx); p != nil && p.OrgID != "" {
		return p.OrgID
	}
	return orgs.RootID
}
