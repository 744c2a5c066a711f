package orgs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/cursor"
	"github.com/agentidp/agentidp/platform/database"
	"github.com/agentidp/agentidp/platform/policy"
)

// Pagination bounds of List.
const (
	defaultPageSize = 50
	maxPageSize     = 200
)

// The first admin agent of every new organization.
const (
	adminName        = "org-admin"
	adminDescription = "Administrator created with the organization"
	// adminPlan is the admin's plan, as the bootstrap admin's: its tokens are not metered
	// against a quota (a management identity locked out for the month would lock its org
	// out of its own management), and it does not count against max_agents.
	adminPlan = "unlimited"
)

// errNotFound is the answer for an unknown organization, and for another organization
// the policy hides from the caller.
var errNotFound = apperr.NotFound("no organization has this id")

// errNameTaken is the answer when another organization has the name (case-insensitively).
var errNameTaken = apperr.Conflict("an organization with this name exists")

// created is what Create makes: the organization and its first admin.
type created struct {
	Org   *Org  `json:"org"`
	Admin Admin `json:"admin"`
}

// page is one page of List.
type page struct {
	Items      []*Org
	NextCursor string // "" on the last page
}

// service holds the organizations' rules: validation, creation with a first admin, the
// lifecycle, auditing in the change's transaction, and dropping the Directory's entry
// after commit. Every authorization decision is the policy's. It knows nothing of HTTP.
type service struct {
	db         *bun.DB
	repo       repository
	dir        *directory
	policy     policy.Engine
	rec        audittrail.Recorder
	admins     AdminProvisioner // nil in an app without the credentials module
	defaultMax int
	now        func() time.Time
}

// serviceParams are the service's dependencies. AdminProvisioner comes from the credentials
// module; without it (apps that test other modules) organizations cannot be created.
type serviceParams struct {
	fx.In
	DB       *bun.DB
	Repo     repository
	Dir      *directory
	Policy   policy.Engine
	Recorder audittrail.Recorder
	Admins   AdminProvisioner `optional:"true"`
	Config   *config.Config
	Log      *zap.Logger
}

func newService(p serviceParams) *service {
	return &service{db: p.DB, repo: p.Repo, dir: p.Dir, policy: p.Policy, rec: p.Recorder, admins: p.Admins,
		defaultMax: p.Config.FreeTierMaxAgents, now: time.Now}
}

// adminScopes are the first admin's allowed scopes: every scope of the server's API but the
// root-only ones.
func (s *service) adminScopes() []string {
	rootOnly := s.policy.RootOnly()
	return slices.DeleteFunc(s.policy.KnownScopes(), func(sc string) bool { return slices.Contains(rootOnly, sc) })
}

// Create makes an active organization and its first admin agent (every scope but the
// root-only ones) with one credential, in one transaction with their audit events. The
// policy is asked about the admin's scopes as a change made by the caller, so a caller
// grants only what it holds.
func (s *service) Create(ctx context.Context, in orgFields) (*created, error) {
	in, err := check(in, true)
	if err != nil {
		return nil, err
	}
	u, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("generating an organization id: %w", err)
	}
	id := u.String()
	scopes := s.adminScopes()
	change := &policy.Change{AllowedScopes: scopes, ScopesSet: true, Plan: adminPlan}
	if err := policy.Authorize(ctx, s.policy, policy.Target{OrgID: id}, change, errNotFound); err != nil {
		return nil, err
	}
	if s.admins == nil {
		return nil, errors.New("orgs: no AdminProvisioner in the app (the credentials module provides it)")
	}
	now := database.Time(s.now())
	row := &orgRow{ID: id, Name: in.Name.Value, NameLower: strings.ToLower(in.Name.Value),
		Status: string(StatusActive), Metadata: "{}", CreatedAt: now, UpdatedAt: now}
	if in.MaxAgents.Set {
		n := int(in.MaxAgents.Value)
		row.MaxAgents = &n
	}
	if in.Metadata.Set {
		if row.Metadata, err = marshalMetadata(in.Metadata.Value); err != nil {
			return nil, err
		}
	}
	org, err := row.toOrg(s.defaultMax)
	if err != nil {
		return nil, err
	}
	var admin Admin
	var undo func(context.Context)
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := s.repo.insert(ctx, tx, row); err != nil {
			return err
		}
		// The admin first: in Vault mode its secret is written to Vault before its events,
		// whose first one takes the chain lock (held until commit) on PostgreSQL.
		var err error
		admin, undo, err = s.admins.ProvisionAdminInTx(ctx, tx, NewAdmin{
			Org: org, Name: adminName, Description: adminDescription, AllowedScopes: scopes, Plan: adminPlan,
		})
		if err != nil {
			return err
		}
		return s.record(ctx, tx, ActionCreated, id, map[string]any{
			"name": org.Name, "max_agents": org.MaxAgents, "metadata": org.Metadata, "admin_agent_id": admin.AgentID,
		})
	})
	if err != nil {
		if undo != nil {
			undo(ctx)
		}
		return nil, translate(err)
	}
	s.dir.changed(ctx, id) // a lookup made before the commit may have cached "not found"
	return &created{Org: org, Admin: admin}, nil
}

