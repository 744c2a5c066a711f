package tokens_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/redis/go-redis/v9"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/modules/apis"
	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/modules/tokens"
	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/dpop"
	"github.com/agentidp/agentidp/platform/dpop/dpoptest"
	"github.com/agentidp/agentidp/platform/testenv"
)

// htu is the URL a proof names for path: the configured issuer's origin, never the address
// the test dials (127.0.0.1:port).
func (e *env) htu(path string) string { return e.cfg.Issuer + path }

// dpopTokenResponse asks for a token for c with DPoP headers proofs (none: no header).
func (e *env) dpopTokenResponse(c client, resource string, proofs ...string) response {
	e.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	if resource != "" {
		form.Set("resource", resource)
	}
	req, err := http.NewRequest(http.MethodPost, e.app.URL+tokens.PathToken, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", basic(c.ID, c.Secret))
	for _, p := range proofs {
		req.Header.Add("DPoP", p)
	}
	return e.send(req)
}

// dpopToken gets a token bound to k for c.
func (e *env) dpopToken(c client, k *dpoptest.Key, resource string) string {
	e.t.Helper()
	r := e.dpopTokenResponse(c, resource, k.Proof(e.t, http.MethodPost, e.htu(tokens.PathToken), ""))
	m := r.json(e.t)
	if r.Status != http.StatusOK || m["token_type"] != "DPoP" {
		e.t.Fatalf("DPoP token: %d %s", r.Status, r.Body)
	}
	tok := m["access_token"].(string)
	e.remember(tok)
	return tok
}

// call sends method path with the Authorization values auth (each its own header) and the
// DPoP headers proofs.
func (e *env) call(method, path string, auth []string, proofs ...string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.app.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, a := range auth {
		req.Header.Add("Authorization", a)
	}
	for _, p := range proofs {
		req.Header.Add("DPoP", p)
	}
	return e.send(req)
}

// wantChallenge fails unless r has status and a WWW-Authenticate header starting with
// prefix, and a problem with code.
func wantChallenge(t testing.TB, r response, status int, code, prefix string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if !slices.ContainsFunc(r.Header.Values("WWW-Authenticate"), func(v string) bool { return strings.HasPrefix(v, prefix) }) {
		t.Fatalf("WWW-Authenticate %q, want one starting with %q", r.Header.Values("WWW-Authenticate"), prefix)
	}
	if c := r.json(t)["code"]; c != code {
		t.Fatalf("code %v, want %s: %s", c, code, r.Body)
	}
}

// A token request with a proof gets a DPoP-bound token (token_type DPoP, cnf.jkt the proof
// key's thumbprint), which introspection describes; without a proof the answer is as
// before. Every proof refusal at the token endpoint is 400 invalid_dpop_proof, audited.
func TestIntegrationDPoPTokenEndpoint(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		c := e.newClient([]string{"agents:read"}, nil)
		for _, alg := range []jose.SignatureAlgorithm{jose.ES256, jose.RS256, jose.PS256, jose.EdDSA} {
			k := dpoptest.NewKey(t, alg)
			tok := e.dpopToken(c, k, "")
			cnf, _ := claimsOf(t, tok)["cnf"].(map[string]any)
			if cnf["jkt"] != k.JKT(t) {
				t.Fatalf("%s: cnf %v, want jkt %s", alg, cnf, k.JKT(t))
			}
			in := e.introspect(tok)
			if in["active"] != true || in["token_type"] != "DPoP" || in["cnf"].(map[string]any)["jkt"] != k.JKT(t) {
				t.Fatalf("%s: introspection %v", alg, in)
			}
		}
		plain := e.tokenResponse(c, "", "").json(t)
		if plain["token_type"] != "Bearer" || claimsOf(t, plain["access_token"].(string))["cnf"] != nil {
			t.Fatalf("without a proof: %v", plain)
		}
		if in := e.introspect(plain["access_token"].(string)); in["token_type"] != "Bearer" || in["cnf"] != nil {
			t.Fatalf("introspection of a bearer token: %v", in)
		}

		k := dpoptest.NewKey(t, jose.ES256)
		htu := e.htu(tokens.PathToken)
		used := k.Proof(t, http.MethodPost, htu, "")
		if r := e.dpopTokenResponse(c, "", used); r.Status != http.StatusOK {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		// A query in htu is ignored (RFC 9449 §4.3).
		if r := e.dpopTokenResponse(c, "", k.Proof(t, http.MethodPost, htu+"?x=1", "")); r.Status != http.StatusOK {
			t.Fatalf("htu with a query: %d %s", r.Status, r.Body)
		}
		privJWK, _ := json.Marshal(jose.JSONWebKey{Key: k.Private})
		var priv map[string]any
		_ = json.Unmarshal(privJWK, &priv)
		claims := func(change func(map[string]any)) map[string]any {
			m := dpoptest.Claims(http.MethodPost, htu, "")
			change(m)
			return m
		}
		unsigned := func(alg string) string {
			h, _ := json.Marshal(map[string]any{"typ": "dpop+jwt", "alg": alg, "jwk": k.Public})
			cl, _ := json.Marshal(dpoptest.Claims(http.MethodPost, htu, ""))
			return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(cl) + ".c2ln"
		}
		deniedBefore := len(auditRows(t, b.DB, tokens.ActionTokenDenied))
		for _, tc := range []struct {
			name   string
			proofs []string
		}{
			{"replay", []string{used}},
			{"wrong htm", []string{k.Proof(t, http.MethodGet, htu, "")}},
			{"wrong htu", []string{k.Proof(t, http.MethodPost, e.htu(tokens.PathIntrospect), "")}},
			{"htu of the address dialled (Host header)", []string{k.Proof(t, http.MethodPost, e.app.URL+tokens.PathToken, "")}},
			{"stale iat", []string{k.Sign(t, nil, claims(func(m map[string]any) { m["iat"] = time.Now().Add(-2 * time.Minute).Unix() }))}},
			{"future iat", []string{k.Sign(t, nil, claims(func(m map[string]any) { m["iat"] = time.Now().Add(time.Minute).Unix() }))}},
			{"alg none", []string{unsigned("none")}},
			{"HS256", []string{unsigned("HS256")}},
			{"private key in jwk", []string{k.Sign(t, map[string]any{"jwk": priv}, claims(func(map[string]any) {}))}},
			{"typ JWT", []string{k.Sign(t, map[string]any{"typ": "JWT"}, claims(func(map[string]any) {}))}},
			{"two DPoP headers", []string{k.Proof(t, http.MethodPost, htu, ""), k.Proof(t, http.MethodPost, htu, "")}},
			{"empty", []string{""}},
		} {
			r := e.dpopTokenResponse(c, "", tc.proofs...)
			if r.Status != http.StatusBadRequest || r.json(t)["error"] != "invalid_dpop_proof" {
				t.Fatalf("%s: %d %s", tc.name, r.Status, r.Body)
			}
		}
		if n := len(auditRows(t, b.DB, tokens.ActionTokenDenied)) - deniedBefore; n != 12 {
			t.Fatalf("%d token.denied events for 12 refused proofs", n)
		}
		e.assertNoLeaks()
	})
}

