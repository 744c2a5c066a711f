package main

import (
	"encoding/json"
	"strings"

	"github.com/spf13/cobra"
)

// field is a body member set from a flag: the flag is named as the member with dashes.
type field struct {
	name string // JSON member, e.g. allowed_scopes
	kind kind
	help string
}

type kind int

const (
	str  kind = iota // a string
	list             // comma-separated strings, or the flag repeated
	num              // an integer
	flag             // a boolean
	raw              // a JSON value as given (metadata, grants)
)

func flagName(member string) string { return strings.ReplaceAll(member, "_", "-") }

// addBodyFlags declares one flag per field.
func addBodyFlags(cmd *cobra.Command, fields []field) {
	for _, f := range fields {
		switch f.kind {
		case list:
			cmd.Flags().StringSlice(flagName(f.name), nil, f.help)
		case num:
			cmd.Flags().Int64(flagName(f.name), 0, f.help)
		case flag:
			cmd.Flags().Bool(flagName(f.name), false, f.help)
		default:
			cmd.Flags().String(flagName(f.name), "", f.help)
		}
	}
}

// bodyFrom builds the request body from the flags that were set (only those: a PATCH
// changes only what is sent). An empty list flag (--allowed-scopes "") sends [].
func bodyFrom(cmd *cobra.Command, fields []field) (map[string]any, error) {
	body := map[string]any{}
	for _, f := range fields {
		n := flagName(f.name)
		if !cmd.Flags().Changed(n) {
			continue
		}
		switch f.kind {
		case list:
			v, _ := cmd.Flags().GetStringSlice(n)
			out := []string{}
			for _, s := range v {
				if s = strings.TrimSpace(s); s != "" {
					out = append(out, s)
				}
			}
			body[f.name] = out
		case num:
			body[f.name], _ = cmd.Flags().GetInt64(n)
		case flag:
			body[f.name], _ = cmd.Flags().GetBool(n)
		case raw:
			v, _ := cmd.Flags().GetString(n)
			var j any
			if err := json.Unmarshal([]byte(v), &j); err != nil {
				return nil, usageErrorf("--%s: want JSON: %v", n, err)
			}
			body[f.name] = j
		default:
			body[f.name], _ = cmd.Flags().GetString(n)
		}
	}
	return body, nil
}

func jsonString(v any) (string, error) {
	raw, err := json.Marshal(v)
	return string(raw), err
}
