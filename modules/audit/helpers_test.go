package audit_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/uptrace/bun"
	"go.uber.org/fx"

	"github.com/agentidp/agentidp/modules/audit"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/testenv"
)

const (
	agentA = "0191f0a4-1c2d-7e3f-8a4b-5c6d7e8f9a0b"
	agentB = "0191f0a4-1c2d-7e3f-8a4b-5c6d7e8f9a0c"
)

// env is the audit module running in a small fxtest app on one backend.
type env struct {
	b        testenv.Backend
	cfg      *config.Config
	app      *testenv.App
	rec      audittrail.Recorder
	verifier audit.ChainVerifier
	reg      *prometheus.Registry
	bearers  *testenv.Bearers
}

func newEnv(t *testing.T, b testenv.Backend, opts ...fx.Option) *env {
	t.Helper()
	return newEnvWith(t, b, testenv.Config(t), testenv.NewBearers(), opts...)
}

// newReplica is another replica of of's server: the same store, configuration (the
// master key above all) and bearer tokens.
func newReplica(t *testing.T, of *env, opts ...fx.Option) *env {
	t.Helper()
	return newEnvWith(t, of.b, of.cfg, of.bearers, opts...)
}

// newEnvCfg is newEnv with cfg.
func newEnvCfg(t *testing.T, b testenv.Backend, cfg *config.Config, opts ...fx.Option) *env {
	t.Helper()
	return newEnvWith(t, b, cfg, testenv.NewBearers(), opts...)
}

func newEnvWith(t *testing.T, b testenv.Backend, cfg *config.Config, bearers *testenv.Bearers, opts ...fx.Option) *env {
	t.Helper()
	e := &env{b: b, cfg: cfg, bearers: bearers}
	all := append([]fx.Option{audit.Module, e.bearers.Option(), fx.Populate(&e.rec, &e.verifier, &e.reg)}, opts...)
	e.app = testenv.NewApp(t, cfg, b, all...)
	return e
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// count is the number of rows in audit_events.
func count(t *testing.T, db bun.IDB) int64 {
	t.Helper()
	n, err := db.NewSelect().Table("audit_events").Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// row is an audit_events row as the tests read it.
type row struct {
	Seq      int64  `bun:"seq"`
	EventID  string `bun:"event_id"`
	Action   string `bun:"action"`
	ActorID  string `bun:"actor_id"`
	AgentID  string `bun:"agent_id"`
	Outcome  string `bun:"outcome"`
	IP       string `bun:"ip"`
	Agent    string `bun:"user_agent"`
	Request  string `bun:"request_id"`
	Details  string `bun:"details"`
	PrevHash string `bun:"prev_hash"`
	Hash     string `bun:"hash"`
}

func rows(t *testing.T, db bun.IDB) []row {
	t.Helper()
	var out []row
	if err := db.NewSelect().Table("audit_events").Column("seq", "event_id", "action", "actor_id", "agent_id",
		"outcome", "ip", "user_agent", "request_id", "details", "prev_hash", "hash").
		OrderExpr("seq ASC").Scan(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// recordN writes n events through RecordTx, one transaction each.
func recordN(t *testing.T, e *env, n int, ev audittrail.Event) {
	t.Helper()
	for range n {
		err := e.b.DB.RunInTx(ctxT(t), nil, func(ctx context.Context, tx bun.Tx) error {
			return e.rec.RecordTx(ctx, tx, ev)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// mustVerify asserts the chain is intact and returns its report.
func mustVerify(t *testing.T, e *env) audit.Report {
	t.Helper()
	rep, err := e.verifier.VerifyChain(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		t.Fatalf("chain broken: %+v", rep)
	}
	return rep
}

// tamper runs stmts with the immutability triggers out of the way, as a superuser could:
// on PostgreSQL with session_replication_role = replica (user triggers do not fire), on
// SQLite by dropping the triggers.
func tamper(t *testing.T, b testenv.Backend, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	err := b.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if b.Name == "postgres" {
			if _, err := tx.ExecContext(ctx, "SET LOCAL session_replication_role = replica"); err != nil {
				return err
			}
		} else {
			for _, trg := range []string{"audit_events_no_update", "audit_events_no_delete", "audit_tree_nodes_no_delete"} {
				if _, err := tx.ExecContext(ctx, "DROP TRIGGER IF EXISTS "+trg); err != nil {
					return err
				}
			}
		}
		for _, s := range stmts {
			if _, err := tx.ExecContext(ctx, s); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("tampering: %v", err)
	}
}

// holdChain blocks every append to the chain until release is called: on PostgreSQL by
// holding the chain's advisory lock on a connection of its own, on SQLite by holding the
// database's write lock in an open transaction.
func holdChain(t *testing.T, b testenv.Backend) (release func()) {
	t.Helper()
	ctx := context.Background()
	if b.Name == "postgres" {
		conn, err := b.DB.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", audit.ChainLockKey); err != nil {
			t.Fatal(err)
		}
		return func() {
			_, _ = conn.ExecContext(ctx, "SELECT pg_advisory_unlock(?)", audit.ChainLockKey)
			_ = conn.Close()
		}
	}
	tx, err := b.DB.BeginTx(ctx, &sql.TxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS hold_probe (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	return func() { _ = tx.Rollback() }
}

// gauge and histogram read the module's metrics.
func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name && len(f.GetMetric()) > 0 {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return 0
}

func histogram(t *testing.T, reg *prometheus.Registry, name string) (count uint64, sum float64) {
	t.Helper()
	return histogramTB(t, reg, name)
}

func histogramTB(t testing.TB, reg *prometheus.Registry, name string) (count uint64, sum float64) {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name && len(f.GetMetric()) > 0 {
			h := f.GetMetric()[0].GetHistogram()
			return h.GetSampleCount(), h.GetSampleSum()
		}
	}
	return 0, 0
}

// waitFor polls cond until it holds (failing after a generous deadline: a hang, not speed).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// get calls the API with a bearer token (none when token is "").
func get(t *testing.T, e *env, path, token string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.app.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := testenv.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func decode[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(strings.NewReader(string(body)))
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
	return v
}
