package httpserver

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/database"
	"github.com/agentidp/agentidp/platform/reqctx"
)

// Problem is an RFC 9457 problem document, with AgentIdP's stable code and the request id.
type Problem struct {
	Type      string              `json:"type"`
	Title     string              `json:"title"`
	Status    int                 `json:"status"`
	Detail    string              `json:"detail,omitempty"`
	Code      string              `json:"code"`
	Errors    []apperr.FieldError `json:"errors,omitempty"`
	RequestID string              `json:"request_id,omitempty"`
}

// ProblemType is the type URI of a problem code.
func ProblemType(code string) string { return "urn:agentidp:problem:" + code }

// WriteProblem renders a problem with the request id of r.
func WriteProblem(w http.ResponseWriter, r *http.Request, status int, code, detail string) {
	writeProblem(w, r, Problem{Status: status, Code: code, Detail: detail})
}

func writeProblem(w http.ResponseWriter, r *http.Request, p Problem) {
	p.Type = ProblemType(p.Code)
	p.Title = http.StatusText(p.Status)
	p.RequestID = reqctx.InfoFrom(r.Context()).RequestID
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// WriteError renders err: an *apperr.Error as its problem, a store outage as 503, anything
// else as a 500 that shows nothing internal (the cause goes to the log only).
func WriteError(w http.ResponseWriter, r *http.Request, log *zap.Logger, err error) {
	var ae *apperr.Error
	switch {
	case errors.As(err, &ae):
	case errors.Is(err, database.ErrUnavailable), errors.Is(err, cache.ErrUnavailable), database.IsConnectionError(err):
		ae = apperr.Unavailable("a backing store is unavailable; retry shortly", err)
	case errors.Is(err, database.ErrNotFound):
		ae = apperr.NotFound("no such resource")
	default:
		ae = &apperr.Error{Status: http.StatusInternalServerError, Code: "internal_error",
			Detail: "an internal error occurred; quote the request id when reporting it", Cause: err}
	}
	if ae.Status >= 500 && log != nil {
		level := zap.ErrorLevel
		if r.Context().Err() != nil {
			level = zap.DebugLevel // the caller went away: not a server fault
		}
		log.Log(level, "request failed", zap.Error(err),
			zap.String("request_id", reqctx.InfoFrom(r.Context()).RequestID))
	}
	if ae.RetryAfter > 0 {
		secs := int(ae.RetryAfter.Seconds() + 0.999)
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	}
	writeProblem(w, r, Problem{Status: ae.Status, Code: ae.Code, Detail: ae.Detail, Errors: ae.Fields})
}

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
