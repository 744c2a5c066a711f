package main

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"testing"
	"time"
)

// statLine is a /proc/<pid>/stat line with the given comm and times.
func statLine(pid int, comm string, ppid int, utime, stime, cutime, cstime int64, start uint64) string {
	return fmt.Sprintf("%d (%s) S %d %d %d 0 -1 4194560 1234 0 0 0 %d %d %d %d 20 0 1 0 %d 223006720 1537 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0",
		pid, comm, ppid, ppid, ppid, utime, stime, cutime, cstime, start)
}

func TestParseStat(t *testing.T) {
	for _, comm := range []string{"postgres", "a b", "x) (y) z", ") ", "(", "((("} {
		line := statLine(4242, comm, 17, 101, 202, 303, 404, 987654)
		p, err := parseStat(line)
		if err != nil {
			t.Fatalf("comm %q: %v", comm, err)
		}
		want := procStat{pid: 4242, comm: comm, ppid: 17, utime: 101, stime: 202, cutime: 303, cstime: 404, start: 987654}
		if p != want {
			t.Errorf("comm %q: got %+v, want %+v", comm, p, want)
		}
		if p.own() != 303 || p.total() != 1010 {
			t.Errorf("comm %q: own %d total %d, want 303 1010", comm, p.own(), p.total())
		}
	}
}

func TestParseStatRejects(t *testing.T) {
	for _, line := range []string{
		"",
		"12 postgres S 1",
		"x (postgres) S 1 2 3",
		"12 (postgres) S 1 2 3", // too few fields
		statLine(1, "p", 0, 1, 2, 3, 4, 5)[:30] + ")", // fields cut off by a late ')'
	} {
		if p, err := parseStat(line); err == nil {
			t.Errorf("parseStat(%q) = %+v, want an error", line, p)
		}
	}
}

func TestParseStatSelf(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc is Linux's")
	}
	p, err := readStat("self")
	if err != nil {
		t.Fatal(err)
	}
	if p.pid != os.Getpid() || p.ppid != os.Getppid() || p.start == 0 {
		t.Errorf("self: %+v, want pid %d ppid %d", p, os.Getpid(), os.Getppid())
	}
}

func proc(pid, ppid int, start uint64, own, children int64) procStat {
	return procStat{pid: pid, ppid: ppid, start: start, utime: own / 2, stime: own - own/2, cutime: children, cstime: 0}
}

func set(ps ...procStat) procSet {
	s := procSet{}
	for _, p := range ps {
		s[procKey{p.pid, p.start}] = p
	}
	return s
}

func TestSetDelta(t *testing.T) {
	// postmaster 100 (parent 1, not counted), backends 101, 102, 103.
	before := set(
		proc(100, 1, 10, 500, 1000), // postmaster
		proc(101, 100, 20, 40, 0),   // runs through the window
		proc(102, 100, 30, 70, 0),   // exits in the window after 30 more ticks: 100 moves to the postmaster's cutime
		proc(103, 100, 40, 9, 0),    // exits; its pid is reused by a new backend (other start time)
		proc(200, 1, 50, 80, 0),     // a postgres whose parent is not counted: exits, its time is lost
	)
	after := set(
		proc(100, 1, 10, 505, 1000+100+12+25), // +5 own; children: 102 (100), 103 (12), 105 started and exited (25)
		proc(101, 100, 20, 60, 0),             // +20
		proc(103, 100, 60, 7, 0),              // new process on a reused pid: 7 from 0
		proc(104, 100, 70, 11, 0),             // started in the window: 11 from 0
	)
	// postmaster 5 + 101 20 + 102 30 + old 103 3 + 105 25 + new 103 7 + 104 11; 200 counts 0.
	if got, want := setDelta(before, after), int64(5+20+30+3+25+7+11); got != want {
		t.Errorf("setDelta = %d, want %d", got, want)
	}
	if got := setDelta(before, before); got != 0 {
		t.Errorf("setDelta of a snapshot with itself = %d, want 0", got)
	}
	if got, want := setDelta(procSet{}, after), after.total(); got != want {
		t.Errorf("setDelta from nothing = %d, want everything, %d", got, want)
	}
	if n := before.roots(); n != 2 {
		t.Errorf("roots = %d, want 2 (100 and 200)", n)
	}
}

func (s procSet) total() int64 {
	var t int64
	for _, p := range s {
		t += p.total()
	}
	return t
}

