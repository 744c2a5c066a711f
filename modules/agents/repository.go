package agents

import (
	"context"
	"encoding/json"
	"time"

	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/platform/cursor"
	"github.com/agentidp/agentidp/platform/database"
)

// listQuery is one page request of the agents list, already validated.
type listQuery struct {
	OrgID  string // "" for every organization
	Status Status // "" for any
	Owner  string // "" for any; exact match
	Query  string // "" for any; lower-cased substring of the name, matched literally
	After  *cursor.Position
	Limit  int
}

// repository runs the agents table's SQL. It holds no rules; it returns
// database.ErrNotFound and database.ErrAlreadyExists (wrapped) instead of driver errors.
type repository interface {
	insert(ctx context.Context, db bun.IDB, row *agentRow) error
	get(ctx context.Context, db bun.IDB, id string) (*agentRow, error)
	// getForUpdate reads the row inside tx, locking it against concurrent writers on
	// PostgreSQL (SQLite write transactions are serialised anyway).
	getForUpdate(ctx context.Context, tx bun.Tx, id string) (*agentRow, error)
	update(ctx context.Context, tx bun.Tx, row *agentRow, columns ...string) error
	// list returns up to q.Limit rows, newest first by (created_at, agent_id).
	list(ctx context.Context, db bun.IDB, q listQuery) ([]agentRow, error)
	// lockFreePlan serialises the free plan's limit check across replicas until tx ends
	// (a transaction-scoped advisory lock on PostgreSQL; a no-op on SQLite, whose write
	// transactions already hold the database's write lock).
	lockFreePlan(ctx context.Context, tx bun.Tx) error
	// lockGuardians serialises, until tx ends, the changes that could take an
	// organization's last holder of a lock-out role away (a transaction-scoped advisory lock
	// per organization on PostgreSQL; a no-op on SQLite, as lockFreePlan).
	lockGuardians(ctx context.Context, tx bun.Tx, orgID string) error
	// countHolders counts the active agents of orgID other than agentID whose allowed
	// scopes include every one of scopes.
	countHolders(ctx context.Context, db bun.IDB, orgID, agentID string, scopes []string) (int64, error)
	// countFreeLive counts the org's non-decommissioned agents on plan free.
	countFreeLive(ctx context.Context, db bun.IDB, orgID string) (int64, error)
	adminExists(ctx context.Context, db bun.IDB) (bool, error)
	// adminID returns the oldest non-decommissioned admin's id, "" for none.
	adminID(ctx context.Context, db bun.IDB) (string, error)
	// countByStatus counts the agents of orgID ("" for every organization) per status.
	countByStatus(ctx context.Context, db bun.IDB, orgID string) (map[string]int, error)
	// delegators returns the agents of orgID whose delegates list agentID.
	delegators(ctx context.Context, db bun.IDB, orgID, agentID string) ([]agentRow, error)
	// changedSince returns the ids and updated_at of the agents changed at or after since
	// and not after until.
	changedSince(ctx context.Context, db bun.IDB, since, until time.Time) ([]agentChange, error)
}

// agentChange is one row of changedSince.
type agentChange struct {
	ID        string    `bun:"agent_id"`
	UpdatedAt time.Time `bun:"updated_at"`
}

// freePlanLockKey is the PostgreSQL advisory lock key of the free plan's limit check
// ("agentsFP" as a big-endian int64).
const freePlanLockKey int64 = 0x6167656e74734650

type bunRepository struct{}

func newRepository() repository { return bunRepository{} }

func (bunRepository) insert(ctx context.Context, db bun.IDB, row *agentRow) error {
	_, err := db.NewInsert().Model(row).Exec(ctx)
	return database.Translate(err)
}

func (bunRepository) get(ctx context.Context, db bun.IDB, id string) (*agentRow, error) {
	row := new(agentRow)
	err := db.NewSelect().Model(row).Where("agent_id = ?", id).Scan(ctx)
	if err != nil {
		return nil, database.Translate(err)
	}
	return row, nil
}

func (bunRepository) getForUpdate(ctx context.Context, tx bun.Tx, id string) (*agentRow, error) {
	row := new(agentRow)
	q := tx.NewSelect().Model(row).Where("agent_id = ?", id)
	if database.IsPostgres(tx) {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, database.Translate(err)
	}
	return row, nil
}

