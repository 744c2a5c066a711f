package audit

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// writerMetrics are the group-commit writer's Prometheus series.
type writerMetrics struct {
	queueDepth    prometheus.Gauge
	writeDuration prometheus.Histogram
	batchSize     prometheus.Histogram
	staleHeads    prometheus.Counter
}

func newWriterMetrics(reg prometheus.Registerer) (*writerMetrics, error) {
	m := &writerMetrics{
		queueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "agentidp_audit_queue_depth",
			Help: "Audit events handed to the group-commit writer and not yet answered (queued or being written).",
		}),
		writeDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "agentidp_audit_write_duration_seconds",
			Help:    "Time to write and commit one group-commit batch of audit events.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14), // 0.5 ms … ~4 s
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "agentidp_audit_batch_size",
			Help:    "Audit events per group-commit batch.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 9), // 1 … 256
		}),
		staleHeads: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "agentidp_audit_stale_head_total",
			Help: "Group-commit batches that found the chain moved on by another writer and were appended again under the chain lock.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.queueDepth, m.writeDuration, m.batchSize, m.staleHeads} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("audit: registering metrics: %w", err)
		}
	}
	return m, nil
}
