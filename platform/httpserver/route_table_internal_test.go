package httpserver

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/gorilla/mux"
)

// templates are the product's routes in mounting order (sortRoutes), and the root.
var templates = []struct{ method, path string }{
	{"GET", "/.well-known/jwks.json"}, {"GET", "/.well-known/oauth-authorization-server"},
	{"POST", "/api/v1/agents/{agent_id}/credentials/{credential_id}/rotate"},
	{"DELETE", "/api/v1/agents/{agent_id}/credentials/{credential_id}"},
	{"GET", "/api/v1/agents/{agent_id}/credentials"}, {"POST", "/api/v1/agents/{agent_id}/credentials"},
	{"POST", "/api/v1/agents/{agent_id}/suspend"}, {"GET", "/api/v1/agents/{agent_id}/usage"},
	{"DELETE", "/api/v1/agents/{agent_id}"}, {"GET", "/api/v1/agents/{agent_id}"}, {"PATCH", "/api/v1/agents/{agent_id}"},
	{"GET", "/api/v1/agents"}, {"POST", "/api/v1/agents"},
	{"GET", "/api/v1/audit/export"}, {"GET", "/api/v1/audit/{event_id}"}, {"GET", "/api/v1/audit"},
	{"POST", "/api/v1/token/introspect"}, {"POST", "/api/v1/token"},
	{"GET", "/healthz"}, {"GET", "/"},
}

// echo answers with the route's template and the variables mux extracted.
func echo(template string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var vars []string
		for k, v := range mux.Vars(r) {
			vars = append(vars, k+"="+v)
		}
		sort.Strings(vars)
		fmt.Fprint(w, template, " ", strings.Join(vars, ","))
	})
}

// routers returns one gorilla/mux router holding every route, and the route table.
func routers(t testing.TB) (single, table http.Handler) {
	notFound := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(404) })
	notAllowed := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(405) })
	one := mux.NewRouter()
	one.NotFoundHandler, one.MethodNotAllowedHandler = notFound, notAllowed
	rt := newRouteTable(notFound, notAllowed)
	for _, tp := range templates {
		one.Handle(tp.path, echo(tp.path)).Methods(tp.method)
		if err := rt.handle(tp.method, tp.path, echo(tp.path)); err != nil {
			t.Fatal(err)
		}
	}
	one.PathPrefix("/dashboard").Handler(echo("/dashboard"))
	rt.handlePrefix("/dashboard", echo("/dashboard"))
	return one, rt.handler()
}

func serve(h http.Handler, method, path string) string {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, "http://x"+path, nil))
	return fmt.Sprintf("%d %s %s", rec.Code, rec.Header().Get("Location"), rec.Body)
}

// The route table makes every decision a single router with all the routes makes: for
// every template, filled in and mangled (missing, extra and empty segments, trailing and
// doubled slashes, a slash inside a value, another prefix), the dashboard's prefix, and
// every method.
func TestRouteTableKeepsRouting(t *testing.T) {
	single, table := routers(t)
	const id = "0191f0a4-1c2d-4e3f-8a4b-5c6d7e8f9a20"
	var paths []string
	for _, tp := range templates {
		filled := strings.NewReplacer("{agent_id}", id, "{credential_id}", "c1", "{event_id}", "42").Replace(tp.path)
		paths = append(paths, filled, filled+"/", filled+"/x", filled[:strings.LastIndex(filled, "/")],
			strings.Replace(filled, "0191f0a4", "01/91", 1), strings.Replace(filled, "/api/v1", "/api/v2", 1),
			strings.Replace(filled, id, "", 1), strings.Replace(filled, "/", "//", 1), "/x"+filled)
	}
	paths = append(paths, "/dashboard", "/dashboard/", "/dashboard/agents/"+id, "/dashboard/assets/index-abc.js", "/dashboardx")
	outcomes := map[string]int{}
	for _, p := range paths {
		for _, method := range []string{"GET", "POST", "PATCH", "DELETE", "PUT"} {
			want, got := serve(single, method, p), serve(table, method, p)
			if want != got {
				t.Errorf("%s %s: single router %q, route table %q", method, p, want, got)
			}
			outcomes[want[:3]]++
		}
	}
	// The cases must reach matches, 404s, 405s and clean-path redirects, or they prove little.
	for _, code := range []string{"200", "404", "405", "301"} {
		if outcomes[code] == 0 {
			t.Errorf("no case answered %s: %v", code, outcomes)
		}
	}
}

func TestRouteTableRefusesPatternVariables(t *testing.T) {
	if err := newRouteTable(nil, nil).handle("GET", "/files/{rest:.*}", echo("")); err == nil {
		t.Fatal("a variable that may span slashes was accepted")
	}
	if err := newRouteTable(nil, nil).handle("GET", "/files/v{n:[0-9]+}", echo("")); err == nil {
		t.Fatal("a variable with its own pattern inside a segment was accepted")
	}
	if err := newRouteTable(nil, nil).handle("POST", "/v1/things:batch/{id}", echo("")); err != nil {
		t.Fatalf("a literal colon was refused: %v", err)
	}
}

// Run: go test -run xxx -bench Routing -benchmem ./platform/httpserver/
func BenchmarkRouting(b *testing.B) {
	single, table := routers(b)
	for _, r := range []struct {
		name string
		h    http.Handler
	}{{"single-router", single}, {"route-table", table}} {
		for _, c := range []struct{ name, method, path string }{
			{"get-agent", "GET", "/api/v1/agents/0191f0a4-1c2d-4e3f-8a4b-5c6d7e8f9a20"},
			{"token", "POST", "/api/v1/token"},
			{"introspect", "POST", "/api/v1/token/introspect"},
		} {
			b.Run(r.name+"/"+c.name, func(b *testing.B) {
				req := httptest.NewRequest(c.method, c.path, nil)
				w := httptest.NewRecorder()
				b.ReportAllocs()
				for b.Loop() {
					w.Body.Reset()
					r.h.ServeHTTP(w, req)
				}
			})
		}
	}
}
