package apis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/cursor"
	"github.com/agentidp/agentidp/platform/database"
	"github.com/agentidp/agentidp/platform/policy"
)

// Pagination bounds of List.
const (
	defaultPageSize = 50
	maxPageSize     = 200
)

// clockSkew is the leeway validators allow past a token's exp (the tokens module's, and
// what docs/resource-servers.md asks of resource servers): a deleted API's identifier is
// free again only once its last token is dead for them too.
const clockSkew = 60 * time.Second

// errNotFound is the answer for an unknown API, a deleted one, and another organization's.
var errNotFound = apperr.NotFound("no API has this id")

// errBuiltin is the answer to a change of the server's own API.
var errBuiltin = apperr.Conflict("the server's own API is built in: it cannot be changed or deleted " +
	"(its scopes are the server's; an agent's allowed_scopes are its grant on it)")

// page is one page of List.
type page struct {
	Items      []*API
	NextCursor string // "" on the last page
}

// service holds the APIs' rules: validation, isolation (the policy's), the built-in API,
// grants withdrawn with a scope or an API, auditing in the change's transaction and cache
// invalidation after commit. It knows nothing of HTTP.
type service struct {
	db       *bun.DB
	repo     repository
	rec      audittrail.Recorder
	dir      *directory
	grants   *grantStore
	policy   policy.Engine
	orgs     orgs.Directory
	val      *validator
	issuer   string
	tokenTTL time.Duration
	now      func() time.Time
}

// Builtin returns the server's own API. Its created_at and updated_at are the root
// organization's creation: the server's first start.
func (s *service) Builtin(ctx context.Context) (*API, error) {
	a := builtin(s.issuer, s.policy.KnownScopes())
	root, err := s.orgs.Lookup(ctx, orgs.RootID)
	if err != nil {
		return nil, err
	}
	a.CreatedAt, a.UpdatedAt = root.CreatedAt, root.CreatedAt
	return a, nil
}

// Create validates in and registers the API in the organization named (org_id; only a
// caller acting on every organization may name another than its own: the policy's
// isolation), else the caller's.
func (s *service) Create(ctx context.Context, in apiFields) (*API, error) {
	in, err := s.val.check(in, true)
	if err != nil {
		return nil, err
	}
	org := in.OrgID.Value
	if !in.OrgID.Set {
		if org = policy.CallerOrg(ctx); org == "" {
			org = orgs.RootID // the CLI
		}
	}
	noOrg := apperr.Validation(apperr.FieldError{Field: "org_id", Message: "names no organization"})
	if err := policy.Authorize(ctx, s.policy, policy.Target{OrgID: org}, nil, noOrg); err != nil {
		return nil, err
	}
	o, err := s.orgs.Lookup(ctx, org)
	switch {
	case errors.Is(err, orgs.ErrNotFound):
		return nil, noOrg
	case err != nil:
		return nil, err
	case !o.Active():
		return nil, apperr.Conflict("the organization is suspended; it gets no new APIs")
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("generating an api id: %w", err)
	}
	now := database.Time(s.now())
	a := &API{ID: id.String(), OrgID: org, Identifier: in.Identifier.Value, Scopes: []Scope{},
		CreatedAt: now, UpdatedAt: now}
	apply(a, in)
	row, err := toRow(a)
	if err != nil {
		return nil, err
	}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		b, err := s.repo.blocking(ctx, tx, org, a.Identifier, now)
		switch {
		case errors.Is(err, database.ErrNotFound):
		case err != nil:
			return err
		default:
			return identifierTaken(b)
		}
		if err := s.repo.insert(ctx, tx, row); err != nil {
			if errors.Is(err, database.ErrAlreadyExists) {
				return apperr.Conflict("an API with this identifier exists in the organization")
			}
			return err
		}
		return s.record(ctx, tx, ActionCreated, a, map[string]any{"org_id": a.OrgID, "identifier": a.Identifier,
			"name": a.Name, "scopes": a.Scopes, "token_ttl_seconds": ttlSeconds(a.TokenTTL),
			"require_dpop": a.RequireDPoP})
	})
	if err != nil {
		return nil, err
	}
	s.dir.changed(ctx, a)
	return a, nil
}

// identifierTaken is the 409 for an identifier in use, or held back by a deleted API whose
// tokens may still be alive.
func identifierTaken(b *apiRow) error {
	if !b.deleted() {
		return apperr.Conflict("an API with this identifier exists in the organization")
	}
	return apperr.Conflict(fmt.Sprintf("an API with this identifier was deleted at %s; its tokens may be alive "+
		"until %s, and the identifier can be registered again from then on",
		b.DeletedAt.UTC().Format(time.RFC3339), b.ReusableAt.UTC().Format(time.RFC3339)))
}

