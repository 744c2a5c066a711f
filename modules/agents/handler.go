package agents

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
	collectionPath = "/api/v1/agents"
	itemPath       = "/api/v1/agents/{agent_id}"
	suspendPath    = "/api/v1/agents/{agent_id}/suspend"
	reactivatePath = "/api/v1/agents/{agent_id}/reactivate"
)

// handler is the HTTP face of the service: decode, call, encode or render a problem.
type handler struct {
	svc *service
	log *zap.Logger
}

// routes are the module's endpoints; all are protected (bearer + policy).
func routes(h *handler) []httpserver.Route {
	return []httpserver.Route{
		{Method: http.MethodPost, Path: collectionPath, Handler: http.HandlerFunc(h.create)},
		{Method: http.MethodGet, Path: collectionPath, Handler: http.HandlerFunc(h.list)},
		{Method: http.MethodGet, Path: itemPath, Handler: http.HandlerFunc(h.get)},
		{Method: http.MethodPatch, Path: itemPath, Handler: http.HandlerFunc(h.update)},
		{Method: http.MethodDelete, Path: itemPath, Handler: http.HandlerFunc(h.decommission)},
		{Method: http.MethodPost, Path: suspendPath, Handler: http.HandlerFunc(h.suspend)},
		{Method: http.MethodPost, Path: reactivatePath, Handler: http.HandlerFunc(h.reactivate)},
	}
}

// listResponse is a page of agents; next_cursor is null on the last page.
type listResponse struct {
	Items      []agentView `json:"items"`
	NextCursor *string     `json:"next_cursor"`
}

func (h *handler) create(w http.ResponseWriter, r *http.Request) {
	var in agentFields
	if err := httpserver.DecodeJSON(r, &in); err != nil {
		h.fail(w, r, err)
		return
	}
	a, err := h.svc.Create(r.Context(), in)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", collectionPath+"/"+a.ID)
	h.writeAgent(w, r, http.StatusCreated, a)
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
	items, err := h.svc.views(r.Context(), p.Items)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	resp := listResponse{Items: items}
	if p.NextCursor != "" {
		resp.NextCursor = &p.NextCursor
	}
	httpserver.WriteJSON(w, http.StatusOK, resp)
}

func (h *handler) get(w http.ResponseWriter, r *http.Request) {
	id, ok := h.agentID(w, r)
	if !ok {
		return
	}
	a, err := h.svc.Get(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeAgent(w, r, http.StatusOK, a)
}

func (h *handler) update(w http.ResponseWriter, r *http.Request) {
	id, ok := h.agentID(w, r)
	if !ok {
		return
	}
	var in agentFields
	if err := httpserver.DecodeJSON(r, &in); err != nil {
		h.fail(w, r, err)
		return
	}
	a, err := h.svc.Update(r.Context(), id, in)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeAgent(w, r, http.StatusOK, a)
}

func (h *handler) suspend(w http.ResponseWriter, r *http.Request) {
	h.lifecycle(w, r, h.svc.Suspend)
}

func (h *handler) reactivate(w http.ResponseWriter, r *http.Request) {
	h.lifecycle(w, r, h.svc.Reactivate)
}

func (h *handler) lifecycle(w http.ResponseWriter, r *http.Request, op func(ctx context.Context, id string) (*Agent, error)) {
	id, ok := h.agentID(w, r)
	if !ok {
		return
	}
	a, err := op(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeAgent(w, r, http.StatusOK, a)
}

func (h *handler) decommission(w http.ResponseWriter, r *http.Request) {
	id, ok := h.agentID(w, r)
	if !ok {
		return
	}
	if _, err := h.svc.Decommission(r.Context(), id); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// agentID reads the {agent_id} path variable (400 unless a UUID).
func (h *handler) agentID(w http.ResponseWriter, r *http.Request) (string, bool) {
	return httpserver.PathUUID(w, r, h.log, "agent_id")
}

// parseListQuery validates the list's query parameters, listing every bad one.
func parseListQuery(v url.Values) (listQuery, error) {
	var f apperr.Fields
	q := listQuery{Limit: httpserver.QueryLimit(v, &f, defaultPageSize, maxPageSize)}
	q.OrgID = httpserver.QueryUUID(v, &f, "org_id")
	if s := v.Get("status"); s != "" {
		switch st := Status(s); st {
		case StatusActive, StatusSuspended, StatusDecommissioned:
			q.Status = st
		default:
			f.Add("status", `must be "active", "suspended" or "decommissioned"`)
		}
	}
	if s := v.Get("owner"); s != "" {
		if !utf8.ValidString(s) || hasControl(s, false) || utf8.RuneCountInString(s) > maxOwnerLen {
			f.Add("owner", "must be valid text of at most %d characters", maxOwnerLen)
		} else {
			q.Owner = s
		}
	}
	if s := v.Get("q"); s != "" {
		if !utf8.ValidString(s) || hasControl(s, false) || utf8.RuneCountInString(s) > maxNameLen {
			f.Add("q", "must be valid text of at most %d characters", maxNameLen)
		} else {
			q.Query = strings.ToLower(s)
		}
	}
	if s := v.Get("cursor"); s != "" {
		c, err := cursor.DecodePosition(s)
		if err != nil {
			f.Add("cursor", "is not a cursor returned by this list")
		} else {
			q.After = &c
		}
	}
	return q, f.Err()
}

// writeAgent answers a with its grants.
func (h *handler) writeAgent(w http.ResponseWriter, r *http.Request, status int, a *Agent) {
	v, err := h.svc.view(r.Context(), a)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpserver.WriteJSON(w, status, v)
}

func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	httpserver.WriteError(w, r, h.log, err)
}
