package audit

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// writerMetrics are the group-commit writer's Prometheus series, registered in reg (each
// app has its own registry, platform/metrics; nil: not registered).
type writerMetrics struct {
	queueDepth    prometheus.Gauge
	writeDuration prometheus.Histogram
	batchSize     prometheus.Histogram
	staleHeads    prometheus.Counter
}

func newWriterMetrics(reg prometheus.Registerer) *writerMetrics {
	f := promauto.With(reg)
	return &writerMetrics{
		queueDepth: f.NewGauge(prometheus.GaugeOpts{
			Name: "agentidp_audit_queue_depth",
			Help: "Audit events handed to the group-commit writer and not yet answered (queued or being written).",
		}),
		writeDuration: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "agentidp_audit_write_duration_seconds",
			Help:    "Time to write and commit one group-commit batch of audit events.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14), // 0.5 ms … ~4 s
		}),
		batchSize: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "agentidp_audit_batch_size",
			Help:    "Audit events per group-commit batch.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 9), // 1 … 256
		}),
		staleHeads: f.NewCounter(prometheus.CounterOpts{
			Name: "agentidp_audit_stale_head_total",
			Help: "Group-commit batches that found the chain moved on by another writer and were appended again under the chain lock.",
		}),
	}
}
