package metering

import (
	"net/http"

	"github.com/gorilla/mux"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/httpserver"
)

// handler serves the usage API (usage:read, see policies/data/scopes.json).
type handler struct {
	usage *usageService
	log   *zap.Logger
}

func newRoutes(u *usageService, log *zap.Logger) []httpserver.Route {
	h := &handler{usage: u, log: log}
	return []httpserver.Route{
		{Method: http.MethodGet, Path: "/api/v1/agents/{agent_id}/usage", Handler: http.HandlerFunc(h.agentUsage)},
		{Method: http.MethodGet, Path: "/api/v1/usage", Handler: http.HandlerFunc(h.overview)},
	}
}

func (h *handler) agentUsage(w http.ResponseWriter, r *http.Request) {
	u, err := h.usage.AgentUsage(r.Context(), mux.Vars(r)["agent_id"])
	if err != nil {
		httpserver.WriteError(w, r, h.log, err)
		return
	}
	httpserver.WriteJSON(w, http.StatusOK, u)
}

func (h *handler) overview(w http.ResponseWriter, r *http.Request) {
	var f apperr.Fields
	org := httpserver.QueryUUID(r.URL.Query(), &f, "org_id")
	if err := f.Err(); err != nil {
		httpserver.WriteError(w, r, h.log, err)
		return
	}
	o, err := h.usage.Overview(r.Context(), org)
	if err != nil {
		httpserver.WriteError(w, r, h.log, err)
		return
	}
	httpserver.WriteJSON(w, http.StatusOK, o)
}
