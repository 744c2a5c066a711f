package apis

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/ident"
)

// Field limits (docs/api.md, APIs).
const (
	maxNameLen        = 128
	maxScopes         = 100
	maxScopeLen       = 64
	maxDescriptionLen = 256
	maxGrants         = 100
	// minTokenTTL is the shortest token lifetime an API may set: validators allow a minute
	// of clock skew, so a shorter one would not be shorter in practice.
	minTokenTTL = 60
)

// optional is a request field that remembers whether it was sent, so that PATCH leaves
// absent fields alone. JSON null counts as sent, with Null set.
type optional[T any] struct {
	Value T
	Set   bool
	Null  bool
}

// UnmarshalJSON implements json.Unmarshaler. A wrongly typed value yields the
// *json.UnmarshalTypeError of the inner decode, to which encoding/json adds the field name;
// an unknown member of a nested object (a scope's) is refused as at the top level.
func (o *optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		o.Null = true
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(&o.Value)
}

// apiFields are the writable fields of an API, as sent on create and PATCH.
type apiFields struct {
	OrgID       optional[string]  `json:"org_id"`     // on create only
	Identifier  optional[string]  `json:"identifier"` // on create only
	Name        optional[string]  `json:"name"`
	Scopes      optional[[]Scope] `json:"scopes"`
	TokenTTL    optional[int64]   `json:"token_ttl_seconds"` // null: the server's default
	RequireDPoP optional[bool]    `json:"require_dpop"`
}

// validator checks apiFields against the server's issuer and token lifetime.
type validator struct {
	issuerOrigin string // scheme://host[:port] of the issuer, normalised
	maxTTL       int64  // AGENTIDP_TOKEN_TTL in seconds
}

func newValidator(issuer string, tokenTTL time.Duration) *validator {
	v := &validator{maxTTL: int64(tokenTTL / time.Second)}
	if n, msg := normalize(issuer); msg == "" {
		v.issuerOrigin = origin(n)
	} else {
		v.issuerOrigin = origin(strings.ToLower(strings.TrimRight(issuer, "/")))
	}
	return v
}

// check validates in and returns it normalised (identifier normalised, name trimmed, org
// id in lower case), or a validation_failed error listing every bad field. On create,
// identifier and name are required; on update, org_id and identifier are refused.
func (v *validator) check(in apiFields, creating bool) (apiFields, error) {
	var f apperr.Fields
	out := in
	if creating {
		if !in.Identifier.Set {
			f.Add("identifier", "is required")
		}
		if !in.Name.Set {
			f.Add("name", "is required")
		}
	}
	if in.OrgID.Set {
		id, ok := ident.Canonical(in.OrgID.Value)
		switch {
		case !creating:
			f.Add("org_id", "is fixed at creation")
		case in.OrgID.Null || !ok:
			f.Add("org_id", "must be an organization id (a UUID)")
		}
		out.OrgID.Value = id
	}
	if in.Identifier.Set {
		switch {
		case !creating:
			f.Add("identifier", "is fixed at creation (register a new API for another identifier)")
		case in.Identifier.Null:
			f.Add("identifier", "must not be null")
		default:
			n, msg := normalize(in.Identifier.Value)
			switch {
			case msg != "":
				f.Add("identifier", "%s", msg)
			case origin(n) == v.issuerOrigin:
				f.Add("identifier", "must not be the issuer or any other URI of the server's own origin (%s): the server's own API is built in", v.issuerOrigin)
			}
			out.Identifier.Value = n
		}
	}
	if in.Name.Set {
		out.Name.Value = strings.TrimSpace(in.Name.Value)
		switch n := utf8.RuneCountInString(out.Name.Value); {
		case in.Name.Null:
			f.Add("name", "must not be null")
		case !utf8.ValidString(out.Name.Value):
			f.Add("name", "must be valid UTF-8")
		case n == 0:
			f.Add("name", "must not be empty")
		case n > maxNameLen:
			f.Add("name", "must be at most %d characters", maxNameLen)
		case hasControl(out.Name.Value):
			f.Add("name", "must not contain control characters")
		}
	}
	if in.Scopes.Set {
		if in.Scopes.Null {
			f.Add("scopes", "must not be null (send [] for none)")
		} else {
			checkScopes(&f, in.Scopes.Value)
			out.Scopes.Value = nonNilScopes(in.Scopes.Value)
		}
	}
	if in.TokenTTL.Set && !in.TokenTTL.Null {
		if s := in.TokenTTL.Value; s < minTokenTTL || s > v.maxTTL {
			f.Add("token_ttl_seconds", "must be from %d to %d (AGENTIDP_TOKEN_TTL), or null for the server's default", minTokenTTL, v.maxTTL)
		}
	}
	if in.RequireDPoP.Set && in.RequireDPoP.Null {
		f.Add("require_dpop", "must be true or false")
	}
	return out, f.Err()
}

