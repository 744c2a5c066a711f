package audit

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/uptrace/bun"
	"go.uber.org/zap"
	"golang.org/x/mod/sumdb/note"

	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/database"
	"github.com/agentidp/agentidp/platform/sealbox"
	"github.com/agentidp/agentidp/platform/vault"
)

// keyWrapVault: the audit key's private part is in Vault at vaultAuditKeyPath, not in the row.
const keyWrapVault = "vault"

// vaultAuditKeyField is the Vault secret's field holding the note signer key.
const vaultAuditKeyField = "note_signer_key"

// auditKeyRow is one row of audit_keys.
type auditKeyRow struct {
	bun.BaseModel `bun:"table:audit_keys"`

	Origin      string    `bun:"origin,pk"`
	VerifierKey string    `bun:"verifier_key"`
	KeyWrap     string    `bun:"key_wrap"`
	PrivateKey  []byte    `bun:"private_key"`
	KeyNonce    []byte    `bun:"key_nonce"`
	CreatedAt   time.Time `bun:"created_at"`
	RetiredAt   time.Time `bun:"retired_at,nullzero"`
}

// auditKey is the current checkpoint-signing key: a C2SP signed-note Ed25519 key whose name
// is the log's origin.
type auditKey struct {
	origin      string
	verifierKey string // <origin>+<hex key hash>+<base64(0x01 ‖ public key)>
	signer      note.Signer
	verifier    note.Verifier
}

// originFor is the log's origin line for issuer: its host (with the port when it has one)
// followed by "/audit".
func originFor(issuer string) (string, error) {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("audit: no host in AGENTIDP_ISSUER %q to name the log", issuer)
	}
	return u.Host + "/audit", nil
}

// vaultAuditKeyPath is where Vault mode keeps the signer key of verifierKey (named by a hash
// of the public key, so that two replicas racing at first start never overwrite each other's).
func vaultAuditKeyPath(verifierKey string) string {
	sum := sha256.Sum256([]byte(verifierKey))
	return "agentidp/audit-keys/" + hex.EncodeToString(sum[:8])
}

// keyStore loads the audit key, creating it at first start.
type keyStore struct {
	db  *bun.DB
	cfg *config.Config
	kv  vault.KV
	log *zap.Logger
}

// current returns the current audit key, creating one named after the issuer's origin when
// there is none (first start; replicas starting together agree on the row that lands).
func (s *keyStore) current(ctx context.Context) (*auditKey, error) {
	row, err := s.readCurrent(ctx)
	if errors.Is(err, database.ErrNotFound) {
		origin, oerr := originFor(s.cfg.Issuer)
		if oerr != nil {
			return nil, oerr
		}
		if _, err = s.create(ctx, s.db, origin); err == nil || errors.Is(err, database.ErrAlreadyExists) {
			row, err = s.readCurrent(ctx)
		}
	}
	if err != nil {
		return nil, err
	}
	return s.open(ctx, row)
}

func (s *keyStore) readCurrent(ctx context.Context) (*auditKeyRow, error) {
	var row auditKeyRow
	err := s.db.NewSelect().Model(&row).Where("retired_at IS NULL").Limit(1).Scan(ctx)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, database.ErrNotFound
		}
		return nil, fmt.Errorf("audit: reading the audit key: %w", database.Translate(err))
	}
	return &row, nil
}

// create makes a new key named origin and stores it through db (the store, or a
// transaction): the private part in Vault (Vault mode, written before the row) or sealed
// under the master key in the row. It returns the verifier key.
func (s *keyStore) create(ctx context.Context, db bun.IDB, origin string) (string, error) {
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		return "", fmt.Errorf("audit: generating the audit key: %w", err)
	}
	row := &auditKeyRow{Origin: origin, VerifierKey: vkey, KeyWrap: keyWrapVault,
		PrivateKey: []byte{}, KeyNonce: []byte{}, CreatedAt: time.Now().UTC()}
	if vault.Enabled(s.kv) {
		if err := s.kv.Write(ctx, vaultAuditKeyPath(vkey), map[string]string{vaultAuditKeyField: skey}); err != nil {
			return "", fmt.Errorf("audit: storing the audit key in Vault: %w", err)
		}
	} else {
		row.KeyWrap = sealbox.Wrap
		if row.PrivateKey, row.KeyNonce, err = sealbox.Seal(s.cfg.MasterKey, []byte(origin), []byte(skey)); err != nil {
			return "", err
		}
	}
	if _, err := db.NewInsert().Model(row).Exec(ctx); err != nil {
		err = database.Translate(err)
		if row.KeyWrap == keyWrapVault {
			if derr := s.kv.Delete(ctx, vaultAuditKeyPath(vkey)); derr != nil {
				s.log.Warn("could not delete the Vault entry of an audit key that was not stored", zap.Error(derr))
			}
		}
		return "", fmt.Errorf("audit: storing the audit key: %w", err)
	}
	s.log.Info("audit checkpoint key created", zap.String("origin", origin), zap.String("verifier_key", vkey))
	return vkey, nil
}

// open turns a stored row into the signer and verifier, checking that the private part
// belongs to the row's public key.
func (s *keyStore) open(ctx context.Context, row *auditKeyRow) (*auditKey, error) {
	var skey string
	switch row.KeyWrap {
	case sealbox.Wrap:
		plain, err := sealbox.Open(s.cfg.MasterKey, []byte(row.Origin), row.PrivateKey, row.KeyNonce)
		if err != nil {
			return nil, err
		}
		skey = string(plain)
	case keyWrapVault:
		if !vault.Enabled(s.kv) {
			return nil, errors.New("audit: the audit key is held in Vault and VAULT_ADDR is not set")
		}
		data, err := s.kv.Read(ctx, vaultAuditKeyPath(row.VerifierKey))
		if err != nil {
			return nil, fmt.Errorf("audit: reading the audit key from Vault: %w", err)
		}
		skey = data[vaultAuditKeyField]
	default:
		return nil, fmt.Errorf("audit: audit key of %s: unknown key_wrap %q", row.Origin, row.KeyWrap)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("audit: the stored audit key does not parse")
	}
	verifier, err := note.NewVerifier(row.VerifierKey)
	if err != nil {
		return nil, fmt.Errorf("audit: the stored audit verifier key does not parse: %w", err)
	}
	if signer.Name() != row.Origin || verifier.Name() != row.Origin || signer.KeyHash() != verifier.KeyHash() {
		return nil, fmt.Errorf("audit: the audit key of %s does not match its verifier key", row.Origin)
	}
	// The key hash covers the public key: sign a probe to be sure the pair matches.
	probe := []byte("agentidp audit key check\n")
	sig, err := signer.Sign(probe)
	if err != nil || !verifier.Verify(probe, sig) {
		return nil, fmt.Errorf("audit: the audit key of %s does not match its verifier key", row.Origin)
	}
	return &auditKey{origin: row.Origin, verifierKey: row.VerifierKey, signer: signer, verifier: verifier}, nil
}

// newEphemeralKey is a fresh key named origin that is stored nowhere (tests, fuzz seeds).
func newEphemeralKey(origin string) (*auditKey, error) {
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		return nil, err
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, err
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	return &auditKey{origin: origin, verifierKey: vkey, signer: signer, verifier: verifier}, nil
}
