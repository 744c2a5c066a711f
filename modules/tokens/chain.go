package tokens

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/agentidp/agentidp/modules/agents"
	"github.com/agentidp/agentidp/modules/credentials"
)

// This file is what a delegated token (SPEC §13) carries and how the validator keeps its
// chain live. A token made by the token exchange holds
//   - act, the RFC 8693 §4.1 actor claim: {sub: the actor, act: {sub: the previous actor}}
//     (the outermost actor first, the one who holds the token);
//   - chain, a private claim: one link per token it derives from, the original subject's
//     token first: that token's client (agent), the credential that authenticated it, its
//     jti and iat.
//
// On every use the validator checks each link with the caches it already uses for a plain
// token (alive): the link's jti against the revocation list, its agent (active, in the
// token's organization, not cut off since the link's iat) and its credential, and the
// actor itself; the organization is checked once, since every agent of a chain is of the
// same one. That is a bounded number of cache lookups (the chain's depth), no database
// round trip once the caches are warm, and it takes effect on every replica as fast as
// those caches learn of a change (within a second, also without Redis: the revocation
// list syncs from its table, the directories poll their tables' changes).

// maxActDepth is the deepest act claim the validator parses, whatever the configuration
// (AGENTIDP_MAX_DELEGATION_DEPTH may be at most this).
const maxActDepth = 16

// actClaim is an act claim: the actor's agent id, and the actor before it.
type actClaim struct {
	Sub string    `json:"sub"`
	Act *actClaim `json:"act,omitempty"`
}

var (
	errActMalformed = errors.New("act: not an object with a sub (an agent id) and an optional act")
	errActTooDeep   = errors.New("act: nested too deeply")
)

// UnmarshalJSON parses an act claim strictly: an object with sub, an agent id (UUID), and
// an optional nested act of the same form, at most maxActDepth levels; any other member
// refuses it.
func (a *actClaim) UnmarshalJSON(b []byte) error {
	p, err := parseAct(b, maxActDepth)
	if err != nil {
		return err
	}
	*a = *p
	return nil
}

// parseAct parses raw as an act claim of at most depth levels.
func parseAct(raw []byte, depth int) (*actClaim, error) {
	if depth <= 0 {
		return nil, errActTooDeep
	}
	var obj struct {
		Sub *string         `json:"sub"`
		Act json.RawMessage `json:"act"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&obj); err != nil || dec.More() || obj.Sub == nil || !isUUID(*obj.Sub) {
		return nil, errActMalformed
	}
	a := &actClaim{Sub: *obj.Sub}
	if len(obj.Act) > 0 && !bytes.Equal(obj.Act, []byte("null")) {
		inner, err := parseAct(obj.Act, depth-1)
		if err != nil {
			return nil, err
		}
		a.Act = inner
	}
	return a, nil
}

// actors are the agents of the act claim, the first actor first (the holder last).
func (a *actClaim) actors() []string {
	var out []string
	for x := a; x != nil; x = x.Act {
		out = append(out, x.Sub)
	}
	slices.Reverse(out)
	return out
}

// depth is the number of actors in the claim (0 for none).
func (a *actClaim) depth() int {
	n := 0
	for x := a; x != nil; x = x.Act {
		n++
	}
	return n
}

// link is one token a delegated token derives from.
type link struct {
	Client     string `json:"client_id"` // the agent the token was issued to
	Credential string `json:"cid"`       // the credential that authenticated it
	JTI        string `json:"jti"`
	IssuedAt   int64  `json:"iat"`
}

// chainIDs are the agents of a token's delegation chain: the subject, then each actor in
// order, the holder last ([A, B, C] for C acting for B acting for A).
func (c *claims) chainIDs() []string {
	return append([]string{c.Subject}, c.Act.actors()...)
}

// checkChainForm checks that a token's act and chain claims agree (run once per token, by
// parse): without act, client_id is sub and there is no chain; with act, client_id is the
// outermost actor and the chain has one link per actor, each issued to the agent before it
// (the subject, then each actor in turn).
func checkChainForm(c *claims) error {
	if c.Act == nil {
		if c.ClientID != c.Subject || len(c.Chain) != 0 {
			return errMalformed
		}
		return nil
	}
	actors := c.Act.actors()
	if c.ClientID != actors[len(actors)-1] || len(c.Chain) != len(actors) {
		return errMalformed
	}
	for i, l := range c.Chain {
		want := c.Subject
		if i > 0 {
			want = actors[i-1]
		}
		if l.Client != want || !isUUID(l.JTI) || l.Credential == "" || l.IssuedAt <= 0 || l.IssuedAt > c.issuedAt() {
			return errMalformed
		}
	}
	return nil
}

// Refusals of a delegated token whose chain broke.
var (
	errChainRevoked    = &invalidToken{"a token of its delegation chain is revoked"}
	errChainAgent      = &invalidToken{"an agent of its delegation chain is not active"}
	errChainCutoff     = &invalidToken{"a token of its delegation chain was issued before its agent was suspended"}
	errChainCredential = &invalidToken{"a credential of its delegation chain is not active"}
)

// chainAlive checks the links of a delegated token and its actor (alive has checked the
// token itself, its subject, organization and credential).
func (v *validator) chainAlive(ctx context.Context, c *claims, now time.Time) error {
	for _, l := range c.Chain {
		revoked, err := v.revs.IsRevoked(ctx, l.JTI)
		if err != nil {
			return err
		}
		if revoked {
			return errChainRevoked
		}
		if err := v.chainAgent(ctx, c, l.Client, l.IssuedAt); err != nil {
			return err
		}
		st, err := v.creds.State(ctx, l.Credential)
		switch {
		case errors.Is(err, credentials.ErrNotFound):
			return errChainCredential
		case err != nil:
			return unavailable("cannot check a credential of the token's chain; retry shortly", err)
		case !st.Active(now):
			return errChainCredential
		}
	}
	return v.chainAgent(ctx, c, c.ClientID, c.issuedAt())
}

// chainAgent checks one agent of c's chain, for a token of it issued at iat.
func (v *validator) chainAgent(ctx context.Context, c *claims, id string, iat int64) error {
	a, err := v.agents.Lookup(ctx, id)
	switch {
	case errors.Is(err, agents.ErrNotFound):
		return errChainAgent
	case err != nil:
		return unavailable("cannot check an agent of the token's chain; retry shortly", err)
	case a.Status != agents.StatusActive || a.OrgID != c.org():
		return errChainAgent
	case !a.TokensNotBefore.IsZero() && iat <= a.TokensNotBefore.Unix():
		return errChainCutoff
	}
	return nil
}
