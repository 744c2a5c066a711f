package httpserver

import (
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"

	"github.com/agentidp/agentidp/platform/log"
	"github.com/agentidp/agentidp/platform/tracing"
)

// maxTracedUserAgent is how much of the user agent a span keeps.
const maxTracedUserAgent = 256

// traced wraps h in a server span (W3C trace context taken from the request) when tracing
// is on. The span is named after the method until the matched route names it "METHOD
// /template" (see labelled); the path and user agent otelhttp copies from the request are
// overwritten, scrubbed of tokens and secrets, before anything else runs.
func traced(h http.Handler, t *tracing.Tracing) http.Handler {
	if !t.Enabled() {
		return h
	}
	return otelhttp.NewHandler(scrubbedSpan(h), "http",
		otelhttp.WithTracerProvider(t.Provider()),
		otelhttp.WithPropagators(tracing.Propagator()),
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method }),
	)
}

// scrubbedSpan overwrites url.path and user_agent.original with the access log's redaction.
func scrubbedSpan(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		span := trace.SpanFromContext(r.Context())
		span.SetAttributes(attribute.String("url.path", logPath(r.URL.Path)))
		if ua := r.UserAgent(); ua != "" {
			if ua = log.Scrub(ua); len(ua) > maxTracedUserAgent {
				ua = ua[:maxTracedUserAgent]
			}
			span.SetAttributes(attribute.String("user_agent.original", ua))
		}
		h.ServeHTTP(w, r)
	})
}

// nameSpan names the request's server span after the matched route template.
func nameSpan(r *http.Request, template string) {
	span := trace.SpanFromContext(r.Context())
	span.SetName(r.Method + " " + template)
	span.SetAttributes(attribute.String("http.route", template))
}
