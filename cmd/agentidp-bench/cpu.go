package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// CPU accounting of a measured window: the CPU time each process spent between two samples,
// one taken when measuring starts (the end of the warm-up), one when its deadline passes
// (before the workers drain). Divided by the requests served in the same window, it is the
// cost per request, which varies much less from run to run than req/s on a shared machine.

// procStat is what the benchmark reads from one /proc/<pid>/stat line (see proc(5)).
type procStat struct {
	pid            int
	comm           string
	ppid           int
	utime, stime   int64  // fields 14 and 15, clock ticks
	cutime, cstime int64  // fields 16 and 17: waited-for children, clock ticks
	start          uint64 // field 22: with pid, names the process
	cmdline        string // /proc/<pid>/cmdline, NULs as spaces (scanComm only)
}

// own is the process's own CPU time; total adds its waited-for children's.
func (p procStat) own() int64   { return p.utime + p.stime }
func (p procStat) total() int64 { return p.own() + p.cutime + p.cstime }

// parseStat parses a /proc/<pid>/stat line. The comm field is in parentheses and may itself
// hold spaces and parentheses, so the fields after it are split after the last ')'.
func parseStat(line string) (procStat, error) {
	open, end := strings.IndexByte(line, '('), strings.LastIndexByte(line, ')')
	if open < 0 || end < open {
		return procStat{}, fmt.Errorf("stat line without (comm): %.80q", line)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line[:open]))
	if err != nil {
		return procStat{}, fmt.Errorf("stat pid: %w", err)
	}
	// f[0] is field 3 (state): field n is f[n-3].
	f := strings.Fields(line[end+1:])
	if len(f) < 20 {
		return procStat{}, fmt.Errorf("stat line of pid %d has %d fields after comm", pid, len(f))
	}
	p := procStat{pid: pid, comm: line[open+1 : end]}
	ints := []*int64{&p.utime, &p.stime, &p.cutime, &p.cstime}
	for i, dst := range ints {
		if *dst, err = strconv.ParseInt(f[14-3+i], 10, 64); err != nil {
			return procStat{}, fmt.Errorf("stat field %d of pid %d: %w", 14+i, pid, err)
		}
	}
	if p.ppid, err = strconv.Atoi(f[4-3]); err != nil {
		return procStat{}, fmt.Errorf("stat ppid of pid %d: %w", pid, err)
	}
	if p.start, err = strconv.ParseUint(f[22-3], 10, 64); err != nil {
		return procStat{}, fmt.Errorf("stat starttime of pid %d: %w", pid, err)
	}
	return p, nil
}

func readStat(pid string) (procStat, error) {
	raw, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return procStat{}, err
	}
	return parseStat(strings.TrimSpace(string(raw)))
}

var clkTck = sync.OnceValue(func() float64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil && n > 0 {
			return float64(n)
		}
	}
	fmt.Fprintln(os.Stderr, "agentidp-bench: getconf CLK_TCK failed, assuming 100 clock ticks per second")
	return 100
})

// procKey names one process over time: a pid reused by a new process is another key.
type procKey struct {
	pid   int
	start uint64
}

// procSet is a snapshot of a group of processes (all of PostgreSQL's).
type procSet map[procKey]procStat

// scanComm reads every process whose /proc/<pid>/comm is comm. Processes that exit while it
// reads are skipped.
func scanComm(comm string) (procSet, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	set := procSet{}
	for _, e := range entries {
		name := e.Name()
		if name == "" || name[0] < '0' || name[0] > '9' {
			continue
		}
		c, err := os.ReadFile("/proc/" + name + "/comm")
		if err != nil || strings.TrimSpace(string(c)) != comm {
			continue
		}
		p, err := readStat(name)
		if err != nil {
			continue
		}
		if cmd, err := os.ReadFile("/proc/" + name + "/cmdline"); err == nil {
			p.cmdline = strings.TrimSpace(strings.ReplaceAll(string(cmd), "\x00", " "))
		}
		set[procKey{p.pid, p.start}] = p
	}
	return set, nil
}

// backendsOf is the part of s that are PostgreSQL backends connected to database db: their
// title (cmdline) is "postgres: [cluster: ]user db host(port) activity".
func (s procSet) backendsOf(db string) procSet {
	out := procSet{}
	for k, p := range s {
		if f := strings.Fields(p.cmdline); len(f) > 0 && f[0] == "postgres:" && slices.Contains(f[1:], db) {
			out[k] = p
		}
	}
	return out
}

// roots counts the processes of s whose parent is not in s (for PostgreSQL: postmasters).
func (s procSet) roots() int {
	pids := s.pids()
	n := 0
	for _, p := range s {
		if !pids[p.ppid] {
			n++
		}
	}
	return n
}

func (s procSet) pids() map[int]bool {
	pids := make(map[int]bool, len(s))
	for k := range s {
		pids[k.pid] = true
	}
	return pids
}

// setDelta is the CPU time, in clock ticks, that a group of processes spent between two
// snapshots, counting each process's own time and its waited-for children's (so a backend
// that started and exited between the snapshots is counted, through its parent's cutime):
//   - a process in both: the difference;
//   - one only after (it started in between): all of it, counted from 0;
//   - one only before (it exited in between): if its parent is in the after snapshot, its
//     whole time has moved into that parent's cutime, so its before figure is subtracted
//     to leave only what it spent in between; if not (its parent is not one of the group),
//     that time is out of sight and it counts 0.
func setDelta(before, after procSet) int64 {
	var d int64
	for k, a := range after {
		d += a.total()
		if b, ok := before[k]; ok {
			d -= b.total()
		}
	}
	alive := after.pids()
	for k, b := range before {
		if _, ok := after[k]; !ok && alive[b.ppid] {
			d -= b.total()
		}
	}
	return d
}