// Get returns one API: the built-in one, or a registered one of an organization the
// caller acts on (another organization's answers as a missing one). It reads the
// Directory's cache, which every change drops at once on this replica and, through the
// broadcast and the poll, on the others.
func (s *service) Get(ctx context.Context, id string) (*API, error) {
	if id == BuiltinID {
		return s.Builtin(ctx)
	}
	a, err := s.dir.ByID(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, errNotFound
	case err != nil:
		return nil, err
	}
	if err := policy.Authorize(ctx, s.policy, policy.Target{OrgID: a.OrgID}, nil, errNotFound); err != nil {
		return nil, err
	}
	return a, nil
}

// List returns one page: the built-in API first on the first page, then the live APIs of
// the organizations the caller acts on (requestedOrg narrows them; "" for no filter),
// newest first by (created_at, api_id).
func (s *service) List(ctx context.Context, requestedOrg string, after *cursor.Position, limit int) (page, error) {
	org, err := policy.ListOrg(ctx, s.policy, requestedOrg)
	if err != nil {
		return page{}, err
	}
	var items []*API
	if after == nil {
		b, err := s.Builtin(ctx)
		if err != nil {
			return page{}, err
		}
		items = append(items, b)
	}
	want := limit - len(items)
	rows, err := s.repo.list(ctx, s.db, listQuery{OrgID: org, After: after, Limit: want + 1})
	if err != nil {
		return page{}, err
	}
	more := len(rows) > want
	if more {
		rows = rows[:want]
	}
	for i := range rows {
		a, err := rows[i].toAPI()
		if err != nil {
			return page{}, err
		}
		items = append(items, a)
	}
	p := page{Items: items}
	if more {
		last := items[len(items)-1]
		if last.ID == BuiltinID {
			p.NextCursor = afterBuiltin.Encode()
		} else {
			p.NextCursor = cursor.Position{CreatedAt: last.CreatedAt, ID: last.ID}.Encode()
		}
	}
	return p, nil
}

// Update applies the fields that are set. Removing scopes withdraws them from every grant
// in the same transaction; tokens already issued keep them until they expire. A request
// that changes nothing answers the API unchanged, without an event.
func (s *service) Update(ctx context.Context, id string, in apiFields) (*API, error) {
	if id == BuiltinID {
		return nil, errBuiltin
	}
	in, err := s.val.check(in, false)
	if err != nil {
		return nil, err
	}
	var out *API
	var withdrawn []string
	changed := false
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		row, err := s.live(ctx, tx, id)
		if err != nil {
			return err
		}
		a, err := row.toAPI()
		if err != nil {
			return err
		}
		before := *a
		fields := apply(a, in)
		out = a
		if len(fields) == 0 {
			return nil
		}
		changed = true
		a.UpdatedAt = stamp(s.now(), a.UpdatedAt)
		newRow, err := toRow(a)
		if err != nil {
			return err
		}
		if err := s.repo.update(ctx, tx, newRow, append(columnsOf(fields), "updated_at")...); err != nil {
			return err
		}
		details := map[string]any{"org_id": a.OrgID, "identifier": a.Identifier, "fields": fields,
			"before": fieldValues(&before, fields), "after": fieldValues(a, fields)}
		if removed := removedScopes(before.Scopes, a.Scopes); len(removed) > 0 {
			if withdrawn, err = s.grants.withdraw(ctx, tx, a, removed, false); err != nil {
				return err
			}
			details["scopes_removed"] = removed
			details["grants_changed"] = nonNil(withdrawn)
		}
		return s.record(ctx, tx, ActionUpdated, a, details)
	})
	if err != nil {
		return nil, err
	}
	if changed {
		s.dir.changed(ctx, out)
		for _, agent := range withdrawn {
			s.grants.Committed(ctx, agent)
		}
	}
	return out, nil
}

