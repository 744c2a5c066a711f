package credentials

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/platform/database"
	"github.com/agentidp/agentidp/platform/jwks"
)

// credentialRow is one row of the credentials table (this module's only table).
type credentialRow struct {
	bun.BaseModel `bun:"table:credentials"`

	ID           string     `bun:"credential_id,pk"`
	AgentID      string     `bun:"agent_id"`
	Type         Type       `bun:"credential_type"`
	JWKS         string     `bun:"jwks"`              // private_key_jwt: the validated public key set
	IssuerID     *string    `bun:"trusted_issuer_id"` // federated: the trusted issuer's id
	Subject      string     `bun:"subject"`           // federated: the accepted sub
	SecretHash   string     `bun:"secret_hash"`
	VaultPath    string     `bun:"vault_path"`
	SecretPrefix string     `bun:"secret_prefix"`
	RotatedFrom  *string    `bun:"rotated_from"`
	CreatedAt    time.Time  `bun:"created_at"`
	ExpiresAt    *time.Time `bun:"expires_at"`
	RevokedAt    *time.Time `bun:"revoked_at"`
	LastUsedAt   *time.Time `bun:"last_used_at"`
}

// typ is the row's type; rows written before types existed are secrets.
func (r *credentialRow) typ() Type {
	if r.Type == "" {
		return TypeSecret
	}
	return r.Type
}

// keyIDs are the kids of a private_key_jwt row's key set (nil when it has none).
func (r *credentialRow) keyIDs() []string {
	var set jose.JSONWebKeySet
	if r.JWKS == "" || json.Unmarshal([]byte(r.JWKS), &set) != nil {
		return nil
	}
	return jwks.KeyIDs(set)
}

// revoked reports whether the row's revocation has taken effect at now.
func (r *credentialRow) revoked(now time.Time) bool {
	return r.RevokedAt != nil && !now.Before(*r.RevokedAt)
}

// expired reports whether the row's expiry has passed at now.
func (r *credentialRow) expired(now time.Time) bool {
	return r.ExpiresAt != nil && !now.Before(*r.ExpiresAt)
}

// status is computed on read: revoked wins over expired.
func (r *credentialRow) status(now time.Time) Status {
	switch {
	case r.revoked(now):
		return StatusRevoked
	case r.expired(now):
		return StatusExpired
	}
	return StatusActive
}

// repository is the credentials table. It runs parameterised SQL, holds no rules and maps
// driver errors to the database sentinels. Methods taking a bun.IDB run in the caller's
// transaction.
type repository interface {
	insert(ctx context.Context, db bun.IDB, row *credentialRow) error
	// get returns the row, locking it for the transaction when forUpdate (PostgreSQL; SQLite
	// write transactions are exclusive already).
	get(ctx context.Context, db bun.IDB, id string, forUpdate bool) (*credentialRow, error)
	// list returns up to limit rows of the agent, newest first, older than the cursor id.
	list(ctx context.Context, agentID, before string, limit int) ([]credentialRow, error)
	// live returns the agent's rows neither revoked nor expired at now, newest first, at
	// most limit of them (0: all).
	live(ctx context.Context, db bun.IDB, agentID string, now time.Time, limit int) ([]credentialRow, error)
	setRevokedAt(ctx context.Context, db bun.IDB, id string, at time.Time) error
	// revokeAgent sets revoked_at = now on every row of the agent that is unrevoked or only
	// scheduled for revocation later.
	revokeAgent(ctx context.Context, db bun.IDB, agentID string, now time.Time) error
	// boundTo returns the credentials bound to trusted issuer issuerID that are not revoked
	// at now (expired ones too: a revocation is still recorded for them).
	boundTo(ctx context.Context, db bun.IDB, issuerID string, now time.Time) ([]credentialRow, error)
	// touch sets last_used_at for many rows in one statement.
	touch(ctx context.Context, used map[string]time.Time) error
	// vaultGarbage lists rows whose Vault entry can go: revoked or expired at now.
	vaultGarbage(ctx context.Context, now time.Time, limit int) ([]credentialRow, error)
	clearVaultPath(ctx context.Context, id string) error
	// changedSince returns the agent, created_at and revoked_at of the rows created or
	// revoked at or after since and not after until (a revocation scheduled for later
	// counts when its time comes).
	changedSince(ctx context.Context, since, until time.Time) ([]credentialChange, error)
}

// credentialChange is one row of changedSince.
type credentialChange struct {
	AgentID   string     `bun:"agent_id"`
	CreatedAt time.Time  `bun:"created_at"`
	RevokedAt *time.Time `bun:"revoked_at"`
}

type bunRepository struct {
	db *bun.DB
}

func newRepository(db *bun.DB) repository { return &bunRepository{db: db} }

func (r *bunRepository) changedSince(ctx context.Context, since, until time.Time) ([]credentialChange, error) {
	var rows []credentialChange
	s, u := since.UTC(), until.UTC()
	err := r.db.NewSelect().Table("credentials").Column("agent_id", "created_at", "revoked_at").
		WhereOr("created_at BETWEEN ? AND ?", s, u).WhereOr("revoked_at BETWEEN ? AND ?", s, u).
		Scan(ctx, &rows)
	return rows, database.Translate(err)
}

