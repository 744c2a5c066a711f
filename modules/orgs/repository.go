package orgs

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/platform/cursor"
	"github.com/agentidp/agentidp/platform/database"
)

// listQuery is one page request of the organizations list, already validated.
type listQuery struct {
	Status Status // "" for any
	Query  string // "" for any; lower-cased substring of the name, matched literally
	Only   string // "" for every org; else this org only (the policy's answer for the caller)
	After  *cursor.Position
	Limit  int
}

// repository is the orgs module's store: the orgs table only. It holds no rules; it
// returns database.ErrNotFound and database.ErrAlreadyExists (wrapped) instead of driver
// errors.
type repository interface {
	get(ctx context.Context, db bun.IDB, id string) (*orgRow, error)
	// getForUpdate reads the row inside tx, locking it against concurrent writers on
	// PostgreSQL (SQLite write transactions are serialised anyway).
	getForUpdate(ctx context.Context, tx bun.Tx, id string) (*orgRow, error)
	// insert adds row; a name taken (case-insensitively) is database.ErrAlreadyExists.
	insert(ctx context.Context, db bun.IDB, row *orgRow) error
	// insertIfMissing inserts row unless an org with its id exists; it reports whether it did.
	insertIfMissing(ctx context.Context, db bun.IDB, row *orgRow) (bool, error)
	update(ctx context.Context, tx bun.Tx, row *orgRow, columns ...string) error
	// list returns up to q.Limit rows, newest first by (created_at, org_id).
	list(ctx context.Context, db bun.IDB, q listQuery) ([]orgRow, error)
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

func (bunRepository) getForUpdate(ctx context.Context, tx bun.Tx, id string) (*orgRow, error) {
	row := new(orgRow)
	q := tx.NewSelect().Model(row).Where("org_id = ?", id)
	if database.IsPostgres(tx) {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, database.Translate(err)
	}
	return row, nil
}

func (bunRepository) insert(ctx context.Context, db bun.IDB, row *orgRow) error {
	_, err := db.NewInsert().Model(row).Exec(ctx)
	return database.Translate(err)
}

func (bunRepository) insertIfMissing(ctx context.Context, db bun.IDB, row *orgRow) (bool, error) {
	res, err := db.NewInsert().Model(row).On("CONFLICT (org_id) DO NOTHING").Exec(ctx)
	if err != nil {
		return false, database.Translate(err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

func (bunRepository) update(ctx context.Context, tx bun.Tx, row *orgRow, columns ...string) error {
	res, err := tx.NewUpdate().Model(row).Column(columns...).WherePK().Exec(ctx)
	if err != nil {
		return database.Translate(err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return database.ErrNotFound
	}
	return nil
}

func (bunRepository) list(ctx context.Context, db bun.IDB, q listQuery) ([]orgRow, error) {
	var rows []orgRow
	sel := db.NewSelect().Model(&rows)
	if q.Only != "" {
		sel = sel.Where("org_id = ?", q.Only)
	}
	if q.Status != "" {
		sel = sel.Where("status = ?", string(q.Status))
	}
	if q.Query != "" {
		sel = sel.Where(`name_lower LIKE ? ESCAPE '\'`, "%"+database.EscapeLike(q.Query)+"%")
	}
	if q.After != nil {
		// Row-value comparison: strictly older, or as old with a smaller id.
		sel = sel.Where("(created_at, org_id) < (?, ?)", q.After.CreatedAt, q.After.ID)
	}
	if err := sel.OrderExpr("created_at DESC, org_id DESC").Limit(int64(q.Limit)).Scan(ctx); err != nil {
		return nil, database.Translate(err)
	}
	return rows, nil
}

func (bunRepository) changedSince(ctx context.Context, db bun.IDB, since, until time.Time) ([]orgChange, error) {
	var rows []orgChange
	err := db.NewSelect().Table("orgs").Column("org_id", "updated_at").
		Where("updated_at >= ?", since.UTC()).Where("updated_at <= ?", until.UTC()).
		Scan(ctx, &rows)
	return rows, database.Translate(err)
}
