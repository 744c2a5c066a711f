package orgs

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/cursor"
	"github.com/agentidp/agentidp/platform/httpserver"
)

// Route templates (the keys of policies/data/scopes.json).
const (
	collectionPath = "/api/v1/orgs"
	itemPath       = "/api/v1/orgs/{org_id}"
	suspendPath    = "/api/v1/orgs/{org_id}/suspend"
	reactivatePath = "/api/v1/orgs/{org_id}/reactivate"
)

// handler is the HTTP face of the service: decode, call, encode or render a problem.
type handler struct {
	svc *service
	log *zap.Logger
}

// newRoutes are the module's endpoints; all are protected (bearer + policy).
func newRoutes(svc *service, log *zap.Logger) []httpserver.Route {
	h := &handler{svc: svc, log: log}
	return []httpserver.Route{
		{Method: http.MethodPost, Path: collectionPath, Handler: http.HandlerFunc(h.create)},
		{Method: http.MethodGet, Path: collectionPath, Handler: http.HandlerFunc(h.list)},
		{Method: http.MethodGet, Path: itemPath, Handler: http.HandlerFunc(h.get)},
		{Method: http.MethodPatch, Path: itemPath, Handler: http.HandlerFunc(h.update)},
		{Method: http.MethodPost, Path: suspendPath, Handler: http.HandlerFunc(h.suspend)},
		{Method: http.MethodPost, Path: reactivatePath, Handler: http.HandlerFunc(h.reactivate)},
	}
}

// listResponse is a page of organizations; next_cursor is null on the last page.
type listResponse struct {
	Items      []*Org  `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// create answers 201 with the organization and its first admin's credentials: the secret
// is in this answer only, which no cache may keep.
func (h *handler) create(w http.ResponseWriter, r *http.Request) {
	var in orgFields
	if err := httpserver.DecodeJSON(r, &in); err != nil {
		h.fail(w, r, err)
		return
	}
	c, err := h.svc.Create(r.Context(), in)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", collectionPath+"/"+c.Org.ID)
	w.Header().Set("Pragma", "no-cache")
	httpserver.WriteJSON(w, http.StatusCreated, c)
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) {
	q, err := parseListQuery(r.URL.Query())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p, err := h.svc.List(r.Context(), q)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	resp := listResponse{Items: p.Items}
	if p.NextCursor != "" {
		resp.NextCursor = &p.NextCursor
	}
	httpserver.WriteJSON(w, http.StatusOK, resp)
}

func (h *handler) get(w http.ResponseWriter, r *http.Request) {
	id, ok := h.orgID(w, r)
	if !ok {
		return
	}
	o, err := h.svc.Get(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpserver.WriteJSON(w, http.StatusOK, o)
}

func (h *handler) update(w http.ResponseWriter, r *http.Request) {
	id, ok := h.orgID(w, r)
	if !ok {
		return
	}
	var in orgFields
	if err := httpserver.DecodeJSON(r, &in); err != nil {
		h.fail(w, r, err)
		return
	}
	o, err := h.svc.Update(r.Context(), id, in)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpserver.WriteJSON(w, http.StatusOK, o)
}

func (h *handler) suspend(w http.ResponseWriter, r *http.Request) {
	h.lifecycle(w, r, h.svc.Suspend)
}

func (h *handler) reactivate(w http.ResponseWriter, r *http.Request) {
	h.lifecycle(w, r, h.svc.Reactivate)
}

func (h *handler) lifecycle(w http.ResponseWriter, r *http.Request, op func(ctx context.Context, id string) (*Org, error)) {
	id, ok := h.orgID(w, r)
	if !ok {
		return
	}
	o, err := op(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpserver.WriteJSON(w, http.StatusOK, o)
}

// orgID reads the {org_id} path variable (400 unless a UUID).
func (h *handler) orgID(w http.ResponseWriter, r *http.Request) (string, bool) {
	return httpserver.PathUUID(w, r, h.log, "org_id")
}

// parseListQuery validates the list's query parameters, listing every bad one: limit,
// cursor, status and q (the name contains it, case-insensitively). Others are ignored, as
// in the agents list.
func parseListQuery(v url.Values) (listQuery, error) {
	var f apperr.Fields
	q := listQuery{Limit: httpserver.QueryLimit(v, &f, defaultPageSize, maxPageSize)}
	if s := v.Get("status"); s != "" {
		switch st := Status(s); st {
		case StatusActive, StatusSuspended:
			q.Status = st
		default:
			f.Add("status", `must be "active" or "suspended"`)
		}
	}
	if s := v.Get("q"); s != "" {
		if !utf8.ValidString(s) || hasControl(s) || utf8.RuneCountInString(s) > maxNameLen {
			f.Add("q", "must be valid text of at most %d characters", maxNameLen)
		} else {
			q.Query = strings.ToLower(s)
		}
	}
	if s := v.Get("cursor"); s != "" {
		p, err := cursor.DecodePosition(s)
		if err != nil {
			f.Add("cursor", "is not a cursor returned by this list")
		} else {
			q.After = &p
		}
	}
	return q, f.Err()
}

func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	httpserver.WriteError(w, r, h.log, err)
}
