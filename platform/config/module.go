package config

import (
	"os"

	"go.uber.org/fx"
)

// Source says where the configuration comes from: the --config file (may be empty) and the
// environment. The binary supplies it; tests build a Config directly with fx.Supply.
type Source struct {
	File    string
	Environ []string
}

// FromOS is the Source of a normal start.
func FromOS(file string) Source { return Source{File: file, Environ: os.Environ()} }

// Module provides *Config loaded from the Source in the graph.
var Module = fx.Module("config",
	fx.Provide(func(s Source) (*Config, error) { return Load(s.File, s.Environ) }),
)
