package vault

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/vault/kvtest"
)

// A distinctive token, so that a leak into a message is easy to spot.
const testToken = "hvs.kvtest-root-token-7f3a9c21"

// backend is one Vault to run the suite against: the in-process fake, or a real server.
type backend struct {
	addr, token, mount string
	fake               *kvtest.FakeKV2 // nil against a real Vault
	prefix             string          // every path a test uses starts with it
}

// forEachBackend runs fn against a fresh fake Vault and, when AGENTIDP_TEST_VAULT_ADDR and
// AGENTIDP_TEST_VAULT_TOKEN are set, against that real Vault.
func forEachBackend(t *testing.T, fn func(t *testing.T, b *backend)) {
	t.Helper()
	t.Run("fake", func(t *testing.T) {
		f := kvtest.NewFakeKV2(t, testToken)
		fn(t, &backend{addr: f.Addr(), token: f.Token(), mount: f.Mount(), fake: f, prefix: "agentidp/credentials/"})
	})
	t.Run("vault", func(t *testing.T) {
		addr, token := os.Getenv("AGENTIDP_TEST_VAULT_ADDR"), os.Getenv("AGENTIDP_TEST_VAULT_TOKEN")
		if addr == "" || token == "" {
			// The only skip in this package: no Vault binary can be had on the build machines.
			t.Skip("no real Vault configured; run `vault server -dev -dev-root-token-id=root`, then " +
				"AGENTIDP_TEST_VAULT_ADDR=http://127.0.0.1:8200 AGENTIDP_TEST_VAULT_TOKEN=root go test ./platform/vault/")
		}
		mount := os.Getenv("AGENTIDP_TEST_VAULT_MOUNT")
		if mount == "" {
			mount = "secret"
		}
		fn(t, &backend{addr: addr, token: token, mount: mount, prefix: "agentidp-test/" + rand.Text()[:12] + "/"})
	})
}

// client returns a KV client of b with the production settings.
func (b *backend) client(t *testing.T) *client {
	t.Helper()
	c, err := newClient(b.addr, b.token, b.mount, defaultTimeout)
	if err != nil {
		t.Fatalf("newClient: %v", err)
	}
	return c
}

// path returns a fresh path under b's prefix; against a real Vault it is deleted at the end.
func (b *backend) path(t *testing.T, name string) string {
	t.Helper()
	p := b.prefix + name + "-" + rand.Text()[:8]
	if b.fake == nil {
		c := b.client(t)
		t.Cleanup(func() { _ = c.Delete(context.Background(), p) })
	}
	return p
}

// versions lists the version numbers Vault holds at p, read through the api package's own
// metadata call (not through the code under test); nil when the metadata is gone.
func (b *backend) versions(t *testing.T, p string) []int {
	t.Helper()
	cfg := api.DefaultConfig()
	cfg.Address = b.addr
	raw, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	raw.SetToken(b.token)
	list, err := raw.KVv2(b.mount).GetVersionsAsList(t.Context(), p)
	if errors.Is(err, api.ErrSecretNotFound) {
		return nil
	}
	if err != nil {
		t.Fatalf("list versions of %s: %v", p, err)
	}
	var out []int
	for _, v := range list {
		out = append(out, v.Version)
	}
	return out
}

func newSecret() string { return "sk_live_" + rand.Text() + rand.Text() }

// closedAddr returns the address of a 127.0.0.1 port that nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return "http://" + addr
}

// hangingServer accepts requests and never answers them until the client goes away.
func hangingServer(t *testing.T) string {
	t.Helper()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first, so Close does not wait on a handler
	return srv.URL
}

func TestWriteReadRoundTrip(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		c := b.client(t)
		p := b.path(t, "agent-1/cred-1")
		want := map[string]string{"client_secret": newSecret(), "agent_id": "agent-1"}

		if err := c.Write(t.Context(), p, want); err != nil {
			t.Fatalf("Write: %v", err)
		}
		got, err := c.Read(t.Context(), p)
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if !maps.Equal(got, want) {
			t.Fatalf("Read = %v, want %v", got, want)
		}
		if got, err := c.Read(t.Context(), "/"+p+"/"); err != nil || !maps.Equal(got, want) {
			t.Fatalf("Read with surrounding slashes = %v, %v; want the same data", got, err)
		}
		if v := b.versions(t, p); !slices.Equal(v, []int{1}) {
			t.Fatalf("versions = %v, want [1]", v)
		}
		if b.fake != nil {
			vs := b.fake.Versions(p)
			if len(vs) != 1 || vs[0].Data["client_secret"] != want["client_secret"] {
				t.Fatalf("the fake holds %+v, want one version with the secret", vs)
			}
		}
	})
}

