package tokens

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestGrantedScope(t *testing.T) {
	allowed := []string{"agents:read", "usage:read"}
	for req, want := range map[string]string{
		"":                                  "agents:read usage:read",
		"  ":                                "agents:read usage:read",
		"usage:read":                        "usage:read",
		"usage:read agents:read usage:read": "usage:read agents:read",
		"usage:read  agents:read":           "usage:read agents:read",
	} {
		got, err := grantedScope(req, allowed)
		if err != nil || got != want {
			t.Errorf("%q: %q %v, want %q", req, got, err, want)
		}
	}
	for _, req := range []string{"keys:admin", "agents:read keys:admin", "agents:read\x7f", `a"b`, strings.Repeat("a", 200)} {
		if _, err := grantedScope(req, allowed); err == nil || oauthErrorOf(err).Code != "invalid_scope" {
			t.Errorf("%q: %v", req, err)
		}
	}
}

func TestReadClientCredentials(t *testing.T) {
	req := func(auth string, form url.Values) (*clientCredentials, error) {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		return readClientCredentials(r, form)
	}
	enc := func(id, secret string) string {
		return "Basic " + b64std(url.QueryEscape(id)+":"+url.QueryEscape(secret))
	}
	cc, err := req(enc("id:with colon", "sec+ret/=%"), url.Values{})
	if err != nil || cc.ID != "id:with colon" || cc.Secret != "sec+ret/=%" || cc.Method != "client_secret_basic" {
		t.Fatalf("basic with form-encoded parts: %+v %v", cc, err)
	}
	cc, err = req("", url.Values{"client_id": {"a"}, "client_secret": {"b"}})
	if err != nil || cc.Method != "client_secret_post" {
		t.Fatalf("post: %+v %v", cc, err)
	}
	if cc, err := req("", url.Values{}); cc != nil || err != nil {
		t.Fatalf("none: %+v %v", cc, err)
	}
	for name, tc := range map[string]struct {
		auth string
		form url.Values
		code string
	}{
		"both methods":       {enc("a", "b"), url.Values{"client_secret": {"b"}}, "invalid_request"},
		"client_id mismatch": {enc("a", "b"), url.Values{"client_id": {"c"}}, "invalid_request"},
		"repeated secret":    {"", url.Values{"client_id": {"a"}, "client_secret": {"b", "c"}}, "invalid_request"},
		"secret without id":  {"", url.Values{"client_secret": {"b"}}, "invalid_request"},
		"bad base64":         {"Basic ***", url.Values{}, "invalid_client"},
		"no colon":           {"Basic " + b64std("abc"), url.Values{}, "invalid_client"},
		"bad escape":         {"Basic " + b64std("%zz:b"), url.Values{}, "invalid_client"},
	} {
		_, err := req(tc.auth, tc.form)
		if err == nil || oauthErrorOf(err).Code != tc.code {
			t.Errorf("%s: %v, want %s", name, err, tc.code)
		}
	}
}

func b64std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
