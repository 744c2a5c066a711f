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
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/modules/agents"
	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/cursor"
	"github.com/agentidp/agentidp/platform/database"
	"github.com/agentidp/agentidp/platform/ident"
	"github.com/agentidp/agentidp/platform/jwks"
	"github.com/agentidp/agentidp/platform/policy"
	"github.com/agentidp/agentidp/platform/vault"
)

// Audit actions of this module.
const (
	actionCreated = "credential.created"
	actionRotated = "credential.rotated"
	actionRevoked = "credential.revoked"
)

// Limits.
const (
	// MaxGracePeriod is the longest rotation grace period.
	MaxGracePeriod = 86400 * time.Second
	// DefaultPageSize and MaxPageSize bound list pages.
	DefaultPageSize = 50
	MaxPageSize     = 200

	vaultKey = "client_secret"
)

// service is the admin side of the module: issue, list, rotate, revoke, bootstrap
// (bootstrap.go) and the agents lifecycle hooks (lifecycle.go). It knows nothing of HTTP;
// after every commit that changes an agent's credentials it drops them from the verifier's
// caches on every replica (invalidator).
type service struct {
	cfg         *config.Config
	db          *bun.DB
	repo        repository
	issuers     issuerRepository
	issuerCache *issuerCache
	agents      agents.Directory
	authority   agents.Authority
	provisioner agents.Provisioner
	audit       audittrail.Recorder
	policy      policy.Engine
	kv          vault.KV
	vaultOn     bool
	hasher      *hasher
	inval       *invalidator
	log         *zap.Logger
	now         func() time.Time
}

// serviceParams are the admin service's dependencies.
type serviceParams struct {
	fx.In
	Config      *config.Config
	DB          *bun.DB
	Repo        repository
	Issuers     issuerRepository
	IssuerCache *issuerCache
	Hasher      *hasher
	Invalidator *invalidator
	KV          vault.KV
	Log         *zap.Logger
	Policy      policy.Engine
	Audit       audittrail.Recorder
	Agents      agents.Directory
	Authority   agents.Authority
	Provisioner agents.Provisioner
}

func newService(p serviceParams) *service {
	return &service{
		cfg: p.Config, db: p.DB, repo: p.Repo, issuers: p.Issuers, issuerCache: p.IssuerCache,
		agents: p.Agents, authority: p.Authority, provisioner: p.Provisioner, audit: p.Audit, policy: p.Policy,
		kv: p.KV, vaultOn: vault.Enabled(p.KV), hasher: p.Hasher, inval: p.Invalidator,
		log: p.Log, now: time.Now,
	}
}

// ---- rules shared by the operations ----

// uuidField canonicalises a UUID path or body value, adding a field error when it is not
// one.
func uuidField(f *apperr.Fields, field, v string) string {
	id, ok := ident.Canonical(v)
	if !ok {
		f.Add(field, "must be a UUID")
	}
	return id
}

// vaultPath is where Vault mode keeps a credential's secret, relative to the KV mount.
func vaultPath(agentID, credID string) string {
	return "agentidp/credentials/" + agentID + "/" + credID
}

// prepare makes a new credential row for agentID with secret (generated when empty). In
// Vault mode the secret is written to Vault now, before the row's transaction; discard
// undoes that when the transaction fails.
func (s *service) prepare(ctx context.Context, agentID, secret string, expiresAt *time.Time, rotatedFrom *string) (*credentialRow, string, error) {
	if secret == "" {
		var err error
		if secret, err = newSecret(); err != nil {
			return nil, "", err
		}
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, "", err
	}
	row := &credentialRow{
		ID: id.String(), AgentID: agentID, Type: TypeSecret, SecretPrefix: displayPrefix(secret),
		RotatedFrom: rotatedFrom, CreatedAt: database.Time(s.now()),
	}
	if expiresAt != nil {
		t := database.Time(*expiresAt)
		row.ExpiresAt = &t
	}
	if !s.vaultOn {
		row.SecretHash = encodeV1(s.hasher.sum(secret))
		return row, secret, nil
	}
	path := vaultPath(agentID, row.ID)
	if err := s.kv.Write(ctx, path, map[string]string{vaultKey: secret}); err != nil {
		return nil, "", apperr.Unavailable("the secret store (Vault) is unavailable; retry shortly", err)
	}
	row.VaultPath = path
	return row, secret, nil
}

