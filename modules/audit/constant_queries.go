package audit

import (
	"context"
	"database/sql"

	"github.com/transparency-dev/merkle/compact"
	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/platform/database"
)

// nodesByKeysPG reads the nodes whose (level, idx) are in the two arrays $1 and $2. Its text
// never changes and the keys travel as parameters, so pgx prepares it once per connection
// and PostgreSQL plans it once: a proof or a root is one round trip and one execution of
// a cached plan (a nested loop of primary-key probes), where bun's query builder wrote the
// keys into the text and made every proof a new statement to prepare and plan.
const nodesByKeysPG = `SELECT n.level, n.idx, n.hash
FROM unnest($1::smallint[], $2::bigint[]) AS k(level, idx)
JOIN audit_tree_nodes n ON n.level = k.level AND n.idx = k.idx`

// selectNodes reads the stored nodes among ids, in no particular order. On PostgreSQL it
// runs nodesByKeysPG on the database/sql handle under db (bun would format the arguments
// into the text, and drops them when the text has no '?'); elsewhere, or on a handle it
// does not know, it builds the OR of the keys with bun.
func selectNodes(ctx context.Context, db bun.IDB, ids []compact.NodeID) ([]nodeRow, error) {
	if database.IsPostgres(db) {
		if q := rawQuerier(db); q != nil {
			levels := make([]int16, len(ids))
			idxs := make([]int64, len(ids))
			for i, id := range ids {
				levels[i], idxs[i] = int16(id.Level), int64(id.Index)
			}
			return scanNodes(q.QueryContext(ctx, nodesByKeysPG, levels, idxs))
		}
	}
	var rows []nodeRow
	q := db.NewSelect().Model(&rows)
	q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
		for _, id := range ids {
			q = q.WhereOr("(level = ? AND idx = ?)", int16(id.Level), int64(id.Index))
		}
		return q
	})
	return rows, q.Scan(ctx)
}

// querier is what *sql.DB, *sql.Tx and *sql.Conn share for reading.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// eventOrgPG is the organization of the event of seq $1, with one constant text for the
// same reason as nodesByKeysPG (an inclusion proof asked by a caller without orgs:admin).
const eventOrgPG = `SELECT org_id FROM audit_events WHERE seq = $1`

// eventOrg is the org_id of the event of seq (NULL: written before organizations);
// sql.ErrNoRows when there is none.
func eventOrg(ctx context.Context, db bun.IDB, seq int64) (sql.NullString, error) {
	var org sql.NullString
	if q := rawQuerier(db); q != nil && database.IsPostgres(db) {
		return org, q.QueryRowContext(ctx, eventOrgPG, seq).Scan(&org)
	}
	err := db.NewSelect().Table("audit_events").Column("org_id").Where("seq = ?", seq).Scan(ctx, &org)
	return org, err
}

// rawQuerier is the database/sql handle that db wraps, nil for a type it does not know.
func rawQuerier(db bun.IDB) querier {
	switch d := db.(type) {
	case *bun.DB:
		return d.DB
	case bun.Tx:
		return d.Tx
	case *bun.Tx:
		return d.Tx
	case bun.Conn:
		return d.Conn
	case *bun.Conn:
		return d.Conn
	}
	return nil
}

// scanNodes reads rows of (level, idx, hash) and closes them.
func scanNodes(rows *sql.Rows, err error) ([]nodeRow, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []nodeRow
	for rows.Next() {
		var r nodeRow
		if err := rows.Scan(&r.Level, &r.Idx, &r.Hash); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
