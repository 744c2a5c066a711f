package tracing_test

import (
	"context"
	"testing"

	"go.uber.org/fx/fxtest"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/tracing"
)

// Without an OTLP endpoint tracing is off: the provider's spans record nothing.
func TestOffWithoutEndpoint(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	tr, err := tracing.New(fxtest.NewLifecycle(t), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	if tr.Enabled() {
		t.Fatal("enabled without an endpoint")
	}
	_, span := tr.Provider().Tracer("t").Start(context.Background(), "x")
	defer span.End()
	if span.IsRecording() || span.SpanContext().IsValid() {
		t.Fatal("the provider records spans with tracing off")
	}
	if (*tracing.Tracing)(nil).Enabled() {
		t.Fatal("a nil *Tracing is enabled")
	}
}

// With an endpoint the provider records spans (nothing is exported before stop here).
func TestOnWithEndpoint(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
	lc := fxtest.NewLifecycle(t)
	tr, err := tracing.New(lc, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Enabled() {
		t.Fatal("off with an endpoint")
	}
	_, span := tr.Provider().Tracer("t").Start(context.Background(), "x")
	if !span.IsRecording() {
		t.Fatal("not recording")
	}
}
