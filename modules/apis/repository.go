package apis

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/platform/cursor"
	"github.com/agentidp/agentidp/platform/database"
)

// listQuery is one page request of the APIs list, already validated.
type listQuery struct {
	OrgID string // "" for every organization
	After *cursor.Position
	Limit int
}

// repository runs the apis and api_grants tables' SQL. It holds no rules; it returns
// database.ErrNotFound and database.ErrAlreadyExists (wrapped) instead of driver errors.
// Locks are taken in one order, APIs before grants, so that a change to an API and a
// change to an agent's grants never wait for each other in a cycle.
type repository interface {
	insert(ctx context.Context, db bun.IDB, row *apiRow) error
	// get reads an API's row, deleted ones included.
	get(ctx context.Context, db bun.IDB, id string) (*apiRow, error)
	// getForUpdate reads the row inside tx, locking it against concurrent writers on
	// PostgreSQL (SQLite write transactions are serialised anyway).
	getForUpdate(ctx context.Context, tx bun.Tx, id string) (*apiRow, error)
	// liveByIdentifier reads the live API of org with identifier.
	liveByIdentifier(ctx context.Context, db bun.IDB, orgID, identifier string) (*apiRow, error)
	// liveByIdentifiers reads the live APIs of org with these identifiers inside tx, each
	// locked against changes (FOR SHARE on PostgreSQL) until tx ends.
	liveByIdentifiers(ctx context.Context, tx bun.Tx, orgID string, identifiers []string) ([]apiRow, error)
	// blocking returns the row that keeps identifier from being registered in org at now:
	// a live API, or a deleted one whose tokens may still be alive (reusable_at after now).
	blocking(ctx context.Context, db bun.IDB, orgID, identifier string, now time.Time) (*apiRow, error)
	update(ctx context.Context, tx bun.Tx, row *apiRow, columns ...string) error
	// list returns up to q.Limit live APIs, newest first by (created_at, api_id).
	list(ctx context.Context, db bun.IDB, q listQuery) ([]apiRow, error)
	// changedSince returns the APIs changed at or after since and not after until.
	changedSince(ctx context.Context, db bun.IDB, since, until time.Time) ([]apiChange, error)

	grantsOf(ctx context.Context, db bun.IDB, agentID string) (*grantsRow, error)
	// grantsOfForUpdate reads the agent's grants row inside tx, locked on PostgreSQL.
	grantsOfForUpdate(ctx context.Context, tx bun.Tx, agentID string) (*grantsRow, error)
	grantsOfAgents(ctx context.Context, db bun.IDB, agentIDs []string) ([]grantsRow, error)
	// grantsOnAPI returns, locked inside tx, the grants rows of org that may hold a grant
	// on the API (a textual match on its id: the caller decodes and checks).
	grantsOnAPI(ctx context.Context, tx bun.Tx, orgID, apiID string) ([]grantsRow, error)
	// putGrants inserts the agent's grants row or replaces its grants and updated_at.
	putGrants(ctx context.Context, tx bun.Tx, row *grantsRow) error
	// grantsChangedSince returns the agents whose grants changed at or after since and not
	// after until.
	grantsChangedSince(ctx context.Context, db bun.IDB, since, until time.Time) ([]grantsChange, error)
}

// apiChange is one row of changedSince.
type apiChange struct {
	ID         string    `bun:"api_id"`
	OrgID      string    `bun:"org_id"`
	Identifier string    `bun:"identifier"`
	UpdatedAt  time.Time `bun:"updated_at"`
}

// grantsChange is one row of grantsChangedSince.
type grantsChange struct {
	AgentID   string    `bun:"agent_id"`
	UpdatedAt time.Time `bun:"updated_at"`
}

type bunRepository struct{}

func newRepository() repository { return bunRepository{} }

func (bunRepository) insert(ctx context.Context, db bun.IDB, row *apiRow) error {
	_, err := db.NewInsert().Model(row).Exec(ctx)
	return database.Translate(err)
}

func (bunRepository) get(ctx context.Context, db bun.IDB, id string) (*apiRow, error) {
	row := new(apiRow)
	if err := db.NewSelect().Model(row).Where("api_id = ?", id).Scan(ctx); err != nil {
		return nil, database.Translate(err)
	}
	return row, nil
}

func (bunRepository) getForUpdate(ctx context.Context, tx bun.Tx, id string) (*apiRow, error) {
	row := new(apiRow)
	q := tx.NewSelect().Model(row).Where("api_id = ?", id)
	if database.IsPostgres(tx) {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, database.Translate(err)
	}
	return row, nil
}

func (bunRepository) liveByIdentifier(ctx context.Context, db bun.IDB, orgID, identifier string) (*apiRow, error) {
	row := new(apiRow)
	err := db.NewSelect().Model(row).Where("org_id = ?", orgID).Where("identifier = ?", identifier).
		Where("deleted_at IS NULL").Scan(ctx)
	if err != nil {
		return nil, database.Translate(err)
	}
	return row, nil
}

