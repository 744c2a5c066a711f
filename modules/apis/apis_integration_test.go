package apis_test

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/agentidp/agentidp/modules/apis"
	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/testenv"
)

// Create, read, list, change and delete an API; each change is audited with what changed.
func TestIntegrationAPILifecycle(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		r := e.do(http.MethodPost, apis.PathAPIs, e.admin, map[string]any{
			"identifier": "HTTPS://Billing.Example.COM:443/v1/../api/", "name": "  Billing  ",
			"scopes": scopes("invoices:read", "invoices:write"), "token_ttl_seconds": 600,
		})
		a := r.api(t, http.StatusCreated)
		if r.Header.Get("Location") != apis.PathAPIs+"/"+a.ID || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("headers %v", r.Header)
		}
		if a.Identifier != "https://billing.example.com/api/" || a.Name != "Billing" || a.OrgID == nil || *a.OrgID != orgs.RootID ||
			a.Builtin || a.RequireDPoP || a.TokenTTLSeconds == nil || *a.TokenTTLSeconds != 600 || len(a.Scopes) != 2 ||
			a.Scopes[0] != (apis.Scope{Value: "invoices:read", Description: "scope invoices:read"}) || !a.CreatedAt.Equal(a.UpdatedAt) {
			t.Fatalf("created %+v", a)
		}
		if got := e.do(http.MethodGet, apis.PathAPIs+"/"+strings.ToUpper(a.ID), e.reader, nil).api(t, http.StatusOK); !reflect.DeepEqual(got, a) {
			t.Fatalf("GET %+v, want %+v", got, a)
		}
		p := e.list(e.reader, "")
		if len(p.Items) != 2 || !p.Items[0].Builtin || p.Items[1].ID != a.ID || p.NextCursor != nil {
			t.Fatalf("list %+v", p)
		}

		// PATCH: only what is sent changes; null token_ttl_seconds is the server's default.
		u := e.do(http.MethodPatch, apis.PathAPIs+"/"+a.ID, e.admin, map[string]any{
			"name": "Billing API", "scopes": scopes("invoices:read"), "token_ttl_seconds": nil, "require_dpop": true,
		}).api(t, http.StatusOK)
		if u.Name != "Billing API" || len(u.Scopes) != 1 || u.TokenTTLSeconds != nil || !u.RequireDPoP ||
			u.Identifier != a.Identifier || !u.UpdatedAt.After(a.UpdatedAt) && !u.UpdatedAt.Equal(a.UpdatedAt) {
			t.Fatalf("patched %+v", u)
		}
		same := e.do(http.MethodPatch, apis.PathAPIs+"/"+a.ID, e.admin, map[string]any{"name": "Billing API"}).api(t, http.StatusOK)
		if !same.UpdatedAt.Equal(u.UpdatedAt) {
			t.Fatalf("a PATCH changing nothing moved updated_at: %v → %v", u.UpdatedAt, same.UpdatedAt)
		}

		if r := e.do(http.MethodDelete, apis.PathAPIs+"/"+a.ID, e.admin, nil); r.Status != http.StatusNoContent || len(r.Body) != 0 {
			t.Fatalf("DELETE: %d %s", r.Status, r.Body)
		}
		for _, m := range []string{http.MethodGet, http.MethodPatch, http.MethodDelete} {
			var body any
			if m == http.MethodPatch {
				body = map[string]any{"name": "x"}
			}
			e.do(m, apis.PathAPIs+"/"+a.ID, e.admin, body).problem(t, http.StatusNotFound, "not_found")
		}
		if p := e.list(e.reader, ""); len(p.Items) != 1 {
			t.Fatalf("a deleted API is listed: %+v", p)
		}

		// The audit trail says what changed, before and after.
		created := e.events(apis.ActionCreated)
		updated := e.events(apis.ActionUpdated)
		deleted := e.events(apis.ActionDeleted)
		if len(created) != 1 || len(updated) != 1 || len(deleted) != 1 {
			t.Fatalf("events: %d created, %d updated, %d deleted", len(created), len(updated), len(deleted))
		}
		read := map[string]any{"value": "invoices:read", "description": "scope invoices:read"}
		write := map[string]any{"value": "invoices:write", "description": "scope invoices:write"}
		if c := created[0]; c.TargetType != "api" || c.TargetID != a.ID || c.Details["identifier"] != a.Identifier ||
			!reflect.DeepEqual(c.Details["scopes"], []any{read, write}) {
			t.Fatalf("api.created %+v", c)
		}
		d := updated[0].Details
		if !reflect.DeepEqual(d["fields"], []any{"name", "scopes", "token_ttl_seconds", "require_dpop"}) ||
			!reflect.DeepEqual(d["before"], map[string]any{"name": "Billing", "scopes": []any{read, write},
				"token_ttl_seconds": float64(600), "require_dpop": false}) ||
			!reflect.DeepEqual(d["after"], map[string]any{"name": "Billing API", "scopes": []any{read},
				"token_ttl_seconds": nil, "require_dpop": true}) ||
			!reflect.DeepEqual(d["scopes_removed"], []any{"invoices:write"}) {
			t.Fatalf("api.updated details %v", d)
		}
		if dd := deleted[0].Details; dd["identifier"] != a.Identifier || dd["reusable_at"] == nil {
			t.Fatalf("api.deleted details %v", dd)
		}
	})
}