// discard deletes the Vault entry of a row whose transaction did not commit.
func (s *service) discard(ctx context.Context, row *credentialRow) {
	if row == nil || row.VaultPath == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.kv.Delete(ctx, row.VaultPath); err != nil {
		s.log.Warn("could not delete the Vault entry of a credential that was not created",
			zap.String("credential_id", row.ID), zap.Error(err))
	}
}

// dropVault deletes a revoked credential's Vault entry after commit (best effort: the
// janitor retries what fails) and clears its vault_path.
func (s *service) dropVault(ctx context.Context, row *credentialRow) {
	if row.VaultPath == "" || !s.vaultOn {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.kv.Delete(ctx, row.VaultPath); err != nil {
		s.log.Warn("could not delete a revoked credential's Vault entry; the janitor retries",
			zap.String("credential_id", row.ID), zap.Error(err))
		return
	}
	if err := s.repo.clearVaultPath(ctx, row.ID); err != nil {
		s.log.Warn("could not clear vault_path", zap.String("credential_id", row.ID), zap.Error(err))
	}
}

func (s *service) toCredential(r *credentialRow, now time.Time) Credential {
	c := Credential{
		ID: r.ID, AgentID: r.AgentID, Type: r.typ(), Status: r.status(now), SecretPrefix: r.SecretPrefix,
		RotatedFrom: r.RotatedFrom, CreatedAt: r.CreatedAt.UTC(),
		ExpiresAt: utcPtr(r.ExpiresAt), RevokedAt: utcPtr(r.RevokedAt), LastUsedAt: utcPtr(r.LastUsedAt),
	}
	switch c.Type {
	case TypePrivateKeyJWT:
		c.KeyIDs = r.keyIDs()
	case TypeFederated:
		c.TrustedIssuerID, c.Subject = r.IssuerID, r.Subject
	}
	return c
}

func derefString(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func (s *service) issued(r *credentialRow, secret string) *Issued {
	return &Issued{Credential: s.toCredential(r, s.now()), ClientID: r.AgentID, ClientSecret: secret}
}

// ---- operations ----

// IssueInput is what a new credential is made of: its type (secret when empty), an
// optional expiry in the future, and the type's own fields.
type IssueInput struct {
	Type      Type
	ExpiresAt *time.Time
	JWKS      []byte // private_key_jwt: the public key set
	// federated: the trusted issuer, by id or by its issuer string in the agent's
	// organization, and the subject it vouches for.
	TrustedIssuerID string
	Issuer          string
	Subject         string
}

// maxSubjectLen bounds a federated credential's subject.
const maxSubjectLen = 1024

// Issue creates a credential for the agent: a secret (returned once), a private_key_jwt
// key set, or a federated identity.
func (s *service) Issue(ctx context.Context, agentID string, in IssueInput) (*Issued, error) {
	var f apperr.Fields
	agentID = uuidField(&f, "agent_id", agentID)
	if in.ExpiresAt != nil && !in.ExpiresAt.After(s.now()) {
		f.Add("expires_at", "must be in the future")
	}
	if in.Type == "" {
		in.Type = TypeSecret
	}
	var keys jose.JSONWebKeySet
	switch in.Type {
	case TypeSecret:
	case TypePrivateKeyJWT:
		var err error
		if len(in.JWKS) == 0 {
			f.Add("jwks", "is required for a private_key_jwt credential")
		} else if keys, err = jwks.ParsePublic(in.JWKS); err != nil {
			f.Add("jwks", "%s", strings.TrimPrefix(err.Error(), jwks.ErrInvalid.Error()+": "))
		}
	case TypeFederated:
		switch {
		case in.TrustedIssuerID != "" && in.Issuer != "":
			f.Add("trusted_issuer_id", "give the trusted issuer's id or its issuer, not both")
		case in.TrustedIssuerID != "":
			in.TrustedIssuerID = uuidField(&f, "trusted_issuer_id", in.TrustedIssuerID)
		case in.Issuer == "":
			f.Add("issuer", "is required for a federated credential (or trusted_issuer_id)")
		}
		if in.Subject == "" || len(in.Subject) > maxSubjectLen {
			f.Add("subject", "is required, at most %d characters", maxSubjectLen)
		}
	default:
		f.Add("type", "must be secret, private_key_jwt or federated")
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	t, err := s.authorizeWrite(ctx, agentID)
	if err != nil {
		return nil, err
	}
	var row *credentialRow
	secret := ""
	if in.Type == TypeSecret {
		if row, secret, err = s.prepare(ctx, agentID, "", in.ExpiresAt, nil); err != nil {
			return nil, err
		}
	} else if row, err = s.prepareKeyless(agentID, in, keys); err != nil {
		return nil, err
	}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if in.Type == TypeFederated {
			ti, err := s.boundIssuer(ctx, tx, t.OrgID, in)
			if err != nil {
				return err
			}
			row.IssuerID = &ti.ID
		}
		if err := s.repo.insert(ctx, tx, row); err != nil {
			return err
		}
		return s.audit.RecordTx(ctx, tx, audittrail.Event{
			Action: actionCreated, AgentID: agentID, OrgID: t.OrgID,
			TargetType: audittrail.TargetCredential, TargetID: row.ID,
			Details: createdDetails(row, false),
		})
	})
	if err != nil {
		s.discard(ctx, row)
		return nil, err
	}
	s.inval.invalidate(ctx, agentID)
	return s.issued(row, secret), nil
}

// prepareKeyless makes the row of a private_key_jwt or federated credential: no secret.
func (s *service) prepareKeyless(agentID string, in IssueInput, keys jose.JSONWebKeySet) (*credentialRow, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return nil, err
	}
	row := &credentialRow{ID: id.String(), AgentID: agentID, Type: in.Type, CreatedAt: database.Time(s.now())}
	if in.ExpiresAt != nil {
		t := database.Time(*in.ExpiresAt)
		row.ExpiresAt = &t
	}
	switch in.Type {
	case TypePrivateKeyJWT:
		raw, err := json.Marshal(keys)
		if err != nil {
			return nil, fmt.Errorf("credentials: encoding a key set: %w", err)
		}
		row.JWKS = string(raw)
	case TypeFederated:
		row.Subject = in.Subject
	}
	return row, nil
}