func TestRewriteAddsVersion(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		c := b.client(t)
		p := b.path(t, "rewrite")
		first, second := newSecret(), newSecret()

		if err := c.Write(t.Context(), p, map[string]string{"client_secret": first}); err != nil {
			t.Fatalf("first Write: %v", err)
		}
		if err := c.Write(t.Context(), p, map[string]string{"client_secret": second}); err != nil {
			t.Fatalf("second Write: %v", err)
		}
		got, err := c.Read(t.Context(), p)
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if got["client_secret"] != second {
			t.Fatalf("Read returned an older version")
		}
		if v := b.versions(t, p); !slices.Equal(v, []int{1, 2}) {
			t.Fatalf("versions = %v, want [1 2]", v)
		}
		if b.fake != nil {
			vs := b.fake.Versions(p)
			if len(vs) != 2 || vs[0].Number != 1 || vs[1].Number != 2 ||
				vs[0].Data["client_secret"] != first || vs[1].Data["client_secret"] != second {
				t.Fatalf("the fake holds %+v, want versions 1 and 2 with the two secrets", vs)
			}
		}
	})
}

func TestReadAbsent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		p := b.path(t, "absent")
		_, err := b.client(t).Read(t.Context(), p)
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("Read of an absent path: %v, want ErrNotFound", err)
		}
		if errors.Is(err, ErrDenied) || errors.Is(err, ErrSealed) || errors.Is(err, ErrUnreachable) {
			t.Fatalf("Read of an absent path matches another sentinel too: %v", err)
		}
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not name the path %s", err, p)
		}
	})
}

func TestDeleteThenRead(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		c := b.client(t)
		p := b.path(t, "delete")
		for range 2 {
			if err := c.Write(t.Context(), p, map[string]string{"client_secret": newSecret()}); err != nil {
				t.Fatalf("Write: %v", err)
			}
		}
		if err := c.Delete(t.Context(), p); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if _, err := c.Read(t.Context(), p); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Read after Delete: %v, want ErrNotFound", err)
		}
		if v := b.versions(t, p); v != nil {
			t.Fatalf("versions after Delete = %v, want none (metadata deleted)", v)
		}
		if err := c.Delete(t.Context(), p); err != nil {
			t.Fatalf("Delete of an absent path: %v, want nil", err)
		}
		if err := c.Write(t.Context(), p, map[string]string{"client_secret": newSecret()}); err != nil {
			t.Fatalf("Write after Delete: %v", err)
		}
		if v := b.versions(t, p); !slices.Equal(v, []int{1}) {
			t.Fatalf("versions after Delete and Write = %v, want [1]", v)
		}
		if b.fake != nil {
			want := kvtest.Request{Method: http.MethodDelete, Path: "/v1/secret/metadata/" + p}
			if !slices.ContainsFunc(b.fake.Requests(), func(r kvtest.Request) bool {
				return r.Method == want.Method && r.Path == want.Path
			}) {
				t.Fatalf("no %s %s among the requests %+v", want.Method, want.Path, b.fake.Requests())
			}
		}
	})
}

func TestReadSoftDeletedLatest(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		c := b.client(t)
		p := b.path(t, "soft-deleted")
		if err := c.Write(t.Context(), p, map[string]string{"client_secret": newSecret()}); err != nil {
			t.Fatalf("Write: %v", err)
		}
		// DELETE <mount>/data/<path> marks the latest version deleted but keeps the metadata.
		if err := c.api.KVv2(b.mount).Delete(t.Context(), p); err != nil {
			t.Fatalf("soft delete: %v", err)
		}
		if _, err := c.Read(t.Context(), p); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Read of a soft-deleted latest version: %v, want ErrNotFound", err)
		}
		want := newSecret()
		if err := c.Write(t.Context(), p, map[string]string{"client_secret": want}); err != nil {
			t.Fatalf("Write: %v", err)
		}
		if got, err := c.Read(t.Context(), p); err != nil || got["client_secret"] != want {
			t.Fatalf("Read after a new version: err %v, secret matches: %t", err, got["client_secret"] == want)
		}
	})
}

