# Unit tests for authz.rego, run by `go test ./platform/policy/` (TestRegoUnitTests)
# with data/scopes.json mounted under data.scopes, as the server loads it.
package agentidp.authz_test

import data.agentidp.authz

test_allow_with_required_scope if {
	authz.allow with input as {"method": "GET", "path": "/api/v1/agents", "scopes": ["agents:read"], "agent_id": "a1"}
}

test_allow_with_extra_scopes if {
	authz.allow with input as {"method": "DELETE", "path": "/api/v1/agents/{agent_id}", "scopes": ["agents:read", "agents:write", "audit:read"]}
}

test_allow_route_with_two_path_variables if {
	authz.allow with input as {
		"method": "POST",
		"path": "/api/v1/agents/{agent_id}/credentials/{credential_id}/rotate",
		"scopes": ["credentials:write"],
	}
}

test_deny_without_required_scope if {
	not authz.allow with input as {"method": "GET", "path": "/api/v1/agents", "scopes": ["agents:write"]}
}

test_missing_scopes_names_the_required_scope if {
	authz.missing_scopes == {"keys:admin"} with input as {"method": "POST", "path": "/api/v1/keys/rotate", "scopes": ["agents:read"]}
}

test_missing_scopes_empty_when_allowed if {
	count(authz.missing_scopes) == 0 with input as {"method": "GET", "path": "/api/v1/audit", "scopes": ["audit:read"]}
}

test_deny_unknown_route if {
	not authz.allow with input as {"method": "GET", "path": "/api/v1/nope", "scopes": ["agents:read", "keys:admin"]}
}

test_unknown_route_has_no_missing_scopes if {
	count(authz.missing_scopes) == 0 with input as {"method": "GET", "path": "/api/v1/nope", "scopes": []}
}

test_deny_wrong_method if {
	not authz.allow with input as {"method": "PUT", "path": "/api/v1/agents/{agent_id}", "scopes": ["agents:read", "agents:write"]}
}

test_deny_lower_case_method if {
	not authz.allow with input as {"method": "get", "path": "/api/v1/agents", "scopes": ["agents:read"]}
}

test_deny_concrete_path_instead_of_template if {
	not authz.allow with input as {"method": "GET", "path": "/api/v1/agents/3f1c", "scopes": ["agents:read"]}
}

test_deny_empty_scopes if {
	not authz.allow with input as {"method": "GET", "path": "/api/v1/agents", "scopes": []}
}

test_deny_absent_scopes if {
	not authz.allow with input as {"method": "GET", "path": "/api/v1/agents"}
}

test_deny_empty_input if {
	not authz.allow with input as {}
}

multi_routes := {"POST /api/v1/things": ["things:read", "things:write"]}

test_multi_scope_route_allows_with_all if {
	authz.allow with data.scopes.routes as multi_routes
		with input as {"method": "POST", "path": "/api/v1/things", "scopes": ["things:write", "things:read"]}
}

test_multi_scope_route_denies_with_one if {
	not authz.allow with data.scopes.routes as multi_routes
		with input as {"method": "POST", "path": "/api/v1/things", "scopes": ["things:write"]}
}

test_multi_scope_route_missing_lists_the_rest if {
	authz.missing_scopes == {"things:read"} with data.scopes.routes as multi_routes
		with input as {"method": "POST", "path": "/api/v1/things", "scopes": ["things:write"]}
}

test_multi_scope_route_missing_lists_all_with_none if {
	authz.missing_scopes == {"things:read", "things:write"} with data.scopes.routes as multi_routes
		with input as {"method": "POST", "path": "/api/v1/things", "scopes": []}
}

test_injected_data_replaces_real_routes if {
	not authz.allow with data.scopes.routes as multi_routes
		with input as {"method": "GET", "path": "/api/v1/agents", "scopes": ["agents:read"]}
}