// boundIssuer resolves a federated credential's trusted issuer in the agent's
// organization (in tx): by id or by issuer string, live. Another organization's issuer
// answers as a missing one.
func (s *service) boundIssuer(ctx context.Context, tx bun.Tx, org string, in IssueInput) (*issuerRow, error) {
	var ti *issuerRow
	var err error
	field := "issuer"
	if in.TrustedIssuerID != "" {
		field = "trusted_issuer_id"
		ti, err = s.issuers.get(ctx, tx, in.TrustedIssuerID, false)
	} else {
		ti, err = s.issuers.live(ctx, tx, org, in.Issuer)
	}
	if errors.Is(err, database.ErrNotFound) || (err == nil && (ti.OrgID != org || ti.DeletedAt != nil)) {
		return nil, apperr.Validation(apperr.FieldError{Field: field,
			Message: "names no trusted issuer of the agent's organization (register it at /api/v1/trusted-issuers first)"})
	}
	return ti, err
}

func createdDetails(row *credentialRow, bootstrap bool) map[string]any {
	d := map[string]any{"type": string(row.typ())}
	switch row.typ() {
	case TypeSecret:
		d["storage"] = "hash"
		if row.VaultPath != "" {
			d["storage"] = "vault"
		}
	case TypePrivateKeyJWT:
		d["kids"] = row.keyIDs()
	case TypeFederated:
		d["trusted_issuer_id"] = derefString(row.IssuerID)
		d["subject"] = row.Subject
	}
	if row.ExpiresAt != nil {
		d["expires_at"] = row.ExpiresAt.UTC().Format(time.RFC3339)
	}
	if bootstrap {
		d["bootstrap"] = true
	}
	return d
}

