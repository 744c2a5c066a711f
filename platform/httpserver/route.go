package httpserver

import (
	"net/http"
	"sort"
	"strings"

	"go.uber.org/fx"
)

// RoutesGroup is the value-group tag through which modules contribute their routes,
// declared once. Constructors return []Route and are annotated with AsRoutes.
const RoutesGroup = `group:"routes,flatten"`

// Route is one endpoint a module contributes.
type Route struct {
	Method string
	// Path is a gorilla/mux template, e.g. /api/v1/agents/{agent_id}. It is also the label
	// of the route's metrics and the key of its policy entry (policies/data/scopes.json).
	Path    string
	Handler http.Handler
	// Auth says who authenticates the route's callers before the policy decides. Every
	// route but an AuthNone one has a policy entry; the server refuses to start otherwise.
	Auth Auth
}

// Auth is how a route's callers are authenticated.
type Auth int

const (
	// AuthBearer (the default): the server verifies the bearer token and asks the policy
	// before the handler runs.
	AuthBearer Auth = iota
	// AuthInHandler: the handler authenticates the caller itself (OAuth client
	// authentication, or a bearer token) and asks the policy with what it learned
	// (introspection, revocation).
	AuthInHandler
	// AuthNone: public, no authentication and no policy (the token endpoint, which
	// authenticates clients itself, the discovery documents, health).
	AuthNone
)

// AsRoutes annotates a constructor returning []Route so that its routes join the group.
func AsRoutes(f any) any { return fx.Annotate(f, fx.ResultTags(RoutesGroup)) }

// sortRoutes orders routes deterministically and so that a literal segment is tried before
// a variable one at the same depth (/audit/export before /audit/{id}), whatever the order
// in which Fx built the modules.
func sortRoutes(routes []Route) {
	sort.SliceStable(routes, func(i, j int) bool {
		a, b := strings.Split(routes[i].Path, "/"), strings.Split(routes[j].Path, "/")
		for k := 0; k < len(a) && k < len(b); k++ {
			if a[k] == b[k] {
				continue
			}
			av, bv := strings.HasPrefix(a[k], "{"), strings.HasPrefix(b[k], "{")
			if av != bv {
				return !av
			}
			return a[k] < b[k]
		}
		if len(a) != len(b) {
			return len(a) > len(b)
		}
		return routes[i].Method < routes[j].Method
	})
}