# Introspection: the route's scope, held by a bearer token or by a client's agent.
test_introspection_needs_the_scope_as_bearer_or_client if {
	authz.allow with input as {"method": "POST", "path": "/api/v1/token/introspect", "scopes": ["tokens:introspect"], "via": "bearer"}
	authz.allow with input as {"method": "POST", "path": "/api/v1/token/introspect", "scopes": ["tokens:introspect"], "via": "client_credentials"}
	not authz.allow with input as {"method": "POST", "path": "/api/v1/token/introspect", "scopes": ["agents:read"], "via": "client_credentials"}
	authz.missing_scopes == {"tokens:introspect"} with input as {"method": "POST", "path": "/api/v1/token/introspect", "scopes": [], "via": "bearer"}
}

revoke(via, scopes, target) := {"method": "POST", "path": "/api/v1/token/revoke", "scopes": scopes, "agent_id": "a1", "via": via, "target": target}

revoke_route(via, scopes) := {"method": "POST", "path": "/api/v1/token/revoke", "scopes": scopes, "agent_id": "a1", "via": via}

test_revocation_route_open_to_clients_whatever_their_scopes if {
	authz.allow with input as revoke_route("client_credentials", [])
}

test_revocation_route_needs_the_scope_as_bearer if {
	not authz.allow with input as revoke_route("bearer", ["agents:read"])
	authz.missing_scopes == {"tokens:revoke"} with input as revoke_route("bearer", [])
	authz.allow with input as revoke_route("bearer", ["tokens:revoke"])
}

test_client_revokes_its_own_token if {
	authz.allow with input as revoke("client_credentials", [], {"agent_id": "a1"})
}

test_client_without_scope_cannot_revoke_another_agents_token if {
	not authz.allow with input as revoke("client_credentials", ["agents:write"], {"agent_id": "a2"})
}

test_bearer_with_revoke_scope_revokes_any_token if {
	authz.allow with input as revoke("bearer", ["tokens:revoke"], {"agent_id": "a2"})
	authz.allow with input as revoke("bearer", ["tokens:revoke"], {"agent_id": "a1"})
}

test_client_revokes_only_its_own_tokens_whatever_its_scopes if {
	not authz.allow with input as revoke("client_credentials", ["tokens:revoke"], {"agent_id": "a2"})
	authz.allow with input as revoke("client_credentials", ["tokens:revoke"], {"agent_id": "a1"})
}

test_bearer_without_scope_cannot_revoke_even_its_own_token if {
	not authz.allow with input as revoke("bearer", [], {"agent_id": "a1"})
}

test_the_client_rule_is_only_for_revocation if {
	not authz.allow with input as {"method": "POST", "path": "/api/v1/token/introspect", "scopes": [], "agent_id": "a1", "via": "client_credentials"}
	not authz.allow with input as {"method": "GET", "path": "/api/v1/keys", "scopes": [], "agent_id": "a1", "via": "client_credentials", "target": {"agent_id": "a1"}}
}

# Isolation.
agent_read(org, target_org, scopes) := {"method": "GET", "path": "/api/v1/agents/{agent_id}", "scopes": scopes,
	"agent_id": "a1", "org_id": org, "via": "bearer", "target": {"agent_id": "x", "org_id": target_org}}

test_same_org_object_allowed if {
	authz.allow with input as agent_read("o1", "o1", ["agents:read"])
	not authz.not_found with input as agent_read("o1", "o1", ["agents:read"])
}

test_other_org_object_hidden if {
	not authz.allow with input as agent_read("o1", "o2", ["agents:read", "agents:write", "keys:admin"])
	authz.not_found with input as agent_read("o1", "o2", ["agents:read"])
}

test_orgs_admin_acts_on_every_org if {
	authz.allow with input as agent_read("root", "o2", ["agents:read", "orgs:admin"])
	not authz.not_found with input as agent_read("root", "o2", ["agents:read", "orgs:admin"])
}

test_list_over_every_org_needs_orgs_admin if {
	authz.not_found with input as agent_read("o1", "*", ["agents:read"])
	authz.allow with input as agent_read("root", "*", ["agents:read", "orgs:admin"])
}

test_route_level_decision_has_no_target_and_hides_nothing if {
	not authz.not_found with input as {"method": "GET", "path": "/api/v1/agents", "scopes": ["agents:read"], "org_id": "o1"}
}

