// Package dashboard serves the web console (a React single-page app built by
// Vite into dist/) under the /dashboard/ prefix. dist/ is committed, so
// building the Go binary never needs Node.
package dashboard

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

//go:embed all:dist
var distFS embed.FS

// Prefix is the URL path the console is served under.
const Prefix = "/dashboard/"

// ContentSecurityPolicy allows only what the built app needs: its own scripts,
// styles (Mantine sets inline styles and injects a <style> element for its CSS
// variables), images and API calls to this origin. The build has no fonts,
// data: URIs, eval or workers.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self'; font-src 'self'; connect-src 'self'; manifest-src 'self'; object-src 'none'; " +
	"base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

const (
	cacheImmutable = "public, max-age=31536000, immutable"
	cacheNoCache   = "no-cache"
)

type file struct {
	name    string
	data    []byte
	gz      []byte // gzip of data when worth it, else nil
	etag    string
	ctype   string
	isIndex bool
}

var (
	loadOnce sync.Once
	files    map[string]*file // keyed by path relative to dist, e.g. "assets/index-abc.js"
	loadErr  error
)

// compressible reports whether a file of this extension is worth gzipping.
func compressible(name string) bool {
	switch path.Ext(name) {
	case ".js", ".mjs", ".css", ".html", ".svg", ".json", ".txt", ".map", ".webmanifest":
		return true
	}
	return false
}

var contentTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".svg":         "image/svg+xml",
	".json":        "application/json",
	".webmanifest": "application/manifest+json",
	".png":         "image/png",
	".ico":         "image/x-icon",
	".woff2":       "font/woff2",
	".txt":         "text/plain; charset=utf-8",
}

func load() {
	files = map[string]*file{}
	loadErr = fs.WalkDir(distFS, "dist", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := distFS.ReadFile(p)
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(p, "dist/")
		sum := sha256.Sum256(data)
		f := &file{
			name:    rel,
			data:    data,
			etag:    `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`,
			ctype:   contentTypes[path.Ext(rel)],
			isIndex: rel == "index.html",
		}
		if f.ctype == "" {
			f.ctype = "application/octet-stream"
		}
		if compressible(rel) && len(data) > 1024 {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			_, _ = zw.Write(data)
			_ = zw.Close()
			if buf.Len() < len(data) {
				f.gz = buf.Bytes()
			}
		}
		files[rel] = f
		return nil
	})
}

// Handler serves the console for every path under /dashboard. Mount it on the
// router with the prefix kept, e.g. r.PathPrefix("/dashboard").Handler(Handler())
// (no http.StripPrefix): it reads the full request path. Files come from the embedded dist/; other
// paths under /dashboard/ that are not under assets/ get index.html so the
// client-side router can handle them; a missing file under assets/ is a 404.
func Handler() http.Handler {
	loadOnce.Do(load)
	return http.HandlerFunc(serve)
}

func setSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
}

func serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	setSecurityHeaders(h)
	if loadErr != nil || files["index.html"] == nil {
		http.Error(w, "dashboard not built", http.StatusInternalServerError)
		return
	}

	p := r.URL.Path
	if p == "/dashboard" {
		target := Prefix
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusMovedPermanently)
		return
	}
	if !strings.HasPrefix(p, Prefix) {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}

	rel := strings.TrimPrefix(path.Clean("/"+strings.TrimPrefix(p, Prefix)), "/")
	f := files[rel]
	switch {
	case rel == "" || rel == "index.html":
		f = files["index.html"]
	case rel == "assets" || strings.HasPrefix(rel, "assets/"):
		if f == nil {
			http.NotFound(w, r)
			return
		}
	case f == nil:
		// A client-side route (React Router, basename /dashboard).
		f = files["index.html"]
	}

	switch {
	case strings.HasPrefix(f.name, "assets/"):
		h.Set("Cache-Control", cacheImmutable)
	default:
		h.Set("Cache-Control", cacheNoCache)
	}
	h.Set("Content-Type", f.ctype)
	h.Set("ETag", f.etag)
	body := f.data
	if f.gz != nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			h.Set("Content-Encoding", "gzip")
			h.Set("ETag", strings.TrimSuffix(f.etag, `"`)+`-gz"`)
			body = f.gz
		}
	}
	// ServeContent handles If-None-Match, HEAD and Range.
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(body))
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") {
			params = strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return params != "q=0" && params != "q=0.0" && params != "q=0.00" && params != "q=0.000"
		}
	}
	return false
}
