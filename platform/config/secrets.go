package config

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

const secretLen = 32

// resolveSecrets decodes AGENTIDP_MASTER_KEY and AGENTIDP_SECRET_PEPPER. In embedded mode a
// missing one is generated once into DataDir (0600) and read back on later starts; with
// PostgreSQL both are required, because every replica must share them.
func (c *Config) resolveSecrets() error {
	var err error
	if c.MasterKey, err = c.secret("AGENTIDP_MASTER_KEY", c.MasterKeyB64, "master.key"); err != nil {
		return err
	}
	c.SecretPepper, err = c.secret("AGENTIDP_SECRET_PEPPER", c.SecretPepperB64, "secret.pepper")
	return err
}

func (c *Config) secret(name, b64, file string) ([]byte, error) {
	if b64 != "" {
		return decodeSecret(name, b64)
	}
	if !c.Embedded() {
		return nil, fmt.Errorf("%s: required when AGENTIDP_DATABASE_URL is set (32 random bytes, base64; e.g. openssl rand -base64 32), shared by every replica", name)
	}
	path := filepath.Join(c.DataDir, file)
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return generateSecret(name, path)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: reading %s: %v", name, path, err)
	}
	return decodeSecret(name+" (from "+path+")", strings.TrimSpace(string(raw)))
}

func decodeSecret(name, b64 string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		raw, err = base64.RawURLEncoding.DecodeString(strings.TrimSpace(b64))
	}
	if err != nil || len(raw) != secretLen {
		return nil, fmt.Errorf("%s: want %d random bytes in base64 (value not shown)", name, secretLen)
	}
	return raw, nil
}

func generateSecret(name, path string) ([]byte, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("%s: creating data dir: %v", name, err)
	}
	raw := make([]byte, secretLen)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%s: writing %s: %v", name, path, err)
	}
	defer f.Close()
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(raw) + "\n"); err != nil {
		return nil, fmt.Errorf("%s: writing %s: %v", name, path, err)
	}
	return raw, nil
}
