package jwks

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// publicSet is a JSON key set of one new P-256 public key named kid.
func publicSet(t testing.TB, kids ...string) []byte {
	t.Helper()
	var set jose.JSONWebKeySet
	for _, kid := range kids {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: "ES256", Use: "sig"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// issuer is a local JWKS endpoint counting its fetches; body is what it serves now.
type issuer struct {
	srv   *httptest.Server
	hits  atomic.Int64
	mu    sync.Mutex
	body  []byte
	block chan struct{} // when not nil, each request waits for it to close
}

func newIssuer(t *testing.T, body []byte) *issuer {
	is := &issuer{body: body}
	is.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		is.hits.Add(1)
		is.mu.Lock()
		b, block := is.body, is.block
		is.mu.Unlock()
		if block != nil {
			<-block
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(b)
	}))
	t.Cleanup(is.srv.Close)
	return is
}

func (is *issuer) set(body []byte, block chan struct{}) {
	is.mu.Lock()
	is.body, is.block = body, block
	is.mu.Unlock()
}

// clock is a settable now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestFetcher(allowPrivate bool) (*Fetcher, *clock) {
	f := NewFetcher(allowPrivate)
	c := &clock{t: time.Now()}
	f.now = c.now
	return f, c
}

func TestRefusedRanges(t *testing.T) {
	for _, a := range []string{"0.1.2.3", "10.0.0.1", "100.64.0.1", "127.0.0.1", "127.9.9.9", "169.254.169.254",
		"172.16.0.1", "172.31.255.255", "192.168.1.1", "224.0.0.1", "239.255.255.250", "::1", "::", "fc00::1", "fd12::1",
		"fe80::1", "::ffff:127.0.0.1", "::ffff:8.8.8.8", "64:ff9b::808:808"} {
		if !Refused(netip.MustParseAddr(a)) {
			t.Errorf("%s is not refused", a)
		}
	}
	for _, a := range []string{"8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2001:4860:4860::8888"} {
		if Refused(netip.MustParseAddr(a)) {
			t.Errorf("%s is refused", a)
		}
	}
}

func TestDialGuardRefusesTheDialledAddress(t *testing.T) {
	is := newIssuer(t, publicSet(t, "a"))
	port := is.srv.URL[strings.LastIndex(is.srv.URL, ":"):]
	for _, uri := range []string{
		"http://localhost" + port + "/jwks", // a name that resolves to 127.0.0.1
		"http://127.0.0.1" + port + "/jwks",
	} {
		f, _ := newTestFetcher(false)
		_, err := f.Keys(context.Background(), uri, "a")
		if !errors.Is(err, ErrRefusedAddress) || !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s: err = %v; want the refused address", uri, err)
		}
	}
	if n := is.hits.Load(); n != 0 {
		t.Fatalf("the issuer was reached %d times", n)
	}
	// Allowed in development.
	f, _ := newTestFetcher(true)
	keys, err := f.Keys(context.Background(), "http://localhost"+port+"/jwks", "a")
	if err != nil || len(keys) != 1 {
		t.Fatalf("with private addresses allowed: %d keys, %v", len(keys), err)
	}
}

func TestCheckURI(t *testing.T) {
	for _, ok := range []string{"https://issuer.example/jwks", "http://localhost:8080/k", "http://127.0.0.1/k", "http://[::1]:9/k"} {
		if err := CheckURI(ok); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"http://issuer.example/jwks", "ftp://x/y", "https://u:p@issuer.example/", "/relative",
		"https://issuer.example/#f", "http://10.0.0.1/k", "file:///etc/passwd", "https://" + strings.Repeat("a", 3000)} {
		if CheckURI(bad) == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestFetchLimits(t *testing.T) {
	big := append([]byte(`{"keys":[],"pad":"`), append([]byte(strings.Repeat("x", MaxFetchBytes)), '"', '}')...)
	tooBig := newIssuer(t, big)
	redirect := httptest.NewServer(http.RedirectHandler(tooBig.srv.URL, http.StatusFound))
	t.Cleanup(redirect.Close)
	notFound := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notFound.Close)
	slow := newIssuer(t, publicSet(t, "a"))
	release := make(chan struct{})
	slow.set(publicSet(t, "a"), release)
	t.Cleanup(func() { close(release) })

	for name, uri := range map[string]string{"too large": tooBig.srv.URL, "redirect": redirect.URL,
		"404": notFound.URL, "slow": slow.srv.URL} {
		f, _ := newTestFetcher(true)
		f.client.Timeout = 300 * time.Millisecond // the mechanism, not the 5 s figure
		if _, err := f.Keys(context.Background(), uri, "a"); !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s: err = %v; want ErrUnavailable", name, err)
		}
	}
	if n := tooBig.hits.Load(); n != 1 {
		t.Errorf("the redirect was followed: the target served %d times", n)
	}
}