func (r *bunRepository) insert(ctx context.Context, db bun.IDB, row *credentialRow) error {
	_, err := db.NewInsert().Model(row).Exec(ctx)
	return database.Translate(err)
}

func (r *bunRepository) get(ctx context.Context, db bun.IDB, id string, forUpdate bool) (*credentialRow, error) {
	row := new(credentialRow)
	q := db.NewSelect().Model(row).Where("credential_id = ?", id)
	if forUpdate && database.IsPostgres(db) {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, database.Translate(err)
	}
	return row, nil
}

func (r *bunRepository) list(ctx context.Context, agentID, before string, limit int) ([]credentialRow, error) {
	var rows []credentialRow
	q := r.db.NewSelect().Model(&rows).Where("agent_id = ?", agentID).
		OrderExpr("credential_id DESC").Limit(int64(limit))
	if before != "" {
		q = q.Where("credential_id < ?", before)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, database.Translate(err)
	}
	return rows, nil
}

// maxLive bounds the rows loaded for one agent's verification.
const maxLive = 1000

func (r *bunRepository) live(ctx context.Context, db bun.IDB, agentID string, now time.Time, limit int) ([]credentialRow, error) {
	var rows []credentialRow
	q := db.NewSelect().Model(&rows).
		Where("agent_id = ?", agentID).
		Where("(revoked_at IS NULL OR revoked_at > ?)", now).
		Where("(expires_at IS NULL OR expires_at > ?)", now).
		OrderExpr("credential_id DESC")
	if limit > 0 {
		q = q.Limit(int64(limit))
	}
	if err := q.Scan(ctx); err != nil {
		return nil, database.Translate(err)
	}
	return rows, nil
}

func (r *bunRepository) setRevokedAt(ctx context.Context, db bun.IDB, id string, at time.Time) error {
	_, err := db.NewUpdate().Model((*credentialRow)(nil)).
		Set("revoked_at = ?", at).Where("credential_id = ?", id).Exec(ctx)
	return database.Translate(err)
}

func (r *bunRepository) boundTo(ctx context.Context, db bun.IDB, issuerID string, now time.Time) ([]credentialRow, error) {
	var rows []credentialRow
	err := db.NewSelect().Model(&rows).Where("trusted_issuer_id = ?", issuerID).
		Where("(revoked_at IS NULL OR revoked_at > ?)", now).OrderExpr("credential_id").Scan(ctx)
	if err != nil {
		return nil, database.Translate(err)
	}
	return rows, nil
}

func (r *bunRepository) revokeAgent(ctx context.Context, db bun.IDB, agentID string, now time.Time) error {
	_, err := db.NewUpdate().Model((*credentialRow)(nil)).
		Set("revoked_at = ?", now).
		Where("agent_id = ?", agentID).
		Where("(revoked_at IS NULL OR revoked_at > ?)", now).
		Exec(ctx)
	return database.Translate(err)
}

// touch writes UPDATE credentials SET last_used_at = CASE credential_id WHEN … END
// WHERE credential_id IN (…): one statement for the whole batch, on both dialects.
func (r *bunRepository) touch(ctx context.Context, used map[string]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	ids := make([]string, 0, len(used))
	for id := range used {
		ids = append(ids, id)
	}
	sort.Strings(ids) // a stable lock order across replicas
	ts := "?"
	if database.IsPostgres(r.db) {
		ts = "CAST(? AS timestamptz)"
	}
	var b strings.Builder
	args := make([]any, 0, 2*len(ids)+1)
	b.WriteString("CASE credential_id")
	for _, id := range ids {
		b.WriteString(" WHEN ? THEN " + ts)
		args = append(args, id, used[id].UTC())
	}
	b.WriteString(" END")
	args = append(args, bun.List(ids))
	_, err := r.db.NewRaw("UPDATE credentials SET last_used_at = "+b.String()+" WHERE credential_id IN (?)", args...).
		Exec(ctx)
	return database.Translate(err)
}

func (r *bunRepository) vaultGarbage(ctx context.Context, now time.Time, limit int) ([]credentialRow, error) {
	var rows []credentialRow
	err := r.db.NewSelect().Model(&rows).
		Where("vault_path <> ''").
		Where("((revoked_at IS NOT NULL AND revoked_at <= ?) OR (expires_at IS NOT NULL AND expires_at <= ?))", now, now).
		OrderExpr("credential_id").Limit(int64(limit)).
		Scan(ctx)
	if err != nil {
		return nil, database.Translate(err)
	}
	return rows, nil
}

func (r *bunRepository) clearVaultPath(ctx context.Context, id string) error {
	_, err := r.db.NewUpdate().Model((*credentialRow)(nil)).
		Set("vault_path = ''").Where("credential_id = ?", id).Exec(ctx)
	return database.Translate(err)
}
