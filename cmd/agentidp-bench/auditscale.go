package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

const auditScaleUsage = `usage: agentidp-bench audit-scale [-database-url URL] [-secrets-dir DIR] [-binary PATH] [-parts LIST]

Measures the audit log of a database that agentidp-bench audit-seed filled (same -database-url
and -secrets-dir), in these parts, each bounded in time, traffic to 127.0.0.1 only:

  checkpoint  with no server running, the audit module in this process (the application as the
              CLI commands assemble it): -signs times, one event recorded through the
              Recorder, then Proofs.SignCheckpoint timed (wall; this process's CPU from
              getrusage; the database's backends' CPU from /proc);
  proofs      the server binary started on the database: GET /api/v1/audit/proof/inclusion
              (random seq, tree_size = the latest checkpoint's size) and /proof/consistency
              (random from < to ≤ that size), -proofs requests each, one client then
              -clients concurrent clients: latency percentiles, server and PostgreSQL CPU per
              proof;
  follow      the token load (POST /api/v1/token, -conns connections over -agents agents)
              for -follow-window, with 0 then -followers clients of
              GET /api/v1/audit/export?follow=true&after_seq=<head>, alternated -rounds
              times: server CPU per token, and each follower's count of events received
              (it must receive every event from the head on, in order);
  export      with the server stopped: 'agentidp audit checkpoint' (and --key), then
              'agentidp audit dump' to a file and 'agentidp audit verify --export FILE
              --checkpoint F --key K' (no database) under /usr/bin/time -v: wall, CPU,
              peak RSS, events/s, the file's size. The file is deleted afterwards unless
              -keep-export.

`

// auditScaleOptions are the flags of the audit-scale command.
type auditScaleOptions struct {
	databaseURL, secretsDir, binary, redisURL, workDir string
	parts                                              map[string]bool
	signs, proofs, clients                             int
	followers, conns, agents, rounds                   int
	followWindow                                       time.Duration
	keepExport                                         bool
}

func runAuditScale(args []string) {
	fs := flag.NewFlagSet("audit-scale", flag.ExitOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), auditScaleUsage)
		fs.PrintDefaults()
	}
	var o auditScaleOptions
	fs.StringVar(&o.databaseURL, "database-url", "", "the database audit-seed filled (required)")
	fs.StringVar(&o.secretsDir, "secrets-dir", filepath.Join(os.TempDir(), "agentidp-audit-scale"), "audit-seed's -secrets-dir (master key, pepper; the admin's credential is kept there too)")
	fs.StringVar(&o.binary, "binary", "", "the agentidp binary (default: go build ./cmd/agentidp)")
	fs.StringVar(&o.redisURL, "redis-url", envOr("AGENTIDP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"), "Redis URL for the server; keys live under a fresh prefix")
	fs.StringVar(&o.workDir, "work-dir", os.TempDir(), "where the export, checkpoint and key files are written")
	parts := fs.String("parts", "checkpoint,proofs,follow,export", "parts to run, in this order")
	fs.IntVar(&o.signs, "signs", 20, "checkpoints signed in the checkpoint part")
	fs.IntVar(&o.proofs, "proofs", 5000, "requests of each proof kind, for each client count")
	fs.IntVar(&o.clients, "clients", 8, "concurrent clients of the second proof run")
	fs.IntVar(&o.followers, "followers", 10, "followers of the follow part")
	fs.IntVar(&o.conns, "conns", 16, "token requests' connections in the follow part")
	fs.IntVar(&o.agents, "agents", 16, "agents created for the token load")
	fs.IntVar(&o.rounds, "rounds", 2, "rounds of (0 followers, -followers followers)")
	fs.DurationVar(&o.followWindow, "follow-window", 15*time.Second, "measured token load per follow window (after 2 s of warm-up)")
	fs.BoolVar(&o.keepExport, "keep-export", false, "keep the export file")
	_ = fs.Parse(args)
	o.parts = map[string]bool{}
	for _, p := range list(*parts) {
		o.parts[p] = true
	}
	if o.databaseURL == "" || o.signs < 1 || o.proofs < 1 || o.clients < 1 || o.followers < 1 || o.conns < 1 || o.agents < 1 || o.rounds < 1 {
		fmt.Fprintln(os.Stderr, "agentidp-bench audit-scale: -database-url is required; counts must be at least 1")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := auditScale(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "agentidp-bench audit-scale:", err)
		os.Exit(1)
	}
}

func auditScale(ctx context.Context, o auditScaleOptions) error {
	secrets, err := loadSecrets(o.secretsDir)
	if err != nil {
		return err
	}
	bin := o.binary
	if bin == "" {
		dir, err := os.MkdirTemp("", "agentidp-audit-scale-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		builds, err := buildServers(ctx, options{}, dir)
		if err != nil {
			return fmt.Errorf("building the server: %w", err)
		}
		bin = builds[0].path
	}
	fmt.Printf("agentidp-bench audit-scale on %s (%s)\n", dbName(o.databaseURL), machineState())
	if o.parts["checkpoint"] {
		if err := measureSigning(ctx, o, secrets); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
	}
	if o.parts["proofs"] || o.parts["follow"] {
		if err := measureServed(ctx, o, secrets, bin); err != nil {
			return err
		}
	}
	if o.parts["export"] {
		if err := measureExport(ctx, o, secrets, bin); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	return nil
}

// machineState is the load average, for the figures' context.
func machineState() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "load average unknown"
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "load average unknown"
	}
	return "load average " + strings.Join(f[:3], " ")
}

// adminCredential is the bootstrap admin of the measured server, kept in the secrets
// directory: the server makes it at its first start on the database, later starts find it.
func adminCredential(dir string) (id, secret string, err error) {
	idFile, secretFile := filepath.Join(dir, "admin.id"), filepath.Join(dir, "admin.secret")
	if raw, err := os.ReadFile(idFile); err == nil {
		s, err := os.ReadFile(secretFile)
		return strings.TrimSpace(string(raw)), strings.TrimSpace(string(s)), err
	}
	id, secret = newUUID(), newSecret()
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		return "", "", err
	}
	return id, secret, os.WriteFile(idFile, []byte(id+"\n"), 0o600)
}
