package tokens

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/changefeed"
)

// revokedKeyPrefix prefixes the cache key of a revoked jti: revoked:{jti}.
const revokedKeyPrefix = "revoked:"

const (
	// revocationSyncEvery is how often every replica reads the revocations recorded since
	// its last sync from token_revocations: the bound on how long a replica that missed a
	// broadcast and found nothing in the cache (flushed) can lag behind a revocation.
	revocationSyncEvery = time.Second
	// revocationFullSyncEvery: this often (and at start) a sync reads every unexpired
	// revocation instead of those since the mark (platform/changefeed), and forgets the
	// expired ones: the safety net for a row that committed more than changefeed.Overlap
	// behind the newest one seen.
	revocationFullSyncEvery = 5 * time.Minute
	// revocationStaleAfter: when the last successful sync is older than this (the
	// database is unreachable from this replica), the in-process set is not trusted to be
	// complete and every check that the cache cannot answer asks the database itself.
	revocationStaleAfter = 5 * revocationSyncEvery
	// revocationPurgeEvery is how often expired rows are deleted.
	revocationPurgeEvery = 10 * time.Minute
)

// revocationList answers "is this jti revoked?" so that no revoked token is ever accepted,
// even when Redis loses its data or is unreachable:
//
//   - token_revocations is the source of truth; a revocation is acknowledged only once its
//     row (and audit event) is committed.
//   - every replica holds the unexpired revocations in memory (set): added at once on
//     the revoking replica, by broadcast on the others, and by a sync from the database
//     every second (its worker, module.go), which needs neither the broadcast nor the
//     cache. The sync reads only what was revoked since the last one (with an overlap),
//     and everything every five minutes: its cost follows the rate of revocations, not
//     their number (docs/performance.md measured a full read every second of 200 000
//     unexpired revocations at a quarter of a CPU per replica).
//   - the cache (revoked:{jti}, TTL to the token's expiry) is checked when the set says
//     no: it lets a revocation made on another replica count before the broadcast or the
//     sync delivers it.
//   - when the cache cannot be asked, or the set is stale (the sync has been failing), the
//     database answers; when it cannot either, the check fails (503), never passes.
type revocationList struct {
	db    *bun.DB
	repo  repository
	cache cache.Cache
	log   *zap.Logger
	now   func() time.Time

	mu       sync.RWMutex
	set      map[string]int64 // jti → the token's exp (unix seconds)
	syncedAt atomic.Int64     // unix ns when the last successful sync started; 0: never

	syncMu sync.Mutex      // serialises syncs; guards mark and fullAt
	mark   changefeed.Mark // where the next incremental sync starts
	fullAt time.Time       // when the last full sync started; zero: never
}

func newRevocationList(db *bun.DB, repo repository, c cache.Cache, log *zap.Logger) *revocationList {
	return &revocationList{db: db, repo: repo, cache: c, log: log, now: time.Now, set: map[string]int64{}}
}

// load fills the set at start, after the subscription to RevokedChannel is in place. A
// failure is logged, not fatal: until a sync succeeds, checks go to the database.
func (l *revocationList) load(ctx context.Context) error {
	if err := l.sync(ctx); err != nil {
		l.log.Warn("loading revoked tokens failed; checking the database until it succeeds", zap.Error(err))
	}
	return nil
}

