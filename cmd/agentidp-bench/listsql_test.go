package main

import (
	"database/sql"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// The query the list benchmark measures is the agents repository's, letter for letter: the
// same string is listSQLGolden in modules/agents (TestIntegrationListSQL), which checks it
// against what the repository sends.
func TestListSQLMirrorsRepository(t *testing.T) {
	const want = `SELECT "agent_row"."agent_id", "agent_row"."org_id", "agent_row"."name", "agent_row"."name_lower", "agent_row"."description", "agent_row"."owner", "agent_row"."status", "agent_row"."allowed_scopes", "agent_row"."allowed_audiences", "agent_row"."plan", "agent_row"."metadata", "agent_row"."is_admin", "agent_row"."created_at", "agent_row"."updated_at", "agent_row"."tokens_not_before" FROM "agents" AS "agent_row" WHERE (org_id = '019ad1cf-0e72-7833-97ee-493c06286e36') AND (status = 'suspended') AND (owner = 'o') AND (name_lower LIKE '%rec%' ESCAPE '\') AND ((created_at, agent_id) < ('2026-12-06 11:59:41.637795+00:00', '019ad1cf-0e72-7833-97ee-4000000000aa')) ORDER BY created_at DESC, agent_id DESC LIMIT 51`
	sqldb, err := sql.Open("pgx", "postgres://127.0.0.1:1/none") // never connected
	if err != nil {
		t.Fatal(err)
	}
	defer sqldb.Close()
	db := bun.NewDB(sqldb, pgdialect.New())
	at := time.Date(2026, 12, 6, 11, 59, 41, 637795000, time.UTC)
	var rows []listRow
	got := listSelect(db, listFilter{OrgID: "019ad1cf-0e72-7833-97ee-493c06286e36", Status: "suspended", Owner: "o", Query: "rec",
		After: &listCursor{CreatedAt: at, ID: "019ad1cf-0e72-7833-97ee-4000000000aa"}}, listPageSize+1, &rows).String()
	if got != want {
		t.Errorf("the benchmark's query\n%s\nwant the repository's\n%s", got, want)
	}
}
