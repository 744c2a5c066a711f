// Package dpop makes and checks DPoP proofs (RFC 9449): a Proofer signs proofs with the
// client's key for the token request and for each call to a resource server; a Checker
// verifies them at a resource server (typ, alg, the public jwk, the signature, htm, htu,
// iat, ath and a jti replay cache). Every JWS is parsed and verified by go-jose.
package dpop
