package credentials

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/database"
	"github.com/agentidp/agentidp/platform/ident"
	"github.com/agentidp/agentidp/platform/vault"
)

// verifier is the token path's side of the module: Verify and State, answered from the
// caches (loaded from the database on a miss) and, in Vault mode, from Vault.
type verifier struct {
	cfg     *config.Config
	db      *bun.DB
	repo    repository
	kv      vault.KV
	vaultOn bool
	hasher  *hasher
	caches  *caches
	usage   *usageTracker
	log     *zap.Logger
	now     func() time.Time
}

var (
	_ Verifier  = (*verifier)(nil)
	_ Directory = (*verifier)(nil)
)

// verifierParams are the verifier's dependencies.
type verifierParams struct {
	fx.In
	Config *config.Config
	DB     *bun.DB
	Repo   repository
	KV     vault.KV
	Hasher *hasher
	Caches *caches
	Usage  *usageTracker
	Log    *zap.Logger
}

func newVerifier(p verifierParams) *verifier {
	return &verifier{cfg: p.Config, db: p.DB, repo: p.Repo, kv: p.KV, vaultOn: vault.Enabled(p.KV),
		hasher: p.Hasher, caches: p.Caches, usage: p.Usage, log: p.Log, now: time.Now}
}

// errVaultModeOff is the cause when a credential kept in Vault is presented while Vault
// mode is off: a configuration error, not the client's.
var errVaultModeOff = errors.New("credential secret is kept in Vault but Vault mode is off (VAULT_ADDR not set)")

// Verify implements Verifier. Every call computes the HMAC digest of the presented secret
// first, whatever the input, so that a malformed or unknown client id costs what a wrong
// secret costs. A recently seen agent's credentials come from memory: no database access.
func (s *verifier) Verify(ctx context.Context, clientID, secret string) (Verified, error) {
	d := s.hasher.sum(secret)
	id, ok := ident.Parse(clientID)
	if !ok || !wellFormedSecret(secret) {
		return Verified{}, ErrInvalidClient
	}
	e, err := s.caches.agents.get(ctx, id)
	if err != nil {
		return Verified{}, s.storeFailure(ctx, err)
	}
	now := s.now()

	// Fast path: every HMAC-hashed credential, each compared in constant time, and the
	// memo of secrets that earlier matched a bcrypt or Vault credential.
	match := -1
	slow := false
	for i := range e.creds {
		c := &e.creds[i]
		if !c.usable(now) {
			continue
		}
		switch c.hash.kind {
		case kindV1:
			if equalDigest(&d, &c.hash.v1) && match < 0 {
				match = i
			}
		case kindBcrypt, kindVault:
			slow = true
		}
	}
	if match < 0 && slow {
		if credID, ok := s.caches.memo.get(&d, id, now); ok {
			for i := range e.creds {
				if e.creds[i].id == credID && e.creds[i].usable(now) {
					match = i
				}
			}
		}
		if match < 0 {
			match, err = s.verifySlow(ctx, id, e, secret, &d, now)
			if err != nil {
				return Verified{}, err
			}
		}
	}
	if match < 0 {
		return Verified{}, ErrInvalidClient
	}
	c := &e.creds[match]
	s.usage.touch(c.id, now)
	return Verified{AgentID: e.agentID, CredentialID: c.id}, nil
}

// verifySlow checks the Vault-held credentials (digest cached for the Vault cache TTL),
// then the bcrypt ones (bcrypt runs once per secret, then the memo answers). A Vault that
// cannot answer fails the call with an unavailable error, never a pass.
func (s *verifier) verifySlow(ctx context.Context, agent uuid.UUID, e *agentEntry, secret string, d *digest, now time.Time) (int, error) {
	var vaultErr error
	for i := range e.creds {
		c := &e.creds[i]
		if c.hash.kind != kindVault || !c.usable(now) {
			continue
		}
		vd, err := s.vaultDigest(ctx, c)
		if err != nil {
			vaultErr = err
			continue
		}
		if equalDigest(d, &vd) {
			s.caches.memo.put(d, agent, memoHit{credID: c.id, expires: now.Add(s.cfg.VaultCacheTTL)})
			return i, nil
		}
	}
	if vaultErr != nil {
		return -1, vaultErr
	}
	for i := range e.creds {
		c := &e.creds[i]
		if c.hash.kind != kindBcrypt || !c.usable(now) {
			continue
		}
		if bcryptMatches(c.hash.bcrypt, secret) {
			s.caches.memo.put(d, agent, memoHit{credID: c.id})
			return i, nil
		}
	}
	return -1, nil
}

