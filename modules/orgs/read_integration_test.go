package orgs_test

import (
	"bytes"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/testenv"
)

// GET /api/v1/orgs pages through every organization, newest first (orgs:admin), with the
// status and q filters; GET /api/v1/orgs/{org_id} answers one.
func TestIntegrationListOrgs(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		var made []string
		for _, name := range []string{"alpha", "beta", "gamma_1", "delta"} {
			id, _ := e.newOrg(name)
			made = append(made, id)
		}
		e.must(http.StatusOK, http.MethodPost, "/api/v1/orgs/"+made[1]+"/suspend", e.rootTok, nil)

		// Every page of two, newest first: the four new ones, then root.
		var names []string
		next := ""
		for pages := 0; ; pages++ {
			u := "/api/v1/orgs?limit=2"
			if next != "" {
				u += "&cursor=" + next
			}
			p := e.must(http.StatusOK, http.MethodGet, u, e.rootTok, nil)
			for _, it := range p["items"].([]any) {
				names = append(names, it.(map[string]any)["name"].(string))
			}
			if p["next_cursor"] == nil {
				break
			}
			next = p["next_cursor"].(string)
			if pages > 5 {
				t.Fatal("too many pages")
			}
		}
		if strings.Join(names, ",") != "delta,gamma_1,beta,alpha,root" {
			t.Fatalf("list: %v", names)
		}
		for query, want := range map[string]string{
			"status=suspended": "beta",
			"status=active":    "delta,gamma_1,alpha,root",
			"q=A_":             "gamma_1", // _ matches itself only
			"q=ET":             "beta",
			"q=%25":            "",
			"q=ROOT":           "root",
		} {
			p := e.must(http.StatusOK, http.MethodGet, "/api/v1/orgs?"+query, e.rootTok, nil)
			var got []string
			for _, it := range p["items"].([]any) {
				got = append(got, it.(map[string]any)["name"].(string))
			}
			if strings.Join(got, ",") != want || p["next_cursor"] != nil {
				t.Errorf("%s: %v, want %s", query, got, want)
			}
		}
		for _, query := range []string{"limit=0", "limit=201", "limit=x", "status=gone", "cursor=nope", "cursor=" + strings.Repeat("A", 300)} {
			e.problem(http.StatusBadRequest, "validation_failed", http.MethodGet, "/api/v1/orgs?"+query, e.rootTok, nil)
		}

		// One org; root; upper case ids are read in lower case; not a UUID is 400.
		o := e.must(http.StatusOK, http.MethodGet, "/api/v1/orgs/"+strings.ToUpper(made[1]), e.rootTok, nil)
		if o["org_id"] != made[1] || o["name"] != "beta" || o["status"] != "suspended" {
			t.Fatalf("get: %v", o)
		}
		if r := e.must(http.StatusOK, http.MethodGet, "/api/v1/orgs/"+orgs.RootID, e.rootTok, nil); r["name"] != "root" {
			t.Fatalf("root: %v", r)
		}
		e.problem(http.StatusBadRequest, "validation_failed", http.MethodGet, "/api/v1/orgs/not-a-uuid", e.rootTok, nil)
		e.problem(http.StatusNotFound, "not_found", http.MethodGet, "/api/v1/orgs/"+uuid.NewString(), e.rootTok, nil)
	})
}

// Isolation: a caller without orgs:admin reads its own org with agents:read; another org's
// answer is the very answer for a missing one (404), and so is the list's. Without
// agents:read even the own org is 403.
func TestIntegrationReadOrgIsolation(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		orgA, adminA := e.newOrg("org-a")
		orgB, _ := e.newOrg("org-b")
		tokA := e.token(adminA, "")
		reader := e.token(e.newAgent(tokA, "reader", []string{"agents:read"}), "")
		auditor := e.token(e.newAgent(tokA, "auditor", []string{"audit:read"}), "")

		for _, tok := range []string{tokA, reader} {
			if o := e.must(http.StatusOK, http.MethodGet, "/api/v1/orgs/"+orgA, tok, nil); o["org_id"] != orgA {
				t.Fatalf("own org: %v", o)
			}
			other := e.api(http.MethodGet, "/api/v1/orgs/"+orgB, tok, nil)
			missing := e.api(http.MethodGet, "/api/v1/orgs/"+uuid.NewString(), tok, nil)
			rootOrg := e.api(http.MethodGet, "/api/v1/orgs/"+orgs.RootID, tok, nil)
			requestID := regexp.MustCompile(`"request_id":"[^"]*"`)
			strip := func(r response) string { return string(requestID.ReplaceAll(r.Body, nil)) }
			if other.Status != http.StatusNotFound || missing.Status != http.StatusNotFound || rootOrg.Status != http.StatusNotFound ||
				strip(other) != strip(missing) || strip(rootOrg) != strip(missing) {
				t.Fatalf("another org: %d %s; a missing one: %d %s; root: %d %s", other.Status, other.Body, missing.Status, missing.Body, rootOrg.Status, rootOrg.Body)
			}
			e.problem(http.StatusForbidden, "insufficient_scope", http.MethodGet, "/api/v1/orgs", tok, nil)
		}
		m := e.problem(http.StatusForbidden, "insufficient_scope", http.MethodGet, "/api/v1/orgs/"+orgA, auditor, nil)
		if !strings.Contains(m["detail"].(string), "orgs:admin") {
			t.Fatalf("own org without agents:read: %v", m)
		}
		// Changes are orgs:admin's alone, also on one's own org.
		for _, c := range []struct{ method, path string }{
			{http.MethodPatch, "/api/v1/orgs/" + orgA}, {http.MethodPost, "/api/v1/orgs/" + orgA + "/suspend"},
			{http.MethodPost, "/api/v1/orgs/" + orgA + "/reactivate"}, {http.MethodPatch, "/api/v1/orgs/" + orgB},
		} {
			var body any
			if c.method == http.MethodPatch {
				body = map[string]any{"name": "mine"}
			}
			e.problem(http.StatusForbidden, "insufficient_scope", c.method, c.path, tokA, body)
		}
		if o := e.must(http.StatusOK, http.MethodGet, "/api/v1/orgs/"+orgA, e.rootTok, nil); o["name"] != "org-a" || o["status"] != "active" {
			t.Fatalf("org A after refused changes: %v", o)
		}
		if bytes.Contains(e.api(http.MethodGet, "/api/v1/orgs/"+orgA, reader, nil).Body, []byte("client_secret")) {
			t.Fatal("an org answer holds a secret")
		}
	})
}
