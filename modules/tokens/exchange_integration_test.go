package tokens_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/agentidp/agentidp/modules/tokens"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/testenv"
)

// A → B → C: A's delegates list B and C, B's list C. B acts for A, then C for B acting for
// A: the last token's sub is A, client_id C, act {sub: C, act: {sub: B}}; it reads as A
// within A's token's scope, manages nothing, introspects with its act, and the exchanges
// are audited with the chain and both jtis (never a token). Revoking it (by its holder,
// with client credentials) leaves its subject token alive.
func TestIntegrationExchangeThreeHops(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		a := e.newClient([]string{"agents:read", "credentials:read"}, nil)
		bb := e.newClient([]string{}, nil)
		c := e.newClient([]string{}, nil)
		e.setDelegates(a.ID, bb.ID, c.ID)
		e.setDelegates(bb.ID, c.ID)

		tA := e.token(a, "agents:read credentials:read", "")
		r := e.exchangeResponse(bb, tA, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("B for A: %d %s", r.Status, r.Body)
		}
		m := r.json(t)
		if m["issued_token_type"] != typeAccess || m["token_type"] != "Bearer" || m["scope"] != "agents:read credentials:read" ||
			m["expires_in"].(float64) <= 0 || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("answer: %s", r.Body)
		}
		tB := m["access_token"].(string)
		e.remember(tB)
		pB := payload(t, tB)
		if pB["sub"] != a.ID || pB["client_id"] != bb.ID || !slices.Equal(actChain(pB["act"]), []string{bb.ID}) {
			t.Fatalf("B's token: %s", asJSON(pB))
		}
		if pB["exp"].(float64) > payload(t, tA)["exp"].(float64) {
			t.Fatal("the exchanged token outlives its subject token")
		}

		tC := e.exchange(c, tB, url.Values{"scope": {"agents:read"}})
		pC := payload(t, tC)
		if pC["sub"] != a.ID || pC["client_id"] != c.ID || !slices.Equal(actChain(pC["act"]), []string{c.ID, bb.ID}) ||
			pC["scope"] != "agents:read" || pC["aud"] != e.cfg.Issuer {
			t.Fatalf("C's token: %s", asJSON(pC))
		}
		// It reads as A, within its scope, and manages nothing.
		e.mustAPI(http.StatusOK, http.MethodGet, "/api/v1/agents/"+a.ID, tC, nil)
		e.mustAPI(http.StatusForbidden, http.MethodGet, "/api/v1/agents/"+a.ID+"/credentials", tC, nil)
		e.mustAPI(http.StatusForbidden, http.MethodPatch, "/api/v1/agents/"+a.ID, tC, map[string]any{"description": "x"})

		in := e.introspect(tC)
		if in["active"] != true || in["sub"] != a.ID || in["client_id"] != c.ID || !slices.Equal(actChain(in["act"]), []string{c.ID, bb.ID}) {
			t.Fatalf("introspection: %s", asJSON(in))
		}
		if _, ok := e.introspect(tA)["act"]; ok {
			t.Fatal("a plain token introspects with act")
		}

		ev := auditRows(t, b.DB, tokens.ActionTokenExchanged)
		if len(ev) != 2 {
			t.Fatalf("%d token.exchanged events", len(ev))
		}
		d := ev[1].Details
		if ev[1].AgentID != a.ID || ev[1].TargetID != pC["jti"] || d["subject"] != a.ID || d["actor"] != c.ID ||
			asJSON(d["chain"]) != asJSON([]string{a.ID, bb.ID, c.ID}) || d["subject_jti"] != pB["jti"] || d["jti"] != pC["jti"] {
			t.Fatalf("token.exchanged: %s %s", ev[1].Raw, asJSON(d))
		}

		// C revokes its token with its own client credentials; B's stays.
		r = e.post(tokens.PathRevoke, url.Values{"token": {tC}}, "Authorization", basic(c.ID, c.Secret))
		if r.Status != http.StatusOK || e.active(tC) {
			t.Fatalf("C's revocation of its token: %d, active %v", r.Status, e.active(tC))
		}
		if !e.active(tB) || !e.active(tA) {
			t.Fatal("revoking the exchanged token revoked its subject token")
		}
		e.assertNoLeaks()
	})
}

