package httpserver

import (
	"context"
	"net/http"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/health"
)

func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

type checkResult struct {
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// readyz runs every readiness check concurrently, each bounded to 2 s, and answers 200
// only when all pass. Failures are named but their causes go to the log, not the answer.
func readyz(checks []health.Check, log *zap.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		results := make(map[string]checkResult, len(checks))
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, c := range checks {
			wg.Go(func() {
				err := c.Check(ctx)
				res := checkResult{Status: "ok"}
				if err != nil {
					res = checkResult{Status: "fail", Error: "unavailable"}
					log.Warn("readiness check failed", zap.String("check", c.Name), zap.Error(err))
				}
				mu.Lock()
				results[c.Name] = res
				mu.Unlock()
			})
		}
		wg.Wait()
		status, code := "ok", http.StatusOK
		for _, res := range results {
			if res.Status != "ok" {
				status, code = "unavailable", http.StatusServiceUnavailable
			}
		}
		w.Header().Set("Cache-Control", "no-store")
		WriteJSON(w, code, map[string]any{"status": status, "checks": results})
	})
}
