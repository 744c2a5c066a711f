// Package health declares the readiness checks that platform pieces and modules contribute
// to /readyz through the "readiness" value group.
package health

import (
	"context"

	"go.uber.org/fx"
)

// Group is the value-group tag of readiness checks, declared once.
const Group = `group:"readiness"`

// Check is one named readiness check; a nil error means ready.
type Check struct {
	Name  string
	Check func(ctx context.Context) error
}

// AsCheck annotates a constructor of a Check so that it joins the readiness group.
func AsCheck(f any) any { return fx.Annotate(f, fx.ResultTags(Group)) }