// The server's own API takes a bound token as "Authorization: DPoP" with a proof of its
// key, and answers every other use as RFC 9449 §7 says.
func TestIntegrationDPoPResourceAccess(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		c := e.newClient([]string{"agents:read"}, nil)
		k := dpoptest.NewKey(t, jose.ES256)
		tok := e.dpopToken(c, k, "")
		path := "/api/v1/agents/" + c.ID
		htu := e.htu(path)
		ok := func(r response) {
			t.Helper()
			if r.Status != http.StatusOK {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		}
		proof := k.Proof(t, http.MethodGet, htu, tok)
		ok(e.call(http.MethodGet, path, []string{"DPoP " + tok}, proof))
		ok(e.call(http.MethodGet, path, []string{"dpop " + tok}, k.Proof(t, http.MethodGet, htu+"?q=1", tok)))

		const proofErr, tokenErr = `DPoP error="invalid_dpop_proof"`, `DPoP error="invalid_token"`
		other := dpoptest.NewKey(t, jose.EdDSA)
		stale := dpoptest.Claims(http.MethodGet, htu, tok)
		stale["iat"] = time.Now().Add(-2 * time.Minute).Unix()
		noATH := dpoptest.Claims(http.MethodGet, htu, "")
		for _, tc := range []struct {
			name   string
			auth   []string
			proofs []string
			status int
			code   string
			prefix string
		}{
			{"replayed proof", []string{"DPoP " + tok}, []string{proof}, 401, "invalid_dpop_proof", proofErr},
			{"no proof", []string{"DPoP " + tok}, nil, 401, "invalid_dpop_proof", proofErr},
			{"wrong htm", []string{"DPoP " + tok}, []string{k.Proof(t, http.MethodPost, htu, tok)}, 401, "invalid_dpop_proof", proofErr},
			{"wrong htu", []string{"DPoP " + tok}, []string{k.Proof(t, http.MethodGet, e.htu("/api/v1/agents"), tok)}, 401, "invalid_dpop_proof", proofErr},
			{"htu of the Host header", []string{"DPoP " + tok}, []string{k.Proof(t, http.MethodGet, e.app.URL+path, tok)}, 401, "invalid_dpop_proof", proofErr},
			{"missing ath", []string{"DPoP " + tok}, []string{k.Sign(t, nil, noATH)}, 401, "invalid_dpop_proof", proofErr},
			{"wrong ath", []string{"DPoP " + tok}, []string{k.Proof(t, http.MethodGet, htu, tok+"x")}, 401, "invalid_dpop_proof", proofErr},
			{"stale iat", []string{"DPoP " + tok}, []string{k.Sign(t, nil, stale)}, 401, "invalid_dpop_proof", proofErr},
			{"two proofs", []string{"DPoP " + tok}, []string{k.Proof(t, http.MethodGet, htu, tok), k.Proof(t, http.MethodGet, htu, tok)}, 401, "invalid_dpop_proof", proofErr},
			{"proof of another key", []string{"DPoP " + tok}, []string{other.Proof(t, http.MethodGet, htu, tok)}, 401, "invalid_token", tokenErr},
			{"bound token as Bearer", []string{"Bearer " + tok}, nil, 401, "invalid_token", tokenErr},
			{"Bearer and a proof for a bound token", []string{"Bearer " + tok}, []string{k.Proof(t, http.MethodGet, htu, tok)}, 400, "invalid_request", `DPoP error="invalid_request"`},
			{"two Authorization headers", []string{"DPoP " + tok, "Bearer " + tok}, []string{k.Proof(t, http.MethodGet, htu, tok)}, 400, "invalid_request", "Bearer"},
			{"two schemes in one header", []string{"DPoP " + tok + ", Bearer " + tok}, []string{k.Proof(t, http.MethodGet, htu, tok)}, 400, "invalid_request", "Bearer"},
			{"invalid token", []string{"DPoP " + tok[:len(tok)-4] + "AAAA"}, []string{k.Proof(t, http.MethodGet, htu, tok)}, 401, "invalid_token", tokenErr},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantChallenge(t, e.call(http.MethodGet, path, tc.auth, tc.proofs...), tc.status, tc.code, tc.prefix)
			})
		}
		// The token passed before, so its verified-cache entry exists: a proofless use is
		// still refused (the binding is part of the cached verdict).
		wantChallenge(t, e.call(http.MethodGet, path, []string{"Bearer " + tok}), 401, "invalid_token", tokenErr)

		// No credentials: both challenges, the body as before.
		r := e.call(http.MethodGet, path, nil)
		wantChallenge(t, r, 401, "unauthorized", `Bearer realm="agentidp"`)
		if v := r.Header.Values("WWW-Authenticate"); len(v) != 2 || v[1] != `DPoP algs="RS256 PS256 ES256 EdDSA"` {
			t.Fatalf("challenges %q", v)
		}

		// A bearer token with a proof is judged by the proof: a good one passes, a bad one
		// fails; an unbound token under the DPoP scheme is not bound to the proof's key.
		bearer := e.token(c, "", "")
		ok(e.call(http.MethodGet, path, []string{"Bearer " + bearer}, k.Proof(t, http.MethodGet, htu, bearer)))
		wantChallenge(t, e.call(http.MethodGet, path, []string{"Bearer " + bearer}, k.Proof(t, http.MethodPost, htu, bearer)),
			401, "invalid_dpop_proof", proofErr)
		wantChallenge(t, e.call(http.MethodGet, path, []string{"DPoP " + bearer}, k.Proof(t, http.MethodGet, htu, bearer)),
			401, "invalid_token", tokenErr)
		ok(e.call(http.MethodGet, path, []string{"Bearer " + bearer}))

		// Insufficient scope names the scheme the token is used with.
		r = e.call(http.MethodGet, "/api/v1/audit", []string{"DPoP " + tok}, k.Proof(t, http.MethodGet, e.htu("/api/v1/audit"), tok))
		if r.Status != http.StatusForbidden || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), `DPoP realm="agentidp", error="insufficient_scope"`) {
			t.Fatalf("%d %q %s", r.Status, r.Header.Get("WWW-Authenticate"), r.Body)
		}
		e.assertNoLeaks()
	})
}

