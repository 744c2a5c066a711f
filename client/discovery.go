package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Metadata is the part of an issuer's RFC 8414 authorization server metadata that this
// package uses.
type Metadata struct {
	Issuer                            string   `json:"issuer"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	IntrospectionEndpoint             string   `json:"introspection_endpoint"`
	RevocationEndpoint                string   `json:"revocation_endpoint"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	DPoPSigningAlgValuesSupported     []string `json:"dpop_signing_alg_values_supported"`
}

// maxMetadataBytes bounds a discovery document read from the network.
const maxMetadataBytes = 256 << 10

// MetadataURL is where issuer's RFC 8414 metadata lives: the well-known path inserted
// between the host and the issuer's path, so that an organization's issuer
// "https://idp.example.com/orgs/<id>" has
// "https://idp.example.com/.well-known/oauth-authorization-server/orgs/<id>".
func MetadataURL(issuer string) (string, error) {
	u, err := url.Parse(issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("client: issuer %q is not an absolute http(s) URL without query and fragment", issuer)
	}
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	return u.Scheme + "://" + u.Host + "/.well-known/oauth-authorization-server" + path, nil
}

// Discover fetches issuer's metadata and checks that it names issuer itself (RFC 8414 §3.3)
// and a token endpoint.
func Discover(ctx context.Context, hc *http.Client, issuer string) (*Metadata, error) {
	mu, err := MetadataURL(issuer)
	if err != nil {
		return nil, err
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, mu, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("client: discovery: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("client: discovery %s: %s", mu, resp.Status)
	}
	var m Metadata
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxMetadataBytes)).Decode(&m); err != nil {
		return nil, fmt.Errorf("client: discovery %s: %w", mu, err)
	}
	if m.Issuer != issuer {
		return nil, fmt.Errorf("client: discovery %s names issuer %q, not %q", mu, m.Issuer, issuer)
	}
	if m.TokenEndpoint == "" {
		return nil, errors.New("client: discovery: no token_endpoint")
	}
	return &m, nil
}

// Supports reports whether the metadata lists method among the token endpoint's client
// authentication methods (e.g. "private_key_jwt").
func (m *Metadata) Supports(method string) bool {
	for _, s := range m.TokenEndpointAuthMethodsSupported {
		if s == method {
			return true
		}
	}
	return false
}

// SupportsDPoP reports whether the server announces DPoP (dpop_signing_alg_values_supported).
func (m *Metadata) SupportsDPoP() bool { return len(m.DPoPSigningAlgValuesSupported) > 0 }
