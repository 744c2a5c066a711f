package dashboard

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, target string, hdr map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func indexHTML(t *testing.T) string {
	t.Helper()
	b, err := fs.ReadFile(distFS, "dist/index.html")
	if err != nil {
		t.Fatalf("dist/index.html missing: %v (run npm run build in dashboard/)", err)
	}
	return string(b)
}

// someAsset returns the name of one built file under assets/ with the given extension.
func someAsset(t *testing.T, ext string) string {
	t.Helper()
	entries, err := fs.ReadDir(distFS, "dist/assets")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ext) {
			return e.Name()
		}
	}
	t.Fatalf("no %s asset in dist/assets", ext)
	return ""
}

func checkCSP(t *testing.T, res *http.Response) {
	t.Helper()
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "connect-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "script-src 'self' 'unsafe-inline'") {
		t.Errorf("CSP too loose: %q", csp)
	}
	if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q", got)
	}
}

func TestIndexServedWithNoCache(t *testing.T) {
	h := Handler()
	for _, p := range []string{"/dashboard/", "/dashboard/index.html"} {
		res := get(t, h, http.MethodGet, p, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", p, res.StatusCode)
		}
		if cc := res.Header.Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("%s: Cache-Control = %q, want no-cache", p, cc)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("%s: Content-Type = %q", p, ct)
		}
		if b := body(t, res); b != indexHTML(t) {
			t.Errorf("%s: body is not index.html", p)
		}
		checkCSP(t, res)
	}
}

func TestRedirectWithoutSlash(t *testing.T) {
	res := get(t, Handler(), http.MethodGet, "/dashboard?x=1", nil)
	if res.StatusCode != http.StatusMovedPermanently {
		t.Fatalf("status %d, want 301", res.StatusCode)
	}
	if loc := res.Header.Get("Location"); loc != "/dashboard/?x=1" {
		t.Errorf("Location = %q", loc)
	}
}

func TestSPAFallback(t *testing.T) {
	h := Handler()
	for _, p := range []string{"/dashboard/agents", "/dashboard/agents/0b7c6d1e-1111-4a2b-8c3d-123456789abc", "/dashboard/audit?agent_id=x", "/dashboard/no/such/page"} {
		res := get(t, h, http.MethodGet, p, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", p, res.StatusCode)
		}
		if cc := res.Header.Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("%s: Cache-Control = %q", p, cc)
		}
		if b := body(t, res); b != indexHTML(t) {
			t.Errorf("%s: not index.html", p)
		}
	}
}

func TestHashedAssetsImmutable(t *testing.T) {
	h := Handler()
	for ext, ctype := range map[string]string{".js": "text/javascript", ".css": "text/css"} {
		name := someAsset(t, ext)
		want, _ := fs.ReadFile(distFS, "dist/assets/"+name)
		res := get(t, h, http.MethodGet, "/dashboard/assets/"+name, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", name, res.StatusCode)
		}
		if cc := res.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control = %q", name, cc)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, ctype) {
			t.Errorf("%s: Content-Type = %q", name, ct)
		}
		if res.Header.Get("ETag") == "" {
			t.Errorf("%s: no ETag", name)
		}
		if b := body(t, res); b != string(want) {
			t.Errorf("%s: body differs from the embedded file", name)
		}
		checkCSP(t, res)
	}
}

func TestMissingAssetIs404(t *testing.T) {
	h := Handler()
	for _, p := range []string{"/dashboard/assets/nope-12345678.js", "/dashboard/assets/", "/dashboard/assets"} {
		res := get(t, h, http.MethodGet, p, nil)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", p, res.StatusCode)
		}
		if strings.Contains(body(t, res), "<div id=\"root\">") {
			t.Errorf("%s: served index.html for a missing asset", p)
		}
	}
}

func TestNonAssetFile(t *testing.T) {
	res := get(t, Handler(), http.MethodGet, "/dashboard/favicon.svg", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); ct != "image/svg+xml" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("Cache-Control = %q", cc)
	}
}

func TestGzipAndConditional(t *testing.T) {
	h := Handler()
	name := someAsset(t, ".js")
	want, _ := fs.ReadFile(distFS, "dist/assets/"+name)
	res := get(t, h, http.MethodGet, "/dashboard/assets/"+name, map[string]string{"Accept-Encoding": "br, gzip"})
	if res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("no gzip: %v", res.Header)
	}
	zr, err := gzip.NewReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(zr)
	if !bytes.Equal(got, want) {
		t.Error("gunzipped body differs")
	}
	if !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
		t.Error("no Vary: Accept-Encoding")
	}
	etag := res.Header.Get("ETag")
	res2 := get(t, h, http.MethodGet, "/dashboard/assets/"+name, map[string]string{"Accept-Encoding": "gzip", "If-None-Match": etag})
	if res2.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d, want 304", res2.StatusCode)
	}
	res3 := get(t, h, http.MethodGet, "/dashboard/assets/"+name, map[string]string{"Accept-Encoding": "gzip;q=0"})
	if res3.Header.Get("Content-Encoding") != "" {
		t.Error("gzip sent although q=0")
	}
}

func TestMethodsAndPrefix(t *testing.T) {
	h := Handler()
	res := get(t, h, http.MethodPost, "/dashboard/", nil)
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d, want 405", res.StatusCode)
	}
	res = get(t, h, http.MethodHead, "/dashboard/", nil)
	if res.StatusCode != http.StatusOK || body(t, res) != "" {
		t.Errorf("HEAD: status %d", res.StatusCode)
	}
	res = get(t, h, http.MethodGet, "/dashboardx", nil)
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("/dashboardx: status %d, want 404", res.StatusCode)
	}
	// Traversal stays inside dist.
	res = get(t, h, http.MethodGet, "/dashboard/../embed.go", nil)
	if res.StatusCode == http.StatusOK && strings.Contains(body(t, res), "package dashboard") {
		t.Error("path traversal served a source file")
	}
}

func TestIndexReferencesOnlyHashedAssets(t *testing.T) {
	idx := indexHTML(t)
	if strings.Contains(idx, "<script>") || strings.Contains(idx, "<script type=\"module\">") {
		t.Error("index.html has an inline script; the CSP forbids it")
	}
	if !strings.Contains(idx, `src="/dashboard/assets/`) {
		t.Error("index.html does not load its script from /dashboard/assets/")
	}
}
