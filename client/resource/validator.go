package resource

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/agentidp/agentidp/client"
	"github.com/agentidp/agentidp/client/dpop"
)

// Config configures a Validator.
type Config struct {
	// Issuer is the exact iss accepted: your organization's issuer (AGENTIDP_ISSUER, or
	// "<AGENTIDP_ISSUER>/orgs/<org_id>"). Required.
	Issuer string
	// Audience is your API's resource identifier, as registered: the token's aud must
	// contain it. Required.
	Audience string
	// RequiredScopes must all be in the token's scope for Middleware (RequireScopes adds
	// more per route).
	RequiredScopes []string
	// JWKSURI is the key set's URL; "": the jwks_uri of the issuer's metadata, fetched by New.
	JWKSURI string
	// Algorithms are the token signature algorithms accepted (nil: RS256, ES256, EdDSA).
	Algorithms []jose.SignatureAlgorithm
	// Leeway is the clock skew allowed on exp, nbf and iat (default 60 s).
	Leeway time.Duration
	// JWKSMinRefresh is the least time between two fetches of the key set (default 1 s).
	JWKSMinRefresh time.Duration

	// ExternalOrigin is your API's origin as clients call it ("https://api.example.com"),
	// behind any proxy: a DPoP proof's htu must be it followed by the request's path.
	// "": the origin of Audience. Never taken from the request's Host header.
	ExternalOrigin string
	// RequireDPoP refuses bearer tokens: every token must be DPoP-bound and come with a proof.
	RequireDPoP bool
	// DPoPAlgorithms are the proof algorithms accepted (nil: dpop.DefaultAlgorithms).
	DPoPAlgorithms []jose.SignatureAlgorithm
	// DPoPMaxAge is how old a proof may be (default 60 s).
	DPoPMaxAge time.Duration
	// DPoPReplay remembers accepted proofs (nil: one in memory; share one between replicas).
	DPoPReplay dpop.ReplayCache

	// Introspection, when set, asks the server about each locally valid token (RFC 7662), so
	// that revoked tokens and suspended agents are refused at once.
	Introspection *IntrospectionConfig

	// HTTPClient fetches the metadata and keys and introspects (default: 10 s timeout).
	HTTPClient *http.Client
	// ErrorLog, when set, is told why a request was refused (the client is not).
	ErrorLog func(r *http.Request, err error)
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// IntrospectionConfig is how the resource server introspects: as an agent of its own,
// allowed tokens:introspect.
type IntrospectionConfig struct {
	ClientID string
	Auth     client.ClientAuth
	// Endpoint: "" for the introspection_endpoint of the issuer's metadata.
	Endpoint string
}

// Validator checks access tokens for one audience. Safe for concurrent use.
type Validator struct {
	cfg     Config
	algs    []jose.SignatureAlgorithm
	keys    *keySet
	checker *dpop.Checker
	origin  string
	hc      *http.Client
}

// DefaultAlgorithms are the token algorithms AgentIdP signs with.
var DefaultAlgorithms = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA}

// maxTokenBytes bounds a token before it is parsed.
const maxTokenBytes = 16 << 10

