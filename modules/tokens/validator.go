package tokens

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/agentidp/agentidp/modules/agents"
	"github.com/agentidp/agentidp/modules/apis"
	"github.com/agentidp/agentidp/modules/credentials"
	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/httpserver"
	"github.com/agentidp/agentidp/platform/ident"
	"github.com/agentidp/agentidp/platform/reqctx"
)

// maxTokenLen is the largest token looked at; anything longer is refused before any
// decoding.
const maxTokenLen = 8 << 10

// The verified cache remembers tokens that passed the signature and claim checks, keyed by
// the exact token string: only the very same bytes hit, so a hit proves what the signature
// proved, and on a hit the key must still be published and the times are checked again. It
// never remembers a verdict on revocation, agent or credential: those are checked on every
// use. It spares the parsing and the signature check of a token presented again, which is
// most of a protected request's cost with RS256 (docs/performance.md).
const (
	verifiedCacheSize = 8192 // tokens, about 1 KiB each
	verifiedCacheTTL  = 10 * time.Minute
)

// invalidToken is a token refused for reason; it wraps httpserver.ErrInvalidToken. The
// reason is for logs and tests, never shown to the caller in more detail than "invalid".
type invalidToken struct{ reason string }

func (e *invalidToken) Error() string { return "invalid_token: " + e.reason }
func (e *invalidToken) Unwrap() error { return httpserver.ErrInvalidToken }

// The reasons a token is refused (preallocated: refusing costs no allocation).
var (
	errTooLong       = &invalidToken{"token too long"}
	errFormat        = &invalidToken{"not a compact JWS with a valid protected header"}
	errHeaderParam   = &invalidToken{"header carries a key, a key reference or a parameter this server does not set"}
	errAlg           = &invalidToken{"algorithm not accepted"}
	errTyp           = &invalidToken{"typ is not at+jwt"}
	errKID           = &invalidToken{"unknown kid"}
	errSignedRetired = &invalidToken{"issued after its key retired"}
	errSignature     = &invalidToken{"bad signature"}
	errMalformed     = &invalidToken{"malformed claims"}
	errIssuer        = &invalidToken{"wrong issuer"}
	errAudience      = &invalidToken{"wrong audience"}
	errExpired       = &invalidToken{"expired"}
	errNotYetValid   = &invalidToken{"not yet valid"}
	errRevoked       = &invalidToken{"revoked"}
	errAgentInactive = &invalidToken{"agent not active"}
	errAgentCutoff   = &invalidToken{"issued before the agent was suspended"}
	errCredential    = &invalidToken{"credential not active"}
	errOrg           = &invalidToken{"not the organization of its agent"}
	errOrgInactive   = &invalidToken{"organization suspended"}
	errOrgCutoff     = &invalidToken{"issued before the organization was suspended"}
	errAPI           = &invalidToken{"its API is deleted, or not the API of its audience and organization"}
)

// acceptedAlgs are the algorithms a header may name at all (anything else, none and the
// HMAC family included, is refused by go-jose before any key is looked at); the key the
// kid names must then have been made for exactly that algorithm.
var acceptedAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA}

// verified is a token whose signature and claims checked out.
type verified struct {
	claims    *claims
	kid       string
	principal reqctx.Principal // template; Scopes shared, never modified
}

// validator is the one implementation of access-token validation, used by the API's bearer
// authentication (as httpserver.Verifier) and by introspection and revocation.
type validator struct {
	issuer string
	ring   *keyRing
	revs   *revocationList
	agents agents.Directory
	creds  credentials.Directory
	orgs   orgs.Directory
	apis   apis.Directory
	cache  *expirable.LRU[string, *verified] // see authentic
	now    func() time.Time
}

func newValidator(issuer string, ring *keyRing, revs *revocationList, ad agents.Directory, cd credentials.Directory,
	od orgs.Directory, apd apis.Directory) *validator {
	return &validator{issuer: issuer, ring: ring, revs: revs, agents: ad, creds: cd, orgs: od, apis: apd,
		cache: expirable.NewLRU[string, *verified](verifiedCacheSize, nil, verifiedCacheTTL), now: time.Now}
}

// Verify implements httpserver.Verifier: a token for this server's own audience whose
// agent and credential are active.
func (v *validator) Verify(ctx context.Context, token string) (*reqctx.Principal, error) {
	t, err := v.validate(ctx, token, v.issuer)
	if err != nil {
		return nil, err
	}
	p := t.principal
	return &p, nil
}

