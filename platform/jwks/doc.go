// Package jwks reads JSON Web Key Sets from outside the server: the public keys an agent
// registers for private_key_jwt and a trusted issuer's keys given by value (ParsePublic,
// strict), and a trusted issuer's keys fetched from its jwks_uri (Fetcher, which keeps the
// usable public signing keys and refuses to dial loopback, private, shared, link-local,
// multicast and mapped addresses).
//
// Every key is parsed by go-jose; this package only decides which keys are acceptable.
package jwks
