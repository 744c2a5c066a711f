package httpserver

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/gorilla/mux"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/ident"
)

// The request parameters every module reads the same way: ids in the path and the query,
// and a list's page size.

// PathUUID reads r's route variable name as a UUID, canonical. Anything else is answered
// here, on w, with 400 validation_failed naming the variable (not 404: the request is
// malformed, whatever exists), and ok is false.
func PathUUID(w http.ResponseWriter, r *http.Request, log *zap.Logger, name string) (id string, ok bool) {
	id, ok = ident.Canonical(mux.Vars(r)[name])
	if !ok {
		WriteError(w, r, log, apperr.Validation(apperr.FieldError{Field: name, Message: "must be a UUID"}))
	}
	return id, ok
}

// QueryUUID reads the optional query parameter name as a UUID: "" when it is absent, a
// field error in f when it is present and not a UUID (empty included).
func QueryUUID(v url.Values, f *apperr.Fields, name string) string {
	if !v.Has(name) {
		return ""
	}
	id, ok := ident.Canonical(v.Get(name))
	if !ok {
		f.Add(name, "must be a UUID")
	}
	return id
}

// QueryLimit reads ?limit=, a page size: def when absent, else an integer from 1 to max; a
// field error in f otherwise (empty included).
func QueryLimit(v url.Values, f *apperr.Fields, def, max int) int {
	if !v.Has("limit") {
		return def
	}
	n, err := strconv.Atoi(v.Get("limit"))
	if err != nil || n < 1 || n > max {
		f.Add("limit", "must be an integer from 1 to %d", max)
		return def
	}
	return n
}