func TestRedisCPU(t *testing.T) {
	info := "# CPU\r\nused_cpu_sys:1.500000\r\nused_cpu_user:2.250000\r\nused_cpu_sys_children:0.125000\r\n" +
		"used_cpu_user_children:0.125000\r\nused_cpu_sys_main_thread:1.400000\r\nused_cpu_user_main_thread:2.000000\r\n"
	v, err := redisCPU(info)
	if err != nil || v != 4 {
		t.Errorf("redisCPU = %v, %v; want 4 (the main-thread figures are already in the totals)", v, err)
	}
	if _, err := redisCPU("# CPU\r\n"); err == nil {
		t.Error("redisCPU of an empty section: no error")
	}
	if _, err := redisCPU("used_cpu_sys:x\r\nused_cpu_user:1\r\n"); err == nil {
		t.Error("redisCPU of a bad number: no error")
	}
}

func TestUsage(t *testing.T) {
	tck := clkTck()
	before := cpuSample{proc: 1, self: 2, redis: 3, pg: set(proc(100, 1, 1, 10, 0)), idleTicks: 100, allTicks: 1000}
	after := cpuSample{proc: 1.5, self: 2.25, redis: 3.125, pg: set(proc(100, 1, 1, 10+int64(tck), 0)), idleTicks: 150, allTicks: 1200}
	u := usage(before, after)
	if u.Server != 0.5 || u.Bench != 0.25 || u.Redis != 0.125 || u.Postgres != 1 || u.Idle != 0.25 {
		t.Errorf("usage = %+v", u)
	}
	if got := perRequest(u.total(), 1000); math.Abs(got-1625) > 1e-9 {
		t.Errorf("total per request = %v µs, want 1625", got)
	}
	// Nothing read: unknown, not zero.
	none := (*meter)(nil).sample(context.Background(), time.Now())
	u = usage(none, none)
	for name, v := range map[string]float64{"server": u.Server, "postgres": u.Postgres, "redis": u.Redis, "bench": u.Bench, "idle": u.Idle} {
		if !math.IsNaN(v) {
			t.Errorf("%s = %v without samples, want NaN", name, v)
		}
	}
	if !math.IsNaN(perRequest(1, 0)) {
		t.Error("perRequest over 0 requests is not NaN")
	}
}

// TestDriveWindow drives an in-process handler for a short window: the requests and the CPU
// of this process (as the "server") are counted over the same window.
func TestDriveWindow(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc is Linux's")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			http.Error(w, "no", http.StatusTeapot)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	r := drive(context.Background(), "test", 4, 50*time.Millisecond, 300*time.Millisecond, &meter{pid: os.Getpid()},
		func(w int) (*http.Request, error) {
			path := "/"
			if w == 0 {
				path = "/fail"
			}
			return http.NewRequest(http.MethodGet, srv.URL+path, nil)
		})
	if r.Requests == 0 || r.Errors == 0 || r.FirstErr != "418 I'm a teapot" {
		t.Errorf("requests %d errors %d first %q", r.Requests, r.Errors, r.FirstErr)
	}
	if r.Window < 300*time.Millisecond || r.Window > time.Second {
		t.Errorf("window %s, want about 300ms", r.Window)
	}
	if math.IsNaN(r.CPU.Server) || r.CPU.Server < 0 || math.IsNaN(r.CPU.Bench) {
		t.Errorf("CPU %+v", r.CPU)
	}
	if got := float64(r.Requests) / r.Window.Seconds(); math.Abs(got-r.PerSecond) > 1e-6*got {
		t.Errorf("req/s %v, want requests / window = %v", r.PerSecond, got)
	}
}

func TestBackendsOf(t *testing.T) {
	titled := func(pid int, cmdline string) procStat {
		p := proc(pid, 100, uint64(pid), 10, 0)
		p.cmdline = cmdline
		return p
	}
	s := set(
		titled(100, "/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main"),
		titled(101, "postgres: 15/main: walwriter"),
		titled(102, "postgres: 15/main: postgres agentidp_bench_ab12 127.0.0.1(5555) idle"),
		titled(103, "postgres: postgres agentidp_bench_ab12 127.0.0.1(5556) INSERT"), // no cluster_name
		titled(104, "postgres: 15/main: postgres agentidp_bench_ab12x 127.0.0.1(5557) idle"),
		titled(105, "postgres: 15/main: postgres test 127.0.0.1(5558) idle"),
	)
	got := s.backendsOf("agentidp_bench_ab12")
	if len(got) != 2 || got[procKey{102, 102}].pid != 102 || got[procKey{103, 103}].pid != 103 {
		t.Errorf("backendsOf = %v, want 102 and 103", got)
	}
	// Apart from the postmaster, a backend that exits is lost: it counts 0, not minus.
	before, after := s.backendsOf("agentidp_bench_ab12"), set(proc(102, 100, 102, 25, 0))
	if d := setDelta(before, after); d != 15 {
		t.Errorf("setDelta of the bench backends = %d, want 15", d)
	}
}
