package httpserver

import (
	"context"
	"net"
)

// stoppingKey carries, in every request's context, the channel closed when the server
// starts to stop.
type stoppingKey struct{}

// Stopping is closed when the server begins to shut down (nil, which never fires, outside
// a request of this server). A handler that streams without end (the audit export's
// follow mode) ends when it fires, so that draining the other requests does not wait for it
// until the shutdown timeout.
func Stopping(ctx context.Context) <-chan struct{} {
	ch, _ := ctx.Value(stoppingKey{}).(chan struct{})
	return ch
}

// baseContext puts the stopping channel into every connection's, and so request's, context.
func (s *Server) baseContext(net.Listener) context.Context {
	return context.WithValue(context.Background(), stoppingKey{}, s.stopping)
}
