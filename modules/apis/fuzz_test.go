package apis

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/agentidp/agentidp/platform/httpserver"
)

// decode runs body through the API's JSON decoding (httpserver.DecodeJSON: size, depth,
// unknown fields) into dst.
func decode(body []byte, dst any) error {
	r := httptest.NewRequest(http.MethodPost, PathAPIs, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return httpserver.DecodeJSON(r, dst)
}

// FuzzAPIBody feeds the API body parser (decoding and validation, on create and on PATCH)
// with arbitrary bytes: it never panics, and what it accepts is normalised for good (the
// identifier normalises to itself, every scope value is one).
func FuzzAPIBody(f *testing.F) {
	for _, seed := range []string{
		`{"identifier":"https://api.example.com","name":"a"}`,
		`{"identifier":"HTTPS://API.example.com:443/v1/../x/","name":" n ","scopes":[{"value":"read","description":"d"}],"token_ttl_seconds":600,"require_dpop":true}`,
		`{"identifier":"http://[::1]:9000/%7e%2e%2E/a","name":"n","org_id":"00000000-0000-0000-0000-000000000001"}`,
		`{"identifier":"http://localhost:8080/x","name":"issuer's origin"}`,
		`{"name":null,"scopes":null,"token_ttl_seconds":null,"require_dpop":null}`,
		`{"scopes":[{"value":"a"},{"value":"a"},{"value":"B"},{"value":""}]}`,
		`{"identifier":"https://x.example/#f?q","name":"\u0000"}`,
		`{"token_ttl_seconds":1e99}`, `[]`, `{`, `null`, `{"x":1}`,
	} {
		f.Add([]byte(seed))
	}
	v := newValidator("http://localhost:8080", time.Hour)
	f.Fuzz(func(t *testing.T, body []byte) {
		var in apiFields
		if err := decode(body, &in); err != nil {
			return
		}
		for _, creating := range []bool{true, false} {
			out, err := v.check(in, creating)
			if err != nil {
				continue
			}
			if out.Identifier.Set {
				if n, msg := normalize(out.Identifier.Value); msg != "" || n != out.Identifier.Value {
					t.Fatalf("accepted identifier %q normalises to %q (%s)", out.Identifier.Value, n, msg)
				}
				if origin(out.Identifier.Value) == v.issuerOrigin {
					t.Fatalf("accepted an identifier of the issuer's origin: %q", out.Identifier.Value)
				}
			}
			for _, s := range out.Scopes.Value {
				if msg := scopeValueProblem(s.Value); msg != "" {
					t.Fatalf("accepted scope %q: %s", s.Value, msg)
				}
			}
		}
	})
}

// FuzzGrantsBody feeds the grants parser (decoding and the form check that needs no store)
// with arbitrary bytes: it never panics, and accepted grants have normalised, distinct
// audiences and distinct scope values.
func FuzzGrantsBody(f *testing.F) {
	for _, seed := range []string{
		`{"grants":[{"audience":"https://billing.example","scopes":["read","write"]}]}`,
		`{"grants":[{"audience":"HTTPS://Billing.Example:443/","scopes":[]},{"audience":"https://billing.example"}]}`,
		`{"grants":[{"audience":"http://127.0.0.1:1/a/../b","scopes":["a:b/c.d_e-f"]}]}`,
		`{"grants":[{"audience":"https://x","scopes":["a","a","UPPER",""]}]}`,
		`{"grants":[{"audience":"https://x","api_id":"00000000-0000-0000-0000-000000000001"}]}`,
		`{"grants":null}`, `{"grants":[null]}`, `{"grants":{}}`, `{"grants":[{"scopes":null}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var in struct {
			Grants []Grant `json:"grants"`
		}
		if err := decode(body, &in); err != nil {
			return
		}
		out, fields := checkGrants(in.Grants)
		if len(fields) > 0 {
			return
		}
		if len(out) != len(in.Grants) {
			t.Fatalf("%d grants in, %d out", len(in.Grants), len(out))
		}
		seen := map[string]bool{}
		for _, g := range out {
			if n, msg := normalize(g.Audience); msg != "" || n != g.Audience {
				t.Fatalf("accepted audience %q normalises to %q (%s)", g.Audience, n, msg)
			}
			if seen[g.Audience] {
				t.Fatalf("audience %q twice", g.Audience)
			}
			seen[g.Audience] = true
			values := map[string]bool{}
			for _, s := range g.Scopes {
				if scopeValueProblem(s) != "" || values[s] {
					t.Fatalf("accepted scope %q (or twice)", s)
				}
				values[s] = true
			}
		}
	})
}

// FuzzIdentifier: normalize never panics, and its result normalises to itself.
func FuzzIdentifier(f *testing.F) {
	for _, seed := range []string{"https://api.example.com", "HTTP://[::1]:80/a/./b/../%7E", "https://x.example/%2e%2E/%41",
		"https://x:0", "https://a..b", "http://127.0.0.1:0080/", "https://x.example/a%zz", "https://x.example/%", "https://[::ffff:127.0.0.1]"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		n, msg := normalize(raw)
		if msg != "" {
			return
		}
		if again, msg := normalize(n); msg != "" || again != n {
			t.Fatalf("%q → %q → %q (%s)", raw, n, again, msg)
		}
	})
}
