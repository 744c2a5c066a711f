package httpserver_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/agentidp/agentidp/platform/httpserver"
)

// A 500 is logged as an error, unless the caller had already gone away (its context is
// done): then it is no server fault, and only debug.
func TestWriteErrorLogLevel(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	log := zap.New(core)
	r := httptest.NewRequest("GET", "/x", nil)
	httpserver.WriteError(httptest.NewRecorder(), r, log, errors.New("boom"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := httptest.NewRecorder()
	httpserver.WriteError(rec, r.WithContext(ctx), log, errors.New("caller gone"))
	if rec.Code != 500 {
		t.Fatalf("status %d, want 500", rec.Code)
	}
	got := logs.All()
	if len(got) != 2 || got[0].Level != zapcore.ErrorLevel || got[1].Level != zapcore.DebugLevel {
		t.Fatalf("log entries %+v; want one error, then one debug", got)
	}
}
