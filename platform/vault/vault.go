// Package vault is AgentIdP's HashiCorp Vault client: a small KV version 2 interface over
// github.com/hashicorp/vault/api, on only when VAULT_ADDR is set (docs/operations.md,
// "Vault"). In Vault mode the credentials module keeps each plain client secret at
// <mount>/agentidp/credentials/<agent_id>/<credential_id> (mount from AGENTIDP_VAULT_MOUNT,
// default "secret"); otherwise New provides Disabled, and modules ask Enabled(kv) first.
//
// Every failure is translated to one of the sentinel errors below, wrapped with the
// operation and the path. Error messages never carry the token or a secret value: Vault's
// own messages are passed on with both redacted, and the request body is never quoted.
package vault

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"
)

// KV is a KV version 2 secrets engine at one mount. Paths are relative to the mount.
type KV interface {
	// Read returns the latest version's data at path (relative to the mount, e.g.
	// "agentidp/credentials/<agent>/<cred>"), ErrNotFound when absent or deleted.
	Read(ctx context.Context, path string) (map[string]string, error)
	// Write stores data as a new version at path.
	Write(ctx context.Context, path string, data map[string]string) error
	// Delete removes every version and the metadata (DELETE <mount>/metadata/<path>).
	// Deleting an absent path succeeds.
	Delete(ctx context.Context, path string) error
	// Ready checks Vault is reachable, unsealed and the token works (for /readyz).
	Ready(ctx context.Context) error
}

// The errors every KV call is translated to; test them with errors.Is.
var (
	// ErrNotFound: nothing at the path, or its latest version is deleted (HTTP 404).
	ErrNotFound = errors.New("secret not found in Vault")
	// ErrDenied: Vault refused the token or its policy does not allow the call (HTTP 403).
	ErrDenied = errors.New("permission denied by Vault (check VAULT_TOKEN and its policy)")
	// ErrSealed: Vault is sealed or not serving (HTTP 503, "Vault is sealed").
	ErrSealed = errors.New("vault is sealed or not serving requests")
	// ErrUnreachable: no answer from Vault (connection refused, timeout, DNS, TLS).
	ErrUnreachable = errors.New("vault is unreachable")
	// ErrDisabled: Vault mode is off; returned by Disabled.
	ErrDisabled = errors.New("vault mode is off (VAULT_ADDR is not set)")
)

// Client settings: a call (retries included) never takes longer than the timeout, and a
// failed call is retried once, soon, so that a blip does not fail a token request.
const (
	defaultTimeout = 5 * time.Second
	maxRetries     = 1
	minRetryWait   = 100 * time.Millisecond
	maxRetryWait   = 400 * time.Millisecond
	maxDetailLen   = 300
)

// client is the KV backed by a real Vault server.
type client struct {
	api   *api.Client
	kv    *api.KVv2
	mount string
	addr  string // for messages, without any userinfo
	token string // kept only to redact it from messages
}

// newClient builds a client of the Vault at addr. The rest of the api package's environment
// (VAULT_CACERT, VAULT_NAMESPACE, ...) still applies, but addr and token win over
// VAULT_AGENT_ADDR and VAULT_TOKEN.
func newClient(addr, token, mount string, timeout time.Duration) (*client, error) {
	u, err := url.Parse(addr)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("vault: VAULT_ADDR: want http(s)://host:8200")
	}
	if token == "" {
		return nil, errors.New("vault: VAULT_TOKEN must be set when VAULT_ADDR is")
	}
	mount = strings.Trim(mount, "/")
	if mount == "" {
		mount = "secret"
	}

	cfg := api.DefaultConfig()
	if cfg.Error != nil {
		return nil, fmt.Errorf("vault: client settings from the VAULT_* environment: %w", cfg.Error)
	}
	cfg.Address = addr
	cfg.AgentAddress = ""
	cfg.Timeout = timeout
	cfg.MaxRetries = maxRetries
	cfg.MinRetryWait = minRetryWait
	cfg.MaxRetryWait = maxRetryWait
	c, err := api.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("vault: new client: %w", err)
	}
	c.SetToken(token)
	return &client{api: c, kv: c.KVv2(mount), mount: mount, addr: u.Redacted(), token: token}, nil
}

func (c *client) Read(ctx context.Context, path string) (map[string]string, error) {
	p, err := cleanPath("read", path)
	if err != nil {
		return nil, err
	}
	s, err := c.kv.Get(ctx, p)
	if err != nil {
		return nil, c.fail(ctx, "read", p, err, nil)
	}
	if s == nil || s.Data == nil { // the latest version is deleted or destroyed
		return nil, fmt.Errorf("vault: read %s: %w", c.where(p), ErrNotFound)
	}
	out := make(map[string]string, len(s.Data))
	for k, v := range s.Data {
		str, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("vault: read %s: key %q holds a %T, want a string", c.where(p), k, v)
		}
		out[k] = str
	}
	return out, nil
}