// Bad bodies and parameters are 400 validation_failed naming every bad field, and change
// nothing; an identifier already registered in the org is 409, also when spelt another way.
func TestIntegrationAPIValidation(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		cases := []struct {
			name   string
			body   any
			fields []string
		}{
			{"nothing", map[string]any{}, []string{"identifier", "name"}},
			{"http to a public host", map[string]any{"identifier": "http://api.example.com", "name": "a"}, []string{"identifier"}},
			{"fragment", map[string]any{"identifier": "https://api.example.com/#x", "name": "a"}, []string{"identifier"}},
			{"query", map[string]any{"identifier": "https://api.example.com/?v=1", "name": "a"}, []string{"identifier"}},
			{"user info", map[string]any{"identifier": "https://u:p@api.example.com", "name": "a"}, []string{"identifier"}},
			{"relative", map[string]any{"identifier": "/api", "name": "a"}, []string{"identifier"}},
			{"not a URI", map[string]any{"identifier": "api example", "name": "a"}, []string{"identifier"}},
			{"another scheme", map[string]any{"identifier": "urn:example:api", "name": "a"}, []string{"identifier"}},
			{"too long", map[string]any{"identifier": "https://api.example.com/" + strings.Repeat("a", 500), "name": "a"}, []string{"identifier"}},
			{"the issuer", map[string]any{"identifier": e.cfg.Issuer, "name": "a"}, []string{"identifier"}},
			{"under the issuer's origin", map[string]any{"identifier": e.cfg.Issuer + "/orgs/x", "name": "a"}, []string{"identifier"}},
			{"null identifier", map[string]any{"identifier": nil, "name": "a"}, []string{"identifier"}},
			{"empty name", map[string]any{"identifier": "https://a.example", "name": "  "}, []string{"name"}},
			{"long name", map[string]any{"identifier": "https://a.example", "name": strings.Repeat("n", 129)}, []string{"name"}},
			{"bad scopes", map[string]any{"identifier": "https://a.example", "name": "a", "scopes": []map[string]string{
				{"value": "Upper"}, {"value": ""}, {"value": strings.Repeat("s", 65)}, {"value": "ok"}, {"value": "ok"},
				{"value": "sp ace"}, {"value": "d", "description": "line\nbreak"}}},
				[]string{"scopes[0].value", "scopes[1].value", "scopes[2].value", "scopes[4].value", "scopes[5].value", "scopes[6].description"}},
			{"null scopes", map[string]any{"identifier": "https://a.example", "name": "a", "scopes": nil}, []string{"scopes"}},
			{"ttl too short", map[string]any{"identifier": "https://a.example", "name": "a", "token_ttl_seconds": 59}, []string{"token_ttl_seconds"}},
			{"ttl over the server's", map[string]any{"identifier": "https://a.example", "name": "a", "token_ttl_seconds": 3601}, []string{"token_ttl_seconds"}},
			{"ttl not an integer", map[string]any{"identifier": "https://a.example", "name": "a", "token_ttl_seconds": 60.5}, []string{"token_ttl_seconds"}},
			{"require_dpop null", map[string]any{"identifier": "https://a.example", "name": "a", "require_dpop": nil}, []string{"require_dpop"}},
			{"org_id not a UUID", map[string]any{"identifier": "https://a.example", "name": "a", "org_id": "root"}, []string{"org_id"}},
			{"unknown org", map[string]any{"identifier": "https://a.example", "name": "a", "org_id": uuid.NewString()}, []string{"org_id"}},
			{"unknown field", map[string]any{"identifier": "https://a.example", "name": "a", "builtin": true}, []string{"builtin"}},
			{"unknown scope field", map[string]any{"identifier": "https://a.example", "name": "a", "scopes": []map[string]string{{"value": "a", "x": "y"}}}, []string{"x"}},
		}
		for _, c := range cases {
			p := e.do(http.MethodPost, apis.PathAPIs, e.operator, c.body).problem(t, http.StatusBadRequest, "validation_failed")
			got := p.fields()
			for _, f := range c.fields {
				if _, ok := got[f]; !ok {
					t.Errorf("%s: %s not named: %v", c.name, f, got)
				}
			}
			if len(got) != len(c.fields) {
				t.Errorf("%s: fields %v, want %v", c.name, got, c.fields)
			}
		}
		for _, body := range []string{`{`, `[]`, `"x"`, `{"name":"a"} {}`} {
			e.do(http.MethodPost, apis.PathAPIs, e.admin, body).problem(t, http.StatusBadRequest, "malformed_body")
		}
		e.do(http.MethodGet, apis.PathAPIs+"/not-a-uuid", e.reader, nil).problem(t, http.StatusBadRequest, "validation_failed")
		e.do(http.MethodGet, apis.PathAPIs+"?limit=0&cursor=x&org_id=y", e.reader, nil).problem(t, http.StatusBadRequest, "validation_failed")
		if p := e.list(e.reader, ""); len(p.Items) != 1 {
			t.Fatalf("a refused request registered something: %+v", p)
		}

		// http is fine for a loopback host; the identifier is unique in the org, whatever
		// its spelling.
		for _, id := range []string{"http://localhost:9000", "http://127.0.0.1:9001/x", "http://[::1]:9002", "http://api.localhost"} {
			e.create(e.admin, map[string]any{"identifier": id, "name": "loopback"})
		}
		a := e.create(e.admin, map[string]any{"identifier": "https://orders.example.com", "name": "orders"})
		for _, dup := range []string{"https://orders.example.com", "HTTPS://ORDERS.EXAMPLE.COM:443/", "https://orders.example.com/./"} {
			e.do(http.MethodPost, apis.PathAPIs, e.admin, map[string]any{"identifier": dup, "name": "again"}).problem(t, http.StatusConflict, "conflict")
		}
		// PATCH refuses what is fixed at creation and checks what it sets.
		p := e.do(http.MethodPatch, apis.PathAPIs+"/"+a.ID, e.admin, map[string]any{
			"identifier": "https://x.example", "org_id": e.other, "name": "", "scopes": scopes("A"), "token_ttl_seconds": 1,
		}).problem(t, http.StatusBadRequest, "validation_failed")
		if got := p.fields(); len(got) != 5 {
			t.Fatalf("PATCH fields %v", got)
		}
		if got := e.do(http.MethodGet, apis.PathAPIs+"/"+a.ID, e.reader, nil).api(t, http.StatusOK); got.Name != "orders" {
			t.Fatalf("a refused PATCH changed the API: %+v", got)
		}
	})
}

