package config

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func testEnv(kv ...string) []string {
	return append([]string{"AGENTIDP_DATA_DIR=" + os.TempDir() + "/agentidp-config-test"}, kv...)
}

func TestDefaults(t *testing.T) {
	cfg, err := Load("", []string{"AGENTIDP_DATA_DIR=" + t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTPAddr != ":8080" || cfg.Issuer != "http://localhost:8080" || cfg.TokenTTL != time.Hour ||
		cfg.SigningAlg != "RS256" || cfg.KeyPublishDelay != 10*time.Second || cfg.FreeTierMaxAgents != 100 ||
		cfg.FreeTierMonthlyTokens != 10000 || cfg.VaultMount != "secret" || !cfg.AutoMigrate || !cfg.Embedded() ||
		cfg.AuthFailuresPerClientIP != 10 || cfg.AuthFailuresPerIP != 100 || cfg.AuthFailureWindow != time.Minute ||
		cfg.ClientAssertionMaxAge != 300*time.Second || cfg.FederatedMaxLifetime != time.Hour || cfg.JWKSAllowPrivate {
		t.Fatalf("unexpected defaults: %+v", cfg)
	}
}

func TestEmbeddedSecretsGeneratedOnceAndReused(t *testing.T) {
	dir := t.TempDir()
	a, err := Load("", []string{"AGENTIDP_DATA_DIR=" + dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.MasterKey) != 32 || len(a.SecretPepper) != 32 {
		t.Fatalf("secrets not generated: %d %d", len(a.MasterKey), len(a.SecretPepper))
	}
	st, err := os.Stat(filepath.Join(dir, "master.key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("master.key: %v %v", err, st)
	}
	b, err := Load("", []string{"AGENTIDP_DATA_DIR=" + dir})
	if err != nil {
		t.Fatal(err)
	}
	if string(a.MasterKey) != string(b.MasterKey) || string(a.SecretPepper) != string(b.SecretPepper) {
		t.Fatal("secrets changed between starts")
	}
}

func TestPostgresRequiresSecrets(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(make([]byte, 32))
	_, err := Load("", testEnv("AGENTIDP_DATABASE_URL=postgres://u:p@db:5432/x"))
	if err == nil || !strings.HasPrefix(err.Error(), "AGENTIDP_MASTER_KEY: required") {
		t.Fatalf("want a master key error, got %v", err)
	}
	_, err = Load("", testEnv("AGENTIDP_DATABASE_URL=postgres://u:p@db:5432/x", "AGENTIDP_MASTER_KEY="+key))
	if err == nil || !strings.HasPrefix(err.Error(), "AGENTIDP_SECRET_PEPPER: required") {
		t.Fatalf("want a pepper error, got %v", err)
	}
	cfg, err := Load("", testEnv("AGENTIDP_DATABASE_URL=postgres://u:p@db:5432/x", "AGENTIDP_MASTER_KEY="+key, "AGENTIDP_SECRET_PEPPER="+key))
	if err != nil || cfg.Embedded() {
		t.Fatalf("got %v", err)
	}
}

// Every bad value stops the load with one line that names the variable and never echoes a
// secret.
func TestBadValuesNameTheVariable(t *testing.T) {
	cases := map[string]string{
		"AGENTIDP_TOKEN_TTL":                "abc",
		"AGENTIDP_HTTP_ADDR":                "8080",
		"AGENTIDP_ISSUER":                   "ftp://x",
		"AGENTIDP_SIGNING_ALG":              "HS256",
		"AGENTIDP_LOG_FORMAT":               "xml",
		"AGENTIDP_LOG_LEVEL":                "loud",
		"AGENTIDP_DATABASE_URL":             "mysql://user:hunter2@x/y",
		"AGENTIDP_REDIS_URL":                "http://user:hunter2@x",
		"AGENTIDP_FREE_TIER_MAX_AGENTS":     "0",
		"AGENTIDP_FREE_TIER_MONTHLY_TOKENS": "-5",
		"AGENTIDP_TOKEN_RATE_LIMIT":         "0",
		"AGENTIDP_CORS_ORIGINS":             "not a url",
		"AGENTIDP_TRUSTED_PROXIES":          "10.0.0.0/99",
		"AGENTIDP_MASTER_KEY":               "c2hvcnQ=",
		"AGENTIDP_BOOTSTRAP_CLIENT_ID":      "nope",
		"AGENTIDP_BOOTSTRAP_CLIENT_SECRET":  "hunter2",
		"AGENTIDP_AUTO_MIGRATE":             "perhaps",
		"AGENTIDP_CLIENT_ASSERTION_MAX_AGE": "2h",
		"AGENTIDP_FEDERATED_MAX_LIFETIME":   "1s",
		"AGENTIDP_JWKS_ALLOW_PRIVATE":       "maybe",
		// The brute-force guard: the pair's budget, its version-1 name, the per-IP bucket.
		"AGENTIDP_AUTH_FAILURES_PER_CLIENT_IP": "0",
		"AGENTIDP_AUTH_FAILURES_PER_CLIENT":    "0",
		"AGENTIDP_AUTH_FAILURES_PER_IP":        "-1",
		"AGENTIDP_AUTH_FAILURE_WINDOW":         "0s",
		"VAULT_ADDR":                           "http://127.0.0.1:8200",
	}
	for name, val := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Load("", testEnv(name+"="+val))
			if err == nil {
				t.Fatalf("%s=%q accepted", name, val)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, name+":") || strings.Contains(msg, "\n") {
				t.Fatalf("want one line starting with %s:, got %q", name, msg)
			}
			if strings.Contains(msg, "hunter2") {
				t.Fatalf("error echoes a secret: %q", msg)
			}
		})
	}
}

// More bad values of the brute-force guard's variables, each refused with one line naming
// it (not parsable, out of range).
func TestBadAuthFailureValues(t *testing.T) {
	for _, kv := range []string{
		"AGENTIDP_AUTH_FAILURES_PER_CLIENT_IP=ten",
		"AGENTIDP_AUTH_FAILURES_PER_CLIENT_IP=1000001",
		"AGENTIDP_AUTH_FAILURES_PER_IP=0",
		"AGENTIDP_AUTH_FAILURES_PER_IP=many",
		"AGENTIDP_AUTH_FAILURES_PER_CLIENT=-3",
		"AGENTIDP_AUTH_FAILURES_PER_CLIENT=1.5",
	} {
		name, _, _ := strings.Cut(kv, "=")
		t.Run(kv, func(t *testing.T) {
			_, err := Load("", testEnv(kv))
			if err == nil {
				t.Fatalf("%s accepted", kv)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, name+":") || strings.Contains(msg, "\n") {
				t.Fatalf("want one line starting with %s:, got %q", name, msg)
			}
		})
	}
	// A bad version-1 value is named as itself even though the new name is set.
	_, err := Load("", testEnv("AGENTIDP_AUTH_FAILURES_PER_CLIENT=0", "AGENTIDP_AUTH_FAILURES_PER_CLIENT_IP=5"))
	if err == nil || !strings.HasPrefix(err.Error(), "AGENTIDP_AUTH_FAILURES_PER_CLIENT:") {
		t.Fatalf("got %v", err)
	}
}

// The version-1 per-client budget, where set, is the pair's budget; the new name wins when
// both are set; neither: the default. The same through the YAML file.
func TestVersion1PerClientBudget(t *testing.T) {
	for _, c := range []struct {
		env  []string
		want int
	}{
		{nil, 10},
		{[]string{"AGENTIDP_AUTH_FAILURES_PER_CLIENT=4"}, 4},
		{[]string{"AGENTIDP_AUTH_FAILURES_PER_CLIENT_IP=6"}, 6},
		{[]string{"AGENTIDP_AUTH_FAILURES_PER_CLIENT=4", "AGENTIDP_AUTH_FAILURES_PER_CLIENT_IP=6"}, 6},
		{[]string{"AGENTIDP_AUTH_FAILURES_PER_CLIENT="}, 10}, // empty: not set
	} {
		cfg, err := Load("", testEnv(c.env...))
		if err != nil {
			t.Fatalf("%v: %v", c.env, err)
		}
		if cfg.AuthFailuresPerClientIP != c.want {
			t.Errorf("%v: pair budget %d, want %d", c.env, cfg.AuthFailuresPerClientIP, c.want)
		}
	}
	file := filepath.Join(t.TempDir(), "agentidp.yaml")
	if err := os.WriteFile(file, []byte("auth_failures_per_client: 3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(file, testEnv())
	if err != nil || cfg.AuthFailuresPerClientIP != 3 {
		t.Fatalf("version-1 name in the file: %v, pair budget %d, want 3", err, cfg.AuthFailuresPerClientIP)
	}
	cfg, err = Load(file, testEnv("AGENTIDP_AUTH_FAILURES_PER_CLIENT_IP=7"))
	if err != nil || cfg.AuthFailuresPerClientIP != 7 {
		t.Fatalf("new name in the environment, version-1 name in the file: %v, pair budget %d, want 7", err, cfg.AuthFailuresPerClientIP)
	}
}

func TestYAMLFileAndEnvironmentWins(t *testing.T) {
	file := filepath.Join(t.TempDir(), "agentidp.yaml")
	yaml := "token_ttl: 15m\nAGENTIDP_HTTP_ADDR: \":9090\"\ncors_origins:\n  - https://a.example\n  - https://b.example\nfree_tier_max_agents: 5\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(file, testEnv("AGENTIDP_FREE_TIER_MAX_AGENTS=7"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TokenTTL != 15*time.Minute || cfg.HTTPAddr != ":9090" || len(cfg.CORSOrigins) != 2 || cfg.FreeTierMaxAgents != 7 {
		t.Fatalf("got %+v", cfg)
	}
}

func TestYAMLUnknownKeyRejected(t *testing.T) {
	file := filepath.Join(t.TempDir(), "agentidp.yaml")
	if err := os.WriteFile(file, []byte("tokn_ttl: 15m\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(file, testEnv()); err == nil || !strings.Contains(err.Error(), `unknown setting "tokn_ttl"`) {
		t.Fatalf("got %v", err)
	}
}

func TestExampleFileLoads(t *testing.T) {
	if _, err := Load("../../config/agentidp.example.yaml", testEnv()); err != nil {
		t.Fatalf("config/agentidp.example.yaml: %v", err)
	}
}

// The example documents every variable.
func TestExampleFileDocumentsEveryVariable(t *testing.T) {
	raw, err := os.ReadFile("../../config/agentidp.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range varNames() {
		if !strings.Contains(string(raw), name) {
			t.Errorf("config/agentidp.example.yaml does not mention %s", name)
		}
	}
}

// varNames lists every configuration variable, in the order Config declares them.
func varNames() []string {
	t := reflect.TypeFor[Config]()
	var out []string
	for i := range t.NumField() {
		if name := t.Field(i).Tag.Get("env"); name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}
