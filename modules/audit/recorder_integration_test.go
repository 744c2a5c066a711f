package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/modules/audit"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/reqctx"
	"github.com/agentidp/agentidp/platform/testenv"
)

// An event recorded with RecordTx commits with the caller's change, and a failure after it
// rolls both back.
func TestIntegrationRecordTxIsAtomic(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		ctx := ctxT(t)
		if _, err := b.DB.ExecContext(ctx, "CREATE TABLE change_probe (id TEXT PRIMARY KEY)"); err != nil {
			t.Fatal(err)
		}
		change := func(ctx context.Context, tx bun.Tx, id string) error {
			if _, err := tx.ExecContext(ctx, "INSERT INTO change_probe (id) VALUES (?)", id); err != nil {
				return err
			}
			return e.rec.RecordTx(ctx, tx, audittrail.Event{Action: "agent.created", AgentID: agentA,
				TargetType: audittrail.TargetAgent, TargetID: id})
		}
		boom := errors.New("boom")
		err := b.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if err := change(ctx, tx, "rolled-back"); err != nil {
				return err
			}
			return boom // a failure after the change and its event
		})
		if !errors.Is(err, boom) {
			t.Fatalf("tx: %v", err)
		}
		if n := count(t, b.DB); n != 0 {
			t.Fatalf("rolled-back event stored: %d rows", n)
		}
		err = b.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error { return change(ctx, tx, "kept") })
		if err != nil {
			t.Fatal(err)
		}
		var changes int
		if err := b.DB.QueryRowContext(ctx, "SELECT COUNT(*) FROM change_probe").Scan(&changes); err != nil {
			t.Fatal(err)
		}
		if got := rows(t, b.DB); changes != 1 || len(got) != 1 || got[0].Seq != 1 {
			t.Fatalf("changes %d, events %+v", changes, got)
		}
		mustVerify(t, e)
	})
}

// Actor, IP, user agent and request id come from the request context when the event leaves
// them empty; the outcome defaults to success.
func TestIntegrationRecordFillsFromRequestContext(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		ctx := reqctx.WithInfo(ctxT(t), &reqctx.Info{RequestID: "req-1", ClientIP: "203.0.113.9", UserAgent: "probe/1.0"})
		ctx = reqctx.WithPrincipal(ctx, &reqctx.Principal{AgentID: strings.ToUpper(agentB)})
		if err := e.rec.Record(ctx, audittrail.Event{Action: "token.issued", AgentID: agentA}); err != nil {
			t.Fatal(err)
		}
		err := b.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			return e.rec.RecordTx(ctx, tx, audittrail.Event{Action: "agent.updated", AgentID: agentA,
				IP: "198.51.100.1", Outcome: audittrail.Failure})
		})
		if err != nil {
			t.Fatal(err)
		}
		got := rows(t, b.DB)
		if len(got) != 2 {
			t.Fatalf("rows: %+v", got)
		}
		first, second := got[0], got[1]
		if first.ActorID != agentB || first.IP != "203.0.113.9" || first.Agent != "probe/1.0" ||
			first.Request != "req-1" || first.Outcome != audittrail.Success || first.Details != "{}" {
			t.Fatalf("first: %+v", first)
		}
		if second.IP != "198.51.100.1" || second.Outcome != audittrail.Failure || second.ActorID != agentB {
			t.Fatalf("second: %+v", second)
		}
		mustVerify(t, e) // the upper-case actor id was canonicalised before hashing
	})
}

// Invalid events are refused with ErrInvalidEvent and store nothing.
func TestIntegrationInvalidEventsRefused(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		ctx := ctxT(t)
		for name, ev := range map[string]audittrail.Event{
			"no action":   {AgentID: agentA},
			"bad outcome": {Action: "x", Outcome: "maybe"},
			"bad agent":   {Action: "x", AgentID: "not-a-uuid"},
			"bad actor":   {Action: "x", ActorID: "root"},
			"bad details": {Action: "x", Details: map[string]any{"f": func() {}}},
		} {
			if err := e.rec.Record(ctx, ev); !errors.Is(err, audit.ErrInvalidEvent) {
				t.Errorf("%s: Record: %v", name, err)
			}
			err := b.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error { return e.rec.RecordTx(ctx, tx, ev) })
			if !errors.Is(err, audit.ErrInvalidEvent) {
				t.Errorf("%s: RecordTx: %v", name, err)
			}
		}
		if n := count(t, b.DB); n != 0 {
			t.Fatalf("%d rows stored", n)
		}
	})
}

// Secrets and tokens in details are redacted before they reach the table.
func TestIntegrationDetailsScrubbed(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		secret := "sk_live_" + strings.Repeat("Ab3_", 11)
		jwt := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZ2VudCJ9.c2lnbmF0dXJlLWJ5dGVz"
		err := e.rec.Record(ctxT(t), audittrail.Event{Action: "credential.created", AgentID: agentA, Details: map[string]any{
			"client_secret": secret,
			"note":          "caller sent " + jwt + " by mistake",
			"nested":        map[string]any{"authorization": "Bearer abcdefghijkl", "list": []any{secret, "fine"}},
			"tokens_issued": 7,
			"storage":       "hash",
		}})
		if err != nil {
			t.Fatal(err)
		}
		stored := rows(t, b.DB)[0].Details
		for _, leak := range []string{"sk_live_", "eyJ", "abcdefghijkl"} {
			if strings.Contains(stored, leak) {
				t.Fatalf("details leak %q: %s", leak, stored)
			}
		}
		var d map[string]any
		if err := json.Unmarshal([]byte(stored), &d); err != nil {
			t.Fatal(err)
		}
		if d["client_secret"] != "[REDACTED]" || d["tokens_issued"] != float64(7) || d["storage"] != "hash" ||
			!strings.Contains(d["note"].(string), "[REDACTED]") {
			t.Fatalf("details: %s", stored)
		}
		mustVerify(t, e)
	})
}
