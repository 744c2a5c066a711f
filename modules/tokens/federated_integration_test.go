package tokens_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/agentidp/agentidp/modules/credentials"
	"github.com/agentidp/agentidp/modules/tokens"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/testenv"
)

// localIssuer is a workload identity issuer on this machine: it publishes its key set at
// /openid/v1/jwks and counts the fetches.
type localIssuer struct {
	srv  *httptest.Server
	hits atomic.Int64
	mu   sync.Mutex
	keys []signingKey
}

func newLocalIssuer(t *testing.T, keys ...signingKey) *localIssuer {
	li := &localIssuer{keys: keys}
	li.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		li.hits.Add(1)
		li.mu.Lock()
		body := jwksOf(t, li.keys...)
		li.mu.Unlock()
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(li.srv.Close)
	return li
}

func (li *localIssuer) jwksURI() string { return li.srv.URL + "/openid/v1/jwks" }

const (
	k8sIssuer   = "https://kubernetes.default.svc.cluster.local"
	k8sSubject  = "system:serviceaccount:payments:worker"
	spireIssuer = "https://spire.example.org"
	spiffeID    = "spiffe://example.org/ns/payments/sa/worker"
)

// serviceAccountToken is a Kubernetes projected service-account token for this server.
func (e *env) serviceAccountToken(t *testing.T, k signingKey, edit func(m map[string]any)) string {
	now := time.Now()
	m := map[string]any{"iss": k8sIssuer, "sub": k8sSubject, "aud": []string{e.cfg.Issuer},
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"kubernetes.io": map[string]any{"namespace": "payments",
			"serviceaccount": map[string]string{"name": "worker", "uid": uuid.NewString()},
			"pod":            map[string]string{"name": "worker-5d9f", "uid": uuid.NewString()}}}
	if edit != nil {
		edit(m)
	}
	return k.sign(t, m)
}

func allowPrivate(cfg *config.Config) {
	roomyGuard(cfg)
	cfg.JWKSAllowPrivate = true
}

// createAgent makes an agent with scopes and returns its id.
func (e *env) createAgent(scopes []string) string {
	e.t.Helper()
	var a struct {
		ID string `json:"agent_id"`
	}
	mustDecode(e.t, e.mustAPI(http.StatusCreated, http.MethodPost, "/api/v1/agents", e.adminToken(),
		map[string]any{"name": "fed-" + uuid.NewString()[:8], "allowed_scopes": scopes}).Body, &a)
	return a.ID
}

type credentialOut struct {
	ID              string `json:"credential_id"`
	Type            string `json:"type"`
	Status          string `json:"status"`
	TrustedIssuerID string `json:"trusted_issuer_id"`
	Subject         string `json:"subject"`
}

func (e *env) credentialStatus(agentID, credID string) string {
	e.t.Helper()
	var l struct {
		Items []credentialOut `json:"items"`
	}
	mustDecode(e.t, e.mustAPI(http.StatusOK, http.MethodGet, "/api/v1/agents/"+agentID+"/credentials", e.adminToken(), nil).Body, &l)
	for _, c := range l.Items {
		if c.ID == credID {
			return c.Status
		}
	}
	e.t.Fatalf("credential %s not listed", credID)
	return ""
}

