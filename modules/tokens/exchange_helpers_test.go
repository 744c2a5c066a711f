package tokens_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"go.uber.org/fx"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/agentidp/agentidp/modules/tokens"
	"github.com/agentidp/agentidp/platform/cache"
)

const (
	grantExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	typeAccess    = "urn:ietf:params:oauth:token-type:access_token"
	typeJWT       = "urn:ietf:params:oauth:token-type:jwt"
)

// setDelegates PATCHes agent's delegates as the admin.
func (e *env) setDelegates(agent string, delegates ...string) {
	e.t.Helper()
	if delegates == nil {
		delegates = []string{}
	}
	e.mustAPI(http.StatusOK, http.MethodPatch, "/api/v1/agents/"+agent, e.adminToken(), map[string]any{"delegates": delegates})
}

// exchangeResponse asks for a token exchange as actor (client_secret_basic) with subject;
// extra parameters are added (and override the defaults).
func (e *env) exchangeResponse(actor client, subject string, extra url.Values) response {
	e.t.Helper()
	form := url.Values{"grant_type": {grantExchange}, "subject_token": {subject}, "subject_token_type": {typeAccess}}
	for k, v := range extra {
		form[k] = v
	}
	return e.post(tokens.PathToken, form, "Authorization", basic(actor.ID, actor.Secret))
}

// exchange performs a token exchange that must succeed and returns the issued token.
func (e *env) exchange(actor client, subject string, extra url.Values) string {
	e.t.Helper()
	r := e.exchangeResponse(actor, subject, extra)
	if r.Status != http.StatusOK {
		e.t.Fatalf("exchange by %s: %d %s", actor.ID, r.Status, r.Body)
	}
	m := r.json(e.t)
	if m["issued_token_type"] != typeAccess || m["token_type"] != "Bearer" {
		e.t.Fatalf("exchange answer: %s", r.Body)
	}
	tok, _ := m["access_token"].(string)
	e.remember(tok)
	return tok
}

// payload decodes a token's claims without checking the signature (the server checks it).
func payload(t testing.TB, token string) map[string]any {
	t.Helper()
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := tok.UnsafeClaimsWithoutVerification(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// actChain flattens an act claim (outermost first).
func actChain(act any) []string {
	var out []string
	for act != nil {
		m, ok := act.(map[string]any)
		if !ok {
			return append(out, "?")
		}
		s, _ := m["sub"].(string)
		out = append(out, s)
		act = m["act"]
	}
	return out
}

func asJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// isolatedReplica is another replica on the same database with a cache of its own: no
// broadcast and no cache entry of this one reaches it (as with Redis down between them).
func (e *env) isolatedReplica() *env {
	e.t.Helper()
	own := cache.NewMemory()
	e.t.Cleanup(func() { _ = own.Close() })
	return e.replica(nil, fx.Decorate(func(cache.Cache) cache.Cache { return own }))
}

// refusedSoon polls introspection of token on e until it is inactive, for at most 3 s (the
// caches poll their tables every second; the margin is for a busy machine), and logs when.
func (e *env) refusedSoon(t *testing.T, token string) {
	t.Helper()
	start := time.Now()
	for time.Since(start) < 3*time.Second {
		if !e.active(token) {
			t.Logf("the replica refused the token %s after the change", time.Since(start).Round(10*time.Millisecond))
			if s := e.api(http.MethodGet, "/api/v1/agents", token, nil).Status; s != http.StatusUnauthorized {
				t.Fatalf("the API answers %d to the dead token", s)
			}
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the replica still accepts the token %s after the change", time.Since(start).Round(time.Millisecond))
}
