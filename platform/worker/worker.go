// Package worker runs the modules' background work (reload loops, flushers, sweeps,
// broadcast subscriptions) in one shape: started in OnStart, cancelled and waited for in
// OnStop within the OnStop context. A module appends one Hook per worker in its module.go,
// so that the module file shows which workers it runs and how often:
//
//	lc.Append(worker.Hook(log, worker.Spec{
//		Name: "usage flush", Every: 5 * time.Second, Run: u.flush, Final: u.flush,
//	}))
//
// Fx runs OnStop hooks in the reverse order of their OnStart hooks, so workers stop in the
// reverse order of their start.
//
// A run that fails is logged at warn and the loop carries on at its next tick. A run that
// panics is recovered, logged at error with its stack, and the loop carries on too: a
// background job (the revocation sync, the key reload) that died silently would leave the
// replica serving stale security state until it is restarted, which is worse than a loud
// log line every tick. Start and Final run on the caller's goroutine, unprotected: a panic
// there surfaces in the start or stop of the app.
package worker

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"
)

// Subscriber is the part of cache.Broadcaster a worker needs.
type Subscriber interface {
	Subscribe(channel string, fn func(payload []byte)) (unsubscribe func())
}

// Subscription is a broadcast subscription held from OnStart to OnStop.
type Subscription struct {
	Bus     Subscriber
	Channel string
	// Handle is called for every message, on the broadcaster's goroutine: it must not
	// block. Optional when Kick is set.
	Handle func(payload []byte)
	// Kick makes every message also run Run at once (a run already pending absorbs it).
	Kick bool
}

// Spec describes one worker. Every field but Name is optional: a worker may be only a
// subscription, only a loop, or both.
type Spec struct {
	// Name says what the worker does; it is the "worker" field of its log lines.
	Name string
	// Every is the interval between two runs of Run. Zero: Run runs only on a kick.
	Every time.Duration
	// Timeout bounds one run of Run; zero means Every.
	Timeout time.Duration
	// Run is the periodic work. Its context ends with the run's timeout or at stop.
	Run func(ctx context.Context) error
	// Start runs in OnStart under its context, after the subscription is in place and
	// before the first run of Run. Its error fails the start.
	Start func(ctx context.Context) error
	// Final runs once in OnStop, under the OnStop context, after the loop has ended (the
	// last flush). It does not run when the OnStop context ends first.
	Final func(ctx context.Context) error
	// Subscribe, when set, is held from OnStart to OnStop (unsubscribed first at stop).
	Subscribe *Subscription
}

// worker is one Spec at run time.
type worker struct {
	spec    Spec
	log     *zap.Logger
	timeout time.Duration
	kick    chan struct{}

	mu          sync.Mutex
	unsubscribe func()
	cancel      context.CancelFunc
	done        chan struct{}
}

// Hook returns the lifecycle hook that runs s: OnStart subscribes, runs Start and starts
// the loop; OnStop unsubscribes, cancels the loop and waits for it, then runs Final. When
// the OnStop context ends before the loop has, OnStop returns that context's error (the
// loop, its context cancelled, ends on its own) instead of blocking.
func Hook(log *zap.Logger, s Spec) fx.Hook {
	w := &worker{spec: s, log: log.With(zap.String("worker", s.Name)), kick: make(chan struct{}, 1)}
	w.timeout = s.Timeout
	if w.timeout <= 0 {
		w.timeout = s.Every
	}
	return fx.Hook{OnStart: w.start, OnStop: w.stop}
}

func (w *worker) start(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if sub := w.spec.Subscribe; sub != nil {
		w.unsubscribe = sub.Bus.Subscribe(sub.Channel, w.onMessage)
	}
	if w.spec.Start != nil {
		if err := w.spec.Start(ctx); err != nil {
			w.unsubscribeLocked()
			return err
		}
	}
	if w.spec.Run != nil {
		runCtx, cancel := context.WithCancel(context.Background())
		w.cancel, w.done = cancel, make(chan struct{})
		go w.loop(runCtx, w.done)
	}
	return nil
}

func (w *worker) stop(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.unsubscribeLocked()
	if w.cancel != nil {
		w.cancel()
		w.cancel = nil
		select {
		case <-w.done:
		case <-ctx.Done():
			return fmt.Errorf("worker %s: stop: %w", w.spec.Name, ctx.Err())
		}
	}
	if w.spec.Final != nil {
		return w.spec.Final(ctx)
	}
	return nil
}

func (w *worker) unsubscribeLocked() {
	if w.unsubscribe != nil {
		w.unsubscribe()
		w.unsubscribe = nil
	}
}

func (w *worker) onMessage(payload []byte) {
	sub := w.spec.Subscribe
	if sub.Handle != nil {
		sub.Handle(payload)
	}
	if sub.Kick {
		select {
		case w.kick <- struct{}{}:
		default: // a run is already pending
		}
	}
}

func (w *worker) loop(ctx context.Context, done chan struct{}) {
	defer close(done)
	var tick <-chan time.Time
	if w.spec.Every > 0 {
		t := time.NewTicker(w.spec.Every)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		case <-w.kick:
		}
		w.runOnce(ctx)
	}
}

// runOnce runs Run once under the run timeout; a failure or a panic is logged, not fatal.
// A failure while stopping (ctx cancelled) is the stop cutting the run short: not logged.
func (w *worker) runOnce(ctx context.Context) {
	runCtx := ctx
	if w.timeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, w.timeout)
		defer cancel()
	}
	defer func() {
		if r := recover(); r != nil {
			w.log.Error("background run panicked; the worker carries on", zap.Any("panic", r), zap.Stack("stack"))
		}
	}()
	if err := w.spec.Run(runCtx); err != nil && ctx.Err() == nil {
		w.log.Warn("background run failed; retrying at the next run", zap.Duration("every", w.spec.Every), zap.Error(err))
	}
}