func TestIntegrationFederatedCredentials(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, allowPrivate)
		admin := e.adminToken()
		k8sKey := newRSAKey(t, "k8s-1")
		li := newLocalIssuer(t, k8sKey)

		// The trusted issuer: registered once per organization.
		var ti struct {
			ID      string `json:"trusted_issuer_id"`
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		mustDecode(t, e.mustAPI(http.StatusCreated, http.MethodPost, "/api/v1/trusted-issuers", admin,
			map[string]any{"issuer": k8sIssuer, "jwks_uri": li.jwksURI()}).Body, &ti)
		e.mustAPI(http.StatusConflict, http.MethodPost, "/api/v1/trusted-issuers", admin,
			map[string]any{"issuer": k8sIssuer, "jwks_uri": li.jwksURI()})
		e.mustAPI(http.StatusBadRequest, http.MethodPost, "/api/v1/trusted-issuers", admin,
			map[string]any{"issuer": "https://x.example", "jwks_uri": "http://issuer.example/jwks"})
		e.mustAPI(http.StatusBadRequest, http.MethodPost, "/api/v1/trusted-issuers", admin,
			map[string]any{"issuer": "https://x.example", "jwks": json.RawMessage(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`)})
		got := e.mustAPI(http.StatusOK, http.MethodGet, "/api/v1/trusted-issuers/"+ti.ID, admin, nil).json(t)
		if got["issuer"] != k8sIssuer || got["jwks_uri"] != li.jwksURI() {
			t.Fatalf("GET trusted issuer: %v", got)
		}
		var list struct {
			Items []map[string]any `json:"items"`
		}
		mustDecode(t, e.mustAPI(http.StatusOK, http.MethodGet, "/api/v1/trusted-issuers", admin, nil).Body, &list)
		if len(list.Items) != 1 || list.Items[0]["trusted_issuer_id"] != ti.ID {
			t.Fatalf("list: %v", list.Items)
		}

		// A federated credential binds the issuer's id.
		agentID := e.createAgent([]string{"agents:read"})
		var cred credentialOut
		mustDecode(t, e.mustAPI(http.StatusCreated, http.MethodPost, "/api/v1/agents/"+agentID+"/credentials", admin,
			map[string]any{"type": "federated", "issuer": k8sIssuer, "subject": k8sSubject}).Body, &cred)
		if cred.Type != "federated" || cred.TrustedIssuerID != ti.ID || cred.Subject != k8sSubject {
			t.Fatalf("federated credential: %+v", cred)
		}
		e.mustAPI(http.StatusBadRequest, http.MethodPost, "/api/v1/agents/"+agentID+"/credentials", admin,
			map[string]any{"type": "federated", "trusted_issuer_id": uuid.NewString(), "subject": k8sSubject})

		// A Kubernetes service-account token authenticates the agent named by client_id,
		// and again: it is not single-use.
		sa := e.serviceAccountToken(t, k8sKey, nil)
		e.remember(sa)
		for i := range 2 {
			if r := e.tokenByAssertion(sa, "client_id", agentID); r.Status != http.StatusOK {
				t.Fatalf("service-account token, use %d: %d %s", i+1, r.Status, r.Body)
			}
		}
		wrong := e.post(tokens.PathToken, url.Values{"grant_type": {"client_credentials"}},
			"Authorization", basic(agentID, "sk_live_"+strings.Repeat("A", 43)))
		now := time.Now()
		for name, r := range map[string]response{
			"no client_id":                 e.tokenByAssertion(sa),
			"another agent":                e.tokenByAssertion(sa, "client_id", e.createAgent([]string{"agents:read"})),
			"wrong subject":                e.tokenByAssertion(e.serviceAccountToken(t, k8sKey, func(m map[string]any) { m["sub"] = "system:serviceaccount:x:y" }), "client_id", agentID),
			"wrong issuer":                 e.tokenByAssertion(e.serviceAccountToken(t, k8sKey, func(m map[string]any) { m["iss"] = "https://other.example" }), "client_id", agentID),
			"wrong aud":                    e.tokenByAssertion(e.serviceAccountToken(t, k8sKey, func(m map[string]any) { m["aud"] = []string{"https://kubernetes.default.svc"} }), "client_id", agentID),
			"expired":                      e.tokenByAssertion(e.serviceAccountToken(t, k8sKey, func(m map[string]any) { m["iat"], m["exp"] = now.Add(-time.Hour).Unix(), now.Add(-time.Second).Unix() }), "client_id", agentID),
			"lives too long":               e.tokenByAssertion(e.serviceAccountToken(t, k8sKey, func(m map[string]any) { m["exp"] = now.Add(2 * time.Hour).Unix() }), "client_id", agentID),
			"spiffe type, not a SPIFFE ID": e.post(tokens.PathToken, assertionForm(sa, credentials.AssertionSPIFFE, "client_id", agentID)),
		} {
			wantSameAsWrongSecret(t, name, r, wrong)
		}

		// The issuer rotates: a token signed with a kid it has not seen yet is refused
		// without a second fetch within 30 s of the first.
		k8sKey2 := newRSAKey(t, "k8s-2")
		li.mu.Lock()
		li.keys = append(li.keys, k8sKey2)
		li.mu.Unlock()
		wantSameAsWrongSecret(t, "new kid within 30 s", e.tokenByAssertion(e.serviceAccountToken(t, k8sKey2, nil), "client_id", agentID), wrong)
		if n := li.hits.Load(); n != 1 {
			t.Fatalf("the issuer's key set was fetched %d times; want 1", n)
		}

		// A SPIFFE JWT-SVID, keys by value, sent with the jwt-spiffe type.
		spire := newECKey(t, "spire-1")
		var ti2 struct {
			ID string `json:"trusted_issuer_id"`
		}
		mustDecode(t, e.mustAPI(http.StatusCreated, http.MethodPost, "/api/v1/trusted-issuers", admin,
			map[string]any{"issuer": spireIssuer, "jwks": jwksOf(t, spire)}).Body, &ti2)
		svcID := e.createAgent([]string{"agents:read"})
		e.mustAPI(http.StatusCreated, http.MethodPost, "/api/v1/agents/"+svcID+"/credentials", admin,
			map[string]any{"type": "federated", "trusted_issuer_id": ti2.ID, "subject": spiffeID})
		svid := spire.sign(t, map[string]any{"iss": spireIssuer, "sub": spiffeID, "aud": []string{e.cfg.Issuer},
			"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()})
		e.remember(svid)
		if r := e.post(tokens.PathToken, assertionForm(svid, credentials.AssertionSPIFFE, "client_id", svcID)); r.Status != http.StatusOK {
			t.Fatalf("SPIFFE JWT-SVID: %d %s", r.Status, r.Body)
		}

		// Deleting the issuer needs authority over every agent bound to it: a caller with
		// credentials:write but without the agent's agents:read is refused, and nothing
		// changes.
		writer := e.newClient([]string{"credentials:write", "credentials:read"}, nil)
		writerTok := e.token(writer, "", "")
		e.mustAPI(http.StatusForbidden, http.MethodDelete, "/api/v1/trusted-issuers/"+ti.ID, writerTok, nil)
		if st := e.credentialStatus(agentID, cred.ID); st != "active" {
			t.Fatalf("after a refused delete the credential is %s", st)
		}
		if r := e.tokenByAssertion(sa, "client_id", agentID); r.Status != http.StatusOK {
			t.Fatalf("after a refused delete: %d %s", r.Status, r.Body)
		}

		// The admin deletes it: the credential is revoked and the token no longer works;
		// the issuer can be registered again.
		e.mustAPI(http.StatusNoContent, http.MethodDelete, "/api/v1/trusted-issuers/"+ti.ID, admin, nil)
		if st := e.credentialStatus(agentID, cred.ID); st != "revoked" {
			t.Fatalf("after the delete the credential is %s", st)
		}
		wantSameAsWrongSecret(t, "issuer deleted", e.tokenByAssertion(sa, "client_id", agentID), wrong)
		e.mustAPI(http.StatusNotFound, http.MethodGet, "/api/v1/trusted-issuers/"+ti.ID, admin, nil)
		e.mustAPI(http.StatusNotFound, http.MethodDelete, "/api/v1/trusted-issuers/"+ti.ID, admin, nil)
		e.mustAPI(http.StatusCreated, http.MethodPost, "/api/v1/trusted-issuers", admin,
			map[string]any{"issuer": k8sIssuer, "jwks_uri": li.jwksURI()})
		var revoked int
		for _, r := range auditRows(t, e.b.DB, "credential.revoked") {
			if r.TargetID == cred.ID {
				revoked++
			}
		}
		if revoked != 1 || len(auditRows(t, e.b.DB, "trusted_issuer.deleted")) != 1 {
			t.Fatalf("audit: %d credential.revoked for the credential, %d trusted_issuer.deleted", revoked,
				len(auditRows(t, e.b.DB, "trusted_issuer.deleted")))
		}
		e.assertNoLeaks()
	})
}

// Deleting a trusted issuer cannot take an organization's last admin's last active
// credential: 409, and nothing changes.
func TestIntegrationTrustedIssuerDeleteLockout(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, allowPrivate)
		var created struct {
			Org struct {
				ID string `json:"org_id"`
			} `json:"org"`
			Admin struct {
				AgentID      string `json:"agent_id"`
				ClientSecret string `json:"client_secret"`
				CredentialID string `json:"credential_id"`
			} `json:"admin"`
		}
		mustDecode(t, e.mustAPI(http.StatusCreated, http.MethodPost, "/api/v1/orgs", e.adminToken(),
			map[string]any{"name": "lockout-" + uuid.NewString()[:8]}).Body, &created)
		e.remember(created.Admin.ClientSecret)
		orgAdmin := client{ID: created.Admin.AgentID, Secret: created.Admin.ClientSecret}
		tok := e.token(orgAdmin, "", "")
		spire := newECKey(t, "spire-1")
		var ti struct {
			ID string `json:"trusted_issuer_id"`
		}
		mustDecode(t, e.mustAPI(http.StatusCreated, http.MethodPost, "/api/v1/trusted-issuers", tok,
			map[string]any{"issuer": spireIssuer, "jwks": jwksOf(t, spire)}).Body, &ti)
		credPath := "/api/v1/agents/" + orgAdmin.ID + "/credentials"
		var fed credentialOut
		mustDecode(t, e.mustAPI(http.StatusCreated, http.MethodPost, credPath, tok,
			map[string]any{"type": "federated", "trusted_issuer_id": ti.ID, "subject": spiffeID}).Body, &fed)
		// The secret goes: the federated credential is the admin's last.
		e.mustAPI(http.StatusNoContent, http.MethodDelete, credPath+"/"+created.Admin.CredentialID, e.adminToken(), nil)
		e.mustAPI(http.StatusConflict, http.MethodDelete, "/api/v1/trusted-issuers/"+ti.ID, e.adminToken(), nil)
		if st := e.credentialStatus(orgAdmin.ID, fed.ID); st != "active" {
			t.Fatalf("after a refused delete the federated credential is %s", st)
		}
		e.mustAPI(http.StatusOK, http.MethodGet, "/api/v1/trusted-issuers/"+ti.ID, e.adminToken(), nil)
	})
}
