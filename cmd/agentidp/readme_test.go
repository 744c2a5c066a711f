package main_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// quickStart is the README's quick start: the sh block after the quickstart marker.
func quickStart(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(raw), "<!-- quickstart:")
	if !ok {
		t.Fatal("README.md has no quickstart marker")
	}
	m := regexp.MustCompile("(?s)```sh\n(.*?)```").FindStringSubmatch(after)
	if m == nil {
		t.Fatal("no sh block after the quickstart marker")
	}
	return m[1]
}

// The README's quick start, run as pasted by bash at the repository's root with a fresh HOME
// (so a fresh ~/agentidp-quickstart): every command succeeds, the revoked token is refused,
// and the audit log shows the agent's story.
func TestReadmeQuickStart(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "sed"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the quick start needs %s: %v", tool, err)
		}
	}
	script := quickStart(t)
	home := t.TempDir()
	addr := freeAddr(t)
	cmd := exec.Command("bash", "-c", "set -euo pipefail\n"+script)
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home,
		"GOCACHE=" + goEnv(t, "GOCACHE"), "GOMODCACHE=" + goEnv(t, "GOMODCACHE"),
		// Another port than 8080 (which may be taken here), set as the README says.
		"AGENTIDP_HTTP_ADDR=" + addr, "AGENTIDP_URL=http://" + addr,
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	select {
	case err := <-done:
		if err != nil {
			log, _ := os.ReadFile(filepath.Join(home, "agentidp-quickstart", "server.log"))
			t.Fatalf("the quick start failed: %v\n%s\nserver log:\n%s", err, out.String(), log)
		}
	case <-time.After(5 * time.Minute):
		t.Fatalf("the quick start did not finish:\n%s", out.String())
	}
	got := out.String()
	for _, want := range []string{`"items":[`, `"name":"billing-bot"`, "after revocation: 401", "agent.created", "credential.created", "token.issued", "token.revoked"} {
		if !strings.Contains(got, want) {
			t.Fatalf("the quick start's output lacks %q:\n%s", want, got)
		}
	}
}

func goEnv(t *testing.T, name string) string {
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}
