package tokens

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/database"
	"github.com/agentidp/agentidp/platform/reqctx"
	"github.com/agentidp/agentidp/platform/vault"
)

const (
	// keyRefreshEvery is how often every replica reloads its key ring from the database,
	// whatever the broadcasts: the bound on how long a replica that missed one lags.
	keyRefreshEvery = 2 * time.Second
	// missReloadEvery throttles the reload an unknown kid triggers (a key rotated on
	// another replica with no publish delay), so that garbage kids cannot flood the
	// database: at most one such reload per interval, and callers never wait for one
	// already running.
	missReloadEvery = time.Second
	// leeway is the clock skew tolerated on exp, nbf and iat.
	leeway = 60 * time.Second
	// dbTimeout bounds a background database call.
	dbTimeout = 5 * time.Second
)

// errNoSigningKey is the 503 cause when no key may sign now on this replica.
var errNoSigningKey = errors.New("no active signing key")

// ringKey is one published key as a replica holds it.
type ringKey struct {
	kid         string
	alg         string
	createdAt   time.Time
	activatesAt time.Time
	retiresAt   time.Time        // zero: not scheduled to retire
	public      crypto.PublicKey // checked to fit alg (checkKeyFits)
	jwk         []byte
	signer      *tokenSigner // nil when the key will not sign again, or cannot be opened here
}

// state is the key's place in its life at now, derived from its times.
func (k *ringKey) state(now time.Time) KeyState {
	return keyState(now, k.activatesAt, k.retiresAt)
}

func keyState(now, activatesAt, retiresAt time.Time) KeyState {
	switch {
	case !retiresAt.IsZero() && !now.Before(retiresAt):
		return KeyRetired
	case now.Before(activatesAt):
		return KeyPending
	}
	return KeyActive
}

// signsAt reports whether the key is the one signing at now.
func (k *ringKey) signsAt(now time.Time) bool {
	return !now.Before(k.activatesAt) && (k.retiresAt.IsZero() || now.Before(k.retiresAt))
}

// mayHaveSigned reports whether the key can have signed a token issued at iat (Unix
// seconds). A key signs until it retires (the instant its successor starts signing), and a
// token it signed carries the signing replica's time, so iat is at or before the
// retirement. The leeway covers replicas whose clocks differ and a replica that learns of
// a retirement a little late (at its next reload, which matters for a rotation without a
// publish delay); issuedAt's one-second shift past a cut-off is well inside it. A token
// dated later was made with the key's private material by someone else than this server.
func (k *ringKey) mayHaveSigned(iat int64) bool {
	return k.retiresAt.IsZero() || iat <= k.retiresAt.Add(leeway).Unix()
}

// ringSnapshot is an immutable view of the published keys, swapped atomically on reload.
type ringSnapshot struct {
	keys  []*ringKey // newest activation first
	byKID map[string]*ringKey
	jwks  []byte // {"keys":[...]} of every key in the snapshot
}

// keyParts are what is costly to derive from a row (parsing, decryption); they never
// change for a kid, so reloads reuse them.
type keyParts struct {
	public  crypto.PublicKey
	jwk     []byte
	signer  *tokenSigner
	openErr error // why the private key did not open at the last try (then signer is nil)
}

// keyRing holds the signing keys: it creates the first one, rotates, and keeps every
// replica's view current (its reload worker, module.go: every keyRefreshEvery and at once
// on KeysChangedChannel).
type keyRing struct {
	cfg       *config.Config
	db        *bun.DB
	repo      repository
	rec       audittrail.Recorder
	bc        cache.Broadcaster
	vault     vault.KV // Vault mode when vault.Enabled: new private keys go there
	log       *zap.Logger
	now       func() time.Time
	retention time.Duration // how long a retired key stays published: TokenTTL + leeway

	snap atomic.Pointer[ringSnapshot]

	mu    sync.Mutex // guards parts; serialises reloads
	parts map[string]*keyParts

	lastMissReload atomic.Int64 // unix ns
}

func newKeyRing(cfg *config.Config, db *bun.DB, repo repository, rec audittrail.Recorder, bc cache.Broadcaster,
	kv vault.KV, log *zap.Logger) *keyRing {
	if kv == nil {
		kv = vault.Disabled{}
	}
	r := &keyRing{
		cfg: cfg, db: db, repo: repo, rec: rec, bc: bc, vault: kv, log: log, now: time.Now,
		retention: cfg.TokenTTL + leeway,
		parts:     map[string]*keyParts{},
	}
	r.snap.Store(&ringSnapshot{byKID: map[string]*ringKey{}, jwks: []byte(`{"keys":[]}`)})
	return r
}

