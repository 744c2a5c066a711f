package agents

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/database"
	"github.com/agentidp/agentidp/platform/testenv"
)

// stubRepository answers get from a function; the other methods are not used by the
// Directory.
type stubRepository struct {
	repository
	getFn func(id string) (*agentRow, error)
}

func (s stubRepository) get(_ context.Context, _ bun.IDB, id string) (*agentRow, error) {
	return s.getFn(id)
}

func stubRow(id, name string) *agentRow {
	return &agentRow{ID: id, Name: name, Status: string(StatusActive), Plan: string(PlanFree),
		AllowedScopes: "[]", AllowedAudiences: "[]", Metadata: "{}"}
}

const stubID = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"

// A lookup that read the row before a change, and finishes after the change's
// invalidation, must not leave what it read in the cache.
func TestDirectoryDoesNotCacheAReadThatRacedAnInvalidation(t *testing.T) {
	reading, proceed := make(chan struct{}), make(chan struct{})
	name := "old"
	d := newDirectory(nil, stubRepository{getFn: func(id string) (*agentRow, error) {
		row := stubRow(id, name)
		if name == "old" {
			close(reading)
			<-proceed
		}
		return row, nil
	}}, cache.NewMemory(), zap.NewNop())

	done := make(chan *Agent)
	go func() {
		a, _ := d.Lookup(context.Background(), stubID)
		done <- a
	}()
	<-reading
	d.invalidate(stubID) // the change commits while the lookup still holds the old row
	close(proceed)
	if a := <-done; a.Name != "old" {
		t.Fatalf("the racing lookup itself answers what it read: %q", a.Name)
	}
	name = "new"
	a, err := d.Lookup(context.Background(), stubID)
	if err != nil || a.Name != "new" {
		t.Fatalf("next lookup: %+v %v; the stale read was cached", a, err)
	}
}

func TestDirectoryCachesHitsAndMisses(t *testing.T) {
	calls := 0
	d := newDirectory(nil, stubRepository{getFn: func(id string) (*agentRow, error) {
		calls++
		if id == stubID {
			return stubRow(id, "x"), nil
		}
		return nil, database.ErrNotFound
	}}, cache.NewMemory(), zap.NewNop())
	ctx := context.Background()
	const unknown = "11111111-2222-4333-8444-555555555555"
	for range 3 {
		if _, err := d.Lookup(ctx, stubID); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Lookup(ctx, unknown); !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
	}
	if calls != 2 {
		t.Errorf("%d repository reads, want 2 (one hit, one miss, then cached)", calls)
	}
	// A store failure is returned, not cached as "not found".
	d2 := newDirectory(nil, stubRepository{getFn: func(string) (*agentRow, error) { return nil, database.ErrUnavailable }},
		cache.NewMemory(), zap.NewNop())
	if _, err := d2.Lookup(ctx, stubID); !errors.Is(err, database.ErrUnavailable) {
		t.Errorf("outage: %v", err)
	}
	if d2.size.Load() != 0 {
		t.Error("an outage was cached")
	}
	// The janitor's sweep drops expired entries.
	d.sweepAt(time.Now().Add(time.Hour))
	if d.size.Load() != 0 {
		t.Errorf("%d entries after the sweep", d.size.Load())
	}
}

// BenchmarkDirectoryLookupHit measures a cached Lookup, the token endpoint's hot path.
func BenchmarkDirectoryLookupHit(b *testing.B) {
	db := testenv.SQLite(b)
	d := newDirectory(db, newRepository(), cache.NewMemory(), zap.NewNop())
	d.ttl.Store(int64(time.Hour))
	a := &Agent{ID: stubID, Name: "bench", Status: StatusActive, Plan: PlanFree, CreatedAt: truncateTime(time.Now())}
	a.UpdatedAt = a.CreatedAt
	row, err := toRow(a, false)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := newRepository().insert(ctx, db, row); err != nil {
		b.Fatal(err)
	}
	if _, err := d.Lookup(ctx, stubID); err != nil {
		b.Fatal(err)
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := d.Lookup(ctx, stubID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := d.Lookup(ctx, stubID); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}
