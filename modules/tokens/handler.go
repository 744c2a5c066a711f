package tokens

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/dpop"
	"github.com/agentidp/agentidp/platform/httpserver"
	"github.com/agentidp/agentidp/platform/reqctx"
)

// handler decodes OAuth requests, calls the service and encodes its answers.
type handler struct {
	svc    *service
	ring   *keyRing
	meta   *metadata
	auth   *httpserver.Authenticator // callers of introspection and revocation that present a token
	proofs *dpop.Verifier
	log    *zap.Logger
}

// routes are the module's routes. The token endpoint and the discovery documents are
// public (the token endpoint authenticates clients itself); introspection and revocation
// authenticate their caller themselves (client credentials or a bearer token) and ask the
// policy (AuthInHandler); the key administration is behind the bearer middleware
// (keys:admin). Every route but the public ones has its entry in policies/data/scopes.json.
func routes(h *handler) []httpserver.Route {
	return []httpserver.Route{
		{Method: http.MethodPost, Path: PathToken, Auth: httpserver.AuthNone, Handler: http.HandlerFunc(h.token)},
		{Method: http.MethodPost, Path: PathIntrospect, Auth: httpserver.AuthInHandler, Handler: http.HandlerFunc(h.introspect)},
		{Method: http.MethodPost, Path: PathRevoke, Auth: httpserver.AuthInHandler, Handler: http.HandlerFunc(h.revoke)},
		{Method: http.MethodGet, Path: PathJWKS, Auth: httpserver.AuthNone, Handler: http.HandlerFunc(h.jwks)},
		{Method: http.MethodGet, Path: PathOAuthMeta, Auth: httpserver.AuthNone, Handler: http.HandlerFunc(h.metadata)},
		{Method: http.MethodGet, Path: PathOIDCMeta, Auth: httpserver.AuthNone, Handler: http.HandlerFunc(h.metadata)},
		{Method: http.MethodGet, Path: PathOrgOAuthMeta, Auth: httpserver.AuthNone, Handler: http.HandlerFunc(h.orgMetadata)},
		{Method: http.MethodGet, Path: PathOrgOIDCMeta, Auth: httpserver.AuthNone, Handler: http.HandlerFunc(h.orgMetadata)},
		{Method: http.MethodGet, Path: PathKeys, Handler: http.HandlerFunc(h.listKeys)},
		{Method: http.MethodPost, Path: PathKeysRotate, Handler: http.HandlerFunc(h.rotateKey)},
	}
}

// token is POST /api/v1/token (RFC 6749 §4.4).
func (h *handler) token(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	req, err := h.tokenRequest(w, r)
	if err != nil {
		h.svc.metrics.denied.WithLabelValues(denyInvalidRequest).Inc()
		writeOAuthError(w, r, h.log, err)
		return
	}
	res, err := h.svc.Issue(r.Context(), req)
	if err != nil {
		writeOAuthError(w, r, h.log, err)
		return
	}
	writeJSON(w, http.StatusOK, tokenResponse{AccessToken: res.AccessToken, IssuedTokenType: res.IssuedTokenType,
		TokenType: tokenTypeOf(res.JKT), ExpiresIn: res.ExpiresIn, Scope: res.Scope})
}

