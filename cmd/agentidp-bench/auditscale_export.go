package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// timed is what /usr/bin/time -v reported of one command.
type timed struct {
	wall, user, sys time.Duration
	peakRSSKiB      int64
}

// parseTimeV reads the fields of /usr/bin/time -v's report the figures need.
func parseTimeV(report string) (timed, error) {
	var t timed
	seen := 0
	for _, line := range strings.Split(report, "\n") {
		name, value, ok := strings.Cut(strings.TrimSpace(line), ": ")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch {
		case name == "User time (seconds)":
			t.user = seconds(value)
			seen++
		case name == "System time (seconds)":
			t.sys = seconds(value)
			seen++
		case name == "Maximum resident set size (kbytes)":
			t.peakRSSKiB, _ = strconv.ParseInt(value, 10, 64)
			seen++
		case strings.HasPrefix(name, "Elapsed (wall clock) time"):
			// h:mm:ss or m:ss.ss
			var total float64
			for _, part := range strings.Split(value, ":") {
				v, err := strconv.ParseFloat(part, 64)
				if err != nil {
					return t, fmt.Errorf("/usr/bin/time: wall clock %q", value)
				}
				total = total*60 + v
			}
			t.wall = time.Duration(total * float64(time.Second))
			seen++
		}
	}
	if seen < 4 {
		return t, fmt.Errorf("/usr/bin/time -v report without the expected fields: %.300q", report)
	}
	return t, nil
}

func seconds(v string) time.Duration {
	f, _ := strconv.ParseFloat(v, 64)
	return time.Duration(f * float64(time.Second))
}

// runTimed runs bin with args under /usr/bin/time -v, its output to stdout (a file, or
// nil to keep it), with env.
func runTimed(ctx context.Context, dir string, env []string, stdout *os.File, bin string, args ...string) (timed, string, error) {
	report := filepath.Join(dir, "time-v.txt")
	cmd := exec.CommandContext(ctx, "/usr/bin/time", append([]string{"-v", "-o", report, bin}, args...)...)
	cmd.Env = env
	var out strings.Builder
	if stdout != nil {
		cmd.Stdout = stdout
	} else {
		cmd.Stdout = &out
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return timed{}, out.String(), fmt.Errorf("%s %s: %w", filepath.Base(bin), strings.Join(args, " "), err)
	}
	raw, err := os.ReadFile(report)
	if err != nil {
		return timed{}, out.String(), err
	}
	t, err := parseTimeV(string(raw))
	return t, out.String(), err
}

// cliEnv is the environment of the agentidp CLI: the store's, or none (for verify --export).
func cliEnv(dbURL string, s benchSecrets) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir(), "AGENTIDP_LOG_LEVEL=warn"}
	if dbURL != "" {
		env = append(env, "AGENTIDP_DATABASE_URL="+dbURL, "AGENTIDP_MASTER_KEY="+s.masterKey,
			"AGENTIDP_SECRET_PEPPER="+s.pepper, "AGENTIDP_ISSUER=http://127.0.0.1:8080")
	}
	return env
}

// measureExport dumps the log with the CLI and verifies the dump against a checkpoint with
// no database, each under /usr/bin/time -v.
func measureExport(ctx context.Context, o auditScaleOptions, secrets benchSecrets, bin string) error {
	dir, err := os.MkdirTemp(o.workDir, "agentidp-audit-export-")
	if err != nil {
		return err
	}
	if !o.keepExport {
		defer os.RemoveAll(dir)
	}
	store := cliEnv(o.databaseURL, secrets)
	// The server is stopped: the checkpoint signed now covers the whole log, which the dump
	// then holds exactly.
	_, cp, err := runTimed(ctx, dir, store, nil, bin, "audit", "checkpoint")
	if err != nil {
		return err
	}
	_, key, err := runTimed(ctx, dir, store, nil, bin, "audit", "checkpoint", "--key")
	if err != nil {
		return err
	}
	cpFile, keyFile, export := filepath.Join(dir, "checkpoint.txt"), filepath.Join(dir, "key.txt"), filepath.Join(dir, "events.ndjson")
	if err := os.WriteFile(cpFile, []byte(cp), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(keyFile, []byte(key), 0o600); err != nil {
		return err
	}
	events, err := strconv.ParseInt(checkpointSize(cp), 10, 64)
	if err != nil {
		return fmt.Errorf("checkpoint %q: %w", cp, err)
	}
	fmt.Printf("\nexport and offline verification of %d events (%s)\n", events, machineState())

	f, err := os.Create(export)
	if err != nil {
		return err
	}
	dump, _, err := runTimed(ctx, dir, store, f, bin, "audit", "dump")
	f.Close()
	if err != nil {
		return err
	}
	st, err := os.Stat(export)
	if err != nil {
		return err
	}
	verify, out, err := runTimed(ctx, dir, cliEnv("", secrets), nil, bin, "audit", "verify", "--export", export,
		"--checkpoint", cpFile, "--key", keyFile)
	if err != nil {
		return fmt.Errorf("%w: %s", err, out)
	}
	fmt.Printf("verify: %s", out)
	fmt.Printf("| command | events | file | wall | user CPU | system CPU | events/s (wall) | peak RSS |\n")
	fmt.Println("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, r := range []struct {
		name string
		t    timed
	}{{"agentidp audit dump > FILE", dump}, {"agentidp audit verify --export FILE --checkpoint F --key K (no database)", verify}} {
		fmt.Printf("| %s | %d | %.0f MiB | %s | %s | %s | %.0f | %.0f MiB |\n", r.name, events, float64(st.Size())/(1<<20),
			r.t.wall.Round(100*time.Millisecond), r.t.user.Round(100*time.Millisecond), r.t.sys.Round(100*time.Millisecond),
			float64(events)/r.t.wall.Seconds(), float64(r.t.peakRSSKiB)/1024)
	}
	if o.keepExport {
		fmt.Printf("kept %s\n", dir)
	}
	return nil
}
