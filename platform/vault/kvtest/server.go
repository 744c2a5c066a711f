// Package kvtest is an in-process fake of the parts of HashiCorp Vault's HTTP API that
// platform/vault calls: a KV version 2 engine mounted at "secret" (as on
// `vault server -dev`), token authentication, seal state and the health endpoints. It is
// written from the public API documentation (developer.hashicorp.com/vault/api-docs:
// secret/kv/kv-v2, system/health, system/seal-status, auth/token) and answers with the same
// status codes and JSON shapes, so that code using github.com/hashicorp/vault/api can be
// tested without a Vault binary.
//
// Deliberately left out: other engines and mounts, policies (a token is either the one
// given to NewFakeKV2 or refused), namespaces, max_versions pruning, custom metadata, LIST.
package kvtest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentidp/agentidp/platform/config"
)

// DefaultMount is the only KV v2 mount the fake serves.
const DefaultMount = "secret"

// Version is one stored version of a secret, as the fake holds it.
type Version struct {
	Number  int
	Data    map[string]any // kept after a soft delete, as Vault does
	Created time.Time
	Deleted time.Time // zero unless soft-deleted
}

// Request is one request the fake received (the token is not recorded).
type Request struct {
	Method string
	Path   string // e.g. /v1/secret/data/agentidp/x
	Query  string
}

type secret struct {
	created  time.Time
	updated  time.Time
	versions []Version // versions[i].Number == i+1
}

// FakeKV2 is a fake Vault server. Its methods are safe for concurrent use.
type FakeKV2 struct {
	srv   *httptest.Server
	token string

	mu       sync.Mutex
	sealed   bool
	secrets  map[string]*secret // by path relative to the mount
	requests []Request
	nextID   int
}

