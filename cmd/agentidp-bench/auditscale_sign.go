package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"syscall"
	"time"

	"go.uber.org/fx"

	"github.com/agentidp/agentidp/cmd/agentidp/app"
	"github.com/agentidp/agentidp/modules/audit"
	"github.com/agentidp/agentidp/platform/audittrail"
)

// measureSigning signs o.signs checkpoints with the audit module in this process, each after
// one more event, and prints the wall time and the CPU of this process and of the database's
// backends per checkpoint.
func measureSigning(ctx context.Context, o auditScaleOptions, secrets benchSecrets) error {
	// The worker's own tick is an hour away: every checkpoint of the window is ours.
	cfg, err := storeConfig(o.databaseURL, secrets, time.Hour)
	if err != nil {
		return err
	}
	var rec audittrail.Recorder
	var proofs audit.Proofs
	a := fx.New(app.Command(cfg, fx.Populate(&rec, &proofs)))
	if err := a.Err(); err != nil {
		return err
	}
	startCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := a.Start(startCtx); err != nil {
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = a.Stop(stopCtx)
	}()
	// A first checkpoint covering everything already there, not measured.
	first, err := proofs.SignCheckpoint(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("\ncheckpoint signing: the log's checkpoint before measuring covers %s events\n", checkpointSize(first))

	g := newEventGen(100, 100)
	rng := rand.New(rand.NewPCG(7, 7))
	m := &meter{db: dbName(o.databaseURL)}
	var walls []time.Duration
	var selfCPU time.Duration
	var pgTicks int64
	var last string
	for range o.signs {
		if err := rec.Record(ctx, g.tokenIssued(rng)); err != nil {
			return err
		}
		before := m.sample(ctx, time.Now())
		cpu0 := selfRusage()
		t0 := time.Now()
		cp, err := proofs.SignCheckpoint(ctx)
		wall := time.Since(t0)
		cpu1 := selfRusage()
		after := m.sample(ctx, time.Now())
		if err != nil {
			return err
		}
		if cp == last {
			return fmt.Errorf("SignCheckpoint signed nothing new after an event was recorded")
		}
		last = cp
		walls = append(walls, wall)
		selfCPU += cpu1 - cpu0
		if before.pg != nil && after.pg != nil {
			pgTicks += setDelta(before.pg.backendsOf(m.db), after.pg.backendsOf(m.db))
		}
	}
	slices.Sort(walls)
	n := len(walls)
	fmt.Printf("| checkpoints signed | tree size | wall p50 | wall max | agentidp CPU per checkpoint (getrusage) | PostgreSQL backends' CPU per checkpoint (/proc, %.0f ticks/s) |\n", clkTck())
	fmt.Println("| ---: | ---: | ---: | ---: | ---: | ---: |")
	fmt.Printf("| %d | %s | %s | %s | %.0f µs | %.0f µs |\n\n", n, checkpointSize(last), round(walls[n/2]), round(walls[n-1]),
		float64(selfCPU.Microseconds())/float64(n), float64(pgTicks)/clkTck()*1e6/float64(n))
	return nil
}

// selfRusage is this process's user + system CPU time so far.
func selfRusage() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// checkpointSize is the tree size line of a checkpoint note (its second line).
func checkpointSize(note string) string {
	lines := strings.SplitN(note, "\n", 3)
	if len(lines) < 2 {
		return "?"
	}
	return lines[1]
}
