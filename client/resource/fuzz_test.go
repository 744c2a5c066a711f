package resource_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/agentidp/agentidp/client/dpop"
)

// FuzzMiddleware sends arbitrary Authorization and DPoP headers through the middleware,
// the entry point of token and proof checking: it never panics, never lets a request
// through without a valid token, and answers every refusal with a 4xx or 503.
func FuzzMiddleware(f *testing.F) {
	is := newIssuer(f)
	p, _ := dpop.GenerateProofer()
	bound := is.sign(f, "k1", "at+jwt", is.claims(func(c map[string]any) { c["cnf"] = map[string]string{"jkt": p.Thumbprint()} }))
	plain := is.sign(f, "k1", "at+jwt", is.claims(nil))
	good, _ := p.Proof("GET", audience+"/invoices", bound)
	f.Add("DPoP "+bound, good)
	f.Add("Bearer "+plain, "")
	f.Add("Bearer "+bound, good)
	f.Add("DPoP "+plain, good)
	f.Add("Bearer x.y.z", "a.b.c")
	f.Add("", "")
	v := is.validator(f, nil)
	var reached bool
	h := v.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true }))
	f.Fuzz(func(t *testing.T, authz, proof string) {
		reached = false
		r := httptest.NewRequest("GET", "/invoices", nil)
		r.Header.Set("Authorization", authz)
		if proof != "" {
			r.Header.Set("DPoP", proof)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if reached != (w.Code == 200) {
			t.Fatalf("status %d, handler reached %v", w.Code, reached)
		}
		if w.Code != 200 && (w.Code < 400 || w.Code >= 500) && w.Code != 503 {
			t.Fatalf("status %d", w.Code)
		}
		if reached {
			// Only the seeds' tokens are valid: whatever passes must be one of them.
			_, tok, _ := strings.Cut(authz, " ")
			if _, err := v.Validate(r.Context(), strings.TrimSpace(tok)); err != nil {
				t.Fatalf("let through %q", authz)
			}
		}
	})
}
