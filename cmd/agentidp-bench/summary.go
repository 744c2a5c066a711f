package main

import (
	"fmt"
	"math"
	"slices"
)

// spread is the median, min and max of a figure over runs.
type spread struct {
	n                int // runs with the figure known
	median, min, max float64
}

// spreadOf summarizes xs, leaving out unknown (NaN) values; with none known, all are NaN.
func spreadOf(xs []float64) spread {
	var known []float64
	for _, x := range xs {
		if !math.IsNaN(x) {
			known = append(known, x)
		}
	}
	if len(known) == 0 {
		return spread{median: math.NaN(), min: math.NaN(), max: math.NaN()}
	}
	slices.Sort(known)
	n := len(known)
	med := known[n/2]
	if n%2 == 0 {
		med = (known[n/2-1] + known[n/2]) / 2
	}
	return spread{n: n, median: med, min: known[0], max: known[n-1]}
}

// format prints the median and, over several runs, (min–max), with prec decimals.
func (s spread) format(prec int) string {
	switch {
	case s.n == 0:
		return "-"
	case s.n == 1:
		return fmt.Sprintf("%.*f", prec, s.median)
	default:
		return fmt.Sprintf("%.*f (%.*f–%.*f)", prec, s.median, prec, s.min, prec, s.max)
	}
}

// summaryRow is one scenario of one binary over all rounds.
type summaryRow struct {
	group, build                                                 string
	runs                                                         int
	perSecond, server, postgres, postgresDB, redis, total, ratio spread
}

// summarize groups rows by scenario and binary, scenarios in the order they first ran and
// the binaries of a scenario in the order they first ran it.
func summarize(rows []row) []summaryRow {
	type key struct{ group, build string }
	var groups []string
	builds := map[string][]string{}
	byKey := map[key][]row{}
	for _, r := range rows {
		k := key{r.group, r.build}
		if _, ok := builds[r.group]; !ok {
			groups = append(groups, r.group)
		}
		if _, ok := byKey[k]; !ok {
			builds[r.group] = append(builds[r.group], r.build)
		}
		byKey[k] = append(byKey[k], r)
	}
	var out []summaryRow
	for _, g := range groups {
		for _, b := range builds[g] {
			rs := byKey[key{g, b}]
			col := func(f func(row) float64) spread {
				xs := make([]float64, len(rs))
				for i, r := range rs {
					xs[i] = f(r)
				}
				return spreadOf(xs)
			}
			out = append(out, summaryRow{
				group: g, build: b, runs: len(rs),
				perSecond:  col(func(r row) float64 { return r.PerSecond }),
				server:     col(func(r row) float64 { return r.perRequest(r.CPU.Server) }),
				postgres:   col(func(r row) float64 { return r.perRequest(r.CPU.Postgres) }),
				postgresDB: col(func(r row) float64 { return r.perRequest(r.CPU.PostgresDB) }),
				redis:      col(func(r row) float64 { return r.perRequest(r.CPU.Redis) }),
				total:      col(func(r row) float64 { return r.perRequest(r.CPU.total()) }),
				ratio: col(func(r row) float64 {
					if r.ceiling <= 0 {
						return math.NaN()
					}
					return r.PerSecond / r.ceiling
				}),
			})
		}
	}
	return out
}

func printSummary(rows []summaryRow) {
	fmt.Println("| scenario | binary | runs | req/s | server µs/req | PostgreSQL µs/req | (bench db) | Redis µs/req | total µs/req | × ceiling |")
	fmt.Println("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, s := range rows {
		build := s.build
		if build == "" {
			build = "-"
		}
		fmt.Printf("| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s |\n", s.group, build, s.runs, s.perSecond.format(0),
			s.server.format(1), s.postgres.format(1), s.postgresDB.format(1), s.redis.format(1), s.total.format(1), s.ratio.format(2))
	}
}
