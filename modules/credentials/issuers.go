package credentials

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/cursor"
	"github.com/agentidp/agentidp/platform/database"
	"github.com/agentidp/agentidp/platform/ident"
	"github.com/agentidp/agentidp/platform/jwks"
	"github.com/agentidp/agentidp/platform/policy"
)

// Audit actions of trusted issuers.
const (
	actionIssuerCreated = "trusted_issuer.created"
	actionIssuerDeleted = "trusted_issuer.deleted"
)

// maxIssuerLen bounds a trusted issuer's issuer string.
const maxIssuerLen = 1024

// errNoIssuer is the 404 of an unknown, deleted or other organization's trusted issuer.
var errNoIssuer = apperr.NotFound("no trusted issuer with this trusted_issuer_id")

// IssuerInput is a trusted issuer to register: its issuer, and its keys by value or by
// address; OrgID names the organization (only a caller acting on every organization may
// name another than its own), "" for the caller's.
type IssuerInput struct {
	OrgID   string
	Issuer  string
	JWKSURI string
	JWKS    []byte
}

func toTrustedIssuer(r *issuerRow) *TrustedIssuer {
	t := &TrustedIssuer{ID: r.ID, OrgID: r.OrgID, Issuer: r.Issuer, JWKSURI: r.JWKSURI, CreatedAt: r.CreatedAt.UTC()}
	if r.JWKS != "" {
		t.JWKS = json.RawMessage(r.JWKS)
	}
	return t
}

// CreateIssuer registers a trusted issuer: 409 when the organization has a live one with
// the same issuer.
func (s *service) CreateIssuer(ctx context.Context, in IssuerInput) (*TrustedIssuer, error) {
	var f apperr.Fields
	if in.Issuer == "" || len(in.Issuer) > maxIssuerLen || strings.TrimSpace(in.Issuer) != in.Issuer {
		f.Add("issuer", "is required: the exact iss of the tokens it signs, at most %d characters", maxIssuerLen)
	}
	var keys jose.JSONWebKeySet
	switch {
	case in.JWKSURI != "" && len(in.JWKS) > 0:
		f.Add("jwks", "give jwks or jwks_uri, not both")
	case in.JWKSURI != "":
		if err := jwks.CheckURI(in.JWKSURI); err != nil {
			f.Add("jwks_uri", "%v", err)
		}
	case len(in.JWKS) > 0:
		var err error
		if keys, err = jwks.ParsePublic(in.JWKS); err != nil {
			f.Add("jwks", "%s", strings.TrimPrefix(err.Error(), jwks.ErrInvalid.Error()+": "))
		}
	default:
		f.Add("jwks_uri", "give jwks_uri or jwks")
	}
	org := in.OrgID
	if org != "" {
		org = uuidField(&f, "org_id", org)
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	if org == "" {
		if org = policy.CallerOrg(ctx); org == "" {
			org = orgs.RootID // the CLI
		}
	}
	noOrg := apperr.Validation(apperr.FieldError{Field: "org_id", Message: "names no organization"})
	if err := policy.Authorize(ctx, s.policy, policy.Target{OrgID: org}, nil, noOrg); err != nil {
		return nil, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, err
	}
	row := &issuerRow{ID: id.String(), OrgID: org, Issuer: in.Issuer, JWKSURI: in.JWKSURI,
		CreatedAt: database.Time(s.now())}
	if len(keys.Keys) > 0 {
		raw, err := json.Marshal(keys)
		if err != nil {
			return nil, fmt.Errorf("credentials: encoding a key set: %w", err)
		}
		row.JWKS = string(raw)
	}
	taken := apperr.Conflict("the organization already trusts this issuer")
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		_, err := s.issuers.live(ctx, tx, org, in.Issuer)
		switch {
		case err == nil:
			return taken
		case !errors.Is(err, database.ErrNotFound):
			return err
		}
		if err := s.issuers.insert(ctx, tx, row); err != nil {
			if errors.Is(err, database.ErrAlreadyExists) {
				return taken
			}
			return err
		}
		d := map[string]any{"issuer": row.Issuer, "org_id": org}
		if row.JWKSURI != "" {
			d["jwks_uri"] = row.JWKSURI
		} else {
			d["kids"] = jwks.KeyIDs(keys)
		}
		return s.audit.RecordTx(ctx, tx, audittrail.Event{Action: actionIssuerCreated, OrgID: org,
			TargetType: audittrail.TargetIssuer, TargetID: row.ID, Details: d})
	})
	if err != nil {
		return nil, err
	}
	return toTrustedIssuer(row), nil
}

// GetIssuer returns a live trusted issuer of an organization the caller acts on.
func (s *service) GetIssuer(ctx context.Context, id string) (*TrustedIssuer, error) {
	cid, ok := ident.Canonical(id)
	if !ok {
		return nil, errNoIssuer
	}
	row, err := s.issuers.get(ctx, s.db, cid, false)
	switch {
	case errors.Is(err, database.ErrNotFound):
		return nil, errNoIssuer
	case err != nil:
		return nil, err
	case row.DeletedAt != nil:
		return nil, errNoIssuer
	}
	if err := policy.Authorize(ctx, s.policy, policy.Target{OrgID: row.OrgID}, nil, errNoIssuer); err != nil {
		return nil, err
	}
	return toTrustedIssuer(row), nil
}