// The routes want apis:read or apis:write (the policy's table).
func TestIntegrationAPIScopes(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		a := e.create(e.admin, map[string]any{"identifier": "https://a.example", "name": "a"})
		none := e.bearers.Issue(uuid.NewString(), "agents:read")
		for _, c := range []struct {
			method, path, token string
			body                any
		}{
			{http.MethodPost, apis.PathAPIs, e.reader, map[string]any{"identifier": "https://b.example", "name": "b"}},
			{http.MethodPatch, apis.PathAPIs + "/" + a.ID, e.reader, map[string]any{"name": "b"}},
			{http.MethodDelete, apis.PathAPIs + "/" + a.ID, e.reader, nil},
			{http.MethodGet, apis.PathAPIs, none, nil},
			{http.MethodGet, apis.PathAPIs + "/" + a.ID, none, nil},
			{http.MethodGet, apis.PathAPIs + "/" + a.ID + "/resource-metadata", none, nil},
		} {
			e.do(c.method, c.path, c.token, c.body).problem(t, http.StatusForbidden, "insufficient_scope")
		}
		e.do(http.MethodGet, apis.PathAPIs, "", nil).problem(t, http.StatusUnauthorized, "unauthorized")
	})
}

// Another organization's API answers 404 exactly like a missing one; lists hold the
// caller's organization (and the built-in API); orgs:admin acts on every organization.
func TestIntegrationAPIIsolation(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		mine := e.create(e.admin, map[string]any{"identifier": "https://shared.example", "name": "root's"})
		// The same identifier in another org is another API.
		theirs := e.create(e.otherAdmin, map[string]any{"identifier": "https://shared.example", "name": "other's"})
		if theirs.OrgID == nil || *theirs.OrgID != e.other {
			t.Fatalf("created in %v, want %s", theirs.OrgID, e.other)
		}
		missing := e.do(http.MethodGet, apis.PathAPIs+"/"+uuid.NewString(), e.otherReader, nil).problem(t, http.StatusNotFound, "not_found")
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{http.MethodGet, apis.PathAPIs + "/" + mine.ID, nil},
			{http.MethodGet, apis.PathAPIs + "/" + mine.ID + "/resource-metadata", nil},
			{http.MethodPatch, apis.PathAPIs + "/" + mine.ID, map[string]any{"name": "mine now"}},
			{http.MethodDelete, apis.PathAPIs + "/" + mine.ID, nil},
		} {
			p := e.do(c.method, c.path, e.otherAdmin, c.body).problem(t, http.StatusNotFound, "not_found")
			if p.Detail != missing.Detail {
				t.Fatalf("%s %s: %q, a missing one says %q", c.method, c.path, p.Detail, missing.Detail)
			}
		}
		if got := e.do(http.MethodGet, apis.PathAPIs+"/"+mine.ID, e.reader, nil).api(t, http.StatusOK); got.Name != "root's" {
			t.Fatalf("another org changed root's API: %+v", got)
		}
		if ids := identifiers(e.list(e.otherReader, "")); !slices.Equal(ids, []string{e.cfg.Issuer, "https://shared.example"}) {
			t.Fatalf("other's list %v", ids)
		}
		if p := e.list(e.otherReader, ""); p.Items[1].ID != theirs.ID {
			t.Fatalf("other's list %+v", p)
		}
		e.do(http.MethodGet, apis.PathAPIs+"?org_id="+orgs.RootID, e.otherReader, nil).problem(t, http.StatusNotFound, "not_found")
		if p := e.list(e.otherReader, "?org_id="+e.other); len(p.Items) != 2 {
			t.Fatalf("own org named: %+v", p)
		}
		// Creating in another org is refused as an unknown org.
		p := e.do(http.MethodPost, apis.PathAPIs, e.otherAdmin, map[string]any{"identifier": "https://x.example", "name": "x", "org_id": orgs.RootID}).
			problem(t, http.StatusBadRequest, "validation_failed")
		if _, ok := p.fields()["org_id"]; !ok {
			t.Fatalf("fields %v", p.fields())
		}

		// orgs:admin: every org, unless ?org_id= narrows; it may register in another org.
		if p := e.list(e.operator, ""); len(p.Items) != 3 {
			t.Fatalf("operator's list %+v", identifiers(p))
		}
		if p := e.list(e.operator, "?org_id="+e.other); len(p.Items) != 2 || p.Items[1].ID != theirs.ID {
			t.Fatalf("operator's list of other %+v", p)
		}
		made := e.create(e.operator, map[string]any{"identifier": "https://made-for-other.example", "name": "x", "org_id": e.other})
		if made.OrgID == nil || *made.OrgID != e.other {
			t.Fatalf("operator created in %v", made.OrgID)
		}
		e.do(http.MethodPatch, apis.PathAPIs+"/"+theirs.ID, e.operator, map[string]any{"name": "renamed"}).api(t, http.StatusOK)
	})
}

