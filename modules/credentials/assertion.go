package credentials

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/modules/agents"
	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/ident"
	"github.com/agentidp/agentidp/platform/jwks"
	"github.com/agentidp/agentidp/platform/replay"
)

// Limits of a client assertion.
const (
	// maxAssertionLen bounds a client_assertion: longer ones are refused unparsed.
	maxAssertionLen = 16 << 10
	// maxJTILen bounds a jti.
	maxJTILen = 256
	// clockSkew is how far in the future an iat or nbf may lie.
	clockSkew = 30 * time.Second
	// maxCandidateKeys bounds the keys one assertion is tried against.
	maxCandidateKeys = 20
)

// assertionClaims are the claims read from a client assertion.
type assertionClaims struct {
	jwt.Claims
}

// assertions verifies client assertions (SPEC §11): private_key_jwt against the agent's key
// credentials, federated tokens against the trusted issuer a credential binds. Every
// refusal is ErrInvalidClient; only an unavailable store (the replay cache, the database)
// is another error.
type assertions struct {
	cfg     *config.Config
	caches  *caches
	issuers *issuerCache
	agents  agents.Directory
	fetcher *jwks.Fetcher
	replay  *replay.Guard
	usage   *usageTracker
	log     *zap.Logger
	now     func() time.Time
}

var _ AssertionVerifier = (*assertions)(nil)

type assertionParams struct {
	fx.In
	Config  *config.Config
	Caches  *caches
	Issuers *issuerCache
	Agents  agents.Directory
	Fetcher *jwks.Fetcher
	Cache   cache.Cache
	Usage   *usageTracker
	Log     *zap.Logger
}

func newAssertions(p assertionParams) *assertions {
	return &assertions{cfg: p.Config, caches: p.Caches, issuers: p.Issuers, agents: p.Agents, fetcher: p.Fetcher,
		replay: replay.New(p.Cache), usage: p.Usage, log: p.Log, now: time.Now}
}

// parseAssertion parses a compact JWS with one of the allowed algorithms (go-jose refuses
// every other, "none" and HS256 included) and reads its claims unverified.
func parseAssertion(raw string) (*jwt.JSONWebToken, *assertionClaims, error) {
	if len(raw) > maxAssertionLen {
		return nil, nil, ErrInvalidClient
	}
	tok, err := jwt.ParseSigned(raw, jwks.Algs)
	if err != nil || len(tok.Headers) != 1 {
		return nil, nil, ErrInvalidClient
	}
	var c assertionClaims
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		return nil, nil, ErrInvalidClient
	}
	return tok, &c, nil
}

// parsedAssertion is the outcome of parseAssertion, kept by NewAssertion.
type parsedAssertion struct {
	tok    *jwt.JSONWebToken
	claims *assertionClaims
	err    error
}

// parse is the assertion's JWT parsed (unverified): NewAssertion's result, or parsed now.
func (a Assertion) parse() (*jwt.JSONWebToken, *assertionClaims, error) {
	if a.parsed != nil {
		return a.parsed.tok, a.parsed.claims, a.parsed.err
	}
	return parseAssertion(a.JWT)
}

// VerifyAssertion implements AssertionVerifier.
func (s *assertions) VerifyAssertion(ctx context.Context, a Assertion) (Verified, error) {
	tok, c, err := a.parse()
	if err != nil {
		return Verified{}, ErrInvalidClient
	}
	switch {
	case a.Type == AssertionJWTBearer && (a.ClientID == "" || a.ClientID == c.Issuer):
		return s.privateKeyJWT(ctx, tok, c, a)
	case a.Type == AssertionJWTBearer, a.Type == AssertionSPIFFE:
		return s.federated(ctx, tok, c, a)
	}
	return Verified{}, ErrInvalidClient
}

