package dpop

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"

	"github.com/go-jose/go-jose/v4/jwt"
)

// ProofType is the typ header of a DPoP proof.
const ProofType = "dpop+jwt"

// Claims are a DPoP proof's claims (RFC 9449 §4.2).
type Claims struct {
	ID       string           `json:"jti"`
	Method   string           `json:"htm"`
	URL      string           `json:"htu"`
	IssuedAt *jwt.NumericDate `json:"iat"`
	ATH      string           `json:"ath,omitempty"`
	Nonce    string           `json:"nonce,omitempty"`
}

// ATH is the ath of a proof sent with accessToken: base64url(SHA-256(token)).
func ATH(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// HTU is target as a proof's htu: scheme, host and path, without query and fragment, with
// scheme and host in lower case, the scheme's default port dropped and an empty path as "/"
// (RFC 9449 §4.3 compares them after RFC 3986 §6.2.2–6.2.3 normalisation).
func HTU(target string) (string, error) {
	u, err := url.Parse(target)
	if err != nil {
		return "", fmt.Errorf("dpop: htu: %w", err)
	}
	scheme := strings.ToLower(u.Scheme)
	if (scheme != "https" && scheme != "http") || u.Host == "" || u.User != nil {
		return "", fmt.Errorf("dpop: htu %q is not an absolute http(s) URL", target)
	}
	host := strings.ToLower(u.Host)
	if p := u.Port(); (scheme == "https" && p == "443") || (scheme == "http" && p == "80") {
		host = strings.TrimSuffix(host, ":"+p)
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path, nil
}
