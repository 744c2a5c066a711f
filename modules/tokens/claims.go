package tokens

import (
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/agentidp/agentidp/modules/orgs"
)

// claims are an access token's claims (RFC 9068 §2.2): the registered ones through
// go-jose's jwt.Claims, plus client_id, scope, org_id (the agent's organization, whose
// issuer iss is), cid, the private claim naming the credential that minted the token, so
// that revoking the credential kills the token, and, in a token for a registered API, api,
// the private claim naming the API (its api_id), so that deleting the API kills the token
// (also one issued before the identifier was registered again for another API).
// Encoded with encoding/json (aud is one string when there is one audience), decoded by
// go-jose after the signature has been checked.
type claims struct {
	jwt.Claims
	ClientID     string `json:"client_id"`
	Scope        string `json:"scope"`
	OrgID        string `json:"org_id,omitempty"` // absent in tokens issued before organizations: root
	CredentialID string `json:"cid"`
	APIID        string `json:"api,omitempty"` // a registered API's token: the API's api_id
	// Act names the actor of a delegated token (RFC 8693 §4.1). This server issues none
	// yet; a token carrying one manages nothing (the policy's "delegated" input).
	Act map[string]any `json:"act,omitempty"`
	// Cnf binds a DPoP-bound token to its key (RFC 9449 §6.1, RFC 7800): absent in a
	// bearer token.
	Cnf *confirmation `json:"cnf,omitempty"`
}

// confirmation is the cnf claim of a DPoP-bound token: the RFC 7638 thumbprint (SHA-256,
// base64url) of the key whose proofs must come with the token.
type confirmation struct {
	JKT string `json:"jkt"`
}

// jkt is the token's cnf.jkt, "" for a bearer token.
func (c *claims) jkt() string {
	if c.Cnf == nil {
		return ""
	}
	return c.Cnf.JKT
}

// newClaims are the claims of a token for agent of org, minted by credential, valid from
// iat for ttl. issuer is the server's own; iss is org's (orgs.Issuer).
func newClaims(issuer, org, agent, credential, aud, scope, jti string, iat int64, ttl time.Duration) *claims {
	exp := jwt.NumericDate(iat + int64(ttl/time.Second))
	at := jwt.NumericDate(iat)
	return &claims{
		Claims: jwt.Claims{Issuer: orgs.Issuer(issuer, org), Subject: agent, Audience: jwt.Audience{aud},
			IssuedAt: &at, Expiry: &exp, ID: jti},
		ClientID: agent, Scope: scope, OrgID: org, CredentialID: credential,
	}
}

// expiry is exp in Unix seconds (0 when absent: validation refuses such a token).
func (c *claims) expiry() int64 { return unix(c.Expiry) }

// issuedAt is iat in Unix seconds (0 when absent).
func (c *claims) issuedAt() int64 { return unix(c.IssuedAt) }

func unix(d *jwt.NumericDate) int64 {
	if d == nil {
		return 0
	}
	return int64(*d)
}

// org is the token's organization: root for a token issued before organizations.
func (c *claims) org() string {
	if c.OrgID == "" {
		return orgs.RootID
	}
	return c.OrgID
}

// scopes splits the scope claim, sorted: the principal built from it is verified once and
// asked about on every request, and the policy's decision memo keys a sorted set without
// sorting a copy each time.
func (c *claims) scopes() []string {
	s := strings.Fields(c.Scope)
	slices.Sort(s)
	return s
}