func (bunRepository) liveByIdentifiers(ctx context.Context, tx bun.Tx, orgID string, identifiers []string) ([]apiRow, error) {
	var rows []apiRow
	if len(identifiers) == 0 {
		return rows, nil
	}
	q := tx.NewSelect().Model(&rows).Where("org_id = ?", orgID).Where("identifier IN (?)", bun.List(identifiers)).
		Where("deleted_at IS NULL").OrderExpr("api_id")
	if database.IsPostgres(tx) {
		q = q.For("SHARE")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, database.Translate(err)
	}
	return rows, nil
}

func (bunRepository) blocking(ctx context.Context, db bun.IDB, orgID, identifier string, now time.Time) (*apiRow, error) {
	row := new(apiRow)
	err := db.NewSelect().Model(row).Where("org_id = ?", orgID).Where("identifier = ?", identifier).
		WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("deleted_at IS NULL").WhereOr("reusable_at > ?", now.UTC())
		}).
		OrderExpr("deleted_at IS NULL DESC, reusable_at DESC").Limit(1).Scan(ctx)
	if err != nil {
		return nil, database.Translate(err)
	}
	return row, nil
}

func (bunRepository) update(ctx context.Context, tx bun.Tx, row *apiRow, columns ...string) error {
	res, err := tx.NewUpdate().Model(row).Column(columns...).WherePK().Exec(ctx)
	if err != nil {
		return database.Translate(err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return database.ErrNotFound
	}
	return nil
}

func (bunRepository) list(ctx context.Context, db bun.IDB, q listQuery) ([]apiRow, error) {
	var rows []apiRow
	sel := db.NewSelect().Model(&rows).Where("deleted_at IS NULL")
	if q.OrgID != "" {
		sel = sel.Where("org_id = ?", q.OrgID)
	}
	if q.After != nil && !afterBuiltinOnly(*q.After) {
		sel = sel.Where("(created_at, api_id) < (?, ?)", q.After.CreatedAt, q.After.ID)
	}
	err := sel.OrderExpr("created_at DESC, api_id DESC").Limit(int64(q.Limit)).Scan(ctx)
	if err != nil {
		return nil, database.Translate(err)
	}
	return rows, nil
}

func (bunRepository) changedSince(ctx context.Context, db bun.IDB, since, until time.Time) ([]apiChange, error) {
	var rows []apiChange
	err := db.NewSelect().Table("apis").Column("api_id", "org_id", "identifier", "updated_at").
		Where("updated_at >= ?", since.UTC()).Where("updated_at <= ?", until.UTC()).
		Scan(ctx, &rows)
	return rows, database.Translate(err)
}

func (bunRepository) grantsOf(ctx context.Context, db bun.IDB, agentID string) (*grantsRow, error) {
	row := new(grantsRow)
	if err := db.NewSelect().Model(row).Where("agent_id = ?", agentID).Scan(ctx); err != nil {
		return nil, database.Translate(err)
	}
	return row, nil
}

func (bunRepository) grantsOfForUpdate(ctx context.Context, tx bun.Tx, agentID string) (*grantsRow, error) {
	row := new(grantsRow)
	q := tx.NewSelect().Model(row).Where("agent_id = ?", agentID)
	if database.IsPostgres(tx) {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, database.Translate(err)
	}
	return row, nil
}

func (bunRepository) grantsOfAgents(ctx context.Context, db bun.IDB, agentIDs []string) ([]grantsRow, error) {
	var rows []grantsRow
	if len(agentIDs) == 0 {
		return rows, nil
	}
	err := db.NewSelect().Model(&rows).Where("agent_id IN (?)", bun.List(agentIDs)).Scan(ctx)
	return rows, database.Translate(err)
}

func (bunRepository) grantsOnAPI(ctx context.Context, tx bun.Tx, orgID, apiID string) ([]grantsRow, error) {
	var rows []grantsRow
	// apiID is a canonical UUID: nothing in it is a LIKE wildcard.
	q := tx.NewSelect().Model(&rows).Where("org_id = ?", orgID).
		Where("CAST(grants AS TEXT) LIKE ?", "%"+apiID+"%").OrderExpr("agent_id")
	if database.IsPostgres(tx) {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, database.Translate(err)
	}
	return rows, nil
}

func (bunRepository) putGrants(ctx context.Context, tx bun.Tx, row *grantsRow) error {
	_, err := tx.NewInsert().Model(row).
		On("CONFLICT (agent_id) DO UPDATE").
		Set("grants = EXCLUDED.grants").
		Set("updated_at = EXCLUDED.updated_at").
		Exec(ctx)
	return database.Translate(err)
}

func (bunRepository) grantsChangedSince(ctx context.Context, db bun.IDB, since, until time.Time) ([]grantsChange, error) {
	var rows []grantsChange
	err := db.NewSelect().Table("api_grants").Column("agent_id", "updated_at").
		Where("updated_at >= ?", since.UTC()).Where("updated_at <= ?", until.UTC()).
		Scan(ctx, &rows)
	return rows, database.Translate(err)
}
