package agents

import (
	"context"
	"errors"
	"sync"
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
	}}, cache.NewMemory(), zap.NewNop(), time.Hour, 10)

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
	}}, cache.NewMemory(), zap.NewNop(), time.Hour, 10)
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
		cache.NewMemory(), zap.NewNop(), time.Hour, 10)
	if _, err := d2.Lookup(ctx, stubID); !errors.Is(err, database.ErrUnavailable) {
		t.Errorf("outage: %v", err)
	}
	if n := d2.rows.Len(); n != 0 {
		t.Error("an outage was cached")
	}
}

// An entry lives for the TTL; past the bound the least recently used entry goes first.
func TestDirectoryTTLAndBound(t *testing.T) {
	reads := map[string]int{}
	var mu sync.Mutex
	repo := stubRepository{getFn: func(id string) (*agentRow, error) {
		mu.Lock()
		reads[id]++
		mu.Unlock()
		return stubRow(id, "x"), nil
	}}
	ctx := context.Background()
	ids := []string{stubID, "11111111-2222-4333-8444-555555555555", "21111111-2222-4333-8444-555555555555"}
	d := newDirectory(nil, repo, cache.NewMemory(), zap.NewNop(), time.Hour, 2)
	for _, id := range []string{ids[0], ids[1], ids[0], ids[2], ids[0], ids[2]} { // ids[1] is the least recently used
		if _, err := d.Lookup(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if reads[ids[0]] != 1 || reads[ids[1]] != 1 || reads[ids[2]] != 1 {
		t.Fatalf("reads %v, want one each", reads)
	}
	if _, err := d.Lookup(ctx, ids[1]); err != nil || reads[ids[1]] != 2 {
		t.Fatalf("the least recently used entry was kept past the bound: reads %v %v", reads, err)
	}

	short := newDirectory(nil, repo, cache.NewMemory(), zap.NewNop(), 30*time.Millisecond, 10)
	if _, err := short.Lookup(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	before := reads[ids[0]]
	time.Sleep(60 * time.Millisecond)
	if _, err := short.Lookup(ctx, ids[0]); err != nil || reads[ids[0]] != before+1 {
		t.Fatalf("an entry outlived its TTL: reads %v %v", reads, err)
	}
}

// BenchmarkDirectoryLookupHit measures a cached Lookup, the token endpoint's hot path.
func BenchmarkDirectoryLookupHit(b *testing.B) {
	db := testenv.SQLite(b)
	d := newDirectory(db, newRepository(), cache.NewMemory(), zap.NewNop(), time.Hour, maxDirectoryEntries)
	a := &Agent{ID: stubID, Name: "bench", Status: StatusActive, Plan: PlanFree, CreatedAt: database.Time(time.Now())}
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
