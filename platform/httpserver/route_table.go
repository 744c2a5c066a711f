package httpserver

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/gorilla/mux"
)

// routeTable mounts routes on gorilla/mux, one router per path depth: a request goes to the
// router holding only the templates with as many slashes as its path (a {name} variable
// matches [^/]+, so no other template could match it), and each of those routers ends with
// the prefix routes (the dashboard), which match at any depth. mux tries a router's routes
// in order and runs a regexp for each; against a path carrying a UUID each costs about a
// microsecond, and in one router GET /api/v1/agents/{agent_id} sat behind eight templates
// deeper than itself (BenchmarkRouting). Every routing decision, 404 and 405 included, is
// the one a single router with all the routes would make (TestRouteTableKeepsRouting).
type routeTable struct {
	notFound, notAllowed http.Handler
	routes               []tableRoute
	prefixes             []tableRoute
}

type tableRoute struct {
	method, template string
	handler          http.Handler
}

func newRouteTable(notFound, notAllowed http.Handler) *routeTable {
	return &routeTable{notFound: notFound, notAllowed: notAllowed}
}

// handle adds a route for method and template; routes are tried in the order added. A
// variable with its own pattern ({rest:.*}) could span slashes and is refused.
func (t *routeTable) handle(method, template string, h http.Handler) error {
	if hasPatternVariable(template) {
		return fmt.Errorf("httpserver: route %s %s: variables with their own pattern are not supported", method, template)
	}
	t.routes = append(t.routes, tableRoute{method: method, template: template, handler: h})
	return nil
}

func hasPatternVariable(template string) bool {
	for _, seg := range strings.Split(template, "/") {
		if _, variable, ok := strings.Cut(seg, "{"); ok && strings.Contains(variable, ":") {
			return true
		}
	}
	return false
}

// handlePrefix adds a route for every path under prefix and every method, tried after the
// routes of handle.
func (t *routeTable) handlePrefix(prefix string, h http.Handler) {
	t.prefixes = append(t.prefixes, tableRoute{template: prefix, handler: h})
}

// handler builds the routers.
func (t *routeTable) handler() http.Handler {
	byDepth := map[int][]tableRoute{}
	for _, rt := range t.routes {
		depth := strings.Count(rt.template, "/")
		byDepth[depth] = append(byDepth[depth], rt)
	}
	d := depthRouter{byDepth: map[int]*mux.Router{}, other: t.router(nil)}
	for depth, routes := range byDepth {
		d.byDepth[depth] = t.router(routes)
	}
	return d
}

func (t *routeTable) router(routes []tableRoute) *mux.Router {
	r := mux.NewRouter()
	r.NotFoundHandler, r.MethodNotAllowedHandler = t.notFound, t.notAllowed
	for _, rt := range routes {
		r.Handle(rt.template, rt.handler).Methods(rt.method)
	}
	for _, p := range t.prefixes {
		r.PathPrefix(p.template).Handler(p.handler)
	}
	return r
}

type depthRouter struct {
	byDepth map[int]*mux.Router
	other   *mux.Router // depths no route has: only the prefix routes
}

func (d depthRouter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rt, ok := d.byDepth[strings.Count(r.URL.Path, "/")]; ok {
		rt.ServeHTTP(w, r)
		return
	}
	d.other.ServeHTTP(w, r)
}
