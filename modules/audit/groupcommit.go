package audit

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"go.uber.org/fx"
	"go.uber.org/zap"
)

// ErrWriterStopped is returned by Record before the module has started or after it stopped.
var ErrWriterStopped = errors.New("audit: the group-commit writer is not running")

// Group-commit defaults.
const (
	defaultMaxBatch     = 256
	defaultQueueSize    = 4096
	defaultBatchTimeout = 10 * time.Second
)

// request is one Record call waiting for its batch.
type request struct {
	ctx  context.Context
	row  *eventRow
	done chan error // buffered: the writer never blocks on an answer
}

// groupWriter is the group-commit writer behind Record. One goroutine takes the first
// waiting request, adds whatever else is already queued (up to maxBatch), and writes the
// batch as one multi-row INSERT linked after the chain head it last wrote (one round trip),
// or, when another writer has appended since, in one transaction: one chain lock, one tail
// read, one INSERT, one commit. While a batch is being written the next requests queue up,
// so batches grow with load by themselves and an idle writer adds no delay. Every request
// is answered exactly once with the outcome of its own batch.
type groupWriter struct {
	db      *bun.DB
	log     *zap.Logger
	metrics *writerMetrics
	follow  *followHub // handed each committed batch

	maxBatch     int
	batchTimeout time.Duration

	mu      sync.RWMutex // guards running and the closing of queue
	running bool
	queue   chan *request
	stopped chan struct{}

	// The chain's head as of this writer's last batch; owned by the run goroutine.
	// head.orgs caches organizations' last org_seq as of that head (orgseq.go), read from
	// audit_org_heads the first time an organization is seen, dropped with the head.
	head     head
	haveHead bool
}

// maxCachedOrgs bounds the writer's cache of organizations' heads: beyond it the cache
// starts again empty (each organization then costs one read, outside the lock, once).
const maxCachedOrgs = 10000

// newGroupWriter builds the writer and registers its lifecycle right here: constructed
// before the HTTP server (every route that records depends on it), it starts before the
// server listens and stops after the server has drained its requests.
//
// It is not a platform/worker: its goroutine is a queue consumer, told to end by closing
// the queue and ending only once it has written every event accepted before, whereas a
// worker's loop is cancelled and abandons what it was doing. Its stop honours the OnStop
// context the same way.
func newGroupWriter(lc fx.Lifecycle, db *bun.DB, log *zap.Logger, m *writerMetrics, follow *followHub) *groupWriter {
	w := &groupWriter{
		db: db, log: log, metrics: m, follow: follow,
		maxBatch: defaultMaxBatch, batchTimeout: defaultBatchTimeout,
		queue: make(chan *request, defaultQueueSize), stopped: make(chan struct{}),
	}
	lc.Append(fx.StartStopHook(w.start, w.stop))
	return w
}

// start launches the writer goroutine.
func (w *groupWriter) start(context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.running = true
	go w.run()
	return nil
}

