package client

import (
	"context"
	"errors"
	"strings"

	"golang.org/x/oauth2"
)

// The token exchange's names (RFC 8693).
const (
	GrantTokenExchange   = "urn:ietf:params:oauth:grant-type:token-exchange"
	TokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
)

// ExchangeOptions narrow what a token exchange asks for.
type ExchangeOptions struct {
	// Scopes to ask for: within the subject token's (none: all of them).
	Scopes []string
	// Audience: one of the subject token's audiences ("": the subject token's).
	Audience string
	// ActorToken is an access token of this client itself, sent as actor_token (optional).
	ActorToken string
}

// Exchange performs the token exchange (RFC 8693) with the source's client authentication
// (and DPoP proof, when configured): this client, the actor, gets a token that acts for
// the subject of subjectToken (an access token of the server), within what that token
// holds. The server must list this client in the subject agent's delegates (and, for a
// delegated subject token, in those of its last actor). The token is not cached; its
// Extra("issued_token_type") is the access_token type. Refusals are *TokenError
// (invalid_request, invalid_target, invalid_scope, ...).
func (s *TokenSource) Exchange(ctx context.Context, subjectToken string, opt ExchangeOptions) (*oauth2.Token, error) {
	if subjectToken == "" {
		return nil, errors.New("client: Exchange needs a subject token")
	}
	endpoint, err := s.tokenEndpoint(ctx)
	if err != nil {
		return nil, err
	}
	form := map[string][]string{
		"grant_type":         {GrantTokenExchange},
		"subject_token":      {subjectToken},
		"subject_token_type": {TokenTypeAccessToken},
	}
	if len(opt.Scopes) > 0 {
		form["scope"] = []string{strings.Join(opt.Scopes, " ")}
	}
	if opt.Audience != "" {
		form["audience"] = []string{opt.Audience}
	}
	if opt.ActorToken != "" {
		form["actor_token"] = []string{opt.ActorToken}
		form["actor_token_type"] = []string{TokenTypeAccessToken}
	}
	tok, err := s.requestToken(ctx, endpoint, s.cfg.Issuer, form)
	if err != nil {
		return nil, err
	}
	if typ, _ := tok.Extra("issued_token_type").(string); typ != TokenTypeAccessToken {
		return nil, errors.New("client: the token exchange's answer has no access_token issued_token_type")
	}
	return tok, nil
}
