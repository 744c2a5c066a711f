package agents

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/httpserver"
)

var testScopes = []string{"agents:read", "agents:write", "usage:read"}

func badFields(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Code != "validation_failed" {
		t.Fatalf("not a validation error: %v", err)
	}
	var out []string
	for _, f := range ae.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestValidatorFields(t *testing.T) {
	v := newValidator(testScopes, "https://idp.example.com/")
	cases := []struct {
		name string
		in   agentFields
		bad  []string
	}{
		{"name only", agentFields{Name: some("a")}, nil},
		{"name 128 runes", agentFields{Name: some(strings.Repeat("é", 128))}, nil},
		{"name 129 runes", agentFields{Name: some(strings.Repeat("é", 129))}, []string{"name"}},
		{"name tab", agentFields{Name: some("a\tb")}, []string{"name"}},
		{"description newline", agentFields{Name: some("a"), Description: some("x\ny\r\n\tz")}, nil},
		{"description bell", agentFields{Name: some("a"), Description: some("x\x07")}, []string{"description"}},
		{"owner 256", agentFields{Name: some("a"), Owner: some(strings.Repeat("o", 256))}, nil},
		{"scopes", agentFields{Name: some("a"), AllowedScopes: some([]string{"usage:read", "", "usage:read"})},
			[]string{"allowed_scopes[1]", "allowed_scopes[2]"}},
		{"audiences", agentFields{Name: some("a"), AllowedAudiences: some([]string{
			"https://ok.example:8443/x?y=1", "http://[::1]:80", "https://", "mailto:a@b.example", "https://a b.example",
			"HTTPS://upper.example", "https://x.example#", "javascript:alert(1)", "https://" + strings.Repeat("a", 600) + ".example",
		})}, []string{"allowed_audiences[2]", "allowed_audiences[3]", "allowed_audiences[4]", "allowed_audiences[6]",
			"allowed_audiences[7]", "allowed_audiences[8]"}},
		{"plan", agentFields{Name: some("a"), Plan: some(Plan("FREE"))}, []string{"plan"}},
		{"metadata 8 KiB", agentFields{Name: some("a"), Metadata: some(jsonObject{"k": strings.Repeat("x", 8192-8)})}, nil},
		{"metadata over 8 KiB", agentFields{Name: some("a"), Metadata: some(jsonObject{"k": strings.Repeat("x", 8192-7)})}, []string{"metadata"}},
		{"metadata NUL key", agentFields{Name: some("a"), Metadata: some(jsonObject{"a\x00": 1.0})}, []string{"metadata"}},
		{"metadata nested NUL", agentFields{Name: some("a"), Metadata: some(jsonObject{"a": []any{map[string]any{"b": "\x00"}}})}, []string{"metadata"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := v.check(c.in, true)
			if got := badFields(t, err); !slices.Equal(got, c.bad) {
				t.Errorf("bad fields %v, want %v (%v)", got, c.bad, err)
			}
		})
	}
}

func TestValidatorNormalises(t *testing.T) {
	v := newValidator(testScopes, "https://idp.example.com")
	out, err := v.check(agentFields{
		Name:             some("  spaced  "),
		Owner:            some(" team "),
		AllowedAudiences: some([]string{"https://idp.example.com/", "https://rs.example", "https://idp.example.com"}),
		Metadata:         optional[jsonObject]{Set: true},
	}, true)
	if err != nil {
		t.Fatal(err)
	}
	if out.Name.Value != "spaced" || out.Owner.Value != "team" {
		t.Errorf("not trimmed: %q %q", out.Name.Value, out.Owner.Value)
	}
	if !slices.Equal(out.AllowedAudiences.Value, []string{"https://rs.example"}) {
		t.Errorf("issuer kept: %v", out.AllowedAudiences.Value)
	}
	if out.Metadata.Value == nil {
		t.Error("metadata not defaulted to {}")
	}
	// On update nothing is required; null is refused everywhere.
	if _, err := v.check(agentFields{}, false); err != nil {
		t.Errorf("empty patch: %v", err)
	}
	all := agentFields{Name: optional[string]{Set: true, Null: true}, Description: optional[string]{Set: true, Null: true},
		Owner: optional[string]{Set: true, Null: true}, AllowedScopes: optional[[]string]{Set: true, Null: true},
		AllowedAudiences: optional[[]string]{Set: true, Null: true}, Plan: optional[Plan]{Set: true, Null: true},
		Metadata: optional[jsonObject]{Set: true, Null: true}}
	_, err = v.check(all, false)
	if got := badFields(t, err); len(got) != 7 {
		t.Errorf("nulls: %v", got)
	}
	// Twenty audiences besides the issuer at most.
	auds := append(manyAudiences(20), "https://idp.example.com")
	if _, err := v.check(agentFields{AllowedAudiences: some(auds)}, false); err != nil {
		t.Errorf("20 + issuer: %v", err)
	}
	if _, err := v.check(agentFields{AllowedAudiences: some(manyAudiences(21))}, false); err == nil {
		t.Error("21 audiences accepted")
	}
}

// The request body decodes through the platform's DecodeJSON: absent, null and wrongly
// typed fields are told apart, and numbers in metadata keep their digits.
func TestDecodeAgentFields(t *testing.T) {
	decode := func(body string) (agentFields, error) {
		r := httptest.NewRequest(http.MethodPatch, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		var in agentFields
		err := httpserver.DecodeJSON(r, &in)
		return in, err
	}
	in, err := decode(`{"name": "x", "owner": null, "metadata": {"n": 12345678901234567890, "f": 1.50}}`)
	if err != nil {
		t.Fatal(err)
	}
	if !in.Name.Set || in.Name.Value != "x" || !in.Owner.Set || !in.Owner.Null || in.Description.Set || in.Plan.Set {
		t.Errorf("decoded %+v", in)
	}
	b, _ := json.Marshal(map[string]any(in.Metadata.Value))
	if string(b) != `{"f":1.50,"n":12345678901234567890}` {
		t.Errorf("metadata re-encoded as %s", b)
	}
	for body, field := range map[string]string{
		`{"name": 1}`:               "name",
		`{"allowed_scopes": [1]}`:   "allowed_scopes",
		`{"metadata": [1]}`:         "metadata",
		`{"metadata": "s"}`:         "metadata",
		`{"plan": true}`:            "plan",
		`{"allowed_audiences": {}}`: "allowed_audiences",
		`{"name": "x", "extra": 1}`: "extra",
	} {
		_, err := decode(body)
		if got := badFields(t, err); !slices.Contains(got, field) {
			t.Errorf("%s: %v, want field %s named", body, err, field)
		}
	}
}

func TestApplyReportsChangedFields(t *testing.T) {
	a := &Agent{Name: "n", Plan: PlanFree, AllowedScopes: []string{"a"}, AllowedAudiences: []string{}, Metadata: map[string]any{"k": json.Number("1")}}
	got := apply(a, agentFields{Name: some("n"), Plan: some(PlanUnlimited), AllowedScopes: some([]string{"a"}),
		Metadata: some(jsonObject{"k": json.Number("1")}), Owner: some("o")})
	if !slices.Equal(got, []string{"owner", "plan"}) || a.Owner != "o" || a.Plan != PlanUnlimited {
		t.Errorf("changed %v, agent %+v", got, a)
	}
	if got := apply(a, agentFields{Metadata: some(jsonObject{"k": json.Number("2")})}); !slices.Equal(got, []string{"metadata"}) {
		t.Errorf("metadata change: %v", got)
	}
}