func TestBadTokenDenied(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		const badToken = "hvs.not-the-token-0d9e6b"
		c, err := newClient(b.addr, badToken, b.mount, defaultTimeout)
		if err != nil {
			t.Fatal(err)
		}
		p := b.path(t, "denied")
		secret := newSecret()
		errs := map[string]error{
			"Write":  c.Write(t.Context(), p, map[string]string{"client_secret": secret}),
			"Delete": c.Delete(t.Context(), p),
			"Ready":  c.Ready(t.Context()),
		}
		_, errs["Read"] = c.Read(t.Context(), p)
		for op, err := range errs {
			if !errors.Is(err, ErrDenied) {
				t.Errorf("%s with a bad token: %v, want ErrDenied", op, err)
				continue
			}
			if msg := err.Error(); strings.Contains(msg, badToken) || strings.Contains(msg, secret) {
				t.Errorf("%s error leaks the token or the secret: %q", op, msg)
			}
		}
		if b.fake != nil && b.fake.Versions(p) != nil {
			t.Fatal("a write with a bad token was stored")
		}
	})
}

func TestSealed(t *testing.T) {
	// Fake only: sealing a real Vault needs an unseal key to undo.
	f := kvtest.NewFakeKV2(t, testToken)
	c, err := newClient(f.Addr(), f.Token(), f.Mount(), defaultTimeout)
	if err != nil {
		t.Fatal(err)
	}
	p := "agentidp/credentials/a/sealed"
	if err := c.Write(t.Context(), p, map[string]string{"client_secret": newSecret()}); err != nil {
		t.Fatalf("Write: %v", err)
	}

	f.Seal()
	errs := map[string]error{
		"Write":  c.Write(t.Context(), p, map[string]string{"client_secret": newSecret()}),
		"Delete": c.Delete(t.Context(), p),
		"Ready":  c.Ready(t.Context()),
	}
	_, errs["Read"] = c.Read(t.Context(), p)
	for op, err := range errs {
		if !errors.Is(err, ErrSealed) {
			t.Errorf("%s while sealed: %v, want ErrSealed", op, err)
		}
	}
	if n := len(f.Versions(p)); n != 1 {
		t.Fatalf("%d versions after writes while sealed, want 1", n)
	}

	f.Unseal()
	if err := c.Ready(t.Context()); err != nil {
		t.Fatalf("Ready after Unseal: %v", err)
	}
	if _, err := c.Read(t.Context(), p); err != nil {
		t.Fatalf("Read after Unseal: %v", err)
	}
}

func TestUnreachable(t *testing.T) {
	c, err := newClient(closedAddr(t), testToken, "secret", defaultTimeout)
	if err != nil {
		t.Fatal(err)
	}
	// A refused connection must be reported as such, not by waiting out the timeout: the
	// caller's context outlives every retry, so a DeadlineExceeded here means we waited.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	secret := newSecret()
	errs := map[string]error{
		"Write":  c.Write(ctx, "agentidp/x", map[string]string{"client_secret": secret}),
		"Delete": c.Delete(ctx, "agentidp/x"),
		"Ready":  c.Ready(ctx),
	}
	_, errs["Read"] = c.Read(ctx, "agentidp/x")
	for op, err := range errs {
		if !errors.Is(err, ErrUnreachable) {
			t.Errorf("%s against a closed port: %v, want ErrUnreachable", op, err)
			continue
		}
		if errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s against a closed port timed out instead of failing fast: %v", op, err)
		}
		if msg := err.Error(); strings.Contains(msg, testToken) || strings.Contains(msg, secret) {
			t.Errorf("%s error leaks the token or the secret: %q", op, msg)
		}
	}
}

func TestTimeoutIsUnreachable(t *testing.T) {
	c, err := newClient(hangingServer(t), testToken, "secret", 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(t.Context(), "agentidp/x"); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("Read from a server that never answers: %v, want ErrUnreachable", err)
	}
	if err := c.Ready(t.Context()); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("Ready against a server that never answers: %v, want ErrUnreachable", err)
	}
}

func TestCallerCancelIsNotUnreachable(t *testing.T) {
	c, err := newClient(hangingServer(t), testToken, "secret", defaultTimeout)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = c.Read(ctx, "agentidp/x")
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrUnreachable) {
		t.Fatalf("Read cancelled by the caller: %v, want context.Canceled and not ErrUnreachable", err)
	}
}