// reload reads the published keys and swaps the snapshot.
func (r *keyRing) reload(ctx context.Context) error {
	now := r.now()
	rows, err := r.repo.keysPublishedAfter(ctx, r.db, now.Add(-r.retention))
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	snap := &ringSnapshot{byKID: make(map[string]*ringKey, len(rows))}
	jwks := []byte(`{"keys":[`)
	for i := range rows {
		row := &rows[i]
		k := &ringKey{kid: row.KID, alg: row.Alg, createdAt: row.CreatedAt, activatesAt: row.ActivatesAt}
		if row.RetiresAt != nil {
			k.retiresAt = *row.RetiresAt
		}
		p, err := r.partsOf(ctx, row, k.state(now) != KeyRetired)
		if err != nil {
			r.log.Error("skipping a signing key that cannot be read", zap.String("kid", row.KID), zap.Error(err))
			continue
		}
		k.public, k.jwk, k.signer = p.public, p.jwk, p.signer
		snap.keys = append(snap.keys, k)
		snap.byKID[k.kid] = k
		if len(snap.keys) > 1 {
			jwks = append(jwks, ',')
		}
		jwks = append(jwks, k.jwk...)
	}
	snap.jwks = append(jwks, "]}"...)
	r.snap.Store(snap)
	for kid := range r.parts {
		if _, ok := snap.byKID[kid]; !ok {
			delete(r.parts, kid)
		}
	}
	return nil
}