// validate checks everything: format, signature, claims, audience (unless aud is ""),
// revocation, the agent's status and cut-off, the credential's state. It returns an
// *invalidToken (wrapping httpserver.ErrInvalidToken) for a token to refuse, or an
// unavailable error when a store needed for the answer cannot be reached. When the token
// is authentic but refused afterwards (audience, revocation, agent, credential) the
// verified token comes back with the error, for audit events.
func (v *validator) validate(ctx context.Context, token, aud string) (*verified, error) {
	now := v.now()
	t, err := v.authentic(ctx, token, now)
	if err != nil {
		return nil, err
	}
	if aud != "" && !t.claims.Audience.Contains(aud) {
		return t, errAudience
	}
	return t, v.alive(ctx, t.claims, now)
}

// authentic checks the token's form, signature and time claims: it is a token this server
// issued, while its key signed, and it has not expired. The result is cached per exact
// token string, so a token presented again skips the parsing and the signature (its time
// claims and its key's retirement are re-checked).
func (v *validator) authentic(ctx context.Context, token string, now time.Time) (*verified, error) {
	if len(token) > maxTokenLen {
		return nil, errTooLong
	}
	if t, ok := v.cache.Get(token); ok {
		k := v.ring.published(t.kid, now)
		if k == nil {
			return nil, errKID
		}
		if !k.mayHaveSigned(t.claims.issuedAt()) { // the key may have retired since
			return nil, errSignedRetired
		}
		return t, checkTimes(t.claims, now)
	}
	t, err := v.parse(ctx, token, now)
	if err != nil {
		return nil, err
	}
	v.cache.Add(strings.Clone(token), t) // a copy: token may be a slice of a larger request body
	return t, nil
}

// parse runs every check that depends on the token alone, through go-jose: the compact
// form and an accepted algorithm (jwt.ParseSigned), the protected header (only alg, kid
// and typ at+jwt), kid → our key, whose own algorithm must be the header's, the signature
// with that key, then the claims, iat within the key's signing life included.
func (v *validator) parse(ctx context.Context, token string, now time.Time) (*verified, error) {
	jws, err := jwt.ParseSigned(token, acceptedAlgs)
	if err != nil {
		var alg *jose.ErrUnexpectedSignatureAlgorithm
		if errors.As(err, &alg) {
			return nil, errAlg
		}
		return nil, errFormat
	}
	h := jws.Headers[0] // a compact JWS has exactly one signature
	if err := checkHeader(&h); err != nil {
		return nil, err
	}
	key := v.ring.verificationKey(ctx, h.KeyID, now)
	if key == nil {
		return nil, errKID
	}
	if key.alg != h.Algorithm {
		return nil, errAlg
	}
	c := &claims{}
	if err := jws.Claims(key.public, c); err != nil {
		if errors.Is(err, jose.ErrCryptoFailure) {
			return nil, errSignature
		}
		return nil, errMalformed
	}
	if (c.OrgID != "" && !isUUID(c.OrgID)) || (c.APIID != "" && !isUUID(c.APIID)) || (c.Cnf != nil && !isThumbprint(c.Cnf.JKT)) {
		return nil, errMalformed
	}
	if c.Issuer != orgs.Issuer(v.issuer, c.org()) { // each org is its own issuer
		return nil, errIssuer
	}
	if c.Subject == "" || !isUUID(c.ID) || c.CredentialID == "" ||
		len(c.Audience) == 0 || c.Expiry == nil || c.IssuedAt == nil {
		return nil, errMalformed
	}
	if err := checkChainForm(c); err != nil { // client_id is sub, or the outermost actor
		return nil, err
	}
	if err := checkTimes(c, now); err != nil {
		return nil, err
	}
	if !key.mayHaveSigned(c.issuedAt()) {
		return nil, errSignedRetired
	}
	p := reqctx.Principal{
		AgentID: c.Subject, OrgID: c.org(), ClientID: c.ClientID, Scopes: c.scopes(), TokenID: c.ID, CredentialID: c.CredentialID,
		Delegated: c.Act != nil, JKT: c.jkt(),
	}
	if c.Act != nil {
		p.Chain = c.chainIDs() // from the verified claims, cached with them
	}
	return &verified{claims: c, kid: key.kid, principal: p}, nil
}

