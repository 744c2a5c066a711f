package tokens

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/uptrace/bun"
	"go.uber.org/zap/zaptest"

	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/vault"
	"github.com/agentidp/agentidp/platform/vault/kvtest"
)

// vaultRing builds and starts a key ring with Vault mode on cfg (kv nil: Vault mode off),
// stopped at the end of the test; start's error is returned.
func vaultRing(t *testing.T, cfg *config.Config, db *bun.DB, kv vault.KV) (*keyRing, error) {
	t.Helper()
	c := cache.NewMemory()
	t.Cleanup(func() { _ = c.Close() })
	return startRing(t, cfg, db, &fakeRecorder{}, c, kv, zaptest.NewLogger(t))
}

// signAndVerify signs with the ring's signing key and checks the signature with its
// published key.
func signAndVerify(t *testing.T, signer, verifier *keyRing) string {
	t.Helper()
	k, err := signer.signingKey(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tok, err := k.signer.Sign(&claims{ClientID: "x"})
	if err != nil {
		t.Fatal(err)
	}
	pub := verifier.verificationKey(context.Background(), k.kid, time.Now())
	if pub == nil {
		t.Fatalf("key %s not published to the verifying ring", k.kid)
	}
	obj, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(pub.alg)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := obj.Verify(pub.public); err != nil {
		t.Fatalf("signature of key %s does not verify: %v", k.kid, err)
	}
	return k.kid
}

// withFakeVault turns Vault mode on in cfg against a new KV v2 fake and opens the client.
func withFakeVault(t *testing.T, cfg *config.Config) (*kvtest.FakeKV2, vault.KV) {
	t.Helper()
	fake := kvtest.NewFakeKV2(t, "hvs.tokens-test-token")
	fake.Configure(cfg)
	kv, err := vault.New(cfg, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	return fake, kv
}

// Vault mode: a new key's private part goes to Vault (KV v2 at agentidp/signing-keys/<kid>)
// and nowhere in the database; every replica with Vault opens it; a replica without Vault,
// or with Vault sealed, cannot sign with it and says why; keys sealed under the master key
// before Vault mode was turned on keep signing.
func TestKeyRingVaultMode(t *testing.T) {
	eachDB(t, func(t *testing.T, db *bun.DB) {
		cfg := unitConfig(t, AlgEdDSA)
		fake, kv := withFakeVault(t, cfg)
		a, err := vaultRing(t, cfg, db, kv)
		if err != nil {
			t.Fatal(err)
		}
		kid := signAndVerify(t, a, a)

		vs := fake.Versions(vaultKeyPath(kid))
		if len(vs) != 1 || vs[0].Data[vaultKeyField] == "" {
			t.Fatalf("Vault holds %+v at %s", vs, vaultKeyPath(kid))
		}
		var row signingKeyRow
		if err := db.NewSelect().Model(&row).Where("kid = ?", kid).Scan(context.Background()); err != nil {
			t.Fatal(err)
		}
		if row.KeyWrap != keyWrapVault || len(row.PrivateKey) != 0 || len(row.KeyNonce) != 0 {
			t.Fatalf("row keeps key_wrap %q, %d private bytes, %d nonce bytes", row.KeyWrap, len(row.PrivateKey), len(row.KeyNonce))
		}

		// Another replica with Vault signs with the same key.
		b, err := vaultRing(t, cfg, db, kv)
		if err != nil {
			t.Fatal(err)
		}
		if got := signAndVerify(t, b, a); got != kid {
			t.Fatalf("replica b signs with %s, want %s", got, kid)
		}

		// Without Vault, or with Vault sealed, a replica cannot sign with it: the start fails
		// with one line saying why.
		noVault := *cfg
		noVault.VaultAddr, noVault.VaultToken = "", ""
		if _, err := vaultRing(t, &noVault, db, nil); err == nil || !strings.Contains(err.Error(), "VAULT_ADDR") {
			t.Fatalf("start without Vault: %v, want an error naming VAULT_ADDR", err)
		}
		fake.Seal()
		if _, err := vaultRing(t, cfg, db, kv); err == nil || !strings.Contains(err.Error(), "sealed") {
			t.Fatalf("start with Vault sealed: %v, want an error saying it is sealed", err)
		}
		// Creating a key needs Vault: a rotation while it is sealed fails and makes no row.
		before, _ := a.repo.allKeys(context.Background(), db)
		if _, err := a.RotateKey(context.Background()); err == nil {
			t.Fatal("rotation with Vault sealed succeeded")
		}
		if after, _ := a.repo.allKeys(context.Background(), db); len(after) != len(before) {
			t.Fatalf("%d keys after a failed rotation, want %d", len(after), len(before))
		}
		fake.Unseal()
	})
}

// Turning Vault mode on keeps the keys sealed under the master key working; new keys go to
// Vault.
func TestKeyRingVaultModeKeepsSealedKeys(t *testing.T) {
	eachDB(t, func(t *testing.T, db *bun.DB) {
		cfg := unitConfig(t, AlgEdDSA)
		plain, err := vaultRing(t, cfg, db, nil)
		if err != nil {
			t.Fatal(err)
		}
		sealedKID := signAndVerify(t, plain, plain)

		vcfg := *cfg
		fake, kv := withFakeVault(t, &vcfg)
		v, err := vaultRing(t, &vcfg, db, kv)
		if err != nil {
			t.Fatal(err)
		}
		if got := signAndVerify(t, v, plain); got != sealedKID {
			t.Fatalf("Vault-mode replica signs with %s, want the sealed key %s", got, sealedKID)
		}
		if len(fake.Paths()) != 0 {
			t.Fatalf("Vault holds %v before any key was made in Vault mode", fake.Paths())
		}
	})
}

// Replicas starting together in Vault mode make one key; the Vault entries of the keys the
// others made and did not store are deleted.
func TestKeyRingVaultModeFirstStartAcrossReplicas(t *testing.T) {
	eachDB(t, func(t *testing.T, db *bun.DB) {
		cfg := unitConfig(t, AlgEdDSA)
		fake, kv := withFakeVault(t, cfg)
		const replicas = 3
		rings := make([]*keyRing, replicas)
		errs := make([]error, replicas)
		var wg sync.WaitGroup
		for i := range rings {
			wg.Go(func() { rings[i], errs[i] = vaultRing(t, cfg, db, kv) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("replica %d: %v", i, err)
			}
		}
		keys, err := rings[0].repo.allKeys(context.Background(), db)
		if err != nil || len(keys) != 1 {
			t.Fatalf("%d keys (%v), want 1", len(keys), err)
		}
		if got, want := fake.Paths(), []string{vaultKeyPath(keys[0].KID)}; !slices.Equal(got, want) {
			t.Fatalf("Vault holds %v, want only %v", got, want)
		}
		for i := range rings {
			if kid := signAndVerify(t, rings[i], rings[0]); kid != keys[0].KID {
				t.Fatalf("replica %d signs with %s", i, kid)
			}
		}
	})
}
