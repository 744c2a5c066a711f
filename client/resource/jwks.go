package resource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

const (
	maxJWKSBytes     = 1 << 20
	jwksFetchTimeout = 5 * time.Second
	// defaultJWKSMaxAge applies when the answer has no Cache-Control max-age; maxJWKSMaxAge
	// bounds a long one.
	defaultJWKSMaxAge = 5 * time.Minute
	maxJWKSMaxAge     = time.Hour
)

// errNoKeys: no key set could be fetched yet (the server cannot be reached).
var errNoKeys = errors.New("resource: no JWKS fetched yet")

// keySet caches the issuer's JWKS. It is fetched again in the background when older than
// its Cache-Control max-age, and at once (callers waiting for one shared fetch) when a token
// names an unknown kid — at most once per minInterval, so that made-up kids cannot make it
// hammer the server. A failed fetch keeps the keys it had.
type keySet struct {
	uri         string
	hc          *http.Client
	minInterval time.Duration
	now         func() time.Time

	mu      sync.Mutex
	keys    *jose.JSONWebKeySet
	expires time.Time
	lastTry time.Time
	flight  chan struct{} // closed when the running fetch ends; nil when none runs
}

// key returns the signing key kid.
func (k *keySet) key(ctx context.Context, kid string) (*jose.JSONWebKey, error) {
	k.mu.Lock()
	now := k.now()
	if key := k.lookup(kid); key != nil {
		if now.After(k.expires) {
			k.startFetch(now) // stale: refresh in the background, serve what we have
		}
		k.mu.Unlock()
		return key, nil
	}
	wait := k.flight
	if wait == nil && now.Sub(k.lastTry) >= k.minInterval {
		wait = k.startFetch(now)
	}
	k.mu.Unlock()
	if wait != nil {
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if key := k.lookup(kid); key != nil {
		return key, nil
	}
	if k.keys == nil {
		return nil, errNoKeys
	}
	return nil, fmt.Errorf("unknown kid")
}

// lookup finds kid among the cached signing keys; k.mu is held.
func (k *keySet) lookup(kid string) *jose.JSONWebKey {
	if k.keys == nil || kid == "" {
		return nil
	}
	for i := range k.keys.Keys {
		key := &k.keys.Keys[i]
		if key.KeyID == kid && (key.Use == "" || key.Use == "sig") && key.IsPublic() {
			return key
		}
	}
	return nil
}

// startFetch starts a fetch unless one runs and returns its channel; k.mu is held.
func (k *keySet) startFetch(now time.Time) chan struct{} {
	if k.flight != nil {
		return k.flight
	}
	if now.Sub(k.lastTry) < k.minInterval {
		return nil
	}
	k.lastTry = now
	done := make(chan struct{})
	k.flight = done
	go func() {
		set, maxAge, err := k.fetch()
		k.mu.Lock()
		defer k.mu.Unlock()
		if err == nil {
			k.keys, k.expires = set, k.now().Add(maxAge)
		}
		k.flight = nil
		close(done)
	}()
	return done
}

// fetch gets the key set, bounded in time and size.
func (k *keySet) fetch() (*jose.JSONWebKeySet, time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), jwksFetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.uri, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := k.hc.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("jwks: %s", resp.Status)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxJWKSBytes)).Decode(&set); err != nil {
		return nil, 0, fmt.Errorf("jwks: %w", err)
	}
	return &set, k.maxAge(resp.Header.Get("Cache-Control")), nil
}

// maxAge is the Cache-Control max-age, within [minInterval, maxJWKSMaxAge].
func (k *keySet) maxAge(cc string) time.Duration {
	age := defaultJWKSMaxAge
	for _, d := range strings.Split(cc, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(strings.ToLower(d)), "max-age="); ok {
			if n, err := strconv.Atoi(v); err == nil && n >= 0 {
				age = time.Duration(n) * time.Second
			}
		}
	}
	return min(max(age, k.minInterval), maxJWKSMaxAge)
}
