package audit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/database"
)

// originStarter implements OriginStarter.
type originStarter struct {
	db   *bun.DB
	keys *keyStore
	rec  *recorder
	now  func() time.Time
}

func newOriginStarter(db *bun.DB, cp *checkpointer, rec *recorder) *originStarter {
	return &originStarter{db: db, keys: cp.keys, rec: rec, now: time.Now}
}

// NewOrigin retires the current audit key, creates the next origin's (sealed or in Vault,
// as at first start) and records audit.origin_started, in one transaction under the
// checkpoint lock: no replica signs under the old origin once it commits (sign checks the
// key is current under the same lock), and each replica loads the new key on its next
// tick (followKey).
func (s *originStarter) NewOrigin(ctx context.Context, force bool) (NewOriginReport, error) {
	var rep NewOriginReport
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if database.IsPostgres(tx) {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", checkpointLockKey); err != nil {
				return fmt.Errorf("audit: locking the checkpoints: %w", database.Translate(err))
			}
		}
		var cur auditKeyRow
		if err := tx.NewSelect().Model(&cur).Where("retired_at IS NULL").Limit(1).Scan(ctx); err != nil {
			return fmt.Errorf("audit: reading the audit key: %w", database.Translate(err))
		}
		size, _, err := treeExtends(ctx, tx, cur.Origin)
		switch {
		case err == nil && !force:
			return ErrOriginConsistent
		case err != nil && !errors.Is(err, errInconsistent):
			return err
		}
		n, err := tx.NewSelect().Model((*auditKeyRow)(nil)).Count(ctx)
		if err != nil {
			return fmt.Errorf("audit: counting the audit keys: %w", database.Translate(err))
		}
		base, err := originFor(s.keys.cfg.Issuer)
		if err != nil {
			return err
		}
		origin := fmt.Sprintf("%s/%d", base, n+1)
		if _, err := tx.NewUpdate().Model((*auditKeyRow)(nil)).Set("retired_at = ?", s.now().UTC()).
			Where("origin = ?", cur.Origin).Exec(ctx); err != nil {
			return fmt.Errorf("audit: retiring the audit key of %s: %w", cur.Origin, database.Translate(err))
		}
		vkey, err := s.keys.create(ctx, tx, origin)
		if err != nil {
			return err
		}
		rep = NewOriginReport{PreviousOrigin: cur.Origin, Origin: origin, VerifierKey: vkey, TreeSize: int64(size)}
		return s.rec.RecordTx(ctx, tx, audittrail.Event{Action: "audit.origin_started", TargetType: "audit_log",
			TargetID: origin, Details: map[string]any{"previous_origin": cur.Origin, "origin": origin, "tree_size": size}})
	})
	if err != nil {
		return NewOriginReport{}, err
	}
	return rep, nil
}
