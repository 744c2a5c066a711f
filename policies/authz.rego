# Authorization for the AgentIdP HTTP API (docs/api.md, "Scopes and authorization", and
# docs/security.md, "The authority model"). Every decision of the server is made here; the
# services only gather the facts below.
#
# Input:
#   method     HTTP method, upper case ("GET")
#   path       gorilla/mux route template ("/api/v1/agents/{agent_id}")
#   scopes     the caller's scopes (array of strings): its access token's, or, when it
#              authenticated with its client credentials, its agent's allowed scopes
#   agent_id   the calling agent
#   org_id     the calling agent's organization
#   via        how the caller authenticated: "bearer" or "client_credentials"
#   delegated  true when the caller's token carries an act claim (it acts for another)
#   target     for an object-level decision, the object acted on; absent for the route-level
#              decision made before the object is known:
#     agent_id          the agent the object belongs to (for a token: its subject)
#     org_id            the organization it belongs to; "*" for a list over every one
#     authority         for a change to an agent: its whole authority (its allowed scopes,
#                       apis:write when it holds a grant on an API, and the authority of
#                       every agent that lists it as a delegate, transitively)
#     status            for a change to an agent: its status ("active", ...)
#     scopes            for a change to an agent: its allowed scopes
#     other_holders     for a change that could lock an organization out: {role: n}, the
#                       number of OTHER active agents of its organization holding each
#                       lock-out role's scopes (data.scopes.guardians), counted inside the
#                       change's transaction under the organization's lock-out lock
#     credentials_left  for a credential revocation: the agent's active credentials left
#                       after it
#   change     for a create or an update, what it sets:
#     allowed_scopes    the agent's new allowed scopes (absent when not set)
#     plan              the new plan (absent when not set)
#     grants            true when it sets grants on APIs
#
# Data (policies/data/scopes.json, mounted at data.scopes):
#   routes          {"METHOD /template": ["scope", ...]}; the caller needs ALL listed scopes
#   own_org_routes  {"METHOD /template": ["scope", ...]}: what the route needs instead when
#                   its target is the caller's own organization
#   scopes          the known scopes of the server's own API
#   root_org        the root organization's id
#   root_only       scopes only agents of root may hold
#   guardians       {role: {"scopes": [...], "root_only": bool}}: the lock-out roles
#
# Outputs: allow, missing_scopes, not_found (answer as for a missing object), invalid
# ({field, message}: 400), refused (reasons without a scope: 403), conflict (409).
# A route absent from data.scopes.routes is denied.
package agentidp.authz

default allow := false

route_key := concat(" ", [input.method, input.path])

# The scopes the route needs; undefined for an unknown route.
required_scopes := data.scopes.routes[route_key]

held_scopes := {s | some s in input.scopes}

orgs_admin if "orgs:admin" in held_scopes

# --- Route scopes ----------------------------------------------------------------------

route_missing contains s if {
	some s in required_scopes
	not s in held_scopes
}

route_ok if {
	required_scopes
	count(route_missing) == 0
}

# A route with an own-organization alternative (GET /api/v1/orgs/{org_id}: orgs:admin, or
# agents:read for one's own org). At route level the target is not known yet: the
# alternative lets the call through to the object-level decision, which checks it.
route_ok if {
	required_scopes
	alt := data.scopes.own_org_routes[route_key]
	own_org_target
	every s in alt { s in held_scopes }
}

own_org_target if not input.target

own_org_target if input.target.org_id == input.org_id

# --- Isolation -------------------------------------------------------------------------

# A caller acts within its own organization. An object of another organization (or a list
# over every organization) is hidden, answered as a missing one, unless the caller holds
# orgs:admin, which acts on every organization.
default not_found := false

not_found if {
	input.target.org_id
	input.target.org_id != input.org_id
	not orgs_admin
}

# --- What a change may set ---------------------------------------------------------------

known_scopes := {s | some s in data.scopes.scopes}

# Attenuation: a caller grants only server-API scopes it holds itself.
attenuation_missing contains s if {
	some s in input.change.allowed_scopes
	s in known_scopes
	not s in held_scopes
}

# Root-only scopes are granted only to agents of root.
invalid contains {"field": "allowed_scopes", "message": sprintf("%s can be granted only to agents of the root organization", [s])} if {
	route_ok
	some s in input.change.allowed_scopes
	s in data.scopes.root_only
	input.target.org_id != data.scopes.root_org
}

# Plans other than free are set only by orgs:admin.
change_missing contains "orgs:admin" if {
	input.change.plan
	input.change.plan != "free"
	not orgs_admin
}

# Grants on an organization's APIs are the API owners' right.
change_missing contains "apis:write" if {
	input.change.grants
	not "apis:write" in held_scopes
}

# --- No managing up ----------------------------------------------------------------------

# The routes that change an agent or its credentials. The caller must hold the target
# agent's whole authority (an agent may manage itself within the same rule).
manage_routes := {
	"PATCH /api/v1/agents/{agent_id}",
	"POST /api/v1/agents/{agent_id}/suspend",
	"POST /api/v1/agents/{agent_id}/reactivate",
	"DELETE /api/v1/agents/{agent_id}",
	"POST /api/v1/agents/{agent_id}/credentials",
	"POST /api/v1/agents/{agent_id}/credentials/{credential_id}/rotate",
	"DELETE /api/v1/agents/{agent_id}/credentials/{credential_id}",
}

