package tokens

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/agentidp/agentidp/modules/agents"
	"github.com/agentidp/agentidp/modules/credentials"
	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/httpserver"
	"github.com/agentidp/agentidp/platform/reqctx"
)

const (
	// maxTokenLen is the largest token looked at; anything longer is refused before any
	// decoding.
	maxTokenLen = 8 << 10
	// maxHeaderLen caps the encoded protected header.
	maxHeaderLen = 1 << 10
)

// invalidToken is a token refused for reason; it wraps httpserver.ErrInvalidToken. The
// reason is for logs and tests, never shown to the caller in more detail than "invalid".
type invalidToken struct{ reason string }

func (e *invalidToken) Error() string { return "invalid_token: " + e.reason }
func (e *invalidToken) Unwrap() error { return httpserver.ErrInvalidToken }

// The reasons a token is refused (preallocated: refusing costs no allocation).
var (
	errTooLong       = &invalidToken{"token too long"}
	errSegments      = &invalidToken{"not a compact JWS (3 segments)"}
	errEncoding      = &invalidToken{"bad base64url"}
	errHeader        = &invalidToken{"malformed header"}
	errHeaderParam   = &invalidToken{"header carries a key reference or critical parameter"}
	errAlg           = &invalidToken{"algorithm not accepted"}
	errTyp           = &invalidToken{"typ is not at+jwt"}
	errKID           = &invalidToken{"unknown kid"}
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
)

// jwsHeader is the protected header. Key references and critical parameters are decoded
// only to refuse them: the key is always ours, chosen by kid.
type jwsHeader struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Typ  string          `json:"typ"`
	Jku  json.RawMessage `json:"jku"`
	Jwk  json.RawMessage `json:"jwk"`
	X5u  json.RawMessage `json:"x5u"`
	X5c  json.RawMessage `json:"x5c"`
	Crit json.RawMessage `json:"crit"`
	Enc  json.RawMessage `json:"enc"`
	Zip  json.RawMessage `json:"zip"`
	B64  json.RawMessage `json:"b64"`
}

// supportedAlgs are the algorithms a header may name at all; the key's own algorithm must
// then match exactly.
func supportedAlg(alg string) bool { return alg == AlgRS256 || alg == AlgES256 || alg == AlgEdDSA }

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
	cache  *verifiedCache
	now    func() time.Time
}

func newValidator(issuer string, ring *keyRing, revs *revocationList, ad agents.Directory, cd credentials.Directory) *validator {
	return &validator{issuer: issuer, ring: ring, revs: revs, agents: ad, creds: cd,
		cache: newVerifiedCache(verifiedCacheSize), now: time.Now}
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
	if aud != "" && !t.claims.hasAudience(aud) {
		return t, errAudience
	}
	return t, v.alive(ctx, t.claims, now)
}

// authentic checks the token's form, signature and time claims: it is a token this server
// issued and it has not expired. The result is cached per exact token string, so a token
// presented again skips the parsing and the signature (its time claims are re-checked).
func (v *validator) authentic(ctx context.Context, token string, now time.Time) (*verified, error) {
	if len(token) > maxTokenLen {
		return nil, errTooLong
	}
	if t := v.cache.get(token); t != nil {
		if v.ring.published(t.kid, now) == nil {
			return nil, errKID
		}
		return t, checkTimes(t.claims, now)
	}
	t, err := v.parse(ctx, token, now)
	if err != nil {
		return nil, err
	}
	v.cache.put(token, t, t.claims.Expiry)
	return t, nil
}

// parse runs every check that depends on the token alone, in this order: segments, header
// (algorithm, typ, no key references), kid → our key pinned to its algorithm, signature,
// claims.
func (v *validator) parse(ctx context.Context, token string, now time.Time) (*verified, error) {
	dot1 := strings.IndexByte(token, '.')
	dot2 := strings.LastIndexByte(token, '.')
	if dot1 <= 0 || dot2 == dot1 || dot2 == len(token)-1 || strings.IndexByte(token[dot1+1:dot2], '.') >= 0 {
		return nil, errSegments
	}
	if dot1 > maxHeaderLen {
		return nil, errHeader
	}
	var hb [maxHeaderLen]byte
	hn, err := b64.Strict().Decode(hb[:], []byte(token[:dot1]))
	if err != nil {
		return nil, errEncoding
	}
	var h jwsHeader
	if json.Unmarshal(hb[:hn], &h) != nil {
		return nil, errHeader
	}
	if h.Jku != nil || h.Jwk != nil || h.X5u != nil || h.X5c != nil || h.Crit != nil || h.Enc != nil || h.Zip != nil || h.B64 != nil {
		return nil, errHeaderParam
	}
	if !supportedAlg(h.Alg) {
		return nil, errAlg
	}
	if !isAccessTokenType(h.Typ) {
		return nil, errTyp
	}
	key := v.ring.verificationKey(ctx, h.Kid, now)
	if key == nil {
		return nil, errKID
	}
	if key.alg != h.Alg {
		return nil, errAlg
	}
	sig, err := b64.Strict().DecodeString(token[dot2+1:])
	if err != nil {
		return nil, errEncoding
	}
	if !key.verify([]byte(token[:dot2]), sig) {
		return nil, errSignature
	}
	payload, err := b64.Strict().DecodeString(token[dot1+1 : dot2])
	if err != nil {
		return nil, errEncoding
	}
	c, err := parseClaims(payload)
	if err != nil {
		return nil, errMalformed
	}
	if c.Issuer != v.issuer {
		return nil, errIssuer
	}
	if c.Subject == "" || c.ClientID != c.Subject || !isUUID(c.ID) || c.CredentialID == "" || len(c.Audience) == 0 {
		return nil, errMalformed
	}
	if err := checkTimes(c, now); err != nil {
		return nil, err
	}
	return &verified{claims: c, kid: key.kid, principal: reqctx.Principal{
		AgentID: c.Subject, ClientID: c.ClientID, Scopes: c.scopes(), TokenID: c.ID, CredentialID: c.CredentialID,
	}}, nil
}

// checkTimes applies exp, nbf and iat with the leeway.
func checkTimes(c *claims, now time.Time) error {
	lw := int64(leeway / time.Second)
	n := now.Unix()
	switch {
	case n >= c.Expiry+lw:
		return errExpired
	case c.NotBefore != 0 && n+lw < c.NotBefore, n+lw < c.IssuedAt:
		return errNotYetValid
	}
	return nil
}

// alive checks what can change during a token's life: revocation, the agent (status, and
// the cut-off set when it was suspended), the credential that minted it.
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
	case !a.TokensNotBefore.IsZero() && c.IssuedAt <= a.TokensNotBefore.Unix():
		return errAgentCutoff
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

// isUUID reports whether s is a UUID in its canonical 36-character form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}
