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