test_client_cannot_revoke_another_orgs_token if {
	not authz.allow with input as {"method": "POST", "path": "/api/v1/token/revoke", "scopes": [], "agent_id": "a1",
		"org_id": "o1", "via": "client_credentials", "target": {"agent_id": "a1", "org_id": "o2"}}
}

# --- The authority model -------------------------------------------------------------------

root := "00000000-0000-0000-0000-000000000001"

# A call by a1 of org o1 (or root) on route, with scopes, about target, making change.
call(method, path, scopes, org, target, change) := {"method": method, "path": path, "scopes": scopes,
	"agent_id": "a1", "org_id": org, "via": "bearer", "delegated": false, "target": target, "change": change}

patch_agent(scopes, target, change) := call("PATCH", "/api/v1/agents/{agent_id}", scopes, "o1", target, change)

create_agent(scopes, org, target_org, change) := call("POST", "/api/v1/agents", scopes, org, {"org_id": target_org}, change)

holders(n) := {"root_admin": n, "org_admin": n}

agent_in_o1(authority) := {"agent_id": "x", "org_id": "o1", "authority": authority, "status": "active", "scopes": authority,
	"other_holders": holders(2), "credentials_left": 1}

# Root-only scopes.
test_root_only_scopes_refused_outside_root if {
	inp := create_agent(["agents:write", "orgs:admin", "keys:admin"], root, "o2", {"allowed_scopes": ["keys:admin"]})
	not authz.allow with input as inp
	authz.invalid == {{"field": "allowed_scopes", "message": "keys:admin can be granted only to agents of the root organization"}} with input as inp
}

test_root_only_scopes_granted_inside_root if {
	authz.allow with input as create_agent(["agents:write", "orgs:admin", "keys:admin"], root, root, {"allowed_scopes": ["keys:admin", "orgs:admin"]})
}

test_root_only_not_reported_before_the_route_scope if {
	inp := create_agent(["agents:read"], "o2", "o2", {"allowed_scopes": ["keys:admin"]})
	count(authz.invalid) == 0 with input as inp
	authz.missing_scopes == {"agents:write"} with input as inp
}

# Attenuation.
test_attenuation_grants_only_held_scopes if {
	inp := create_agent(["agents:write"], "o1", "o1", {"allowed_scopes": ["agents:write", "audit:read", "keys:admin"]})
	not authz.allow with input as inp
	authz.missing_scopes == {"audit:read", "keys:admin"} with input as inp
}

test_attenuation_allows_a_subset if {
	authz.allow with input as create_agent(["agents:write", "audit:read"], "o1", "o1", {"allowed_scopes": ["audit:read"]})
	authz.allow with input as create_agent(["agents:write"], "o1", "o1", {"allowed_scopes": []})
	authz.allow with input as create_agent(["agents:write"], "o1", "o1", {})
}

test_attenuation_ignores_scopes_of_other_apis if {
	authz.allow with input as create_agent(["agents:write"], "o1", "o1", {"allowed_scopes": ["weather:read"]})
}

test_self_escalation_by_patch_refused if {
	# An agent holding only agents:write PATCHes its own allowed_scopes to every scope.
	inp := call("PATCH", "/api/v1/agents/{agent_id}", ["agents:write"], "o1",
		{"agent_id": "a1", "org_id": "o1", "authority": ["agents:write"], "status": "active", "scopes": ["agents:write"], "other_holders": holders(1)},
		{"allowed_scopes": ["agents:write", "keys:admin", "audit:read"]})
	not authz.allow with input as inp
	authz.missing_scopes == {"keys:admin", "audit:read"} with input as inp
}

# Plans.
test_plan_other_than_free_needs_orgs_admin if {
	inp := patch_agent(["agents:write"], agent_in_o1([]), {"plan": "unlimited"})
	not authz.allow with input as inp
	authz.missing_scopes == {"orgs:admin"} with input as inp
	authz.allow with input as patch_agent(["agents:write"], agent_in_o1([]), {"plan": "free"})
	authz.allow with input as call("PATCH", "/api/v1/agents/{agent_id}", ["agents:write", "orgs:admin"], root,
		{"agent_id": "x", "org_id": "o1", "authority": [], "status": "active", "scopes": [], "other_holders": holders(0)}, {"plan": "unlimited"})
}

