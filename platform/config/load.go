package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"

	"github.com/caarlos0/env/v11"
	"gopkg.in/yaml.v3"
)

// Load reads the optional YAML file at path, overlays the environment (environ, in
// os.Environ form; the environment wins), parses, validates, and resolves the secrets.
// Every error names the offending variable in one line.
func Load(path string, environ []string) (*Config, error) {
	vars := map[string]string{}
	if path != "" {
		if err := readYAML(path, vars); err != nil {
			return nil, err
		}
	}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && knownVar(k) {
			vars[k] = v
		}
	}
	cfg := &Config{}
	if err := env.ParseWithOptions(cfg, env.Options{Environment: vars}); err != nil {
		return nil, translateParseError(err)
	}
	cfg.applyVersion1Names(vars)
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := cfg.resolveSecrets(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// readYAML accepts a flat mapping whose keys are the variable names, either as written
// (AGENTIDP_TOKEN_TTL) or in lower case without the prefix (token_ttl). Lists are joined
// with commas. Unknown keys are an error, so that a typo is not silently ignored.
func readYAML(path string, into map[string]string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	for key, val := range doc {
		name := varName(key)
		if !knownVar(name) {
			return fmt.Errorf("config file %s: unknown setting %q", path, key)
		}
		switch v := val.(type) {
		case nil:
		case []any:
			parts := make([]string, len(v))
			for i, p := range v {
				parts[i] = fmt.Sprint(p)
			}
			into[name] = strings.Join(parts, ",")
		case map[string]any:
			return fmt.Errorf("config file %s: %s must be a scalar or a list", path, key)
		default:
			into[name] = fmt.Sprint(v)
		}
	}
	return nil
}

// applyVersion1Names reads the version-1 variables that version 2 renamed: the per-client
// failure budget AGENTIDP_AUTH_FAILURES_PER_CLIENT, where set, is the pair's budget
// (AGENTIDP_AUTH_FAILURES_PER_CLIENT_IP) unless the new name is set too, which then wins.
// An empty value counts as not set, as it does for every variable.
func (c *Config) applyVersion1Names(vars map[string]string) {
	if vars["AGENTIDP_AUTH_FAILURES_PER_CLIENT"] == "" {
		return
	}
	c.perClientSet = true
	if vars["AGENTIDP_AUTH_FAILURES_PER_CLIENT_IP"] == "" {
		c.AuthFailuresPerClientIP = c.AuthFailuresPerClient
	}
}

func varName(key string) string {
	up := strings.ToUpper(key)
	if knownVar(up) {
		return up // written in full: AGENTIDP_TOKEN_TTL, VAULT_ADDR
	}
	return "AGENTIDP_" + up
}

var knownVars = func() map[string]string {
	vars := map[string]string{}
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		f := t.Field(i)
		if name := f.Tag.Get("env"); name != "" && name != "-" {
			vars[name] = f.Name
		}
	}
	return vars
}()

func knownVar(name string) bool { _, ok := knownVars[name]; return ok }

// translateParseError turns the env library's field-named errors into one line naming the
// environment variable.
func translateParseError(err error) error {
	var agg env.AggregateError
	if !errors.As(err, &agg) || len(agg.Errors) == 0 {
		return err
	}
	var pe env.ParseError
	if errors.As(agg.Errors[0], &pe) {
		f, _ := reflect.TypeFor[Config]().FieldByName(pe.Name)
		inner := pe.Err
		var ne interface{ Unwrap() error }
		if errors.As(inner, &ne) && ne.Unwrap() != nil {
			inner = ne.Unwrap()
		}
		return fmt.Errorf("%s: invalid value: %v", f.Tag.Get("env"), inner)
	}
	return agg.Errors[0]
}
