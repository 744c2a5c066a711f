package apis

import (
	"net/http"
	"net/url"
	"time"

	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/cursor"
	"github.com/agentidp/agentidp/platform/httpserver"
)

// dpopAlgs are the proof algorithms a DPoP proof may use (RFC 9449; docs/api.md).
var dpopAlgs = []string{"RS256", "PS256", "ES256", "EdDSA"}

// handler is the HTTP face of the service: decode, call, encode or render a problem.
type handler struct {
	svc *service
	log *zap.Logger
}

// routes are the module's endpoints; all are protected (bearer + policy: apis:read or
// apis:write, policies/data/scopes.json).
func routes(h *handler) []httpserver.Route {
	return []httpserver.Route{
		{Method: http.MethodPost, Path: PathAPIs, Handler: http.HandlerFunc(h.create)},
		{Method: http.MethodGet, Path: PathAPIs, Handler: http.HandlerFunc(h.list)},
		{Method: http.MethodGet, Path: PathAPI, Handler: http.HandlerFunc(h.get)},
		{Method: http.MethodPatch, Path: PathAPI, Handler: http.HandlerFunc(h.update)},
		{Method: http.MethodDelete, Path: PathAPI, Handler: http.HandlerFunc(h.delete)},
		{Method: http.MethodGet, Path: PathResourceMetadata, Handler: http.HandlerFunc(h.resourceMetadata)},
	}
}

// apiView is an API as the API answers it. org_id is null for the built-in API, which
// belongs to no organization; token_ttl_seconds is null for the server's default.
type apiView struct {
	ID              string    `json:"api_id"`
	OrgID           *string   `json:"org_id"`
	Identifier      string    `json:"identifier"`
	Name            string    `json:"name"`
	Scopes          []Scope   `json:"scopes"`
	TokenTTLSeconds *int64    `json:"token_ttl_seconds"`
	RequireDPoP     bool      `json:"require_dpop"`
	Builtin         bool      `json:"builtin"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

func view(a *API) apiView {
	v := apiView{ID: a.ID, Identifier: a.Identifier, Name: a.Name, Scopes: nonNilScopes(a.Scopes),
		TokenTTLSeconds: ttlSeconds(a.TokenTTL), RequireDPoP: a.RequireDPoP, Builtin: a.ID == BuiltinID,
		CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
	if a.OrgID != "" {
		org := a.OrgID
		v.OrgID = &org
	}
	return v
}

// listResponse is a page of APIs; next_cursor is null on the last page.
type listResponse struct {
	Items      []apiView `json:"items"`
	NextCursor *string   `json:"next_cursor"`
}

// resourceMetadata is an API's OAuth 2.0 protected resource metadata (RFC 9728 §2), for
// its operator to serve at its /.well-known/oauth-protected-resource.
type resourceMetadata struct {
	Resource                      string   `json:"resource"`
	ResourceName                  string   `json:"resource_name"`
	AuthorizationServers          []string `json:"authorization_servers"`
	ScopesSupported               []string `json:"scopes_supported"`
	BearerMethodsSupported        []string `json:"bearer_methods_supported"`
	DPoPSigningAlgValuesSupported []string `json:"dpop_signing_alg_values_supported"`
	DPoPBoundAccessTokensRequired bool     `json:"dpop_bound_access_tokens_required"`
}

func (h *handler) create(w http.ResponseWriter, r *http.Request) {
	var in apiFields
	if err := httpserver.DecodeJSON(r, &in); err != nil {
		h.fail(w, r, err)
		return
	}
	a, err := h.svc.Create(r.Context(), in)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", PathAPIs+"/"+a.ID)
	httpserver.WriteJSON(w, http.StatusCreated, view(a))
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) {
	org, after, limit, err := parseListQuery(r.URL.Query())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p, err := h.svc.List(r.Context(), org, after, limit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	resp := listResponse{Items: make([]apiView, len(p.Items))}
	for i, a := range p.Items {
		resp.Items[i] = view(a)
	}
	if p.NextCursor != "" {
		resp.NextCursor = &p.NextCursor
	}
	httpserver.WriteJSON(w, http.StatusOK, resp)
}

func (h *handler) get(w http.ResponseWriter, r *http.Request) {
	id, ok := h.apiID(w, r)
	if !ok {
		return
	}
	a, err := h.svc.Get(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpserver.WriteJSON(w, http.StatusOK, view(a))
}

func (h *handler) update(w http.ResponseWriter, r *http.Request) {
	id, ok := h.apiID(w, r)
	if !ok {
		return
	}
	var in apiFields
	if err := httpserver.DecodeJSON(r, &in); err != nil {
		h.fail(w, r, err)
		return
	}
	a, err := h.svc.Update(r.Context(), id, in)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpserver.WriteJSON(w, http.StatusOK, view(a))
}

func (h *handler) delete(w http.ResponseWriter, r *http.Request) {
	id, ok := h.apiID(w, r)
	if !ok {
		return
	}
	if err := h.svc.Delete(r.Context(), id); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) resourceMetadata(w http.ResponseWriter, r *http.Request) {
	id, ok := h.apiID(w, r)
	if !ok {
		return
	}
	a, issuer, err := h.svc.ResourceMetadata(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpserver.WriteJSON(w, http.StatusOK, resourceMetadata{
		Resource:                      a.Identifier,
		ResourceName:                  a.Name,
		AuthorizationServers:          []string{issuer},
		ScopesSupported:               scopeValues(a.Scopes),
		BearerMethodsSupported:        []string{"header"},
		DPoPSigningAlgValuesSupported: dpopAlgs,
		DPoPBoundAccessTokensRequired: a.RequireDPoP,
	})
}

// apiID reads the {api_id} path variable (400 unless a UUID).
func (h *handler) apiID(w http.ResponseWriter, r *http.Request) (string, bool) {
	return httpserver.PathUUID(w, r, h.log, "api_id")
}

// parseListQuery validates the list's query parameters (org_id, limit, cursor), listing
// every bad one.
func parseListQuery(v url.Values) (org string, after *cursor.Position, limit int, err error) {
	var f apperr.Fields
	limit = httpserver.QueryLimit(v, &f, defaultPageSize, maxPageSize)
	org = httpserver.QueryUUID(v, &f, "org_id")
	if s := v.Get("cursor"); s != "" {
		c, err := parseCursor(s)
		if err != nil {
			f.Add("cursor", "is not a cursor returned by this list")
		} else {
			after = c
		}
	}
	return org, after, limit, f.Err()
}

func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	httpserver.WriteError(w, r, h.log, err)
}
