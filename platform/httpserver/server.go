// Package httpserver is the HTTP front of the monolith: gorilla/mux with the routes that
// modules contribute through a value group, mounted in a deterministic order behind one
// middleware chain (request id, security headers, CORS, body limit, panic recovery, access
// log, metrics) and, for protected routes, bearer authentication and the OPA policy. It
// owns /healthz, /readyz and /metrics, and mounts the dashboard last.
package httpserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/cors"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/dpop"
	"github.com/agentidp/agentidp/platform/health"
	"github.com/agentidp/agentidp/platform/metrics"
	"github.com/agentidp/agentidp/platform/policy"
	"github.com/agentidp/agentidp/platform/tracing"
)

// Params are the server's dependencies.
type Params struct {
	fx.In
	Lifecycle fx.Lifecycle
	Config    *config.Config
	Log       *zap.Logger
	Registry  *prometheus.Registry
	Policy    policy.Engine
	Routes    []Route          `group:"routes"`
	Checks    []health.Check   `group:"readiness"`
	Verifier  Verifier         `optional:"true"`
	Proofs    *dpop.Verifier   `optional:"true"`
	Dashboard http.Handler     `name:"dashboard" optional:"true"`
	Tracing   *tracing.Tracing `optional:"true"`
}

// Server is the running HTTP server.
type Server struct {
	handler   http.Handler
	srv       *http.Server
	cfg       *config.Config
	log       *zap.Logger
	protected map[string]bool // "METHOD /template" of every route with a policy entry
	mounted   []string        // "METHOD /template" of every route, in mounting order

	mu   sync.Mutex
	addr net.Addr

	stopping     chan struct{} // closed when stop begins (Stopping)
	stoppingOnce sync.Once
}

// New builds the handler and registers the listener: net.Listen runs in OnStart, so a
// taken port fails the start; OnStop drains in-flight requests within the shutdown timeout.
func New(p Params) (*Server, error) {
	log := p.Log.Named("http")
	for _, w := range p.Config.Warnings() {
		log.Warn(w)
	}
	m := newHTTPMetrics(p.Registry)
	auth := NewAuthenticator(p.Verifier, p.Proofs)
	table := newRouteTable(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			WriteProblem(w, r, http.StatusNotFound, "not_found", "no such route")
		}),
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			WriteProblem(w, r, http.StatusMethodNotAllowed, "method_not_allowed", "this route does not accept "+r.Method)
		}))

	tr := p.Tracing.Enabled()
	routes := append(platformRoutes(p), p.Routes...)
	sortRoutes(routes)
	seen := map[string]bool{}
	protected := map[string]bool{}
	var mounted []string
	for _, rt := range routes {
		key := rt.Method + " " + rt.Path
		if seen[key] {
			return nil, fmt.Errorf("httpserver: route %s registered twice", key)
		}
		seen[key] = true
		mounted = append(mounted, key)
		if rt.Auth != AuthNone {
			if _, ok := p.Policy.RouteScopes(rt.Method, rt.Path); !ok {
				return nil, fmt.Errorf("httpserver: route %s is protected but has no entry in the policy's route table (policies/data/scopes.json)", key)
			}
			protected[key] = true
		}
		h := rt.Handler
		if rt.Auth == AuthBearer {
			h = protect(rt, auth, p.Policy, log)
		}
		if err := table.handle(rt.Method, rt.Path, labelled(rt.Path, h, tr)); err != nil {
			return nil, err
		}
	}
	if p.Dashboard != nil {
		table.handlePrefix("/dashboard", labelled("/dashboard", p.Dashboard, tr))
		if err := table.handle(http.MethodGet, "/", labelled("/", http.RedirectHandler("/dashboard/", http.StatusFound), tr)); err != nil {
			return nil, err
		}
	}

	handler := table.handler()
	if len(p.Config.CORSOrigins) > 0 {
		handler = cors.New(cors.Options{
			AllowedOrigins:   p.Config.CORSOrigins,
			AllowedMethods:   []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete},
			AllowedHeaders:   []string{"Authorization", "Content-Type", RequestIDHeader, dpop.HeaderName},
			ExposedHeaders:   []string{RequestIDHeader, "Location", "Retry-After", "WWW-Authenticate"},
			AllowCredentials: false,
			MaxAge:           600,
		}).Handler(handler)
	}
	handler = &frontDoor{next: handler, log: log, metrics: m,
		proxies: ParsePrefixes(p.Config.TrustedProxies), hsts: p.Config.TLS()}
	handler = traced(handler, p.Tracing)

	s := &Server{handler: handler, cfg: p.Config, log: log, protected: protected, mounted: mounted, stopping: make(chan struct{})}
	s.srv = &http.Server{
		Handler:           handler,
		BaseContext:       s.baseContext,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          zap.NewStdLog(log.WithOptions(zap.IncreaseLevel(zap.WarnLevel))),
	}
	p.Lifecycle.Append(fx.Hook{OnStart: s.start, OnStop: s.stop})
	return s, nil
}

