package credentials

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/database"
	"github.com/agentidp/agentidp/platform/vault"
)

// janitorInterval is how often, in Vault mode, the Vault entries of revoked and expired
// credentials are deleted (those whose grace period ended, those of decommissioned agents,
// and those a best-effort delete after a revoke missed).
const (
	janitorInterval = 30 * time.Second
	janitorBatch    = 100
)

// janitor deletes, in Vault mode, the Vault entries of credentials that can no longer be
// used (its worker, module.go, runs sweep every janitorInterval).
type janitor struct {
	repo repository
	kv   vault.KV
	log  *zap.Logger
	now  func() time.Time
}

func newJanitor(repo repository, kv vault.KV, log *zap.Logger) *janitor {
	return &janitor{repo: repo, kv: kv, log: log, now: time.Now}
}

// sweep deletes the Vault entries of credentials that can no longer be used and clears
// their vault_path. Every replica runs it; deletes are idempotent.
func (s *janitor) sweep(ctx context.Context) error {
	rows, err := s.repo.vaultGarbage(ctx, database.Time(s.now()), janitorBatch)
	if err != nil {
		return err
	}
	for i := range rows {
		r := &rows[i]
		if err := s.kv.Delete(ctx, r.VaultPath); err != nil && !errors.Is(err, vault.ErrNotFound) {
			return err
		}
		if err := s.repo.clearVaultPath(ctx, r.ID); err != nil {
			return err
		}
		s.log.Debug("deleted the Vault entry of a dead credential", zap.String("credential_id", r.ID))
	}
	return nil
}
