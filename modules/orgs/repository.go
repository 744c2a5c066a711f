package orgs

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/platform/database"
)

// repository is the orgs module's store: the orgs table only.
type repository interface {
	get(ctx context.Context, db bun.IDB, id string) (*orgRow, error)
	// insertIfMissing inserts row unless an org with its id exists; it reports whether it did.
	insertIfMissing(ctx context.Context, db bun.IDB, row *orgRow) (bool, error)
	// changedSince returns the ids and updated_at of the orgs changed at or after since and
	// not after until.
	changedSince(ctx context.Context, db bun.IDB, since, until time.Time) ([]orgChange, error)
}

// orgChange is one row of changedSince.
type orgChange struct {
	ID        string    `bun:"org_id"`
	UpdatedAt time.Time `bun:"updated_at"`
}

type bunRepository struct{}

func newRepository() repository { return bunRepository{} }

func (bunRepository) get(ctx context.Context, db bun.IDB, id string) (*orgRow, error) {
	row := new(orgRow)
	if err := db.NewSelect().Model(row).Where("org_id = ?", id).Scan(ctx); err != nil {
		return nil, database.Translate(err)
	}
	return row, nil
}

func (bunRepository) insertIfMissing(ctx context.Context, db bun.IDB, row *orgRow) (bool, error) {
	res, err := db.NewInsert().Model(row).On("CONFLICT (org_id) DO NOTHING").Exec(ctx)
	if err != nil {
		return false, database.Translate(err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

func (bunRepository) changedSince(ctx context.Context, db bun.IDB, since, until time.Time) ([]orgChange, error) {
	var rows []orgChange
	err := db.NewSelect().Table("orgs").Column("org_id", "updated_at").
		Where("updated_at >= ?", since.UTC()).Where("updated_at <= ?", until.UTC()).
		Scan(ctx, &rows)
	return rows, database.Translate(err)
}
