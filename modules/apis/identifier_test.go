package apis

import (
	"testing"

	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/policy"
)

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"https://api.example.com":                 "https://api.example.com",
		"https://api.example.com/":                "https://api.example.com",
		"HTTPS://API.Example.COM:443/":            "https://api.example.com",
		"https://api.example.com:8443/v1/":        "https://api.example.com:8443/v1/",
		"https://api.example.com:08443/v1":        "https://api.example.com:8443/v1",
		"https://api.example.com:/v1":             "https://api.example.com/v1",
		"https://api.example.com/a/./b/../c":      "https://api.example.com/a/c",
		"https://api.example.com/a/%2e%2E/b":      "https://api.example.com/b",
		"https://api.example.com/%7euser/%c3%a9":  "https://api.example.com/~user/%C3%A9",
		"https://api.example.com/a%20b":           "https://api.example.com/a%20b",
		"https://api.example.com/..":              "https://api.example.com",
		"http://localhost:8080/api":               "http://localhost:8080/api",
		"http://LOCALHOST":                        "http://localhost",
		"http://127.0.0.1:80/":                    "http://127.0.0.1",
		"http://127.9.9.9:9":                      "http://127.9.9.9:9",
		"http://[::1]:9000":                       "http://[::1]:9000",
		"http://[0:0:0:0:0:0:0:1]":                "http://[::1]",
		"https://[2001:DB8::1]:443":               "https://[2001:db8::1]",
		"https://10.0.0.1":                        "https://10.0.0.1",
		"http://tools.localhost/x":                "http://tools.localhost/x",
		"https://xn--bcher-kva.example/":          "https://xn--bcher-kva.example",
		"https://api.example.com/v1;matrix=1,2":   "https://api.example.com/v1;matrix=1,2",
		"https://api.example.com/a//b":            "https://api.example.com/a//b",
		"https://api-1.example.com/v1/orders/{x}": "https://api-1.example.com/v1/orders/%7Bx%7D",
	} {
		got, msg := normalize(in)
		if msg != "" || got != want {
			t.Errorf("%q: %q (%s), want %q", in, got, msg, want)
			continue
		}
		if again, msg := normalize(got); again != got || msg != "" {
			t.Errorf("%q: normalising %q again gives %q (%s)", in, got, again, msg)
		}
	}
	for _, in := range []string{
		"", "api.example.com", "//api.example.com", "/v1", "https:api", "https://", "https:///x",
		"http://api.example.com", "http://10.0.0.1", "http://[fe80::1%25eth0]", "ftp://x.example", "urn:x:y",
		"https://api.example.com/#", "https://api.example.com/#x", "https://api.example.com?", "https://api.example.com/?a=b",
		"https://u@api.example.com", "https://u:p@api.example.com", "https://api example.com", "https://api.example.com/a b",
		"https://bücher.example", "https://api.example.com/\x00", "https://api.example.com\\evil", "https://-x.example",
		"https://x..example", "https://x_y.example", "https://api.example.com:0", "https://api.example.com:65536",
		"https://api.example.com:99999", "https://api.example.com:x", "https://api.example.com/a%2Fb", "https://[::1%25x]",
		"https://api.example.com/" + string(make([]byte, 600)),
	} {
		if got, msg := normalize(in); msg == "" {
			t.Errorf("%q accepted as %q", in, got)
		}
	}
}

func TestOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"https://a.example":          "https://a.example",
		"https://a.example:8443/x/y": "https://a.example:8443",
		"http://localhost:8080/orgs": "http://localhost:8080",
	} {
		if got := origin(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
	v := newValidator("http://LOCALHOST:8080/", 0)
	if v.issuerOrigin != "http://localhost:8080" {
		t.Fatalf("issuer origin %q", v.issuerOrigin)
	}
}

func TestBuiltinScopesAreDescribed(t *testing.T) {
	e, err := policy.New(zap.NewNop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range builtin("https://idp.example", e.KnownScopes()).Scopes {
		if s.Description == "" {
			t.Errorf("the known scope %s has no description in scopeDescriptions", s.Value)
		}
		if msg := scopeValueProblem(s.Value); msg != "" {
			t.Errorf("the known scope %s is not a scope value: %s", s.Value, msg)
		}
	}
}
