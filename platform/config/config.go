// Package config loads AgentIdP's configuration from the environment and an optional YAML
// file (the environment wins), applies the defaults (docs/operations.md, "Configuration")
// and validates every value, so that a bad one stops the start with one line naming the
// variable.
package config

import (
	"time"
)

// Config is the whole platform configuration. Each field names its environment variable;
// the YAML file uses the same names (see config/agentidp.example.yaml).
type Config struct {
	HTTPAddr        string        `env:"AGENTIDP_HTTP_ADDR" envDefault:":8080"`
	Issuer          string        `env:"AGENTIDP_ISSUER" envDefault:"http://localhost:8080"`
	TLSCertFile     string        `env:"AGENTIDP_TLS_CERT_FILE"`
	TLSKeyFile      string        `env:"AGENTIDP_TLS_KEY_FILE"`
	CORSOrigins     []string      `env:"AGENTIDP_CORS_ORIGINS" envSeparator:","`
	TrustedProxies  []string      `env:"AGENTIDP_TRUSTED_PROXIES" envSeparator:","`
	ShutdownTimeout time.Duration `env:"AGENTIDP_SHUTDOWN_TIMEOUT" envDefault:"15s"`
	MetricsToken    string        `env:"AGENTIDP_METRICS_TOKEN"`
	PprofAddr       string        `env:"AGENTIDP_PPROF_ADDR"`

	DatabaseURL     string        `env:"AGENTIDP_DATABASE_URL"`
	DataDir         string        `env:"AGENTIDP_DATA_DIR" envDefault:"./data"`
	DBMaxOpenConns  int           `env:"AGENTIDP_DB_MAX_OPEN_CONNS" envDefault:"20"`
	DBMaxIdleConns  int           `env:"AGENTIDP_DB_MAX_IDLE_CONNS" envDefault:"10"`
	DBConnMaxLife   time.Duration `env:"AGENTIDP_DB_CONN_MAX_LIFETIME" envDefault:"30m"`
	AutoMigrate     bool          `env:"AGENTIDP_AUTO_MIGRATE" envDefault:"true"`
	RedisURL        string        `env:"AGENTIDP_REDIS_URL"`
	RedisKeyPrefix  string        `env:"AGENTIDP_REDIS_KEY_PREFIX"`
	VaultAddr       string        `env:"VAULT_ADDR"`
	VaultToken      string        `env:"VAULT_TOKEN"`
	VaultMount      string        `env:"AGENTIDP_VAULT_MOUNT" envDefault:"secret"`
	VaultCacheTTL   time.Duration `env:"AGENTIDP_VAULT_CACHE_TTL" envDefault:"30s"`
	MasterKeyB64    string        `env:"AGENTIDP_MASTER_KEY"`
	SecretPepperB64 string        `env:"AGENTIDP_SECRET_PEPPER"`

	TokenTTL        time.Duration `env:"AGENTIDP_TOKEN_TTL" envDefault:"1h"`
	SigningAlg      string        `env:"AGENTIDP_SIGNING_ALG" envDefault:"RS256"`
	KeyPublishDelay time.Duration `env:"AGENTIDP_KEY_PUBLISH_DELAY" envDefault:"10s"`

	FreeTierMaxAgents     int     `env:"AGENTIDP_FREE_TIER_MAX_AGENTS" envDefault:"100"`
	FreeTierMonthlyTokens int64   `env:"AGENTIDP_FREE_TIER_MONTHLY_TOKENS" envDefault:"10000"`
	TokenRateLimit        float64 `env:"AGENTIDP_TOKEN_RATE_LIMIT" envDefault:"100"`
	TokenRateBurst        int     `env:"AGENTIDP_TOKEN_RATE_BURST" envDefault:"200"`

	// The brute-force guard (modules/metering): failed client authentications allowed per
	// pair (client_id, source address) and per source address, each per AuthFailureWindow.
	AuthFailuresPerClientIP int           `env:"AGENTIDP_AUTH_FAILURES_PER_CLIENT_IP" envDefault:"10"`
	AuthFailuresPerIP       int           `env:"AGENTIDP_AUTH_FAILURES_PER_IP" envDefault:"100"`
	AuthFailureWindow       time.Duration `env:"AGENTIDP_AUTH_FAILURE_WINDOW" envDefault:"1m"`
	// AuthFailuresPerClient is the version-1 name of the pair's budget (it was a budget per
	// client_id alone). Load copies it into AuthFailuresPerClientIP where it is set and the
	// new name is not; nothing else reads it. 0: not set.
	AuthFailuresPerClient int `env:"AGENTIDP_AUTH_FAILURES_PER_CLIENT"`

	// DPoP (RFC 9449, platform/dpop): further origins a proof's htu may name besides
	// AGENTIDP_ISSUER's, and how old a proof may be.
	DPoPOrigins []string      `env:"AGENTIDP_DPOP_ORIGINS" envSeparator:","`
	DPoPMaxAge  time.Duration `env:"AGENTIDP_DPOP_MAX_AGE" envDefault:"60s"`

	// Secretless client authentication (SPEC §11): the longest a private_key_jwt assertion
	// may live, the longest a federated (workload) token may live, and whether the JWKS
	// fetch may dial private and loopback addresses (development and tests only).
	ClientAssertionMaxAge time.Duration `env:"AGENTIDP_CLIENT_ASSERTION_MAX_AGE" envDefault:"300s"`
	FederatedMaxLifetime  time.Duration `env:"AGENTIDP_FEDERATED_MAX_LIFETIME" envDefault:"1h"`
	JWKSAllowPrivate      bool          `env:"AGENTIDP_JWKS_ALLOW_PRIVATE" envDefault:"false"`

	BootstrapClientID     string `env:"AGENTIDP_BOOTSTRAP_CLIENT_ID"`
	BootstrapClientSecret string `env:"AGENTIDP_BOOTSTRAP_CLIENT_SECRET"`

	LogLevel  string `env:"AGENTIDP_LOG_LEVEL" envDefault:"info"`
	LogFormat string `env:"AGENTIDP_LOG_FORMAT" envDefault:"json"`

	// MasterKey and SecretPepper are the decoded 32-byte secrets: from the environment or
	// file, or generated into DataDir in embedded mode (see secrets.go).
	MasterKey    []byte `env:"-"`
	SecretPepper []byte `env:"-"`

	// perClientSet records that AGENTIDP_AUTH_FAILURES_PER_CLIENT was given (so that an
	// explicit 0 is refused rather than read as "not set").
	perClientSet bool
}

// Embedded reports whether the server runs on the embedded default store (SQLite in
// DataDir) rather than PostgreSQL.
func (c *Config) Embedded() bool { return c.DatabaseURL == "" }

// TLS reports whether the server terminates TLS itself.
func (c *Config) TLS() bool { return c.TLSCertFile != "" }

// VaultEnabled reports whether Vault mode is on.
func (c *Config) VaultEnabled() bool { return c.VaultAddr != "" }
