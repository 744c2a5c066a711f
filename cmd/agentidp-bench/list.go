package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/platform/database"
)

const listUsage = `usage: agentidp-bench list [flags]

Measures GET /api/v1/agents?limit=50 on a database made by agentidp-bench seed, with no
filter and with each of status, owner, q (a common word) and q-rare (a whole name, found in
about one organization), on the first page and on a deep page (the cursor reached by
following next_cursor -depth times, or the last page when the list is shorter), for two
callers: root, the bootstrap admin (orgs:admin: every organization), and org, an agent of
one organization holding agents:read (its list: WHERE org_id = that organization); part
http also has root ?org_id=, the bootstrap admin narrowing its list to that organization.

Part sql runs the repository's query itself (the text bun builds for it, through the same
driver as the server) -reps times per combination, one at a time, on the seeded database,
and reports p50, p99 and max, and the database backends' CPU per query. It has a third
caller, org (N orgs): the org query spread over -org-sample organizations, one after the
other, whose pages the database's buffers do not all hold.

Part http copies the seeded database (CREATE DATABASE … TEMPLATE), starts the server on the
copy (as the load benchmark does), makes the org caller through the API as the bootstrap
admin (an agent of the organization with agents:read and a credential), and drives each
combination from -conns connections for -duration after -warmup: req/s, p50, p99 and the
CPU time per request of the server, PostgreSQL and Redis. Until the server narrows an
organization's caller's list to its organization, the org rows list every organization;
the command says which it saw.

`

type listOptions struct {
	databaseURL, redisURL, binary string
	parts                         map[string]bool
	depth, reps, orgSample, conns int
	duration, warmup              time.Duration
	org, status, owner, q, qRare  string
}

func runList(args []string) {
	fs := flag.NewFlagSet("list", flag.ExitOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), listUsage)
		fs.PrintDefaults()
	}
	var o listOptions
	fs.StringVar(&o.databaseURL, "database-url", defaultSeedURL(1000, 1000), "the seeded database (agentidp-bench seed); part http works on a copy")
	fs.StringVar(&o.redisURL, "redis-url", envOr("AGENTIDP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"), "Redis URL; keys live under a fresh prefix")
	fs.StringVar(&o.binary, "binary", "", "agentidp binary to run (default: go build ./cmd/agentidp)")
	parts := fs.String("parts", "sql,http", "what to measure: sql, http")
	fs.IntVar(&o.depth, "depth", 200, "next_cursor pages followed to the deep page")
	fs.IntVar(&o.reps, "reps", 2000, "part sql: queries per combination")
	fs.IntVar(&o.orgSample, "org-sample", 100, "part sql: organizations of the org (N orgs) caller")
	fs.IntVar(&o.conns, "conns", 4, "part http: concurrent connections")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "part http: measuring time per combination")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "part http: warm-up time per combination (not measured)")
	fs.StringVar(&o.org, "org", "", "the org caller's organization id (default: the first seeded organization by name)")
	fs.StringVar(&o.status, "status", "suspended", "the status filter's value")
	fs.StringVar(&o.owner, "owner", "", "the owner filter's value (default: the most frequent owner)")
	fs.StringVar(&o.q, "q", "reconciler", "the q filter's value")
	fs.StringVar(&o.qRare, "q-rare", "", "the q-rare filter's value (default: the name of the oldest agent, lower-cased)")
	_ = fs.Parse(args)
	o.parts = map[string]bool{}
	for _, p := range list(*parts) {
		if p != "sql" && p != "http" {
			fmt.Fprintf(os.Stderr, "agentidp-bench list: -parts: unknown part %q (sql, http)\n", p)
			os.Exit(2)
		}
		o.parts[p] = true
	}
	if o.depth < 1 || o.reps < 1 || o.orgSample < 1 || o.conns < 1 {
		fmt.Fprintln(os.Stderr, "agentidp-bench list: -depth, -reps, -org-sample and -conns must be at least 1")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := listBench(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "agentidp-bench list:", err)
		os.Exit(1)
	}
}

// listCase is one filter of the list, without its organization.
type listCase struct {
	name string
	f    listFilter
}

// listSetup is what the benchmark found in the seeded database.
type listSetup struct {
	agents    int64
	org       string
	orgSample []string
	cases     []listCase
}