// List returns a page of the agent's credentials, newest first, and the cursor of the next
// page ("" on the last).
func (s *service) List(ctx context.Context, agentID, c string, limit int) ([]Credential, string, error) {
	var f apperr.Fields
	agentID = uuidField(&f, "agent_id", agentID)
	if limit < 1 || limit > MaxPageSize {
		f.Add("limit", "must be between 1 and %d", MaxPageSize)
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
	if err := s.authorizeRead(ctx, agentID); err != nil {
		return nil, "", err
	}
	rows, err := s.repo.list(ctx, agentID, before, limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = cursor.Encode(time.Time{}, rows[limit-1].ID) // ids are UUIDv7: the list is in id order
	}
	now := s.now()
	out := make([]Credential, len(rows))
	for i := range rows {
		out[i] = s.toCredential(&rows[i], now)
	}
	return out, next, nil
}

// Rotate creates a successor of the credential (rotated_from naming it) and revokes the
// old one after grace (at once when grace is 0).
func (s *service) Rotate(ctx context.Context, agentID, credID string, grace time.Duration) (*Issued, error) {
	var f apperr.Fields
	agentID = uuidField(&f, "agent_id", agentID)
	credID = uuidField(&f, "credential_id", credID)
	if grace < 0 || grace > MaxGracePeriod {
		f.Add("grace_period_seconds", "must be between 0 and %d", int(MaxGracePeriod.Seconds()))
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	t, err := s.authorizeWrite(ctx, agentID)
	if err != nil {
		return nil, err
	}
	// A first check before anything is written to Vault; the transaction checks again.
	old, err := s.repo.get(ctx, s.db, credID, false)
	if err := rotatable(old, err, agentID, s.now()); err != nil {
		return nil, err
	}
	row, secret, err := s.prepare(ctx, agentID, "", nil, &old.ID)
	if err != nil {
		return nil, err
	}
	var revokeAt time.Time
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		now := s.now()
		old, err := s.repo.get(ctx, tx, credID, true)
		if err := rotatable(old, err, agentID, now); err != nil {
			return err
		}
		row.CreatedAt = database.Time(now)
		if err := s.repo.insert(ctx, tx, row); err != nil {
			return err
		}
		revokeAt = database.Time(now.Add(grace))
		if err := s.repo.setRevokedAt(ctx, tx, old.ID, revokeAt); err != nil {
			return err
		}
		return s.audit.RecordTx(ctx, tx, audittrail.Event{
			Action: actionRotated, AgentID: agentID, OrgID: t.OrgID,
			TargetType: audittrail.TargetCredential, TargetID: row.ID,
			Details: map[string]any{
				"rotated_from":         old.ID,
				"grace_period_seconds": int64(grace / time.Second),
				"old_revoked_at":       revokeAt.Format(time.RFC3339Nano),
			},
		})
	})
	if err != nil {
		s.discard(ctx, row)
		return nil, err
	}
	s.inval.invalidate(ctx, agentID)
	if grace == 0 {
		s.dropVault(ctx, old)
	}
	return s.issued(row, secret), nil
}

// rotatable checks that a credential read for rotation exists, belongs to the agent, and is
// active without a rotation pending.
func rotatable(old *credentialRow, err error, agentID string, now time.Time) error {
	if errors.Is(err, database.ErrNotFound) || (err == nil && old.AgentID != agentID) {
		return apperr.NotFound("no credential with this credential_id for this agent")
	}
	if err != nil {
		return err
	}
	switch {
	case old.typ() != TypeSecret:
		return apperr.Validation(apperr.FieldError{Field: "credential_id", Message: "is a " + string(old.typ()) +
			" credential: only secrets rotate; add a new credential, then revoke this one"})
	case old.revoked(now) || old.expired(now):
		return apperr.Conflict("the credential is " + string(old.status(now)) + "; issue a new one instead")
	case old.RevokedAt != nil:
		return apperr.Conflict(fmt.Sprintf("the credential was already rotated and stops working at %s; rotate its successor",
			old.RevokedAt.UTC().Format(time.RFC3339)))
	}
	return nil
}

// Revoke revokes the credential now. Revoking a revoked credential changes nothing.
func (s *service) Revoke(ctx context.Context, agentID, credID string) error {
	var f apperr.Fields
	agentID = uuidField(&f, "agent_id", agentID)
	credID = uuidField(&f, "credential_id", credID)
	if err := f.Err(); err != nil {
		return err
	}
	t, err := s.target(ctx, agentID)
	if err != nil {
		return err
	}
	var row *credentialRow
	changed := false
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := s.authorizeRevokeInTx(ctx, tx, t, credID); err != nil {
			return err
		}
		now := s.now()
		var err error
		row, err = s.repo.get(ctx, tx, credID, true)
		if errors.Is(err, database.ErrNotFound) || (err == nil && row.AgentID != agentID) {
			return apperr.NotFound("no credential with this credential_id for this agent")
		}
		if err != nil || row.revoked(now) {
			return err
		}
		if err := s.repo.setRevokedAt(ctx, tx, row.ID, database.Time(now)); err != nil {
			return err
		}
		changed = true
		return s.audit.RecordTx(ctx, tx, audittrail.Event{
			Action: actionRevoked, AgentID: agentID, OrgID: t.OrgID,
			TargetType: audittrail.TargetCredential, TargetID: row.ID,
			Details: map[string]any{"reason": "revoked"},
		})
	})
	if err != nil || !changed {
		return err
	}
	s.inval.invalidate(ctx, agentID)
	s.dropVault(ctx, row)
	return nil
}