// checkScopes validates an API's scopes: at most maxScopes, each value a scope value, no
// value twice, descriptions short single-line text.
func checkScopes(f *apperr.Fields, scopes []Scope) {
	if len(scopes) > maxScopes {
		f.Add("scopes", "must hold at most %d scopes", maxScopes)
		return
	}
	seen := make(map[string]bool, len(scopes))
	for i, s := range scopes {
		field := "scopes[" + strconv.Itoa(i) + "]"
		if msg := scopeValueProblem(s.Value); msg != "" {
			f.Add(field+".value", "%s", msg)
		} else if seen[s.Value] {
			f.Add(field+".value", "duplicate scope %q", s.Value)
		}
		seen[s.Value] = true
		switch {
		case !utf8.ValidString(s.Description) || utf8.RuneCountInString(s.Description) > maxDescriptionLen:
			f.Add(field+".description", "must be text of at most %d characters", maxDescriptionLen)
		case hasControl(s.Description):
			f.Add(field+".description", "must not contain control characters")
		}
	}
}

// scopeValueProblem says what is wrong with a scope value, or "" when it is 1–64
// characters of a-z 0-9 : . _ - /.
func scopeValueProblem(s string) string {
	const msg = "must be 1 to 64 characters of a-z 0-9 : . _ - /"
	if s == "" || len(s) > maxScopeLen {
		return msg
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && !strings.ContainsRune(":._-/", rune(c)) {
			return msg
		}
	}
	return ""
}

// checkGrants validates the form of a grants list (the part that needs no store): at most
// maxGrants, each audience an identifier (normalised in the result) given once, each scope
// a scope value given once. Fields are named grants[i].audience and grants[i].scopes[j].
func checkGrants(grants []Grant) ([]Grant, apperr.Fields) {
	var f apperr.Fields
	if len(grants) > maxGrants {
		f.Add("grants", "must hold at most %d grants", maxGrants)
		return nil, f
	}
	out := make([]Grant, 0, len(grants))
	seen := make(map[string]bool, len(grants))
	for i, g := range grants {
		field := "grants[" + strconv.Itoa(i) + "]"
		aud, msg := normalize(g.Audience)
		switch {
		case msg != "":
			f.Add(field+".audience", "%s", msg)
		case seen[aud]:
			f.Add(field+".audience", "duplicate audience (give one grant per API)")
		}
		seen[aud] = true
		if len(g.Scopes) > maxScopes {
			f.Add(field+".scopes", "must hold at most %d scopes", maxScopes)
			continue
		}
		scopes := make([]string, 0, len(g.Scopes))
		dup := make(map[string]bool, len(g.Scopes))
		for j, s := range g.Scopes {
			sf := field + ".scopes[" + strconv.Itoa(j) + "]"
			if msg := scopeValueProblem(s); msg != "" {
				f.Add(sf, "%s", clip(s, 64)+": "+msg)
				continue
			}
			if dup[s] {
				f.Add(sf, "duplicate scope %q", s)
				continue
			}
			dup[s] = true
			scopes = append(scopes, s)
		}
		out = append(out, Grant{Audience: aud, Scopes: scopes})
	}
	return out, f
}

// hasControl reports control characters (NUL included).
func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}

// clip shortens s for an error message, quoted.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) > n {
		s = string([]rune(s)[:n]) + "…"
	}
	return strconv.Quote(s)
}
