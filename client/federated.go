package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
)

// maxFederatedTokenBytes bounds the token file read on each request.
const maxFederatedTokenBytes = 64 << 10

// FileAuth is federated client authentication (workload identity): a JWT that a trusted
// issuer signed — a Kubernetes projected service-account token, a SPIFFE JWT-SVID, a CI
// system's OIDC token — read from a file on every token request, since its issuer rotates
// it there (kubelet, the SPIFFE helper).
type FileAuth struct {
	path, assertionType string
}

// FederatedTokenFile authenticates with the JWT in the file at path, sent with
// assertionType: AssertionTypeJWTBearer (Kubernetes, CI) or AssertionTypeSPIFFE (a SPIFFE
// JWT-SVID); "" means AssertionTypeJWTBearer. The request names the agent in client_id:
// the token's iss and sub are the external issuer's.
func FederatedTokenFile(path, assertionType string) *FileAuth {
	if assertionType == "" {
		assertionType = AssertionTypeJWTBearer
	}
	return &FileAuth{path: path, assertionType: assertionType}
}

// Apply reads the file now and adds its token and client_id to the form.
func (f *FileAuth) Apply(_ context.Context, t AuthTarget, form url.Values, _ http.Header) error {
	if t.ClientID == "" {
		return errors.New("client: a federated credential needs the agent's id as client id")
	}
	fh, err := os.Open(f.path)
	if err != nil {
		return fmt.Errorf("client: federated token: %w", err)
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, maxFederatedTokenBytes+1))
	if err != nil {
		return fmt.Errorf("client: federated token %s: %w", f.path, err)
	}
	if len(b) > maxFederatedTokenBytes {
		return fmt.Errorf("client: federated token %s is larger than %d bytes", f.path, maxFederatedTokenBytes)
	}
	tok := string(bytes.TrimSpace(b))
	if tok == "" {
		return fmt.Errorf("client: federated token %s is empty", f.path)
	}
	setAssertion(form, t.ClientID, f.assertionType, tok)
	return nil
}
