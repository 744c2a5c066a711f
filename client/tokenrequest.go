package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// maxTokenResponseBytes bounds a token endpoint answer.
const maxTokenResponseBytes = 64 << 10

// TokenError is an error answer of the token endpoint (RFC 6749 §5.2). Description is the
// server's, safe to log; nothing secret is in it.
type TokenError struct {
	Status      int
	Code        string // invalid_client, invalid_scope, invalid_target, invalid_dpop_proof, ...
	Description string
	RetryAfter  time.Duration // from Retry-After on 429 and 503
}

func (e *TokenError) Error() string {
	if e.Description != "" {
		return fmt.Sprintf("client: token endpoint: %d %s: %s", e.Status, e.Code, e.Description)
	}
	return fmt.Sprintf("client: token endpoint: %d %s", e.Status, e.Code)
}

type tokenResponse struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int64  `json:"expires_in"`
	Scope            string `json:"scope"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// requestToken makes one client credentials request; with s.cfg.DPoP it carries a proof,
// and is made once more with the server's nonce when the server asks for one.
func (s *TokenSource) requestToken(ctx context.Context, endpoint, issuer string) (*oauth2.Token, error) {
	for attempt := 0; ; attempt++ {
		tok, nonceRetry, err := s.requestOnce(ctx, endpoint, issuer)
		if nonceRetry && attempt == 0 {
			continue
		}
		return tok, err
	}
}

func (s *TokenSource) requestOnce(ctx context.Context, endpoint, issuer string) (tok *oauth2.Token, nonceRetry bool, err error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if len(s.cfg.Scopes) > 0 {
		form.Set("scope", strings.Join(s.cfg.Scopes, " "))
	}
	if s.cfg.Resource != "" {
		form.Set("resource", s.cfg.Resource)
	}
	header := http.Header{}
	if err := s.cfg.Auth.Apply(ctx, AuthTarget{ClientID: s.cfg.ClientID, Issuer: issuer, Endpoint: endpoint}, form, header); err != nil {
		return nil, false, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, false, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if s.cfg.DPoP != nil {
		proof, err := s.cfg.DPoP.Proof(http.MethodPost, endpoint, "")
		if err != nil {
			return nil, false, err
		}
		req.Header.Set("DPoP", proof)
	}
	resp, err := s.httpClient().Do(req)
	if err != nil {
		return nil, false, fmt.Errorf("client: token endpoint: %w", err)
	}
	defer resp.Body.Close()
	newNonce := false
	if s.cfg.DPoP != nil {
		newNonce = s.cfg.DPoP.SetNonce(endpoint, resp.Header.Get("DPoP-Nonce"))
	}
	var tr tokenResponse
	derr := json.NewDecoder(io.LimitReader(resp.Body, maxTokenResponseBytes)).Decode(&tr)
	if resp.StatusCode != http.StatusOK {
		te := &TokenError{Status: resp.StatusCode, Code: tr.Error, Description: tr.ErrorDescription}
		if te.Code == "" {
			te.Code = http.StatusText(resp.StatusCode)
		}
		if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
			te.RetryAfter = time.Duration(secs) * time.Second
		}
		return nil, te.Code == "use_dpop_nonce" && newNonce, te
	}
	if derr != nil {
		return nil, false, fmt.Errorf("client: token endpoint answer: %w", derr)
	}
	if tr.AccessToken == "" || tr.ExpiresIn <= 0 {
		return nil, false, fmt.Errorf("client: token endpoint answer without access_token or expires_in")
	}
	typ := tr.TokenType
	switch {
	case strings.EqualFold(typ, "DPoP"):
		typ = "DPoP"
		if s.cfg.DPoP == nil {
			return nil, false, fmt.Errorf("client: the server issued a DPoP token to a request without proof")
		}
	case strings.EqualFold(typ, "Bearer"):
		typ = "Bearer"
		if s.cfg.DPoP != nil && s.cfg.RequireDPoPBinding {
			return nil, false, fmt.Errorf("client: the server issued a Bearer token to a request with a DPoP proof")
		}
	default:
		return nil, false, fmt.Errorf("client: unknown token_type %q", tr.TokenType)
	}
	now := s.now()
	t := &oauth2.Token{AccessToken: tr.AccessToken, TokenType: typ, ExpiresIn: tr.ExpiresIn,
		Expiry: now.Add(time.Duration(tr.ExpiresIn) * time.Second)}
	return t.WithExtra(map[string]any{"scope": tr.Scope, "issued_at": now}), false, nil
}
