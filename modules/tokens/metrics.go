package tokens

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// tokenMetrics are the module's Prometheus series.
type tokenMetrics struct {
	issued         *prometheus.CounterVec // {alg}
	issuedByAlg    map[string]prometheus.Counter
	denied         *prometheus.CounterVec // {reason}
	introspections *prometheus.CounterVec // {active}
	revocations    prometheus.Counter
}

// Denial reasons (label values of agentidp_tokens_denied_total).
const (
	denyInvalidRequest = "invalid_request"
	denyGrantType      = "unsupported_grant_type"
	denyInvalidClient  = "invalid_client"
	denyAgentInactive  = "agent_inactive"
	denyInvalidScope   = "invalid_scope"
	denyInvalidTarget  = "invalid_target"
	denyDPoPProof      = "invalid_dpop_proof"
	denyRateLimited    = "rate_limited"
	denyQuota          = "quota_exceeded"
	denyUnavailable    = "unavailable"
)

func newMetrics(reg prometheus.Registerer) *tokenMetrics {
	f := promauto.With(reg) // each app has its own registry (platform/metrics)
	m := &tokenMetrics{
		issued: f.NewCounterVec(prometheus.CounterOpts{
			Name: "agentidp_tokens_issued_total",
			Help: "Access tokens issued, by signing algorithm.",
		}, []string{"alg"}),
		denied: f.NewCounterVec(prometheus.CounterOpts{
			Name: "agentidp_tokens_denied_total",
			Help: "Token requests refused, by reason.",
		}, []string{"reason"}),
		introspections: f.NewCounterVec(prometheus.CounterOpts{
			Name: "agentidp_introspections_total",
			Help: "Token introspections answered, by result.",
		}, []string{"active"}),
		revocations: f.NewCounter(prometheus.CounterOpts{
			Name: "agentidp_revocations_total",
			Help: "Access tokens revoked (first revocation of each token).",
		}),
	}
	m.issuedByAlg = map[string]prometheus.Counter{}
	for _, alg := range []string{AlgRS256, AlgES256, AlgEdDSA} {
		m.issuedByAlg[alg] = m.issued.WithLabelValues(alg)
	}
	m.introspections.WithLabelValues("true")
	m.introspections.WithLabelValues("false")
	return m
}

// issuedWith is the issued counter of alg, resolved once per algorithm.
func (m *tokenMetrics) issuedWith(alg string) prometheus.Counter {
	if c, ok := m.issuedByAlg[alg]; ok {
		return c
	}
	return m.issued.WithLabelValues(alg)
}
