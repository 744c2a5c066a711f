package main

import (
	"context"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"go.uber.org/fx"

	"github.com/agentidp/agentidp/cmd/agentidp/app"
	"github.com/agentidp/agentidp/modules/audit"
	"github.com/agentidp/agentidp/platform/testenv"
)

// The seed fills the log through the Recorder on PostgreSQL: the chain it leaves verifies,
// the tree has a leaf per event, the events spread over the organizations asked for, and a
// second run tops the log up to the new total.
func TestAuditSeedVerifies(t *testing.T) {
	dbURL := testenv.PostgresURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	o := auditSeedOptions{events: 2000, databaseURL: dbURL, secretsDir: t.TempDir(), writers: 300,
		orgs: 10, perOrg: 10, progress: time.Second}
	added, err := seedAudit(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	check := func(want int64) {
		t.Helper()
		secrets, err := loadSecrets(o.secretsDir)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := storeConfig(dbURL, secrets, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		var v audit.ChainVerifier
		var db *bun.DB
		a := fx.New(app.Command(cfg, fx.Populate(&v, &db)))
		if err := a.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = a.Stop(context.Background()) }()
		rep, err := v.VerifyChain(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK || rep.HeadSeq != want || rep.Checked != want {
			t.Fatalf("chain report %+v, want OK with %d events", rep, want)
		}
		var leaves, orgs, tokens int64
		if err := db.NewRaw(`SELECT (SELECT count(*) FROM audit_tree_nodes WHERE level = 0),
			(SELECT count(DISTINCT org_id) FROM audit_events WHERE action = 'token.issued'),
			(SELECT count(*) FROM audit_events WHERE action = 'token.issued')`).Scan(ctx, &leaves, &orgs, &tokens); err != nil {
			t.Fatal(err)
		}
		if leaves != want || orgs != 10 || tokens < want-50 {
			t.Errorf("%d leaves, %d organizations, %d token.issued events; want %d leaves, 10 organizations, about %d events",
				leaves, orgs, tokens, want, want)
		}
	}
	if added < 1950 {
		t.Errorf("the first run added %d events, want about 2000", added)
	}
	check(2000)

	o.events = 2500
	if added, err = seedAudit(ctx, o); err != nil {
		t.Fatal(err)
	}
	if added != 500 {
		t.Errorf("the second run added %d events, want 500", added)
	}
	check(2500)
}
