package audit

import (
	"context"
	"sync"
	"time"

	"go.uber.org/fx"

	"github.com/agentidp/agentidp/platform/httpserver"
)

// followPoll is how long a follower that has caught up waits before it reads again when
// nothing woke it: events appended by another replica, or in a change's transaction, reach
// it within this time; the group-commit writer of its own replica wakes it at once.
const followPoll = time.Second

// followHub wakes the export followers of this replica when events commit, and ends them
// when the server stops.
type followHub struct {
	mu      sync.Mutex
	wake    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

func newFollowHub() *followHub {
	return &followHub{wake: make(chan struct{}), stopped: make(chan struct{})}
}

// notify wakes every follower waiting now.
func (h *followHub) notify() {
	h.mu.Lock()
	close(h.wake)
	h.wake = make(chan struct{})
	h.mu.Unlock()
}

// wait blocks until events may have committed (a wake-up or followPoll), and reports false
// when the follower must end (ctx done or the server stopping).
func (h *followHub) wait(ctx context.Context) bool {
	h.mu.Lock()
	wake := h.wake
	h.mu.Unlock()
	t := time.NewTimer(followPoll)
	defer t.Stop()
	select {
	case <-wake:
	case <-t.C:
	case <-ctx.Done():
		return false
	case <-h.stopped:
		return false
	}
	return true
}

// stop ends every follower (idempotent).
func (h *followHub) stop(context.Context) error {
	h.once.Do(func() { close(h.stopped) })
	return nil
}

// followStopParams orders the followers' stop before the HTTP server's: the hook is
// appended after the server is built, so it runs before the server drains its requests
// (which would otherwise wait for every follower until the shutdown timeout).
type followStopParams struct {
	fx.In
	LC     fx.Lifecycle
	Hub    *followHub
	Server *httpserver.Server `optional:"true"`
}

func stopFollowersFirst(p followStopParams) { p.LC.Append(fx.StopHook(p.Hub.stop)) }
