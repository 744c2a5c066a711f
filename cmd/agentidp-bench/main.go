// Command agentidp-bench is the load benchmark (`make bench`): it starts the real server on
// PostgreSQL + Redis over loopback, creates agents, and drives it for a fixed time with a
// fixed number of connections, measuring token issuance (RS256 and EdDSA), introspection
// and a protected read, with the server's peak RSS. In the same run it measures a minimal
// Go HTTP handler that only signs a JWT per request — the ceiling on this machine — and
// prints every figure as a ratio to it. For each measured window it also reports the CPU
// time the server (or ceiling), PostgreSQL and Redis spent per request, which varies much
// less from run to run than req/s; -binary a=PATH,b=PATH -rounds N compares builds, run
// alternately, with a summary of medians. Traffic goes only to 127.0.0.1; every phase is
// bounded in time and the command stops the processes it started.
//
// Subcommands: `ceiling` is the bare signing handler (started by the benchmark itself);
// `seed` fills a PostgreSQL database with organizations and agents, and `list` measures
// GET /api/v1/agents and its SQL on it (docs/performance.md, "1,000 organizations × 1,000
// agents"); `audit-seed` fills a database's audit log through the audit module's Recorder,
// and `audit-scale` measures checkpoint signing, proofs, following and the offline export
// verification on it (docs/performance.md, "Audit log at 10 M events").
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

type options struct {
	duration    time.Duration
	warmup      time.Duration
	conns       int
	agents      int
	builds      []build // -binary; none: build ./cmd/agentidp
	rounds      int
	databaseURL string
	redisURL    string
	pprofDir    string
	peers       []string
	hydraBin    string
	algs        []string
	scenarios   map[string]bool
	revocations int
}

// wants reports whether scenario (token, token-pkjwt, token-dpop, introspect, get, idle) was asked for.
func (o options) wants(scenario string) bool { return o.scenarios[scenario] }

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "ceiling":
			runCeiling(os.Args[2:])
			return
		case "seed":
			runSeed(os.Args[2:])
			return
		case "list":
			runList(os.Args[2:])
			return
		case "audit-seed":
			runAuditSeed(os.Args[2:])
			return
		case "audit-scale":
			runAuditScale(os.Args[2:])
			return
		}
	}
	var o options
	flag.DurationVar(&o.duration, "duration", 15*time.Second, "measuring time per scenario")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "warm-up time per scenario (not measured)")
	flag.IntVar(&o.conns, "conns", 32, "concurrent connections")
	flag.IntVar(&o.agents, "agents", 32, "agents created (token requests spread over them)")
	flag.IntVar(&o.revocations, "revocations", 0, "unexpired token revocations written to the server's database before the scenarios (what every replica keeps in memory)")
	binary := flag.String("binary", "", "agentidp binaries to run, comma-separated, each path or label=path (default: go build ./cmd/agentidp)")
	flag.IntVar(&o.rounds, "rounds", 1, "rounds: each measures every ceiling once and every binary of -binary in turn (A B A B …), then a summary table")
	flag.StringVar(&o.databaseURL, "database-url", envOr("AGENTIDP_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"),
		"PostgreSQL server URL; a fresh database is created and dropped")
	flag.StringVar(&o.redisURL, "redis-url", envOr("AGENTIDP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"), "Redis URL; keys live under a fresh prefix")
	flag.StringVar(&o.pprofDir, "pprof-dir", "", "if set, save a CPU profile of the server for each server scenario here")
	peers := flag.String("peers", "", "comma-separated other servers to measure the same way: oidc-provider (needs Node), hydra (needs -hydra-bin)")
	flag.StringVar(&o.hydraBin, "hydra-bin", "", "Ory Hydra v2 binary for -peers hydra")
	algs := flag.String("algs", "RS256,EdDSA", "signing algorithms to measure, each with its own ceiling; introspection and the read run with the first")
	scenarios := flag.String("scenarios", "token,introspect,get", "server scenarios to measure: token, token-pkjwt (a private_key_jwt ES256 assertion instead of the secret), token-dpop (the secret and an ES256 DPoP proof), introspect, get, idle (no requests: the background work's CPU per second)")
	flag.Parse()
	o.peers, o.algs = list(*peers), list(*algs)
	var err error
	if o.builds, err = parseBuilds(*binary); err != nil {
		fmt.Fprintln(os.Stderr, "agentidp-bench:", err)
		os.Exit(2)
	}
	if o.rounds < 1 {
		fmt.Fprintln(os.Stderr, "agentidp-bench: -rounds must be at least 1")
		os.Exit(2)
	}
	o.scenarios = map[string]bool{}
	for _, s := range list(*scenarios) {
		o.scenarios[s] = true
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "agentidp-bench:", err)
		os.Exit(1)
	}
}

// list splits a comma-separated flag value.
func list(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
