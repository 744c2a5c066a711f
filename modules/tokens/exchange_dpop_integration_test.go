package tokens_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/agentidp/agentidp/modules/tokens"
	"github.com/agentidp/agentidp/platform/dpop/dpoptest"
	"github.com/agentidp/agentidp/platform/testenv"
)

// exchangeWithProof is an exchange by actor of subject carrying the DPoP header proof
// ("" for none).
func (e *env) exchangeWithProof(actor client, subject, proof string) response {
	e.t.Helper()
	form := url.Values{"grant_type": {grantExchange}, "subject_token": {subject}, "subject_token_type": {typeAccess}}
	req, err := http.NewRequest(http.MethodPost, e.app.URL+tokens.PathToken, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", basic(actor.ID, actor.Secret))
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	return e.send(req)
}

// An exchanged token is never less constrained than its subject token (SPEC §13): a
// DPoP-bound subject token is exchanged only with a proof, of the actor's key, and the
// issued token is bound to that key; the actor's require_dpop applies; a proof sent with a
// bearer subject token binds the issued token too.
func TestIntegrationExchangeDPoP(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		a := e.newClient([]string{"agents:read"}, nil)
		bb, c := e.newClient([]string{}, nil), e.newClient([]string{}, nil)
		e.setDelegates(a.ID, bb.ID, c.ID)
		ka, kb := dpoptest.NewKey(t, jose.ES256), dpoptest.NewKey(t, jose.ES256)
		htu := e.htu(tokens.PathToken)

		bound := e.dpopToken(a, ka, "")
		wantOAuthError(t, e.exchangeWithProof(bb, bound, ""), http.StatusBadRequest, "invalid_dpop_proof")
		r := e.exchangeWithProof(bb, bound, kb.Proof(t, http.MethodPost, htu, ""))
		m := r.json(t)
		if r.Status != http.StatusOK || m["token_type"] != "DPoP" || m["issued_token_type"] != typeAccess {
			t.Fatalf("bound exchange: %d %s", r.Status, r.Body)
		}
		tok := m["access_token"].(string)
		e.remember(tok)
		if cnf, _ := payload(t, tok)["cnf"].(map[string]any); cnf["jkt"] != kb.JKT(t) {
			t.Fatalf("cnf %v, want the actor's key %s", cnf, kb.JKT(t))
		}
		path := "/api/v1/agents/" + a.ID
		if s := e.call(http.MethodGet, path, []string{"DPoP " + tok}, kb.Proof(t, http.MethodGet, e.htu(path), tok)).Status; s != http.StatusOK {
			t.Fatalf("the bound exchanged token with the actor's proof: %d", s)
		}
		if s := e.call(http.MethodGet, path, []string{"Bearer " + tok}).Status; s != http.StatusUnauthorized {
			t.Fatalf("the bound exchanged token as Bearer: %d", s)
		}

		// A bearer subject token with a proof: bound; the actor's require_dpop: a proof needed.
		plain := e.token(a, "", "")
		r = e.exchangeWithProof(bb, plain, kb.Proof(t, http.MethodPost, htu, ""))
		if r.Status != http.StatusOK || r.json(t)["token_type"] != "DPoP" {
			t.Fatalf("a proof with a bearer subject token: %d %s", r.Status, r.Body)
		}
		e.mustAPI(http.StatusOK, http.MethodPatch, "/api/v1/agents/"+c.ID, e.adminToken(), map[string]any{"require_dpop": true})
		wantOAuthError(t, e.exchangeWithProof(c, plain, ""), http.StatusBadRequest, "invalid_dpop_proof")
		e.assertNoLeaks()
	})
}