// Introspection and revocation callers that authenticate with a token follow the same
// rules; their answers are OAuth errors.
func TestIntegrationDPoPIntrospectionCaller(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		c := e.newClient([]string{"agents:read"}, nil)
		subject := e.dpopToken(c, dpoptest.NewKey(t, jose.EdDSA), "")
		k := dpoptest.NewKey(t, jose.ES256)
		admin := e.dpopToken(e.admin, k, "")
		htu := e.htu(tokens.PathIntrospect)
		form := url.Values{"token": {subject}}.Encode()
		post := func(auth string, proofs ...string) response {
			headers := []string{"Authorization", auth}
			for _, p := range proofs {
				headers = append(headers, "DPoP", p)
			}
			return e.postRaw(tokens.PathIntrospect, "application/x-www-form-urlencoded", form, headers...)
		}
		r := post("DPoP "+admin, k.Proof(t, http.MethodPost, htu, admin))
		if m := r.json(t); r.Status != http.StatusOK || m["active"] != true || m["token_type"] != "DPoP" {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		for _, tc := range []struct {
			name, auth string
			proofs     []string
			status     int
			code       string
		}{
			{"bound token as Bearer", "Bearer " + admin, nil, 401, "invalid_token"},
			{"no proof", "DPoP " + admin, nil, 401, "invalid_dpop_proof"},
			{"wrong htu", "DPoP " + admin, []string{k.Proof(t, http.MethodPost, e.htu(tokens.PathRevoke), admin)}, 401, "invalid_dpop_proof"},
			{"Bearer with a proof", "Bearer " + admin, []string{k.Proof(t, http.MethodPost, htu, admin)}, 400, "invalid_request"},
		} {
			r := post(tc.auth, tc.proofs...)
			wantOAuthError(t, r, tc.status, tc.code)
			if tc.status == 401 && !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), `DPoP error="`+tc.code+`"`) {
				t.Fatalf("%s: WWW-Authenticate %q", tc.name, r.Header.Get("WWW-Authenticate"))
			}
		}
		// Client credentials with a proof: the proof is judged all the same.
		basicAuth := basic(e.admin.ID, e.admin.Secret)
		r = post(basicAuth, k.Proof(t, http.MethodPost, e.htu(tokens.PathToken), ""))
		wantOAuthError(t, r, http.StatusBadRequest, "invalid_dpop_proof")
		if r = post(basicAuth, k.Proof(t, http.MethodPost, htu, "")); r.Status != http.StatusOK {
			t.Fatalf("client credentials with a good proof: %d %s", r.Status, r.Body)
		}
		r = e.postRaw(tokens.PathIntrospect, "application/x-www-form-urlencoded", form)
		if r.Status != 401 || !strings.Contains(r.Header.Get("WWW-Authenticate"), `DPoP algs="RS256 PS256 ES256 EdDSA"`) {
			t.Fatalf("no credentials: %d %q", r.Status, r.Header.Get("WWW-Authenticate"))
		}
		// Revocation with a bound token and a proof.
		r = e.postRaw(tokens.PathRevoke, "application/x-www-form-urlencoded", form,
			"Authorization", "DPoP "+admin, "DPoP", k.Proof(t, http.MethodPost, e.htu(tokens.PathRevoke), admin))
		if r.Status != http.StatusOK || e.active(subject) {
			t.Fatalf("revocation: %d %s", r.Status, r.Body)
		}
	})
}