// Every refusal of RFC 8693 §2.2.2, each changing nothing: not a delegate (of the subject,
// or of the hop before), a cycle, the depth limit, a wider scope, an audience outside the
// subject token's, two audiences, an actor token of another agent, an unsupported token
// type, a dead subject token. And keycloak#52691: a delegated token sent as a plain "jwt"
// subject token still comes back with its whole chain.
func TestIntegrationExchangeRefusals(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, func(c *config.Config) { c.MaxDelegationDepth = 2 })
		a := e.newClient([]string{"agents:read", "credentials:read"}, []string{"https://tool.example"})
		bb, c, d := e.newClient([]string{}, nil), e.newClient([]string{}, nil), e.newClient([]string{}, nil)
		tA := e.token(a, "agents:read", "")

		// Nobody is a delegate yet.
		wantOAuthError(t, e.exchangeResponse(bb, tA, nil), http.StatusBadRequest, "invalid_request")
		e.setDelegates(a.ID, bb.ID, c.ID, d.ID)
		tB := e.exchange(bb, tA, nil)
		// C is A's delegate but not B's: B does not hand A's token on to C.
		wantOAuthError(t, e.exchangeResponse(c, tB, nil), http.StatusBadRequest, "invalid_request")
		e.setDelegates(bb.ID, c.ID, a.ID)
		// Cycles: the subject, or an actor already in the chain.
		r := e.exchangeResponse(a, tB, nil)
		wantOAuthError(t, r, http.StatusBadRequest, "invalid_request")
		if !strings.Contains(string(r.Body), "already in") {
			t.Fatalf("cycle: %s", r.Body)
		}
		wantOAuthError(t, e.exchangeResponse(bb, tB, nil), http.StatusBadRequest, "invalid_request")

		// Scope and audience: never wider than the subject token's.
		wantOAuthError(t, e.exchangeResponse(c, tB, url.Values{"scope": {"agents:read credentials:read"}}), http.StatusBadRequest, "invalid_scope")
		wantOAuthError(t, e.exchangeResponse(c, tB, url.Values{"resource": {"https://tool.example"}}), http.StatusBadRequest, "invalid_target")
		wantOAuthError(t, e.exchangeResponse(c, tB, url.Values{"resource": {e.cfg.Issuer}, "audience": {e.cfg.Issuer}}),
			http.StatusBadRequest, "invalid_target")
		wantOAuthError(t, e.exchangeResponse(c, tB, url.Values{"audience": {e.cfg.Issuer, e.cfg.Issuer}}), http.StatusBadRequest, "invalid_target")

		// Token types.
		wantOAuthError(t, e.exchangeResponse(c, tB, url.Values{"requested_token_type": {"urn:ietf:params:oauth:token-type:refresh_token"}}),
			http.StatusBadRequest, "invalid_request")
		wantOAuthError(t, e.exchangeResponse(c, tB, url.Values{"subject_token_type": {"urn:ietf:params:oauth:token-type:id_token"}}),
			http.StatusBadRequest, "invalid_request")
		wantOAuthError(t, e.exchangeResponse(c, "not-a-token", nil), http.StatusBadRequest, "invalid_request")

		// The actor token must be the actor's own.
		wantOAuthError(t, e.exchangeResponse(c, tB, url.Values{"actor_token": {tA}, "actor_token_type": {typeAccess}}),
			http.StatusBadRequest, "invalid_request")
		wantOAuthError(t, e.exchangeResponse(c, tB, url.Values{"actor_token": {tB}, "actor_token_type": {typeAccess}}),
			http.StatusBadRequest, "invalid_request")
		own := e.token(c, "", "")
		tC := e.exchange(c, tB, url.Values{"actor_token": {own}, "actor_token_type": {typeAccess}, "audience": {e.cfg.Issuer},
			"requested_token_type": {typeAccess}})

		// keycloak#52691: the delegated token sent as a plain JWT comes back with its chain.
		e.setDelegates(bb.ID, c.ID, a.ID, d.ID)
		// (depth 2 reached: D cannot act for C's token; it may for B's.)
		r = e.exchangeResponse(d, tC, nil)
		wantOAuthError(t, r, http.StatusBadRequest, "invalid_request")
		if !strings.Contains(string(r.Body), "too deep") {
			t.Fatalf("depth: %s", r.Body)
		}
		tD := e.exchange(d, tB, url.Values{"subject_token_type": {typeJWT}})
		if got := actChain(payload(t, tD)["act"]); !slices.Equal(got, []string{d.ID, bb.ID}) || payload(t, tD)["sub"] != a.ID {
			t.Fatalf("a delegated subject token sent as jwt lost its chain: act %v", got)
		}
		// A client_credentials request carrying a subject token is a plain request of its own.
		r = e.post(tokens.PathToken, url.Values{"grant_type": {"client_credentials"}, "subject_token": {tB},
			"subject_token_type": {typeAccess}}, "Authorization", basic(d.ID, d.Secret))
		if r.Status != http.StatusOK {
			t.Fatalf("client_credentials: %d %s", r.Status, r.Body)
		}
		if p := payload(t, r.json(t)["access_token"].(string)); p["sub"] != d.ID || p["act"] != nil {
			t.Fatalf("client_credentials with a subject token: %s", asJSON(p))
		}

		// A revoked subject token is refused like an undelegated one.
		e.post(tokens.PathRevoke, url.Values{"token": {tA}}, "Authorization", basic(a.ID, a.Secret))
		wantOAuthError(t, e.exchangeResponse(bb, tA, nil), http.StatusBadRequest, "invalid_request")
		if n := len(auditRows(t, b.DB, tokens.ActionTokenExchanged)); n != 3 {
			t.Fatalf("%d token.exchanged events, want 3", n)
		}
		e.assertNoLeaks()
	})
}

