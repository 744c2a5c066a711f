package client

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/agentidp/agentidp/client/dpop"
)

// Config configures a TokenSource.
type Config struct {
	// Issuer is the server's issuer (AGENTIDP_ISSUER, or an organization's
	// "<AGENTIDP_ISSUER>/orgs/<org_id>"): the token endpoint is discovered from its RFC 8414
	// metadata, and it is the audience of client assertions.
	Issuer string
	// TokenEndpoint skips discovery when set.
	TokenEndpoint string
	// ClientID is the agent_id.
	ClientID string
	// Auth is the client authentication: ClientSecret, PrivateKeyJWT or FederatedTokenFile.
	Auth ClientAuth
	// Scopes to ask for; none: all the agent is allowed for the audience.
	Scopes []string
	// Resource is the audience (RFC 8707): a registered API's identifier; "": the server's
	// own API.
	Resource string
	// DPoP, when set, sends a proof with each token request, so that the server binds the
	// token to its key; Transport then sends a proof with each call.
	DPoP *dpop.Proofer
	// RequireDPoPBinding refuses a Bearer token issued to a request with a proof (a server
	// without DPoP ignores the proof).
	RequireDPoPBinding bool
	// RefreshBefore is how long before its expiry a token is replaced (default 60 s), and at
	// most a fifth of its lifetime: a 5-minute token is replaced after 4.
	RefreshBefore time.Duration
	// HTTPClient makes the requests (default: one with a 30 s timeout).
	HTTPClient *http.Client
}

// TokenSource gets tokens with the client credentials grant and caches them. A token is
// replaced RefreshBefore its expiry; concurrent callers share one request to the server,
// and when that request fails a token that has not expired yet keeps serving. It
// implements oauth2.TokenSource.
type TokenSource struct {
	cfg Config
	now func() time.Time

	mu        sync.Mutex
	endpoint  string
	tok       *oauth2.Token
	refreshAt time.Time
	flight    *flight
}

// flight is one token request that callers wait for.
type flight struct {
	done chan struct{}
	tok  *oauth2.Token
	err  error
}

var defaultHTTPClient = &http.Client{Timeout: 30 * time.Second}

// retryAfterFailure is how long a still-valid token serves after a failed refresh before
// the next attempt.
const retryAfterFailure = time.Second

// expirySkew: a token this close to its expiry is not handed out any more.
const expirySkew = 5 * time.Second

// NewTokenSource checks cfg; the first token request discovers the endpoint.
func NewTokenSource(cfg Config) (*TokenSource, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" || cfg.Auth == nil {
		return nil, errors.New("client: Issuer, ClientID and Auth are required")
	}
	if _, err := MetadataURL(cfg.Issuer); err != nil {
		return nil, err
	}
	if cfg.RefreshBefore <= 0 {
		cfg.RefreshBefore = 60 * time.Second
	}
	return &TokenSource{cfg: cfg, now: time.Now, endpoint: cfg.TokenEndpoint}, nil
}

// Token implements oauth2.TokenSource.
func (s *TokenSource) Token() (*oauth2.Token, error) { return s.TokenContext(context.Background()) }

// TokenContext returns the cached token, or a new one when it is due for refresh. Its
// TokenType is "DPoP" for a token bound to cfg.DPoP's key, else "Bearer".
func (s *TokenSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	s.mu.Lock()
	now := s.now()
	if s.tok != nil && now.Before(s.refreshAt) {
		t := s.tok
		s.mu.Unlock()
		return t, nil
	}
	f := s.flight
	if f == nil {
		f = &flight{done: make(chan struct{})}
		s.flight = f
		// The request is shared: one caller's cancellation must not fail the others.
		go s.refresh(context.WithoutCancel(ctx), f)
	}
	s.mu.Unlock()
	select {
	case <-f.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if f.err == nil {
		return f.tok, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok != nil && s.now().Before(s.tok.Expiry.Add(-expirySkew)) {
		return s.tok, nil
	}
	return nil, f.err
}

// refresh runs one token request for every waiting caller.
func (s *TokenSource) refresh(ctx context.Context, f *flight) {
	ctx, cancel := context.WithTimeout(ctx, s.httpClientTimeout())
	defer cancel()
	tok, err := s.fetch(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	f.tok, f.err = tok, err
	s.flight = nil
	now := s.now()
	if err == nil {
		s.tok = tok
		lifetime := tok.Expiry.Sub(now)
		s.refreshAt = tok.Expiry.Add(-min(s.cfg.RefreshBefore, lifetime/5))
	} else if s.tok != nil {
		s.refreshAt = now.Add(retryAfterFailure)
	}
	close(f.done)
}

func (s *TokenSource) fetch(ctx context.Context) (*oauth2.Token, error) {
	s.mu.Lock()
	endpoint := s.endpoint
	s.mu.Unlock()
	if endpoint == "" {
		m, err := Discover(ctx, s.httpClient(), s.cfg.Issuer)
		if err != nil {
			return nil, err
		}
		endpoint = m.TokenEndpoint
		s.mu.Lock()
		s.endpoint = endpoint
		s.mu.Unlock()
	}
	return s.requestToken(ctx, endpoint, s.cfg.Issuer)
}

func (s *TokenSource) httpClient() *http.Client {
	if s.cfg.HTTPClient != nil {
		return s.cfg.HTTPClient
	}
	return defaultHTTPClient
}

func (s *TokenSource) httpClientTimeout() time.Duration {
	if t := s.httpClient().Timeout; t > 0 {
		return t
	}
	return 30 * time.Second
}

// Invalidate drops the cached token, e.g. after a resource server refused it as revoked;
// the next call gets a new one.
func (s *TokenSource) Invalidate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tok = nil
}

// Proofer is the DPoP key the tokens are bound to (nil without DPoP).
func (s *TokenSource) Proofer() *dpop.Proofer { return s.cfg.DPoP }
