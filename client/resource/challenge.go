package resource

import (
	"encoding/json"
	"net/http"
	"strings"
)

const (
	schemeBearer = "Bearer"
	schemeDPoP   = "DPoP"

	codeInvalidRequest    = "invalid_request"
	codeInvalidToken      = "invalid_token"
	codeInsufficientScope = "insufficient_scope"
	codeInvalidProof      = "invalid_dpop_proof"
)

// authError is a refusal: its status, the scheme of its challenge ("" for both, as for a
// request without credentials), the RFC 6750 / RFC 9449 error code, the scopes wanted
// (insufficient_scope) and, for ErrorLog only, the reason.
type authError struct {
	status int
	scheme string
	code   string
	scope  string
	reason string
	cause  error
}

func (e *authError) Error() string {
	s := e.code
	if s == "" {
		s = http.StatusText(e.status)
	}
	if e.reason != "" {
		s += ": " + e.reason
	}
	if e.cause != nil {
		s += ": " + e.cause.Error()
	}
	return s
}

func (e *authError) Unwrap() error { return e.cause }

// write answers the refusal: WWW-Authenticate challenges as RFC 6750 §3 and RFC 9449 §7
// say, and a small JSON body with the error code only (callers are not told why).
func (e *authError) write(w http.ResponseWriter, dpopAlgs string) {
	h := w.Header()
	if e.status == http.StatusUnauthorized || e.status == http.StatusForbidden || e.status == http.StatusBadRequest {
		if e.scheme == "" || e.scheme == schemeBearer {
			h.Add("WWW-Authenticate", challenge(schemeBearer, "", e.code, e.scope))
		}
		if e.scheme == "" || e.scheme == schemeDPoP {
			h.Add("WWW-Authenticate", challenge(schemeDPoP, dpopAlgs, e.code, e.scope))
		}
	}
	if e.status == http.StatusServiceUnavailable {
		h.Set("Retry-After", "5")
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(e.status)
	code := e.code
	if code == "" {
		code = strings.ToLower(strings.ReplaceAll(http.StatusText(e.status), " ", "_"))
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code})
}

// challenge is one WWW-Authenticate value; only fixed, quote-free values are put in it.
func challenge(scheme, algs, code, scope string) string {
	var params []string
	if scheme == schemeDPoP && algs != "" {
		params = append(params, `algs="`+algs+`"`)
	}
	if code != "" {
		params = append(params, `error="`+code+`"`)
	}
	if scope != "" {
		params = append(params, `scope="`+scope+`"`)
	}
	if len(params) == 0 {
		return scheme
	}
	return scheme + " " + strings.Join(params, ", ")
}