// NewFakeKV2 starts a fake Vault that accepts token (sent as X-Vault-Token, or as
// "Authorization: Bearer") and refuses every other one with 403. It is closed when the test
// ends.
func NewFakeKV2(t testing.TB, token string) *FakeKV2 {
	t.Helper()
	if token == "" {
		t.Fatal("kvtest: NewFakeKV2 needs a non-empty token")
	}
	f := &FakeKV2{token: token, secrets: map[string]*secret{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// Addr is the server's address, for VAULT_ADDR (http://127.0.0.1:port).
func (f *FakeKV2) Addr() string { return f.srv.URL }

// Token is the one token the server accepts.
func (f *FakeKV2) Token() string { return f.token }

// Mount is the KV v2 mount the server serves.
func (f *FakeKV2) Mount() string { return DefaultMount }

// Configure turns Vault mode on in cfg, pointed at this server.
func (f *FakeKV2) Configure(cfg *config.Config) {
	cfg.VaultAddr, cfg.VaultToken, cfg.VaultMount = f.Addr(), f.Token(), f.Mount()
}

// Seal makes every request but sys/health and sys/seal-status answer 503 "Vault is sealed".
func (f *FakeKV2) Seal() { f.mu.Lock(); f.sealed = true; f.mu.Unlock() }

// Unseal undoes Seal; the stored data is kept.
func (f *FakeKV2) Unseal() { f.mu.Lock(); f.sealed = false; f.mu.Unlock() }

// Versions returns copies of every stored version at path (relative to the mount), oldest
// first, or nil when the path is absent or its metadata was deleted.
func (f *FakeKV2) Versions(path string) []Version {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.secrets[strings.Trim(path, "/")]
	if !ok {
		return nil
	}
	out := make([]Version, len(s.versions))
	for i, v := range s.versions {
		v.Data = maps.Clone(v.Data)
		out[i] = v
	}
	return out
}

// Paths lists the stored paths (relative to the mount), sorted.
func (f *FakeKV2) Paths() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(maps.Keys(f.secrets))
}

// Put stores a new version at path directly, with values of any JSON type, and returns its
// number; for seeding data the client under test would not write.
func (f *FakeKV2) Put(path string, data map[string]any) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.put(strings.Trim(path, "/"), data).Number
}

// DeleteLatest soft-deletes the latest version at path, as DELETE <mount>/data/<path> does.
func (f *FakeKV2) DeleteLatest(path string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.softDelete(strings.Trim(path, "/"))
}

// Requests returns the requests received so far, in order.
func (f *FakeKV2) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

func (f *FakeKV2) put(path string, data map[string]any) Version {
	now := time.Now().UTC()
	s, ok := f.secrets[path]
	if !ok {
		s = &secret{created: now}
		f.secrets[path] = s
	}
	s.updated = now
	v := Version{Number: len(s.versions) + 1, Data: maps.Clone(data), Created: now}
	if v.Data == nil {
		v.Data = map[string]any{}
	}
	s.versions = append(s.versions, v)
	return v
}

func (f *FakeKV2) softDelete(path string) {
	s, ok := f.secrets[path]
	if !ok || len(s.versions) == 0 {
		return
	}
	last := &s.versions[len(s.versions)-1]
	if last.Deleted.IsZero() {
		last.Deleted = time.Now().UTC()
	}
}

func (f *FakeKV2) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery})
	f.nextID++

	rest, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	if !ok {
		writeErrors(w, http.StatusNotFound)
		return
	}
	// Unauthenticated endpoints, answered even when sealed.
	switch rest {
	case "sys/health":
		f.health(w, r)
		return
	case "sys/seal-status":
		writeJSON(w, http.StatusOK, map[string]any{
			"type": "shamir", "initialized": true, "sealed": f.sealed, "t": 1, "n": 1,
			"progress": 0, "nonce": "", "version": "kvtest", "build_date": "",
			"migration": false, "recovery_seal": false, "storage_type": "inmem",
		})
		return
	}
	if f.sealed {
		writeErrors(w, http.StatusServiceUnavailable, "Vault is sealed")
		return
	}
	if !f.authorized(r) {
		writeErrors(w, http.StatusForbidden, "permission denied")
		return
	}
	if rest == "auth/token/lookup-self" {
		if r.Method != http.MethodGet {
			writeErrors(w, http.StatusMethodNotAllowed)
			return
		}
		f.writeSecret(w, http.StatusOK, map[string]any{
			"accessor": "kvtest-accessor", "display_name": "token", "policies": []string{"root"},
			"ttl": 0, "renewable": false, "type": "service", "path": "auth/token/root",
			"meta": nil, "orphan": true, "num_uses": 0,
		})
		return
	}
	mount, sub, _ := strings.Cut(rest, "/")
	if mount != DefaultMount {
		writeErrors(w, http.StatusNotFound, fmt.Sprintf("no handler for route %q. route entry not found.", rest))
		return
	}
	kind, path, _ := strings.Cut(sub, "/")
	path = strings.Trim(path, "/")
	if r.URL.Query().Get("list") != "" || r.Method == "LIST" {
		writeErrors(w, http.StatusMethodNotAllowed, "1 error occurred:\n\t* unsupported operation\n\n")
		return
	}
	switch kind {
	case "data":
		f.data(w, r, path)
	case "metadata":
		f.metadata(w, r, path)
	default:
		writeErrors(w, http.StatusNotFound, fmt.Sprintf("no handler for route %q. route entry not found.", rest))
	}
}

func (f *FakeKV2) authorized(r *http.Request) bool {
	got := r.Header.Get("X-Vault-Token")
	if got == "" {
		got, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	return got == f.token
}

// health answers GET /v1/sys/health with the codes the caller may override by query.
func (f *FakeKV2) health(w http.ResponseWriter, r *http.Request) {
	param, code := "activecode", http.StatusOK
	if f.sealed {
		param, code = "sealedcode", http.StatusServiceUnavailable
	}
	if v := r.URL.Query().Get(param); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			code = n
		}
	}
	writeJSON(w, code, map[string]any{
		"initialized": true, "sealed": f.sealed, "standby": false, "performance_standby": false,
		"replication_performance_mode": "disabled", "replication_dr_mode": "disabled",
		"server_time_utc": time.Now().Unix(), "version": "kvtest", "enterprise": false,
		"cluster_name": "kvtest", "cluster_id": "kvtest",
	})
}

func (f *FakeKV2) data(w http.ResponseWriter, r *http.Request, path string) {
	switch r.Method {
	case http.MethodGet:
		f.readData(w, r, path)
	case http.MethodPost, http.MethodPut:
		f.writeData(w, r, path)
	case http.MethodDelete:
		f.softDelete(path)
		w.WriteHeader(http.StatusNoContent)
	default:
		writeErrors(w, http.StatusMethodNotAllowed)
	}
}

