package metering

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/platform/database"
)

// repository is the metering module's store: usage_counters (tokens issued per agent and
// month) and usage_daily (month-to-date per agent at the end of each day). It holds no rules;
// every statement is parameterised and valid on PostgreSQL and SQLite alike.
type repository interface {
	// saveObservations persists absolute counts, keeping the greater of the stored and the
	// given value for each row (idempotent, so replicas never double count).
	saveObservations(ctx context.Context, rows []flushRow, at time.Time) error
	// monthTotal is the stored count of the agent's month, 0 when none.
	monthTotal(ctx context.Context, agentID, month string) (int64, error)
	// agentMonths lists the agent's stored months before the given one, newest first.
	agentMonths(ctx context.Context, agentID, before string, limit int) ([]monthRow, error)
	// agentDays lists the agent's stored days in [from, to], oldest first.
	agentDays(ctx context.Context, agentID, from, to string) ([]dayRow, error)
	// totalMonths sums the months of every agent of org ("" for every organization),
	// newest first.
	totalMonths(ctx context.Context, org string, limit int) ([]monthRow, error)
	// totalDays sums, per day in [from, to], the tokens every agent of org ("" for every
	// organization) got that day; rows from monthStart (the first day of from's month) on
	// are read to know each day's predecessor.
	totalDays(ctx context.Context, org, monthStart, from, to string) ([]dayTotal, error)
}

type monthRow struct {
	Month        string `bun:"month"`
	TokensIssued int64  `bun:"tokens_issued"`
}

type dayRow struct {
	Day         string `bun:"day"`
	MonthToDate int64  `bun:"month_to_date"`
}

type dayTotal struct {
	Day          string `bun:"day"`
	TokensIssued int64  `bun:"tokens_issued"`
}

type bunRepository struct{ db *bun.DB }

func newRepository(db *bun.DB) repository { return &bunRepository{db: db} }

// upsertChunk bounds the rows of one INSERT statement.
const upsertChunk = 500

const upsertCounters = `INSERT INTO usage_counters (agent_id, month, tokens_issued, updated_at, org_id) VALUES %s
ON CONFLICT (agent_id, month) DO UPDATE SET tokens_issued = excluded.tokens_issued, updated_at = excluded.updated_at
WHERE excluded.tokens_issued > usage_counters.tokens_issued`

const upsertDaily = `INSERT INTO usage_daily (agent_id, day, month_to_date, updated_at, org_id) VALUES %s
ON CONFLICT (agent_id, day) DO UPDATE SET month_to_date = excluded.month_to_date, updated_at = excluded.updated_at
WHERE excluded.month_to_date > usage_daily.month_to_date`

func (r *bunRepository) saveObservations(ctx context.Context, rows []flushRow, at time.Time) error {
	// One order for every replica, so that concurrent upserts on PostgreSQL take their row
	// locks in the same order and cannot deadlock.
	slices.SortFunc(rows, func(a, b flushRow) int {
		if c := strings.Compare(a.agent, b.agent); c != 0 {
			return c
		}
		return strings.Compare(a.month, b.month)
	})
	at = at.UTC()
	var counters, daily [][]any
	for _, row := range rows {
		counters = append(counters, []any{row.agent, row.month, row.max, at, row.org})
		days := make([]string, 0, len(row.days))
		for d := range row.days {
			days = append(days, d)
		}
		slices.Sort(days)
		for _, d := range days {
			daily = append(daily, []any{row.agent, d, row.days[d], at, row.org})
		}
	}
	if err := r.upsert(ctx, upsertCounters, counters); err != nil {
		return err
	}
	return r.upsert(ctx, upsertDaily, daily)
}

func (r *bunRepository) upsert(ctx context.Context, stmt string, values [][]any) error {
	for start := 0; start < len(values); start += upsertChunk {
		chunk := values[start:min(start+upsertChunk, len(values))]
		tuples := make([]string, len(chunk))
		args := make([]any, 0, 5*len(chunk))
		for i, v := range chunk {
			tuples[i] = "(?, ?, ?, ?, ?)"
			args = append(args, v...)
		}
		query := strings.Replace(stmt, "%s", strings.Join(tuples, ", "), 1)
		if _, err := r.db.ExecContext(ctx, query, args...); err != nil {
			return database.Translate(err)
		}
	}
	return nil
}

func (r *bunRepository) monthTotal(ctx context.Context, agentID, month string) (int64, error) {
	var n int64
	err := r.db.NewRaw(`SELECT tokens_issued FROM usage_counters WHERE agent_id = ? AND month = ?`,
		agentID, month).Scan(ctx, &n)
	if err = database.Translate(err); errors.Is(err, database.ErrNotFound) {
		return 0, nil
	}
	return n, err
}

func (r *bunRepository) agentMonths(ctx context.Context, agentID, before string, limit int) ([]monthRow, error) {
	var rows []monthRow
	err := r.db.NewRaw(`SELECT month, tokens_issued FROM usage_counters
WHERE agent_id = ? AND month < ? ORDER BY month DESC LIMIT ?`, agentID, before, limit).Scan(ctx, &rows)
	return rows, database.Translate(noRowsOK(err))
}

func (r *bunRepository) agentDays(ctx context.Context, agentID, from, to string) ([]dayRow, error) {
	var rows []dayRow
	err := r.db.NewRaw(`SELECT day, month_to_date FROM usage_daily
WHERE agent_id = ? AND day >= ? AND day <= ? ORDER BY day`, agentID, from, to).Scan(ctx, &rows)
	return rows, database.Translate(noRowsOK(err))
}

func (r *bunRepository) totalMonths(ctx context.Context, org string, limit int) ([]monthRow, error) {
	var rows []monthRow
	err := r.db.NewRaw(`SELECT month, CAST(SUM(tokens_issued) AS BIGINT) AS tokens_issued FROM usage_counters
WHERE (? = '' OR org_id = ?) GROUP BY month ORDER BY month DESC LIMIT ?`, org, orgOrNil(org), limit).Scan(ctx, &rows)
	return rows, database.Translate(noRowsOK(err))
}

// totalDays: a day's tokens are its month_to_date minus the previous stored day's of the same
// agent and month (LAG), or minus 0 for the month's first stored day; a negative difference
// (a count restored a little short after a cache loss) counts as 0.
func (r *bunRepository) totalDays(ctx context.Context, org, monthStart, from, to string) ([]dayTotal, error) {
	var rows []dayTotal
	err := r.db.NewRaw(`SELECT day, CAST(SUM(CASE WHEN month_to_date > prev THEN month_to_date - prev ELSE 0 END) AS BIGINT) AS tokens_issued
FROM (
  SELECT day, month_to_date,
         COALESCE(LAG(month_to_date) OVER (PARTITION BY agent_id, substr(day, 1, 7) ORDER BY day), 0) AS prev
  FROM usage_daily WHERE day >= ? AND day <= ? AND (? = '' OR org_id = ?)
) AS d
WHERE day >= ?
GROUP BY day ORDER BY day DESC`, monthStart, to, org, orgOrNil(org), from).Scan(ctx, &rows)
	return rows, database.Translate(noRowsOK(err))
}

// orgOrNil is the org_id argument of a filter that may be off: NULL for "" (PostgreSQL
// would refuse ” as a uuid even in the branch the filter skips).
func orgOrNil(org string) any {
	if org == "" {
		return nil
	}
	return org
}

// noRowsOK: bun reports an empty result scanned into a slice as sql.ErrNoRows on some paths;
// for a list that is simply empty.
func noRowsOK(err error) error {
	if errors.Is(database.Translate(err), database.ErrNotFound) {
		return nil
	}
	return err
}
