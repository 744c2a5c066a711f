package resource

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/agentidp/agentidp/client"
)

// maxIntrospectionBytes bounds an introspection answer.
const maxIntrospectionBytes = 64 << 10

// Introspection is the server's RFC 7662 answer about a token.
type Introspection struct {
	Active       bool          `json:"active"`
	Subject      string        `json:"sub"`
	ClientID     string        `json:"client_id"`
	Scope        string        `json:"scope"`
	Audience     jwt.Audience  `json:"aud"`
	Issuer       string        `json:"iss"`
	Expiry       int64         `json:"exp"`
	ID           string        `json:"jti"`
	TokenType    string        `json:"token_type"`
	Confirmation *Confirmation `json:"cnf,omitempty"`
}

// Introspect asks the server about token (RFC 7662), authenticated as cfg.Introspection's
// agent. It needs Config.Introspection.
func (v *Validator) Introspect(ctx context.Context, token string) (*Introspection, error) {
	in := v.cfg.Introspection
	if in == nil {
		return nil, fmt.Errorf("resource: no Introspection configured")
	}
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	header := http.Header{}
	if err := in.Auth.Apply(ctx, client.AuthTarget{ClientID: in.ClientID, Issuer: v.cfg.Issuer, Endpoint: in.Endpoint}, form, header); err != nil {
		return nil, fmt.Errorf("resource: introspection: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.Endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	for k, vals := range header {
		req.Header[k] = vals
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := v.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("resource: introspection: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("resource: introspection: %s", resp.Status)
	}
	var res Introspection
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxIntrospectionBytes)).Decode(&res); err != nil {
		return nil, fmt.Errorf("resource: introspection: %w", err)
	}
	return &res, nil
}

// checkActive refuses a locally valid token that the server no longer holds active, or
// whose answer disagrees with it (issuer, audience, binding); a failed introspection is a 503.
func (v *Validator) checkActive(ctx context.Context, cred credentials, c *Claims) error {
	res, err := v.Introspect(ctx, cred.token)
	if err != nil {
		return &authError{status: http.StatusServiceUnavailable, cause: err}
	}
	refuse := func(reason string) error {
		return &authError{status: http.StatusUnauthorized, scheme: cred.scheme, code: codeInvalidToken, reason: reason}
	}
	switch {
	case !res.Active:
		return refuse("introspection: not active")
	case res.Issuer != v.cfg.Issuer || !res.Audience.Contains(v.cfg.Audience):
		return refuse("introspection: another issuer or audience")
	case res.Confirmation != nil && res.Confirmation.JKT != c.JKT():
		return refuse("introspection: another cnf.jkt")
	}
	return nil
}
