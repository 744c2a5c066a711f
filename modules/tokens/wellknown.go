package tokens

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/dpop"
	"github.com/agentidp/agentidp/platform/httpserver"
	"github.com/agentidp/agentidp/platform/jwks"
	"github.com/agentidp/agentidp/platform/policy"
)

// metadataMaxAge is the cache lifetime of the discovery documents.
const metadataMaxAge = 5 * time.Minute

// metadata is the RFC 8414 authorization server metadata, also served as the OpenID
// discovery document. Only what this server does is listed: no authorization endpoint,
// hence no response types; no ID tokens, hence no id_token_signing_alg_values_supported.
type metadata struct {
	Issuer                            string   `json:"issuer"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	IntrospectionEndpoint             string   `json:"introspection_endpoint"`
	RevocationEndpoint                string   `json:"revocation_endpoint"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMethods  []string `json:"introspection_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethods     []string `json:"revocation_endpoint_auth_methods_supported"`
	TokenEndpointAuthSigningAlgs      []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	IntrospectionEndpointAuthAlgs     []string `json:"introspection_endpoint_auth_signing_alg_values_supported"`
	RevocationEndpointAuthAlgs        []string `json:"revocation_endpoint_auth_signing_alg_values_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	DPoPSigningAlgs                   []string `json:"dpop_signing_alg_values_supported"` // RFC 9449 §5.1

	body []byte
}

// forOrg is the metadata of an organization's issuer: the same endpoints and keys, its own
// issuer (orgs.Issuer).
func (m *metadata) forOrg(issuer string) ([]byte, error) {
	o := *m
	o.Issuer = issuer
	b, err := json.Marshal(&o)
	return append(b, '\n'), err
}

func newMetadata(cfg *config.Config, pol policy.Engine) (*metadata, error) {
	auth := []string{"client_secret_basic", "client_secret_post", methodPrivateKeyJWT}
	algs := make([]string, len(jwks.Algs))
	for i, a := range jwks.Algs {
		algs[i] = string(a)
	}
	m := &metadata{
		Issuer:                            cfg.Issuer,
		TokenEndpoint:                     cfg.Issuer + PathToken,
		JWKSURI:                           cfg.Issuer + PathJWKS,
		IntrospectionEndpoint:             cfg.Issuer + PathIntrospect,
		RevocationEndpoint:                cfg.Issuer + PathRevoke,
		GrantTypesSupported:               []string{grantClientCredentials},
		ResponseTypesSupported:            []string{},
		TokenEndpointAuthMethodsSupported: auth,
		IntrospectionEndpointAuthMethods:  auth,
		RevocationEndpointAuthMethods:     auth,
		TokenEndpointAuthSigningAlgs:      algs,
		IntrospectionEndpointAuthAlgs:     algs,
		RevocationEndpointAuthAlgs:        algs,
		ScopesSupported:                   pol.KnownScopes(),
		DPoPSigningAlgs:                   dpop.Algs,
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	m.body = append(b, '\n')
	return m, nil
}

// jwksMaxAge is the JWKS cache lifetime: never longer than the publish delay, so that a
// relying party's cached copy holds a new key before anything is signed with it.
func jwksMaxAge(delay time.Duration) int64 {
	return max(int64(delay/time.Second), 0)
}

// jwks is GET /.well-known/jwks.json.
func (h *handler) jwks(w http.ResponseWriter, _ *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Type", "application/jwk-set+json")
	hdr.Set("Cache-Control", "public, max-age="+strconv.FormatInt(jwksMaxAge(h.ring.cfg.KeyPublishDelay), 10))
	_, _ = w.Write(h.ring.jwks())
}

// orgMetadata is an organization's metadata (PathOrgOAuthMeta, PathOrgOIDCMeta): 404 for an
// unknown organization; a suspended one has its metadata too (its tokens are refused).
func (h *handler) orgMetadata(w http.ResponseWriter, r *http.Request) {
	o, err := h.svc.orgs.Lookup(r.Context(), mux.Vars(r)["org_id"])
	switch {
	case errors.Is(err, orgs.ErrNotFound):
		httpserver.WriteProblem(w, r, http.StatusNotFound, "not_found", "no such organization")
		return
	case err != nil:
		httpserver.WriteError(w, r, h.log, err)
		return
	}
	body, err := h.meta.forOrg(orgs.Issuer(h.meta.Issuer, o.ID))
	if err != nil {
		httpserver.WriteError(w, r, h.log, err)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(metadataMaxAge/time.Second)))
	_, _ = w.Write(body)
}

// metadata is GET /.well-known/oauth-authorization-server and /.well-known/openid-configuration.
func (h *handler) metadata(w http.ResponseWriter, _ *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(metadataMaxAge/time.Second)))
	_, _ = w.Write(h.meta.body)
}