// The server's own API is built in: listed first, identifier the issuer, the known scopes,
// no org; it cannot be changed or deleted (409).
func TestIntegrationBuiltinAPI(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		for _, tok := range []string{e.reader, e.otherReader} {
			got := e.do(http.MethodGet, apis.PathAPIs+"/"+apis.BuiltinID, tok, nil).api(t, http.StatusOK)
			if !got.Builtin || got.OrgID != nil || got.Identifier != e.cfg.Issuer || got.TokenTTLSeconds != nil || got.RequireDPoP ||
				len(got.Scopes) != 12 || got.Scopes[0].Value != "agents:read" || got.Scopes[0].Description == "" || got.CreatedAt.IsZero() {
				t.Fatalf("built-in %+v", got)
			}
			if first := e.list(tok, "").Items[0]; !reflect.DeepEqual(first, got) {
				t.Fatalf("listed %+v, GET %+v", first, got)
			}
		}
		e.do(http.MethodPatch, apis.PathAPIs+"/"+apis.BuiltinID, e.admin, map[string]any{"name": "mine"}).problem(t, http.StatusConflict, "conflict")
		e.do(http.MethodDelete, apis.PathAPIs+"/"+apis.BuiltinID, e.operator, nil).problem(t, http.StatusConflict, "conflict")
		if got := e.list(e.reader, "").Items[0]; got.Name == "mine" {
			t.Fatal("the built-in API changed")
		}
	})
}

