package credentials

import (
	"encoding/json"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/httpserver"
)

type issuerRequest struct {
	OrgID   string          `json:"org_id"`
	Issuer  string          `json:"issuer"`
	JWKSURI string          `json:"jwks_uri"`
	JWKS    json.RawMessage `json:"jwks"`
}

type issuerList struct {
	Items      []TrustedIssuer `json:"items"`
	NextCursor *string         `json:"next_cursor"`
}

// createIssuer: POST /api/v1/trusted-issuers; 201.
func (h *handler) createIssuer(w http.ResponseWriter, r *http.Request) {
	var req issuerRequest
	if err := httpserver.DecodeJSON(r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	in := IssuerInput{OrgID: req.OrgID, Issuer: req.Issuer, JWKSURI: req.JWKSURI, JWKS: req.JWKS}
	if string(req.JWKS) == "null" {
		in.JWKS = nil
	}
	out, err := h.svc.CreateIssuer(r.Context(), in)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpserver.WriteJSON(w, http.StatusCreated, out)
}

// listIssuers: GET /api/v1/trusted-issuers?org_id=&limit=&cursor=.
func (h *handler) listIssuers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var f apperr.Fields
	limit := httpserver.QueryLimit(q, &f, DefaultPageSize, MaxPageSize)
	if err := f.Err(); err != nil {
		h.fail(w, r, err)
		return
	}
	items, next, err := h.svc.ListIssuers(r.Context(), q.Get("org_id"), q.Get("cursor"), limit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	resp := issuerList{Items: items}
	if next != "" {
		resp.NextCursor = &next
	}
	httpserver.WriteJSON(w, http.StatusOK, resp)
}

// getIssuer: GET /api/v1/trusted-issuers/{trusted_issuer_id}.
func (h *handler) getIssuer(w http.ResponseWriter, r *http.Request) {
	out, err := h.svc.GetIssuer(r.Context(), mux.Vars(r)["trusted_issuer_id"])
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpserver.WriteJSON(w, http.StatusOK, out)
}

// deleteIssuer: DELETE /api/v1/trusted-issuers/{trusted_issuer_id}; 204.
func (h *handler) deleteIssuer(w http.ResponseWriter, r *http.Request) {
	if err := h.svc.DeleteIssuer(r.Context(), mux.Vars(r)["trusted_issuer_id"]); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
