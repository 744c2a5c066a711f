package credentials

import (
	"context"
	"crypto/subtle"
	"errors"

	"github.com/uptrace/bun"
	"go.uber.org/fx"

	"github.com/agentidp/agentidp/platform/database"
)

// pepperLabel is what the pepper check value is the digest of: not of a secret's shape, so
// no stored secret hash can equal it.
const pepperLabel = "agentidp:pepper-check:v1"

// errPepperMismatch stops the start of a replica whose pepper is not the store's.
var errPepperMismatch = errors.New("AGENTIDP_SECRET_PEPPER: differs from the pepper this store was set up with; " +
	"every replica must share it (with another one no client secret verifies)")

// pepperCheckRow is the one row of credentials_pepper_check.
type pepperCheckRow struct {
	bun.BaseModel `bun:"table:credentials_pepper_check"`
	ID            int    `bun:"id,pk"`
	CheckValue    string `bun:"check_value"`
}

// checkPepperOnStart registers the start hook comparing the configured pepper with the
// store's check value, writing the value on the store's first start.
func checkPepperOnStart(lc fx.Lifecycle, db *bun.DB, h *hasher) {
	lc.Append(fx.StartHook(func(ctx context.Context) error { return checkPepper(ctx, db, h) }))
}

// checkPepper compares HMAC(pepper, pepperLabel) with the stored value; the first start
// (and one against a store from before the check) stores it. Two first starts racing
// insert the same row or, with different peppers, one of them then finds a mismatch.
func checkPepper(ctx context.Context, db bun.IDB, h *hasher) error {
	d := h.sum(pepperLabel)
	want := encodeV1(d)
	if _, err := db.NewInsert().Model(&pepperCheckRow{ID: 1, CheckValue: want}).
		On("CONFLICT (id) DO NOTHING").Exec(ctx); err != nil {
		return database.Translate(err)
	}
	var row pepperCheckRow
	if err := db.NewSelect().Model(&row).Where("id = 1").Scan(ctx); err != nil {
		return database.Translate(err)
	}
	if subtle.ConstantTimeCompare([]byte(row.CheckValue), []byte(want)) != 1 {
		return errPepperMismatch
	}
	return nil
}
