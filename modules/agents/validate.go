package agents

import (
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/agentidp/agentidp/modules/apis"
	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/ident"
)

// Field limits (docs/api.md, Agents).
const (
	maxNameLen        = 128
	maxDescriptionLen = 1024
	maxOwnerLen       = 256
	maxAudiences      = 20
	maxAudienceLen    = 512
	maxMetadataBytes  = 8 << 10
)

var mapType = reflect.TypeOf(map[string]any(nil))

// agentFields are the writable fields of an agent, as sent on create and PATCH.
type agentFields struct {
	OrgID            optional[string]     `json:"org_id"` // on create only
	Name             optional[string]     `json:"name"`
	Description      optional[string]     `json:"description"`
	Owner            optional[string]     `json:"owner"`
	AllowedScopes    optional[[]string]   `json:"allowed_scopes"`
	AllowedAudiences optional[[]string]   `json:"allowed_audiences"`
	Plan             optional[Plan]       `json:"plan"`
	Metadata         optional[jsonObject] `json:"metadata"`
	RequireDPoP      optional[bool]       `json:"require_dpop"`
	// Grants are checked by apis.Grants.SetInTx, in the create's or update's transaction.
	Grants optional[[]apis.Grant] `json:"grants"`
}

// validator checks agentFields against the known scopes and the issuer.
type validator struct {
	known  map[string]bool
	issuer string // without a trailing slash
}

func newValidator(knownScopes []string, issuer string) *validator {
	known := make(map[string]bool, len(knownScopes))
	for _, s := range knownScopes {
		known[s] = true
	}
	return &validator{known: known, issuer: strings.TrimRight(issuer, "/")}
}

