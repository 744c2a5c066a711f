package main

import (
	"context"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// request builds one request of a scenario; worker is the connection's index.
type request func(worker int) (*http.Request, error)

// result is what one scenario measured.
type result struct {
	Name      string
	Requests  int64
	Errors    int64
	PerSecond float64
	P50, P99  time.Duration
	FirstErr  string
}

// drive runs conns workers, each on its own keep-alive connection, sending requests back to
// back: first for warmup (not counted), then for duration. A non-2xx answer is an error.
func drive(ctx context.Context, name string, conns int, warmup, duration time.Duration, mk request) result {
	tr := &http.Transport{MaxIdleConns: conns * 2, MaxIdleConnsPerHost: conns * 2, MaxConnsPerHost: conns, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	var measuring atomic.Bool
	var errs atomic.Int64
	var firstErr atomic.Value
	lat := make([][]time.Duration, conns)
	deadline := time.Now().Add(warmup + duration)
	runCtx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	time.AfterFunc(warmup, func() { measuring.Store(true) })
	var start time.Time
	var startOnce sync.Once

	var wg sync.WaitGroup
	for w := range conns {
		wg.Go(func() {
			for runCtx.Err() == nil {
				req, err := mk(w)
				if err != nil {
					firstErr.CompareAndSwap(nil, err.Error())
					errs.Add(1)
					continue
				}
				t0 := time.Now()
				resp, err := client.Do(req.WithContext(runCtx))
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
				}
				if !measuring.Load() {
					continue
				}
				startOnce.Do(func() { start = t0 })
				if runCtx.Err() != nil {
					return // cut off by the deadline: not a server error
				}
				if err != nil || resp.StatusCode/100 != 2 {
					errs.Add(1)
					if err != nil {
						firstErr.CompareAndSwap(nil, err.Error())
					} else {
						firstErr.CompareAndSwap(nil, resp.Status)
					}
					continue
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		})
	}
	wg.Wait()
	all := slices.Concat(lat...)
	slices.Sort(all)
	r := result{Name: name, Requests: int64(len(all)), Errors: errs.Load()}
	if s, ok := firstErr.Load().(string); ok {
		r.FirstErr = s
	}
	if len(all) > 0 {
		elapsed := deadline.Sub(start)
		r.PerSecond = float64(len(all)) / elapsed.Seconds()
		r.P50 = all[len(all)/2]
		r.P99 = all[len(all)*99/100]
	}
	return r
}