// privateKeyJWT verifies an assertion the agent signed with a key of one of its
// private_key_jwt credentials: iss = sub = the agent, aud one issuer of this server, exp
// within AGENTIDP_CLIENT_ASSERTION_MAX_AGE, jti used once per iss on the whole server.
func (s *assertions) privateKeyJWT(ctx context.Context, tok *jwt.JSONWebToken, uc *assertionClaims, a Assertion) (Verified, error) {
	now := s.now()
	var cands []candidate
	id, ok := ident.Parse(uc.Issuer)
	if ok && uc.Subject == uc.Issuer {
		e, err := s.caches.agents.get(ctx, id)
		if err != nil {
			return Verified{}, s.storeFailure(ctx, err)
		}
		kid := tok.Headers[0].KeyID
		for i := range e.creds {
			cr := &e.creds[i]
			if cr.typ == TypePrivateKeyJWT && cr.usable(now) {
				cands = appendKeys(cands, cr.id, e.agentID, cr.keys, kid)
			}
		}
	}
	m, c := verifyAgainst(tok, cands)
	if m == nil {
		return Verified{}, ErrInvalidClient
	}
	if c.Issuer != m.agentID || c.Subject != m.agentID || (a.ClientID != "" && a.ClientID != m.agentID) {
		return Verified{}, ErrInvalidClient
	}
	if err := s.checkAudience(ctx, c, m.agentID, ""); err != nil {
		return Verified{}, err
	}
	if err := checkTimes(c, now, s.cfg.ClientAssertionMaxAge); err != nil {
		return Verified{}, err
	}
	if c.ID == "" || len(c.ID) > maxJTILen {
		return Verified{}, ErrInvalidClient
	}
	first, err := s.replay.First(ctx, "assertion:"+c.Issuer, c.ID, c.Expiry.Time())
	if err != nil {
		return Verified{}, apperr.Unavailable("the replay cache is unavailable; client assertions cannot be checked, retry shortly", err)
	}
	if !first {
		return Verified{}, ErrInvalidClient
	}
	s.usage.touch(m.credID, now)
	return Verified{AgentID: m.agentID, CredentialID: m.credID, Type: TypePrivateKeyJWT}, nil
}

// federated verifies a trusted issuer's token for the agent named by client_id: a live
// federated credential of the agent binds a trusted issuer of the agent's organization
// whose issuer is the token's iss and a subject that is its sub; the issuer's keys verify
// it; aud is one issuer of this server; exp has not passed and exp - iat is at most
// AGENTIDP_FEDERATED_MAX_LIFETIME. Not single-use: such tokens are reused until they
// expire.
func (s *assertions) federated(ctx context.Context, tok *jwt.JSONWebToken, uc *assertionClaims, a Assertion) (Verified, error) {
	now := s.now()
	if a.Type == AssertionSPIFFE && !strings.HasPrefix(uc.Subject, "spiffe://") {
		return Verified{}, ErrInvalidClient
	}
	id, ok := ident.Parse(a.ClientID)
	if !ok {
		return Verified{}, ErrInvalidClient
	}
	e, err := s.caches.agents.get(ctx, id)
	if err != nil {
		return Verified{}, s.storeFailure(ctx, err)
	}
	kid := tok.Headers[0].KeyID
	var cands []candidate
	for i := range e.creds {
		cr := &e.creds[i]
		if cr.typ != TypeFederated || !cr.usable(now) || cr.subject != uc.Subject {
			continue
		}
		ti, err := s.issuers.get(ctx, cr.issuerID)
		if err != nil {
			return Verified{}, s.storeFailure(ctx, err)
		}
		if ti == nil || ti.deleted || ti.issuer != uc.Issuer {
			continue
		}
		keys := ti.keys
		if ti.jwksURI != "" {
			fetched, err := s.fetcher.Keys(ctx, ti.jwksURI, kid)
			if err != nil {
				s.log.Warn("a trusted issuer's key set could not be fetched", zap.String("trusted_issuer_id", ti.id),
					zap.Error(err))
				continue
			}
			keys = jose.JSONWebKeySet{Keys: fetched}
		}
		before := len(cands)
		cands = appendKeys(cands, cr.id, e.agentID, keys, kid)
		for j := before; j < len(cands); j++ {
			cands[j].org = ti.org
		}
	}
	m, c := verifyAgainst(tok, cands)
	if m == nil || c.Issuer != uc.Issuer || c.Subject != uc.Subject {
		return Verified{}, ErrInvalidClient
	}
	if err := s.checkAudience(ctx, c, m.agentID, m.org); err != nil {
		return Verified{}, err
	}
	if err := checkTimes(c, now, s.cfg.FederatedMaxLifetime); err != nil {
		return Verified{}, err
	}
	s.usage.touch(m.credID, now)
	return Verified{AgentID: m.agentID, CredentialID: m.credID, Type: TypeFederated}, nil
}

