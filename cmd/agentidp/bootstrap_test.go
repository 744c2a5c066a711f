package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/modules/credentials"
	"github.com/agentidp/agentidp/platform/testenv"
)

// runCLI runs the agentidp command line with args and returns its standard output.
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	root := rootCmd()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&out)
	err := root.Execute()
	return out.String(), err
}

// cliEnv points the CLI at a fresh store: embedded SQLite in a temp dir, or a fresh
// PostgreSQL database (with the pepper and master key it then requires).
func cliEnv(t *testing.T, backend string) {
	for _, k := range []string{"AGENTIDP_DATABASE_URL", "AGENTIDP_REDIS_URL", "VAULT_ADDR", "VAULT_TOKEN",
		"AGENTIDP_BOOTSTRAP_CLIENT_ID", "AGENTIDP_BOOTSTRAP_CLIENT_SECRET", "AGENTIDP_MASTER_KEY", "AGENTIDP_SECRET_PEPPER"} {
		t.Setenv(k, "")
	}
	t.Setenv("AGENTIDP_DATA_DIR", t.TempDir())
	t.Setenv("AGENTIDP_LOG_LEVEL", "error")
	if backend == "postgres" {
		t.Setenv("AGENTIDP_DATABASE_URL", testenv.PostgresURL(t))
		t.Setenv("AGENTIDP_MASTER_KEY", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
		t.Setenv("AGENTIDP_SECRET_PEPPER", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32)))
	}
}

var cliLine = regexp.MustCompile(`^bootstrap admin: client_id=[0-9a-f-]{36} client_secret=sk_live_[A-Za-z0-9_-]{43}\n$`)

func TestBootstrapCommand(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			cliEnv(t, backend)
			out, err := runCLI(t, "bootstrap")
			if err != nil || !cliLine.MatchString(out) {
				t.Fatalf("first bootstrap: %q, %v", out, err)
			}
			out, err = runCLI(t, "bootstrap")
			if err == nil || !strings.Contains(err.Error(), "admin agent already exists") || strings.Contains(out, "client_secret=") {
				t.Fatalf("second bootstrap: %q, %v; want a refusal", out, err)
			}
		})
	}
}

func TestBootstrapCommandFromEnvironment(t *testing.T) {
	cliEnv(t, "sqlite")
	id, secret := uuid.NewString(), "sk_live_"+strings.Repeat("k", 40)+"E2e"
	t.Setenv("AGENTIDP_BOOTSTRAP_CLIENT_ID", id)
	t.Setenv("AGENTIDP_BOOTSTRAP_CLIENT_SECRET", secret)
	out, err := runCLI(t, "bootstrap")
	want := "bootstrap admin: client_id=" + id + " client_secret=(from AGENTIDP_BOOTSTRAP_CLIENT_SECRET)\n"
	if err != nil || out != want {
		t.Fatalf("got %q, %v; want %q", out, err, want)
	}
}

// bootstrap --reset refuses without an admin; with one, it prints a new secret for the same
// admin, the old secret stops authenticating, the new one works, and the audit log records
// the revocation and the new credential.
func TestBootstrapReset(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			cliEnv(t, backend)
			if out, err := runCLI(t, "bootstrap", "--reset"); err == nil || !strings.Contains(err.Error(), "no bootstrap admin") || strings.Contains(out, "client_secret=") {
				t.Fatalf("reset without an admin: %q, %v", out, err)
			}
			first, err := runCLI(t, "bootstrap")
			if err != nil {
				t.Fatal(err)
			}
			second, err := runCLI(t, "bootstrap", "--reset")
			if err != nil || !cliLine.MatchString(second) {
				t.Fatalf("reset: %q, %v", second, err)
			}
			id1, secret1 := parseLine(first)
			id2, secret2 := parseLine(second)
			if id1 != id2 || secret1 == secret2 {
				t.Fatalf("reset: same admin with a new secret wanted, got %s/%s", id1, id2)
			}
			var v credentials.Verifier
			var db *bun.DB
			root := rootCmd()
			root.SetContext(context.Background())
			err = withApp(root, func(ctx context.Context) error {
				if _, err := v.Verify(ctx, id1, secret1); !errors.Is(err, credentials.ErrInvalidClient) {
					return fmt.Errorf("the old secret after reset: %v", err)
				}
				if _, err := v.Verify(ctx, id2, secret2); err != nil {
					return fmt.Errorf("the new secret: %v", err)
				}
				for action, want := range map[string]int64{"credential.revoked": 1, "credential.created": 2} {
					n, err := db.NewSelect().Table("audit_events").Where("agent_id = ?", id1).Where("action = ?", action).Count(ctx)
					if err != nil || n != want {
						return fmt.Errorf("%s events: %d, %v; want %d", action, n, err, want)
					}
				}
				return nil
			}, &v, &db)
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

func parseLine(line string) (id, secret string) {
	f := strings.Fields(strings.TrimSpace(line))
	return strings.TrimPrefix(f[2], "client_id="), strings.TrimPrefix(f[3], "client_secret=")
}
