package testenv

import (
	"bytes"
	"sync"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Logs captures every line an app logs, before any redaction, so that a test can check no
// code path tried to log a secret or a token. Safe for concurrent writers.
type Logs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// Sync implements zapcore.WriteSyncer.
func (l *Logs) Sync() error { return nil }

// String is everything logged so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Logger is a JSON zap logger at debug level writing to l, deliberately without the
// redacting core: use it with fx.Decorate or fx.Replace in place of the app's logger.
func (l *Logs) Logger() *zap.Logger {
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	return zap.New(zapcore.NewCore(enc, l, zap.DebugLevel))
}
