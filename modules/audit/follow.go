package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/agentidp/agentidp/platform/httpserver"
)

// followPoll is how long a follower that has caught up waits before it reads again when
// nothing woke it: events appended by another replica, or in a change's transaction, reach
// it within this time; the group-commit writer of its own replica wakes it at once.
const followPoll = time.Second

// What the follow hub keeps of the latest group-commit batches: at most keptBatches, and
// stops adding older ones past keptBytes (estimated from the rows' variable fields).
const (
	keptBatches = 16
	keptBytes   = 8 << 20
)

// followBatch is one committed group-commit batch as the follow hub keeps it: its rows (the
// values the store holds, seqs first…last without a gap), read-only once handed over, and
// their NDJSON lines, encoded once by the first follower that needs them.
type followBatch struct {
	first, last int64
	rows        []*eventRow
	size        int

	once  sync.Once
	lines [][]byte
}

// encoded is the batch's export lines, one per row, encoded as the export encodes an event
// read from the store (Event, HTML not escaped, a newline after each). Shared by every
// follower: never modified after.
func (b *followBatch) encoded() [][]byte {
	b.once.Do(func() {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false) // as the export handler
		b.lines = make([][]byte, len(b.rows))
		for i, r := range b.rows {
			ev := toEvent(r)
			if err := enc.Encode(&ev); err != nil {
				b.lines[i] = nil // not encodable (cannot happen for a row the chain holds): the follower reads the store
				buf.Reset()
				continue
			}
			b.lines[i] = bytes.Clone(buf.Bytes())
			buf.Reset()
		}
	})
	return b.lines
}

// followHub wakes the export followers of this replica when events commit, and keeps the
// last few batches of this replica's group-commit writer so that a follower that has caught
// up takes them from memory instead of reading the store. Followers end when their client
// goes or the HTTP server begins to stop (httpserver.Stopping).
type followHub struct {
	mu    sync.Mutex
	wake  chan struct{}
	kept  []*followBatch // oldest first, seqs increasing (not necessarily adjacent)
	bytes int
	last  int64 // the last seq of the newest batch handed over

	// Events written to followers, by where they came from.
	fromMemory, fromStore prometheus.Counter
}

func newFollowHub(reg prometheus.Registerer) *followHub {
	sent := promauto.With(reg).NewCounterVec(prometheus.CounterOpts{
		Name: "agentidp_audit_follow_events_total",
		Help: "Audit events written to export followers (follow=true): source=memory from the group-commit batches kept in memory, store read from the database.",
	}, []string{"source"})
	return &followHub{
		wake:       make(chan struct{}),
		fromMemory: sent.WithLabelValues("memory"),
		fromStore:  sent.WithLabelValues("store"),
	}
}

// notify hands over a committed batch (rows linked, seqs adjacent, in order; never modified
// after) and wakes every follower waiting now. It costs the writer no encoding.
func (h *followHub) notify(rows []*eventRow) {
	b := &followBatch{rows: rows}
	if len(rows) > 0 {
		b.first, b.last = rows[0].Seq, rows[len(rows)-1].Seq
		for _, r := range rows {
			b.size += 512 + len(r.Details) + len(r.UserAgent) + len(r.TargetID) + len(r.TargetType) + len(r.Action)
		}
	}
	h.mu.Lock()
	if len(rows) > 0 && b.first > h.last {
		h.kept = append(h.kept, b)
		h.bytes += b.size
		for len(h.kept) > keptBatches || (len(h.kept) > 1 && h.bytes > keptBytes) {
			h.bytes -= h.kept[0].size
			h.kept[0] = nil
			h.kept = h.kept[1:]
		}
		h.last = b.last
	}
	close(h.wake)
	h.wake = make(chan struct{})
	h.mu.Unlock()
}

// lastSeq is the last seq of the newest batch handed over: every event up to it has
// committed (the chain commits in seq order).
func (h *followHub) lastSeq() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last
}

// next returns the kept batch holding seq pos+1 (nil if none), whether events after pos were
// handed over (so that, without such a batch, there is a gap the store must fill), and the
// channel closed at the next notify.
func (h *followHub) next(pos int64) (b *followBatch, newer bool, wake <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, k := range h.kept {
		if k.first <= pos+1 && pos+1 <= k.last {
			b = k
			break
		}
	}
	return b, h.last > pos, h.wake
}

// wait blocks until wake is closed (true, woken) or followPoll passes (false, polled); ok is
// false when the follower must end (ctx done or the server stopping).
func (h *followHub) wait(ctx context.Context, wake <-chan struct{}) (woken, ok bool) {
	t := time.NewTimer(followPoll)
	defer t.Stop()
	select {
	case <-wake:
		return true, true
	case <-t.C:
		return false, true
	case <-ctx.Done():
		return false, false
	case <-httpserver.Stopping(ctx):
		return false, false
	}
}
