package audit

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// Publishing backoff: after n failed attempts the next waits base·2^(n-1), at most maxWait.
const (
	publishMaxWait = 5 * time.Minute
	publishTimeout = 5 * time.Second
)

// publisher POSTs each checkpoint this replica signs to AGENTIDP_AUDIT_CHECKPOINT_URL, so
// that a party outside the server keeps them. It holds only the newest unpublished one (a
// newer checkpoint supersedes an older one: it proves the older one's content), retries it
// on the checkpoint worker's ticks with an exponential backoff, and never blocks an append
// (the checkpoint worker is not on the append path at all).
type publisher struct {
	url      string
	client   *http.Client
	log      *zap.Logger
	failures prometheus.Counter
	base     time.Duration
	now      func() time.Time

	mu      sync.Mutex
	pending *checkpointRow
	failed  int
	next    time.Time
}

// offer makes cp the checkpoint to publish next, replacing an older one not yet sent.
func (p *publisher) offer(cp *checkpointRow) {
	if p.url == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pending = cp
}

// attempt POSTs the pending checkpoint if its backoff has passed.
func (p *publisher) attempt(ctx context.Context) {
	p.mu.Lock()
	cp := p.pending
	due := !p.now().Before(p.next)
	p.mu.Unlock()
	if cp == nil || !due {
		return
	}
	err := p.post(ctx, cp)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil {
		if p.pending == cp {
			p.pending = nil
		}
		p.failed, p.next = 0, time.Time{}
		return
	}
	p.failures.Inc()
	p.failed++
	wait := p.base << min(p.failed-1, 20)
	if wait <= 0 || wait > publishMaxWait {
		wait = publishMaxWait
	}
	p.next = p.now().Add(wait)
	p.log.Warn("audit checkpoint not published; retrying", zap.Int64("tree_size", cp.TreeSize),
		zap.Int("attempts", p.failed), zap.Duration("next_in", wait), zap.Error(err))
}

func (p *publisher) post(ctx context.Context, cp *checkpointRow) error {
	ctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, strings.NewReader(cp.Note))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the checkpoint URL answered %d", resp.StatusCode)
	}
	return nil
}
