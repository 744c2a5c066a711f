package metering

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/agentidp/agentidp/modules/agents"
	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/policy"
)

// MonthUsage is one month of a usage report. Limit and Remaining are null on plan unlimited
// (and in the all-agents totals).
type MonthUsage struct {
	Month        string `json:"month"` // "2026-11"
	TokensIssued int64  `json:"tokens_issued"`
	Limit        *int64 `json:"limit"`
	Remaining    *int64 `json:"remaining"`
}

// DayUsage is one UTC day of a usage report.
type DayUsage struct {
	Date         string `json:"date"` // "2026-11-27"
	TokensIssued int64  `json:"tokens_issued"`
}

// AgentUsage is GET /api/v1/agents/{agent_id}/usage.
type AgentUsage struct {
	AgentID string       `json:"agent_id"`
	Plan    string       `json:"plan"`
	Months  []MonthUsage `json:"months"` // newest first; the current month always first
	Days    []DayUsage   `json:"days"`   // newest first; the last 30 days, today included
}

// Overview is GET /api/v1/usage: the same totals over every agent, plus agents by status
// (from agents.Census).
type Overview struct {
	Months         []MonthUsage   `json:"months"`
	Days           []DayUsage     `json:"days"`
	AgentsByStatus map[string]int `json:"agents_by_status"`
}

// Report sizes.
const (
	reportMonths = 12 // the current month and up to 11 earlier ones with usage
	reportDays   = 30
)

// usageService answers the usage API from the store, the live cache counter and this
// process's unflushed tallies.
type usageService struct {
	meter    *meter
	repo     repository
	dir      agents.Directory
	statuses agents.Census // nil only in unit tests
	policy   policy.Engine
	log      *zap.Logger
}

// errNoAgent answers an unknown agent and another organization's alike.
var errNoAgent = apperr.NotFound("no agent with this id")

// AgentUsage reports one agent's usage. An unknown agent (or an id that is not a UUID, which
// names no agent) is 404.
func (s *usageService) AgentUsage(ctx context.Context, agentID string) (*AgentUsage, error) {
	if !validAgentID(agentID) {
		return nil, errNoAgent
	}
	a, err := s.dir.Lookup(ctx, agentID)
	if errors.Is(err, agents.ErrNotFound) {
		return nil, errNoAgent
	}
	if err != nil {
		return nil, err
	}
	if err := policy.Authorize(ctx, s.policy, policy.Target{AgentID: a.ID, OrgID: a.OrgID}, nil, errNoAgent); err != nil {
		return nil, err
	}
	now := s.meter.now()
	p := newPeriod(now)
	current, err := s.liveMonth(ctx, a.ID, p)
	if err != nil {
		return nil, err
	}
	past, err := s.repo.agentMonths(ctx, a.ID, p.month, reportMonths-1)
	if err != nil {
		return nil, err
	}
	var limit *int64
	if a.Plan != agents.PlanUnlimited {
		limit = &s.meter.freeLimit
	}
	months := make([]MonthUsage, 0, 1+len(past))
	months = append(months, monthUsage(p.month, current, limit))
	for _, r := range past {
		months = append(months, monthUsage(r.Month, r.TokensIssued, limit))
	}

	first := p.dayStart.AddDate(0, 0, -(reportDays - 1))
	rows, err := s.repo.agentDays(ctx, a.ID, firstOfMonth(first).Format(dayLayout), p.day)
	if err != nil {
		return nil, err
	}
	return &AgentUsage{AgentID: a.ID, Plan: string(a.Plan), Months: months,
		Days: agentDays(rows, p, first, current)}, nil
}