// stop refuses new requests, lets the goroutine write every request already queued, and
// waits for it (or for ctx), so no accepted event is lost at shutdown.
func (w *groupWriter) stop(ctx context.Context) error {
	w.mu.Lock()
	if !w.running {
		w.mu.Unlock()
		return nil
	}
	w.running = false
	close(w.queue)
	w.mu.Unlock()
	select {
	case <-w.stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// submit queues row and waits for its batch's outcome. If ctx ends before the row is
// queued, or while it waits in the queue, the row is not written and ctx's error returned;
// once its batch is being written, submit waits for the truth (bounded by batchTimeout),
// so an error always means "not stored" and nil always means "committed".
func (w *groupWriter) submit(ctx context.Context, row *eventRow) error {
	req := &request{ctx: ctx, row: row, done: make(chan error, 1)}
	w.mu.RLock()
	if !w.running {
		w.mu.RUnlock()
		return ErrWriterStopped
	}
	w.metrics.queueDepth.Inc()
	select {
	case w.queue <- req:
		w.mu.RUnlock()
	case <-ctx.Done():
		w.mu.RUnlock()
		w.metrics.queueDepth.Dec()
		return ctx.Err()
	}
	return <-req.done
}

func (w *groupWriter) run() {
	defer close(w.stopped)
	batch := make([]*request, 0, w.maxBatch)
	for first := range w.queue {
		batch = w.gather(append(batch[:0], first))
		w.flush(batch)
		clear(batch) // drop references to answered requests
	}
}

// gather adds the requests already waiting, up to maxBatch. It does not wait for more: an
// idle writer writes a lone event at once, and under load the requests that arrive while a
// batch commits form the next one.
func (w *groupWriter) gather(batch []*request) []*request {
	for len(batch) < w.maxBatch {
		select {
		case r, ok := <-w.queue:
			if !ok {
				return batch
			}
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// flush writes the live requests of batch in one transaction and answers every request.
// The transaction runs under the writer's own context: a caller giving up never aborts a
// batch that others share.
func (w *groupWriter) flush(batch []*request) {
	live := make([]*request, 0, len(batch))
	rows := make([]*eventRow, 0, len(batch))
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			w.answer(r, err) // gave up while queued: not written
			continue
		}
		live = append(live, r)
		rows = append(rows, r.row)
	}
	if len(rows) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), w.batchTimeout)
	defer cancel()
	start := time.Now()
	err := w.writeRetrying(ctx, rows)
	w.metrics.writeDuration.Observe(time.Since(start).Seconds())
	w.metrics.batchSize.Observe(float64(len(rows)))
	if err != nil {
		w.log.Error("audit batch not written; its callers get the error", zap.Int("events", len(rows)), zap.Error(err))
	} else {
		w.follow.notify(rows) // committed: the rows are the store's values from now on
	}
	for _, r := range live {
		w.answer(r, err)
	}
}

// write appends rows to the chain. After a batch of its own it knows the chain's head, and
// appends right after it in one statement (appendAfter: one round trip); if another writer
// has appended meanwhile, or the head is not known (the first batch, or after an error), it
// appends under the chain lock with a fresh tail read (appendRows, in a transaction).
func (w *groupWriter) write(ctx context.Context, rows []*eventRow) error {
	if w.haveHead {
		err := w.appendFast(ctx, rows)
		if err == nil {
			return nil
		}
		w.haveHead, w.head = false, head{} // the cached organizations' heads go with it
		if !errors.Is(err, errStaleHead) {
			return err
		}
		w.metrics.staleHeads.Inc()
	}
	var h head
	err := w.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) (err error) {
		h, err = appendRows(ctx, tx, rows)
		return err
	})
	if err == nil {
		w.head, w.haveHead = h, true
	}
	return err
}

// appendFast appends rows right after the writer's head (appendAfter). The organizations
// of rows that the head's cache does not hold are read from audit_org_heads first, outside
// the chain lock. That read is safe: it runs after this writer committed its head, so it
// sees every append up to that head; if any other writer appended after the head (before
// or after the read), the chain has moved past it, and the INSERT, which takes the chain
// lock, fails on the seq primary key and writes nothing (errStaleHead): the caller drops
// the head and its cache and appends the long way, reading the heads under the lock. So an
// INSERT that succeeds numbered every organization after its true last org_seq.
func (w *groupWriter) appendFast(ctx context.Context, rows []*eventRow) error {
	if len(w.head.orgs) > maxCachedOrgs {
		w.head.orgs = nil
	}
	orgs, err := readOrgHeads(ctx, w.db, rows, w.head.orgs)
	w.head.orgs = orgs
	if err != nil {
		return err
	}
	next, heads, err := appendAfter(ctx, w.db, rows, w.head, orgs)
	if err != nil {
		return err
	}
	applyOrgHeads(orgs, heads)
	next.orgs = orgs
	w.head = next
	return nil
}

func (w *groupWriter) answer(r *request, err error) {
	r.done <- err
	w.metrics.queueDepth.Dec()
}
