package checks

import (
	"context"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

const composeFile = "../compose.yaml"

// composeEnv is what deploy/.env holds once made from .env.example.
var composeEnv = map[string]string{
	"AGENTIDP_MASTER_KEY":    "bWFzdGVyLWtleS1tYXN0ZXIta2V5LW1hc3Rlci1rZXk=",
	"AGENTIDP_SECRET_PEPPER": "cGVwcGVyLXBlcHBlci1wZXBwZXItcGVwcGVyLXBlcHA=",
	"AGENTIDP_METRICS_TOKEN": "metrics-token",
	"POSTGRES_PASSWORD":      "pgpassword",
}

// loadCompose loads the compose file as `docker compose` does, with env as the only
// environment (never a developer's deploy/.env).
func loadCompose(t *testing.T, env map[string]string) (*types.Project, error) {
	t.Helper()
	var list []string
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	opts, err := cli.NewProjectOptions([]string{composeFile}, cli.WithEnv(list), cli.WithWorkingDirectory(".."))
	if err != nil {
		t.Fatal(err)
	}
	return opts.LoadProject(context.Background())
}

func TestComposeReplicas(t *testing.T) {
	p, err := loadCompose(t, composeEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"agentidp-1", "agentidp-2", "lb", "postgres", "redis"}
	if got := slices.Sorted(func(yield func(string) bool) {
		for name := range p.Services {
			if !yield(name) {
				return
			}
		}
	}); !slices.Equal(got, want) {
		t.Fatalf("services %v, want %v", got, want)
	}
	for _, name := range []string{"agentidp-1", "agentidp-2"} {
		s := p.Services[name]
		if hc := s.HealthCheck; hc == nil || !slices.Equal([]string(hc.Test), []string{"CMD", "/usr/local/bin/agentidp", "healthcheck"}) {
			t.Errorf("%s: health check %v, want agentidp healthcheck", name, s.HealthCheck)
		}
		for _, dep := range []string{"postgres", "redis"} {
			if d, ok := s.DependsOn[dep]; !ok || d.Condition != types.ServiceConditionHealthy {
				t.Errorf("%s: does not wait for a healthy %s", name, dep)
			}
		}
		for k, v := range composeEnv {
			if k == "POSTGRES_PASSWORD" {
				continue
			}
			if got := s.Environment[k]; got == nil || *got != v {
				t.Errorf("%s: %s not taken from the environment (.env)", name, k)
			}
		}
		if url := s.Environment["AGENTIDP_DATABASE_URL"]; url == nil || !strings.Contains(*url, ":pgpassword@postgres:5432/") {
			t.Errorf("%s: the database URL does not carry POSTGRES_PASSWORD", name)
		}
		if !s.ReadOnly || !slices.Equal(s.CapDrop, []string{"ALL"}) {
			t.Errorf("%s: read_only %v, cap_drop %v", name, s.ReadOnly, s.CapDrop)
		}
		if len(s.Ports) > 0 {
			t.Errorf("%s: publishes %v; only the load balancer does", name, s.Ports)
		}
	}
	lb := p.Services["lb"]
	for _, dep := range []string{"agentidp-1", "agentidp-2"} {
		if d, ok := lb.DependsOn[dep]; !ok || d.Condition != types.ServiceConditionHealthy {
			t.Errorf("lb: does not wait for a healthy %s", dep)
		}
	}
	for _, name := range []string{"postgres", "redis"} {
		s := p.Services[name]
		if s.HealthCheck == nil || len(s.HealthCheck.Test) == 0 || len(s.Ports) > 0 {
			t.Errorf("%s: wants a health check and no published port", name)
		}
		if len(s.Volumes) != 1 || s.Volumes[0].Type != types.VolumeTypeVolume {
			t.Errorf("%s: data not in a named volume: %+v", name, s.Volumes)
		}
	}
}

// TestComposeRefusesWithoutItsKeys: with a key missing, compose stops before starting
// anything (instead of generating a new one on every `up`), naming the variable.
func TestComposeRefusesWithoutItsKeys(t *testing.T) {
	for name := range composeEnv {
		env := map[string]string{}
		for k, v := range composeEnv {
			if k != name {
				env[k] = v
			}
		}
		if _, err := loadCompose(t, env); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("loaded without %s (err %v)", name, err)
		}
	}
}

// TestComposeEnvExampleListsEveryVariable: every variable the compose file reads is in
// .env.example, and the example holds no value for a secret.
func TestComposeEnvExampleListsEveryVariable(t *testing.T) {
	compose, err := os.ReadFile(composeFile)
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]string{}
	for _, line := range strings.Split(string(example), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			declared[k] = v
		}
	}
	for _, m := range regexp.MustCompile(`\$\{([A-Z_]+)`).FindAllStringSubmatch(string(compose), -1) {
		if _, ok := declared[m[1]]; !ok {
			t.Errorf("compose reads %s, which .env.example does not list", m[1])
		}
	}
	for k, v := range declared {
		if secretName.MatchString(strings.ToLower(k)) && v != "" {
			t.Errorf(".env.example holds a value for %s", k)
		}
	}
}

func TestComposeKeepsMetricsOffThePublicPort(t *testing.T) {
	conf, err := os.ReadFile("../nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`location = /metrics \{\s*return 404;`).Match(conf) {
		t.Error("nginx passes /metrics through")
	}
	dockerfile, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(dockerfile), `HEALTHCHECK`) || !strings.Contains(string(dockerfile), `"healthcheck"]`) {
		t.Error("the image's HEALTHCHECK does not run agentidp healthcheck")
	}
}

// TestDockerignore reads the root .dockerignore with Docker's own matcher: secrets and local
// state stay out of the build context, what the Go build needs stays in.
func TestDockerignore(t *testing.T) {
	f, err := os.Open("../../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	for path, excluded := range map[string]bool{
		"data/master.key":             true,
		"data/secret.pepper":          true,
		"data/agentidp.db":            true,
		".git/HEAD":                   true,
		".env":                        true,
		"deploy/.env":                 true,
		"tls/server.key":              true,
		"dashboard/node_modules/a.js": true,
		"cmd/agentidp-bench/peers/node/node_modules/x/y.js":   true,
		"deploy/terraform/environments/aws/terraform.tfstate": true,
		"go.mod":                       false,
		"go.sum":                       false,
		"cmd/agentidp/main.go":         false,
		"dashboard/dist/index.html":    false,
		"dashboard/embed.go":           false,
		"policies/data/scopes.json":    false,
		"policies/authz.rego":          false,
		"migrations/postgres/x.up.sql": false,
	} {
		got, err := pm.MatchesOrParentMatches(path)
		if err != nil {
			t.Fatal(err)
		}
		if got != excluded {
			t.Errorf("%s: excluded %v, want %v", path, got, excluded)
		}
	}
}