# Grants.
test_grants_need_apis_write if {
	authz.missing_scopes == {"apis:write"} with input as patch_agent(["agents:write"], agent_in_o1([]), {"grants": true})
	authz.allow with input as patch_agent(["agents:write", "apis:write"], agent_in_o1([]), {"grants": true})
}

# No managing up.
test_managing_up_refused_on_every_manage_route if {
	routes := [
		["PATCH", "/api/v1/agents/{agent_id}"],
		["POST", "/api/v1/agents/{agent_id}/suspend"],
		["POST", "/api/v1/agents/{agent_id}/reactivate"],
		["DELETE", "/api/v1/agents/{agent_id}"],
		["POST", "/api/v1/agents/{agent_id}/credentials"],
		["POST", "/api/v1/agents/{agent_id}/credentials/{credential_id}/rotate"],
		["DELETE", "/api/v1/agents/{agent_id}/credentials/{credential_id}"],
	]
	every r in routes {
		inp := call(r[0], r[1], ["agents:write", "credentials:write"], "o1", agent_in_o1(["agents:write", "keys:admin"]), {})
		not authz.allow with input as inp
		authz.missing_scopes == {"keys:admin"} with input as inp
	}
}

test_managing_an_agent_within_ones_authority if {
	authz.allow with input as call("POST", "/api/v1/agents/{agent_id}/suspend", ["agents:write", "audit:read"], "o1",
		agent_in_o1(["audit:read"]), null)
	authz.allow with input as call("POST", "/api/v1/agents/{agent_id}/credentials", ["credentials:write", "agents:read"], "o1",
		agent_in_o1(["agents:read"]), null)
}

test_managing_without_the_targets_authority_fails_closed if {
	inp := call("POST", "/api/v1/agents/{agent_id}/credentials", ["credentials:write"], "o1", {"agent_id": "x", "org_id": "o1"}, null)
	not authz.allow with input as inp
	authz.refused == {"the target agent's authority is unknown"} with input as inp
}

# Deleting a trusted issuer: its organization alone decides about the issuer; each agent whose
# federated credential it revokes needs the caller to hold its whole authority.
test_trusted_issuer_delete_needs_authority_over_each_bound_agent if {
	path := "/api/v1/trusted-issuers/{trusted_issuer_id}"
	authz.allow with input as call("DELETE", path, ["credentials:write"], "o1", {"org_id": "o1"}, null)
	authz.allow with input as call("DELETE", path, ["credentials:write"], "o1", {"agent_id": "", "org_id": "o1"}, null)
	not authz.allow with input as call("DELETE", path, ["credentials:write"], "o1", {"org_id": "o2"}, null)
	authz.allow with input as call("DELETE", path, ["credentials:write", "audit:read"], "o1",
		object.union(agent_in_o1(["audit:read"]), {"credentials_left": 0}), null)
	inp := call("DELETE", path, ["credentials:write"], "o1", agent_in_o1(["credentials:write", "keys:admin"]), null)
	not authz.allow with input as inp
	authz.authority_missing == {"keys:admin"} with input as inp
	not authz.allow with input as call("DELETE", path, ["credentials:write"], "o1", {"agent_id": "x", "org_id": "o1"}, null)
}

# ... and cannot take an organization's last lock-out role holder's last active credential.
test_trusted_issuer_delete_cannot_lock_the_organization_out if {
	path := "/api/v1/trusted-issuers/{trusted_issuer_id}"
	last := {"agent_id": "x", "org_id": "o1", "authority": org_admin_scopes, "status": "active",
		"scopes": org_admin_scopes, "other_holders": holders(0), "credentials_left": 0}
	inp := call("DELETE", path, org_admin_scopes, "o1", last, null)
	not authz.allow with input as inp
	count(authz.conflict) == 1 with input as inp
	authz.allow with input as call("DELETE", path, org_admin_scopes, "o1", object.union(last, {"credentials_left": 1}), null)
	not authz.allow with input as call("DELETE", path, org_admin_scopes, "o1", object.remove(last, ["other_holders"]), null)
}

