package tokens

import (
	"context"
	"database/sql"
	"time"

	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/platform/database"
)

// signingKeyRow is a row of signing_keys.
type signingKeyRow struct {
	bun.BaseModel `bun:"table:signing_keys"`

	KID         string     `bun:"kid,pk"`
	Alg         string     `bun:"alg,notnull"`
	PublicJWK   string     `bun:"public_jwk,notnull"`
	PrivateKey  []byte     `bun:"private_key,notnull"`
	KeyNonce    []byte     `bun:"key_nonce,notnull"`
	KeyWrap     string     `bun:"key_wrap,notnull"`
	CreatedAt   time.Time  `bun:"created_at,notnull"`
	ActivatesAt time.Time  `bun:"activates_at,notnull"`
	RetiresAt   *time.Time `bun:"retires_at"`
}

// revocationRow is a row of token_revocations.
type revocationRow struct {
	bun.BaseModel `bun:"table:token_revocations"`

	JTI       string    `bun:"jti,pk"`
	AgentID   string    `bun:"agent_id,notnull"`
	ExpiresAt time.Time `bun:"expires_at,notnull"`
	RevokedAt time.Time `bun:"revoked_at,notnull"`
}

// repository runs the module's SQL; it holds no rules. Every error it returns has been
// through database.Translate.
type repository interface {
	// lockKeys serialises key creation and rotation across replicas for the rest of tx.
	lockKeys(ctx context.Context, tx bun.Tx) error
	// keysPublishedAfter returns the keys not retired, or retired after t, newest first.
	keysPublishedAfter(ctx context.Context, db bun.IDB, t time.Time) ([]signingKeyRow, error)
	// allKeys returns every key, newest first.
	allKeys(ctx context.Context, db bun.IDB) ([]signingKeyRow, error)
	insertKey(ctx context.Context, db bun.IDB, row *signingKeyRow) error
	// retireKeysAt sets retires_at to at on every key other than except that is not
	// retired by then, and returns their kids.
	retireKeysAt(ctx context.Context, db bun.IDB, at time.Time, except string) ([]string, error)

	// insertRevocation records a revocation; it reports false when the jti was already
	// revoked.
	insertRevocation(ctx context.Context, db bun.IDB, row *revocationRow) (bool, error)
	// isRevoked looks one jti up.
	isRevoked(ctx context.Context, db bun.IDB, jti string) (bool, error)
	// revocationsExpiringAfter returns the jtis (and expiries) of revocations whose token
	// has not expired at t.
	revocationsExpiringAfter(ctx context.Context, db bun.IDB, t time.Time) ([]revocationRow, error)
	// revocationsSince returns the revocations recorded at or after since whose token has
	// not expired at t (jti, expiry, revoked_at).
	revocationsSince(ctx context.Context, db bun.IDB, since, t time.Time) ([]revocationRow, error)
	// deleteRevocationsExpiredBefore drops revocations of tokens long expired.
	deleteRevocationsExpiredBefore(ctx context.Context, db bun.IDB, t time.Time) (int64, error)
}

type bunRepository struct{}

func newRepository() repository { return bunRepository{} }

// keyLockID is the PostgreSQL advisory lock key of signing-key changes ("agidpkey").
const keyLockID int64 = 0x6167696470_6b6579

func (bunRepository) lockKeys(ctx context.Context, tx bun.Tx) error {
	if !database.IsPostgres(tx) {
		// SQLite write transactions take the database's write lock when they begin
		// (_txlock=immediate): they are serialised already.
		return nil
	}
	_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", keyLockID)
	return database.Translate(err)
}

func (bunRepository) keysPublishedAfter(ctx context.Context, db bun.IDB, t time.Time) ([]signingKeyRow, error) {
	var rows []signingKeyRow
	err := db.NewSelect().Model(&rows).
		Where("retires_at IS NULL OR retires_at > ?", t.UTC()).
		Order("activates_at DESC", "kid").
		Scan(ctx)
	return rows, database.Translate(err)
}

func (bunRepository) allKeys(ctx context.Context, db bun.IDB) ([]signingKeyRow, error) {
	var rows []signingKeyRow
	err := db.NewSelect().Model(&rows).
		ExcludeColumn("private_key", "key_nonce").
		Order("activates_at DESC", "kid").
		Scan(ctx)
	return rows, database.Translate(err)
}

func (bunRepository) insertKey(ctx context.Context, db bun.IDB, row *signingKeyRow) error {
	_, err := db.NewInsert().Model(row).Exec(ctx)
	return database.Translate(err)
}

func (bunRepository) retireKeysAt(ctx context.Context, db bun.IDB, at time.Time, except string) ([]string, error) {
	var kids []string
	err := db.NewUpdate().Model((*signingKeyRow)(nil)).
		Set("retires_at = ?", at.UTC()).
		Where("kid <> ?", except).
		Where("retires_at IS NULL OR retires_at > ?", at.UTC()).
		Returning("kid").
		Scan(ctx, &kids)
	if err == sql.ErrNoRows {
		err = nil
	}
	return kids, database.Translate(err)
}

func (bunRepository) insertRevocation(ctx context.Context, db bun.IDB, row *revocationRow) (bool, error) {
	res, err := db.NewInsert().Model(row).On("CONFLICT (jti) DO NOTHING").Exec(ctx)
	if err != nil {
		return false, database.Translate(err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (bunRepository) isRevoked(ctx context.Context, db bun.IDB, jti string) (bool, error) {
	ok, err := db.NewSelect().Model((*revocationRow)(nil)).Where("jti = ?", jti).Exists(ctx)
	return ok, database.Translate(err)
}

func (bunRepository) revocationsExpiringAfter(ctx context.Context, db bun.IDB, t time.Time) ([]revocationRow, error) {
	var rows []revocationRow
	err := db.NewSelect().Model(&rows).Column("jti", "expires_at", "revoked_at").
		Where("expires_at > ?", t.UTC()).
		Scan(ctx)
	return rows, database.Translate(err)
}

func (bunRepository) revocationsSince(ctx context.Context, db bun.IDB, since, t time.Time) ([]revocationRow, error) {
	var rows []revocationRow
	err := db.NewSelect().Model(&rows).Column("jti", "expires_at", "revoked_at").
		Where("revoked_at >= ?", since.UTC()).Where("expires_at > ?", t.UTC()).
		Scan(ctx)
	return rows, database.Translate(err)
}

func (bunRepository) deleteRevocationsExpiredBefore(ctx context.Context, db bun.IDB, t time.Time) (int64, error) {
	res, err := db.NewDelete().Model((*revocationRow)(nil)).Where("expires_at < ?", t.UTC()).Exec(ctx)
	if err != nil {
		return 0, database.Translate(err)
	}
	return res.RowsAffected()
}