// List returns one page, newest first by (created_at, org_id), of the organizations the
// policy lets the caller list (every one with orgs:admin).
func (s *service) List(ctx context.Context, q listQuery) (page, error) {
	only, err := policy.ListOrg(ctx, s.policy, "")
	if err != nil {
		return page{}, err
	}
	q.Only = only
	want := q.Limit
	q.Limit = want + 1
	rows, err := s.repo.list(ctx, s.db, q)
	if err != nil {
		return page{}, err
	}
	var p page
	if len(rows) > want {
		rows = rows[:want]
		last := rows[want-1]
		p.NextCursor = cursor.Position{CreatedAt: last.CreatedAt, ID: last.ID}.Encode()
	}
	p.Items = make([]*Org, 0, len(rows))
	for i := range rows {
		o, err := rows[i].toOrg(s.defaultMax)
		if err != nil {
			return page{}, err
		}
		p.Items = append(p.Items, o)
	}
	return p, nil
}

// Get answers one organization from the Directory's cache (dropped on every replica when the
// organization changes). Another organization than the caller's is the policy's to show:
// hidden, it is answered as a missing one. The Org returned is shared and must not be
// modified.
func (s *service) Get(ctx context.Context, id string) (*Org, error) {
	if err := policy.Authorize(ctx, s.policy, policy.Target{OrgID: id}, nil, errNotFound); err != nil {
		return nil, err
	}
	o, err := s.dir.Lookup(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, errNotFound
	}
	return o, err
}

// Update applies the fields that are set. A request that changes nothing answers the
// organization unchanged, without an event. org.updated records every changed value before
// and after.
func (s *service) Update(ctx context.Context, id string, in orgFields) (*Org, error) {
	if err := policy.Authorize(ctx, s.policy, policy.Target{OrgID: id}, nil, errNotFound); err != nil {
		return nil, err
	}
	in, err := check(in, false)
	if err != nil {
		return nil, err
	}
	var out *Org
	var changed bool
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		row, err := s.repo.getForUpdate(ctx, tx, id)
		if err != nil {
			return err
		}
		before, err := row.toOrg(s.defaultMax)
		if err != nil {
			return err
		}
		cols, details, err := s.apply(row, before, in)
		if err != nil {
			return err
		}
		if out, err = row.toOrg(s.defaultMax); err != nil {
			return err
		}
		if len(cols) == 0 {
			return nil
		}
		row.UpdatedAt = s.stamp(row.UpdatedAt)
		if err := s.repo.update(ctx, tx, row, append(cols, "updated_at")...); err != nil {
			return err
		}
		out.UpdatedAt = row.UpdatedAt.UTC()
		changed = true
		return s.record(ctx, tx, ActionUpdated, id, details)
	})
	if err != nil {
		return nil, translate(err)
	}
	if changed {
		s.dir.changed(ctx, id)
	}
	return out, nil
}

