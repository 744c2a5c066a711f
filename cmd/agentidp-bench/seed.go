package main

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/agentidp/agentidp/platform/database"
)

const seedUsage = `usage: agentidp-bench seed [-orgs N] [-agents-per-org N] [-database-url URL] [-seed N]

Fills a PostgreSQL database with organizations and agents for the list benchmark
(agentidp-bench list): N organizations of N agents each, with plausible names, owners from
a set of 20 (so the owner filter selects about 1/20), statuses 90 % active, 7 % suspended,
3 % decommissioned, plans 85 % free, created_at spread over the 365 days before now and
UUIDv7 ids made from it. The same -seed gives the same names, owners and statuses.

It creates the database when it does not exist, applies the project's migrations to it
(platform/database, as agentidp migrate up does), writes the orgs and agents rows with COPY
in one transaction (so an interrupted seed leaves nothing), then VACUUM ANALYZE. It writes
those tables directly, bypassing the services: there is no audit event of any of it, no
credential and no root organization (the server makes root at its first start). Run again
with the same sizes on a seeded database, it finds the rows and does nothing; it refuses a
database holding anything else.

`

// seedOptions are the flags of the seed command.
type seedOptions struct {
	orgs, perOrg int
	databaseURL  string
	seed         uint64
}

func runSeed(args []string) {
	fs := flag.NewFlagSet("seed", flag.ExitOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), seedUsage)
		fs.PrintDefaults()
	}
	var o seedOptions
	fs.IntVar(&o.orgs, "orgs", 1000, "organizations")
	fs.IntVar(&o.perOrg, "agents-per-org", 1000, "agents in each organization")
	fs.StringVar(&o.databaseURL, "database-url", "", "the database to seed (default: agentidp_seed_<orgs>x<agents-per-org> on the server of AGENTIDP_TEST_DATABASE_URL, else 127.0.0.1:5432)")
	seed := fs.Uint64("seed", 1, "random seed of the names, owners and statuses")
	_ = fs.Parse(args)
	o.seed = *seed
	if o.orgs < 1 || o.perOrg < 1 || o.orgs > 1_000_000 || o.orgs*o.perOrg > 100_000_000 {
		fmt.Fprintln(os.Stderr, "agentidp-bench seed: -orgs and -agents-per-org must be at least 1, and at most 100 million agents in all")
		os.Exit(2)
	}
	if o.databaseURL == "" {
		o.databaseURL = defaultSeedURL(o.orgs, o.perOrg)
	}
	if err := seedDatabase(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "agentidp-bench seed:", err)
		os.Exit(1)
	}
}

// defaultSeedURL names the seeded database after its sizes, on the test server.
func defaultSeedURL(orgs, perOrg int) string {
	return defaultDatabaseURL(fmt.Sprintf("agentidp_seed_%dx%d", orgs, perOrg))
}

// defaultDatabaseURL is the database name on the test server.
func defaultDatabaseURL(name string) string {
	u, err := url.Parse(envOr("AGENTIDP_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"))
	if err != nil {
		return ""
	}
	u.Path = "/" + name
	return u.String()
}

var plainIdent = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// ensureDatabase creates the database of dbURL on its server when it does not exist.
func ensureDatabase(ctx context.Context, dbURL string) error {
	u, err := url.Parse(dbURL)
	if err != nil {
		return fmt.Errorf("-database-url: %v", err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if !plainIdent.MatchString(name) {
		return fmt.Errorf("-database-url: the database name %q is not a plain lower-case identifier", name)
	}
	u.Path = "/postgres"
	admin, err := sql.Open("pgx", u.String())
	if err != nil {
		return err
	}
	defer admin.Close()
	var exists bool
	if err := admin.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("reaching PostgreSQL: %w", err)
	}
	if exists {
		return nil
	}
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return fmt.Errorf("creating database %s: %w", name, err)
	}
	fmt.Printf("created database %s\n", name)
	return nil
}