// tokenResponse is a successful token answer (RFC 6749 §5.1).
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	// IssuedTokenType: the token exchange's answer only (RFC 8693 §2.2.1).
	IssuedTokenType string `json:"issued_token_type,omitempty"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int64  `json:"expires_in"`
	Scope           string `json:"scope"`
}

func (h *handler) tokenRequest(w http.ResponseWriter, r *http.Request) (tokenRequest, error) {
	v, err := readParams(w, r)
	if err != nil {
		return tokenRequest{}, err
	}
	var req tokenRequest
	if req.GrantType, _, err = single(v, "grant_type"); err != nil {
		return req, err
	}
	if req.Scope, _, err = single(v, "scope"); err != nil {
		return req, err
	}
	// resource (RFC 8707) or audience: one audience per token.
	var auds []string
	for _, name := range []string{"resource", "audience"} {
		for _, a := range v[name] {
			if a != "" && (len(auds) == 0 || auds[0] != a) {
				auds = append(auds, a)
			}
		}
	}
	if len(auds) > 1 {
		return req, &oauthError{Status: http.StatusBadRequest, Code: "invalid_target",
			Description: "ask for one resource (audience) per token"}
	}
	if len(auds) == 1 {
		req.Audience = auds[0]
	}
	if req.GrantType == grantTokenExchange {
		x, err := readExchange(v)
		if err != nil {
			return req, err
		}
		req.Exchange = &x
	}
	if req.Client, err = readClientCredentials(r, v); err != nil {
		return req, err
	}
	req.Proof = dpop.FromHTTP(r)
	return req, nil
}

// introspect is POST /api/v1/token/introspect (RFC 7662).
func (h *handler) introspect(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	ctx, c, token, err := h.callerAndToken(w, r)
	if err != nil {
		writeOAuthError(w, r, h.log, err)
		return
	}
	res, err := h.svc.Introspect(ctx, c, token)
	if err != nil {
		writeOAuthError(w, r, h.log, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// revoke is POST /api/v1/token/revoke (RFC 7009): 200 with an empty body.
func (h *handler) revoke(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	ctx, c, token, err := h.callerAndToken(w, r)
	if err != nil {
		writeOAuthError(w, r, h.log, err)
		return
	}
	if err := h.svc.Revoke(ctx, c, token); err != nil {
		writeOAuthError(w, r, h.log, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// callerAndToken reads the parameters, authenticates the caller (401 first), then wants
// the token parameter (400 invalid_request when missing). The context it returns carries
// a bearer caller's principal (reqctx), as on a protected route, so that the audit event
// names it (a delegated token's whole chain, SPEC §9).
func (h *handler) callerAndToken(w http.ResponseWriter, r *http.Request) (context.Context, *caller, string, error) {
	ctx := r.Context()
	v, err := readParams(w, r)
	if err != nil {
		return ctx, nil, "", err
	}
	cc, err := readClientCredentials(r, v)
	if err != nil {
		return ctx, nil, "", err
	}
	var p *reqctx.Principal
	if cc == nil && httpserver.HasToken(r) {
		if p, err = h.auth.Authenticate(r); err != nil {
			return ctx, nil, "", authFailure(err)
		}
		ctx = reqctx.WithPrincipal(ctx, p)
	}
	c, err := h.svc.authenticateCaller(ctx, cc, p)
	if err != nil {
		return ctx, nil, "", err
	}
	if cc != nil {
		// A proof next to client credentials binds nothing, but a request that carries one
		// is judged by it (SPEC §12): checked as at the token endpoint.
		if err := h.checkProof(r); err != nil {
			return ctx, nil, "", err
		}
	}
	token, _, err := single(v, "token")
	if err != nil {
		return ctx, nil, "", err
	}
	if token == "" {
		return ctx, nil, "", invalidRequest("the token parameter is required")
	}
	return ctx, c, token, nil
}

// checkProof checks r's DPoP proof, when it carries one, as the token endpoint does (no
// ath: no access token comes with it): 400 invalid_dpop_proof when it fails, 503 when the
// replay guard cannot answer.
func (h *handler) checkProof(r *http.Request) error {
	req := dpop.FromHTTP(r)
	if !req.Present() {
		return nil
	}
	_, err := h.proofs.Verify(r.Context(), req, "")
	var ip *dpop.InvalidProof
	if errors.As(err, &ip) {
		return &oauthError{Status: http.StatusBadRequest, Code: "invalid_dpop_proof", Description: ip.Reason}
	}
	if err != nil {
		return unavailable("cannot check the DPoP proof; retry shortly", err)
	}
	return nil
}

// tokenTypeOf is a token's token_type: DPoP for a token bound to a key (RFC 9449 §5),
// Bearer otherwise.
func tokenTypeOf(jkt string) string {
	if jkt != "" {
		return "DPoP"
	}
	return "Bearer"
}

// authFailure is the OAuth answer of a refused access token (httpserver.Authenticator):
// its status, error code and challenges; other errors (a store outage) pass unchanged.
func authFailure(err error) error {
	var ae *httpserver.AuthError
	if !errors.As(err, &ae) {
		return err
	}
	return &oauthError{Status: ae.Status, Code: ae.Code, Description: ae.Detail,
		Challenge: strings.Join(ae.Challenges, ", ")}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