func TestRefetchOnUnknownKidAtMostEvery30s(t *testing.T) {
	is := newIssuer(t, publicSet(t, "a"))
	f, clk := newTestFetcher(true)
	ctx := context.Background()
	if keys, err := f.Keys(ctx, is.srv.URL, "a"); err != nil || len(keys) != 1 {
		t.Fatalf("first fetch: %d keys, %v", len(keys), err)
	}
	is.set(publicSet(t, "a", "b"), nil) // the issuer rotates
	clk.add(10 * time.Second)
	for range 5 {
		if keys, _ := f.Keys(ctx, is.srv.URL, "b"); len(keys) != 0 {
			t.Fatal("kid b found before a refetch")
		}
	}
	if n := is.hits.Load(); n != 1 {
		t.Fatalf("%d fetches within 30 s; want 1", n)
	}
	clk.add(MinRefetch)
	if keys, err := f.Keys(ctx, is.srv.URL, "b"); err != nil || len(keys) != 1 {
		t.Fatalf("after 30 s: %d keys for the new kid, %v", len(keys), err)
	}
	if n := is.hits.Load(); n != 2 {
		t.Fatalf("%d fetches; want 2", n)
	}
}

func TestConcurrentCallersShareOneFetch(t *testing.T) {
	is := newIssuer(t, publicSet(t, "a"))
	release := make(chan struct{})
	is.set(publicSet(t, "a"), release)
	f, _ := newTestFetcher(true)
	var wg sync.WaitGroup
	var got atomic.Int64
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if keys, err := f.Keys(context.Background(), is.srv.URL, "a"); err == nil && len(keys) == 1 {
				got.Add(1)
			}
		}()
	}
	for is.hits.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // let the other callers join the fetch in flight
	close(release)
	wg.Wait()
	if n := is.hits.Load(); n != 1 {
		t.Fatalf("%d fetches for 20 concurrent callers; want 1", n)
	}
	if got.Load() != 20 {
		t.Fatalf("%d callers got the key; want 20", got.Load())
	}
}

func TestStaleWhileRefreshing(t *testing.T) {
	is := newIssuer(t, publicSet(t, "a"))
	f, clk := newTestFetcher(true)
	ctx := context.Background()
	if _, err := f.Keys(ctx, is.srv.URL, "a"); err != nil {
		t.Fatal(err)
	}
	// Past the refresh time, the issuer hangs: the cached set still answers at once.
	release := make(chan struct{})
	is.set(publicSet(t, "a"), release)
	clk.add(RefreshAfter + time.Second)
	done := make(chan []jose.JSONWebKey)
	go func() { k, _ := f.Keys(ctx, is.srv.URL, "a"); done <- k }()
	select {
	case k := <-done:
		if len(k) != 1 {
			t.Fatalf("stale set: %d keys", len(k))
		}
	case <-time.After(3 * time.Second):
		t.Fatal("a caller waited for the background refresh")
	}
	close(release)
	for e := f.entry(is.srv.URL); ; time.Sleep(time.Millisecond) {
		e.mu.Lock()
		refreshed := !e.fetching && is.hits.Load() == 2
		e.mu.Unlock()
		if refreshed {
			break
		}
	}
	// Past 24 h with the issuer failing, nothing serves.
	is.set([]byte("not json"), nil)
	clk.add(MaxStale + time.Hour)
	if _, err := f.Keys(ctx, is.srv.URL, "a"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("a set older than 24 h served: %v", err)
	}
}