test_trusted_issuers_need_credentials_scopes if {
	not authz.allow with input as call("POST", "/api/v1/trusted-issuers", ["credentials:read"], "o1", {"org_id": "o1"}, null)
	authz.allow with input as call("POST", "/api/v1/trusted-issuers", ["credentials:write"], "o1", {"org_id": "o1"}, null)
	authz.allow with input as call("GET", "/api/v1/trusted-issuers", ["credentials:read"], "o1", {"org_id": "o1"}, null)
	not authz.allow with input as call("GET", "/api/v1/trusted-issuers/{trusted_issuer_id}", ["agents:read"], "o1", {"org_id": "o1"}, null)
}

test_route_level_decision_of_a_manage_route_waits_for_the_target if {
	authz.allow with input as {"method": "POST", "path": "/api/v1/agents/{agent_id}/suspend", "scopes": ["agents:write"], "org_id": "o1"}
}

test_reads_need_no_authority if {
	authz.allow with input as call("GET", "/api/v1/agents/{agent_id}", ["agents:read"], "o1", {"agent_id": "x", "org_id": "o1"}, null)
}

# Delegated tokens manage nothing.
test_delegated_token_changes_nothing if {
	every r in [
		["POST", "/api/v1/agents"], ["PATCH", "/api/v1/agents/{agent_id}"], ["DELETE", "/api/v1/agents/{agent_id}"],
		["POST", "/api/v1/agents/{agent_id}/credentials"], ["POST", "/api/v1/keys/rotate"], ["POST", "/api/v1/orgs"], ["POST", "/api/v1/apis"],
	] {
		inp := {"method": r[0], "path": r[1], "scopes": ["agents:write", "credentials:write", "keys:admin", "orgs:admin", "apis:write"], "org_id": root, "delegated": true}
		not authz.allow with input as inp
		count(authz.refused) == 1 with input as inp
	}
}

test_delegated_token_reads_and_calls if {
	authz.allow with input as {"method": "GET", "path": "/api/v1/agents", "scopes": ["agents:read"], "org_id": "o1", "delegated": true}
	authz.allow with input as {"method": "POST", "path": "/api/v1/token/introspect", "scopes": ["tokens:introspect"], "org_id": "o1", "delegated": true}
}

# No lock-out.
org_admin_scopes := ["agents:write", "credentials:write"]

# x of o1 holds the org_admin role, with others other holders, status and credentials_left.
holder(others, status, left) := {"agent_id": "x", "org_id": "o1", "authority": org_admin_scopes, "status": status,
	"scopes": org_admin_scopes, "other_holders": {"org_admin": others, "root_admin": 0}, "credentials_left": left}

admin_call(r, target, change) := call(r[0], r[1], org_admin_scopes, "o1", target, change)

suspend_route := ["POST", "/api/v1/agents/{agent_id}/suspend"]

decommission_route := ["DELETE", "/api/v1/agents/{agent_id}"]

revoke_cred_route := ["DELETE", "/api/v1/agents/{agent_id}/credentials/{credential_id}"]

test_last_holder_cannot_be_suspended_or_decommissioned if {
	every r in [suspend_route, decommission_route] {
		inp := admin_call(r, holder(0, "active", 1), null)
		not authz.allow with input as inp
		count(authz.conflict) == 1 with input as inp
		count(authz.missing_scopes) == 0 with input as inp
	}
}

test_a_holder_that_is_not_the_last_can_be_suspended if {
	authz.allow with input as admin_call(suspend_route, holder(1, "active", 1), null)
}

test_a_suspended_holder_is_not_the_last_active_one if {
	authz.allow with input as admin_call(decommission_route, holder(0, "suspended", 1), null)
}

test_an_agent_without_the_role_is_not_its_holder if {
	t := object.union(holder(0, "active", 1), {"scopes": ["agents:write"]})
	authz.allow with input as admin_call(suspend_route, t, null)
}

