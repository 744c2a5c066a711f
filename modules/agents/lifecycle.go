package agents

import (
	"context"
	"fmt"
	"sync"

	"github.com/uptrace/bun"
)

// hooks is the Lifecycle other modules subscribe to.
type hooks struct {
	mu   sync.RWMutex
	list []LifecycleHook
}

var _ Lifecycle = (*hooks)(nil)

func newHooks() *hooks { return &hooks{} }

// OnStatusChange implements Lifecycle.
func (h *hooks) OnStatusChange(hook LifecycleHook) {
	if hook == nil {
		return
	}
	h.mu.Lock()
	h.list = append(h.list, hook)
	h.mu.Unlock()
}

// run calls every hook in subscription order inside tx; the first error aborts the change.
func (h *hooks) run(ctx context.Context, tx bun.Tx, ev LifecycleEvent) error {
	h.mu.RLock()
	list := h.list
	h.mu.RUnlock()
	for i, hook := range list {
		if err := hook(ctx, tx, ev); err != nil {
			return fmt.Errorf("lifecycle hook %d (%s → %s): %w", i, ev.From, ev.To, err)
		}
	}
	return nil
}
