// Package resource is net/http middleware for a resource server (an API) that accepts
// AgentIdP access tokens: it checks the token locally against the issuer's published keys
// (signature with an allowed alg, typ at+jwt, iss, aud, exp, nbf, iat, required scopes),
// the DPoP proof of a sender-constrained token (RFC 9449: htm, htu, iat, ath, the key's
// thumbprint against cnf.jkt, a jti replay cache), optionally asks the server's
// introspection endpoint (RFC 7662) so that a revoked token is refused at once, answers
// refusals with RFC 6750 / RFC 9449 §7 challenges, and hands the verified claims to the
// next handler in the request's context (ClaimsFrom).
package resource
