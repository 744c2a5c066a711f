package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"go.uber.org/fx"

	"github.com/agentidp/agentidp/cmd/agentidp/app"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/config"
)

const auditSeedUsage = `usage: agentidp-bench audit-seed [-events N] [-database-url URL] [-secrets-dir DIR] [-writers N]

Fills the audit log of a PostgreSQL database up to N events in all, through the product's own
code: the whole application as the CLI commands assemble it (cmd/agentidp/app.Command: the
platform's database module applies the migrations at start, the audit module's group-commit
writer and checkpoint worker run), and -writers goroutines calling audittrail.Recorder.Record,
each waiting for its event to be committed as the token endpoint does — so the chain hashes,
the Merkle tree nodes, the partitions and the checkpoints are the server's. The events are
token.issued events as the tokens module writes them (details scope, aud, exp, kid,
credential_id), spread over -orgs organizations of -agents-per-org agents, with a client IP,
a user agent and a request id.

It creates the database when it does not exist. On a database that already has events it adds
only what is missing to reach N. The master key and pepper are read from DIR/master.key and
DIR/secret.pepper, generated there (0600) the first time: the audit key the checkpoint worker
creates is sealed under that master key, so a server started on the database later
(agentidp-bench audit-scale) must use the same ones. It prints the progress and events/s
every 10 s.

`

// auditSeedOptions are the flags of the audit-seed command.
type auditSeedOptions struct {
	events       int64
	databaseURL  string
	secretsDir   string
	writers      int
	orgs, perOrg int
	progress     time.Duration
}

func runAuditSeed(args []string) {
	fs := flag.NewFlagSet("audit-seed", flag.ExitOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), auditSeedUsage)
		fs.PrintDefaults()
	}
	var o auditSeedOptions
	fs.Int64Var(&o.events, "events", 1_000_000, "audit events the log holds in all when done")
	fs.StringVar(&o.databaseURL, "database-url", "", "the database to fill (default: agentidp_audit_<events> on the server of AGENTIDP_TEST_DATABASE_URL, else 127.0.0.1:5432)")
	fs.StringVar(&o.secretsDir, "secrets-dir", filepath.Join(os.TempDir(), "agentidp-audit-scale"), "directory of master.key and secret.pepper (made the first time)")
	fs.IntVar(&o.writers, "writers", 512, "concurrent goroutines calling Record (hundreds, so that batches reach the writer's 256 cap)")
	fs.IntVar(&o.orgs, "orgs", 100, "organizations the events are spread over")
	fs.IntVar(&o.perOrg, "agents-per-org", 100, "agents in each organization")
	_ = fs.Parse(args)
	o.progress = 10 * time.Second
	if o.events < 1 || o.writers < 1 || o.orgs < 1 || o.perOrg < 1 || o.orgs*o.perOrg > 10_000_000 {
		fmt.Fprintln(os.Stderr, "agentidp-bench audit-seed: -events, -writers, -orgs and -agents-per-org must be at least 1, and at most 10 million agents")
		os.Exit(2)
	}
	if o.databaseURL == "" {
		o.databaseURL = defaultDatabaseURL(fmt.Sprintf("agentidp_audit_%d", o.events))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := seedAudit(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "agentidp-bench audit-seed:", err)
		os.Exit(1)
	}
}

// benchSecrets are the master key and pepper (base64) shared by the seed and the server.
type benchSecrets struct{ masterKey, pepper string }

// loadSecrets reads dir/master.key and dir/secret.pepper, generating each the first time.
func loadSecrets(dir string) (benchSecrets, error) {
	var s benchSecrets
	var err error
	if s.masterKey, err = secretFile(filepath.Join(dir, "master.key")); err != nil {
		return s, err
	}
	s.pepper, err = secretFile(filepath.Join(dir, "secret.pepper"))
	return s, err
}

func secretFile(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(raw)), nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	v := randKey()
	return v, os.WriteFile(path, []byte(v+"\n"), 0o600)
}

// storeConfig is the configuration of an in-process application on dbURL, as the CLI loads
// it: the given secrets, the checkpoint worker ticking every checkpointEvery.
func storeConfig(dbURL string, s benchSecrets, checkpointEvery time.Duration) (*config.Config, error) {
	return config.Load("", []string{
		"AGENTIDP_DATABASE_URL=" + dbURL,
		"AGENTIDP_MASTER_KEY=" + s.masterKey,
		"AGENTIDP_SECRET_PEPPER=" + s.pepper,
		"AGENTIDP_ISSUER=http://127.0.0.1:8080",
		"AGENTIDP_DATA_DIR=" + os.TempDir(),
		"AGENTIDP_LOG_LEVEL=warn",
		"AGENTIDP_DB_MAX_OPEN_CONNS=20",
		"AGENTIDP_AUDIT_CHECKPOINT_INTERVAL=" + checkpointEvery.String(),
	})
}

