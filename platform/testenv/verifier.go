package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"

	"go.uber.org/fx"

	"github.com/agentidp/agentidp/platform/httpserver"
	"github.com/agentidp/agentidp/platform/reqctx"
)

// Bearers is a test httpserver.Verifier: it hands out opaque bearer strings standing for a
// caller with the given scopes, so a module's handler tests can call protected routes
// through the real auth and policy middleware before (or without) the tokens module.
type Bearers struct {
	mu     sync.Mutex
	tokens map[string]*reqctx.Principal
}

// NewBearers returns an empty Bearers.
func NewBearers() *Bearers { return &Bearers{tokens: map[string]*reqctx.Principal{}} }

// RootOrgID is the root organization's fixed id (modules/orgs.RootID, which platform code
// cannot import).
const RootOrgID = "00000000-0000-0000-0000-000000000001"

// Issue returns a bearer token for agentID of the root organization holding scopes.
func (b *Bearers) Issue(agentID string, scopes ...string) string {
	return b.IssueIn(RootOrgID, agentID, scopes...)
}

// IssueIn returns a bearer token for agentID of organization orgID holding scopes.
func (b *Bearers) IssueIn(orgID, agentID string, scopes ...string) string {
	raw := make([]byte, 16)
	_, _ = rand.Read(raw)
	tok := "test-" + hex.EncodeToString(raw)
	b.mu.Lock()
	b.tokens[tok] = &reqctx.Principal{AgentID: agentID, OrgID: orgID, ClientID: agentID, Scopes: scopes, TokenID: tok}
	b.mu.Unlock()
	return tok
}

// Verify implements httpserver.Verifier.
func (b *Bearers) Verify(_ context.Context, token string) (*reqctx.Principal, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if p, ok := b.tokens[token]; ok {
		return p, nil
	}
	return nil, httpserver.ErrInvalidToken
}

// Option provides b as the graph's httpserver.Verifier.
func (b *Bearers) Option() fx.Option {
	return fx.Provide(func() httpserver.Verifier { return b })
}
