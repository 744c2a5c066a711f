package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentidp/agentidp/modules/audit"
)

// A command that opens the store, run with no configuration at all, refuses instead of
// creating an empty ./data (and reporting an empty log as OK); with AGENTIDP_DATA_DIR naming
// a directory without a store, the audit readers still refuse and migrate creates it.
func TestAuditCommandsRefuseWithoutAStore(t *testing.T) {
	cliEnv(t, "sqlite")
	t.Setenv("AGENTIDP_DATA_DIR", "")
	dir := t.TempDir()
	t.Chdir(dir)
	for _, f := range []string{"cp", "key"} {
		if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{
		{"audit", "verify"}, {"audit", "checkpoint"}, {"audit", "dump"},
		{"audit", "verify", "--checkpoint", "cp", "--key", "key"}, {"audit", "new-origin", "--force"},
		{"migrate", "up"}, {"bootstrap"}, {"keys", "rotate"},
	} {
		out, err := runCLI(t, args...)
		if !errors.Is(err, errNoStore) || strings.Contains(out, "OK") {
			t.Errorf("%v: %q, %v; want a refusal", args, out, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
		t.Fatalf("./data was created: %v", err)
	}

	t.Setenv("AGENTIDP_DATA_DIR", filepath.Join(dir, "store"))
	if out, err := runCLI(t, "audit", "verify"); !errors.Is(err, errNoStore) {
		t.Errorf("audit verify with an empty AGENTIDP_DATA_DIR: %q, %v; want a refusal", out, err)
	}
	if out, err := runCLI(t, "migrate", "up"); err != nil {
		t.Fatalf("migrate with AGENTIDP_DATA_DIR set: %q, %v", out, err)
	}
	if out, err := runCLI(t, "audit", "verify"); err != nil {
		t.Errorf("audit verify after migrate: %q, %v", out, err)
	}
}

// Checkpoints taken by the CLI prove the log later: verify against one from the store and
// from an export with no database, consistency between two; an edited export is caught.
func TestAuditCheckpointVerifyAndConsistency(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			cliEnv(t, backend)
			dir := t.TempDir()
			save := func(name string, args ...string) string {
				t.Helper()
				out, err := runCLI(t, args...)
				if err != nil {
					t.Fatalf("%v: %q %v", args, out, err)
				}
				path := filepath.Join(dir, name)
				if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
					t.Fatal(err)
				}
				return path
			}
			save("boot", "bootstrap")
			cp1 := save("cp1", "audit", "checkpoint")
			key := save("key", "audit", "checkpoint", "--key")
			save("rotate", "keys", "rotate")
			cp2 := save("cp2", "audit", "checkpoint")

			if out, err := runCLI(t, "audit", "consistency", cp1, cp2, "--key", key); err != nil || !strings.HasPrefix(out, "consistent") {
				t.Fatalf("consistency: %q %v", out, err)
			}
			if out, err := runCLI(t, "audit", "consistency", cp2, cp1, "--key", key); err == nil {
				t.Fatalf("consistency NEW OLD: %q, want a refusal", out)
			}
			if out, err := runCLI(t, "audit", "verify", "--checkpoint", cp2, "--key", key); err != nil || !strings.HasPrefix(out, "audit log OK") {
				t.Fatalf("verify against the store: %q %v", out, err)
			}
			export := save("export", "audit", "dump")

			// No database from here on: an unreachable one, an empty data dir.
			t.Setenv("AGENTIDP_DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
			t.Setenv("AGENTIDP_DATA_DIR", t.TempDir())
			if out, err := runCLI(t, "audit", "verify", "--export", export, "--checkpoint", cp1, "--key", key); err != nil || !strings.HasPrefix(out, "audit log OK") {
				t.Fatalf("verify the export: %q %v", out, err)
			}
			raw, _ := os.ReadFile(export)
			edited := filepath.Join(dir, "edited")
			_ = os.WriteFile(edited, []byte(strings.Replace(string(raw), `"outcome":"success"`, `"outcome":"failure"`, 1)), 0o600)
			if out, err := runCLI(t, "audit", "verify", "--export", edited, "--checkpoint", cp1, "--key", key); !errors.Is(err, errLogBroken) || !strings.Contains(out, "BROKEN") {
				t.Fatalf("verify an edited export: %q %v", out, err)
			}
			lines := strings.SplitAfter(strings.TrimSpace(string(raw)), "\n")
			short := filepath.Join(dir, "short")
			_ = os.WriteFile(short, []byte(strings.Join(lines[:len(lines)-1], "")), 0o600)
			if out, err := runCLI(t, "audit", "verify", "--export", short, "--checkpoint", cp2, "--key", key); !errors.Is(err, errLogBroken) || !strings.Contains(out, "truncated") {
				t.Fatalf("verify a short export: %q %v", out, err)
			}

			// The same export is root's whole (every event here is root's): --org finds its
			// org_seq contiguous, and reports a line taken out of the middle as a gap.
			const root = "00000000-0000-0000-0000-000000000001"
			if out, err := runCLI(t, "audit", "verify", "--export", export, "--org", root); err != nil ||
				!strings.HasPrefix(out, "organization export OK") || !strings.Contains(out, fmt.Sprintf("org_seq 1 to %d contiguous", len(lines))) {
				t.Fatalf("verify root's export: %q %v", out, err)
			}
			gap := filepath.Join(dir, "gap")
			_ = os.WriteFile(gap, []byte(strings.Join(append(append([]string{}, lines[:1]...), lines[2:]...), "")), 0o600)
			if out, err := runCLI(t, "audit", "verify", "--export", gap, "--org", root); !errors.Is(err, errOrgExportBroken) ||
				!strings.Contains(out, "BROKEN at seq 3: deleted: org_seq 3 where org_seq 2 was expected") {
				t.Fatalf("verify root's export without its second event: %q %v", out, err)
			}
			if out, err := runCLI(t, "audit", "verify", "--export", export, "--org", "00000000-0000-0000-0000-0000000000ff"); !errors.Is(err, errOrgExportBroken) || !strings.Contains(out, "foreign") {
				t.Fatalf("verify root's export as another organization's: %q %v", out, err)
			}
			if out, err := runCLI(t, "audit", "verify", "--export", export, "--org", root, "--checkpoint", cp1, "--key", key); err == nil {
				t.Fatalf("--org with --checkpoint: %q, want a refusal", out)
			}
		})
	}
}