test_last_holder_cannot_lose_the_roles_scopes if {
	patch := ["PATCH", "/api/v1/agents/{agent_id}"]
	inp := admin_call(patch, holder(0, "active", 1), {"allowed_scopes": ["agents:write"]})
	not authz.allow with input as inp
	count(authz.conflict) == 1 with input as inp
	authz.allow with input as admin_call(patch, holder(0, "active", 1), {"allowed_scopes": ["credentials:write", "agents:write"]})
	authz.allow with input as admin_call(patch, holder(0, "active", 1), {"name": "x"})
	authz.allow with input as admin_call(patch, holder(1, "active", 1), {"allowed_scopes": []})
}

test_last_holder_cannot_lose_its_last_credential if {
	inp := admin_call(revoke_cred_route, holder(0, "active", 0), null)
	not authz.allow with input as inp
	count(authz.conflict) == 1 with input as inp
	authz.allow with input as admin_call(revoke_cred_route, holder(0, "active", 1), null)
	authz.allow with input as admin_call(revoke_cred_route, holder(1, "active", 0), null)
}

test_lockout_decision_without_the_counts_fails_closed if {
	t := object.remove(holder(0, "active", 1), ["other_holders"])
	every r in [suspend_route, decommission_route, revoke_cred_route, ["PATCH", "/api/v1/agents/{agent_id}"]] {
		inp := admin_call(r, t, null)
		not authz.allow with input as inp
		count(authz.refused) == 1 with input as inp
	}
}

root_holder(others) := {"agent_id": "x", "org_id": root, "authority": ["orgs:admin"], "status": "active", "scopes": ["orgs:admin"],
	"other_holders": {"root_admin": others, "org_admin": 5}, "credentials_left": 1}

test_last_root_admin_cannot_be_suspended if {
	inp := call("POST", "/api/v1/agents/{agent_id}/suspend", ["agents:write", "orgs:admin"], root, root_holder(0), null)
	not authz.allow with input as inp
	authz.conflict == {"the agent is the last active holder of orgs:admin in its organization; it cannot be suspended, decommissioned, lose those scopes or its last active credential"} with input as inp
	authz.allow with input as call("POST", "/api/v1/agents/{agent_id}/suspend", ["agents:write", "orgs:admin"], root, root_holder(1), null)
}

test_root_admin_role_is_roots_only if {
	t := object.union(root_holder(0), {"org_id": "o1"})
	authz.allow with input as call("POST", "/api/v1/agents/{agent_id}/suspend", ["agents:write", "orgs:admin"], root, t, null)
}

test_root_cannot_be_suspended if {
	count(authz.conflict) == 1 with input as call("POST", "/api/v1/orgs/{org_id}/suspend", ["orgs:admin"], root, {"org_id": root}, null)
	count(authz.conflict) == 0 with input as call("POST", "/api/v1/orgs/{org_id}/suspend", ["orgs:admin"], root, {"org_id": "o2"}, null)
}

# An own-organization alternative to a route's scopes.
own_org := {"GET /api/v1/orgs/{org_id}": ["agents:read"]}

org_routes := {"GET /api/v1/orgs/{org_id}": ["orgs:admin"]}

org_read(scopes, org, target) := {"method": "GET", "path": "/api/v1/orgs/{org_id}", "scopes": scopes, "org_id": org, "target": target}

test_own_org_alternative if {
	authz.allow with data.scopes.routes as org_routes with data.scopes.own_org_routes as own_org
		with input as org_read(["agents:read"], "o1", {"org_id": "o1"})
	authz.allow with data.scopes.routes as org_routes with data.scopes.own_org_routes as own_org
		with input as {"method": "GET", "path": "/api/v1/orgs/{org_id}", "scopes": ["agents:read"], "org_id": "o1"}
	authz.not_found with data.scopes.routes as org_routes with data.scopes.own_org_routes as own_org
		with input as org_read(["agents:read"], "o1", {"org_id": "o2"})
	not authz.allow with data.scopes.routes as org_routes with data.scopes.own_org_routes as own_org
		with input as org_read(["audit:read"], "o1", {"org_id": "o1"})
	authz.allow with data.scopes.routes as org_routes with data.scopes.own_org_routes as own_org
		with input as org_read(["orgs:admin"], root, {"org_id": "o2"})
}

