package main

import (
	"math"
	"reflect"
	"testing"
)

func TestSpreadOf(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct {
		in               []float64
		n                int
		median, min, max float64
	}{
		{[]float64{5}, 1, 5, 5, 5},
		{[]float64{3, 1, 2}, 3, 2, 1, 3},
		{[]float64{4, 1, 3, 2}, 4, 2.5, 1, 4},
		{[]float64{10, nan, 30, 20, nan}, 3, 20, 10, 30},
		{[]float64{7, 7, 1, 100}, 4, 7, 1, 100},
	} {
		s := spreadOf(c.in)
		if s.n != c.n || s.median != c.median || s.min != c.min || s.max != c.max {
			t.Errorf("spreadOf(%v) = %+v, want n %d median %v min %v max %v", c.in, s, c.n, c.median, c.min, c.max)
		}
	}
	for _, in := range [][]float64{nil, {nan, nan}} {
		if s := spreadOf(in); s.n != 0 || !math.IsNaN(s.median) || !math.IsNaN(s.min) || !math.IsNaN(s.max) {
			t.Errorf("spreadOf(%v) = %+v, want nothing known", in, s)
		}
	}
	if got := spreadOf([]float64{1, 2, 4}).format(1); got != "2.0 (1.0–4.0)" {
		t.Errorf("format = %q", got)
	}
	if got := spreadOf([]float64{1.26}).format(1); got != "1.3" {
		t.Errorf("format of one run = %q", got)
	}
	if got := spreadOf(nil).format(1); got != "-" {
		t.Errorf("format of nothing = %q", got)
	}
}

func TestSummarize(t *testing.T) {
	mk := func(group, build string, perSecond float64, requests int64, server float64) row {
		return row{group: group, build: build, ceiling: 1000,
			result: result{Requests: requests, PerSecond: perSecond, CPU: cpuUsage{Server: server, Postgres: 0.1, Redis: math.NaN()}}}
	}
	// Two rounds of: ceiling, a (token, get), b (token, get).
	var rows []row
	for round := range 2 {
		f := float64(round)
		rows = append(rows,
			mk("ceiling", "", 1000+f, 1000, 1),
			mk("token", "a", 500+f, 1000, 0.2+f/10),
			mk("get", "a", 900, 2000, 0.2),
			mk("token", "b", 600, 1000, 0.1),
			mk("get", "b", 800, 2000, 0.3),
		)
	}
	rows = append(rows, mk("token", "a", 520, 1000, 0.6)) // a third run of a
	got := summarize(rows)
	var order []string
	for _, s := range got {
		order = append(order, s.group+"/"+s.build)
	}
	if want := []string{"ceiling/", "token/a", "token/b", "get/a", "get/b"}; !reflect.DeepEqual(order, want) {
		t.Fatalf("order %v, want %v", order, want)
	}
	ta := got[1]
	if ta.runs != 3 || ta.perSecond.median != 501 || ta.perSecond.min != 500 || ta.perSecond.max != 520 {
		t.Errorf("token/a req/s %+v over %d runs", ta.perSecond, ta.runs)
	}
	// server µs/req: 200, 300, 600.
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	if !near(ta.server.median, 300) || !near(ta.server.min, 200) || !near(ta.server.max, 600) {
		t.Errorf("token/a server µs/req %+v", ta.server)
	}
	if !near(ta.postgres.median, 100) || ta.redis.n != 0 || ta.total.n != 0 {
		t.Errorf("token/a postgres %+v redis %+v total %+v", ta.postgres, ta.redis, ta.total)
	}
	if !near(ta.ratio.median, 0.501) {
		t.Errorf("token/a × ceiling %+v", ta.ratio)
	}
}

func TestParseBuilds(t *testing.T) {
	got, err := parseBuilds("a=/tmp/x/agentidp, /tmp/b ,./bin/c")
	want := []build{{"a", "/tmp/x/agentidp"}, {"b", "/tmp/b"}, {"c", "./bin/c"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("parseBuilds = %v, %v; want %v", got, err, want)
	}
	if got, err := parseBuilds(""); err != nil || got != nil {
		t.Errorf("parseBuilds of nothing = %v, %v", got, err)
	}
	for _, bad := range []string{"/x/agentidp,/y/agentidp", "a=/x,a=/y", "=/x", "a="} {
		if _, err := parseBuilds(bad); err == nil {
			t.Errorf("parseBuilds(%q): no error", bad)
		}
	}
}
