package credentials

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"go.uber.org/zap/zaptest"

	"github.com/agentidp/agentidp/platform/database"
	"github.com/agentidp/agentidp/platform/testenv"
	"github.com/agentidp/agentidp/platform/vault"
	"github.com/agentidp/agentidp/platform/vault/kvtest"
)

// The janitor deletes the Vault entry of every revoked or expired credential, clears its
// vault_path, and leaves live credentials (a grace period running included) alone.
func TestJanitorDeletesTheVaultEntriesOfDeadCredentials(t *testing.T) {
	for name, db := range map[string]*bun.DB{"postgres": testenv.Postgres(t), "sqlite": testenv.SQLite(t)} {
		t.Run(name, func(t *testing.T) {
			fake := kvtest.NewFakeKV2(t, "hvs.janitor-test-token")
			cfg := testenv.Config(t)
			fake.Configure(cfg)
			kv, err := vault.New(cfg, zaptest.NewLogger(t))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			repo := newRepository(db)
			agent := uuid.NewString()
			now := database.Time(time.Now())
			past, future := now.Add(-time.Minute), now.Add(time.Hour)
			rows := map[string]*credentialRow{
				"revoked":   {RevokedAt: &past},
				"expired":   {ExpiresAt: &past},
				"live":      {},
				"in grace":  {RevokedAt: &future},
				"not vault": {RevokedAt: &past, SecretHash: "h1$x"},
			}
			for _, r := range rows {
				r.ID, r.AgentID, r.SecretPrefix, r.CreatedAt = uuid.NewString(), agent, "sk_live_abcd", now
				if r.SecretHash == "" {
					r.VaultPath = vaultPath(agent, r.ID)
					if err := kv.Write(ctx, r.VaultPath, map[string]string{vaultKey: "s"}); err != nil {
						t.Fatal(err)
					}
				}
				if err := repo.insert(ctx, db, r); err != nil {
					t.Fatal(err)
				}
			}
			if err := newJanitor(repo, kv, zaptest.NewLogger(t)).sweep(ctx); err != nil {
				t.Fatal(err)
			}
			for what, r := range rows {
				got, err := repo.get(ctx, db, r.ID, false)
				if err != nil {
					t.Fatal(err)
				}
				dead := what == "revoked" || what == "expired"
				if r.VaultPath != "" && (fake.Versions(r.VaultPath) == nil) != dead {
					t.Errorf("%s: Vault entry present %v", what, fake.Versions(r.VaultPath) != nil)
				}
				if (got.VaultPath == "") != (dead || r.VaultPath == "") {
					t.Errorf("%s: vault_path %q after the sweep", what, got.VaultPath)
				}
			}
		})
	}
}