test_client_revocation_hides_another_orgs_token if {
	not authz.allow with input as {"method": "POST", "path": "/api/v1/token/revoke", "scopes": ["tokens:revoke"], "agent_id": "a1",
		"org_id": "o1", "via": "bearer", "target": {"agent_id": "a2", "org_id": "o2"}}
	authz.not_found with input as {"method": "POST", "path": "/api/v1/token/revoke", "scopes": ["tokens:revoke"], "agent_id": "a1",
		"org_id": "o1", "via": "bearer", "target": {"agent_id": "a2", "org_id": "o2"}}
}

# --- APIs (the routes of modules/apis) ----------------------------------------------------

apis_routes := [
	["POST", "/api/v1/apis", "apis:write"], ["GET", "/api/v1/apis", "apis:read"],
	["GET", "/api/v1/apis/{api_id}", "apis:read"], ["PATCH", "/api/v1/apis/{api_id}", "apis:write"],
	["DELETE", "/api/v1/apis/{api_id}", "apis:write"], ["GET", "/api/v1/apis/{api_id}/resource-metadata", "apis:read"],
]

test_apis_routes_want_their_scope if {
	every r in apis_routes {
		authz.allow with input as call(r[0], r[1], [r[2]], "o1", null, null)
		authz.missing_scopes == {r[2]} with input as call(r[0], r[1], ["agents:read", "agents:write"], "o1", null, null)
	}
	not authz.allow with input as call("POST", "/api/v1/apis", ["apis:read"], "o1", null, null)
}

test_another_orgs_api_is_hidden if {
	every r in [x | some x in apis_routes; x[0] != "POST"] {
		inp := call(r[0], r[1], ["apis:read", "apis:write"], "o1", {"org_id": "o2"}, null)
		not authz.allow with input as inp
		authz.not_found with input as inp
		authz.allow with input as call(r[0], r[1], ["apis:read", "apis:write"], "o1", {"org_id": "o1"}, null)
		authz.allow with input as call(r[0], r[1], ["apis:read", "apis:write", "orgs:admin"], root, {"org_id": "o2"}, null)
	}
	# Registering an API in another organization: only with orgs:admin.
	authz.not_found with input as call("POST", "/api/v1/apis", ["apis:write"], "o1", {"org_id": "o2"}, null)
	authz.allow with input as call("POST", "/api/v1/apis", ["apis:write", "orgs:admin"], root, {"org_id": "o2"}, null)
}

test_delegated_token_changes_no_api if {
	every r in apis_routes {
		inp := object.union(call(r[0], r[1], ["apis:read", "apis:write"], "o1", null, null), {"delegated": true})
		authz.allow == (r[0] == "GET") with input as inp
	}
}

# The organization routes, with the real route table.
org_route(method, path, scopes, org, target) := {"method": method, "path": path, "scopes": scopes,
	"agent_id": "a1", "org_id": org, "via": "bearer", "target": target}

test_org_routes_need_orgs_admin if {
	every r in [
		["POST", "/api/v1/orgs"], ["GET", "/api/v1/orgs"], ["GET", "/api/v1/orgs/{org_id}"],
		["PATCH", "/api/v1/orgs/{org_id}"], ["POST", "/api/v1/orgs/{org_id}/suspend"],
		["POST", "/api/v1/orgs/{org_id}/reactivate"],
	] {
		authz.allow with input as {"method": r[0], "path": r[1], "scopes": ["orgs:admin"], "org_id": root}
		authz.missing_scopes == {"orgs:admin"} with input as {"method": r[0], "path": r[1], "scopes": ["agents:write", "keys:admin"], "org_id": root}
	}
}

