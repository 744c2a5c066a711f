package tokens_test

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/agentidp/agentidp/modules/tokens"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/testenv"
)

// The brute-force guard on the token endpoint, seen from the network. Sources other than
// 127.0.0.1 are given in X-Forwarded-For through the trusted peer 127.0.0.1 (the test's
// own connections), or are other loopback addresses dialled from (peer).

// peer is an HTTP client whose connections leave from the loopback address ip, so that the
// server sees ip as the TCP peer (all of 127.0.0.0/8 is loopback on Linux).
func peer(t testing.TB, ip string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Timeout: 30 * time.Second, Transport: tr}
}

// tokenVia asks for a token for c (client_secret_basic) through hc (nil: testenv.Client,
// from 127.0.0.1), with X-Forwarded-For: xff unless xff is "".
func (e *env) tokenVia(hc *http.Client, c client, xff string) response {
	e.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	req, err := http.NewRequest(http.MethodPost, e.app.URL+tokens.PathToken, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", basic(c.ID, c.Secret))
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	if hc == nil {
		return e.send(req)
	}
	resp, err := hc.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: body}
}

// wrong is c with a wrong secret of the right shape.
func wrong(c client) client {
	return client{ID: c.ID, Secret: "sk_live_" + strings.Repeat("w", 43)}
}

// stranger is a client_id no agent has, with some secret: another failed authentication.
func stranger() client {
	return client{ID: uuid.NewString(), Secret: "sk_live_" + strings.Repeat("s", 43)}
}

func wantToken(t testing.TB, r response, what string) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("%s: status %d, want 200: %s", what, r.Status, r.Body)
	}
}

func wantDenied(t testing.TB, r response, what string) {
	t.Helper()
	if r.Status != http.StatusUnauthorized {
		t.Fatalf("%s: status %d, want 401 invalid_client: %s", what, r.Status, r.Body)
	}
	wantOAuthError(t, r, http.StatusUnauthorized, "invalid_client")
}

// wantLimited asserts a 429 rate_limited and returns its Retry-After in seconds.
func wantLimited(t testing.TB, r response, what string) int {
	t.Helper()
	if r.Status != http.StatusTooManyRequests {
		t.Fatalf("%s: status %d, want 429: %s", what, r.Status, r.Body)
	}
	wantOAuthError(t, r, http.StatusTooManyRequests, "rate_limited")
	s, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || s < 1 {
		t.Fatalf("%s: Retry-After %q, want a positive number of seconds", what, r.Header.Get("Retry-After"))
	}
	return s
}

// (1) Wrong secrets for agent A's client_id from address X lock the pair (A, X) only: A
// from Y still gets tokens with its right secret, another agent from X too, and A from X is
// refused (429 with Retry-After), even with its right secret, until the lock ends.
func TestIntegrationBruteForceLocksThePairOnly(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, func(c *config.Config) {
			c.TrustedProxies = []string{"127.0.0.1"}
			c.AuthFailuresPerClientIP = 3
			c.AuthFailuresPerIP = 1000
			c.AuthFailureWindow = 6 * time.Second // the pair's lock: 2 s
		})
		a := e.newClient([]string{"agents:read"}, nil)
		other := e.newClient([]string{"agents:read"}, nil)
		x, y := "198.51.100.20", "203.0.113.30"

		for i := range 3 {
			wantDenied(t, e.tokenVia(nil, wrong(a), x), "wrong secret "+strconv.Itoa(i+1)+" of 3 from X")
		}
		locked := time.Now()
		retry := wantLimited(t, e.tokenVia(nil, a, x), "A from X with its right secret, pair locked")
		if retry > 2 {
			t.Fatalf("Retry-After %d s, want at most the pair's interval (2 s)", retry)
		}
		wantToken(t, e.tokenVia(nil, a, y), "A from Y")
		wantToken(t, e.tokenVia(nil, other, x), "another agent from X")
		wantDenied(t, e.tokenVia(nil, wrong(a), y), "a wrong secret of A from Y (its own budget)")
		wantToken(t, e.tokenVia(nil, a, ""), "A from the proxy's own address")

		// One rate.limited event for the pair, about A, from X.
		var events int
		for _, r := range auditRows(t, b.DB, "rate.limited") { // metering's action (not in its api.go)
			if r.Details["kind"] == "auth_failures_client_ip" {
				events++
				if r.AgentID != a.ID {
					t.Fatalf("rate.limited about %q, want %s", r.AgentID, a.ID)
				}
			}
		}
		if events != 1 {
			t.Fatalf("%d rate.limited auth_failures_client_ip events, want 1", events)
		}

		// A from X: refused until the lock ends, then its token.
		deadline := locked.Add(time.Duration(retry)*time.Second + 3*time.Second)
		for {
			r := e.tokenVia(nil, a, x)
			if r.Status == http.StatusOK {
				break
			}
			wantLimited(t, r, "A from X while the pair is locked")
			if time.Now().After(deadline) {
				t.Fatalf("A from X still refused %s after the lock began", time.Since(locked))
			}
			time.Sleep(100 * time.Millisecond)
		}
		if took := time.Since(locked); took < time.Second {
			t.Fatalf("the pair's lock ended after %s, want about 2 s", took)
		}
	})
}

