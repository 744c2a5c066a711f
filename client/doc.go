// Package client gets access tokens from an AgentIdP server for an agent: the client
// credentials grant with a client secret, a private_key_jwt assertion or a federated
// (workload identity) token read from a file, cached and refreshed before they expire, and
// optionally bound to a DPoP key (RFC 9449).
//
// It is its own Go module (github.com/agentidp/agentidp/client), apart from the server's,
// so that an agent or a resource server importing it pulls in go-jose and
// golang.org/x/oauth2 only. The resource-server middleware is in the sub-package resource,
// DPoP proofs in dpop.
package client