test_org_read_own_org_with_agents_read if {
	authz.allow with input as org_route("GET", "/api/v1/orgs/{org_id}", ["agents:read"], "o1", {"org_id": "o1"})
	authz.allow with input as {"method": "GET", "path": "/api/v1/orgs/{org_id}", "scopes": ["agents:read"], "org_id": "o1"}
	not authz.allow with input as org_route("GET", "/api/v1/orgs/{org_id}", ["agents:read"], "o1", {"org_id": "o2"})
	authz.not_found with input as org_route("GET", "/api/v1/orgs/{org_id}", ["agents:read"], "o1", {"org_id": "o2"})
	authz.allow with input as org_route("GET", "/api/v1/orgs/{org_id}", ["orgs:admin"], root, {"org_id": "o2"})
}

test_own_org_alternative_is_only_for_reading_an_org if {
	not authz.allow with input as org_route("PATCH", "/api/v1/orgs/{org_id}", ["agents:read", "agents:write"], "o1", {"org_id": "o1"})
	not authz.allow with input as org_route("POST", "/api/v1/orgs/{org_id}/suspend", ["agents:read", "agents:write"], "o1", {"org_id": "o1"})
	not authz.allow with input as {"method": "GET", "path": "/api/v1/orgs", "scopes": ["agents:read"], "org_id": "o1"}
}

# An org's first admin is asked about as a change: attenuation holds for whoever creates
# an org; the root-only scopes are refused outside root.
test_org_creation_attenuates_the_admins_scopes if {
	admin := ["agents:read", "agents:write", "credentials:read", "credentials:write", "audit:read"]
	authz.allow with input as call("POST", "/api/v1/orgs", ["orgs:admin", "agents:read", "agents:write", "credentials:read", "credentials:write", "audit:read"], root, {"org_id": "o9"}, {"allowed_scopes": admin, "plan": "unlimited"})
	authz.missing_scopes == {"credentials:read", "credentials:write", "audit:read"} with input as call("POST", "/api/v1/orgs", ["orgs:admin", "agents:read", "agents:write"], root, {"org_id": "o9"}, {"allowed_scopes": admin})
	count(authz.invalid) == 1 with input as call("POST", "/api/v1/orgs", ["orgs:admin", "keys:admin"], root, {"org_id": "o9"}, {"allowed_scopes": ["keys:admin"]})
}

test_root_suspension_is_a_conflict_with_the_real_table if {
	inp := org_route("POST", "/api/v1/orgs/{org_id}/suspend", ["orgs:admin"], root, {"org_id": root})
	not authz.allow with input as inp
	authz.conflict == {"the root organization cannot be suspended"} with input as inp
	count(authz.missing_scopes) == 0 with input as inp
	authz.allow with input as org_route("POST", "/api/v1/orgs/{org_id}/reactivate", ["orgs:admin"], root, {"org_id": root})
}

# Verifying the whole audit chain reads every organization's events: orgs:admin.
test_audit_verify_needs_orgs_admin if {
	authz.missing_scopes == {"orgs:admin"} with input as {"method": "GET", "path": "/api/v1/audit/verify", "scopes": ["audit:read"], "org_id": "o1"}
	authz.allow with input as {"method": "GET", "path": "/api/v1/audit/verify", "scopes": ["audit:read", "orgs:admin"], "org_id": root}
}

# The audit list over every organization is an orgs:admin's; another org's events are hidden.
audit_list(path, scopes, org, target_org) := {"method": "GET", "path": path, "scopes": scopes,
	"agent_id": "a1", "org_id": org, "via": "bearer", "target": {"org_id": target_org}}

test_audit_lists_are_per_org if {
	authz.not_found with input as audit_list("/api/v1/audit", ["audit:read"], "o1", "*")
	authz.not_found with input as audit_list("/api/v1/audit/export", ["audit:read"], "o1", "o2")
	authz.allow with input as audit_list("/api/v1/audit", ["audit:read"], "o1", "o1")
	authz.allow with input as audit_list("/api/v1/audit", ["audit:read", "orgs:admin"], root, "*")
	authz.allow with input as audit_list("/api/v1/audit/export", ["audit:read", "orgs:admin"], root, "o2")
}