// (2) An address guessing the secrets of many different client_ids is slowed down by its
// bucket: 429 with the bucket's Retry-After (one token's time, not the window), for every
// client from it, while other addresses go on; it recovers as the bucket refills, and a
// right secret from it is never charged.
func TestIntegrationBruteForceIPBucketSlowsDown(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, func(c *config.Config) {
			c.TrustedProxies = []string{"127.0.0.1"}
			c.AuthFailuresPerClientIP = 1000
			c.AuthFailuresPerIP = 4
			c.AuthFailureWindow = 8 * time.Second // a token every 2 s
		})
		a := e.newClient([]string{"agents:read"}, nil)
		victim := e.newClient([]string{"agents:read"}, nil)
		x, y := "192.0.2.40", "192.0.2.41"

		wantDenied(t, e.tokenVia(nil, wrong(victim), x), "guess 1")
		for i := 2; i <= 4; i++ {
			wantDenied(t, e.tokenVia(nil, stranger(), x), "guess "+strconv.Itoa(i))
		}
		retry := wantLimited(t, e.tokenVia(nil, stranger(), x), "a fifth guess from X")
		if retry != 2 {
			t.Fatalf("Retry-After %d s, want 2 (one token's time, not the 8 s window)", retry)
		}
		wantLimited(t, e.tokenVia(nil, a, x), "A from X, its right secret, bucket empty")
		wantToken(t, e.tokenVia(nil, a, y), "A from Y")
		wantToken(t, e.tokenVia(nil, victim, y), "the guessed agent from Y")

		// The bucket refills: after its Retry-After, A's right secret from X works (a success
		// costs no token) ...
		time.Sleep(time.Duration(retry)*time.Second + 100*time.Millisecond)
		wantToken(t, e.tokenVia(nil, a, x), "A from X after the Retry-After")
		// ... and a guesser waiting out each Retry-After gets one guess per token: slowed
		// down, never locked for long.
		var guesses int
		for start := time.Now(); time.Since(start) < 5*time.Second; {
			r := e.tokenVia(nil, stranger(), x)
			if r.Status == http.StatusUnauthorized {
				guesses++
				continue
			}
			if s := wantLimited(t, r, "a guess from X"); s != retry {
				t.Fatalf("Retry-After %d s, want %d", s, retry)
			}
			time.Sleep(time.Duration(retry) * time.Second)
		}
		if guesses < 2 || guesses > 4 {
			t.Fatalf("%d guesses from X in 5 s, want about 3 (one per 2 s token)", guesses)
		}
	})
}

// (3) IPv6 sources count per /64: two addresses of one /64 share a bucket, an address of
// another /64 has its own.
func TestIntegrationBruteForceIPv6Per64(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, func(c *config.Config) {
			c.TrustedProxies = []string{"127.0.0.1"}
			c.AuthFailuresPerClientIP = 1000
			c.AuthFailuresPerIP = 3
			c.AuthFailureWindow = time.Hour
		})
		a := e.newClient([]string{"agents:read"}, nil)

		wantDenied(t, e.tokenVia(nil, stranger(), "2001:db8:a:b::1"), "guess 1")
		wantDenied(t, e.tokenVia(nil, stranger(), "2001:db8:a:b::2"), "guess 2")
		wantDenied(t, e.tokenVia(nil, stranger(), "2001:db8:a:b:ffff:ffff:ffff:ffff"), "guess 3")
		wantLimited(t, e.tokenVia(nil, a, "2001:db8:a:b:1234:5678:9abc:def0"), "A from the same /64")
		wantToken(t, e.tokenVia(nil, a, "2001:db8:a:c::1"), "A from the next /64")
		wantDenied(t, e.tokenVia(nil, stranger(), "2001:db8:a:c::2"), "a guess from the next /64")
	})
}

