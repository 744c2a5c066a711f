package tokens

import (
	"net/http"
	"net/url"
)

// The token exchange's names (RFC 8693).
const (
	grantTokenExchange  = "urn:ietf:params:oauth:grant-type:token-exchange"
	tokenTypeAccessJWT  = "urn:ietf:params:oauth:token-type:access_token"
	tokenTypeGenericJWT = "urn:ietf:params:oauth:token-type:jwt"
)

// exchangeRequest is a parsed token-exchange request (RFC 8693 §2.1). What it may yield is
// decided from what the subject token is once validated (exchange.go), never from these
// parameters alone.
type exchangeRequest struct {
	SubjectToken string
	ActorToken   string // "" when none
	Scope        string // "" means all of the subject token's
	Audience     string // "" means the subject token's
}

// readExchange reads the token-exchange parameters of v: subject_token and its type
// (access_token or jwt) are required; actor_token is optional, with actor_token_type
// access_token; requested_token_type is absent or access_token; at most one resource or
// audience value in all (RFC 8693 §2.1: two, of either name, even equal ones, are
// invalid_target). Every parameter but resource and audience appears at most once.
func readExchange(v url.Values) (exchangeRequest, error) {
	var x exchangeRequest
	repeated := false
	get := func(name string) string {
		s, _, err := single(v, name)
		repeated = repeated || err != nil
		return s
	}
	subject, subjectType := get("subject_token"), get("subject_token_type")
	actor, actorType := get("actor_token"), get("actor_token_type")
	requested, scope := get("requested_token_type"), get("scope")
	if repeated {
		return exchangeRequest{}, invalidRequest("a parameter of the token exchange is repeated")
	}
	switch {
	case subject == "":
		return exchangeRequest{}, invalidRequest("subject_token is required")
	case subjectType == "":
		return exchangeRequest{}, invalidRequest("subject_token_type is required")
	case subjectType != tokenTypeAccessJWT && subjectType != tokenTypeGenericJWT:
		return exchangeRequest{}, invalidRequest("subject_token_type must be " + tokenTypeAccessJWT + " or " + tokenTypeGenericJWT)
	case requested != "" && requested != tokenTypeAccessJWT:
		return exchangeRequest{}, invalidRequest("requested_token_type must be " + tokenTypeAccessJWT + " (or absent)")
	case actor == "" && actorType != "":
		return exchangeRequest{}, invalidRequest("actor_token_type needs actor_token")
	case actor != "" && actorType != tokenTypeAccessJWT:
		return exchangeRequest{}, invalidRequest("actor_token_type must be " + tokenTypeAccessJWT)
	}
	n := len(v["resource"]) + len(v["audience"])
	if n > 1 {
		return exchangeRequest{}, &oauthError{Status: http.StatusBadRequest, Code: "invalid_target",
			Description: "ask for at most one resource or audience"}
	}
	for _, a := range append(v["resource"], v["audience"]...) {
		x.Audience = a
	}
	x.SubjectToken, x.ActorToken, x.Scope = subject, actor, scope
	return x, nil
}