// GET /api/v1/apis/{api_id}/resource-metadata is the API's RFC 9728 document, naming its
// org's issuer.
func TestIntegrationResourceMetadata(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		a := e.create(e.otherAdmin, map[string]any{"identifier": "https://rs.example/api", "name": "RS", "scopes": scopes("read", "write")})
		meta := func(id, tok string) map[string]any {
			r := e.do(http.MethodGet, apis.PathAPIs+"/"+id+"/resource-metadata", tok, nil)
			if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
				t.Fatalf("metadata: %d %s %s", r.Status, r.Header.Get("Content-Type"), r.Body)
			}
			var m map[string]any
			if err := json.Unmarshal(r.Body, &m); err != nil {
				t.Fatal(err)
			}
			return m
		}
		want := map[string]any{
			"resource": "https://rs.example/api", "resource_name": "RS",
			"authorization_servers":             []any{e.cfg.Issuer + "/orgs/" + e.other},
			"scopes_supported":                  []any{"read", "write"},
			"bearer_methods_supported":          []any{"header"},
			"dpop_signing_alg_values_supported": []any{"RS256", "PS256", "ES256", "EdDSA"},
			"dpop_bound_access_tokens_required": false,
		}
		if got := meta(a.ID, e.otherReader); !reflect.DeepEqual(got, want) {
			t.Fatalf("metadata %v\nwant %v", got, want)
		}
		e.do(http.MethodPatch, apis.PathAPIs+"/"+a.ID, e.otherAdmin, map[string]any{"require_dpop": true}).api(t, http.StatusOK)
		if got := meta(a.ID, e.otherReader); got["dpop_bound_access_tokens_required"] != true {
			t.Fatalf("after require_dpop: %v", got)
		}
		// The built-in API's: the caller's org's issuer.
		if got := meta(apis.BuiltinID, e.reader); !reflect.DeepEqual(got["authorization_servers"], []any{e.cfg.Issuer}) ||
			got["resource"] != e.cfg.Issuer || len(got["scopes_supported"].([]any)) != 12 {
			t.Fatalf("built-in, root: %v", got)
		}
		if got := meta(apis.BuiltinID, e.otherReader); !reflect.DeepEqual(got["authorization_servers"], []any{e.cfg.Issuer + "/orgs/" + e.other}) {
			t.Fatalf("built-in, other: %v", got)
		}
	})
}