// Discovery lists the grant.
func TestIntegrationExchangeDiscovery(t *testing.T) {
	e := newEnv(t, testenv.SQLiteBackend(t), nil)
	r := e.api(http.MethodGet, tokens.PathOAuthMeta, "", nil)
	if !strings.Contains(string(r.Body), grantExchange) {
		t.Fatalf("grant_types_supported: %s", r.Body)
	}
}

// The chain is live on every replica: a replica with its own in-process cache (no shared
// Redis, no broadcast) refuses a three-hop token within about a second of each way of
// breaking its chain, learning it from the tables alone.
func TestIntegrationExchangeChainBreaksOnReplica(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		peer := e.isolatedReplica()
		org := e.insertOrg("delegation")
		type hop struct{ a, b, c client }
		chain := func() (hop, string, string) {
			h := hop{e.newOrgClient(org, []string{"agents:read"}), e.newOrgClient(org, []string{}), e.newOrgClient(org, []string{})}
			e.setDelegates(h.a.ID, h.b.ID, h.c.ID)
			e.setDelegates(h.b.ID, h.c.ID)
			tA := e.token(h.a, "", "")
			tC := e.exchange(h.c, e.exchange(h.b, tA, nil), nil)
			for range 3 { // the peer has every link cached
				if !peer.active(tC) {
					t.Fatal("peer: the token is not active")
				}
			}
			return h, tA, tC
		}
		admin := e.adminToken()
		for name, brk := range map[string]func(h hop, tA string){
			"subject token revoked": func(h hop, tA string) {
				e.post(tokens.PathRevoke, url.Values{"token": {tA}}, "Authorization", basic(h.a.ID, h.a.Secret))
			},
			"actor suspended": func(h hop, _ string) {
				e.mustAPI(http.StatusOK, http.MethodPost, "/api/v1/agents/"+h.b.ID+"/suspend", admin, nil)
			},
			"actor's credential revoked": func(h hop, _ string) {
				e.mustAPI(http.StatusNoContent, http.MethodDelete, "/api/v1/agents/"+h.b.ID+"/credentials/"+h.b.CredentialID, admin, nil)
			},
		} {
			t.Run(name, func(t *testing.T) {
				h, tA, tC := chain()
				brk(h, tA)
				if e.active(tC) {
					t.Fatal("this replica: still active")
				}
				peer.refusedSoon(t, tC)
			})
		}
		// Last: it ends every chain of the organization.
		t.Run("subject's organization suspended", func(t *testing.T) {
			_, _, tC := chain()
			e.mustAPI(http.StatusOK, http.MethodPost, "/api/v1/orgs/"+org+"/suspend", admin, nil)
			peer.refusedSoon(t, tC)
		})
	})
}