// Delete deletes the API: its grants go in the same transaction, every token naming it
// stops at once (the validator looks the API up), and its identifier is held back in the
// organization until its last token has expired (reusable_at).
func (s *service) Delete(ctx context.Context, id string) error {
	if id == BuiltinID {
		return errBuiltin
	}
	var a *API
	var withdrawn []string
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		row, err := s.live(ctx, tx, id)
		if err != nil {
			return err
		}
		if a, err = row.toAPI(); err != nil {
			return err
		}
		now := stamp(s.now(), row.UpdatedAt)
		row.DeletedAt, row.UpdatedAt = now, now
		// The longest a token of the API can live (AGENTIDP_TOKEN_TTL bounds every API's
		// lifetime), plus the validators' clock skew, plus the second an iat may be moved
		// forward past a cut-off.
		row.ReusableAt = now.Add(s.tokenTTL + clockSkew + time.Second)
		if err := s.repo.update(ctx, tx, row, "deleted_at", "reusable_at", "updated_at"); err != nil {
			return err
		}
		if withdrawn, err = s.grants.withdraw(ctx, tx, a, nil, true); err != nil {
			return err
		}
		return s.record(ctx, tx, ActionDeleted, a, map[string]any{"org_id": a.OrgID, "identifier": a.Identifier,
			"name": a.Name, "scopes": scopeValues(a.Scopes), "reusable_at": row.ReusableAt.Format(time.RFC3339),
			"grants_removed": nonNil(withdrawn)})
	})
	if err != nil {
		return err
	}
	s.dir.changed(ctx, a)
	for _, agent := range withdrawn {
		s.grants.Committed(ctx, agent)
	}
	return nil
}

// ResourceMetadata returns the API and the issuer its tokens come from: its organization's
// (orgs.Issuer); for the built-in API, for which every organization issues tokens, the
// caller's organization's.
func (s *service) ResourceMetadata(ctx context.Context, id string) (*API, string, error) {
	a, err := s.Get(ctx, id)
	if err != nil {
		return nil, "", err
	}
	org := a.OrgID
	if a.ID == BuiltinID {
		org = policy.CallerOrg(ctx)
	}
	return a, orgs.Issuer(s.issuer, org), nil
}

// live reads the API's row for a change, locked, and asks the policy whether the caller
// acts on its organization: a deleted API and another organization's answer 404.
func (s *service) live(ctx context.Context, tx bun.Tx, id string) (*apiRow, error) {
	row, err := s.repo.getForUpdate(ctx, tx, id)
	switch {
	case errors.Is(err, database.ErrNotFound):
		return nil, errNotFound
	case err != nil:
		return nil, err
	case row.deleted():
		return nil, errNotFound
	}
	if err := policy.Authorize(ctx, s.policy, policy.Target{OrgID: row.OrgID}, nil, errNotFound); err != nil {
		return nil, err
	}
	return row, nil
}

// record writes an audit event about API a in tx.
func (s *service) record(ctx context.Context, tx bun.Tx, action string, a *API, details map[string]any) error {
	return s.rec.RecordTx(ctx, tx, audittrail.Event{
		Action:     action,
		TargetType: audittrail.TargetAPI,
		TargetID:   a.ID,
		Outcome:    audittrail.Success,
		Details:    details,
	})
}

// apply sets the fields of in that are set on a and returns the names of those whose
// value changed, in a fixed order.
func apply(a *API, in apiFields) []string {
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
	if in.Scopes.Set {
		v := nonNilScopes(in.Scopes.Value)
		set("scopes", !slices.Equal(a.Scopes, v), func() { a.Scopes = v })
	}
	if in.TokenTTL.Set {
		v := time.Duration(0)
		if !in.TokenTTL.Null {
			v = time.Duration(in.TokenTTL.Value) * time.Second
		}
		set("token_ttl_seconds", a.TokenTTL != v, func() { a.TokenTTL = v })
	}
	if in.RequireDPoP.Set {
		set("require_dpop", a.RequireDPoP != in.RequireDPoP.Value, func() { a.RequireDPoP = in.RequireDPoP.Value })
	}
	return changed
}

// columnsOf maps changed field names to their columns (they have the same names).
func columnsOf(fields []string) []string { return slices.Clone(fields) }

// fieldValues are the audited values of the fields of a: scopes whole ({value,
// description}), the lifetime in seconds (null: the server's default).
func fieldValues(a *API, fields []string) map[string]any {
	out := make(map[string]any, len(fields))
	for _, f := range fields {
		switch f {
		case "name":
			out[f] = a.Name
		case "scopes":
			out[f] = a.Scopes
		case "token_ttl_seconds":
			out[f] = ttlSeconds(a.TokenTTL)
		case "require_dpop":
			out[f] = a.RequireDPoP
		}
	}
	return out
}

// removedScopes are the values in before that after no longer has.
func removedScopes(before, after []Scope) []string {
	var out []string
	for _, s := range before {
		if !slices.ContainsFunc(after, func(x Scope) bool { return x.Value == s.Value }) {
			out = append(out, s.Value)
		}
	}
	return out
}

func scopeValues(scopes []Scope) []string {
	out := make([]string, len(scopes))
	for i, s := range scopes {
		out[i] = s.Value
	}
	return out
}

// ttlSeconds is a token lifetime in seconds, nil for the server's default.
func ttlSeconds(d time.Duration) *int64 {
	if d <= 0 {
		return nil
	}
	s := int64(d / time.Second)
	return &s
}
