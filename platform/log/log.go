// Package log builds the zap logger from configuration, routes Fx's own events to it (quiet
// at info), and wraps the core so that secrets and tokens never reach the output in clear.
package log

import (
	"os"

	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/agentidp/agentidp/platform/config"
)

// New builds the process logger: JSON or console encoding, the configured level, and the
// redacting core around it. Sync is registered on stop.
func New(lc fx.Lifecycle, cfg *config.Config) (*zap.Logger, error) {
	return build(lc, cfg.LogLevel, cfg.LogFormat, zapcore.Lock(os.Stderr))
}

func build(lc fx.Lifecycle, level, format string, out zapcore.WriteSyncer) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, err
	}
	encCfg := zap.NewProductionEncoderConfig()
	encCfg.TimeKey = "ts"
	encCfg.EncodeTime = zapcore.ISO8601TimeEncoder
	var enc zapcore.Encoder
	if format == "console" {
		encCfg.EncodeLevel = zapcore.CapitalColorLevelEncoder
		enc = zapcore.NewConsoleEncoder(encCfg)
	} else {
		enc = zapcore.NewJSONEncoder(encCfg)
	}
	core := Redact(zapcore.NewCore(enc, out, zap.NewAtomicLevelAt(lvl)))
	logger := zap.New(core, zap.AddCaller(), zap.AddStacktrace(zapcore.DPanicLevel))
	if lc != nil {
		lc.Append(fx.StopHook(func() { _ = logger.Sync() }))
	}
	return logger, nil
}

// FxLogger routes Fx's lifecycle events to zap at debug level, so a normal start at info is
// quiet. Its errors go there too: a failed start or stop returns them, and the command
// prints their root cause once, in one line (the dependency-injection trace around it is
// for AGENTIDP_LOG_LEVEL=debug).
func FxLogger(l *zap.Logger) fxevent.Logger {
	z := &fxevent.ZapLogger{Logger: l.Named("fx")}
	z.UseLogLevel(zapcore.DebugLevel)
	z.UseErrorLevel(zapcore.DebugLevel)
	return z
}

// Module provides *zap.Logger and installs FxLogger as Fx's event logger. It is a plain
// option set rather than an fx.Module because fx.WithLogger inside a module would only
// apply to that module's own events.
var Module = fx.Options(
	fx.Provide(New),
	fx.WithLogger(FxLogger),
)
