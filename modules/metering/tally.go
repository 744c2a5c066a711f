package metering

import (
	"hash/maphash"
	"sync"
	"time"
)

// tallies remember, per agent and month, the highest value of the monthly counter that this
// process has seen (each successful increment returns the counter's new absolute value), in
// total and per UTC day. The flusher persists them with "keep the greater" upserts: the
// values are absolute and monotonic within a month, so replicas persisting what each of them
// saw never add anything up twice, and the highest value seen on a day is the month-to-date
// count at the end of that day, whichever replica saw it.
//
// Observations are held back one flush interval: the periodic flush persists the
// generation observed before the previous flush ("aged"), never values seen since ("cur").
// That keeps values counted by a just re-created cache counter out of the store while the
// counter is being restored from the store (see meter.restore). Stop flushes both.
//
// Recording costs no cache round trip: one shard read lock and one small mutex.
type tallies struct {
	seed   maphash.Seed
	shards [tallyShards]tallyShard
}

const tallyShards = 64 // a power of two

type tallyShard struct {
	mu sync.RWMutex
	m  map[agentMonth]*tally
}

type agentMonth struct{ agent, month string }

type tally struct {
	mu      sync.Mutex
	max     int64            // highest month-to-date value seen
	cur     map[string]int64 // day → highest value seen that day since the last flush
	aged    map[string]int64 // the same for the interval before, persisted by the next flush
	evicted bool             // removed from its shard: a writer holding it must look again
	touched time.Time
}

// flushRow is one (agent, month) worth of observations to persist.
type flushRow struct {
	agentMonth
	org  string           // the agent's organization (set by the flusher)
	max  int64            // month-to-date: the highest of days
	days map[string]int64 // day → month-to-date at the end of the day (so far)
}

func newTallies() *tallies {
	t := &tallies{seed: maphash.MakeSeed()}
	for i := range t.shards {
		t.shards[i].m = make(map[agentMonth]*tally)
	}
	return t
}

func (t *tallies) shard(agent string) *tallyShard {
	return &t.shards[maphash.String(t.seed, agent)&(tallyShards-1)]
}

func (t *tallies) get(k agentMonth, create bool) *tally {
	s := t.shard(k.agent)
	s.mu.RLock()
	e := s.m[k]
	s.mu.RUnlock()
	if e != nil || !create {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e = s.m[k]; e == nil {
		e = &tally{cur: make(map[string]int64, 1), aged: make(map[string]int64, 1)}
		s.m[k] = e
	}
	return e
}

// lock returns k's entry, created if needed, locked, and never one that evict removed.
func (t *tallies) lock(k agentMonth) *tally {
	for {
		e := t.get(k, true)
		e.mu.Lock()
		if !e.evicted {
			return e
		}
		e.mu.Unlock()
	}
}

// observe records that the agent's counter for p's month reached v on p's day.
func (t *tallies) observe(agent string, p *period, v int64, now time.Time) {
	e := t.lock(agentMonth{agent, p.month})
	if v > e.max {
		e.max = v
	}
	if v > e.cur[p.day] {
		e.cur[p.day] = v
	}
	e.touched = now
	e.mu.Unlock()
}

// max is the highest value this process has seen for the agent's month (0 if none).
func (t *tallies) max(agent, month string) int64 {
	e := t.get(agentMonth{agent, month}, false)
	if e == nil {
		return 0
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.max
}

// take hands over the observations to persist: with all, everything; otherwise the aged
// generation only, and the current one becomes aged. A failed flush gives them back with
// restore.
func (t *tallies) take(all bool) []flushRow {
	var rows []flushRow
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.RLock()
		for k, e := range s.m {
			e.mu.Lock()
			days := e.aged
			if all {
				merge(days, e.cur)
				clear(e.cur)
			}
			if len(days) > 0 {
				rows = append(rows, flushRow{agentMonth: k, max: maxOf(days), days: days})
				days = make(map[string]int64, 1)
			}
			// Rotate: what was seen since the last flush waits for the next one.
			e.aged, e.cur = e.cur, days
			e.mu.Unlock()
		}
		s.mu.RUnlock()
	}
	return rows
}

// restore gives back rows that could not be persisted; the next flush retries them.
func (t *tallies) restore(rows []flushRow) {
	for _, r := range rows {
		e := t.lock(r.agentMonth)
		e.max = max(e.max, r.max)
		merge(e.aged, r.days)
		e.mu.Unlock()
	}
}

// evict drops entries with nothing left to persist and untouched since before cutoff:
// what they hold is in the store, which the counter restore reads as well.
func (t *tallies) evict(cutoff time.Time) {
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for k, e := range s.m {
			e.mu.Lock()
			if len(e.cur) == 0 && len(e.aged) == 0 && e.touched.Before(cutoff) {
				e.evicted = true
				delete(s.m, k)
			}
			e.mu.Unlock()
		}
		s.mu.Unlock()
	}
}

// size is the number of entries.
func (t *tallies) size() int {
	n := 0
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}

// merge keeps in dst the greater value of each day.
func merge(dst, src map[string]int64) {
	for d, v := range src {
		if v > dst[d] {
			dst[d] = v
		}
	}
}

func maxOf(days map[string]int64) int64 {
	m := int64(0)
	for _, v := range days {
		m = max(m, v)
	}
	return m
}
