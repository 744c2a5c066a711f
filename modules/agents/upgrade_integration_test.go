package agents

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/database"
	"github.com/agentidp/agentidp/platform/testenv"
)

// version1 are the migrations of version 1 of the schema.
var version1 = []string{"20261128010000_agents", "20261128020000_credentials", "20261128030000_audit",
	"20261128030100_audit", "20261128040000_tokens", "20261128050000_metering"}

// A version-1 database upgrades with every agent in root, and the bootstrap admin gains
// the scopes version 2 adds; other agents keep theirs.
func TestIntegrationUpgradeFromVersion1(t *testing.T) {
	for name, open := range map[string]func(testing.TB) *bun.DB{"postgres": testenv.EmptyPostgres, "sqlite": testenv.EmptySQLite} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := open(t)
			if _, err := database.MigrateOnly(ctx, db, version1); err != nil {
				t.Fatal(err)
			}
			v1Scopes := []string{"agents:read", "agents:write", "credentials:read", "credentials:write",
				"tokens:introspect", "tokens:revoke", "audit:read", "usage:read", "keys:admin"}
			insert := func(id string, admin bool, scopes []string) {
				raw, _ := json.Marshal(scopes)
				now := database.Time(time.Now())
				if _, err := db.NewRaw(`INSERT INTO agents (agent_id, name, name_lower, status, allowed_scopes,
					allowed_audiences, plan, metadata, is_admin, created_at, updated_at)
					VALUES (?, 'v1', 'v1', 'active', ?, '[]', 'unlimited', '{}', ?, ?, ?)`,
					id, string(raw), admin, now, now).Exec(ctx); err != nil {
					t.Fatal(err)
				}
			}
			const admin, other = "0191f0a4-1c2d-4e3f-8a4b-5c6d7e8f9a41", "0191f0a4-1c2d-4e3f-8a4b-5c6d7e8f9a42"
			insert(admin, true, v1Scopes)
			insert(other, false, []string{"agents:read"})
			if _, err := database.MigrateUp(ctx, db); err != nil {
				t.Fatal(err)
			}

			for id, want := range map[string][]string{
				admin: append(slices.Clone(v1Scopes), "orgs:admin", "apis:read", "apis:write"),
				other: {"agents:read"},
			} {
				row, err := newRepository().get(ctx, db, id)
				if err != nil {
					t.Fatal(err)
				}
				a, err := row.toAgent()
				if err != nil {
					t.Fatal(err)
				}
				if a.OrgID != orgs.RootID || !slices.Equal(a.AllowedScopes, want) {
					t.Errorf("%s after the upgrade: org %s, scopes %v; want root and %v", id, a.OrgID, a.AllowedScopes, want)
				}
			}
		})
	}
}
