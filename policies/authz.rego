# Route authorization for the AgentIdP HTTP API (docs/api.md, "Scopes and authorization").
#
# Input:
#   method    HTTP method, upper case ("GET")
#   path      gorilla/mux route template ("/api/v1/agents/{agent_id}")
#   scopes    the caller's scopes (array of strings): its access token's, or, when it
#             authenticated with its client credentials, its agent's allowed scopes
#   agent_id  the calling agent
#   org_id    the calling agent's organization
#   via       how the caller authenticated: "bearer" or "client_credentials"
#   target    for an object-level decision, the object acted on: {agent_id, org_id} (the
#             agent and the organization it belongs to; for a token, its subject's; org_id
#             "*" for a list over every organization); absent for the route-level decision
#
# Data (policies/data/scopes.json, mounted at data.scopes):
#   routes    {"METHOD /template": ["scope", ...]}; the caller needs ALL listed scopes
#   scopes    the known scopes
#
# A route absent from data.scopes.routes is denied.
package agentidp.authz

default allow := false

# The scopes the route needs; undefined for an unknown route.
required_scopes := data.scopes.routes[concat(" ", [input.method, input.path])]

held_scopes := {s | some s in input.scopes}

# The scopes the route needs that the caller lacks (empty for an unknown route:
# there is nothing to ask for).
missing_scopes contains s if {
	some s in required_scopes
	not s in held_scopes
}

allow if {
	not client_revocation
	required_scopes
	count(missing_scopes) == 0
	not not_found
}

# Isolation: a caller acts within its own organization. An object of another organization
# (or a list over every organization) is hidden, answered as a missing one, unless the caller
# holds orgs:admin, which acts on every organization.
default not_found := false

not_found if {
	input.target.org_id
	input.target.org_id != input.org_id
	not "orgs:admin" in held_scopes
}

# Token revocation (RFC 7009 §2.1). A client that authenticated with its own client
# credentials may call the endpoint whatever its scopes, and revokes only its own tokens,
# whatever its scopes too; a bearer token needs the route's scope (tokens:revoke), which
# revokes any token. The service asks once before it reads the token (no target), then
# with the token's subject as the target; a refused target is ignored (200, as RFC 7009
# wants).
revocation if {
	input.method == "POST"
	input.path == "/api/v1/token/revoke"
}

client_revocation if {
	revocation
	input.via == "client_credentials"
}

allow if {
	client_revocation
	not input.target
}

allow if {
	client_revocation
	input.target.agent_id == input.agent_id
	not not_found
}
