package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap/zapcore"
)

// validate checks every value and answers with the first bad one, naming its variable.
func (c *Config) validate() error {
	checks := []struct {
		name string
		err  error
	}{
		{"AGENTIDP_HTTP_ADDR", checkListenAddr(c.HTTPAddr)},
		{"AGENTIDP_PPROF_ADDR", checkOptionalListenAddr(c.PprofAddr)},
		{"AGENTIDP_ISSUER", checkIssuer(c.Issuer)},
		{"AGENTIDP_TLS_KEY_FILE", checkPair(c.TLSCertFile, c.TLSKeyFile, "AGENTIDP_TLS_CERT_FILE")},
		{"AGENTIDP_CORS_ORIGINS", checkOrigins(c.CORSOrigins)},
		{"AGENTIDP_TRUSTED_PROXIES", checkPrefixes(c.TrustedProxies)},
		{"AGENTIDP_SHUTDOWN_TIMEOUT", checkRange(c.ShutdownTimeout, time.Second, 10*time.Minute)},
		{"AGENTIDP_DATABASE_URL", checkDatabaseURL(c.DatabaseURL)},
		{"AGENTIDP_DATA_DIR", checkNonEmpty(c.DataDir)},
		{"AGENTIDP_DB_MAX_OPEN_CONNS", checkInt(c.DBMaxOpenConns, 1, 1000)},
		{"AGENTIDP_DB_MAX_IDLE_CONNS", checkInt(c.DBMaxIdleConns, 0, 1000)},
		{"AGENTIDP_REDIS_URL", checkRedisURL(c.RedisURL)},
		{"VAULT_ADDR", checkVault(c.VaultAddr, c.VaultToken)},
		{"AGENTIDP_VAULT_MOUNT", checkMount(c.VaultMount)},
		{"AGENTIDP_TOKEN_TTL", checkRange(c.TokenTTL, time.Minute, 24*time.Hour)},
		{"AGENTIDP_SIGNING_ALG", checkOneOf(c.SigningAlg, "RS256", "ES256", "EdDSA")},
		{"AGENTIDP_KEY_PUBLISH_DELAY", checkRange(c.KeyPublishDelay, 0, time.Hour)},
		{"AGENTIDP_FREE_TIER_MAX_AGENTS", checkInt(c.FreeTierMaxAgents, 1, 1_000_000)},
		{"AGENTIDP_FREE_TIER_MONTHLY_TOKENS", checkInt(int(c.FreeTierMonthlyTokens), 1, 1<<40)},
		{"AGENTIDP_TOKEN_RATE_LIMIT", checkPositive(c.TokenRateLimit)},
		{"AGENTIDP_TOKEN_RATE_BURST", checkInt(c.TokenRateBurst, 1, 1_000_000)},
		{"AGENTIDP_AUTH_FAILURES_PER_CLIENT", checkOptionalInt(c.perClientSet, c.AuthFailuresPerClient, 1, 1_000_000)},
		{"AGENTIDP_AUTH_FAILURES_PER_CLIENT_IP", checkInt(c.AuthFailuresPerClientIP, 1, 1_000_000)},
		{"AGENTIDP_AUTH_FAILURES_PER_IP", checkInt(c.AuthFailuresPerIP, 1, 1_000_000)},
		{"AGENTIDP_AUTH_FAILURE_WINDOW", checkRange(c.AuthFailureWindow, time.Second, 24*time.Hour)},
		{"AGENTIDP_DPOP_ORIGINS", checkDPoPOrigins(c.DPoPOrigins)},
		{"AGENTIDP_DPOP_MAX_AGE", checkRange(c.DPoPMaxAge, time.Second, 10*time.Minute)},
		{"AGENTIDP_CLIENT_ASSERTION_MAX_AGE", checkRange(c.ClientAssertionMaxAge, 10*time.Second, time.Hour)},
		{"AGENTIDP_FEDERATED_MAX_LIFETIME", checkRange(c.FederatedMaxLifetime, time.Minute, 24*time.Hour)},
		{"AGENTIDP_BOOTSTRAP_CLIENT_ID", checkUUID(c.BootstrapClientID)},
		{"AGENTIDP_BOOTSTRAP_CLIENT_SECRET", checkBootstrapSecret(c.BootstrapClientSecret)},
		{"AGENTIDP_LOG_LEVEL", checkLevel(c.LogLevel)},
		{"AGENTIDP_LOG_FORMAT", checkOneOf(c.LogFormat, "json", "console")},
	}
	for _, ch := range checks {
		if ch.err != nil {
			return fmt.Errorf("%s: %v", ch.name, ch.err)
		}
	}
	return nil
}

