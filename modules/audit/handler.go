package audit

import (
	"encoding/json"
	"net/http"

	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/httpserver"
)

// handler serves the audit routes; all are protected (audit:read in the policy).
type handler struct {
	svc *service
	log *zap.Logger
}

// newRoutes takes the group-commit writer only so that the writer is built, and its
// lifecycle hook registered, before the HTTP server's: Fx then starts the writer first and
// stops it last, after the server has drained requests that may still record events.
func newRoutes(svc *service, _ *groupWriter, log *zap.Logger) []httpserver.Route {
	h := &handler{svc: svc, log: log}
	return []httpserver.Route{
		{Method: http.MethodGet, Path: "/api/v1/audit", Handler: http.HandlerFunc(h.list)},
		{Method: http.MethodGet, Path: "/api/v1/audit/export", Handler: http.HandlerFunc(h.export)},
		{Method: http.MethodGet, Path: "/api/v1/audit/verify", Handler: http.HandlerFunc(h.verify)},
		{Method: http.MethodGet, Path: "/api/v1/audit/checkpoint", Handler: http.HandlerFunc(h.checkpoint)},
		{Method: http.MethodGet, Path: "/api/v1/audit/checkpoint/key", Auth: httpserver.AuthNone, Handler: http.HandlerFunc(h.checkpointKey)},
		{Method: http.MethodGet, Path: "/api/v1/audit/proof/inclusion", Handler: http.HandlerFunc(h.inclusion)},
		{Method: http.MethodGet, Path: "/api/v1/audit/proof/consistency", Handler: http.HandlerFunc(h.consistency)},
	}
}

// listPage is the answer of GET /api/v1/audit.
type listPage struct {
	Items      []Event `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) {
	q, err := parseList(r.URL.Query())
	if err != nil {
		httpserver.WriteError(w, r, h.log, err)
		return
	}
	items, next, err := h.svc.list(r.Context(), q)
	if err != nil {
		httpserver.WriteError(w, r, h.log, err)
		return
	}
	httpserver.WriteJSON(w, http.StatusOK, listPage{Items: items, NextCursor: optional(next)})
}

// export streams the matching events as NDJSON, flushing after each page (after each event
// when following). An error before the first byte is a problem document; after it, the
// connection is aborted so the client sees a truncated stream rather than a
// complete-looking one. A follower ends when its client goes or the server stops; it
// resumes with after_seq = the last seq it read.
func (h *handler) export(w http.ResponseWriter, r *http.Request) {
	q, err := parseExport(r.URL.Query())
	if err != nil {
		httpserver.WriteError(w, r, h.log, err)
		return
	}
	rc := http.NewResponseController(w)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // details as stored and hashed: <, >, & as themselves
	started := false
	emit := func(page []Event) error {
		if !started {
			started = true
			h.exportHeaders(w)
		}
		for i := range page {
			if err := enc.Encode(&page[i]); err != nil {
				return err
			}
			if q.Follow {
				if err := rc.Flush(); err != nil {
					return err
				}
			}
		}
		return rc.Flush()
	}
	line := func(b []byte) error { // a follower's event shared from memory, encoded as above
		if _, err := w.Write(b); err != nil {
			return err
		}
		return rc.Flush()
	}
	switch {
	case q.Follow:
		err = h.svc.exportFollow(r.Context(), q.filter, q.AfterSeq, emit, line)
	case q.InSeqOrder:
		err = h.svc.exportAfter(r.Context(), q.filter, q.AfterSeq, emit)
	default:
		err = h.svc.export(r.Context(), q.filter, emit)
	}
	switch {
	case err != nil && !started:
		httpserver.WriteError(w, r, h.log, err)
	case err != nil && r.Context().Err() != nil:
		// the client went away
	case err != nil:
		h.log.Warn("audit export aborted", zap.Error(err))
		panic(http.ErrAbortHandler)
	case !started:
		h.exportHeaders(w) // no events: an empty body
	}
}

func (h *handler) exportHeaders(w http.ResponseWriter) {
	hd := w.Header()
	hd.Set("Content-Type", "application/x-ndjson")
	hd.Set("Content-Disposition", `attachment; filename="audit-events.ndjson"`)
	w.WriteHeader(http.StatusOK)
}

func (h *handler) verify(w http.ResponseWriter, r *http.Request) {
	rep, err := h.svc.verifier.VerifyChain(r.Context())
	if err != nil {
		httpserver.WriteError(w, r, h.log, err)
		return
	}
	httpserver.WriteJSON(w, http.StatusOK, rep)
}

// checkpoint serves the latest signed checkpoint, or the one of ?tree_size=N, as the
// signed note's text; Last-Modified is when it was signed.
func (h *handler) checkpoint(w http.ResponseWriter, r *http.Request) {
	size, err := parseCheckpointQuery(r.URL.Query())
	if err == nil {
		var cp *checkpointRow
		if cp, err = h.svc.checkpointRow(r.Context(), size); err == nil {
			w.Header().Set("Last-Modified", cp.CreatedAt.UTC().Format(http.TimeFormat))
			writeText(w, cp.Note)
			return
		}
	}
	httpserver.WriteError(w, r, h.log, err)
}

// checkpointKey serves the note verifier key of the audit key (public).
func (h *handler) checkpointKey(w http.ResponseWriter, r *http.Request) {
	vkey, err := h.svc.verifierKey()
	if err != nil {
		httpserver.WriteError(w, r, h.log, err)
		return
	}
	writeText(w, vkey+"\n")
}

func (h *handler) inclusion(w http.ResponseWriter, r *http.Request) {
	q, err := parseInclusion(r.URL.Query())
	if err == nil {
		var p InclusionProof
		if p, err = h.svc.inclusion(r.Context(), q); err == nil {
			httpserver.WriteJSON(w, http.StatusOK, p)
			return
		}
	}
	httpserver.WriteError(w, r, h.log, err)
}

func (h *handler) consistency(w http.ResponseWriter, r *http.Request) {
	q, err := parseConsistency(r.URL.Query())
	if err == nil {
		var p ConsistencyProof
		if p, err = h.svc.consistency(r.Context(), q); err == nil {
			httpserver.WriteJSON(w, http.StatusOK, p)
			return
		}
	}
	httpserver.WriteError(w, r, h.log, err)
}

func writeText(w http.ResponseWriter, s string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(s))
}