func listBench(ctx context.Context, o listOptions) error {
	db, err := database.OpenPostgres(ctx, o.databaseURL, 4, 4, time.Minute)
	if err != nil {
		return err
	}
	s, err := prepareList(ctx, db, &o)
	if err != nil {
		db.Close()
		return err
	}
	fmt.Printf("agentidp-bench list: %s, %d agents; org caller: organization %s; status=%s, owner=%s, q=%s, q-rare=%s; deep page: up to %d next_cursor hops\n\n",
		dbName(o.databaseURL), s.agents, s.org, o.status, o.owner, o.q, o.qRare, o.depth)
	if o.parts["sql"] {
		err = listSQL(ctx, db, o, s)
	}
	db.Close()
	if err != nil {
		return err
	}
	if o.parts["http"] {
		return listHTTP(ctx, o, s)
	}
	return nil
}

// prepareList picks the defaults of the flags from the seeded database.
func prepareList(ctx context.Context, db *bun.DB, o *listOptions) (*listSetup, error) {
	s := &listSetup{}
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM agents").Scan(&s.agents); err != nil {
		return nil, fmt.Errorf("reading the seeded database: %w", err)
	}
	if s.agents == 0 {
		return nil, fmt.Errorf("%s holds no agents: run agentidp-bench seed first", dbName(o.databaseURL))
	}
	if o.org == "" {
		if err := db.QueryRowContext(ctx, "SELECT org_id FROM orgs WHERE org_id <> ? ORDER BY name_lower LIMIT 1", rootOrgID).Scan(&o.org); err != nil {
			return nil, fmt.Errorf("no organization besides root: %w", err)
		}
	}
	s.org = o.org
	if o.owner == "" {
		if err := db.QueryRowContext(ctx, "SELECT owner FROM agents GROUP BY owner ORDER BY count(*) DESC, owner LIMIT 1").Scan(&o.owner); err != nil {
			return nil, err
		}
	}
	if o.qRare == "" {
		if err := db.QueryRowContext(ctx, "SELECT name_lower FROM agents ORDER BY created_at, agent_id LIMIT 1").Scan(&o.qRare); err != nil {
			return nil, err
		}
	}
	o.q, o.qRare = strings.ToLower(o.q), strings.ToLower(o.qRare)
	rows, err := db.QueryContext(ctx, "SELECT org_id FROM orgs WHERE org_id <> ? ORDER BY md5(org_id::text) LIMIT ?", rootOrgID, o.orgSample)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		s.orgSample = append(s.orgSample, id)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	s.cases = []listCase{
		{"none", listFilter{}},
		{"status=" + o.status, listFilter{Status: o.status}},
		{"owner", listFilter{Owner: o.owner}},
		{"q=" + o.q, listFilter{Query: o.q}},
		{"q-rare", listFilter{Query: o.qRare}},
	}
	return s, nil
}

// listSQL measures the repository's query on the seeded database.
func listSQL(ctx context.Context, db *bun.DB, o listOptions, s *listSetup) error {
	m := &meter{db: dbName(o.databaseURL)}
	fmt.Printf("Part sql: the repository's query, %d times per combination, one at a time (PostgreSQL: the seeded database's backends)\n\n", o.reps)
	fmt.Println("| caller | filter | page | rows | p50 | p99 | max | PostgreSQL µs/query | idle |")
	fmt.Println("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	callers := []struct {
		name string
		orgs []string
	}{{"root", []string{""}}, {"org", []string{s.org}}, {fmt.Sprintf("org (%d orgs)", len(s.orgSample)), s.orgSample}}
	warm := min(o.reps/10+1, 200)
	for _, c := range callers {
		for _, lc := range s.cases {
			first := make([]listFilter, len(c.orgs))
			deep := make([]listFilter, 0, len(c.orgs))
			minPage, maxPage := 0, 0
			for i, org := range c.orgs {
				f := lc.f
				f.OrgID = org
				first[i] = f
				d, page, err := sqlDeep(ctx, db, f, o.depth)
				if err != nil {
					return fmt.Errorf("%s %s: following the pages: %w", c.name, lc.name, err)
				}
				if page > 1 {
					deep = append(deep, d)
					if minPage == 0 || page < minPage {
						minPage = page
					}
					maxPage = max(maxPage, page)
				}
			}
			r, err := measureSQL(ctx, db, first, o.reps, warm, m)
			if err != nil {
				return fmt.Errorf("%s %s: %w", c.name, lc.name, err)
			}
			printSQLRow(c.name, lc.name, "1", r)
			pages := fmt.Sprint(maxPage)
			if minPage != maxPage {
				pages = fmt.Sprintf("%d–%d", minPage, maxPage)
			}
			if len(deep) == 0 {
				fmt.Printf("| %s | %s | (one page) | | | | | | |\n", c.name, lc.name)
				continue
			}
			if r, err = measureSQL(ctx, db, deep, o.reps, warm, m); err != nil {
				return fmt.Errorf("%s %s deep: %w", c.name, lc.name, err)
			}
			printSQLRow(c.name, lc.name, pages, r)
		}
	}
	fmt.Println()
	return nil
}

