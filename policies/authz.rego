# Route authorization for the AgentIdP HTTP API (SPEC §4).
#
# Input:
#   method    HTTP method, upper case ("GET")
#   path      gorilla/mux route template ("/api/v1/agents/{agent_id}")
#   scopes    scopes held by the caller's access token (array of strings)
#   agent_id  the calling agent (not used by the rules yet; kept for audit and future rules)
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
	required_scopes
	count(missing_scopes) == 0
}
