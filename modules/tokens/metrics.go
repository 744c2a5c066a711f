package tokens

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
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
	denyRateLimited    = "rate_limited"
	denyQuota          = "quota_exceeded"
	denyUnavailable    = "unavailable"
)

func newMetrics(reg prometheus.Registerer) (*tokenMetrics, error) {
	m := &tokenMetrics{
		issued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "agentidp_tokens_issued_total",
			Help: "Access tokens issued, by signing algorithm.",
		}, []string{"alg"}),
		denied: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "agentidp_tokens_denied_total",
			Help: "Token requests refused, by reason.",
		}, []string{"reason"}),
		introspections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "agentidp_introspections_total",
			Help: "Token introspections answered, by result.",
		}, []string{"active"}),
		revocations: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "agentidp_revocations_total",
			Help: "Access tokens revoked (first revocation of each token).",
		}),
	}
	var err error
	m.issued, err = register(reg, m.issued)
	if err != nil {
		return nil, err
	}
	if m.denied, err = register(reg, m.denied); err != nil {
		return nil, err
	}
	if m.introspections, err = register(reg, m.introspections); err != nil {
		return nil, err
	}
	if m.revocations, err = register(reg, m.revocations); err != nil {
		return nil, err
	}
	m.issuedByAlg = map[string]prometheus.Counter{}
	for _, alg := range []string{AlgRS256, AlgES256, AlgEdDSA} {
		m.issuedByAlg[alg] = m.issued.WithLabelValues(alg)
	}
	m.introspections.WithLabelValues("true")
	m.introspections.WithLabelValues("false")
	return m, nil
}

// register registers c, or returns the collector already registered under its name (two
// apps sharing a registry in tests).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, err
	}
	return c, nil
}

// issuedWith is the issued counter of alg, resolved once per algorithm.
func (m *tokenMetrics) issuedWith(alg string) prometheus.Counter {
	if c, ok := m.issuedByAlg[alg]; ok {
		return c
	}
	return m.issued.WithLabelValues(alg)
}