// partsOf parses row's public key and, when the key may still sign, opens its private key
// and prepares its signer. Call with r.mu held.
func (r *keyRing) partsOf(ctx context.Context, row *signingKeyRow, mayStillSign bool) (*keyParts, error) {
	p := r.parts[row.KID]
	if p == nil {
		pub, err := parsePublicJWK([]byte(row.PublicJWK), row.KID, row.Alg)
		if err != nil {
			return nil, err
		}
		if err := checkKeyFits(row.Alg, pub); err != nil {
			return nil, err
		}
		p = &keyParts{public: pub, jwk: []byte(row.PublicJWK)}
		r.parts[row.KID] = p
	}
	if p.signer == nil && mayStillSign {
		priv, err := r.privateKey(ctx, row)
		if err != nil {
			if p.openErr == nil || p.openErr.Error() != err.Error() { // once per distinct cause, not every reload
				r.log.Error("signing key cannot be opened; it cannot sign here (retried at every reload)",
					zap.String("kid", row.KID), zap.String("key_wrap", row.KeyWrap), zap.Error(err))
			}
			p.openErr = err
			return p, nil
		}
		p.openErr = nil
		if p.signer, err = newTokenSigner(row.KID, row.Alg, priv); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// privateKey opens row's private key: sealed in the row (a256gcm) or held in Vault.
func (r *keyRing) privateKey(ctx context.Context, row *signingKeyRow) (crypto.Signer, error) {
	switch row.KeyWrap {
	case keyWrapAESGCM:
		return openPrivateKey(r.cfg.MasterKey, row.KID, row.PrivateKey, row.KeyNonce)
	case keyWrapVault:
		if !vault.Enabled(r.vault) {
			return nil, errors.New("the key is held in Vault and VAULT_ADDR is not set")
		}
		return loadFromVault(ctx, r.vault, row.KID)
	default:
		return nil, fmt.Errorf("unknown key_wrap %q", row.KeyWrap)
	}
}

// signingKey is the key that signs at now.
func (r *keyRing) signingKey(now time.Time) (*ringKey, error) {
	for _, k := range r.snap.Load().keys {
		if k.signsAt(now) {
			if k.signer == nil {
				return nil, apperr.Unavailable("the signing key cannot be used on this server",
					fmt.Errorf("%w: key %s cannot be opened here", errNoSigningKey, k.kid))
			}
			return k, nil
		}
	}
	return nil, apperr.Unavailable("no signing key is active", errNoSigningKey)
}

// verificationKey returns the published key kid, or nil. An unknown kid triggers one
// throttled reload, so that a key rotated on another replica without a publish delay is
// found before the next periodic reload.
func (r *keyRing) verificationKey(ctx context.Context, kid string, now time.Time) *ringKey {
	if k := r.published(kid, now); k != nil {
		return k
	}
	last := r.lastMissReload.Load()
	if now.UnixNano()-last < int64(missReloadEvery) || !r.lastMissReload.CompareAndSwap(last, now.UnixNano()) {
		return nil
	}
	if !r.mu.TryLock() { // a reload is running: do not queue behind it
		return nil
	}
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, dbTimeout)
	defer cancel()
	if err := r.reload(ctx); err != nil {
		r.log.Warn("reloading signing keys for an unknown kid failed", zap.Error(err))
		return nil
	}
	return r.published(kid, now)
}

func (r *keyRing) published(kid string, now time.Time) *ringKey {
	k := r.snap.Load().byKID[kid]
	if k == nil || (!k.retiresAt.IsZero() && !now.Before(k.retiresAt.Add(r.retention))) {
		return nil
	}
	return k
}

// jwks is the JWK Set of the published keys.
func (r *keyRing) jwks() []byte { return r.snap.Load().jwks }

// ensureSigningKey runs at start: it makes sure a key of the configured algorithm signs now
// or will. On the very first start it creates one that signs at once; when
// AGENTIDP_SIGNING_ALG names another algorithm than the newest key's, it rotates to a key of
// that algorithm (published KeyPublishDelay before it signs). Replicas starting together
// create one key: the check is repeated under the key lock. A key this replica cannot open
// (another master key) fails the start.
func (r *keyRing) ensureSigningKey(ctx context.Context) error {
	if err := r.reload(ctx); err != nil {
		return fmt.Errorf("tokens: loading signing keys: %w", err)
	}
	head := r.head()
	switch {
	case head == nil:
		if _, err := r.rotate(ctx, rotation{reason: "first_start", action: ActionKeyCreated,
			needed: func(h *signingKeyRow) bool { return h == nil }}); err != nil {
			return fmt.Errorf("tokens: creating the first signing key: %w", err)
		}
	case head.alg != r.cfg.SigningAlg:
		r.log.Info("AGENTIDP_SIGNING_ALG changed: rotating to a key of the new algorithm",
			zap.String("from", head.alg), zap.String("to", r.cfg.SigningAlg))
		if _, err := r.rotate(ctx, rotation{reason: "signing_alg_changed", action: ActionKeyRotated,
			delay:  r.cfg.KeyPublishDelay,
			needed: func(h *signingKeyRow) bool { return h == nil || h.Alg != r.cfg.SigningAlg }}); err != nil {
			return fmt.Errorf("tokens: rotating to an %s key: %w", r.cfg.SigningAlg, err)
		}
	}
	if head = r.head(); head == nil || head.signer == nil {
		kid, cause := "", errMasterKey
		if head != nil {
			kid = head.kid
			r.mu.Lock()
			if p := r.parts[kid]; p != nil && p.openErr != nil {
				cause = p.openErr
			}
			r.mu.Unlock()
		}
		return fmt.Errorf("tokens: signing key %s cannot sign on this replica: %w", kid, cause)
	}
	return nil
}

// head is the newest key not scheduled to retire: the one that signs, or will.
func (r *keyRing) head() *ringKey {
	for _, k := range r.snap.Load().keys {
		if k.retiresAt.IsZero() {
			return k
		}
	}
	return nil
}

// rotation describes one key creation.
type rotation struct {
	reason string
	action string
	delay  time.Duration
	// needed, given the newest unretired key under the lock (nil if none), says whether
	// the key is still to be made (another replica may have made it meanwhile).
	needed func(head *signingKeyRow) bool
}

// rotate makes a key of the configured algorithm that signs from now+delay, and retires
// every other key at that instant (so exactly one key signs at any time, without a gap),
// auditing the change in the same transaction. It returns the new key, or the zero KeyInfo
// when needed said no.
func (r *keyRing) rotate(ctx context.Context, rot rotation) (KeyInfo, error) {
	alg := r.cfg.SigningAlg
	priv, err := newKeyPair(alg)
	if err != nil {
		return KeyInfo{}, err
	}
	kid, err := keyID(priv.Public())
	if err != nil {
		return KeyInfo{}, err
	}
	jwk, err := publicJWK(kid, alg, priv.Public())
	if err != nil {
		return KeyInfo{}, err
	}
	// The private part: in Vault (Vault mode), written before the row so that a row never
	// names a key Vault does not hold; else sealed into the row under the master key.
	wrap, sealed, nonce := keyWrapVault, []byte{}, []byte{}
	if vault.Enabled(r.vault) {
		if err := storeInVault(ctx, r.vault, kid, priv); err != nil {
			return KeyInfo{}, err
		}
	} else {
		wrap = keyWrapAESGCM
		if sealed, nonce, err = sealPrivateKey(r.cfg.MasterKey, kid, priv); err != nil {
			return KeyInfo{}, err
		}
	}
	var info KeyInfo
	err = r.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := r.repo.lockKeys(ctx, tx); err != nil {
			return err
		}
		if rot.needed != nil {
			rows, err := r.repo.keysPublishedAfter(ctx, tx, r.now())
			if err != nil {
				return err
			}
			var head *signingKeyRow
			for i := range rows {
				if rows[i].RetiresAt == nil {
					head = &rows[i]
					break
				}
			}
			if !rot.needed(head) {
				return nil
			}
		}
		now := database.Time(r.now())
		row := &signingKeyRow{KID: kid, Alg: alg, PublicJWK: string(jwk), PrivateKey: sealed, KeyNonce: nonce,
			KeyWrap: wrap, CreatedAt: now, ActivatesAt: now.Add(rot.delay)}
		if err := r.repo.insertKey(ctx, tx, row); err != nil {
			return err
		}
		retired, err := r.repo.retireKeysAt(ctx, tx, row.ActivatesAt, kid)
		if err != nil {
			return err
		}
		via := "cli"
		if reqctx.InfoFrom(ctx).RequestID != "" {
			via = "api"
		}
		if err := r.rec.RecordTx(ctx, tx, audittrail.Event{
			Action: rot.action, TargetType: audittrail.TargetKey, TargetID: kid,
			Details: map[string]any{"alg": alg, "activates_at": row.ActivatesAt.Format(time.RFC3339Nano),
				"retired_kids": retired, "reason": rot.reason, "via": via},
		}); err != nil {
			return err
		}
		info = KeyInfo{KID: kid, Alg: alg, State: keyState(now, row.ActivatesAt, time.Time{}),
			CreatedAt: now, ActivatesAt: row.ActivatesAt}
		return nil
	})
	if info.KID == "" && vault.Enabled(r.vault) {
		// No row names the key (the transaction failed, or another replica made the key
		// meanwhile): its Vault entry is garbage.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), dbTimeout)
		if derr := r.vault.Delete(dctx, vaultKeyPath(kid)); derr != nil {
			r.log.Warn("could not delete the Vault entry of a signing key that was not stored",
				zap.String("kid", kid), zap.Error(derr))
		}
		cancel()
	}
	if err != nil {
		return KeyInfo{}, err
	}
	if info.KID != "" {
		r.log.Info("signing key created", zap.String("kid", kid), zap.String("alg", alg),
			zap.Time("activates_at", info.ActivatesAt), zap.String("reason", rot.reason))
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), dbTimeout)
		if err := r.bc.Publish(pctx, KeysChangedChannel, []byte(kid)); err != nil {
			r.log.Warn("announcing the new signing key failed; other replicas reload within seconds anyway", zap.Error(err))
		}
		cancel()
	}
	return info, r.reload(context.WithoutCancel(ctx))
}