func seedDatabase(ctx context.Context, o seedOptions) error {
	start := time.Now()
	if err := ensureDatabase(ctx, o.databaseURL); err != nil {
		return err
	}
	db, err := database.OpenPostgres(ctx, o.databaseURL, 2, 2, time.Minute)
	if err != nil {
		return err
	}
	applied, err := database.MigrateUp(ctx, db)
	db.Close()
	if err != nil {
		return err
	}
	fmt.Printf("migrations applied: %d\n", len(applied))

	conn, err := pgx.Connect(ctx, o.databaseURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var orgCount, agentCount int64
	if err := conn.QueryRow(ctx, "SELECT (SELECT count(*) FROM orgs WHERE org_id <> $1), (SELECT count(*) FROM agents)",
		rootOrgID).Scan(&orgCount, &agentCount); err != nil {
		return err
	}
	switch {
	case orgCount == int64(o.orgs) && agentCount == int64(o.orgs*o.perOrg):
		fmt.Printf("already seeded: %d organizations, %d agents; nothing to do\n", orgCount, agentCount)
		return nil
	case orgCount > 0 || agentCount > 0:
		return fmt.Errorf("the database already holds %d organizations besides root and %d agents, not the %d and %d asked for: "+
			"seed only an empty database (drop this one, or name another with -database-url)", orgCount, agentCount, o.orgs, o.orgs*o.perOrg)
	}

	g := newSeedGen(o, time.Now().UTC().Truncate(time.Second))
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"orgs"}, orgColumns, pgx.CopyFromRows(g.orgRows())); err != nil {
		return fmt.Errorf("copying orgs: %w", err)
	}
	total := o.orgs * o.perOrg
	const batch = 100_000
	for done := 0; done < total; {
		n := min(batch, total-done)
		t0 := time.Now()
		copied, err := tx.CopyFrom(ctx, pgx.Identifier{"agents"}, agentColumns, g.agents(n))
		if err != nil {
			return fmt.Errorf("copying agents: %w", err)
		}
		done += int(copied)
		fmt.Printf("agents: %d of %d (%.0f rows/s)\n", done, total, float64(copied)/time.Since(t0).Seconds())
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	fmt.Printf("committed after %s; VACUUM ANALYZE\n", time.Since(start).Round(time.Second))
	if _, err := conn.Exec(ctx, "VACUUM (ANALYZE) orgs, agents"); err != nil {
		return err
	}
	fmt.Printf("seeded %s: %d organizations × %d agents in %s\n", dbName(o.databaseURL), o.orgs, o.perOrg, time.Since(start).Round(time.Second))
	return nil
}

// rootOrgID is the root organization's fixed id (modules/orgs.RootID).
const rootOrgID = "00000000-0000-0000-0000-000000000001"

var (
	orgColumns   = []string{"org_id", "name", "name_lower", "status", "max_agents", "metadata", "created_at", "updated_at"}
	agentColumns = []string{"agent_id", "org_id", "name", "name_lower", "description", "owner", "status",
		"allowed_scopes", "allowed_audiences", "plan", "metadata", "is_admin", "created_at", "updated_at", "tokens_not_before"}
)

// Word lists of the generated names. An agent is "<Team> <Role> <nnnn>", nnnn its rank in
// its organization, so a whole name is found in about one organization, and a role in 1/30
// of the agents.
var (
	seedTeams = []string{"payments", "billing", "support", "search", "ingest", "fraud", "pricing", "catalog",
		"shipping", "returns", "identity", "marketing", "sales", "finance", "legal", "security", "compliance",
		"analytics", "reporting", "inventory", "onboarding", "growth", "platform", "infra", "data", "research",
		"docs", "people", "recruiting", "procurement", "operations", "reliability", "mobile", "web", "partners",
		"risk", "tax", "treasury", "crm", "notifications"}
	seedRoles = []string{"reconciler", "summarizer", "triager", "classifier", "scheduler", "watcher", "indexer",
		"crawler", "planner", "reviewer", "translator", "router", "notifier", "auditor", "forecaster", "extractor",
		"validator", "enricher", "deduplicator", "archiver", "escalator", "tagger", "ranker", "monitor",
		"responder", "collector", "syncer", "exporter", "importer", "assistant"}
	seedOwners = []string{"ana.garcia@example.com", "bo.chen@example.com", "carla.rossi@example.com",
		"dev.patel@example.com", "emma.muller@example.com", "femi.adeyemi@example.com", "gustav.berg@example.com",
		"hana.sato@example.com", "ivan.petrov@example.com", "julia.santos@example.com", "kofi.mensah@example.com",
		"lea.dubois@example.com", "mateo.lopez@example.com", "nina.kowalski@example.com", "omar.haddad@example.com",
		"priya.nair@example.com", "quinn.oneill@example.com", "rosa.fernandez@example.com", "sam.taylor@example.com",
		"platform-team@example.com"}
	seedOrgWords = [][]string{
		{"Northwind", "Blue", "Harbor", "Granite", "Summit", "Cedar", "Atlas", "Lumen", "Orbit", "Pioneer",
			"Silver", "Vertex", "Willow", "Crimson", "Aurora", "Beacon", "Cobalt", "Delta", "Ember", "Falcon"},
		{"Logistics", "Analytics", "Health", "Robotics", "Labs", "Finance", "Energy", "Media", "Systems",
			"Foods", "Mobility", "Security", "Retail", "Insurance", "Travel", "Games", "Bio", "Cloud", "Legal", "Works"},
	}
	seedScopes = []string{`["agents:read"]`, `[]`, `["agents:read", "credentials:read"]`, `["apis:read"]`,
		`["agents:read", "agents:write", "credentials:read", "credentials:write"]`}
	seedMetadata = []string{`{}`, `{}`, `{"env": "prod"}`, `{"env": "staging"}`, `{"cost_center": "cc-1042", "env": "prod"}`}
)