func checkListenAddr(v string) error {
	if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
		return fmt.Errorf("want host:port, e.g. :8080, got %q", v)
	}
	return nil
}

func checkOptionalListenAddr(v string) error {
	if v == "" {
		return nil
	}
	return checkListenAddr(v)
}

func checkIssuer(v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(v, "/") {
		return fmt.Errorf("want an absolute http(s) URL without query, fragment or trailing slash, got %q", v)
	}
	return nil
}

func checkPair(cert, key, certVar string) error {
	if (cert == "") != (key == "") {
		return fmt.Errorf("set together with %s", certVar)
	}
	return nil
}

func checkOrigins(origins []string) error {
	for _, o := range origins {
		if o == "*" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return fmt.Errorf("want origins like https://console.example.com, got %q", o)
		}
	}
	return nil
}

// checkDPoPOrigins wants bare origins (scheme, host, optional port): a proof's htu is one
// of them followed by the request's path.
func checkDPoPOrigins(origins []string) error {
	for _, o := range origins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("want origins like https://idp.example.com, got %q", o)
		}
	}
	return nil
}

func checkPrefixes(list []string) error {
	for _, p := range list {
		if _, err := netip.ParsePrefix(strings.TrimSpace(p)); err != nil {
			if _, err2 := netip.ParseAddr(strings.TrimSpace(p)); err2 != nil {
				return fmt.Errorf("want CIDR prefixes or addresses, got %q", p)
			}
		}
	}
	return nil
}

func checkRange(d, lo, hi time.Duration) error {
	if d < lo || d > hi {
		return fmt.Errorf("want a duration between %s and %s, got %s", lo, hi, d)
	}
	return nil
}

func checkInt(v, lo, hi int) error {
	if v < lo || v > hi {
		return fmt.Errorf("want an integer between %d and %d, got %d", lo, hi, v)
	}
	return nil
}

// checkOptionalInt is checkInt for a variable that may be left out (set reports whether it
// was given).
func checkOptionalInt(set bool, v, lo, hi int) error {
	if !set {
		return nil
	}
	return checkInt(v, lo, hi)
}

func checkPositive(v float64) error {
	if !(v > 0) {
		return fmt.Errorf("want a positive number, got %v", v)
	}
	return nil
}

func checkNonEmpty(v string) error {
	if strings.TrimSpace(v) == "" {
		return fmt.Errorf("must not be empty")
	}
	return nil
}

func checkDatabaseURL(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		return fmt.Errorf("want postgres://user:password@host:5432/dbname (the URL is not shown here)")
	}
	return nil
}

func checkRedisURL(v string) error {
	if v == "" {
		return nil
	}
	if _, err := redis.ParseURL(v); err != nil {
		return fmt.Errorf("want redis://host:6379/0 or rediss://… (the URL is not shown here)")
	}
	return nil
}

func checkVault(addr, token string) error {
	if addr == "" {
		return nil
	}
	u, err := url.Parse(addr)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("want http(s)://host:8200, got %q", addr)
	}
	if token == "" {
		return fmt.Errorf("VAULT_TOKEN must be set when VAULT_ADDR is")
	}
	return nil
}

func checkMount(v string) error {
	if v == "" || strings.ContainsAny(v, " /?#") {
		return fmt.Errorf("want a KV v2 mount name such as secret, got %q", v)
	}
	return nil
}

func checkOneOf(v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return fmt.Errorf("want one of %s, got %q", strings.Join(allowed, ", "), v)
}

func checkUUID(v string) error {
	if v == "" {
		return nil
	}
	if len(v) != 36 || strings.Count(v, "-") != 4 {
		return fmt.Errorf("want a UUID, got %q", v)
	}
	for _, r := range strings.ReplaceAll(v, "-", "") {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return fmt.Errorf("want a UUID, got %q", v)
		}
	}
	return nil
}

// checkBootstrapSecret never echoes the value: it is a secret.
func checkBootstrapSecret(v string) error {
	if v == "" {
		return nil
	}
	if len(v) != len("sk_live_")+43 || !strings.HasPrefix(v, "sk_live_") {
		return fmt.Errorf("want sk_live_ followed by 43 base64url characters (value not shown)")
	}
	return nil
}

func checkLevel(v string) error {
	if _, err := zapcore.ParseLevel(v); err != nil {
		return fmt.Errorf("want debug, info, warn or error, got %q", v)
	}
	return nil
}