// vaultDigest returns the digest of the secret Vault holds for c.
func (s *verifier) vaultDigest(ctx context.Context, c *liveCred) (digest, error) {
	if d, ok := s.caches.vault.Get(c.id); ok {
		return d, nil
	}
	if !s.vaultOn {
		s.log.Error("cannot verify a credential kept in Vault", zap.String("credential_id", c.id), zap.Error(errVaultModeOff))
		return digest{}, apperr.Unavailable("the secret store is not configured", errVaultModeOff)
	}
	data, err := s.kv.Read(ctx, c.vaultPath)
	switch {
	case errors.Is(err, vault.ErrNotFound):
		// Deleted from Vault: the credential cannot match anything.
		return digest{}, nil
	case err != nil:
		s.log.Warn("vault read failed during verification", zap.String("credential_id", c.id), zap.Error(err))
		return digest{}, apperr.Unavailable("the secret store (Vault) is unavailable; retry shortly", err)
	}
	plain, ok := data[vaultKey]
	if !ok || plain == "" {
		return digest{}, nil
	}
	vd := s.hasher.sum(plain)
	s.caches.vault.Add(c.id, vd)
	return vd, nil
}

// storeFailure maps a failed load to an error callers answer 503, never ErrInvalidClient.
func (s *verifier) storeFailure(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	s.log.Warn("loading credentials for verification failed", zap.Error(err))
	if errors.Is(err, database.ErrUnavailable) {
		return apperr.Unavailable("the credential store is unavailable; retry shortly", err)
	}
	return fmt.Errorf("credentials: loading credentials: %w", err)
}

// State implements Directory: from the owning agent's cached live credentials, from the
// cache of dead ones (revocation and expiry are final), or from the database.
func (s *verifier) State(ctx context.Context, credentialID string) (State, error) {
	id, ok := ident.Parse(credentialID)
	if !ok {
		return State{}, ErrNotFound
	}
	key := id.String()
	now := s.now()
	if st, ok := s.caches.dead.Get(key); ok {
		return st, nil
	}
	if agent, ok := s.caches.owners.Get(key); ok {
		e, err := s.caches.agents.get(ctx, agent)
		if err != nil {
			return State{}, s.storeFailure(ctx, err)
		}
		for i := range e.creds {
			if c := &e.creds[i]; c.id == key && c.usable(now) {
				return State{Status: StatusActive, ExpiresAt: c.until}, nil
			}
		}
		// Not live any more: read the row for its final state.
	}
	row, err := s.repo.get(ctx, s.db, key, false)
	if errors.Is(err, database.ErrNotFound) {
		return State{}, ErrNotFound
	}
	if err != nil {
		return State{}, s.storeFailure(ctx, err)
	}
	st := rowState(row, now)
	if st.Status == StatusActive {
		if agent, ok := ident.Parse(row.AgentID); ok {
			s.caches.owners.Add(key, agent)
		}
	} else {
		s.caches.dead.Add(key, st)
	}
	return st, nil
}

// rowState is the State of a row at now. A scheduled revocation shows as the expiry, so
// that State.Active turns false when the grace period ends.
func rowState(r *credentialRow, now time.Time) State {
	var st State
	st.Status = r.status(now)
	if r.ExpiresAt != nil {
		st.ExpiresAt = *r.ExpiresAt
	}
	switch st.Status {
	case StatusRevoked:
		st.RevokedAt = *r.RevokedAt
	case StatusActive:
		if r.RevokedAt != nil && (st.ExpiresAt.IsZero() || r.RevokedAt.Before(st.ExpiresAt)) {
			st.ExpiresAt = *r.RevokedAt
		}
	}
	return st
}