manages_agent if {
	route_key in manage_routes
	input.target
}

# Deleting a trusted issuer revokes every federated credential bound to it: the service
# asks about each of their agents (a target with agent_id), and the caller must hold each
# one's whole authority. The decision about the issuer itself (its organization only) is
# isolation alone.
manages_agent if {
	route_key == "DELETE /api/v1/trusted-issuers/{trusted_issuer_id}"
	input.target.agent_id != ""
}

authority_missing contains s if {
	manages_agent
	some s in input.target.authority
	not s in held_scopes
}

# Fail closed: a decision about managing an agent without its authority refuses.
refused contains "the target agent's authority is unknown" if {
	manages_agent
	not authority_known
}

authority_known if is_array(input.target.authority)

# --- Delegated tokens manage nothing -------------------------------------------------------

managed_prefixes := ["/api/v1/orgs", "/api/v1/agents", "/api/v1/apis", "/api/v1/keys", "/api/v1/trusted-issuers"]

refused contains "a delegated token (one with an act claim) cannot change organizations, agents, credentials, trusted issuers, grants, APIs or keys" if {
	input.delegated == true
	input.method != "GET"
	some p in managed_prefixes
	startswith(input.path, p)
}

# --- No lock-out -------------------------------------------------------------------------

# The routes whose change can take an organization's last holder of a role away.
lockout_routes := {
	"POST /api/v1/agents/{agent_id}/suspend",
	"DELETE /api/v1/agents/{agent_id}",
	"PATCH /api/v1/agents/{agent_id}",
	"DELETE /api/v1/agents/{agent_id}/credentials/{credential_id}",
}

target_scopes := {s | some s in input.target.scopes}

# The roles of which the target is the last active holder in its organization.
last_holder_of contains role if {
	input.target.status == "active"
	some role, g in data.scopes.guardians
	role_applies(g)
	every s in g.scopes { s in target_scopes }
	input.target.other_holders[role] == 0
}

role_applies(g) if not g.root_only

role_applies(g) if input.target.org_id == data.scopes.root_org

# The roles whose last active holder the change takes away.
lockout contains role if {
	route_key in {"POST /api/v1/agents/{agent_id}/suspend", "DELETE /api/v1/agents/{agent_id}"}
	some role in last_holder_of
}

lockout contains role if {
	route_key == "PATCH /api/v1/agents/{agent_id}"
	is_array(input.change.allowed_scopes)
	some role in last_holder_of
	some s in data.scopes.guardians[role].scopes
	not s in {x | some x in input.change.allowed_scopes}
}

lockout contains role if {
	route_key == "DELETE /api/v1/agents/{agent_id}/credentials/{credential_id}"
	input.target.credentials_left == 0
	some role in last_holder_of
}

conflict contains sprintf("the agent is the last active holder of %s in its organization; it cannot be suspended, decommissioned, lose those scopes or its last active credential", [concat(" and ", data.scopes.guardians[role].scopes)]) if {
	some role in lockout
}

# Deleting a trusted issuer revokes the federated credentials bound to it: asked about each
# agent, with the agent's active credentials left after it.
lockout contains role if {
	route_key == "DELETE /api/v1/trusted-issuers/{trusted_issuer_id}"
	input.target.agent_id != ""
	input.target.credentials_left == 0
	some role in last_holder_of
}

refused contains "the organization's lock-out facts are unknown" if {
	route_key == "DELETE /api/v1/trusted-issuers/{trusted_issuer_id}"
	input.target.agent_id != ""
	not holders_known
}

# Fail closed: a change that could lock an organization out, decided without the counts.
refused contains "the organization's lock-out facts are unknown" if {
	route_key in lockout_routes
	input.target
	not holders_known
}

holders_known if is_object(input.target.other_holders)

conflict contains "the root organization cannot be suspended" if {
	route_key == "POST /api/v1/orgs/{org_id}/suspend"
	input.target.org_id == data.scopes.root_org
}

# --- Token revocation (RFC 7009 §2.1) ------------------------------------------------------

# A client that authenticated with its own client credentials may call the endpoint
# whatever its scopes, and revokes only its own tokens, whatever its scopes too; a bearer
# token needs the route's scope (tokens:revoke), which revokes any token of its org (of
# every org with orgs:admin). The service asks once before it reads the token (no target),
# then with the token's subject as the target; a refused target is ignored (200, as
# RFC 7009 wants).
revocation if route_key == "POST /api/v1/token/revoke"

client_revocation if {
	revocation
	input.via == "client_credentials"
}

# --- The answer ----------------------------------------------------------------------------

missing_scopes contains s if {
	not client_revocation
	not route_ok
	some s in route_missing
}

missing_scopes contains s if {
	route_ok
	some s in attenuation_missing
}

missing_scopes contains s if {
	route_ok
	some s in change_missing
}

missing_scopes contains s if {
	route_ok
	some s in authority_missing
}

allow if {
	not client_revocation
	route_ok
	decided
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

# Nothing in the way of a call whose route scopes the caller holds.
decided if {
	count(missing_scopes) == 0
	not not_found
	count(invalid) == 0
	count(refused) == 0
	count(conflict) == 0
}
