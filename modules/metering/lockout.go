package metering

import (
	"bytes"
	"context"
	"strconv"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/cache"
)

// lockoutChannel carries "<unix ms until> <key>" to every replica when a failed-
// authentication budget runs out.
const lockoutChannel = "metering:lockouts"

// Bounds of the lockout table: expired entries are swept when it has grown to twice its
// size after the last sweep (at least sweepFloor); past maxLockouts no new key is kept, and
// such a key is refused again at its next failure (the cache still counts it).
const (
	sweepFloor  = 1024
	maxLockouts = 1 << 20
)

// lockouts is this replica's table of the failed-authentication keys (per pair (client_id,
// source IP) and per source IP) whose budget is used up, each with the time it is free
// again.
// CheckAuthFailures reads only this table, so a request that authenticates costs no cache
// round trip for the brute-force guard. RecordAuthFailure charges the budget in the cache
// (exact across replicas) and, when it runs out, locks the key here and on every other
// replica through the broadcast channel. A replica that misses the message (pub/sub is at
// most once) locks the key at its own next failure for it: one more secret checked.
type lockouts struct {
	bc  cache.Broadcaster
	log *zap.Logger
	now func() time.Time

	mu      sync.Mutex
	until   map[string]time.Time
	sweepAt int
}

func newLockouts(bc cache.Broadcaster, log *zap.Logger, now func() time.Time) *lockouts {
	return &lockouts{bc: bc, log: log, now: now, until: map[string]time.Time{}, sweepAt: sweepFloor}
}

// lockedFor reports how long key is still locked; 0 when it is not.
func (l *lockouts) lockedFor(key string) time.Duration {
	l.mu.Lock()
	until, ok := l.until[key]
	l.mu.Unlock()
	if !ok {
		return 0
	}
	return max(until.Sub(l.now()), 0)
}

// lock locks key until the given time here and tells the other replicas.
func (l *lockouts) lock(ctx context.Context, key string, until time.Time) {
	l.add(key, until)
	msg := strconv.AppendInt(nil, until.UnixMilli(), 10)
	msg = append(append(msg, ' '), key...)
	if err := l.bc.Publish(ctx, lockoutChannel, msg); err != nil {
		l.log.Debug("could not broadcast an authentication lockout", zap.Error(err))
	}
}

// onMessage is the lockoutChannel handler (its worker, module.go, holds the subscription).
func (l *lockouts) onMessage(payload []byte) {
	ms, key, ok := bytes.Cut(payload, []byte{' '})
	n, err := strconv.ParseInt(string(ms), 10, 64)
	if !ok || err != nil || len(key) == 0 {
		return
	}
	l.add(string(key), time.UnixMilli(n))
}

func (l *lockouts) add(key string, until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if cur, ok := l.until[key]; ok {
		if until.After(cur) {
			l.until[key] = until
		}
		return
	}
	if len(l.until) >= l.sweepAt {
		now := l.now()
		for k, u := range l.until {
			if !u.After(now) {
				delete(l.until, k)
			}
		}
		l.sweepAt = max(2*len(l.until), sweepFloor)
	}
	if len(l.until) >= maxLockouts {
		return
	}
	l.until[key] = until
}
