package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/agentidp/agentidp/cmd/agentidp/internal/apiclient"
)

// The commands over the API (orgs, agents, credentials, apis, token, audit list|export)
// share these flags, set on each command group; flags win over the environment.
const (
	defaultURL = "http://localhost:8080"
	envURL     = "AGENTIDP_URL"
	envID      = "AGENTIDP_CLIENT_ID"
	envSecret  = "AGENTIDP_CLIENT_SECRET"
	envToken   = "AGENTIDP_TOKEN"
)

// addRemoteFlags adds the connection and output flags to a command group.
func addRemoteFlags(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.String("url", "", "the server's URL (default $"+envURL+", else "+defaultURL+")")
	f.String("client-id", "", "client id (an agent_id) for the client credentials grant (default $"+envID+")")
	f.String("client-secret", "", "client secret (default $"+envSecret+"; prefer the variable: flags show in the process list)")
	f.String("token", "", "an access token to use instead of client credentials (default $"+envToken+")")
	f.StringP("output", "o", "table", "output: table or json (the API's JSON as it comes)")
	f.String("field", "", "print only this field of the answer (a dotted path, e.g. admin.client_secret)")
}

// remote is what a command over the API needs: the client and how to print.
type remote struct {
	client *apiclient.Client
	output string
	field  string
	out    io.Writer
}

func newRemote(cmd *cobra.Command) (*remote, error) {
	str := func(flag, env string) string {
		v, _ := cmd.Flags().GetString(flag)
		if v == "" {
			v = os.Getenv(env)
		}
		return v
	}
	base := str("url", envURL)
	if base == "" {
		base = defaultURL
	}
	output, _ := cmd.Flags().GetString("output")
	if output != "table" && output != "json" {
		return nil, usageErrorf("-o/--output: want table or json, got %q", output)
	}
	field, _ := cmd.Flags().GetString("field")
	return &remote{
		client: &apiclient.Client{
			BaseURL: base, ClientID: str("client-id", envID), ClientSecret: str("client-secret", envSecret),
			Token: str("token", envToken), HTTP: &http.Client{Timeout: 60 * time.Second},
		},
		output: output, field: field, out: cmd.OutOrStdout(),
	}, nil
}

// print writes an answer: the field asked for, the JSON as it came, or a table whose first
// columns are cols (a list's items, one row each; an object, one field per line).
func (r *remote) print(body []byte, cols ...string) error {
	if r.field != "" {
		return r.printField(body)
	}
	if r.output == "json" {
		var buf bytes.Buffer
		if err := json.Indent(&buf, body, "", "  "); err != nil {
			_, err = r.out.Write(body)
			return err
		}
		buf.WriteByte('\n')
		_, err := r.out.Write(buf.Bytes())
		return err
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("the server's answer is not JSON: %w", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		_, err := fmt.Fprintln(r.out, cell(v))
		return err
	}
	tw := tabwriter.NewWriter(r.out, 0, 4, 2, ' ', 0)
	if items, isList := obj["items"].([]any); isList {
		if len(cols) == 0 && len(items) > 0 {
			if first, ok := items[0].(map[string]any); ok {
				cols = keys(first)
			}
		}
		fmt.Fprintln(tw, strings.ToUpper(strings.Join(cols, "\t")))
		for _, it := range items {
			m, _ := it.(map[string]any)
			row := make([]string, len(cols))
			for i, c := range cols {
				row[i] = cell(m[c])
			}
			fmt.Fprintln(tw, strings.Join(row, "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if next, _ := obj["next_cursor"].(string); next != "" {
			_, err := fmt.Fprintf(r.out, "(more: --cursor %s)\n", next)
			return err
		}
		return nil
	}
	seen := map[string]bool{}
	for _, c := range append(cols, keys(obj)...) {
		if _, ok := obj[c]; !ok || seen[c] {
			continue
		}
		seen[c] = true
		fmt.Fprintf(tw, "%s\t%s\n", c, cell(obj[c]))
	}
	return tw.Flush()
}

func (r *remote) printField(body []byte) error {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("the server's answer is not JSON: %w", err)
	}
	for _, part := range strings.Split(r.field, ".") {
		switch node := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = node[part]; !ok {
				return usageErrorf("--field: the answer has no field %q", r.field)
			}
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(node) {
				return usageErrorf("--field: the answer has no field %q", r.field)
			}
			v = node[i]
		default:
			return usageErrorf("--field: the answer has no field %q", r.field)
		}
	}
	if s, ok := v.(string); ok {
		_, err := fmt.Fprintln(r.out, s)
		return err
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(r.out, string(raw))
	return err
}

// cell renders one value for a table: strings as they are, null as -, lists joined with
// commas, objects as JSON.
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return "-"
	case string:
		if x == "" {
			return `""`
		}
		return x
	case []any:
		if len(x) == 0 {
			return "[]"
		}
		parts := make([]string, len(x))
		for i, p := range x {
			parts[i] = cell(p)
		}
		return strings.Join(parts, ",")
	case map[string]any:
		raw, _ := json.Marshal(x)
		return string(raw)
	default:
		raw, _ := json.Marshal(x)
		return string(raw)
	}
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// printDone prints a one-line acknowledgement of an answer without a body (204), unless
// JSON or a field is asked for, which then print nothing.
func (r *remote) printDone(msg string) error {
	if r.output == "json" || r.field != "" {
		return nil
	}
	_, err := fmt.Fprintln(r.out, msg)
	return err
}

// usageError is a mistake in the command line itself: exit code 2 (an API's refusal or a
// failure is 1).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// exitCode maps an error of the command line to the process's exit code.
func exitCode(err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue), errors.Is(err, apiclient.ErrNoCredentials):
		return 2
	case strings.HasPrefix(err.Error(), "unknown command "), strings.HasPrefix(err.Error(), "accepts "):
		return 2 // cobra's own argument checks
	default:
		return 1
	}
}

// args wants exactly the named positional arguments; anything else is a usage error.
func args(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if len(a) != len(names) {
			return usageErrorf("%s: want %d argument(s) (%s), got %d", cmd.CommandPath(), len(names), strings.Join(names, " "), len(a))
		}
		return nil
	}
}

// group is a command that only holds subcommands: run alone or with an unknown
// subcommand it is a usage error.
func group(use, short string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use: use, Short: short,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, a []string) error {
			if len(a) > 0 {
				return usageErrorf("unknown command %q for %q (see %s --help)", a[0], cmd.CommandPath(), cmd.CommandPath())
			}
			return usageErrorf("%s: missing subcommand (see %s --help)", cmd.CommandPath(), cmd.CommandPath())
		},
	}
	cmd.AddCommand(subs...)
	return cmd
}

// pageQuery adds the list flags (limit, cursor) and returns a function reading them, with
// the named string filters, into a query.
func pageQuery(cmd *cobra.Command, filters ...string) func() map[string][]string {
	cmd.Flags().Int("limit", 0, "page size, 1–200 (server default 50)")
	cmd.Flags().String("cursor", "", "the next_cursor of the previous page")
	for _, f := range filters {
		cmd.Flags().String(strings.ReplaceAll(f, "_", "-"), "", "filter: "+f)
	}
	return func() map[string][]string {
		q := map[string][]string{}
		if n, _ := cmd.Flags().GetInt("limit"); n != 0 {
			q["limit"] = []string{strconv.Itoa(n)}
		}
		for _, f := range append([]string{"cursor"}, filters...) {
			if v, _ := cmd.Flags().GetString(strings.ReplaceAll(f, "_", "-")); v != "" {
				q[f] = []string{v}
			}
		}
		return q
	}
}