// sync adds the revocations recorded since the last sync (less revocationOverlap) to the
// set, or, at start and every revocationFullSyncEvery, every unexpired one, dropping the
// expired ones from the set. It only ever adds: a revocation added meanwhile (local or
// broadcast) is kept.
func (l *revocationList) sync(ctx context.Context) error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	started := l.now()
	cutoff := started.Add(-leeway)
	full := l.fullAt.IsZero() || started.Sub(l.fullAt) >= revocationFullSyncEvery
	var rows []revocationRow
	var err error
	if full {
		rows, err = l.repo.revocationsExpiringAfter(ctx, l.db, cutoff)
	} else {
		rows, err = l.repo.revocationsSince(ctx, l.db, l.mark.Since(started), cutoff)
	}
	if err != nil {
		return err
	}
	l.mu.Lock()
	for _, r := range rows {
		l.set[r.JTI] = r.ExpiresAt.Unix()
	}
	if full {
		for jti, exp := range l.set {
			if exp < cutoff.Unix() {
				delete(l.set, jti)
			}
		}
	}
	l.mu.Unlock()
	for _, r := range rows {
		l.mark.Saw(r.RevokedAt)
	}
	if full {
		l.fullAt = started
		l.mark.Start(started)
	}
	l.syncedAt.Store(started.UnixNano())
	return nil
}

// purge deletes rows of tokens expired for a while (its worker runs it every
// revocationPurgeEvery).
func (l *revocationList) purge(ctx context.Context) error {
	n, err := l.repo.deleteRevocationsExpiredBefore(ctx, l.db, l.now().Add(-time.Hour))
	if err != nil {
		return err
	}
	if n > 0 {
		l.log.Debug("purged expired revocations", zap.Int64("rows", n))
	}
	return nil
}

func (l *revocationList) onBroadcast(payload []byte) {
	jti, exp, ok := strings.Cut(string(payload), " ")
	if !ok {
		return
	}
	e, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return
	}
	l.add(jti, e)
}

func (l *revocationList) add(jti string, exp int64) {
	l.mu.Lock()
	l.set[jti] = exp
	l.mu.Unlock()
}

func (l *revocationList) inSet(jti string) bool {
	l.mu.RLock()
	_, ok := l.set[jti]
	l.mu.RUnlock()
	return ok
}

// fresh reports whether the set reflects the database as of revocationStaleAfter ago.
func (l *revocationList) fresh(now time.Time) bool {
	at := l.syncedAt.Load()
	return at != 0 && now.UnixNano()-at < int64(revocationStaleAfter)
}

// IsRevoked reports whether jti is revoked. See the type's comment for the order.
func (l *revocationList) IsRevoked(ctx context.Context, jti string) (bool, error) {
	if l.inSet(jti) {
		return true, nil
	}
	_, hit, err := l.cache.Get(ctx, revokedKeyPrefix+jti)
	switch {
	case err == nil && hit:
		return true, nil
	case err == nil && l.fresh(l.now()):
		return false, nil
	case err != nil && !errors.Is(err, cache.ErrUnavailable):
		l.log.Warn("revocation cache lookup failed; asking the database", zap.Error(err))
	}
	revoked, dbErr := l.repo.isRevoked(ctx, l.db, jti)
	if dbErr != nil {
		return false, apperr.Unavailable("cannot check whether the token is revoked; retry shortly", dbErr)
	}
	if revoked {
		l.add(jti, l.now().Add(leeway).Unix()+1) // kept until the next sync sets its real expiry
	}
	return revoked, nil
}

// announce spreads a committed revocation: the set at once, the cache (TTL to the token's
// expiry plus the leeway) and the broadcast. Cache and broadcast failures are logged only:
// the row is committed, and the other replicas' sync finds it within a second.
func (l *revocationList) announce(ctx context.Context, jti string, exp time.Time) {
	l.add(jti, exp.Unix())
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), dbTimeout)
	defer cancel()
	ttl := time.Until(exp.Add(leeway)) + time.Second
	if err := l.cache.Set(ctx, revokedKeyPrefix+jti, "1", max(ttl, time.Second)); err != nil {
		l.log.Warn("writing the revocation to the cache failed; the database keeps it", zap.Error(err))
	}
	if err := l.cache.Publish(ctx, RevokedChannel, []byte(jti+" "+strconv.FormatInt(exp.Unix(), 10))); err != nil {
		l.log.Warn("broadcasting the revocation failed; other replicas sync it within a second", zap.Error(err))
	}
}
