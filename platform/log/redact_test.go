package log

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

const (
	secret = "sk_live_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde"
	jwt    = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZ2VudCJ9.c2lnbmF0dXJlLWJ5dGVz"
)

func capture(t *testing.T, format string) (*zap.Logger, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	l, err := build(nil, "debug", format, zapcore.AddSync(&buf))
	if err != nil {
		t.Fatal(err)
	}
	return l, &buf
}

func TestRedaction(t *testing.T) {
	for _, format := range []string{"json", "console"} {
		t.Run(format, func(t *testing.T) {
			l, buf := capture(t, format)
			l.Info("by key", zap.String("client_secret", "plain-value-1"), zap.String("Authorization", "plain-value-2"),
				zap.Int("token_count", 3), zap.String("password", "plain-value-3"))
			l.Info("by value", zap.String("note", "the secret is "+secret), zap.String("header", "Bearer "+jwt),
				zap.Error(errors.New("bad token "+jwt)), zap.String("basic", "Basic dXNlcjpwYXNzd29yZA=="))
			l.With(zap.String("access_token", "plain-value-4")).Info("with")
			l.Info("message carries " + secret)
			out := buf.String()
			for _, leaked := range []string{"plain-value-", secret, jwt, "dXNlcjpwYXNzd29yZA=="} {
				if strings.Contains(out, leaked) {
					t.Errorf("output contains %q:\n%s", leaked, out)
				}
			}
			if strings.Count(out, Redacted) < 10 {
				t.Errorf("expected redaction markers, got:\n%s", out)
			}
		})
	}
}

func TestRedactionKeepsOrdinaryFields(t *testing.T) {
	l, buf := capture(t, "json")
	l.Info("request", zap.String("route", "/api/v1/agents/{agent_id}"), zap.Int("status", 200), zap.String("agent_id", "3f1e"))
	out := buf.String()
	for _, want := range []string{`"route":"/api/v1/agents/{agent_id}"`, `"status":200`, `"agent_id":"3f1e"`} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s in %s", want, out)
		}
	}
}

func TestLevelFromConfig(t *testing.T) {
	var buf bytes.Buffer
	l, err := build(nil, "warn", "json", zapcore.AddSync(&buf))
	if err != nil {
		t.Fatal(err)
	}
	l.Info("hidden")
	l.Warn("shown")
	if strings.Contains(buf.String(), "hidden") || !strings.Contains(buf.String(), "shown") {
		t.Fatalf("level not applied: %s", buf.String())
	}
}

func BenchmarkRedactedInfo(b *testing.B) {
	l, err := build(nil, "info", "json", zapcore.AddSync(&bytes.Buffer{}))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		l.Info("request", zap.String("method", "POST"), zap.String("route", "/api/v1/token"), zap.Int("status", 200),
			zap.String("request_id", "0123456789abcdef0123456789abcdef"), zap.String("client_ip", "127.0.0.1"))
	}
}