// apply sets the fields of in that change something on row, and returns the columns to
// write and the audit details: the changed fields' names, and their values before and
// after.
func (s *service) apply(row *orgRow, cur *Org, in orgFields) ([]string, map[string]any, error) {
	var cols, fields []string
	before, after := map[string]any{}, map[string]any{}
	if in.Name.Set && in.Name.Value != cur.Name {
		row.Name, row.NameLower = in.Name.Value, strings.ToLower(in.Name.Value)
		cols, fields = append(cols, "name", "name_lower"), append(fields, "name")
		before["name"], after["name"] = cur.Name, in.Name.Value
	}
	if in.MaxAgents.Set && in.MaxAgents.Value != int64(cur.MaxAgents) {
		n := int(in.MaxAgents.Value)
		row.MaxAgents = &n
		cols, fields = append(cols, "max_agents"), append(fields, "max_agents")
		before["max_agents"], after["max_agents"] = cur.MaxAgents, n
	}
	if in.Metadata.Set {
		md, err := marshalMetadata(in.Metadata.Value)
		if err != nil {
			return nil, nil, err
		}
		if cm, err := marshalMetadata(cur.Metadata); err != nil || cm != md {
			row.Metadata = md
			cols, fields = append(cols, "metadata"), append(fields, "metadata")
			before["metadata"], after["metadata"] = cur.Metadata, map[string]any(in.Metadata.Value)
		}
	}
	return cols, map[string]any{"fields": fields, "before": before, "after": after}, nil
}

// Suspend stops every token of the organization's agents at once (the cut-off
// tokens_not_before, which a reactivation keeps) and refuses them new ones. Suspending a
// suspended organization changes nothing and succeeds; root cannot be suspended (the
// policy's conflict).
func (s *service) Suspend(ctx context.Context, id string) (*Org, error) {
	return s.setStatus(ctx, id, StatusSuspended, ActionSuspended)
}

// Reactivate lets a suspended organization's agents get tokens again; tokens issued before
// the suspension stay dead. Reactivating an active organization changes nothing.
func (s *service) Reactivate(ctx context.Context, id string) (*Org, error) {
	return s.setStatus(ctx, id, StatusActive, ActionReactivated)
}

// setStatus moves the organization to status to in one transaction with its audit event,
// then drops it from the Directory here and, by broadcast (or the poll of the table
// within a second when that is lost), on every replica, before it returns.
func (s *service) setStatus(ctx context.Context, id string, to Status, action string) (*Org, error) {
	if err := policy.Authorize(ctx, s.policy, policy.Target{OrgID: id}, nil, errNotFound); err != nil {
		return nil, err
	}
	var out *Org
	var changed bool
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		row, err := s.repo.getForUpdate(ctx, tx, id)
		if err != nil {
			return err
		}
		from := Status(row.Status)
		if from == to {
			out, err = row.toOrg(s.defaultMax)
			return err
		}
		row.Status, row.UpdatedAt = string(to), s.stamp(row.UpdatedAt)
		if to == StatusSuspended {
			row.TokensNotBefore = database.Time(s.now())
		}
		if err := s.repo.update(ctx, tx, row, "status", "updated_at", "tokens_not_before"); err != nil {
			return err
		}
		if out, err = row.toOrg(s.defaultMax); err != nil {
			return err
		}
		changed = true
		return s.record(ctx, tx, action, id, map[string]any{"from": string(from), "to": string(to)})
	})
	if err != nil {
		return nil, translate(err)
	}
	if changed {
		s.dir.changed(ctx, id)
	}
	return out, nil
}

// stamp is the updated_at of a change to a row last updated at prev: now, but never before
// prev (replicas' clocks may disagree slightly).
func (s *service) stamp(prev time.Time) time.Time {
	now := database.Time(s.now())
	if now.Before(prev) {
		return prev
	}
	return now
}

// record writes an audit event about organization id in tx; the event belongs to that
// organization.
func (s *service) record(ctx context.Context, tx bun.Tx, action, id string, details map[string]any) error {
	return s.rec.RecordTx(ctx, tx, audittrail.Event{
		Action:     action,
		OrgID:      id,
		TargetType: audittrail.TargetOrg,
		TargetID:   id,
		Outcome:    audittrail.Success,
		Details:    details,
	})
}

// translate maps repository sentinels to public errors; others pass unchanged.
func translate(err error) error {
	switch {
	case errors.Is(err, database.ErrNotFound):
		return errNotFound
	case errors.Is(err, database.ErrAlreadyExists):
		return errNameTaken
	}
	return err
}
