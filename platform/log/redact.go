package log

import (
	"regexp"
	"strings"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Redacted is what a secret field is written as.
const Redacted = "[REDACTED]"

// sensitiveKeys are field-name fragments whose values are never logged, whatever their type.
var sensitiveKeys = []string{
	"secret", "password", "passwd", "token", "authorization", "cookie", "pepper",
	"master_key", "private", "credential_value", "assertion",
}

// secretValue matches things that look like our secrets or bearer material anywhere in a
// string value: client secrets, JWTs (three base64url segments starting eyJ), and
// "Bearer …"/"Basic …" credentials.
var secretValue = regexp.MustCompile(`sk_live_[A-Za-z0-9_-]{8,}|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*|(?i:bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}`)

// SensitiveKey reports whether a field name marks its value as secret.
func SensitiveKey(key string) bool {
	k := strings.ToLower(key)
	for _, s := range sensitiveKeys {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// Scrub replaces anything secret-looking in s.
func Scrub(s string) string {
	if !strings.Contains(s, "sk_live_") && !strings.Contains(s, "eyJ") &&
		!strings.Contains(strings.ToLower(s), "bearer") && !strings.Contains(strings.ToLower(s), "basic") {
		return s
	}
	return secretValue.ReplaceAllString(s, Redacted)
}

// Redact wraps a core so that every field with a sensitive name is replaced by Redacted and
// every string field, and the message, is scrubbed of secret-looking values. It applies to
// fields added with With as well as to each entry's own fields.
func Redact(c zapcore.Core) zapcore.Core { return redactingCore{c} }

type redactingCore struct{ zapcore.Core }

func (r redactingCore) With(fields []zapcore.Field) zapcore.Core {
	return redactingCore{r.Core.With(redactFields(fields))}
}

func (r redactingCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if r.Enabled(e.Level) {
		return ce.AddCore(e, r)
	}
	return ce
}

func (r redactingCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	e.Message = Scrub(e.Message)
	return r.Core.Write(e, redactFields(fields))
}

func redactFields(fields []zapcore.Field) []zapcore.Field {
	var out []zapcore.Field // copied on first change: callers may reuse their slice
	for i, f := range fields {
		nf, changed := redactField(f)
		if changed && out == nil {
			out = make([]zapcore.Field, len(fields))
			copy(out, fields)
		}
		if out != nil {
			out[i] = nf
		}
	}
	if out == nil {
		return fields
	}
	return out
}

func redactField(f zapcore.Field) (zapcore.Field, bool) {
	if SensitiveKey(f.Key) && !(f.Type == zapcore.StringType && f.String == Redacted) {
		return zap.String(f.Key, Redacted), true
	}
	switch f.Type {
	case zapcore.StringType:
		if s := Scrub(f.String); s != f.String {
			return zap.String(f.Key, s), true
		}
	case zapcore.ErrorType:
		if err, ok := f.Interface.(error); ok && err != nil {
			if s := Scrub(err.Error()); s != err.Error() {
				return zap.String(f.Key, s), true
			}
		}
	case zapcore.StringerType:
		if st, ok := f.Interface.(interface{ String() string }); ok {
			if s := Scrub(st.String()); s != st.String() {
				return zap.String(f.Key, s), true
			}
		}
	}
	return f, false
}
