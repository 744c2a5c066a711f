package client_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
)

// fakeIdP is a token endpoint that records each request and answers with answer(i, r):
// status, JSON body, headers.
type fakeIdP struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request
	forms    []url.Values
	answer   func(i int, r *http.Request, form url.Values) (int, any, http.Header)
}

func newFakeIdP(t *testing.T, answer func(i int, r *http.Request, form url.Values) (int, any, http.Header)) *fakeIdP {
	f := &fakeIdP{answer: answer}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": f.URL, "token_endpoint": f.URL + "/api/v1/token",
			"jwks_uri": f.URL + "/.well-known/jwks.json"})
	})
	mux.HandleFunc("POST /api/v1/token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		f.mu.Lock()
		i := len(f.requests)
		f.requests = append(f.requests, r)
		f.forms = append(f.forms, r.PostForm)
		f.mu.Unlock()
		status, body, h := f.answer(i, r, r.PostForm)
		for k, v := range h {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeIdP) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

func (f *fakeIdP) form(i int) url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.forms[i]
}

func (f *fakeIdP) request(i int) *http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[i]
}

func bearer(tok string, ttl int) (int, any, http.Header) {
	return 200, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": ttl, "scope": "a"}, nil
}