// redisCPU sums used_cpu_sys, used_cpu_user and their _children pair of an INFO cpu reply,
// in seconds.
func redisCPU(info string) (float64, error) {
	var sum float64
	seen := 0
	for _, line := range strings.Split(info, "\n") {
		name, value, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		switch name {
		case "used_cpu_sys", "used_cpu_user", "used_cpu_sys_children", "used_cpu_user_children":
			v, err := strconv.ParseFloat(value, 64)
			if err != nil {
				return 0, fmt.Errorf("INFO cpu %s: %w", name, err)
			}
			sum += v
			seen++
		}
	}
	if seen < 2 {
		return 0, fmt.Errorf("INFO cpu without used_cpu_sys/used_cpu_user: %.200q", info)
	}
	return sum, nil
}

// machineCPU reads the first line of /proc/stat: all CPUs' busy and idle time, in ticks.
func machineCPU() (idle, total int64, err error) {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0, fmt.Errorf("/proc/stat: unexpected first line %.80q", line)
	}
	// user nice system idle iowait irq softirq steal (guest time is already in user).
	for i, s := range f[1:9] {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/stat: %w", err)
		}
		total += v
		if i == 3 || i == 4 {
			idle += v
		}
	}
	return idle, total, nil
}

// meter samples the CPU time of a scenario's processes: the measured process (pid: the
// server, the ceiling or a peer; 0 for none), PostgreSQL (every process named postgres, and
// apart the backends connected to database db, if not ""), Redis (INFO cpu through rdb; nil
// for none), the benchmark itself and the whole machine.
type meter struct {
	pid int
	db  string
	rdb *redis.Client
}

// cpuSample is one sample of a meter; a part it could not read is NaN, or nil for pg.
type cpuSample struct {
	at                  time.Time
	proc, self, redis   float64 // seconds
	pg                  procSet
	db                  string // the bench database, whose backends are counted apart
	idleTicks, allTicks int64
}

var warnPostmasters sync.Once

func (m *meter) sample(ctx context.Context, at time.Time) cpuSample {
	s := cpuSample{at: at, proc: math.NaN(), self: math.NaN(), redis: math.NaN(), idleTicks: -1}
	if m == nil {
		return s
	}
	s.db = m.db
	tck := clkTck()
	if m.pid > 0 {
		if p, err := readStat(strconv.Itoa(m.pid)); err == nil {
			s.proc = float64(p.own()) / tck
		}
	}
	if p, err := readStat("self"); err == nil {
		s.self = float64(p.own()) / tck
	}
	if pg, err := scanComm("postgres"); err == nil && len(pg) > 0 {
		s.pg = pg
		if n := pg.roots(); n > 1 {
			warnPostmasters.Do(func() {
				fmt.Fprintf(os.Stderr, "agentidp-bench: %d PostgreSQL process trees on this machine; the PostgreSQL column counts them all\n", n)
			})
		}
	}
	if m.rdb != nil {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		info, err := m.rdb.Info(ctx, "cpu").Result()
		cancel()
		if err == nil {
			if v, err := redisCPU(info); err == nil {
				s.redis = v
			}
		}
	}
	if idle, all, err := machineCPU(); err == nil {
		s.idleTicks, s.allTicks = idle, all
	}
	return s
}

// cpuUsage is the CPU time spent in a window, in seconds (NaN where unknown), and the
// machine's idle share.
type cpuUsage struct {
	Server, Postgres, Redis float64 // Server: the measured process (server, ceiling or peer)
	PostgresDB              float64 // of Postgres, the bench database's backends (alive at the end)
	Bench                   float64 // the load generator (this process)
	Idle                    float64 // share of all CPUs' time left idle, 0–1
}

// total is what the request cost the system under test: server + PostgreSQL + Redis.
func (u cpuUsage) total() float64 { return u.Server + u.Postgres + u.Redis }

func usage(before, after cpuSample) cpuUsage {
	u := cpuUsage{
		Server: after.proc - before.proc, Bench: after.self - before.self, Redis: after.redis - before.redis,
		Postgres: math.NaN(), PostgresDB: math.NaN(), Idle: math.NaN(),
	}
	if before.pg != nil && after.pg != nil {
		u.Postgres = float64(setDelta(before.pg, after.pg)) / clkTck()
		if db := after.db; db != "" && before.db == db {
			u.PostgresDB = float64(setDelta(before.pg.backendsOf(db), after.pg.backendsOf(db))) / clkTck()
		}
	}
	if before.idleTicks >= 0 && after.idleTicks >= 0 && after.allTicks > before.allTicks {
		u.Idle = float64(after.idleTicks-before.idleTicks) / float64(after.allTicks-before.allTicks)
	}
	return u
}

// perRequest is seconds spread over n requests, in µs (NaN without requests).
func perRequest(seconds float64, n int64) float64 {
	if n <= 0 {
		return math.NaN()
	}
	return seconds * 1e6 / float64(n)
}
