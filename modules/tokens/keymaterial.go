package tokens

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/agentidp/agentidp/platform/sealbox"
	"github.com/agentidp/agentidp/platform/vault"
)

// rsaBits is the modulus size of new RS256 keys.
const rsaBits = 2048

// keyWrapAESGCM names how private keys are sealed at rest: platform/sealbox (AES-256-GCM
// under AGENTIDP_MASTER_KEY, a random 96-bit nonce per key), the kid as additional data (so
// a sealed key cannot be moved to another row).
const keyWrapAESGCM = sealbox.Wrap

// keyWrapVault: the private key is not in the database at all but in Vault, at
// vaultKeyPath(kid) (Vault mode, VAULT_ADDR set); private_key and key_nonce stay empty.
const keyWrapVault = "vault"

// errMasterKey is the cause when a sealed key does not open: the master key is not the one
// it was sealed under, or the row was altered.
var errMasterKey = sealbox.ErrOpen

// newKeyPair makes a fresh private key for alg.
func newKeyPair(alg string) (crypto.Signer, error) {
	switch alg {
	case AlgRS256:
		return rsa.GenerateKey(rand.Reader, rsaBits)
	case AlgES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case AlgEdDSA:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	}
	return nil, fmt.Errorf("tokens: unsupported signing algorithm %q", alg)
}

// keyID is the RFC 7638 JWK thumbprint (SHA-256, base64url) of pub: stable, unique per key
// and free of characters that need escaping anywhere.
func keyID(pub crypto.PublicKey) (string, error) {
	tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("tokens: key thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// publicJWK is the JWK of pub as the JWKS publishes it (use sig, alg, kid).
func publicJWK(kid, alg string, pub crypto.PublicKey) ([]byte, error) {
	return json.Marshal(jose.JSONWebKey{Key: pub, KeyID: kid, Algorithm: alg, Use: "sig"})
}

// parsePublicJWK reads a stored public JWK back, checking that it is public and fits alg.
func parsePublicJWK(raw []byte, kid, alg string) (crypto.PublicKey, error) {
	var k jose.JSONWebKey
	if err := json.Unmarshal(raw, &k); err != nil {
		return nil, fmt.Errorf("tokens: key %s: stored JWK: %w", kid, err)
	}
	if !k.IsPublic() || k.KeyID != kid || k.Algorithm != alg {
		return nil, fmt.Errorf("tokens: key %s: stored JWK does not match its row", kid)
	}
	return k.Key, nil
}

// sealPrivateKey encrypts priv (PKCS#8 DER) under master (platform/sealbox), AAD = kid.
func sealPrivateKey(master []byte, kid string, priv crypto.Signer) (sealed, nonce []byte, err error) {
	der, err := marshalPrivateKey(priv)
	if err != nil {
		return nil, nil, err
	}
	defer clear(der)
	return sealbox.Seal(master, []byte(kid), der)
}

// openPrivateKey decrypts and parses a sealed private key.
func openPrivateKey(master []byte, kid string, sealed, nonce []byte) (crypto.Signer, error) {
	der, err := sealbox.Open(master, []byte(kid), sealed, nonce)
	if err != nil {
		return nil, err
	}
	defer clear(der)
	return parsePrivateKey(kid, der)
}

func marshalPrivateKey(priv crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("tokens: encoding private key: %w", err)
	}
	return der, nil
}

func parsePrivateKey(kid string, der []byte) (crypto.Signer, error) {
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("tokens: key %s: parsing the private key: %w", kid, err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("tokens: key %s: unsupported private key type %T", kid, k)
	}
	return signer, nil
}

// vaultKeyPath is where Vault mode keeps a signing key's private part (KV v2, under the
// configured mount).
func vaultKeyPath(kid string) string { return "agentidp/signing-keys/" + kid }

// vaultKeyField is the field of that secret holding the PKCS#8 DER key, base64.
const vaultKeyField = "private_key_pkcs8"

// storeInVault writes priv to Vault for kid.
func storeInVault(ctx context.Context, kv vault.KV, kid string, priv crypto.Signer) error {
	der, err := marshalPrivateKey(priv)
	if err != nil {
		return err
	}
	defer clear(der)
	if err := kv.Write(ctx, vaultKeyPath(kid), map[string]string{vaultKeyField: base64.StdEncoding.EncodeToString(der)}); err != nil {
		return fmt.Errorf("tokens: storing signing key %s in Vault: %w", kid, err)
	}
	return nil
}

// loadFromVault reads kid's private key from Vault.
func loadFromVault(ctx context.Context, kv vault.KV, kid string) (crypto.Signer, error) {
	data, err := kv.Read(ctx, vaultKeyPath(kid))
	if err != nil {
		return nil, fmt.Errorf("tokens: reading signing key %s from Vault: %w", kid, err)
	}
	der, err := base64.StdEncoding.DecodeString(data[vaultKeyField])
	if err != nil || len(der) == 0 {
		return nil, fmt.Errorf("tokens: signing key %s: Vault holds no usable %s", kid, vaultKeyField)
	}
	defer clear(der)
	return parsePrivateKey(kid, der)
}
