package resource

import (
	"net/http"
	"testing"
)

func TestParseAuthorization(t *testing.T) {
	for _, c := range []struct {
		authz  []string
		proofs []string
		scheme string
		token  string
		code   string
	}{
		{nil, nil, "", "", ""},
		{[]string{"Bearer abc.def-_~+/="}, nil, schemeBearer, "abc.def-_~+/=", ""},
		{[]string{"bearer  abc "}, nil, schemeBearer, "abc", ""},
		{[]string{"DPoP abc"}, []string{"p"}, schemeDPoP, "abc", ""},
		{[]string{"dpop abc"}, nil, schemeDPoP, "abc", ""},
		{[]string{"Basic YTpi"}, nil, "", "", ""},
		{[]string{"Bearer"}, nil, schemeBearer, "", codeInvalidRequest},
		{[]string{"Bearer a b"}, nil, schemeBearer, "", codeInvalidRequest},
		{[]string{"Bearer a\"b"}, nil, schemeBearer, "", codeInvalidRequest},
		{[]string{"Bearer ==="}, nil, schemeBearer, "", codeInvalidRequest},
		{[]string{"Bearer a", "Bearer b"}, nil, "", "", codeInvalidRequest},
		{[]string{"DPoP a"}, []string{"p", "q"}, "", "", codeInvalidProof},
	} {
		h := http.Header{}
		for _, a := range c.authz {
			h.Add("Authorization", a)
		}
		for _, p := range c.proofs {
			h.Add("DPoP", p)
		}
		cred, err := parseAuthorization(h)
		code := ""
		if err != nil {
			code = err.code
		}
		if code != c.code || (err == nil && (cred.scheme != c.scheme || cred.token != c.token)) {
			t.Errorf("%q %q: %+v %v", c.authz, c.proofs, cred, err)
		}
	}
}

// FuzzParseAuthorization: any header values parse without panic, and a token handed on is
// a token68 under a known scheme.
func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{"Bearer abc", "DPoP a.b.c", "bearer", "Bearer  ", "Basic x", "Bearer a b", "Bearer ===", "\x00 \xff", ""} {
		f.Add(s, "proof")
	}
	f.Fuzz(func(t *testing.T, authz, proof string) {
		h := http.Header{"Authorization": {authz}, "Dpop": {proof}}
		cred, err := parseAuthorization(h)
		if err != nil {
			return
		}
		if cred.scheme != "" && !isToken68(cred.token) {
			t.Fatalf("token %q handed on", cred.token)
		}
		if cred.scheme == "" && cred.token != "" {
			t.Fatal("a token without a scheme")
		}
	})
}
