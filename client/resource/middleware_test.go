package resource_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/agentidp/agentidp/client/dpop"
	"github.com/agentidp/agentidp/client/resource"
)

const dpopChallenge = `DPoP algs="ES256 ES384 EdDSA RS256 PS256"`

type exchange struct {
	authz  string
	proofs []string
	method string
	path   string
}

// serve runs one request through v's middleware and returns the status, the challenges
// and the body's error.
func serve(t *testing.T, v *resource.Validator, e exchange) (int, []string, string) {
	t.Helper()
	if e.method == "" {
		e.method = http.MethodGet
	}
	if e.path == "" {
		e.path = "/invoices"
	}
	h := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := resource.ClaimsFrom(r.Context())
		if !ok || c.Subject != "agent-1" {
			t.Error("no claims in the context")
		}
	}))
	r := httptest.NewRequest(e.method, "http://internal:8080"+e.path+"?q=1", nil) // the Host header is not the origin
	if e.authz != "" {
		r.Header.Set("Authorization", e.authz)
	}
	for _, p := range e.proofs {
		r.Header.Add("DPoP", p)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var body struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(w.Body.Bytes(), &body)
	return w.Code, w.Header().Values("WWW-Authenticate"), body.Error
}

// The DPoP rules of RFC 9449 §7 at the middleware, with the htu taken from the configured
// origin (the audience's), never from the request's Host.
func TestMiddlewareDPoP(t *testing.T) {
	is := newIssuer(t)
	v := is.validator(t, nil)
	p, _ := dpop.GenerateProofer()
	other, _ := dpop.GenerateProofer()
	bound := is.sign(t, "k1", "at+jwt", is.claims(func(c map[string]any) { c["cnf"] = map[string]string{"jkt": p.Thumbprint()} }))
	plain := is.sign(t, "k1", "at+jwt", is.claims(nil))
	proof := func(p *dpop.Proofer, method, url, tok string) string {
		s, err := p.Proof(method, url, tok)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	replayed := proof(p, "GET", audience+"/invoices", bound)
	cases := []struct {
		name      string
		e         exchange
		status    int
		challenge []string
	}{
		{"DPoP with its proof", exchange{authz: "DPoP " + bound, proofs: []string{proof(p, "GET", audience+"/invoices", bound)}}, 200, nil},
		{"the proof once more", exchange{authz: "DPoP " + bound, proofs: []string{replayed}}, 200, nil},
		{"replayed proof", exchange{authz: "DPoP " + bound, proofs: []string{replayed}}, 401, []string{dpopChallenge + `, error="invalid_dpop_proof"`}},
		{"no proof", exchange{authz: "DPoP " + bound}, 401, []string{dpopChallenge + `, error="invalid_dpop_proof"`}},
		{"two proofs", exchange{authz: "DPoP " + bound, proofs: []string{proof(p, "GET", audience+"/invoices", bound), proof(p, "GET", audience+"/invoices", bound)}}, 401, []string{dpopChallenge + `, error="invalid_dpop_proof"`}},
		{"wrong htm", exchange{authz: "DPoP " + bound, proofs: []string{proof(p, "POST", audience+"/invoices", bound)}}, 401, []string{dpopChallenge + `, error="invalid_dpop_proof"`}},
		{"htu of the Host header", exchange{authz: "DPoP " + bound, proofs: []string{proof(p, "GET", "http://internal:8080/invoices", bound)}}, 401, []string{dpopChallenge + `, error="invalid_dpop_proof"`}},
		{"wrong path", exchange{authz: "DPoP " + bound, proofs: []string{proof(p, "GET", audience+"/other", bound)}}, 401, []string{dpopChallenge + `, error="invalid_dpop_proof"`}},
		{"no ath", exchange{authz: "DPoP " + bound, proofs: []string{proof(p, "GET", audience+"/invoices", "")}}, 401, []string{dpopChallenge + `, error="invalid_dpop_proof"`}},
		{"another key's proof", exchange{authz: "DPoP " + bound, proofs: []string{proof(other, "GET", audience+"/invoices", bound)}}, 401, []string{dpopChallenge + `, error="invalid_token"`}},
		{"bound token as Bearer", exchange{authz: "Bearer " + bound}, 401, []string{dpopChallenge + `, error="invalid_token"`}},
		{"bound token as Bearer with a proof", exchange{authz: "Bearer " + bound, proofs: []string{proof(p, "GET", audience+"/invoices", bound)}}, 400, []string{`Bearer error="invalid_request"`}},
		{"unbound token under DPoP", exchange{authz: "DPoP " + plain, proofs: []string{proof(p, "GET", audience+"/invoices", plain)}}, 401, []string{dpopChallenge + `, error="invalid_token"`}},
		{"bearer token", exchange{authz: "Bearer " + plain}, 200, nil},
		{"bearer token with a bad proof", exchange{authz: "Bearer " + plain, proofs: []string{proof(p, "POST", audience+"/invoices", plain)}}, 401, []string{dpopChallenge + `, error="invalid_dpop_proof"`}},
		{"no credentials", exchange{}, 401, []string{"Bearer", dpopChallenge}},
		{"unknown scheme", exchange{authz: "Basic YTpi"}, 401, []string{"Bearer", dpopChallenge}},
		{"two Authorization headers", exchange{authz: "two"}, 400, []string{`Bearer error="invalid_request"`, dpopChallenge + `, error="invalid_request"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := c.e
			var status int
			var ch []string
			if e.authz == "two" {
				h := v.Middleware(http.NotFoundHandler())
				r := httptest.NewRequest("GET", "/invoices", nil)
				r.Header.Add("Authorization", "Bearer "+plain)
				r.Header.Add("Authorization", "Bearer "+plain)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				status, ch = w.Code, w.Header().Values("WWW-Authenticate")
			} else {
				status, ch, _ = serve(t, v, e)
			}
			if status != c.status || !slices.Equal(ch, c.challenge) {
				t.Fatalf("%d %q, want %d %q", status, ch, c.status, c.challenge)
			}
		})
	}

	// RequireDPoP refuses bearer tokens; ExternalOrigin replaces the audience's origin.
	strict := is.validator(t, func(c *resource.Config) { c.RequireDPoP = true; c.ExternalOrigin = "https://public.example" })
	if status, ch, _ := serve(t, strict, exchange{authz: "Bearer " + plain}); status != 401 || !slices.Equal(ch, []string{dpopChallenge + `, error="invalid_token"`}) {
		t.Fatalf("RequireDPoP with a bearer token: %d %q", status, ch)
	}
	if status, _, _ := serve(t, strict, exchange{authz: "DPoP " + bound, proofs: []string{proof(p, "GET", "https://public.example/invoices", bound)}}); status != 200 {
		t.Fatalf("ExternalOrigin: %d", status)
	}
}

// Scopes: a missing one is 403 insufficient_scope naming what the route wants, under the
// scheme the token came with.
func TestMiddlewareScopes(t *testing.T) {
	is := newIssuer(t)
	v := is.validator(t, func(c *resource.Config) { c.RequiredScopes = []string{"invoices:read"} })
	tok := is.sign(t, "k1", "at+jwt", is.claims(nil))
	h := v.RequireScopes("invoices:write")(http.NotFoundHandler())
	r := httptest.NewRequest("POST", "/invoices", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 403 || w.Header().Get("WWW-Authenticate") != `Bearer error="insufficient_scope", scope="invoices:read invoices:write"` {
		t.Fatalf("%d %q", w.Code, w.Header().Values("WWW-Authenticate"))
	}
	if status, _, _ := serve(t, v, exchange{authz: "Bearer " + tok}); status != 200 {
		t.Fatalf("with the scope: %d", status)
	}
}