// ListKeys implements KeyAdmin: every key, newest first, never private material.
func (r *keyRing) ListKeys(ctx context.Context) ([]KeyInfo, error) {
	rows, err := r.repo.allKeys(ctx, r.db)
	if err != nil {
		return nil, err
	}
	now := r.now()
	out := make([]KeyInfo, 0, len(rows))
	for _, row := range rows {
		var retires time.Time
		info := KeyInfo{KID: row.KID, Alg: row.Alg, CreatedAt: row.CreatedAt.UTC(), ActivatesAt: row.ActivatesAt.UTC()}
		if row.RetiresAt != nil {
			retires = *row.RetiresAt
			t := retires.UTC()
			info.RetiresAt = &t
		}
		info.State = keyState(now, row.ActivatesAt, retires)
		out = append(out, info)
	}
	return out, nil
}

// RotateKey implements KeyAdmin: a new key of AGENTIDP_SIGNING_ALG, published at once,
// signing after AGENTIDP_KEY_PUBLISH_DELAY; the current key signs until then and stays
// published until its last token expires.
func (r *keyRing) RotateKey(ctx context.Context) (KeyInfo, error) {
	return r.rotate(ctx, rotation{reason: "requested", action: ActionKeyRotated, delay: r.cfg.KeyPublishDelay})
}

var _ KeyAdmin = (*keyRing)(nil)