func printSQLRow(caller, filter, page string, r sqlResult) {
	idle := "-"
	if !math.IsNaN(r.idle) {
		idle = fmt.Sprintf("%.0f %%", 100*r.idle)
	}
	fmt.Printf("| %s | %s | %s | %.0f | %s | %s | %s | %s | %s |\n", caller, filter, page, r.rows, round(r.p50), round(r.p99), round(r.max),
		micros(r.pgPerQuery), idle)
}

// copyDatabase makes a copy of the seeded database for the server, and returns its URL and
// a dropper. The seeded database must have no other session meanwhile.
func copyDatabase(ctx context.Context, seededURL string) (string, func(), error) {
	u, err := url.Parse(seededURL)
	if err != nil {
		return "", nil, err
	}
	seeded := strings.TrimPrefix(u.Path, "/")
	if !plainIdent.MatchString(seeded) {
		return "", nil, fmt.Errorf("-database-url: the database name %q is not a plain lower-case identifier", seeded)
	}
	u.Path = "/postgres"
	admin, err := sql.Open("pgx", u.String())
	if err != nil {
		return "", nil, err
	}
	name := "agentidp_bench_" + randHex(6)
	t0 := time.Now()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name+" TEMPLATE "+seeded+" STRATEGY FILE_COPY"); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("copying %s: %w", seeded, err)
	}
	fmt.Fprintf(os.Stderr, "copied %s into %s in %s\n", seeded, name, time.Since(t0).Round(100*time.Millisecond))
	u.Path = "/" + name
	drop := func() {
		_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		admin.Close()
	}
	return u.String(), drop, nil
}