// On a log consistent with its checkpoints, new-origin is refused and changes nothing;
// with --force it starts <host>/audit/2, whose key the store serves and signs with from
// then on, and records audit.origin_started.
func TestAuditNewOrigin(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			cliEnv(t, backend)
			run := func(args ...string) string {
				t.Helper()
				out, err := runCLI(t, args...)
				if err != nil {
					t.Fatalf("%v: %q %v", args, out, err)
				}
				return out
			}
			run("bootstrap")
			cp1 := run("audit", "checkpoint")
			key1 := run("audit", "checkpoint", "--key")
			first := strings.SplitN(key1, "+", 2)[0]
			if !strings.HasSuffix(first, "/audit") {
				t.Fatalf("first key %q", key1)
			}
			dump := run("audit", "dump")

			out, err := runCLI(t, "audit", "new-origin")
			if !errors.Is(err, audit.ErrOriginConsistent) {
				t.Fatalf("new-origin on a healthy log: %q %v, want a refusal", out, err)
			}
			if k := run("audit", "checkpoint", "--key"); k != key1 {
				t.Fatalf("the refused new-origin changed the key: %q, was %q", k, key1)
			}
			if d := run("audit", "dump"); d != dump {
				t.Fatal("the refused new-origin changed the log")
			}

			out = run("audit", "new-origin", "--force")
			origin := first + "/2"
			if !strings.HasPrefix(out, "new audit origin "+origin+" ") || !strings.Contains(out, "verifier key: "+origin+"+") {
				t.Fatalf("new-origin --force: %q, want origin %s", out, origin)
			}
			key2 := run("audit", "checkpoint", "--key")
			if !strings.HasPrefix(key2, origin+"+") || !strings.Contains(out, strings.TrimSpace(key2)) {
				t.Fatalf("key after new-origin %q; new-origin said %q", key2, out)
			}
			cp2 := run("audit", "checkpoint")
			if !strings.HasPrefix(cp2, origin+"\n") || cp2 == cp1 {
				t.Fatalf("checkpoint after new-origin: %q", cp2)
			}
			if d := run("audit", "dump"); !strings.Contains(d, `"action":"audit.origin_started"`) || !strings.Contains(d, `"previous_origin":"`) {
				t.Fatalf("no audit.origin_started in the log:\n%s", d)
			}
			keyFile := filepath.Join(t.TempDir(), "key")
			_ = os.WriteFile(keyFile, []byte(key2), 0o600)
			cpFile := filepath.Join(t.TempDir(), "cp")
			_ = os.WriteFile(cpFile, []byte(cp2), 0o600)
			if out := run("audit", "verify", "--checkpoint", cpFile, "--key", keyFile); !strings.HasPrefix(out, "audit log OK") {
				t.Fatalf("verify against the new origin's checkpoint: %q", out)
			}
		})
	}
}
