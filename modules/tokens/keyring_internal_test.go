package tokens

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"go.uber.org/zap/zaptest"

	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/testenv"
)

func eachDB(t *testing.T, fn func(t *testing.T, db *bun.DB)) {
	t.Run("postgres", func(t *testing.T) { fn(t, testenv.Postgres(t)) })
	t.Run("sqlite", func(t *testing.T) { fn(t, testenv.SQLite(t)) })
}

// Replicas starting together on an empty database create exactly one key.
func TestFirstKeyCreatedOnceAcrossReplicas(t *testing.T) {
	eachDB(t, func(t *testing.T, db *bun.DB) {
		cfg := unitConfig(t, AlgRS256)
		const replicas = 4
		var wg sync.WaitGroup
		errs := make([]error, replicas)
		rings := make([]*keyRing, replicas)
		for i := range rings {
			c := cache.NewMemory()
			t.Cleanup(func() { _ = c.Close() })
			wg.Add(1)
			go func() {
				defer wg.Done()
				rings[i], errs[i] = startRing(t, cfg, db, &fakeRecorder{}, c, nil, zaptest.NewLogger(t))
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("replica %d: %v", i, err)
			}
		}
		keys, err := rings[0].ListKeys(context.Background())
		if err != nil || len(keys) != 1 {
			t.Fatalf("%d keys after a concurrent first start: %+v %v", len(keys), keys, err)
		}
		for i, r := range rings {
			k, err := r.signingKey(time.Now())
			if err != nil || k.kid != keys[0].KID {
				t.Fatalf("replica %d signs with %v (%v), want %s", i, k, err, keys[0].KID)
			}
		}
	})
}

