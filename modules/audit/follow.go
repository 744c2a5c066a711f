package audit

import (
	"context"
	"sync"
	"time"

	"github.com/agentidp/agentidp/platform/httpserver"
)

// followPoll is how long a follower that has caught up waits before it reads again when
// nothing woke it: events appended by another replica, or in a change's transaction, reach
// it within this time; the group-commit writer of its own replica wakes it at once.
const followPoll = time.Second

// followHub wakes the export followers of this replica when events commit. Followers end
// when their client goes or the HTTP server begins to stop (httpserver.Stopping).
type followHub struct {
	mu   sync.Mutex
	wake chan struct{}
}

func newFollowHub() *followHub { return &followHub{wake: make(chan struct{})} }

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
	case <-httpserver.Stopping(ctx):
		return false
	}
	return true
}