// labelled records the matched route template for the front door's log and metrics and,
// when traced, names the request's span after it.
func labelled(template string, h http.Handler, traced bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if traced {
			nameSpan(r, template)
		}
		if sw, ok := w.(*statusWriter); ok {
			sw.route = template
		} else if sw, ok := unwrapStatus(w); ok {
			sw.route = template
		}
		h.ServeHTTP(w, r)
	})
}

func unwrapStatus(w http.ResponseWriter) (*statusWriter, bool) {
	for {
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return nil, false
		}
		w = u.Unwrap()
		if sw, ok := w.(*statusWriter); ok {
			return sw, true
		}
	}
}

func (s *Server) start(context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("AGENTIDP_HTTP_ADDR: cannot listen on %s: %w", s.cfg.HTTPAddr, err)
	}
	s.mu.Lock()
	s.addr = ln.Addr()
	s.mu.Unlock()
	if s.cfg.TLS() {
		cert, err := tls.LoadX509KeyPair(s.cfg.TLSCertFile, s.cfg.TLSKeyFile)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("AGENTIDP_TLS_CERT_FILE: %w", err)
		}
		s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, s.srv.TLSConfig)
	}
	s.log.Info("listening", zap.String("addr", ln.Addr().String()))
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("server stopped", zap.Error(err))
		}
	}()
	return nil
}

func (s *Server) stop(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ShutdownTimeout)
	defer cancel()
	s.log.Info("draining in-flight requests")
	s.stoppingOnce.Do(func() { close(s.stopping) })
	return s.srv.Shutdown(ctx)
}

// Routes lists "METHOD /template" of every route the modules and the server mounted (the
// dashboard, mounted by prefix, aside), in mounting order.
func (s *Server) Routes() []string { return append([]string(nil), s.mounted...) }

// Handler is the full handler (for in-process tests).
func (s *Server) Handler() http.Handler { return s.handler }

// Addr is the listening address once started (useful with port 0).
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// URL is http://<listening address>.
func (s *Server) URL() string {
	scheme := "http"
	if s.cfg.TLS() {
		scheme = "https"
	}
	return scheme + "://" + s.Addr().String()
}

// platformRoutes are the server's own public routes.
func platformRoutes(p Params) []Route {
	return []Route{
		{Method: http.MethodGet, Path: "/healthz", Auth: AuthNone, Handler: http.HandlerFunc(healthz)},
		{Method: http.MethodGet, Path: "/readyz", Auth: AuthNone, Handler: readyz(p.Checks, p.Log.Named("readyz"))},
		{Method: http.MethodGet, Path: "/metrics", Auth: AuthNone, Handler: metrics.Handler(p.Registry, p.Config.MetricsToken)},
	}
}

// Module provides *Server. Serve starts it with the app.
var Module = fx.Module("httpserver", fx.Provide(New))

// Serve builds the Server (and, through its routes, every module that contributes one) and
// starts it: it listens in its start hook, which comes after the hooks of everything built
// before it. Put it last in the app, at the root, after every option whose start hook must
// have run before the first request is served (migrations, the first signing key, the
// bootstrap admin): a module's own invokes run before the root's, whatever the order.
var Serve = fx.Invoke(func(*Server) {}, startPprof)

// EveryPolicyRouteMounted fails the start when the policy has an entry for a route that
// no module mounted (a typo, or a route that was removed): the full server app includes
// it; graphs that mount only some modules' routes (module tests) do not.
var EveryPolicyRouteMounted = fx.Invoke(func(s *Server, pol policy.Engine) error {
	return s.CheckPolicyRoutes(pol)
})

// CheckPolicyRoutes reports the policy entries that name no protected route of s.
func (s *Server) CheckPolicyRoutes(pol policy.Engine) error {
	var errs []error
	for _, key := range pol.Routes() {
		if !s.protected[key] {
			errs = append(errs, fmt.Errorf("httpserver: the policy's route table (policies/data/scopes.json) has an entry for %s, which no module mounts as a protected route", key))
		}
	}
	return errors.Join(errs...)
}