// liveMonth is the agent's count for the current month: the cache's counter, or what the
// store and this process know if that is more (a cache that lost its data and has not been
// restored yet) or if the cache cannot be reached.
func (s *usageService) liveMonth(ctx context.Context, agentID string, p *period) (int64, error) {
	stored, err := s.repo.monthTotal(ctx, agentID, p.month)
	if err != nil {
		return 0, err
	}
	n := max(stored, s.meter.tallies.max(agentID, p.month))
	live, err := s.meter.cache.GetCount(ctx, monthlyKey(agentID, p.month))
	if err != nil {
		s.meter.metrics.cacheErrors.WithLabelValues(callUsage).Inc()
		s.log.Warn("usage: cache unavailable; reporting the stored count", zap.Error(err))
		return n, nil
	}
	return max(n, live), nil
}

// agentDays turns stored month-to-date values into tokens per day, newest first, over the
// reportDays days from first to today (p's day), zeros filled. Today's value comes from the
// live month count.
func agentDays(rows []dayRow, p *period, first time.Time, current int64) []DayUsage {
	perDay := make(map[string]int64, len(rows))
	prevMonth, prev := "", int64(0)
	beforeToday := int64(0) // month-to-date at the end of the last stored day before today, this month
	for _, r := range rows {
		month := r.Day[:7]
		if month != prevMonth {
			prevMonth, prev = month, 0
		}
		if r.Day == p.day {
			break
		}
		perDay[r.Day] = max(r.MonthToDate-prev, 0)
		prev = max(prev, r.MonthToDate)
		if month == p.month {
			beforeToday = prev
		}
	}
	perDay[p.day] = max(current-beforeToday, 0)
	days := make([]DayUsage, 0, reportDays)
	for d := p.dayStart; !d.Before(first); d = d.AddDate(0, 0, -1) {
		key := d.Format(dayLayout)
		days = append(days, DayUsage{Date: key, TokensIssued: perDay[key]})
	}
	return days
}

// Overview reports the totals over every agent of the caller's organization (of every
// organization for orgs:admin, unless requested names one), from the store (at most one
// flush interval behind the live counters).
func (s *usageService) Overview(ctx context.Context, requested string) (*Overview, error) {
	org, err := policy.ListOrg(ctx, s.policy, requested)
	if err != nil {
		return nil, err
	}
	p := newPeriod(s.meter.now())
	stored, err := s.repo.totalMonths(ctx, org, reportMonths)
	if err != nil {
		return nil, err
	}
	months := []MonthUsage{{Month: p.month}}
	for _, r := range stored {
		switch {
		case r.Month == p.month:
			months[0].TokensIssued = r.TokensIssued
		case r.Month < p.month && len(months) < reportMonths:
			months = append(months, MonthUsage{Month: r.Month, TokensIssued: r.TokensIssued})
		}
	}

	first := p.dayStart.AddDate(0, 0, -(reportDays - 1))
	totals, err := s.repo.totalDays(ctx, org, firstOfMonth(first).Format(dayLayout), first.Format(dayLayout), p.day)
	if err != nil {
		return nil, err
	}
	perDay := make(map[string]int64, len(totals))
	for _, t := range totals {
		perDay[t.Day] = t.TokensIssued
	}
	days := make([]DayUsage, 0, reportDays)
	for d := p.dayStart; !d.Before(first); d = d.AddDate(0, 0, -1) {
		key := d.Format(dayLayout)
		days = append(days, DayUsage{Date: key, TokensIssued: perDay[key]})
	}

	var byStatus map[string]int
	if s.statuses != nil {
		counts, err := s.statuses.CountByStatus(ctx, org)
		if err != nil {
			return nil, err
		}
		byStatus = map[string]int{
			string(agents.StatusActive): 0, string(agents.StatusSuspended): 0, string(agents.StatusDecommissioned): 0,
		}
		for k, v := range counts {
			byStatus[k] = v
		}
	}
	return &Overview{Months: months, Days: days, AgentsByStatus: byStatus}, nil
}

func monthUsage(month string, issued int64, limit *int64) MonthUsage {
	u := MonthUsage{Month: month, TokensIssued: issued}
	if limit != nil {
		l, rem := *limit, max(*limit-issued, 0)
		u.Limit, u.Remaining = &l, &rem
	}
	return u
}

func firstOfMonth(t time.Time) time.Time {
	y, m, _ := t.Date()
	return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
}