// checkHeader accepts exactly the protected header this server writes: alg, kid and typ
// (at+jwt or application/at+jwt, any case). A key (jwk), a key or certificate reference
// (jku, x5u, x5c, x5t), crit and anything else refuse the token: the key is always ours,
// chosen by kid, and nothing named in a token is ever fetched.
func checkHeader(h *jose.Header) error {
	if h.JSONWebKey != nil || h.Nonce != "" {
		return errHeaderParam
	}
	if _, err := h.Certificates(x509.VerifyOptions{}); !errors.Is(err, jose.ErrMissingX5cHeader) {
		return errHeaderParam
	}
	for k := range h.ExtraHeaders {
		if k != jose.HeaderType {
			return errHeaderParam
		}
	}
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	if !isAccessTokenType(typ) {
		return errTyp
	}
	return nil
}

// checkTimes applies exp, nbf and iat with the leeway (go-jose's rules).
func checkTimes(c *claims, now time.Time) error {
	switch c.Claims.ValidateWithLeeway(jwt.Expected{Time: now}, leeway) {
	case nil:
		return nil
	case jwt.ErrExpired:
		return errExpired
	default: // nbf or iat in the future
		return errNotYetValid
	}
}

// alive checks what can change during a token's life: revocation, the agent (status, and
// the cut-off set when it was suspended), its organization, the credential that minted it,
// and for a registered API's token the API (deleted: dead). Every lookup but a revocation
// miss comes from a cached directory.
func (v *validator) alive(ctx context.Context, c *claims, now time.Time) error {
	revoked, err := v.revs.IsRevoked(ctx, c.ID)
	if err != nil {
		return err
	}
	if revoked {
		return errRevoked
	}
	a, err := v.agents.Lookup(ctx, c.Subject)
	switch {
	case errors.Is(err, agents.ErrNotFound):
		return errAgentInactive
	case err != nil:
		return unavailable("cannot check the token's agent; retry shortly", err)
	case a.Status != agents.StatusActive:
		return errAgentInactive
	case !a.TokensNotBefore.IsZero() && c.issuedAt() <= a.TokensNotBefore.Unix():
		return errAgentCutoff
	case a.OrgID != c.org():
		return errOrg
	}
	o, err := v.orgs.Lookup(ctx, a.OrgID)
	switch {
	case errors.Is(err, orgs.ErrNotFound):
		return errOrg
	case err != nil:
		return unavailable("cannot check the token's organization; retry shortly", err)
	case !o.Active():
		return errOrgInactive
	case !o.TokensNotBefore.IsZero() && c.issuedAt() <= o.TokensNotBefore.Unix():
		return errOrgCutoff
	}
	st, err := v.creds.State(ctx, c.CredentialID)
	switch {
	case errors.Is(err, credentials.ErrNotFound):
		return errCredential
	case err != nil:
		return unavailable("cannot check the token's credential; retry shortly", err)
	case !st.Active(now):
		return errCredential
	}
	if c.APIID != "" {
		a, err := v.apis.ByID(ctx, c.APIID)
		switch {
		case errors.Is(err, apis.ErrNotFound):
			return errAPI
		case err != nil:
			return unavailable("cannot check the token's API; retry shortly", err)
		case a.OrgID != c.org() || !c.Audience.Contains(a.Identifier):
			return errAPI
		}
	}
	if c.Act != nil {
		return v.chainAlive(ctx, c, now)
	}
	return nil
}

// unavailable keeps an *apperr.Error as it is (it already says 503 or what else), and
// turns anything else into a 503.
func unavailable(detail string, err error) error {
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	return apperr.Unavailable(detail, err)
}

// isAccessTokenType accepts "at+jwt" and "application/at+jwt", in any case (RFC 9068 §4,
// RFC 7515 §4.1.9).
func isAccessTokenType(typ string) bool {
	if len(typ) > len("application/") && strings.EqualFold(typ[:len("application/")], "application/") {
		typ = typ[len("application/"):]
	}
	return strings.EqualFold(typ, tokenType)
}

// isThumbprint reports whether s is a SHA-256 thumbprint in unpadded base64url (43
// characters), as cnf.jkt holds.
func isThumbprint(s string) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == sha256.Size
}

// isUUID reports whether s is a UUID in its canonical 36-character form.
func isUUID(s string) bool { _, ok := ident.Parse(s); return ok }
