package tokens

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
)

// The token exchange's parameters, as a form body: readExchange never panics, and what it
// accepts holds its rules (a subject token, supported types, at most one audience).
func FuzzExchangeRequest(f *testing.F) {
	sub := "subject_token=eyJ.x.y&subject_token_type=" + url.QueryEscape(tokenTypeAccessJWT)
	for _, s := range []string{
		sub,
		sub + "&scope=a+b&resource=https%3A%2F%2Fapi.example",
		sub + "&audience=x&audience=x",
		sub + "&actor_token=t&actor_token_type=" + url.QueryEscape(tokenTypeAccessJWT),
		sub + "&actor_token_type=" + url.QueryEscape(tokenTypeAccessJWT),
		sub + "&requested_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Arefresh_token",
		"subject_token=a&subject_token=b&subject_token_type=" + url.QueryEscape(tokenTypeGenericJWT),
		"", "%zz", "subject_token_type=",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		v, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		x, err := readExchange(v)
		if err != nil {
			var oe *oauthError
			if !errors.As(err, &oe) || oe.Status != 400 || (oe.Code != "invalid_request" && oe.Code != "invalid_target") {
				t.Fatalf("%q: %v", body, err)
			}
			return
		}
		if x.SubjectToken == "" || len(v["subject_token"]) != 1 || len(v["resource"])+len(v["audience"]) > 1 {
			t.Fatalf("%q accepted: %+v", body, x)
		}
		if typ := v.Get("subject_token_type"); typ != tokenTypeAccessJWT && typ != tokenTypeGenericJWT {
			t.Fatalf("%q accepted with subject_token_type %q", body, typ)
		}
		if r := v.Get("requested_token_type"); r != "" && r != tokenTypeAccessJWT {
			t.Fatalf("%q accepted with requested_token_type %q", body, r)
		}
	})
}

// The act claim parser: never panics, accepts only nested {sub: UUID, act?} objects no
// deeper than maxActDepth, and what it accepts encodes back to an equal claim.
func FuzzActClaim(f *testing.F) {
	const a, b = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c"
	for _, s := range []string{
		`{"sub":"` + a + `"}`,
		`{"sub":"` + a + `","act":{"sub":"` + b + `"}}`,
		`{"sub":"` + a + `","act":null}`,
		`{"sub":"` + a + `","iss":"x"}`,
		`{"sub":"x"}`, `{}`, `[]`, `null`, `{"sub":1}`,
		strings.Repeat(`{"sub":"`+a+`","act":`, 20) + `{"sub":"` + b + `"}` + strings.Repeat(`}`, 20),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		act, err := parseAct(raw, maxActDepth)
		if err != nil {
			return
		}
		if act.depth() < 1 || act.depth() > maxActDepth {
			t.Fatalf("depth %d accepted", act.depth())
		}
		for _, id := range act.actors() {
			if !isUUID(id) {
				t.Fatalf("sub %q accepted", id)
			}
		}
		enc, err := json.Marshal(act)
		if err != nil {
			t.Fatal(err)
		}
		again, err := parseAct(enc, maxActDepth)
		if err != nil || strings.Join(again.actors(), ",") != strings.Join(act.actors(), ",") {
			t.Fatalf("round trip of %s: %s %v", raw, enc, err)
		}
	})
}
