package testenv

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// InsertOrg writes an active organization named name straight into the orgs table of db
// and returns its id: tests of modules that need a second organization without the orgs
// routes in their graph.
func InsertOrg(t testing.TB, db bun.IDB, name string) string {
	t.Helper()
	id := uuid.NewString()
	now := time.Now().UTC()
	_, err := db.NewRaw(`INSERT INTO orgs (org_id, name, name_lower, status, metadata, created_at, updated_at)
		VALUES (?, ?, ?, 'active', '{}', ?, ?)`, id, name, strings.ToLower(name), now, now).Exec(context.Background())
	if err != nil {
		t.Fatalf("testenv: inserting organization %s: %v", name, err)
	}
	return id
}
