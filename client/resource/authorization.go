package resource

import (
	"net/http"
	"strings"
)

// credentials are what a request presents: the Authorization scheme ("Bearer", "DPoP" or
// "" for none), the token and the DPoP proof.
type credentials struct {
	scheme string
	token  string
	proof  string
}

// parseAuthorization reads the Authorization and DPoP headers. Two Authorization headers, or
// a token that is not a token68 (RFC 7235 §2.1), is invalid_request (RFC 6750 §3.1); two
// DPoP headers is invalid_dpop_proof (RFC 9449 §4.3). An unknown scheme counts as none.
func parseAuthorization(h http.Header) (credentials, *authError) {
	var c credentials
	proofs := h.Values("DPoP")
	switch len(proofs) {
	case 0:
	case 1:
		c.proof = proofs[0]
	default:
		return c, &authError{status: http.StatusUnauthorized, scheme: schemeDPoP, code: codeInvalidProof, reason: "more than one DPoP header"}
	}
	auths := h.Values("Authorization")
	switch len(auths) {
	case 0:
		return c, nil
	case 1:
	default:
		return c, &authError{status: http.StatusBadRequest, code: codeInvalidRequest, reason: "more than one Authorization header"}
	}
	scheme, token, _ := strings.Cut(auths[0], " ")
	switch {
	case strings.EqualFold(scheme, schemeBearer):
		c.scheme = schemeBearer
	case strings.EqualFold(scheme, schemeDPoP):
		c.scheme = schemeDPoP
	default:
		return credentials{proof: c.proof}, nil
	}
	token = strings.Trim(token, " ")
	if !isToken68(token) {
		return c, &authError{status: http.StatusBadRequest, scheme: c.scheme, code: codeInvalidRequest, reason: "malformed Authorization header"}
	}
	c.token = token
	return c, nil
}

// isToken68 reports whether s is a token68: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isToken68(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		b := body[i]
		switch {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		case b == '-' || b == '.' || b == '_' || b == '~' || b == '+' || b == '/':
		default:
			return false
		}
	}
	return true
}