// check validates in and returns it normalised (names trimmed, the issuer dropped from the
// audiences), or a validation_failed error listing every bad field. On create, name is
// required.
func (v *validator) check(in agentFields, creating bool) (agentFields, error) {
	var f apperr.Fields
	out := in
	if creating && !in.Name.Set {
		f.Add("name", "is required")
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
	if in.Name.Set {
		out.Name.Value = strings.TrimSpace(in.Name.Value)
		switch n := utf8.RuneCountInString(out.Name.Value); {
		case in.Name.Null:
			f.Add("name", "must not be null")
		case n == 0:
			f.Add("name", "must not be empty")
		case n > maxNameLen:
			f.Add("name", "must be at most %d characters", maxNameLen)
		case hasControl(out.Name.Value, false):
			f.Add("name", "must not contain control characters")
		}
	}
	if in.Description.Set {
		switch {
		case in.Description.Null:
			f.Add("description", `must not be null (send "" to clear it)`)
		case utf8.RuneCountInString(in.Description.Value) > maxDescriptionLen:
			f.Add("description", "must be at most %d characters", maxDescriptionLen)
		case hasControl(in.Description.Value, true):
			f.Add("description", "must not contain control characters other than tab and line breaks")
		}
	}
	if in.Owner.Set {
		out.Owner.Value = strings.TrimSpace(in.Owner.Value)
		switch {
		case in.Owner.Null:
			f.Add("owner", `must not be null (send "" to clear it)`)
		case utf8.RuneCountInString(out.Owner.Value) > maxOwnerLen:
			f.Add("owner", "must be at most %d characters", maxOwnerLen)
		case hasControl(out.Owner.Value, false):
			f.Add("owner", "must not contain control characters")
		}
	}
	if in.AllowedScopes.Set {
		if in.AllowedScopes.Null {
			f.Add("allowed_scopes", "must not be null (send [] to clear it)")
		} else {
			v.checkScopes(&f, in.AllowedScopes.Value)
			out.AllowedScopes.Value = nonNilSlice(in.AllowedScopes.Value)
		}
	}
	if in.AllowedAudiences.Set {
		if in.AllowedAudiences.Null {
			f.Add("allowed_audiences", "must not be null (send [] to clear it)")
		} else {
			out.AllowedAudiences.Value = v.checkAudiences(&f, in.AllowedAudiences.Value)
		}
	}
	if in.Plan.Set {
		if in.Plan.Null || (in.Plan.Value != PlanFree && in.Plan.Value != PlanUnlimited) {
			f.Add("plan", `must be "free" or "unlimited"`)
		}
	}
	if in.RequireDPoP.Set && in.RequireDPoP.Null {
		f.Add("require_dpop", "must be true or false")
	}
	if in.Grants.Set && in.Grants.Null {
		f.Add("grants", "must not be null (send [] to clear it)")
	}
	if in.Metadata.Set {
		if in.Metadata.Null {
			f.Add("metadata", "must not be null (send {} to clear it)")
		} else {
			checkMetadata(&f, in.Metadata.Value)
			if out.Metadata.Value == nil {
				out.Metadata.Value = jsonObject{}
			}
		}
	}
	return out, f.Err()
}

func (v *validator) checkScopes(f *apperr.Fields, scopes []string) {
	seen := make(map[string]bool, len(scopes))
	for i, s := range scopes {
		field := "allowed_scopes[" + itoa(i) + "]"
		switch {
		case !v.known[s]:
			f.Add(field, "unknown scope %q", clip(s, 64))
		case seen[s]:
			f.Add(field, "duplicate scope %q", s)
		}
		seen[s] = true
	}
}

// checkAudiences validates each audience and returns the list without the issuer, which
// is always allowed and never stored.
func (v *validator) checkAudiences(f *apperr.Fields, auds []string) []string {
	out := make([]string, 0, len(auds))
	seen := make(map[string]bool, len(auds))
	for i, a := range auds {
		field := "allowed_audiences[" + itoa(i) + "]"
		if msg := audienceProblem(a); msg != "" {
			f.Add(field, "%s", msg)
			continue
		}
		if seen[a] {
			f.Add(field, "duplicate audience")
			continue
		}
		seen[a] = true
		if strings.TrimRight(a, "/") == v.issuer {
			continue
		}
		out = append(out, a)
	}
	if len(out) > maxAudiences {
		f.Add("allowed_audiences", "must hold at most %d audiences besides the issuer", maxAudiences)
	}
	return out
}

// audienceProblem says what is wrong with an audience URI, or "" when it is an absolute
// http(s) URI with a host, without user info or fragment.
func audienceProblem(a string) string {
	if a == "" || len(a) > maxAudienceLen {
		return "must be an absolute http(s) URI of at most " + itoa(maxAudienceLen) + " characters"
	}
	if hasControl(a, false) || strings.ContainsAny(a, " \\") {
		return "must not contain spaces, backslashes or control characters"
	}
	u, err := url.Parse(a)
	switch {
	case err != nil || !u.IsAbs() || u.Opaque != "":
		return "must be an absolute URI"
	case u.Scheme != "http" && u.Scheme != "https":
		return "must use http or https"
	case u.Host == "" || u.Hostname() == "":
		return "must name a host"
	case u.User != nil:
		return "must not contain user information"
	case strings.Contains(a, "#"):
		return "must not contain a fragment"
	}
	return ""
}

func checkMetadata(f *apperr.Fields, m jsonObject) {
	if hasNUL(map[string]any(m)) {
		f.Add("metadata", "must not contain the NUL character")
		return
	}
	b, err := marshalMetadata(m)
	if err != nil {
		f.Add("metadata", "must be a JSON object")
		return
	}
	if len(b) > maxMetadataBytes {
		f.Add("metadata", "must be at most %d bytes serialised (is %d)", maxMetadataBytes, len(b))
	}
}

// hasNUL reports a NUL character in any key or string of v (PostgreSQL's jsonb refuses it).
func hasNUL(v any) bool {
	switch t := v.(type) {
	case string:
		return strings.IndexByte(t, 0) >= 0
	case map[string]any:
		for k, e := range t {
			if strings.IndexByte(k, 0) >= 0 || hasNUL(e) {
				return true
			}
		}
	case []any:
		for _, e := range t {
			if hasNUL(e) {
				return true
			}
		}
	}
	return false
}

// hasControl reports control characters (NUL included); multiline allows tab, CR and LF.
func hasControl(s string, multiline bool) bool {
	for _, r := range s {
		if multiline && (r == '\t' || r == '\n' || r == '\r') {
			continue
		}
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}

// clip shortens s for an error message.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

func itoa(i int) string { return strconv.Itoa(i) }