// require_dpop on an agent (set through the agents API) and on an API: a token request
// without a proof is 400 invalid_dpop_proof; with one it gets a bound token.
func TestIntegrationRequireDPoP(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		admin := e.adminToken()
		c := e.newClient([]string{"agents:read"}, nil)
		k := dpoptest.NewKey(t, jose.ES256)
		read := func() map[string]any {
			return e.mustAPI(http.StatusOK, http.MethodGet, "/api/v1/agents/"+c.ID, admin, nil).json(t)
		}
		if read()["require_dpop"] != false {
			t.Fatal("require_dpop is not false by default")
		}
		e.mustAPI(http.StatusBadRequest, http.MethodPatch, "/api/v1/agents/"+c.ID, admin, map[string]any{"require_dpop": nil})
		e.mustAPI(http.StatusOK, http.MethodPatch, "/api/v1/agents/"+c.ID, admin, map[string]any{"require_dpop": true})
		if read()["require_dpop"] != true {
			t.Fatal("require_dpop not stored")
		}
		wantOAuthError(t, e.tokenResponse(c, "", ""), http.StatusBadRequest, "invalid_dpop_proof")
		e.dpopToken(c, k, "")
		updated := auditRows(t, b.DB, "agent.updated")
		if d := updated[len(updated)-1].Details["require_dpop"]; d == nil {
			t.Fatalf("agent.updated without require_dpop before/after: %v", updated[len(updated)-1].Details)
		}
		e.mustAPI(http.StatusOK, http.MethodPatch, "/api/v1/agents/"+c.ID, admin, map[string]any{"require_dpop": false})
		e.token(c, "", "")
		created := e.mustAPI(http.StatusCreated, http.MethodPost, "/api/v1/agents", admin,
			map[string]any{"name": "dpop-only", "require_dpop": true}).json(t)
		if created["require_dpop"] != true {
			t.Fatalf("created %v", created)
		}

		apiID, aud := e.registerAPI(map[string]any{"identifier": "https://dpop.example", "name": "d",
			"scopes": apiScopes("read"), "require_dpop": true})
		e.grant(orgs.RootID, c.ID, apis.Grant{Audience: aud, Scopes: []string{"read"}})
		wantOAuthError(t, e.tokenResponse(c, "", aud), http.StatusBadRequest, "invalid_dpop_proof")
		tok := e.dpopToken(c, k, aud)
		if cl := claimsOf(t, tok); cl["api"] != apiID || cl["cnf"] == nil {
			t.Fatalf("claims %v", cl)
		}
		if e.tokenResponse(c, "", "").Status != http.StatusOK {
			t.Fatal("the server's own API does not require DPoP")
		}
	})
}

