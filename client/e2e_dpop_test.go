package client_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/agentidp/agentidp/client"
	"github.com/agentidp/agentidp/client/dpop"
	"github.com/agentidp/agentidp/client/internal/idptest"
	"github.com/agentidp/agentidp/client/resource"
)

// DPoP end to end (SPEC §12, built on another branch: runs once the discovery document
// has dpop_signing_alg_values_supported): the token source gets a token bound to its key,
// Transport calls a resource server behind the middleware and the server's own API with
// proofs; the bound token sent as Bearer, and a replayed proof, are refused.
func TestE2EDPoP(t *testing.T) {
	srv := idptest.Shared(t)
	srv.RequireFeature(t, "dpop_signing_alg_values_supported", "", "DPoP")
	rs := newAPI(t, srv)
	agent := srv.NewAgent(t, map[string]any{"allowed_scopes": []string{"agents:read"},
		"grants": []map[string]any{{"audience": rs.URL, "scopes": []string{"invoices:read"}}}})
	rsAgent := srv.NewAgent(t, map[string]any{"allowed_scopes": []string{"tokens:introspect"}})
	v := validator(t, resource.Config{Issuer: srv.Issuer, Audience: rs.URL, RequiredScopes: []string{"invoices:read"},
		Introspection: &resource.IntrospectionConfig{ClientID: rsAgent.ID, Auth: client.ClientSecret(rsAgent.Secret)}})
	rs.handler = v.Middleware(whoami)

	proofer, err := dpop.GenerateProofer()
	if err != nil {
		t.Fatal(err)
	}
	ts, err := client.NewTokenSource(client.Config{Issuer: srv.Issuer, ClientID: agent.ID,
		Auth: client.ClientSecret(agent.Secret), Resource: rs.URL, DPoP: proofer, RequireDPoPBinding: true})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Validate(context.Background(), tok.AccessToken)
	if err != nil || tok.TokenType != "DPoP" || c.JKT() != proofer.Thumbprint() {
		t.Fatalf("bound token: %s %v %+v", tok.TokenType, err, c)
	}
	in, err := v.Introspect(context.Background(), tok.AccessToken)
	if err != nil || in.TokenType != "DPoP" || in.Confirmation == nil || in.Confirmation.JKT != proofer.Thumbprint() {
		t.Fatalf("introspection of a bound token: %+v %v", in, err)
	}

	// Through Transport (Authorization: DPoP + proof with ath), twice: fresh proofs.
	for range 2 {
		resp, err := ts.Client().Get(rs.URL + "/invoices?page=2")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("DPoP call: %d %q", resp.StatusCode, resp.Header.Values("WWW-Authenticate"))
		}
	}
	// The bound token as Bearer.
	if status, ch := call(t, rs.URL+"/invoices", "Bearer "+tok.AccessToken); status != 401 || !slices.Contains(ch, `DPoP algs="ES256 ES384 EdDSA RS256 PS256", error="invalid_token"`) {
		t.Fatalf("bound token as Bearer: %d %q", status, ch)
	}
	// A replayed proof.
	proof, _ := proofer.Proof(http.MethodGet, rs.URL+"/invoices", tok.AccessToken)
	for i, want := range []int{200, 401} {
		req, _ := http.NewRequest(http.MethodGet, rs.URL+"/invoices", nil)
		req.Header.Set("Authorization", "DPoP "+tok.AccessToken)
		req.Header.Set("DPoP", proof)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("proof use %d: %d, want %d", i+1, resp.StatusCode, want)
		}
	}

	// The server's own API accepts the scheme too.
	own, _ := client.NewTokenSource(client.Config{Issuer: srv.Issuer, ClientID: agent.ID,
		Auth: client.ClientSecret(agent.Secret), DPoP: proofer, RequireDPoPBinding: true})
	resp, err := own.Client().Get(srv.Issuer + "/api/v1/agents/" + agent.ID)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the server's API with DPoP: %d %q", resp.StatusCode, resp.Header.Values("WWW-Authenticate"))
	}
}