// The list pages through the built-in API and the registered ones, newest first, without
// repeats or gaps.
func TestIntegrationAPIListPages(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		var want []string
		for i := range 4 {
			want = append([]string{e.create(e.admin, map[string]any{"identifier": "https://p" + string(rune('a'+i)) + ".example", "name": "p"}).Identifier}, want...)
		}
		want = append([]string{e.cfg.Issuer}, want...)
		for _, limit := range []string{"1", "2", "3", "5", "200"} {
			var got []string
			q := "?limit=" + limit
			for range 10 {
				p := e.list(e.reader, q)
				got = append(got, identifiers(p)...)
				if p.NextCursor == nil {
					break
				}
				q = "?limit=" + limit + "&cursor=" + *p.NextCursor
			}
			if !slices.Equal(got, want) {
				t.Fatalf("limit %s: %v, want %v", limit, got, want)
			}
		}
	})
}

// A deleted API's identifier cannot be registered again in its org until its last token
// has expired (AGENTIDP_TOKEN_TTL and the validators' minute of clock skew after the
// deletion); another org may use it at once.
func TestIntegrationIdentifierReuse(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, func(c *config.Config) { c.TokenTTL = 5 * time.Minute })
		body := map[string]any{"identifier": "https://reuse.example", "name": "first"}
		a := e.create(e.admin, body)
		before := time.Now()
		e.do(http.MethodDelete, apis.PathAPIs+"/"+a.ID, e.admin, nil)
		p := e.do(http.MethodPost, apis.PathAPIs, e.admin, body).problem(t, http.StatusConflict, "conflict")
		if !strings.Contains(p.Detail, "registered again from") {
			t.Fatalf("detail %q", p.Detail)
		}
		var reusable time.Time
		if err := b.DB.NewRaw(`SELECT reusable_at FROM apis WHERE api_id = ?`, a.ID).Scan(context.Background(), &reusable); err != nil {
			t.Fatal(err)
		}
		if min := before.Add(5*time.Minute + time.Minute); reusable.Before(min.Add(-time.Second)) || reusable.After(min.Add(10*time.Second)) {
			t.Fatalf("reusable at %v, want about %v", reusable, min)
		}
		e.create(e.otherAdmin, body) // another org's identifiers are its own
		// Once the last token has expired (moved into the past here), it is free again.
		if _, err := b.DB.NewRaw(`UPDATE apis SET reusable_at = ? WHERE api_id = ?`, time.Now().Add(-time.Second).UTC(), a.ID).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		if again := e.create(e.admin, body); again.ID == a.ID {
			t.Fatal("the deleted API came back")
		}
	})
}
