package client

import (
	"context"
	"errors"
	"net/http"
	"net/url"
)

// AuthTarget is what a client authentication is made for.
type AuthTarget struct {
	ClientID string // the agent_id
	Issuer   string // the server's issuer: the audience of a client assertion
	Endpoint string // the endpoint called (token, introspection); never an assertion's audience
}

// ClientAuth authenticates the client at one of the server's endpoints, by adding form
// fields or headers to the request being built. ClientSecret, PrivateKeyJWT and
// FederatedTokenFile make one.
type ClientAuth interface {
	Apply(ctx context.Context, t AuthTarget, form url.Values, header http.Header) error
}

type clientSecret struct{ secret string }

// ClientSecret authenticates with the agent's client secret, sent as HTTP Basic
// (client_secret_basic, with the id and secret form-encoded first as RFC 6749 §2.3.1 says).
func ClientSecret(secret string) ClientAuth { return clientSecret{secret: secret} }

func (c clientSecret) Apply(_ context.Context, t AuthTarget, _ url.Values, h http.Header) error {
	if t.ClientID == "" || c.secret == "" {
		return errors.New("client: client id and secret are required")
	}
	r := http.Request{Header: h}
	r.SetBasicAuth(url.QueryEscape(t.ClientID), url.QueryEscape(c.secret))
	return nil
}

// The client_assertion_type values (RFC 7523 §2.2; draft-ietf-oauth-spiffe-client-auth).
const (
	AssertionTypeJWTBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	AssertionTypeSPIFFE    = "urn:ietf:params:oauth:client-assertion-type:jwt-spiffe"
)

// setAssertion puts a client assertion and the client_id into form.
func setAssertion(form url.Values, clientID, typ, assertion string) {
	form.Set("client_id", clientID)
	form.Set("client_assertion_type", typ)
	form.Set("client_assertion", assertion)
}
