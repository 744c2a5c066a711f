package apis

// scopeDescriptions describe the scopes of the server's own API (docs/api.md, "Scopes and
// authorization"). A known scope missing here is listed with an empty description
// (TestBuiltinScopesAreDescribed keeps the table complete).
var scopeDescriptions = map[string]string{
	"agents:read":       "read agents",
	"agents:write":      "create, change, suspend, reactivate and decommission agents",
	"credentials:read":  "list agents' credentials (never their secrets)",
	"credentials:write": "issue, rotate and revoke credentials",
	"tokens:introspect": "introspect tokens",
	"tokens:revoke":     "revoke any token",
	"audit:read":        "read, export and verify the audit log",
	"usage:read":        "read usage figures",
	"keys:admin":        "list and rotate signing keys",
	"orgs:admin":        "act on every organization: create, change, suspend and reactivate them",
	"apis:read":         "read APIs and their resource metadata",
	"apis:write":        "register, change and delete APIs, and grant their scopes to agents",
}

// builtinName is the name of the server's own API.
const builtinName = "AgentIdP management API"

// builtin is the server's own API: identifier the issuer, the known scopes, the server's
// token lifetime, no DPoP requirement. It belongs to no organization (every organization's
// agents get tokens for it), so OrgID is empty.
func builtin(issuer string, known []string) *API {
	scopes := make([]Scope, len(known))
	for i, s := range known {
		scopes[i] = Scope{Value: s, Description: scopeDescriptions[s]}
	}
	return &API{ID: BuiltinID, Identifier: issuer, Name: builtinName, Scopes: scopes}
}