// seedAudit fills the audit log up to o.events and returns the number of events it added.
func seedAudit(ctx context.Context, o auditSeedOptions) (int64, error) {
	if err := ensureDatabase(ctx, o.databaseURL); err != nil {
		return 0, err
	}
	secrets, err := loadSecrets(o.secretsDir)
	if err != nil {
		return 0, err
	}
	// The checkpoint worker also creates the next partitions while the head is within half a
	// partition of the last one's end: tick often enough that the seed never outruns it.
	cfg, err := storeConfig(o.databaseURL, secrets, 2*time.Second)
	if err != nil {
		return 0, err
	}
	var rec audittrail.Recorder
	var db *bun.DB
	a := fx.New(app.Command(cfg, fx.Populate(&rec, &db)))
	if err := a.Err(); err != nil {
		return 0, err
	}
	startCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := a.Start(startCtx); err != nil {
		return 0, err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = a.Stop(stopCtx)
	}()

	var have int64
	if err := db.NewRaw("SELECT coalesce(max(seq), 0) FROM audit_events").Scan(ctx, &have); err != nil {
		return 0, fmt.Errorf("reading the log's head: %w", err)
	}
	want := o.events - have
	if want <= 0 {
		fmt.Printf("the log already holds %d events (asked for %d); nothing to do\n", have, o.events)
		return 0, nil
	}
	fmt.Printf("the log holds %d events; adding %d with %d writers\n", have, want, o.writers)

	g := newEventGen(o.orgs, o.perOrg)
	var claimed, done, retried atomic.Int64
	var firstErr error
	var errOnce sync.Once
	start := time.Now()
	stopProgress := make(chan struct{})
	go func() {
		t := time.NewTicker(o.progress)
		defer t.Stop()
		last, lastAt := int64(0), start
		for {
			select {
			case <-stopProgress:
				return
			case now := <-t.C:
				n := done.Load()
				fmt.Printf("%s: %d of %d added, head ≈ %d (%.0f events/s now, %.0f on average; %d retried)\n",
					now.Sub(start).Round(time.Second), n, want, have+n,
					float64(n-last)/now.Sub(lastAt).Seconds(), float64(n)/now.Sub(start).Seconds(), retried.Load())
				last, lastAt = n, now
			}
		}
	}()
	var wg sync.WaitGroup
	for w := range o.writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			for claimed.Add(1) <= want {
				e := g.tokenIssued(rng)
				for attempt := 0; ; attempt++ {
					err := rec.Record(ctx, e)
					if err == nil {
						done.Add(1)
						break
					}
					if ctx.Err() != nil || attempt == 10 {
						errOnce.Do(func() { firstErr = err })
						return
					}
					retried.Add(1) // not stored: a failed batch stores none of its events
					time.Sleep(time.Second)
				}
			}
		}()
	}
	wg.Wait()
	close(stopProgress)
	n := done.Load()
	elapsed := time.Since(start)
	fmt.Printf("added %d events in %s: %.0f events/s (%d retried); the log holds %d\n",
		n, elapsed.Round(time.Second), float64(n)/elapsed.Seconds(), retried.Load(), have+n)
	if firstErr != nil {
		return n, fmt.Errorf("recording: %w", firstErr)
	}
	return n, ctx.Err()
}

// eventGen makes token.issued events as the tokens module records them.
type eventGen struct {
	orgs   []string
	agents []seedAgent
}

// seedAgent is one agent of the generated events: its org, its credential.
type seedAgent struct{ id, org, credential, scope string }

func newEventGen(orgs, perOrg int) *eventGen {
	rng := rand.New(rand.NewPCG(1, 0xa0d17))
	id := func() string {
		var b [16]byte
		binary64(b[:8], rng.Uint64())
		binary64(b[8:], rng.Uint64())
		b[6] = b[6]&0x0f | 0x70
		b[8] = b[8]&0x3f | 0x80
		return uuid.UUID(b).String()
	}
	g := &eventGen{}
	for range orgs {
		g.orgs = append(g.orgs, id())
	}
	scopes := []string{"agents:read", "", "agents:read credentials:read", "apis:read", "audit:read"}
	for i := range orgs * perOrg {
		g.agents = append(g.agents, seedAgent{id: id(), org: g.orgs[i/perOrg], credential: id(),
			scope: scopes[rng.IntN(len(scopes))]})
	}
	return g
}

func binary64(b []byte, v uint64) {
	for i := range 8 {
		b[i] = byte(v >> (56 - 8*i))
	}
}

var seedUserAgents = []string{"agentidp-go/1.4.2", "agentidp-python/0.9.1 CPython/3.12", "curl/8.5.0",
	"agentidp-node/2.1.0 node/22.11.0"}

// tokenIssued is the event of a token issued to a random agent (modules/tokens, issue.go).
func (g *eventGen) tokenIssued(rng *rand.Rand) audittrail.Event {
	a := g.agents[rng.IntN(len(g.agents))]
	kid := "2026-12-01-RS256"
	if rng.IntN(4) == 0 {
		kid = "2026-12-01-EdDSA"
	}
	return audittrail.Event{
		Action: "token.issued", AgentID: a.id, ActorID: a.id, OrgID: a.org,
		TargetType: audittrail.TargetToken, TargetID: uuid.NewString(),
		Details: map[string]any{"scope": a.scope, "aud": "https://api.example.com", "exp": time.Now().Add(15 * time.Minute).Unix(),
			"kid": kid, "credential_id": a.credential},
		IP:        fmt.Sprintf("10.%d.%d.%d", rng.IntN(256), rng.IntN(256), 1+rng.IntN(254)),
		UserAgent: seedUserAgents[rng.IntN(len(seedUserAgents))],
		RequestID: uuid.NewString(),
	}
}