// (4) Behind a trusted proxy the X-Forwarded-For hop is the source; from an untrusted peer
// X-Forwarded-For is ignored and the peer is the source.
func TestIntegrationBruteForceSourceAddress(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, func(c *config.Config) {
			c.TrustedProxies = []string{"127.0.0.1"}
			c.AuthFailuresPerClientIP = 1000
			c.AuthFailuresPerIP = 2
			c.AuthFailureWindow = time.Hour
		})
		a := e.newClient([]string{"agents:read"}, nil)
		untrusted := peer(t, "127.0.0.2")

		// Through the trusted proxy: the hop is charged, not the proxy.
		wantDenied(t, e.tokenVia(nil, stranger(), "192.0.2.70"), "guess 1 from the hop")
		wantDenied(t, e.tokenVia(nil, stranger(), "192.0.2.70"), "guess 2 from the hop")
		wantLimited(t, e.tokenVia(nil, a, "192.0.2.70"), "A from the locked hop")
		wantLimited(t, e.tokenVia(nil, a, "192.0.2.70, 127.0.0.1"), "A from the locked hop through two proxies")
		wantToken(t, e.tokenVia(nil, a, "192.0.2.71"), "A from another hop")
		wantToken(t, e.tokenVia(nil, a, ""), "A from the proxy itself")
		// A hop cannot be spoofed past the trusted proxy: the right-most untrusted entry counts.
		wantLimited(t, e.tokenVia(nil, a, "10.9.9.9, 192.0.2.70"), "A from the locked hop, a forged entry left of it")

		// An untrusted peer: its X-Forwarded-For names the locked hop, and is ignored.
		wantToken(t, e.tokenVia(untrusted, a, "192.0.2.70"), "A from an untrusted peer naming the locked hop")
		// Its guesses are charged to itself, whatever hop each one names.
		wantDenied(t, e.tokenVia(untrusted, stranger(), "198.51.100.1"), "guess 1 from the untrusted peer")
		wantDenied(t, e.tokenVia(untrusted, stranger(), "198.51.100.2"), "guess 2 from the untrusted peer")
		wantLimited(t, e.tokenVia(untrusted, a, "198.51.100.3"), "A from the untrusted peer, now out of tokens")
		wantToken(t, e.tokenVia(nil, a, "198.51.100.3"), "A through the proxy from the hop the peer named")
	})
}

// (5) The version-1 variable AGENTIDP_AUTH_FAILURES_PER_CLIENT, loaded from the environment,
// is the pair's budget: two failures lock (A, X) where the default would allow ten, and A
// from elsewhere is not locked, as the version-1 lock per client_id would have it.
func TestIntegrationBruteForceVersion1Variable(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		cfg, err := config.Load("", []string{
			"AGENTIDP_HTTP_ADDR=127.0.0.1:0",
			"AGENTIDP_DATA_DIR=" + t.TempDir(),
			"AGENTIDP_KEY_PUBLISH_DELAY=0s",
			"AGENTIDP_TRUSTED_PROXIES=127.0.0.1",
			"AGENTIDP_AUTH_FAILURE_WINDOW=1h",
			"AGENTIDP_AUTH_FAILURES_PER_CLIENT=2",
		})
		if err != nil {
			t.Fatal(err)
		}
		e := newEnvWith(t, b, cfg)
		a := e.newClient([]string{"agents:read"}, nil)
		x, y := "192.0.2.90", "192.0.2.91"

		wantDenied(t, e.tokenVia(nil, wrong(a), x), "wrong secret 1 of 2")
		wantDenied(t, e.tokenVia(nil, wrong(a), x), "wrong secret 2 of 2")
		wantLimited(t, e.tokenVia(nil, a, x), "A from X after the version-1 budget of 2")
		wantToken(t, e.tokenVia(nil, a, y), "A from Y")
	})
}