func (c *client) Write(ctx context.Context, path string, data map[string]string) error {
	p, err := cleanPath("write", path)
	if err != nil {
		return err
	}
	body := make(map[string]any, len(data))
	for k, v := range data {
		body[k] = v
	}
	if _, err := c.kv.Put(ctx, p, body); err != nil {
		if errors.Is(err, api.ErrSecretNotFound) {
			// A 2xx without version metadata: the mount is not a KV v2 engine.
			return fmt.Errorf("vault: write %s: no version in Vault's answer; is %q a KV version 2 mount?", c.where(p), c.mount)
		}
		return c.fail(ctx, "write", p, err, data)
	}
	return nil
}

func (c *client) Delete(ctx context.Context, path string) error {
	p, err := cleanPath("delete", path)
	if err != nil {
		return err
	}
	if err := c.kv.DeleteMetadata(ctx, p); err != nil {
		return c.fail(ctx, "delete", p, err, nil)
	}
	return nil
}

// Ready checks, in order, that Vault answers (sys/health), is initialised and unsealed, and
// that the token is valid (auth/token/lookup-self, allowed by Vault's default policy).
func (c *client) Ready(ctx context.Context) error {
	h, err := c.api.Sys().HealthWithContext(ctx)
	if err != nil {
		return c.fail(ctx, "ready", "", err, nil)
	}
	if !h.Initialized || h.Sealed {
		return fmt.Errorf("vault: ready %s: %w", c.addr, ErrSealed)
	}
	if _, err := c.api.Auth().Token().LookupSelfWithContext(ctx); err != nil {
		return c.fail(ctx, "ready", "", err, nil)
	}
	return nil
}

// where names a path in messages: <mount>/<path>.
func (c *client) where(p string) string { return c.mount + "/" + p }

// fail translates an error of the api package to one of the sentinels, wrapped with the
// operation and the path (or the address, for Ready). Vault's own messages are kept as a
// detail, with the token and the values of data redacted.
func (c *client) fail(ctx context.Context, op, p string, err error, data map[string]string) error {
	where := c.addr
	if p != "" {
		where = c.where(p)
	}
	prefix := fmt.Sprintf("vault: %s %s", op, where)

	var re *api.ResponseError
	if errors.As(err, &re) {
		detail := ""
		if !re.RawError && len(re.Errors) > 0 {
			detail = " [vault said: " + c.redact(strings.Join(re.Errors, "; "), data) + "]"
		}
		var sentinel error
		switch {
		case re.StatusCode == 404:
			sentinel = ErrNotFound
		case re.StatusCode == 403:
			sentinel = ErrDenied
		case re.StatusCode == 503 || mentionsSealed(re.Errors):
			sentinel = ErrSealed
		default:
			return fmt.Errorf("%s: unexpected HTTP status %d%s", prefix, re.StatusCode, detail)
		}
		return fmt.Errorf("%s: %w%s", prefix, sentinel, detail)
	}
	if errors.Is(err, api.ErrSecretNotFound) {
		return fmt.Errorf("%s: %w", prefix, ErrNotFound)
	}
	if cerr := ctx.Err(); errors.Is(cerr, context.Canceled) {
		// The caller gave up; that says nothing about Vault.
		return fmt.Errorf("%s: %w", prefix, cerr)
	}
	if reason, ok := transportFailure(err); ok {
		if cerr := ctx.Err(); cerr != nil {
			return fmt.Errorf("%s: %w (%s): %w", prefix, ErrUnreachable, reason, cerr)
		}
		return fmt.Errorf("%s: %w (%s)", prefix, ErrUnreachable, reason)
	}
	return fmt.Errorf("%s: %s", prefix, c.redact(err.Error(), data))
}

// transportFailure reports whether err means no HTTP answer came back, and says why in a few
// words (never with the request: the token is in a header, the data in the body).
func transportFailure(err error) (string, bool) {
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var urlErr *url.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer in time", true
	case errors.As(err, &dnsErr):
		return "cannot resolve " + dnsErr.Name, true
	case errors.As(err, &opErr):
		return opErr.Error(), true
	case errors.As(err, &urlErr):
		return urlErr.Err.Error(), true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return netErr.Error(), true
	}
	return "", false
}

func mentionsSealed(msgs []string) bool {
	for _, m := range msgs {
		if strings.Contains(strings.ToLower(m), "vault is sealed") {
			return true
		}
	}
	return false
}

// redact removes the token and every data value from s, and shortens it.
func (c *client) redact(s string, data map[string]string) string {
	if c.token != "" {
		s = strings.ReplaceAll(s, c.token, "[redacted]")
	}
	for _, v := range data {
		if v != "" {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxDetailLen {
		s = strings.ToValidUTF8(s[:maxDetailLen], "") + "…"
	}
	return s
}

func cleanPath(op, path string) (string, error) {
	p := strings.Trim(path, "/")
	if p == "" {
		return "", fmt.Errorf("vault: %s: empty path", op)
	}
	return p, nil
}
