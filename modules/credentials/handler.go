package credentials

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/httpserver"
)

// Route templates (also the keys of policies/data/scopes.json).
const (
	pathCredentials = "/api/v1/agents/{agent_id}/credentials"
	pathCredential  = "/api/v1/agents/{agent_id}/credentials/{credential_id}"
	pathRotate      = "/api/v1/agents/{agent_id}/credentials/{credential_id}/rotate"
	pathIssuers     = "/api/v1/trusted-issuers"
	pathIssuer      = "/api/v1/trusted-issuers/{trusted_issuer_id}"
)

// handler decodes requests, calls the service and encodes answers or problems.
type handler struct {
	svc *service
	log *zap.Logger
}

// newRoutes contributes the module's routes; all are protected (bearer + policy).
func newRoutes(svc *service, log *zap.Logger) []httpserver.Route {
	h := &handler{svc: svc, log: log}
	return []httpserver.Route{
		{Method: http.MethodPost, Path: pathCredentials, Handler: http.HandlerFunc(h.issue)},
		{Method: http.MethodGet, Path: pathCredentials, Handler: http.HandlerFunc(h.list)},
		{Method: http.MethodPost, Path: pathRotate, Handler: http.HandlerFunc(h.rotate)},
		{Method: http.MethodDelete, Path: pathCredential, Handler: http.HandlerFunc(h.revoke)},
		{Method: http.MethodPost, Path: pathIssuers, Handler: http.HandlerFunc(h.createIssuer)},
		{Method: http.MethodGet, Path: pathIssuers, Handler: http.HandlerFunc(h.listIssuers)},
		{Method: http.MethodGet, Path: pathIssuer, Handler: http.HandlerFunc(h.getIssuer)},
		{Method: http.MethodDelete, Path: pathIssuer, Handler: http.HandlerFunc(h.deleteIssuer)},
	}
}

type issueRequest struct {
	Type            string          `json:"type"`
	ExpiresAt       *string         `json:"expires_at"`
	JWKS            json.RawMessage `json:"jwks"`
	TrustedIssuerID string          `json:"trusted_issuer_id"`
	Issuer          string          `json:"issuer"`
	Subject         string          `json:"subject"`
}

type rotateRequest struct {
	GracePeriodSeconds *int64 `json:"grace_period_seconds"`
}

type listResponse struct {
	Items      []Credential `json:"items"`
	NextCursor *string      `json:"next_cursor"`
}

// issue: POST …/credentials, body optional; 201 with the secret, shown once (a key or
// federated credential has none).
func (h *handler) issue(w http.ResponseWriter, r *http.Request) {
	var req issueRequest
	if err := decodeOptional(r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	in := IssueInput{Type: Type(req.Type), JWKS: req.JWKS, TrustedIssuerID: req.TrustedIssuerID,
		Issuer: req.Issuer, Subject: req.Subject}
	if req.ExpiresAt != nil {
		t, err := time.Parse(time.RFC3339, *req.ExpiresAt)
		if err != nil {
			h.fail(w, r, apperr.Validation(apperr.FieldError{Field: "expires_at", Message: "must be an RFC 3339 date-time"}))
			return
		}
		in.ExpiresAt = &t
	}
	if string(req.JWKS) == "null" {
		in.JWKS = nil
	}
	out, err := h.svc.Issue(r.Context(), mux.Vars(r)["agent_id"], in)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeSecret(w, out)
}

// list: GET …/credentials?limit=&cursor=.
func (h *handler) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var f apperr.Fields
	limit := httpserver.QueryLimit(q, &f, DefaultPageSize, MaxPageSize)
	if err := f.Err(); err != nil {
		h.fail(w, r, err)
		return
	}
	items, next, err := h.svc.List(r.Context(), mux.Vars(r)["agent_id"], q.Get("cursor"), limit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	resp := listResponse{Items: items}
	if next != "" {
		resp.NextCursor = &next
	}
	httpserver.WriteJSON(w, http.StatusOK, resp)
}

// rotate: POST …/credentials/{credential_id}/rotate, body optional; 201 with the new
// credential's secret, shown once.
func (h *handler) rotate(w http.ResponseWriter, r *http.Request) {
	var req rotateRequest
	if err := decodeOptional(r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	var grace time.Duration
	if req.GracePeriodSeconds != nil {
		g := *req.GracePeriodSeconds
		if g < 0 || g > int64(MaxGracePeriod/time.Second) {
			h.fail(w, r, apperr.Validation(apperr.FieldError{Field: "grace_period_seconds", Message: "must be between 0 and 86400"}))
			return
		}
		grace = time.Duration(g) * time.Second
	}
	vars := mux.Vars(r)
	out, err := h.svc.Rotate(r.Context(), vars["agent_id"], vars["credential_id"], grace)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeSecret(w, out)
}

// revoke: DELETE …/credentials/{credential_id}; 204.
func (h *handler) revoke(w http.ResponseWriter, r *http.Request) {
	vars := mux.Vars(r)
	if err := h.svc.Revoke(r.Context(), vars["agent_id"], vars["credential_id"]); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	httpserver.WriteError(w, r, h.log, err)
}

// writeSecret answers 201 with a credential and its secret, never to be cached.
func writeSecret(w http.ResponseWriter, out *Issued) {
	w.Header().Set("Pragma", "no-cache")
	httpserver.WriteJSON(w, http.StatusCreated, out)
}

// decodeOptional decodes a JSON body into dst when there is one; an absent or blank body
// leaves dst as it is.
func decodeOptional(r *http.Request, dst any) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return httpserver.ErrPayloadTooLarge
		}
		return apperr.BadRequest("malformed_body", "the request body could not be read")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return httpserver.DecodeJSON(r, dst)
}