func TestUnresolvableHostIsUnreachable(t *testing.T) {
	// .invalid never resolves (RFC 6761); with no DNS at all the lookup fails or times out,
	// which is unreachable too.
	c, err := newClient("http://vault.agentidp.invalid:8200", testToken, "secret", 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ready(t.Context()); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("Ready against an unresolvable host: %v, want ErrUnreachable", err)
	}
}

func TestReady(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *backend) {
		if err := b.client(t).Ready(t.Context()); err != nil {
			t.Fatalf("Ready against a healthy Vault: %v", err)
		}
	})

	// Each failing condition, against the fake.
	f := kvtest.NewFakeKV2(t, testToken)
	tests := []struct {
		name      string
		addr, tok string
		seal      bool
		want      error
	}{
		{name: "ok", addr: f.Addr(), tok: testToken},
		{name: "bad token", addr: f.Addr(), tok: "hvs.wrong", want: ErrDenied},
		{name: "sealed", addr: f.Addr(), tok: testToken, seal: true, want: ErrSealed},
		{name: "unreachable", addr: closedAddr(t), tok: testToken, want: ErrUnreachable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.seal {
				f.Seal()
				defer f.Unseal()
			}
			c, err := newClient(tc.addr, tc.tok, "secret", defaultTimeout)
			if err != nil {
				t.Fatal(err)
			}
			err = c.Ready(t.Context())
			if tc.want == nil && err != nil {
				t.Fatalf("Ready: %v, want nil", err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("Ready: %v, want %v", err, tc.want)
			}
		})
	}
}

func TestDisabled(t *testing.T) {
	kv, err := New(&config.Config{VaultMount: "secret"}, zap.NewNop())
	if err != nil {
		t.Fatalf("New without VAULT_ADDR: %v", err)
	}
	if Enabled(kv) {
		t.Fatal("Enabled is true without VAULT_ADDR")
	}
	if _, err := kv.Read(t.Context(), "p"); !errors.Is(err, ErrDisabled) {
		t.Errorf("Read: %v, want ErrDisabled", err)
	}
	if err := kv.Write(t.Context(), "p", map[string]string{"k": "v"}); !errors.Is(err, ErrDisabled) {
		t.Errorf("Write: %v, want ErrDisabled", err)
	}
	if err := kv.Delete(t.Context(), "p"); !errors.Is(err, ErrDisabled) {
		t.Errorf("Delete: %v, want ErrDisabled", err)
	}
	if err := kv.Ready(t.Context()); err != nil {
		t.Errorf("Ready: %v, want nil", err)
	}
	if Enabled(nil) || Enabled(&Disabled{}) {
		t.Error("Enabled is true for nil or *Disabled")
	}
}

func TestNewEnabled(t *testing.T) {
	f := kvtest.NewFakeKV2(t, testToken)
	kv, err := New(&config.Config{VaultAddr: f.Addr(), VaultToken: testToken, VaultMount: "secret"}, zap.NewNop())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if !Enabled(kv) {
		t.Fatal("Enabled is false with VAULT_ADDR set")
	}
	// Literal bounds, not the constants: a caller (the token endpoint, /readyz) must never
	// wait long on a Vault that is down.
	c := kv.(*client)
	if got := c.api.ClientTimeout(); got <= 0 || got > 5*time.Second {
		t.Errorf("client timeout = %v, want at most 5s", got)
	}
	if got := c.api.MaxRetries(); got > 1 {
		t.Errorf("max retries = %d, want at most 1", got)
	}
	if err := kv.Write(t.Context(), "agentidp/x", map[string]string{"k": "v"}); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if f.Versions("agentidp/x") == nil {
		t.Fatal("the write did not reach the configured Vault")
	}

	if _, err := New(&config.Config{VaultAddr: f.Addr()}, zap.NewNop()); err == nil ||
		!strings.Contains(err.Error(), "VAULT_TOKEN") {
		t.Fatalf("New without a token: %v, want an error naming VAULT_TOKEN", err)
	}
	if _, err := New(&config.Config{VaultAddr: "127.0.0.1:8200", VaultToken: testToken}, zap.NewNop()); err == nil {
		t.Fatal("New with an address without a scheme: nil error")
	}
}

