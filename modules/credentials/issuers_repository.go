package credentials

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/platform/database"
)

// issuerRow is one row of the trusted_issuers table.
type issuerRow struct {
	bun.BaseModel `bun:"table:trusted_issuers"`

	ID        string     `bun:"issuer_id,pk"`
	OrgID     string     `bun:"org_id"`
	Issuer    string     `bun:"issuer"`
	JWKS      string     `bun:"jwks"`
	JWKSURI   string     `bun:"jwks_uri"`
	CreatedAt time.Time  `bun:"created_at"`
	DeletedAt *time.Time `bun:"deleted_at"`
}

// issuerRepository is the trusted_issuers table: parameterised SQL, no rules.
type issuerRepository interface {
	insert(ctx context.Context, db bun.IDB, row *issuerRow) error
	// get returns the row, deleted or not; forUpdate locks it (PostgreSQL).
	get(ctx context.Context, db bun.IDB, id string, forUpdate bool) (*issuerRow, error)
	// list returns up to limit live rows of org ("" for every one), newest first, older
	// than the cursor id.
	list(ctx context.Context, org, before string, limit int) ([]issuerRow, error)
	// live returns org's live row for issuer.
	live(ctx context.Context, db bun.IDB, org, issuer string) (*issuerRow, error)
	markDeleted(ctx context.Context, db bun.IDB, id string, at time.Time) error
}

type bunIssuerRepository struct{ db *bun.DB }

func newIssuerRepository(db *bun.DB) issuerRepository { return &bunIssuerRepository{db: db} }

func (r *bunIssuerRepository) insert(ctx context.Context, db bun.IDB, row *issuerRow) error {
	_, err := db.NewInsert().Model(row).Exec(ctx)
	return database.Translate(err)
}

func (r *bunIssuerRepository) get(ctx context.Context, db bun.IDB, id string, forUpdate bool) (*issuerRow, error) {
	row := new(issuerRow)
	q := db.NewSelect().Model(row).Where("issuer_id = ?", id)
	if forUpdate && database.IsPostgres(db) {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, database.Translate(err)
	}
	return row, nil
}

func (r *bunIssuerRepository) list(ctx context.Context, org, before string, limit int) ([]issuerRow, error) {
	var rows []issuerRow
	q := r.db.NewSelect().Model(&rows).Where("deleted_at IS NULL").OrderExpr("issuer_id DESC").Limit(int64(limit))
	if org != "" {
		q = q.Where("org_id = ?", org)
	}
	if before != "" {
		q = q.Where("issuer_id < ?", before)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, database.Translate(err)
	}
	return rows, nil
}

func (r *bunIssuerRepository) markDeleted(ctx context.Context, db bun.IDB, id string, at time.Time) error {
	_, err := db.NewUpdate().Model((*issuerRow)(nil)).Set("deleted_at = ?", at).Where("issuer_id = ?", id).Exec(ctx)
	return database.Translate(err)
}

func (r *bunIssuerRepository) live(ctx context.Context, db bun.IDB, org, issuer string) (*issuerRow, error) {
	row := new(issuerRow)
	err := db.NewSelect().Model(row).Where("org_id = ?", org).Where("issuer = ?", issuer).
		Where("deleted_at IS NULL").Scan(ctx)
	if err != nil {
		return nil, database.Translate(err)
	}
	return row, nil
}
