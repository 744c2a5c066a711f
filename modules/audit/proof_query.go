package audit

import (
	"net/url"
	"strconv"

	"github.com/agentidp/agentidp/platform/apperr"
)

// checkOnly refuses parameters of q other than allowed, and repeated ones.
func checkOnly(q url.Values, bad *apperr.Fields, allowed ...string) {
	for name, vs := range q {
		known := false
		for _, a := range allowed {
			known = known || a == name
		}
		switch {
		case !known:
			bad.Add(name, "unknown parameter")
		case len(vs) > 1:
			bad.Add(name, "give it at most once")
		}
	}
}

// positiveInt reads q[name] as an integer ≥ 1; 0 when absent (and not required).
func positiveInt(q url.Values, bad *apperr.Fields, name string, required bool) int64 {
	v := q.Get(name)
	if v == "" {
		if required {
			bad.Add(name, "is required")
		}
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		bad.Add(name, "must be a whole number of at least 1")
		return 0
	}
	return n
}

// inclusionQuery is a parsed GET /api/v1/audit/proof/inclusion.
type inclusionQuery struct {
	Seq      int64
	TreeSize int64 // 0: the latest checkpoint's
}

func parseInclusion(q url.Values) (inclusionQuery, error) {
	var bad apperr.Fields
	checkOnly(q, &bad, "seq", "tree_size")
	p := inclusionQuery{Seq: positiveInt(q, &bad, "seq", true), TreeSize: positiveInt(q, &bad, "tree_size", false)}
	if p.TreeSize > 0 && p.Seq > p.TreeSize {
		bad.Add("seq", "must be at most tree_size")
	}
	return p, bad.Err()
}

// consistencyQuery is a parsed GET /api/v1/audit/proof/consistency.
type consistencyQuery struct{ From, To int64 }

func parseConsistency(q url.Values) (consistencyQuery, error) {
	var bad apperr.Fields
	checkOnly(q, &bad, "from", "to")
	p := consistencyQuery{From: positiveInt(q, &bad, "from", true), To: positiveInt(q, &bad, "to", true)}
	if p.From > 0 && p.To > 0 && p.From > p.To {
		bad.Add("from", "must be at most to")
	}
	return p, bad.Err()
}

// parseCheckpointQuery reads GET /api/v1/audit/checkpoint's optional tree_size.
func parseCheckpointQuery(q url.Values) (int64, error) {
	var bad apperr.Fields
	checkOnly(q, &bad, "tree_size")
	n := positiveInt(q, &bad, "tree_size", false)
	return n, bad.Err()
}