// A proof's jti is accepted once on the whole server: a proof used on one replica is a
// replay on another that shares Redis.
func TestIntegrationDPoPReplayAcrossReplicas(t *testing.T) {
	e := newEnv(t, testenv.PostgresBackend(t), nil)
	other := e.replica(func(c *config.Config) { c.HTTPAddr = "127.0.0.1:0" })
	c := e.newClient([]string{"agents:read"}, nil)
	k := dpoptest.NewKey(t, jose.ES256)
	p := k.Proof(t, http.MethodPost, e.htu(tokens.PathToken), "")
	if r := e.dpopTokenResponse(c, "", p); r.Status != http.StatusOK {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	wantOAuthError(t, other.dpopTokenResponse(c, "", p), http.StatusBadRequest, "invalid_dpop_proof")

	tok := e.dpopToken(c, k, "")
	path := "/api/v1/agents/" + c.ID
	rp := k.Proof(t, http.MethodGet, e.htu(path), tok)
	if r := other.call(http.MethodGet, path, []string{"DPoP " + tok}, rp); r.Status != http.StatusOK {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	wantChallenge(t, e.call(http.MethodGet, path, []string{"DPoP " + tok}, rp), 401, "invalid_dpop_proof", `DPoP error="invalid_dpop_proof"`)
}

// While the replay store cannot be reached, proofs are refused with 503, never accepted
// unchecked; requests without a proof are not affected. (The proof verifier alone talks to
// Redis through a proxy that the test cuts.)
func TestIntegrationDPoPReplayStoreDown(t *testing.T) {
	client, prefix := testenv.RedisClient(t)
	direct := cache.NewRedis(client, prefix, zap.NewNop())
	t.Cleanup(func() { _ = direct.Close() })
	proxy := testenv.NewProxy(t, client.Options().Addr)
	opts := *client.Options()
	opts.Addr = proxy.Addr()
	opts.MaxRetries = 0
	viaProxy := cache.NewRedis(redis.NewClient(&opts), prefix, zap.NewNop())
	t.Cleanup(func() { _ = viaProxy.Close() })
	e := newEnv(t, testenv.Backend{Name: "postgres", DB: testenv.Postgres(t), Cache: direct}, nil,
		fx.Decorate(func(_ *dpop.Verifier, cfg *config.Config) *dpop.Verifier { return dpop.New(cfg, viaProxy) }))
	c := e.newClient([]string{"agents:read"}, nil)
	k := dpoptest.NewKey(t, jose.ES256)
	tok := e.dpopToken(c, k, "")
	path := "/api/v1/agents/" + c.ID

	proxy.Cut()
	r := e.dpopTokenResponse(c, "", k.Proof(t, http.MethodPost, e.htu(tokens.PathToken), ""))
	wantOAuthError(t, r, http.StatusServiceUnavailable, "temporarily_unavailable")
	r = e.call(http.MethodGet, path, []string{"DPoP " + tok}, k.Proof(t, http.MethodGet, e.htu(path), tok))
	if r.Status != http.StatusServiceUnavailable {
		t.Fatalf("resource: %d %s", r.Status, r.Body)
	}
	e.token(c, "", "") // no proof, no replay store needed

	proxy.Restore()
	eventually(t, 5*time.Second, "proofs accepted again", func() bool {
		return e.dpopTokenResponse(c, "", k.Proof(t, http.MethodPost, e.htu(tokens.PathToken), "")).Status == http.StatusOK
	})
}