func (f *FakeKV2) readData(w http.ResponseWriter, r *http.Request, path string) {
	s, ok := f.secrets[path]
	if !ok || len(s.versions) == 0 {
		writeErrors(w, http.StatusNotFound)
		return
	}
	n := len(s.versions)
	if q := r.URL.Query().Get("version"); q != "" && q != "0" {
		v, err := strconv.Atoi(q)
		if err != nil || v < 0 {
			writeErrors(w, http.StatusBadRequest, "invalid version")
			return
		}
		if v > n {
			writeErrors(w, http.StatusNotFound)
			return
		}
		n = v
	}
	v := s.versions[n-1]
	if !v.Deleted.IsZero() {
		// Vault answers a deleted version with 404 and the metadata, data null.
		f.writeSecret(w, http.StatusNotFound, map[string]any{"data": nil, "metadata": versionMetadata(v)})
		return
	}
	f.writeSecret(w, http.StatusOK, map[string]any{"data": v.Data, "metadata": versionMetadata(v)})
}

func (f *FakeKV2) writeData(w http.ResponseWriter, r *http.Request, path string) {
	if path == "" {
		writeErrors(w, http.StatusNotFound)
		return
	}
	var body struct {
		Data    json.RawMessage `json:"data"`
		Options struct {
			CAS *int `json:"cas"`
		} `json:"options"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeErrors(w, http.StatusBadRequest, "failed to parse JSON input")
		return
	}
	var data map[string]any
	if len(body.Data) == 0 || string(body.Data) == "null" || json.Unmarshal(body.Data, &data) != nil {
		writeErrors(w, http.StatusBadRequest, "no data provided")
		return
	}
	if body.Options.CAS != nil {
		current := 0
		if s, ok := f.secrets[path]; ok {
			current = len(s.versions)
		}
		if *body.Options.CAS != current {
			writeErrors(w, http.StatusBadRequest, "check-and-set parameter did not match the current version")
			return
		}
	}
	f.writeSecret(w, http.StatusOK, versionMetadata(f.put(path, data)))
}

func (f *FakeKV2) metadata(w http.ResponseWriter, r *http.Request, path string) {
	switch r.Method {
	case http.MethodGet:
		s, ok := f.secrets[path]
		if !ok {
			writeErrors(w, http.StatusNotFound)
			return
		}
		versions := map[string]any{}
		for _, v := range s.versions {
			md := versionMetadata(v)
			delete(md, "version")
			delete(md, "custom_metadata")
			versions[strconv.Itoa(v.Number)] = md
		}
		f.writeSecret(w, http.StatusOK, map[string]any{
			"cas_required": false, "created_time": s.created.Format(time.RFC3339Nano),
			"current_version": len(s.versions), "custom_metadata": nil,
			"delete_version_after": "0s", "max_versions": 0, "oldest_version": 0,
			"updated_time": s.updated.Format(time.RFC3339Nano), "versions": versions,
		})
	case http.MethodDelete:
		delete(f.secrets, path)
		w.WriteHeader(http.StatusNoContent)
	default:
		writeErrors(w, http.StatusMethodNotAllowed)
	}
}

func versionMetadata(v Version) map[string]any {
	deleted := ""
	if !v.Deleted.IsZero() {
		deleted = v.Deleted.Format(time.RFC3339Nano)
	}
	return map[string]any{
		"created_time": v.Created.Format(time.RFC3339Nano), "custom_metadata": nil,
		"deletion_time": deleted, "destroyed": false, "version": v.Number,
	}
}

// writeSecret writes Vault's response envelope around data.
func (f *FakeKV2) writeSecret(w http.ResponseWriter, code int, data map[string]any) {
	writeJSON(w, code, map[string]any{
		"request_id": fmt.Sprintf("kvtest-%08d", f.nextID), "lease_id": "", "renewable": false,
		"lease_duration": 0, "data": data, "wrap_info": nil, "warnings": nil, "auth": nil,
		"mount_type": "kv",
	})
}

// writeErrors writes Vault's error body, {"errors":[...]} (an empty list for a plain 404).
func writeErrors(w http.ResponseWriter, code int, msgs ...string) {
	if msgs == nil {
		msgs = []string{}
	}
	writeJSON(w, code, map[string]any{"errors": msgs})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
