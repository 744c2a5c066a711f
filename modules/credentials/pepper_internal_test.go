package credentials

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/agentidp/agentidp/platform/testenv"
)

// The first start stores the pepper's check value; the same pepper passes again, another
// one is refused naming AGENTIDP_SECRET_PEPPER, and the stored value stays the first one.
func TestPepperCheck(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		mine, _ := newHasher(bytes.Repeat([]byte{1}, 32))
		other, _ := newHasher(bytes.Repeat([]byte{2}, 32))
		if err := checkPepper(ctx, b.DB, mine); err != nil {
			t.Fatalf("first start: %v", err)
		}
		if err := checkPepper(ctx, b.DB, mine); err != nil {
			t.Fatalf("same pepper again: %v", err)
		}
		err := checkPepper(ctx, b.DB, other)
		if !errors.Is(err, errPepperMismatch) {
			t.Fatalf("another pepper: %v, want the mismatch", err)
		}
		if err := checkPepper(ctx, b.DB, mine); err != nil {
			t.Fatalf("the refused start changed the stored value: %v", err)
		}
	})
}