// listHTTP measures GET /api/v1/agents on the server, on a copy of the seeded database.
func listHTTP(ctx context.Context, o listOptions, s *listSetup) error {
	dir, err := os.MkdirTemp("", "agentidp-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var builds []build
	if o.binary != "" {
		builds = []build{{label: "agentidp", path: o.binary}}
	}
	builds, err = buildServers(ctx, options{builds: builds}, dir)
	if err != nil {
		return fmt.Errorf("building the server: %w", err)
	}
	dbURL, drop, err := copyDatabase(ctx, o.databaseURL)
	if err != nil {
		return err
	}
	defer drop()
	rdb := redisClient(o.redisURL)
	if rdb != nil {
		defer rdb.Close()
	}
	env := serverEnv{bin: builds[0].path, databaseURL: dbURL, redisURL: o.redisURL, redisPrefix: "agentidp-bench:" + randHex(4) + ":",
		alg: "EdDSA", adminID: newUUID(), adminSecret: newSecret(), masterKey: randKey(), pepper: randKey()}
	p, err := startServer(ctx, env)
	if err != nil {
		return err
	}
	defer p.stop()
	base := "http://" + p.addr
	root, err := getToken(base, env.adminID, env.adminSecret, "")
	if err != nil {
		return fmt.Errorf("bootstrap admin token: %w", err)
	}
	orgAdmin, err := createOrgReader(base, root, s.org)
	if err != nil {
		return err
	}
	filtered, err := listedOrgs(base, orgAdmin)
	if err != nil {
		return err
	}
	note := "holds only its organization"
	if len(filtered) != 1 || filtered[0] != s.org {
		note = fmt.Sprintf("is NOT narrowed to its organization by this build (the first page held %d organizations): its rows measure every organization's list", len(filtered))
	}
	fmt.Printf("Part http: %d connections, %s per combination (+%s warm-up), server on a copy of the seeded database; the org caller's list %s\n\n",
		o.conns, o.duration, o.warmup, note)

	m := &meter{pid: p.pid(), db: dbName(dbURL), rdb: rdb}
	var rows []row
	callers := []struct{ name, token, org string }{{"root", root, ""}, {"root ?org_id=", root, s.org}, {"org", orgAdmin, ""}}
	for _, c := range callers {
		for _, lc := range s.cases {
			q := url.Values{"limit": {fmt.Sprint(listPageSize)}}
			if c.org != "" {
				q.Set("org_id", c.org)
			}
			if lc.f.Status != "" {
				q.Set("status", lc.f.Status)
			}
			if lc.f.Owner != "" {
				q.Set("owner", lc.f.Owner)
			}
			if lc.f.Query != "" {
				q.Set("q", lc.f.Query)
			}
			first := base + "/api/v1/agents?" + q.Encode()
			deep, page, err := httpDeep(base, c.token, q, o.depth)
			if err != nil {
				return fmt.Errorf("%s %s: following next_cursor: %w", c.name, lc.name, err)
			}
			for _, pg := range []struct {
				label, url string
			}{{"page 1", first}, {fmt.Sprintf("page %d", page), deep}} {
				if pg.url == "" {
					continue
				}
				name := fmt.Sprintf("%s: %s, %s", c.name, lc.name, pg.label)
				token, u := c.token, pg.url
				r := drive(ctx, name, o.conns, o.warmup, o.duration, m, func(int) (*http.Request, error) {
					req, err := http.NewRequest(http.MethodGet, u, nil)
					if err != nil {
						return nil, err
					}
					req.Header.Set("Authorization", "Bearer "+token)
					return req, nil
				})
				rows = append(rows, row{result: r, group: name})
			}
		}
	}
	rows[len(rows)-1].rssMiB = p.peakRSS()
	printTable(rows)
	return nil
}

// createOrgReader makes, as the bootstrap admin, an agent of org holding agents:read with a
// credential, and returns its token.
func createOrgReader(base, admin, org string) (string, error) {
	body := fmt.Sprintf(`{"name":"listbench reader","org_id":%q,"plan":"unlimited","allowed_scopes":["agents:read"]}`, org)
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/agents", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+admin)
	var agent struct {
		ID    string `json:"agent_id"`
		OrgID string `json:"org_id"`
	}
	if err := call(req, 201, &agent); err != nil {
		return "", fmt.Errorf("creating the org caller: %w", err)
	}
	if agent.OrgID != org {
		return "", fmt.Errorf("creating the org caller: it went into organization %s, not %s", agent.OrgID, org)
	}
	req, _ = http.NewRequest(http.MethodPost, base+"/api/v1/agents/"+agent.ID+"/credentials", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	var cred struct {
		Secret string `json:"client_secret"`
	}
	if err := call(req, 201, &cred); err != nil {
		return "", fmt.Errorf("issuing the org caller's credential: %w", err)
	}
	tok, err := getToken(base, agent.ID, cred.Secret, "")
	if err != nil {
		return "", fmt.Errorf("the org caller's token: %w", err)
	}
	return tok, nil
}

// agentsPage is one page of GET /api/v1/agents, as much as the benchmark reads of it.
type agentsPage struct {
	Items []struct {
		OrgID string `json:"org_id"`
	} `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func getAgents(u, token string) (agentsPage, error) {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	var p agentsPage
	err := call(req, 200, &p)
	return p, err
}

// listedOrgs lists the organizations on the first page of token's list.
func listedOrgs(base, token string) ([]string, error) {
	p, err := getAgents(base+"/api/v1/agents?limit=200", token)
	if err != nil {
		return nil, err
	}
	var orgs []string
	seen := map[string]bool{}
	for _, it := range p.Items {
		if !seen[it.OrgID] {
			seen[it.OrgID] = true
			orgs = append(orgs, it.OrgID)
		}
	}
	return orgs, nil
}

// httpDeep follows next_cursor from the first page of q up to depth times and returns the
// URL of the deepest page reached and its number; "" when the list has one page.
func httpDeep(base, token string, q url.Values, depth int) (string, int, error) {
	q = cloneValues(q)
	page := 1
	for page <= depth {
		p, err := getAgents(base+"/api/v1/agents?"+q.Encode(), token)
		if err != nil {
			return "", 0, err
		}
		if p.NextCursor == nil {
			break
		}
		q.Set("cursor", *p.NextCursor)
		page++
	}
	if page == 1 {
		return "", 1, nil
	}
	return base + "/api/v1/agents?" + q.Encode(), page, nil
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