// ListIssuers returns a page of live trusted issuers of the organizations the caller acts
// on (requestedOrg narrows them), newest first, and the next page's cursor.
func (s *service) ListIssuers(ctx context.Context, requestedOrg, c string, limit int) ([]TrustedIssuer, string, error) {
	var f apperr.Fields
	if limit < 1 || limit > MaxPageSize {
		f.Add("limit", "must be between 1 and %d", MaxPageSize)
	}
	if requestedOrg != "" {
		requestedOrg = uuidField(&f, "org_id", requestedOrg)
	}
	before := ""
	if c != "" {
		_, key, err := cursor.Decode(c)
		id, ok := ident.Canonical(key)
		if err != nil || !ok {
			f.Add("cursor", "is not a cursor this server returned")
		}
		before = id
	}
	if err := f.Err(); err != nil {
		return nil, "", err
	}
	org, err := policy.ListOrg(ctx, s.policy, requestedOrg)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.issuers.list(ctx, org, before, limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = cursor.Encode(time.Time{}, rows[limit-1].ID)
	}
	out := make([]TrustedIssuer, len(rows))
	for i := range rows {
		out[i] = *toTrustedIssuer(&rows[i])
	}
	return out, next, nil
}

// DeleteIssuer deletes a trusted issuer and revokes every credential bound to it, in one
// transaction. The caller needs authority over every agent those credentials belong to
// (no managing up): the policy is asked about each.
func (s *service) DeleteIssuer(ctx context.Context, id string) error {
	cid, ok := ident.Canonical(id)
	if !ok {
		return errNoIssuer
	}
	// The facts for the policy, read before the transaction (the agents module reads its
	// own tables); the transaction checks that no other agent was bound meanwhile.
	row, err := s.issuers.get(ctx, s.db, cid, false)
	switch {
	case errors.Is(err, database.ErrNotFound):
		return errNoIssuer
	case err != nil:
		return err
	case row.DeletedAt != nil:
		return errNoIssuer
	}
	if err := policy.Authorize(ctx, s.policy, policy.Target{OrgID: row.OrgID}, nil, errNoIssuer); err != nil {
		return err
	}
	bound, err := s.repo.boundTo(ctx, s.db, cid, s.now())
	if err != nil {
		return err
	}
	targets := map[string]*policy.Target{} // nil: an agent gone entirely, nothing to protect
	for _, b := range bound {
		if _, ok := targets[b.AgentID]; ok {
			continue
		}
		t, err := s.target(ctx, b.AgentID)
		switch {
		case errors.Is(err, errNoAgent):
			targets[b.AgentID] = nil
		case err != nil:
			return err
		default:
			targets[b.AgentID] = t
		}
	}
	var agentsHit []string
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		now := s.now()
		row, err := s.issuers.get(ctx, tx, cid, true)
		if errors.Is(err, database.ErrNotFound) || (err == nil && row.DeletedAt != nil) {
			return errNoIssuer
		}
		if err != nil {
			return err
		}
		bound, err := s.repo.boundTo(ctx, tx, cid, now)
		if err != nil {
			return err
		}
		byAgent := map[string][]string{}
		for _, b := range bound {
			if _, ok := targets[b.AgentID]; !ok {
				return apperr.Conflict("a credential was bound to this trusted issuer meanwhile; retry")
			}
			if _, seen := byAgent[b.AgentID]; !seen {
				agentsHit = append(agentsHit, b.AgentID)
			}
			byAgent[b.AgentID] = append(byAgent[b.AgentID], b.ID)
		}
		// The policy about each agent: its whole authority (no managing up) and, under the
		// organization's lock-out lock, the active credentials it keeps (no lock-out).
		for _, agentID := range agentsHit {
			if t := targets[agentID]; t != nil {
				if err := s.authorizeBulkRevokeInTx(ctx, tx, t, byAgent[agentID]); err != nil {
					return err
				}
			}
		}
		for i := range bound {
			b := &bound[i]
			if err := s.repo.setRevokedAt(ctx, tx, b.ID, database.Time(now)); err != nil {
				return err
			}
			if err := s.audit.RecordTx(ctx, tx, audittrail.Event{
				Action: actionRevoked, AgentID: b.AgentID, OrgID: row.OrgID,
				TargetType: audittrail.TargetCredential, TargetID: b.ID,
				Details: map[string]any{"reason": "trusted_issuer_deleted", "trusted_issuer_id": cid},
			}); err != nil {
				return err
			}
		}
		if err := s.issuers.markDeleted(ctx, tx, cid, database.Time(now)); err != nil {
			return err
		}
		return s.audit.RecordTx(ctx, tx, audittrail.Event{Action: actionIssuerDeleted, OrgID: row.OrgID,
			TargetType: audittrail.TargetIssuer, TargetID: cid,
			Details: map[string]any{"issuer": row.Issuer, "credentials_revoked": len(bound)}})
	})
	if err != nil {
		return err
	}
	s.issuerCache.drop(cid)
	for _, a := range agentsHit {
		s.inval.invalidate(ctx, a)
	}
	return nil
}
