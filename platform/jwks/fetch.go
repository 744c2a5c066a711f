package jwks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/hashicorp/golang-lru/v2/expirable"
	"golang.org/x/sync/singleflight"
)

// Limits of a fetch (docs/security.md, "Federated credentials").
const (
	// FetchTimeout bounds one fetch, connection to last byte.
	FetchTimeout = 5 * time.Second
	// MaxFetchBytes is the largest key set read from an issuer.
	MaxFetchBytes = 256 << 10
	// MinRefetch is the shortest time between two fetches of one URI (an unknown kid does
	// not make the server fetch more often).
	MinRefetch = 30 * time.Second
	// RefreshAfter is the age past which a key set is refreshed in the background while it
	// keeps serving.
	RefreshAfter = 5 * time.Minute
	// MaxStale is the oldest a key set may be and still serve.
	MaxStale = 24 * time.Hour
	// maxURIs bounds the key sets kept in memory.
	maxURIs = 10_000
)

// ErrUnavailable is returned when no usable key set can be had for a URI: the fetch failed
// (or is not due again yet) and nothing fresh enough is cached.
var ErrUnavailable = errors.New("the issuer's key set is unavailable")

// Fetcher fetches and caches key sets by URI. Concurrent callers share one fetch per URI;
// a set older than RefreshAfter keeps serving while a refresh runs in the background, up to
// MaxStale; a kid the set lacks triggers a fetch at most once per MinRefetch.
type Fetcher struct {
	client  *http.Client
	entries *expirable.LRU[string, *entry]
	mu      sync.Mutex // guards entry creation
	flights singleflight.Group
	now     func() time.Time
}

// entry is one URI's cached set.
type entry struct {
	mu        sync.Mutex
	set       jose.JSONWebKeySet
	fetchedAt time.Time // last successful fetch; zero when none
	triedAt   time.Time // last attempt, successful or not
	lastErr   error
	fetching  bool // a fetch is in flight: callers join it rather than wait MinRefetch
}

// NewFetcher returns a fetcher; allowPrivate lets it dial the refused ranges
// (AGENTIDP_JWKS_ALLOW_PRIVATE: development and tests only).
func NewFetcher(allowPrivate bool) *Fetcher {
	dialer := &net.Dialer{Timeout: FetchTimeout}
	if !allowPrivate {
		dialer.Control = dialGuard
	}
	tr := &http.Transport{
		Proxy:                  nil, // a proxy would dial on our behalf, past the guard
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    FetchTimeout,
		ResponseHeaderTimeout:  FetchTimeout,
		MaxResponseHeaderBytes: 16 << 10,
		MaxIdleConns:           32,
		IdleConnTimeout:        90 * time.Second,
	}
	return &Fetcher{
		client: &http.Client{
			Transport: tr,
			Timeout:   FetchTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return errors.New("the JWKS fetch follows no redirect")
			},
		},
		entries: expirable.NewLRU[string, *entry](maxURIs, nil, 0),
		now:     time.Now,
	}
}

// Close drops idle connections.
func (f *Fetcher) Close() { f.client.CloseIdleConnections() }

func (f *Fetcher) entry(uri string) *entry {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.entries.Get(uri)
	if !ok {
		e = &entry{}
		f.entries.Add(uri, e)
	}
	return e
}

// Keys returns the keys of the set at uri that kid names (every key when kid is empty). It
// fetches when nothing usable is cached,
// when kid is unknown and the last fetch is older than MinRefetch, and in the background
// when the set is older than RefreshAfter. ErrUnavailable when no set can be had.
func (f *Fetcher) Keys(ctx context.Context, uri, kid string) ([]jose.JSONWebKey, error) {
	e := f.entry(uri)
	now := f.now()
	e.mu.Lock()
	set, fetchedAt, triedAt, lastErr, fetching := e.set, e.fetchedAt, e.triedAt, e.lastErr, e.fetching
	e.mu.Unlock()
	due := triedAt.IsZero() || now.Sub(triedAt) >= MinRefetch || fetching

	if fetchedAt.IsZero() || now.Sub(fetchedAt) > MaxStale {
		if !due {
			return nil, fmt.Errorf("%w: %w", ErrUnavailable, lastErr)
		}
		var err error
		if set, err = f.fetchShared(ctx, uri, e); err != nil {
			return nil, err
		}
		return match(set, kid), nil
	}
	if now.Sub(fetchedAt) > RefreshAfter && due {
		go func() { _, _ = f.fetchShared(context.Background(), uri, e) }()
	}
	keys := match(set, kid)
	if len(keys) == 0 && due {
		if set, err := f.fetchShared(ctx, uri, e); err == nil {
			keys = match(set, kid)
		}
	}
	return keys, nil
}

// match returns the keys named kid; with an empty kid, every key.
func match(set jose.JSONWebKeySet, kid string) []jose.JSONWebKey {
	if kid == "" {
		return set.Keys
	}
	return set.Key(kid)
}

// fetchShared runs one fetch of uri for every concurrent caller and records its outcome in
// e. A caller whose context ends stops waiting; the fetch goes on for the others.
func (f *Fetcher) fetchShared(ctx context.Context, uri string, e *entry) (jose.JSONWebKeySet, error) {
	ch := f.flights.DoChan(uri, func() (any, error) {
		e.mu.Lock()
		e.triedAt, e.fetching = f.now(), true
		e.mu.Unlock()
		set, err := f.fetch(uri)
		e.mu.Lock()
		defer e.mu.Unlock()
		e.fetching = false
		if err != nil {
			e.lastErr = err
			return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		e.set, e.fetchedAt, e.lastErr = set, f.now(), nil
		return set, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return jose.JSONWebKeySet{}, r.Err
		}
		return r.Val.(jose.JSONWebKeySet), nil
	case <-ctx.Done():
		return jose.JSONWebKeySet{}, ctx.Err()
	}
}

// fetch GETs uri once, within FetchTimeout and MaxFetchBytes, following no redirect.
func (f *Fetcher) fetch(uri string) (jose.JSONWebKeySet, error) {
	if err := CheckURI(uri); err != nil {
		return jose.JSONWebKeySet{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), FetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return jose.JSONWebKeySet{}, fmt.Errorf("the issuer answered %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxFetchBytes+1))
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	if len(body) > MaxFetchBytes {
		return jose.JSONWebKeySet{}, fmt.Errorf("the key set is larger than %d bytes", MaxFetchBytes)
	}
	return parseFetched(body)
}
