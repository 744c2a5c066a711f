package main

import (
	"testing"
	"time"
)

func TestParseTimeV(t *testing.T) {
	const report = `	Command being timed: "agentidp audit dump"
	User time (seconds): 81.52
	System time (seconds): 9.07
	Percent of CPU this job got: 61%
	Elapsed (wall clock) time (h:mm:ss or m:ss): 2:27.45
	Maximum resident set size (kbytes): 52340
	Exit status: 0
`
	got, err := parseTimeV(report)
	if err != nil {
		t.Fatal(err)
	}
	want := timed{wall: 147450 * time.Millisecond, user: 81520 * time.Millisecond, sys: 9070 * time.Millisecond, peakRSSKiB: 52340}
	if got != want {
		t.Errorf("parseTimeV = %+v, want %+v", got, want)
	}
	hours, err := parseTimeV("User time (seconds): 1\nSystem time (seconds): 0\nElapsed (wall clock) time (h:mm:ss or m:ss): 1:02:03\nMaximum resident set size (kbytes): 1\n")
	if err != nil || hours.wall != time.Hour+2*time.Minute+3*time.Second {
		t.Errorf("h:mm:ss: %+v, %v", hours, err)
	}
	if _, err := parseTimeV("Command exited with non-zero status 1\n"); err == nil {
		t.Error("a report without the fields parsed")
	}
}

func TestCheckpointSize(t *testing.T) {
	if got := checkpointSize("example.com/audit\n10000000\nAAAA\n\n— sig\n"); got != "10000000" {
		t.Errorf("checkpointSize = %q", got)
	}
	if got := checkpointSize("one line"); got != "?" {
		t.Errorf("checkpointSize of one line = %q", got)
	}
}
