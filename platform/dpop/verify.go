package dpop

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/replay"
)

// futureSkew is how far in the future a proof's iat may be (clocks differ).
const futureSkew = 5 * time.Second

// replayNamespace is the replay guard's namespace of proof jtis.
const replayNamespace = "dpop"

// Request is what a proof is checked against: the request's method and path, and every
// DPoP header it carries.
type Request struct {
	Method string
	Path   string // the request's path, decoded, without query
	Proofs []string
}

// canonicalHeader is HeaderName in Go's canonical form: looked up directly, it costs no
// allocation on requests without a proof (Header.Values would canonicalise it each time).
const canonicalHeader = "Dpop"

// FromHTTP is the Request of r. The host the request names is not used: a proof's htu
// must name one of the configured origins.
func FromHTTP(r *http.Request) Request {
	return Request{Method: r.Method, Path: r.URL.Path, Proofs: r.Header[canonicalHeader]}
}

// Present reports whether the request carries a DPoP header at all: such a request is
// judged by its proof, even where none is required.
func (r Request) Present() bool { return len(r.Proofs) > 0 }

// Verifier checks proofs against requests (RFC 9449 §4.3) and remembers each proof's jti
// on the whole server while the proof is fresh.
type Verifier struct {
	origins map[string]bool // normalised origins a proof's htu may name
	maxAge  time.Duration
	guard   *replay.Guard
	now     func() time.Time
}

// New is the server's Verifier: htu may name AGENTIDP_ISSUER's origin or one of
// AGENTIDP_DPOP_ORIGINS; iat may be AGENTIDP_DPOP_MAX_AGE old; jtis are remembered in kv
// (the server's cache: Redis when configured, so every replica sees every proof).
func New(cfg *config.Config, kv cache.KV) *Verifier {
	v := &Verifier{origins: map[string]bool{}, maxAge: cfg.DPoPMaxAge, guard: replay.New(kv), now: time.Now}
	for _, o := range append([]string{cfg.Issuer}, cfg.DPoPOrigins...) {
		if u, err := url.Parse(o); err == nil && u.Host != "" {
			v.origins[origin(u)] = true
		}
	}
	return v
}

// Verify checks the request's one proof: Parse, then htm = the request's method, htu = a
// configured origin followed by the request's path (query and fragment ignored), iat
// within the last AGENTIDP_DPOP_MAX_AGE and at most 5 s ahead, at a protected resource
// (accessToken not "") ath = base64url(SHA-256(accessToken)), and last the jti, which must
// not have been seen on the server while the proof is fresh. A refusal is an
// *InvalidProof; a replay store that cannot answer is an error wrapping
// cache.ErrUnavailable (answer 503: a proof is never accepted unchecked).
func (v *Verifier) Verify(ctx context.Context, req Request, accessToken string) (*Proof, error) {
	switch len(req.Proofs) {
	case 0:
		return nil, errMissing
	case 1:
	default:
		return nil, errMultiple
	}
	p, err := Parse(req.Proofs[0])
	if err != nil {
		return nil, err
	}
	if p.HTM != req.Method {
		return nil, errHTM
	}
	if !v.htuMatches(p.HTU, req.Path) {
		return nil, errHTU
	}
	now := v.now()
	iat := p.IssuedAt.Time()
	switch {
	case iat.Before(now.Add(-v.maxAge)):
		return nil, errStale
	case iat.After(now.Add(futureSkew)):
		return nil, errFuture
	}
	if accessToken != "" {
		if p.ATH == "" {
			return nil, errATHMissing
		}
		if subtle.ConstantTimeCompare([]byte(p.ATH), []byte(TokenHash(accessToken))) != 1 {
			return nil, errATH
		}
	}
	first, err := v.guard.First(ctx, replayNamespace, p.ID, iat.Add(v.maxAge+futureSkew))
	if err != nil {
		return nil, fmt.Errorf("dpop: cannot check the proof's jti: %w", err)
	}
	if !first {
		return nil, errReplayed
	}
	return p, nil
}

// TokenHash is a proof's ath for accessToken: base64url(SHA-256(token)).
func TokenHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// htuMatches compares htu with the configured origins and path after the normalisation
// RFC 9449 §4.3 asks for (RFC 3986 §6.2.2 and §6.2.3: scheme and host in lower case, the
// scheme's default port dropped, percent-encoding decoded, an empty path as "/"); the
// query and fragment are ignored.
func (v *Verifier) htuMatches(htu, path string) bool {
	u, err := url.Parse(htu)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Opaque != "" {
		return false
	}
	if !v.origins[origin(u)] {
		return false
	}
	p := u.Path
	if p == "" {
		p = "/"
	}
	return p == path
}

// origin is u's scheme and host, normalised: lower case, without the default port.
func origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if port != "" {
		return scheme + "://" + net.JoinHostPort(host, port)
	}
	if strings.Contains(host, ":") { // IPv6
		return scheme + "://[" + host + "]"
	}
	return scheme + "://" + host
}
