// Package tracing provides the process's OpenTelemetry tracer provider: an OTLP/HTTP
// exporter behind a batch span processor when OTEL_EXPORTER_OTLP_ENDPOINT (or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, else nothing at all. The HTTP server, the
// database and the cache instrument themselves only when it is enabled, so that with
// tracing off the hot path pays nothing.
package tracing

import (
	"context"
	"fmt"
	"os"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"go.uber.org/fx"
	"go.uber.org/zap"
)

// ServiceName is the resource's service.name unless OTEL_SERVICE_NAME says otherwise.
const ServiceName = "agentidp"

// Tracing is the tracer provider and whether anything is recorded. A nil *Tracing is off.
type Tracing struct {
	sdk *sdktrace.TracerProvider // nil when off
}

// Enabled reports whether spans are recorded and exported.
func (t *Tracing) Enabled() bool { return t != nil && t.sdk != nil }

// Provider is the tracer provider: a no-op one when tracing is off.
func (t *Tracing) Provider() trace.TracerProvider {
	if !t.Enabled() {
		return noop.NewTracerProvider()
	}
	return t.sdk
}

// Propagator is the W3C trace context propagator (traceparent, tracestate).
func Propagator() propagation.TextMapPropagator { return propagation.TraceContext{} }

// Off is tracing disabled.
func Off() *Tracing { return &Tracing{} }

// Configured reports whether the environment names an OTLP endpoint for traces.
func Configured(getenv func(string) string) bool {
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// New builds tracing from the environment: off without an endpoint; otherwise an OTLP/HTTP
// exporter (endpoint, headers, timeout and TLS from the standard OTEL_EXPORTER_OTLP_*
// variables) behind a batch span processor, flushed and shut down on stop.
func New(lc fx.Lifecycle, log *zap.Logger) (*Tracing, error) {
	if !Configured(os.Getenv) {
		return Off(), nil
	}
	exp, err := otlptracehttp.New(context.Background())
	if err != nil {
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT: %w", err)
	}
	t, err := Enable(sdktrace.WithBatcher(exp))
	if err != nil {
		return nil, err
	}
	lc.Append(fx.StopHook(t.sdk.Shutdown))
	log.Named("tracing").Info("exporting traces over OTLP/HTTP")
	return t, nil
}

// Enable is tracing on with the exporter that opt registers: sdktrace.WithBatcher(exp) in
// production, sdktrace.WithSyncer(exp) in tests, which then read an in-memory exporter.
func Enable(opt sdktrace.TracerProviderOption) (*Tracing, error) {
	res, err := resource.New(context.Background(),
		resource.WithAttributes(attribute.String("service.name", ServiceName)),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES override
		resource.WithTelemetrySDK(),
	)
	if err != nil {
		return nil, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	return &Tracing{sdk: sdktrace.NewTracerProvider(opt, sdktrace.WithResource(res))}, nil
}

// Module provides *Tracing.
var Module = fx.Module("tracing", fx.Provide(New))
