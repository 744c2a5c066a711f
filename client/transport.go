package client

import (
	"errors"
	"io"
	"net/http"
	"strings"
)

// Transport is an http.RoundTripper that adds the source's token to each request: as
// "Authorization: Bearer <token>", or for a DPoP-bound token as "Authorization: DPoP
// <token>" with a fresh proof (ath included) in the DPoP header. When a resource server
// answers 401 asking for a DPoP nonce (error="use_dpop_nonce" with a DPoP-Nonce header),
// the request is sent once more with the nonce, if its body can be replayed.
type Transport struct {
	Source *TokenSource
	Base   http.RoundTripper // default http.DefaultTransport
}

// Client is an *http.Client whose requests carry the source's tokens.
func (s *TokenSource) Client() *http.Client {
	return &http.Client{Transport: &Transport{Source: s}}
}

// RoundTrip implements http.RoundTripper; req is not modified.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		defer req.Body.Close()
	}
	resp, err := t.send(req, req.Body)
	if err != nil || !t.wantsNonce(req, resp) || (req.Body != nil && req.GetBody == nil) {
		return resp, err
	}
	body := req.Body
	if req.GetBody != nil {
		if body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	resp.Body.Close()
	return t.send(req, body)
}

func (t *Transport) send(req *http.Request, body io.ReadCloser) (*http.Response, error) {
	if t.Source == nil {
		return nil, errors.New("client: Transport.Source is nil")
	}
	tok, err := t.Source.TokenContext(req.Context())
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Body = body
	if tok.TokenType == "DPoP" {
		proof, err := t.Source.cfg.DPoP.Proof(req.Method, req.URL.String(), tok.AccessToken)
		if err != nil {
			return nil, err
		}
		r.Header.Set("Authorization", "DPoP "+tok.AccessToken)
		r.Header.Set("DPoP", proof)
	} else {
		r.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	}
	return t.base().RoundTrip(r)
}

// wantsNonce reports whether resp asks for a DPoP nonce it did not have; the nonce is
// remembered for the next proofs either way.
func (t *Transport) wantsNonce(req *http.Request, resp *http.Response) bool {
	p := t.Source.Proofer()
	if p == nil {
		return false
	}
	fresh := p.SetNonce(req.URL.String(), resp.Header.Get("DPoP-Nonce"))
	return fresh && resp.StatusCode == http.StatusUnauthorized &&
		strings.Contains(resp.Header.Get("WWW-Authenticate"), "use_dpop_nonce")
}

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}