func (bunRepository) update(ctx context.Context, tx bun.Tx, row *agentRow, columns ...string) error {
	res, err := tx.NewUpdate().Model(row).Column(columns...).WherePK().Exec(ctx)
	if err != nil {
		return database.Translate(err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return database.ErrNotFound
	}
	return nil
}

func (bunRepository) list(ctx context.Context, db bun.IDB, q listQuery) ([]agentRow, error) {
	var rows []agentRow
	sel := db.NewSelect().Model(&rows)
	if q.OrgID != "" {
		sel = sel.Where("org_id = ?", q.OrgID)
	}
	if q.Status != "" {
		sel = sel.Where("status = ?", string(q.Status))
	}
	if q.Owner != "" {
		sel = sel.Where("owner = ?", q.Owner)
	}
	if q.Query != "" {
		sel = sel.Where(`name_lower LIKE ? ESCAPE '\'`, "%"+database.EscapeLike(q.Query)+"%")
	}
	if q.After != nil {
		// Row-value comparison: strictly older, or as old with a smaller id.
		sel = sel.Where("(created_at, agent_id) < (?, ?)", q.After.CreatedAt, q.After.ID)
	}
	err := sel.OrderExpr("created_at DESC, agent_id DESC").Limit(int64(q.Limit)).Scan(ctx)
	if err != nil {
		return nil, database.Translate(err)
	}
	return rows, nil
}

func (bunRepository) lockFreePlan(ctx context.Context, tx bun.Tx) error {
	if !database.IsPostgres(tx) {
		return nil
	}
	_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", freePlanLockKey)
	return database.Translate(err)
}

// guardiansLockClass is the first key of the lock-out advisory locks ("agGu"); the second
// is the organization id's hash.
const guardiansLockClass int32 = 0x61674775

func (bunRepository) lockGuardians(ctx context.Context, tx bun.Tx, orgID string) error {
	if !database.IsPostgres(tx) {
		return nil
	}
	_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?, hashtext(?))", guardiansLockClass, orgID)
	return database.Translate(err)
}

func (bunRepository) countHolders(ctx context.Context, db bun.IDB, orgID, agentID string, scopes []string) (int64, error) {
	q := db.NewSelect().Model((*agentRow)(nil)).
		Where("org_id = ?", orgID).
		Where("agent_id <> ?", agentID).
		Where("status = ?", string(StatusActive))
	if database.IsPostgres(db) {
		raw, err := json.Marshal(scopes)
		if err != nil {
			return 0, err
		}
		q = q.Where("allowed_scopes @> ?::jsonb", string(raw))
	} else {
		for _, s := range scopes {
			q = q.Where("EXISTS (SELECT 1 FROM json_each(allowed_scopes) WHERE json_each.value = ?)", s)
		}
	}
	n, err := q.Count(ctx)
	return n, database.Translate(err)
}

func (bunRepository) delegators(ctx context.Context, db bun.IDB, orgID, agentID string) ([]agentRow, error) {
	var rows []agentRow
	q := db.NewSelect().Model(&rows).Where("org_id = ?", orgID)
	if database.IsPostgres(db) {
		raw, err := json.Marshal([]string{agentID})
		if err != nil {
			return nil, err
		}
		q = q.Where("delegates @> ?::jsonb", string(raw))
	} else {
		q = q.Where("EXISTS (SELECT 1 FROM json_each(delegates) WHERE json_each.value = ?)", agentID)
	}
	err := q.Limit(maxDelegatorAgents).Scan(ctx)
	return rows, database.Translate(err)
}

func (bunRepository) countFreeLive(ctx context.Context, db bun.IDB, orgID string) (int64, error) {
	n, err := db.NewSelect().Model((*agentRow)(nil)).
		Where("org_id = ?", orgID).
		Where("plan = ?", string(PlanFree)).
		Where("status <> ?", string(StatusDecommissioned)).
		Count(ctx)
	return n, database.Translate(err)
}

func (bunRepository) adminExists(ctx context.Context, db bun.IDB) (bool, error) {
	ok, err := db.NewSelect().Model((*agentRow)(nil)).
		Where("is_admin = ?", true).
		Where("status <> ?", string(StatusDecommissioned)).
		Exists(ctx)
	return ok, database.Translate(err)
}

func (bunRepository) adminID(ctx context.Context, db bun.IDB) (string, error) {
	var ids []string
	err := db.NewSelect().Model((*agentRow)(nil)).Column("agent_id").
		Where("is_admin = ?", true).
		Where("status <> ?", string(StatusDecommissioned)).
		OrderExpr("created_at ASC, agent_id ASC").Limit(1).
		Scan(ctx, &ids)
	if err != nil || len(ids) == 0 {
		return "", database.Translate(err)
	}
	return ids[0], nil
}

func (bunRepository) changedSince(ctx context.Context, db bun.IDB, since, until time.Time) ([]agentChange, error) {
	var rows []agentChange
	err := db.NewSelect().Table("agents").Column("agent_id", "updated_at").
		Where("updated_at >= ?", since.UTC()).Where("updated_at <= ?", until.UTC()).
		Scan(ctx, &rows)
	return rows, database.Translate(err)
}

func (bunRepository) countByStatus(ctx context.Context, db bun.IDB, orgID string) (map[string]int, error) {
	var rows []struct {
		Status string `bun:"status"`
		N      int    `bun:"n"`
	}
	q := db.NewSelect().Table("agents").ColumnExpr("status").ColumnExpr("count(*) AS n")
	if orgID != "" {
		q = q.Where("org_id = ?", orgID)
	}
	err := q.Group("status").Scan(ctx, &rows)
	if err != nil {
		return nil, database.Translate(err)
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, nil
}
