package tokens

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/changefeed"
	"github.com/agentidp/agentidp/platform/testenv"
)

// brokenCache fails every Get (a Redis outage) when down is set.
type brokenCache struct {
	cache.Cache
	down atomic.Bool
}

func (b *brokenCache) Get(ctx context.Context, key string) (string, bool, error) {
	if b.down.Load() {
		return "", false, fmt.Errorf("test outage: %w", cache.ErrUnavailable)
	}
	return b.Cache.Get(ctx, key)
}

// The revocation check never passes a revoked token: not when the in-process set misses it
// and the cache is down (the database answers), not when the set is stale and the cache
// was flushed (the database answers), and when the database cannot answer either, it
// fails (503) instead of passing.
func TestRevocationCheckFallsBackToTheDatabase(t *testing.T) {
	db := testenv.SQLite(t)
	mem := cache.NewMemory()
	defer mem.Close()
	c := &brokenCache{Cache: mem}
	log := zaptest.NewLogger(t)
	repo := newRepository()
	ctx := context.Background()
	const jti, other = "0191f0a4-1c2d-4e3f-8a4b-5c6d7e8f9a10", "0191f0a4-1c2d-4e3f-8a4b-5c6d7e8f9a11"
	exp := time.Now().Add(time.Hour).UTC()
	if _, err := repo.insertRevocation(ctx, db, &revocationRow{JTI: jti, AgentID: "0191f0a4-1c2d-4e3f-8a4b-5c6d7e8f9a12",
		ExpiresAt: exp, RevokedAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	// A list that has never synced (it knows nothing) and whose cache is empty (flushed).
	l := newRevocationList(db, repo, c, log)

	if revoked, err := l.IsRevoked(ctx, jti); err != nil || !revoked {
		t.Fatalf("stale set, cache miss: revoked %v err %v", revoked, err)
	}
	l = newRevocationList(db, repo, c, log)
	c.down.Store(true)
	if revoked, err := l.IsRevoked(ctx, jti); err != nil || !revoked {
		t.Fatalf("cache down: revoked %v err %v", revoked, err)
	}
	if revoked, err := l.IsRevoked(ctx, other); err != nil || revoked {
		t.Fatalf("cache down, not revoked: revoked %v err %v", revoked, err)
	}
	// Synced set: answers without the cache and the database.
	if err := l.sync(ctx); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	if revoked, err := l.IsRevoked(ctx, jti); err != nil || !revoked {
		t.Fatalf("synced set: revoked %v err %v", revoked, err)
	}
	// Cache down and database gone: a token not in the set cannot be cleared: 503.
	_, err := l.IsRevoked(ctx, other)
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable {
		t.Fatalf("both stores down: %v, want a 503", err)
	}
	// With the cache back and the set fresh, a cache miss is an answer.
	c.down.Store(false)
	if revoked, err := l.IsRevoked(ctx, other); err != nil || revoked {
		t.Fatalf("cache back: revoked %v err %v", revoked, err)
	}
	// But a stale set with the database gone fails closed again.
	l.syncedAt.Store(time.Now().Add(-time.Minute).UnixNano())
	if _, err := l.IsRevoked(ctx, other); err == nil {
		t.Fatal("stale set, database gone: passed")
	}
}

// A revocation reaches the other replicas' sets by broadcast, and the sync fills in one
// whose broadcast was lost.
func TestRevocationSpreads(t *testing.T) {
	db := testenv.SQLite(t)
	mem := cache.NewMemory()
	t.Cleanup(func() { _ = mem.Close() }) // after the lists stop (cleanups run last first)
	log := zaptest.NewLogger(t)
	repo := newRepository()
	ctx := context.Background()
	a, b := startRevocations(t, db, mem, log), startRevocations(t, db, mem, log)
	time.Sleep(50 * time.Millisecond) // the subscriptions take effect
	exp := time.Now().Add(time.Hour)
	a.announce(ctx, "0191f0a4-1c2d-4e3f-8a4b-5c6d7e8f9a20", exp)
	deadline := time.Now().Add(3 * time.Second)
	for !b.inSet("0191f0a4-1c2d-4e3f-8a4b-5c6d7e8f9a20") {
		if time.Now().After(deadline) {
			t.Fatal("the broadcast did not reach the other replica")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Lost broadcast: only the row exists; the sync finds it.
	const lost = "0191f0a4-1c2d-4e3f-8a4b-5c6d7e8f9a21"
	if _, err := repo.insertRevocation(ctx, db, &revocationRow{JTI: lost, AgentID: "0191f0a4-1c2d-4e3f-8a4b-5c6d7e8f9a22",
		ExpiresAt: exp.UTC(), RevokedAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(3 * revocationSyncEvery)
	for !b.inSet(lost) {
		if time.Now().After(deadline) {
			t.Fatal("the sync did not pick up a revocation whose broadcast was lost")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// countingRepo counts the rows the sync's queries return.
type countingRepo struct {
	repository
	full, since atomic.Int64
}

func (c *countingRepo) revocationsExpiringAfter(ctx context.Context, db bun.IDB, t time.Time) ([]revocationRow, error) {
	rows, err := c.repository.revocationsExpiringAfter(ctx, db, t)
	c.full.Add(int64(len(rows)))
	return rows, err
}

func (c *countingRepo) revocationsSince(ctx context.Context, db bun.IDB, since, t time.Time) ([]revocationRow, error) {
	rows, err := c.repository.revocationsSince(ctx, db, since, t)
	c.since.Add(int64(len(rows)))
	return rows, err
}

// The sync reads what was revoked since the newest revocation it has seen (less the
// overlap), not every unexpired revocation: a late commit within the overlap is found at
// once, one further behind at the next full sync, and the full sync forgets expired ones.
func TestRevocationSyncIsIncremental(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) { testIncrementalSync(t, b.DB, b.Cache) })
}

func testIncrementalSync(t *testing.T, db *bun.DB, c cache.Cache) {
	repo := &countingRepo{repository: newRepository()}
	ctx := context.Background()
	// An empty table: the full sync, then incremental ones, succeed and keep the set fresh.
	empty := newRevocationList(db, repo, c, zaptest.NewLogger(t))
	for i := range 3 {
		if err := empty.sync(ctx); err != nil {
			t.Fatalf("sync %d of an empty table: %v", i, err)
		}
	}
	if !empty.fresh(time.Now()) {
		t.Fatal("syncs of an empty table leave the set stale")
	}
	now := time.Now().UTC()
	insert := func(jti string, revokedAt, exp time.Time) {
		t.Helper()
		if _, err := repo.insertRevocation(ctx, db, &revocationRow{JTI: jti, AgentID: "0191f0a4-1c2d-4e3f-8a4b-5c6d7e8f9a30",
			ExpiresAt: exp, RevokedAt: revokedAt}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 50 {
		insert(fmt.Sprintf("0191f0a4-1c2d-4e3f-8a4b-%012d", i), now.Add(-time.Hour), now.Add(time.Hour))
	}
	const expiring = "0191f0a4-1c2d-4e3f-8a4b-5c6d7e8f9a31"
	insert(expiring, now.Add(-time.Hour), now.Add(2*time.Second)) // its token expires soon
	l := newRevocationList(db, repo, c, zaptest.NewLogger(t))
	if err := l.sync(ctx); err != nil { // the first sync reads everything
		t.Fatal(err)
	}
	if repo.full.Load() != 51 || !l.inSet(expiring) {
		t.Fatalf("first sync read %d rows", repo.full.Load())
	}
	const fresh, late, lost = "0191f0a4-1c2d-4e3f-8a4b-5c6d7e8f9a32", "0191f0a4-1c2d-4e3f-8a4b-5c6d7e8f9a33", "0191f0a4-1c2d-4e3f-8a4b-5c6d7e8f9a34"
	insert(fresh, now, now.Add(time.Hour))
	for range 2 { // the first reads the old rows once more (within the overlap of the newest seen), the second only fresh
		repo.since.Store(0)
		if err := l.sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := repo.since.Load(); n != 1 || !l.inSet(fresh) || repo.full.Load() != 51 {
		t.Fatalf("an incremental sync read %d rows (want 1), the full ones %d in all (want 51)", n, repo.full.Load())
	}
	insert(late, now.Add(-changefeed.Overlap/2), now.Add(time.Hour)) // committed late, within the overlap
	insert(lost, now.Add(-2*changefeed.Overlap), now.Add(time.Hour)) // further behind than the overlap
	if err := l.sync(ctx); err != nil {
		t.Fatal(err)
	}
	if !l.inSet(late) || l.inSet(lost) {
		t.Fatalf("after an incremental sync: late %v (want true), lost %v (want false)", l.inSet(late), l.inSet(lost))
	}
	// The next full sync finds it, and drops the expired one.
	l.now = func() time.Time { return time.Now().Add(revocationFullSyncEvery) }
	if err := l.sync(ctx); err != nil {
		t.Fatal(err)
	}
	if !l.inSet(lost) || l.inSet(expiring) {
		t.Fatalf("after the full sync: lost %v (want true), expiring %v (want false)", l.inSet(lost), l.inSet(expiring))
	}
}
