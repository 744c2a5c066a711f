package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/platform/database"
)

// listRow mirrors modules/agents' agentRow (the same table, alias and columns), so that bun
// builds here the very query the repository sends for GET /api/v1/agents. The agents
// module's TestListSQL and this command's TestListSQLMirrorsRepository pin the same text.
type listRow struct {
	bun.BaseModel `bun:"table:agents,alias:agent_row"`

	ID               string    `bun:"agent_id,pk"`
	OrgID            string    `bun:"org_id"`
	Name             string    `bun:"name"`
	NameLower        string    `bun:"name_lower"`
	Description      string    `bun:"description"`
	Owner            string    `bun:"owner"`
	Status           string    `bun:"status"`
	AllowedScopes    string    `bun:"allowed_scopes"`
	AllowedAudiences string    `bun:"allowed_audiences"`
	Plan             string    `bun:"plan"`
	Metadata         string    `bun:"metadata"`
	IsAdmin          bool      `bun:"is_admin"`
	CreatedAt        time.Time `bun:"created_at"`
	UpdatedAt        time.Time `bun:"updated_at"`
	TokensNotBefore  time.Time `bun:"tokens_not_before,nullzero"`
}

// listFilter is one page request, as the agents service hands it to its repository: OrgID
// "" for every organization (a holder of orgs:admin), Query already lower-cased.
type listFilter struct {
	OrgID, Status, Owner, Query string
	After                       *listCursor
}

// listCursor is the position after the last row of a page.
type listCursor struct {
	CreatedAt time.Time
	ID        string
}

// listSelect is the repository's list query (modules/agents/repository.go, list).
func listSelect(db bun.IDB, f listFilter, limit int, rows *[]listRow) *bun.SelectQuery {
	sel := db.NewSelect().Model(rows)
	if f.OrgID != "" {
		sel = sel.Where("org_id = ?", f.OrgID)
	}
	if f.Status != "" {
		sel = sel.Where("status = ?", f.Status)
	}
	if f.Owner != "" {
		sel = sel.Where("owner = ?", f.Owner)
	}
	if f.Query != "" {
		sel = sel.Where(`name_lower LIKE ? ESCAPE '\'`, "%"+database.EscapeLike(f.Query)+"%")
	}
	if f.After != nil {
		sel = sel.Where("(created_at, agent_id) < (?, ?)", f.After.CreatedAt, f.After.ID)
	}
	return sel.OrderExpr("created_at DESC, agent_id DESC").Limit(int64(limit))
}

// listPageSize is the page the benchmark asks for (limit=50); the service asks its
// repository for one row more, to know whether a next page exists.
const listPageSize = 50

// sqlPage runs one page of f as the service does (limit+1 rows) and returns the rows and the
// cursor of the next page (nil on the last).
func sqlPage(ctx context.Context, db bun.IDB, f listFilter, rows *[]listRow) (*listCursor, error) {
	*rows = (*rows)[:0]
	if err := listSelect(db, f, listPageSize+1, rows).Scan(ctx); err != nil {
		return nil, err
	}
	if len(*rows) <= listPageSize {
		return nil, nil
	}
	*rows = (*rows)[:listPageSize]
	last := (*rows)[listPageSize-1]
	return &listCursor{CreatedAt: last.CreatedAt, ID: last.ID}, nil
}

// sqlDeep follows f's pages from the first up to depth next-page cursors, as a client
// following next_cursor would, and returns f at the deepest cursor reached and its page
// number (1 when the list has a single page).
func sqlDeep(ctx context.Context, db bun.IDB, f listFilter, depth int) (listFilter, int, error) {
	var rows []listRow
	page := 1
	for page <= depth {
		next, err := sqlPage(ctx, db, f, &rows)
		if err != nil {
			return f, 0, err
		}
		if next == nil {
			break
		}
		f.After = next
		page++
	}
	return f, page, nil
}

// sqlResult is one combination's latencies over its repetitions, one query at a time.
type sqlResult struct {
	reps          int
	rows          float64 // rows per query, mean
	p50, p99, max time.Duration
	pgPerQuery    float64 // µs of the database's backends per query (NaN when unknown)
	idle          float64 // the machine's idle share meanwhile, 0–1 (NaN when unknown)
}

// measureSQL runs reps queries one after the other, cycling through filters (one filter:
// the same page every time; several: one organization after another), after warm
// unmeasured ones.
func measureSQL(ctx context.Context, db bun.IDB, filters []listFilter, reps, warm int, m *meter) (sqlResult, error) {
	var rows []listRow
	for i := range warm {
		if _, err := sqlPage(ctx, db, filters[i%len(filters)], &rows); err != nil {
			return sqlResult{}, err
		}
	}
	lat := make([]time.Duration, 0, reps)
	var n int
	before := m.sample(ctx, time.Now())
	for i := range reps {
		t0 := time.Now()
		if _, err := sqlPage(ctx, db, filters[i%len(filters)], &rows); err != nil {
			return sqlResult{}, err
		}
		lat = append(lat, time.Since(t0))
		n += len(rows)
	}
	u := usage(before, m.sample(ctx, time.Now()))
	slices.Sort(lat)
	return sqlResult{reps: reps, rows: float64(n) / float64(reps), p50: lat[len(lat)/2], p99: lat[len(lat)*99/100],
		max: lat[len(lat)-1], pgPerQuery: perRequest(u.PostgresDB, int64(reps)), idle: u.Idle}, nil
}

// String names a filter's conditions for a log line.
func (f listFilter) String() string {
	var parts []string
	for _, p := range [][2]string{{"org_id", f.OrgID}, {"status", f.Status}, {"owner", f.Owner}, {"q", f.Query}} {
		if p[1] != "" {
			parts = append(parts, fmt.Sprintf("%s=%s", p[0], p[1]))
		}
	}
	return strings.Join(parts, " ")
}