// seedGen makes the rows, deterministic for a seed and an end time: the agents in order of
// creation, each organization's agents spread over the whole period.
type seedGen struct {
	o       seedOptions
	rng     *rand.Rand
	end     time.Time
	span    time.Duration
	orgIDs  []pgtype.UUID
	orgOf   []int32 // the organization of the k-th agent created
	nextNum []int32 // per organization, the rank of its next agent
	k       int     // agents made so far
}

func newSeedGen(o seedOptions, end time.Time) *seedGen {
	g := &seedGen{o: o, rng: rand.New(rand.NewPCG(o.seed, 0x5eed)), end: end, span: 365 * 24 * time.Hour}
	g.orgOf = make([]int32, o.orgs*o.perOrg)
	for i := range g.orgOf {
		g.orgOf[i] = int32(i / o.perOrg)
	}
	g.rng.Shuffle(len(g.orgOf), func(i, j int) { g.orgOf[i], g.orgOf[j] = g.orgOf[j], g.orgOf[i] })
	g.nextNum = make([]int32, o.orgs)
	return g
}

// uuidV7 is a version-7 UUID for t (RFC 9562: 48 bits of Unix milliseconds, then random).
func (g *seedGen) uuidV7(t time.Time) pgtype.UUID {
	var b [16]byte
	binary.BigEndian.PutUint64(b[0:8], uint64(t.UnixMilli())<<16|g.rng.Uint64()&0xffff)
	binary.BigEndian.PutUint64(b[8:16], g.rng.Uint64())
	b[6] = b[6]&0x0f | 0x70
	b[8] = b[8]&0x3f | 0x80
	return pgtype.UUID{Bytes: b, Valid: true}
}

// orgRows makes the organizations, created in the 30 days before the first agent.
func (g *seedGen) orgRows() [][]any {
	rows := make([][]any, g.o.orgs)
	g.orgIDs = make([]pgtype.UUID, g.o.orgs)
	first := g.end.Add(-g.span)
	for i := range rows {
		at := first.Add(-time.Duration(g.rng.Int64N(int64(30 * 24 * time.Hour)))).Truncate(time.Microsecond)
		w := seedOrgWords
		name := fmt.Sprintf("%s %s %04d", w[0][i%len(w[0])], w[1][(i/len(w[0]))%len(w[1])], i+1)
		g.orgIDs[i] = g.uuidV7(at)
		rows[i] = []any{g.orgIDs[i], name, strings.ToLower(name), "active", int32(g.o.perOrg), "{}", at, at}
	}
	return rows
}

// agents is a COPY source of the next n agents.
func (g *seedGen) agents(n int) pgx.CopyFromSource {
	return &agentSource{g: g, left: n}
}

type agentSource struct {
	g    *seedGen
	left int
	row  []any
}

func (s *agentSource) Next() bool {
	if s.left == 0 {
		return false
	}
	s.left--
	s.row = s.g.agent()
	return true
}

func (s *agentSource) Values() ([]any, error) { return s.row, nil }
func (s *agentSource) Err() error             { return nil }

// agent makes the next agent in order of creation.
func (g *seedGen) agent() []any {
	total := len(g.orgOf)
	if g.k >= total {
		panic(errors.New("seed: more agents asked for than planned"))
	}
	r := g.rng
	// The k-th agent is created in the k-th of total equal slots of the period.
	slot := float64(g.span) / float64(total)
	at := g.end.Add(-g.span).Add(time.Duration((float64(g.k) + r.Float64()) * slot)).Truncate(time.Microsecond)
	org := g.orgOf[g.k]
	g.k++
	num := g.nextNum[org] + 1
	g.nextNum[org] = num

	team, role := seedTeams[r.IntN(len(seedTeams))], seedRoles[r.IntN(len(seedRoles))]
	name := fmt.Sprintf("%s %s %04d", upperFirst(team), upperFirst(role), num)
	desc := ""
	if r.IntN(10) < 7 {
		desc = fmt.Sprintf("The %s team's %s.", team, role)
	}
	status, updated := "active", at
	var notBefore any // NULL
	switch p := r.IntN(100); {
	case p >= 97:
		status = "decommissioned"
	case p >= 90:
		status = "suspended"
	}
	if status != "active" {
		updated = at.Add(time.Duration(r.Float64() * float64(g.end.Sub(at)))).Truncate(time.Microsecond)
		notBefore = updated
	}
	plan := "free"
	if r.IntN(100) < 15 {
		plan = "unlimited"
	}
	return []any{g.uuidV7(at), g.orgIDs[org], name, strings.ToLower(name), desc,
		seedOwners[r.IntN(len(seedOwners))], status, seedScopes[r.IntN(len(seedScopes))], "[]", plan,
		seedMetadata[r.IntN(len(seedMetadata))], false, at, updated, notBefore}
}

func upperFirst(s string) string { return strings.ToUpper(s[:1]) + s[1:] }
