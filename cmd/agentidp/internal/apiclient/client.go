// Package apiclient is the command line's HTTP client of a running AgentIdP server: it gets
// an access token with client credentials (or uses one it is given), calls the API and
// turns error answers (RFC 9457 problems, RFC 6749 error bodies) into an *Error carrying the
// server's own explanation.
package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// Client calls one server. Set Token, or ClientID and ClientSecret (a token is then
// obtained with the client credentials grant on first use and reused).
type Client struct {
	BaseURL      string
	ClientID     string
	ClientSecret string
	Token        string
	HTTP         *http.Client

	mu sync.Mutex
}

// ErrNoCredentials is returned when a call needs authentication and the client has none.
var ErrNoCredentials = errors.New("no credentials: set --client-id and --client-secret (or AGENTIDP_CLIENT_ID and AGENTIDP_CLIENT_SECRET), or --token (AGENTIDP_TOKEN)")

// Response is a successful answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends method path (relative to BaseURL, e.g. /api/v1/agents) with query and, when
// body is not nil, body as JSON, authenticated with the bearer token. A status of 400 or
// more is returned as *Error.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body any) (*Response, error) {
	token, err := c.bearer(ctx)
	if err != nil {
		return nil, err
	}
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := c.request(ctx, method, path, query, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return c.send(req)
}

// Stream is Do for a GET whose answer is copied to w as it arrives (the audit export).
func (c *Client) Stream(ctx context.Context, path string, query url.Values, w io.Writer) error {
	token, err := c.bearer(ctx)
	if err != nil {
		return err
	}
	req, err := c.request(ctx, http.MethodGet, path, query, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return fmt.Errorf("calling %s: %w", c.BaseURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return parseError(resp.StatusCode, raw)
	}
	_, err = io.Copy(w, resp.Body)
	return err
}

// TokenRequest asks the token endpoint for a token with the client credentials grant; scope
// and resource may be empty. It returns the endpoint's JSON answer.
func (c *Client) TokenRequest(ctx context.Context, scope, resource string) (*Response, error) {
	if c.ClientID == "" || c.ClientSecret == "" {
		return nil, ErrNoCredentials
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	if resource != "" {
		form.Set("resource", resource)
	}
	return c.form(ctx, "/api/v1/token", form, true)
}

// Form posts form to an OAuth endpoint (introspection, revocation). With basic, the caller
// authenticates with its client credentials (an agent revoking its own token); else with the
// bearer token (given, or obtained with the client credentials: the admin's way, since
// holding tokens:revoke it may revoke any token).
func (c *Client) Form(ctx context.Context, path string, form url.Values, basic bool) (*Response, error) {
	if basic {
		if c.ClientID == "" || c.ClientSecret == "" {
			return nil, ErrNoCredentials
		}
		return c.form(ctx, path, form, true)
	}
	if _, err := c.bearer(ctx); err != nil {
		return nil, err
	}
	return c.form(ctx, path, form, false)
}

func (c *Client) form(ctx context.Context, path string, form url.Values, basic bool) (*Response, error) {
	req, err := c.request(ctx, http.MethodPost, path, nil, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		// RFC 6749 §2.3.1: the id and secret are form-urlencoded before Basic encoding.
		req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.ClientSecret))
	} else {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	return c.send(req)
}

// bearer returns the token, obtaining one with the client credentials on first use.
func (c *Client) bearer(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Token != "" {
		return c.Token, nil
	}
	resp, err := c.TokenRequest(ctx, "", "")
	if err != nil {
		return "", err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(resp.Body, &tok); err != nil || tok.AccessToken == "" {
		return "", errors.New("the token endpoint's answer holds no access_token")
	}
	c.Token = tok.AccessToken
	return c.Token, nil
}

func (c *Client) request(ctx context.Context, method, path string, query url.Values, body io.Reader) (*http.Request, error) {
	base, err := url.Parse(strings.TrimRight(c.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("--url: want the server's http(s) URL, got %q", c.BaseURL)
	}
	u := base.JoinPath(path)
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "agentidp-cli")
	return req, nil
}

func (c *Client) send(req *http.Request) (*Response, error) {
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, fmt.Errorf("calling %s: %w", c.BaseURL, errors.Unwrap(err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the answer of %s %s: %w", req.Method, req.URL.Path, err)
	}
	if resp.StatusCode >= 400 {
		return nil, parseError(resp.StatusCode, raw)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: raw}, nil
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}
