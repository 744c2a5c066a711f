package main

import (
	"context"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// request builds one request of a scenario; worker is the connection's index.
type request func(worker int) (*http.Request, error)

// result is what one scenario measured.
type result struct {
	Name      string
	Requests  int64 // successful responses completed in the measured window
	Errors    int64
	PerSecond float64
	P50, P99  time.Duration
	FirstErr  string
	Window    time.Duration
	CPU       cpuUsage // CPU time spent in the measured window
	// Idle: no requests were sent (the idle scenario); the per-request columns then hold
	// the CPU time per second of the window, in µs: the background work's cost.
	Idle bool
}

// perRequest is the CPU time of one part per successful request of the window, in µs (per
// second of the window for an idle result).
func (r result) perRequest(seconds float64) float64 {
	if r.Idle {
		return seconds * 1e6 / r.Window.Seconds()
	}
	return perRequest(seconds, r.Requests)
}

// idle measures m's CPU over duration with no requests at all (after warmup).
func idle(ctx context.Context, name string, warmup, duration time.Duration, m *meter) result {
	pause := func(d time.Duration) {
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
	}
	pause(warmup)
	start := time.Now()
	before := m.sample(ctx, start)
	pause(duration)
	end := time.Now()
	return result{Name: name, Window: end.Sub(start), CPU: usage(before, m.sample(ctx, end)), Idle: true}
}

// completion is one answered (or failed) request: when it completed and how long it took.
type completion struct {
	done int64 // UnixNano
	lat  time.Duration
	err  string // "" for a 2xx answer
}

// drive runs conns workers, each on its own keep-alive connection, sending requests back to
// back: first for warmup (not counted), then for duration. A non-2xx answer is an error.
// When the warm-up ends it samples m's CPU counters, and again when the duration has passed,
// before stopping the workers; only requests completed between the two samples are counted,
// so the CPU time and the requests cover the same window.
func drive(ctx context.Context, name string, conns int, warmup, duration time.Duration, m *meter, mk request) result {
	tr := &http.Transport{MaxIdleConns: conns * 2, MaxIdleConnsPerHost: conns * 2, MaxConnsPerHost: conns, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make([][]completion, conns)
	var wg sync.WaitGroup
	for w := range conns {
		wg.Go(func() {
			for runCtx.Err() == nil {
				req, err := mk(w)
				if err != nil {
					done[w] = append(done[w], completion{done: time.Now().UnixNano(), err: err.Error()})
					continue
				}
				t0 := time.Now()
				resp, err := client.Do(req.WithContext(runCtx))
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
				}
				t1 := time.Now()
				c := completion{done: t1.UnixNano(), lat: t1.Sub(t0)}
				switch {
				case err != nil:
					c.err = err.Error()
				case resp.StatusCode/100 != 2:
					c.err = resp.Status
				}
				done[w] = append(done[w], c)
			}
		})
	}

	wait := func(d time.Duration) {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
	wait(warmup)
	start := time.Now()
	before := m.sample(ctx, start)
	wait(time.Until(start.Add(duration)))
	end := time.Now()
	after := m.sample(ctx, end)
	cancel() // requests cut off now complete after end: not counted
	wg.Wait()

	r := result{Name: name, Window: end.Sub(start), CPU: usage(before, after)}
	var lat []time.Duration
	var firstErrAt int64
	for _, cs := range done {
		for _, c := range cs {
			if c.done < start.UnixNano() || c.done >= end.UnixNano() {
				continue
			}
			if c.err != "" {
				if r.Errors++; r.FirstErr == "" || c.done < firstErrAt {
					r.FirstErr, firstErrAt = c.err, c.done
				}
				continue
			}
			lat = append(lat, c.lat)
		}
	}
	slices.Sort(lat)
	r.Requests = int64(len(lat))
	if len(lat) > 0 {
		r.PerSecond = float64(len(lat)) / r.Window.Seconds()
		r.P50 = lat[len(lat)/2]
		r.P99 = lat[len(lat)*99/100]
	}
	return r
}