// candidate is one key an assertion may be verified with.
type candidate struct {
	credID, agentID, org string
	key                  jose.JSONWebKey
}

// appendKeys adds the keys of set that kid names (every key when kid is empty), up to
// maxCandidateKeys in all.
func appendKeys(cands []candidate, credID, agentID string, set jose.JSONWebKeySet, kid string) []candidate {
	for _, k := range set.Keys {
		if len(cands) == maxCandidateKeys {
			break
		}
		if kid == "" || k.KeyID == kid {
			cands = append(cands, candidate{credID: credID, agentID: agentID, key: k})
		}
	}
	return cands
}

// verifyAgainst returns the first candidate whose key verifies tok with the header's alg
// (which must fit the key: RS256/PS256 for RSA, ES256 for P-256, ES384 for P-384, EdDSA
// for Ed25519), and the verified claims. With no candidate it still verifies once, against
// a key of the header's algorithm that signed nothing, so that an unknown client costs
// what a wrong signature costs.
func verifyAgainst(tok *jwt.JSONWebToken, cands []candidate) (*candidate, *assertionClaims) {
	alg := jose.SignatureAlgorithm(tok.Headers[0].Algorithm)
	tried := false
	for i := range cands {
		if !jwks.AlgFits(alg, cands[i].key.Key) {
			continue
		}
		tried = true
		var c assertionClaims
		if tok.Claims(cands[i].key.Key, &c) == nil {
			return &cands[i], &c
		}
	}
	if !tried {
		if k := decoyKey(alg); k != nil {
			var c assertionClaims
			_ = tok.Claims(k, &c)
		}
	}
	return nil, nil
}

// checkAudience wants aud to be exactly one value, an issuer of this server: the agent's
// organization's or AGENTIDP_ISSUER. Endpoint URLs (the token endpoint's included) are not
// issuers and are refused (the audience injection that draft-ietf-oauth-rfc7523bis closes).
// For a federated credential, org is the trusted issuer's, which must be the agent's.
func (s *assertions) checkAudience(ctx context.Context, c *assertionClaims, agentID, org string) error {
	if len(c.Audience) != 1 {
		return ErrInvalidClient
	}
	ag, err := s.agents.Lookup(ctx, agentID)
	switch {
	case errors.Is(err, agents.ErrNotFound):
		return ErrInvalidClient
	case err != nil:
		return s.storeFailure(ctx, err)
	case org != "" && ag.OrgID != org:
		return ErrInvalidClient
	}
	aud := c.Audience[0]
	if aud != s.cfg.Issuer && aud != orgs.Issuer(s.cfg.Issuer, ag.OrgID) {
		return ErrInvalidClient
	}
	return nil
}

// checkTimes wants exp, not passed, at most maxAge after iat (after now when iat is
// absent); iat and nbf, when present, not in the future beyond the clock skew.
func checkTimes(c *assertionClaims, now time.Time, maxAge time.Duration) error {
	if c.Expiry == nil {
		return ErrInvalidClient
	}
	exp := c.Expiry.Time()
	if !now.Before(exp) {
		return ErrInvalidClient
	}
	from := now
	if c.IssuedAt != nil {
		iat := c.IssuedAt.Time()
		if iat.After(now.Add(clockSkew)) {
			return ErrInvalidClient
		}
		from = iat
	}
	if exp.Sub(from) > maxAge {
		return ErrInvalidClient
	}
	if c.NotBefore != nil && c.NotBefore.Time().After(now.Add(clockSkew)) {
		return ErrInvalidClient
	}
	return nil
}

// storeFailure maps a failed read to an error callers answer 503, never ErrInvalidClient.
func (s *assertions) storeFailure(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	s.log.Warn("loading credentials for an assertion failed", zap.Error(err))
	return apperr.Unavailable("the credential store is unavailable; retry shortly", err)
}