func TestConfigWinsOverVaultEnvironment(t *testing.T) {
	f := kvtest.NewFakeKV2(t, testToken)
	t.Setenv("VAULT_TOKEN", "hvs.from-the-environment")
	t.Setenv("VAULT_AGENT_ADDR", closedAddr(t))
	t.Setenv("VAULT_MAX_RETRIES", "50")
	t.Setenv("VAULT_CLIENT_TIMEOUT", "600s")

	kv, err := New(&config.Config{VaultAddr: f.Addr(), VaultToken: testToken, VaultMount: "secret"}, zap.NewNop())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := kv.Ready(t.Context()); err != nil {
		t.Fatalf("Ready: %v (the VAULT_* environment overrode the configuration)", err)
	}
	c := kv.(*client)
	if c.api.MaxRetries() > 1 || c.api.ClientTimeout() > 5*time.Second {
		t.Fatalf("retries %d, timeout %v: the environment overrode them", c.api.MaxRetries(), c.api.ClientTimeout())
	}
}

func TestModuleInFx(t *testing.T) {
	f := kvtest.NewFakeKV2(t, testToken)
	for _, tc := range []struct {
		name string
		cfg  *config.Config
		on   bool
	}{
		{"off", &config.Config{VaultMount: "secret"}, false},
		{"on", &config.Config{VaultAddr: f.Addr(), VaultToken: testToken, VaultMount: "secret"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var kv KV
			app := fxtest.New(t, fx.Supply(tc.cfg), fx.Supply(zap.NewNop()), Module, fx.Populate(&kv))
			app.RequireStart()
			defer app.RequireStop()
			if Enabled(kv) != tc.on {
				t.Fatalf("Enabled = %t, want %t", Enabled(kv), tc.on)
			}
			if err := kv.Ready(t.Context()); err != nil {
				t.Fatalf("Ready: %v", err)
			}
		})
	}
}

func TestWrongMount(t *testing.T) {
	f := kvtest.NewFakeKV2(t, testToken)
	c, err := newClient(f.Addr(), testToken, "nope", defaultTimeout)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Write(t.Context(), "agentidp/x", map[string]string{"k": "v"})
	if err == nil || !strings.Contains(err.Error(), "nope/agentidp/x") {
		t.Fatalf("Write to a missing mount: %v, want an error naming nope/agentidp/x", err)
	}
	if len(f.Paths()) != 0 {
		t.Fatalf("the fake stored %v under another mount", f.Paths())
	}
}

func TestNonStringValue(t *testing.T) {
	f := kvtest.NewFakeKV2(t, testToken)
	secret := newSecret()
	f.Put("agentidp/x", map[string]any{"client_secret": secret, "n": 42})
	c, err := newClient(f.Addr(), testToken, "secret", defaultTimeout)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Read(t.Context(), "agentidp/x")
	if err == nil || !strings.Contains(err.Error(), `"n"`) {
		t.Fatalf("Read of a number: %v, want an error naming the key", err)
	}
	if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "42") {
		t.Fatalf("error leaks a value: %q", err)
	}
}

// echoServer answers every request with status code and Vault error messages that quote
// the request's token and body, as a hostile or buggy proxy might.
func echoServer(t *testing.T, code int) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(map[string]any{"errors": []string{
			"token " + r.Header.Get("X-Vault-Token"), "body " + string(body),
		}})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestErrorsNeverLeakSecrets(t *testing.T) {
	f := kvtest.NewFakeKV2(t, testToken)
	sealed := kvtest.NewFakeKV2(t, testToken)
	sealed.Seal()
	for _, tc := range []struct {
		name, addr, token string
	}{
		{"bad token", f.Addr(), "hvs.wrong-token-4c1e"},
		{"sealed", sealed.Addr(), testToken},
		{"unreachable", closedAddr(t), testToken},
		{"echo 400", echoServer(t, http.StatusBadRequest), testToken},
		{"echo 403", echoServer(t, http.StatusForbidden), testToken},
		{"echo 500", echoServer(t, http.StatusInternalServerError), testToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := newClient(tc.addr, tc.token, "secret", defaultTimeout)
			if err != nil {
				t.Fatal(err)
			}
			secret := newSecret()
			errs := []error{
				c.Write(t.Context(), "agentidp/x", map[string]string{"client_secret": secret, "other": "tiny"}),
				c.Delete(t.Context(), "agentidp/x"),
				c.Ready(t.Context()),
			}
			_, err = c.Read(t.Context(), "agentidp/x")
			errs = append(errs, err)
			for _, err := range errs {
				if err == nil {
					t.Fatal("no error")
				}
				for _, s := range []string{tc.token, secret, "tiny"} {
					if strings.Contains(err.Error(), s) {
						t.Errorf("error leaks %q: %q", s[:4]+"…", err)
					}
				}
			}
		})
	}
}