// New checks cfg and, when JWKSURI or the introspection endpoint is not given, reads them
// from the issuer's metadata (the server must then be reachable).
func New(ctx context.Context, cfg Config) (*Validator, error) {
	if cfg.Issuer == "" || cfg.Audience == "" {
		return nil, errors.New("resource: Issuer and Audience are required")
	}
	v := &Validator{cfg: cfg, algs: cfg.Algorithms, hc: cfg.HTTPClient}
	if v.algs == nil {
		v.algs = DefaultAlgorithms
	}
	if v.hc == nil {
		v.hc = &http.Client{Timeout: 10 * time.Second}
	}
	if v.cfg.Leeway <= 0 {
		v.cfg.Leeway = 60 * time.Second
	}
	if v.cfg.JWKSMinRefresh <= 0 {
		v.cfg.JWKSMinRefresh = time.Second
	}
	if v.cfg.Now == nil {
		v.cfg.Now = time.Now
	}
	in := cfg.Introspection
	if in != nil && (in.ClientID == "" || in.Auth == nil) {
		return nil, errors.New("resource: Introspection needs ClientID and Auth")
	}
	if cfg.JWKSURI == "" || (in != nil && in.Endpoint == "") {
		m, err := client.Discover(ctx, v.hc, cfg.Issuer)
		if err != nil {
			return nil, fmt.Errorf("resource: %w", err)
		}
		if v.cfg.JWKSURI == "" {
			v.cfg.JWKSURI = m.JWKSURI
		}
		if in != nil && in.Endpoint == "" {
			c := *in
			c.Endpoint = m.IntrospectionEndpoint
			v.cfg.Introspection = &c
		}
	}
	if v.cfg.JWKSURI == "" {
		return nil, errors.New("resource: no jwks_uri")
	}
	origin, err := externalOrigin(cfg.ExternalOrigin, cfg.Audience)
	if err != nil {
		return nil, err
	}
	v.origin = origin
	replay := cfg.DPoPReplay
	if replay == nil {
		replay = dpop.NewMemoryReplayCache()
	}
	v.checker = &dpop.Checker{Algorithms: cfg.DPoPAlgorithms, MaxAge: cfg.DPoPMaxAge, Replay: replay, Now: v.cfg.Now}
	v.keys = &keySet{uri: v.cfg.JWKSURI, hc: v.hc, minInterval: v.cfg.JWKSMinRefresh, now: v.cfg.Now}
	return v, nil
}

// externalOrigin is the configured origin, else the audience's, as scheme://host.
func externalOrigin(configured, audience string) (string, error) {
	src := configured
	if src == "" {
		src = audience
	}
	u, err := url.Parse(src)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		if configured == "" {
			return "", nil // an audience that is no URL: DPoP proofs cannot be checked
		}
		return "", fmt.Errorf("resource: ExternalOrigin %q is not an http(s) origin", configured)
	}
	return u.Scheme + "://" + u.Host, nil
}

// ErrInvalidToken is wrapped by every refusal of a token by Validate.
var ErrInvalidToken = errors.New("invalid token")

func invalidToken(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidToken, fmt.Sprintf(format, a...))
}

// Validate checks raw locally (no introspection) and returns its claims. A refusal wraps
// ErrInvalidToken; any other error means the keys could not be had.
func (v *Validator) Validate(ctx context.Context, raw string) (*Claims, error) {
	if raw == "" || len(raw) > maxTokenBytes {
		return nil, invalidToken("empty or too large")
	}
	tok, err := jwt.ParseSigned(raw, v.algs) // refuses none, HS*, and every alg not listed
	if err != nil {
		return nil, invalidToken("malformed: %v", err)
	}
	if len(tok.Headers) != 1 {
		return nil, invalidToken("one signature expected")
	}
	h := tok.Headers[0]
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	if t := strings.ToLower(typ); t != "at+jwt" && t != "application/at+jwt" {
		return nil, invalidToken("typ is not at+jwt")
	}
	key, err := v.keys.key(ctx, h.KeyID)
	if errors.Is(err, errNoKeys) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil, err
	}
	if err != nil {
		return nil, invalidToken("%v", err)
	}
	if key.Algorithm != "" && key.Algorithm != h.Algorithm { // a key signs with its own algorithm only
		return nil, invalidToken("alg does not match the key")
	}
	var c Claims
	if err := tok.Claims(key.Key, &c); err != nil {
		return nil, invalidToken("signature: %v", err)
	}
	if c.Expiry == nil || c.Subject == "" {
		return nil, invalidToken("no exp or sub")
	}
	err = c.ValidateWithLeeway(jwt.Expected{Issuer: v.cfg.Issuer, AnyAudience: jwt.Audience{v.cfg.Audience}, Time: v.cfg.Now()}, v.cfg.Leeway)
	if err != nil {
		return nil, invalidToken("%v", err)
	}
	return &c, nil
}
