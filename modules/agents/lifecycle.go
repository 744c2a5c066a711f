package agents

import (
	"context"
	"fmt"
	"sync"

	"github.com/uptrace/bun"
)

// hooks is the Lifecycle other modules subscribe to: hooks run inside a status change's
// transaction, and hooks run after it committed.
type hooks struct {
	mu    sync.RWMutex
	inTx  []LifecycleHook
	after []AfterCommitHook
}

var _ Lifecycle = (*hooks)(nil)

func newHooks() *hooks { return &hooks{} }

// OnStatusChange implements Lifecycle.
func (h *hooks) OnStatusChange(hook LifecycleHook) {
	if hook == nil {
		return
	}
	h.mu.Lock()
	h.inTx = append(h.inTx, hook)
	h.mu.Unlock()
}

// AfterStatusChange implements Lifecycle.
func (h *hooks) AfterStatusChange(hook AfterCommitHook) {
	if hook == nil {
		return
	}
	h.mu.Lock()
	h.after = append(h.after, hook)
	h.mu.Unlock()
}

// run calls every in-transaction hook in subscription order inside tx; the first error
// aborts the change.
func (h *hooks) run(ctx context.Context, tx bun.Tx, ev LifecycleEvent) error {
	h.mu.RLock()
	list := h.inTx
	h.mu.RUnlock()
	for i, hook := range list {
		if err := hook(ctx, tx, ev); err != nil {
			return fmt.Errorf("lifecycle hook %d (%s → %s): %w", i, ev.From, ev.To, err)
		}
	}
	return nil
}

// committed calls every after-commit hook in subscription order, once the change's
// transaction has committed, under a context the caller's cancellation does not reach.
func (h *hooks) committed(ctx context.Context, ev LifecycleEvent) {
	h.mu.RLock()
	list := h.after
	h.mu.RUnlock()
	ctx = context.WithoutCancel(ctx)
	for _, hook := range list {
		hook(ctx, ev)
	}
}