// A key rotated on one replica reaches the other's ring through the keys.changed broadcast
// (its worker reloads at once), well before the periodic reload (every keyRefreshEvery).
func TestKeyChangeBroadcastReloadsOtherReplicas(t *testing.T) {
	db := testenv.SQLite(t)
	cfg := unitConfig(t, AlgEdDSA)
	c := cache.NewMemory() // one broadcaster shared by both replicas
	t.Cleanup(func() { _ = c.Close() })
	a, err := startRing(t, cfg, db, &fakeRecorder{}, c, nil, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	b, err := startRing(t, cfg, db, &fakeRecorder{}, c, nil, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the subscriptions take effect
	info, err := a.RotateKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(keyRefreshEvery / 2)
	for b.published(info.KID, time.Now()) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("replica b does not publish %s %v after the broadcast: it waits for the periodic reload", info.KID, keyRefreshEvery/2)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Two rotations in a row: exactly one key signs at any instant, the superseded pending
// key never signs, and every key stays published for verification.
func TestRotationTimeline(t *testing.T) {
	u := newUnitEnv(t, testenv.SQLite(t), AlgEdDSA)
	ctx := context.Background()
	first, _ := u.ring.signingKey(time.Now())
	u.cfg.KeyPublishDelay = time.Hour
	second, err := u.ring.RotateKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u.cfg.KeyPublishDelay = 0
	third, err := u.ring.RotateKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	k, err := u.ring.signingKey(now)
	if err != nil || k.kid != third.KID {
		t.Fatalf("signing with %v, want the third key", k)
	}
	keys, _ := u.ring.ListKeys(ctx)
	states := map[string]KeyState{}
	for _, k := range keys {
		states[k.KID] = k.State
	}
	if states[first.kid] != KeyRetired || states[second.KID] != KeyRetired || states[third.KID] != KeyActive {
		t.Fatalf("states %v", states)
	}
	for _, kid := range []string{first.kid, second.KID, third.KID} {
		if u.ring.published(kid, now) == nil {
			t.Fatalf("key %s not published", kid)
		}
	}
	// Far in the future, retired keys are gone; the active one stays.
	later := now.Add(u.cfg.TokenTTL + leeway + time.Hour)
	if u.ring.published(first.kid, later) != nil || u.ring.published(third.KID, later) == nil {
		t.Fatal("publication window")
	}
	if len(u.rec.events) != 3 || u.rec.events[0].Action != ActionKeyCreated || u.rec.events[2].Action != ActionKeyRotated {
		t.Fatalf("audit events %+v", u.rec.events)
	}
}

// A replica with another master key cannot open the signing key: the start fails with one
// line naming AGENTIDP_MASTER_KEY.
func TestWrongMasterKeyFailsTheStart(t *testing.T) {
	db := testenv.SQLite(t)
	u := newUnitEnv(t, db, AlgRS256)
	cfg := *u.cfg
	cfg.MasterKey = make([]byte, 32)
	_, _ = rand.Read(cfg.MasterKey)
	c := cache.NewMemory()
	defer c.Close()
	_, err := startRing(t, &cfg, db, &fakeRecorder{}, c, nil, zaptest.NewLogger(t))
	if err == nil {
		t.Fatal("started with the wrong master key")
	}
	if got := err.Error(); !strings.Contains(got, "AGENTIDP_MASTER_KEY") {
		t.Fatalf("error %q does not name the variable", got)
	}
}

func TestSealing(t *testing.T) {
	master := make([]byte, 32)
	_, _ = rand.Read(master)
	priv, err := newKeyPair(AlgES256)
	if err != nil {
		t.Fatal(err)
	}
	sealed, nonce, err := sealPrivateKey(master, "kid-1", priv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openPrivateKey(master, "kid-1", sealed, nonce); err != nil {
		t.Fatal(err)
	}
	if _, err := openPrivateKey(master, "kid-2", sealed, nonce); err != errMasterKey {
		t.Fatalf("moved to another kid: %v", err)
	}
	other := make([]byte, 32)
	if _, err := openPrivateKey(other, "kid-1", sealed, nonce); err != errMasterKey {
		t.Fatalf("another master key: %v", err)
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := openPrivateKey(master, "kid-1", sealed, nonce); err != errMasterKey {
		t.Fatalf("altered: %v", err)
	}
}

func TestKeyState(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		now, act, ret time.Time
		want          KeyState
	}{
		{t0, t0.Add(time.Second), time.Time{}, KeyPending},
		{t0, t0, time.Time{}, KeyActive},
		{t0, t0.Add(-time.Hour), t0.Add(time.Second), KeyActive},
		{t0, t0.Add(-time.Hour), t0, KeyRetired},
		{t0, t0.Add(time.Hour), t0.Add(-time.Second), KeyRetired}, // superseded before it ever signed
	}
	for i, c := range cases {
		if got := keyState(c.now, c.act, c.ret); got != c.want {
			t.Errorf("case %d: %s, want %s", i, got, c.want)
		}
	}
}

// A retired key can have signed only tokens dated up to its retirement, plus the leeway.
func TestMayHaveSigned(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	unretired := &ringKey{activatesAt: t0}
	retired := &ringKey{activatesAt: t0.Add(-time.Hour), retiresAt: t0}
	for _, c := range []struct {
		k    *ringKey
		iat  time.Time
		want bool
	}{
		{unretired, t0.Add(time.Hour), true},
		{retired, t0.Add(-time.Minute), true},
		{retired, t0, true},
		{retired, t0.Add(leeway), true},
		{retired, t0.Add(leeway + time.Second), false},
		{retired, t0.Add(time.Hour), false},
	} {
		if got := c.k.mayHaveSigned(c.iat.Unix()); got != c.want {
			t.Errorf("retires %v, iat %v: %v, want %v", c.k.retiresAt, c.iat, got, c.want)
		}
	}
}

// A key sealed the way stored rows have always been sealed (AES-256-GCM under the master
// key, 12-byte nonce, the kid as additional data; done here with crypto/cipher directly,
// not through platform/sealbox) still opens: keys stored before sealing moved to sealbox
// keep working.
func TestSealingOpensRowsSealedBefore(t *testing.T) {
	master := make([]byte, 32)
	_, _ = rand.Read(master)
	priv, err := newKeyPair(AlgEdDSA)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	block, err := aes.NewCipher(master)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, 12)
	_, _ = rand.Read(nonce)
	sealed := aead.Seal(nil, nonce, der, []byte("kid-old"))
	got, err := openPrivateKey(master, "kid-old", sealed, nonce)
	if err != nil {
		t.Fatal(err)
	}
	if !priv.(ed25519.PrivateKey).Equal(got) {
		t.Fatal("opened a different key")
	}
}
