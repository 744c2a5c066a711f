package httpserver

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/log"
	"github.com/agentidp/agentidp/platform/reqctx"
)

// RequestIDHeader carries the request id in and out.
const RequestIDHeader = "X-Request-Id"

var saneRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// statusWriter records the status and size of a response; it keeps http.Flusher working
// (NDJSON export) and exposes the original writer to http.ResponseController.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
	route  string // set by the matched route's wrapper; "" when nothing matched
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		if w.status == 0 {
			w.status = http.StatusOK
		}
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// httpMetrics are the request counter and latency histogram, labelled by route template.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	f := promauto.With(reg)
	return &httpMetrics{
		requests: f.NewCounterVec(prometheus.CounterOpts{
			Name: "agentidp_http_requests_total",
			Help: "HTTP requests by method, route template and status.",
		}, []string{"method", "route", "status"}),
		duration: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "agentidp_http_request_duration_seconds",
			Help:    "HTTP request latency by method and route template.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route"}),
	}
}

// frontDoor is the outermost middleware, run for every request, matched or not: request
// id, request metadata, security headers, body limit, panic recovery, access log and
// metrics. It is one function rather than a stack so that the hot path pays for one
// wrapper and one context value.
type frontDoor struct {
	next    http.Handler
	log     *zap.Logger
	metrics *httpMetrics
	proxies []netip.Prefix
	hsts    bool
}

func (f *frontDoor) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := r.Header.Get(RequestIDHeader)
	if !saneRequestID.MatchString(id) {
		id = newRequestID()
	}
	// The user agent as sent (the header's own string, no copy): whoever keeps it scrubs it
	// of secrets and tokens before cutting it, as the audit log does; cut first, a token
	// split at the cut would no longer be recognised.
	info := &reqctx.Info{RequestID: id, ClientIP: clientIP(r, f.proxies), UserAgent: r.UserAgent()}
	r = r.WithContext(reqctx.WithInfo(r.Context(), info))

	h := rw.Header()
	h.Set(RequestIDHeader, id)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'")
	if f.hsts {
		h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	}
	w := &statusWriter{ResponseWriter: rw}
	defer f.finish(w, r, start)
	if r.ContentLength > MaxBodyBytes {
		writeProblem(w, r, Problem{Status: ErrPayloadTooLarge.Status, Code: ErrPayloadTooLarge.Code, Detail: ErrPayloadTooLarge.Detail})
		return
	}
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	}
	f.next.ServeHTTP(w, r)
}

// finish recovers a panic (500 problem, nothing internal shown), then logs and counts the
// request under its route template.
func (f *frontDoor) finish(w *statusWriter, r *http.Request, start time.Time) {
	if p := recover(); p != nil {
		if p == http.ErrAbortHandler {
			panic(p)
		}
		f.log.Error("panic serving request", zap.Any("panic", p), zap.ByteString("stack", debug.Stack()),
			zap.String("request_id", reqctx.InfoFrom(r.Context()).RequestID))
		if w.status == 0 {
			writeProblem(w, r, Problem{Status: http.StatusInternalServerError, Code: "internal_error",
				Detail: "an internal error occurred; quote the request id when reporting it"})
		}
	}
	route := w.route
	if route == "" {
		route = "unmatched"
	}
	status := w.status
	if status == 0 {
		status = http.StatusOK
	}
	elapsed := time.Since(start)
	f.metrics.requests.WithLabelValues(r.Method, route, strconv.Itoa(status)).Inc()
	f.metrics.duration.WithLabelValues(r.Method, route).Observe(elapsed.Seconds())
	if ce := f.log.Check(zap.InfoLevel, "request"); ce != nil {
		ce.Write(
			zap.String("method", r.Method),
			zap.String("route", route),
			zap.String("path", logPath(r.URL.Path)),
			zap.Int("status", status),
			zap.Int64("bytes", w.bytes),
			zap.Duration("duration", elapsed),
			zap.String("request_id", reqctx.InfoFrom(r.Context()).RequestID),
			zap.String("client_ip", reqctx.InfoFrom(r.Context()).ClientIP),
		)
	}
}

// clientIP is the peer address, or, when the peer is a trusted proxy, the right-most
// address in X-Forwarded-For that is not itself a trusted proxy.
func clientIP(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || len(trusted) == 0 || !inPrefixes(peer.Unmap(), trusted) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if !inPrefixes(a.Unmap(), trusted) {
			return a.Unmap().String()
		}
	}
	return host
}

func inPrefixes(a netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ParsePrefixes reads AGENTIDP_TRUSTED_PROXIES entries (prefixes or single addresses).
func ParsePrefixes(list []string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
		} else if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
		}
	}
	return out
}

// maxLoggedPath is how much of a path the access log keeps.
const maxLoggedPath = 256

// logPath is the path as the access log writes it: anything in it that looks like a JWT, a
// client secret or Bearer/Basic credentials redacted first (the path is decoded, so an
// escaped token shows too), then cut. In the other order a token cut in two would no
// longer look like one, and its first part would reach the log.
func logPath(p string) string {
	if p = log.Scrub(p); len(p) > maxLoggedPath {
		p = p[:maxLoggedPath]
	}
	return p
}
