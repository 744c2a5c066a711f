package metering

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Rate-limit kinds, the values of agentidp_rate_limited_total{kind} and of the rate.limited
// audit events' details.kind.
const (
	kindTokenRequests = "token_requests"          // token requests per agent
	kindAuthPair      = "auth_failures_client_ip" // failed client authentications per (client_id, source IP)
	kindAuthIP        = "auth_failures_ip"        // failed client authentications per source IP (bucket)
)

// Calls whose cache failures are counted in agentidp_metering_cache_errors_total{call}.
const (
	callConsume     = "consume_token"
	callTokenRate   = "allow_token_request"
	callAuthRecord  = "record_auth_failure"
	callUsage       = "usage"
	callAuditMarker = "audit_marker"
)

// meterMetrics are the module's Prometheus series.
type meterMetrics struct {
	quotaRefusals prometheus.Counter
	rateLimited   *prometheus.CounterVec
	cacheErrors   *prometheus.CounterVec
	flushErrors   prometheus.Counter
	restores      prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *meterMetrics {
	f := promauto.With(reg) // each app has its own registry (platform/metrics); nil: not registered
	m := &meterMetrics{
		quotaRefusals: f.NewCounter(prometheus.CounterOpts{
			Name: "agentidp_quota_refusals_total",
			Help: "Token requests refused because the agent's monthly quota is used up.",
		}),
		rateLimited: f.NewCounterVec(prometheus.CounterOpts{
			Name: "agentidp_rate_limited_total",
			Help: "Requests refused by a rate limit, by kind (token_requests, auth_failures_client_ip, auth_failures_ip).",
		}, []string{"kind"}),
		cacheErrors: f.NewCounterVec(prometheus.CounterOpts{
			Name: "agentidp_metering_cache_errors_total",
			Help: "Metering calls that could not reach the cache, by call (quota: refused with 503; rate limits: let through).",
		}, []string{"call"}),
		flushErrors: f.NewCounter(prometheus.CounterOpts{
			Name: "agentidp_metering_flush_errors_total",
			Help: "Failed attempts to persist usage counts to the relational store (retried on the next flush).",
		}),
		restores: f.NewCounter(prometheus.CounterOpts{
			Name: "agentidp_metering_counter_restores_total",
			Help: "Monthly counters found missing in the cache and restored from the store.",
		}),
	}
	for _, k := range []string{kindTokenRequests, kindAuthPair, kindAuthIP} {
		m.rateLimited.WithLabelValues(k)
	}
	return m
}
