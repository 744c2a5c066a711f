package main

import (
	"net/http"
	"net/url"

	"github.com/spf13/cobra"
)

// call is a command over the API: it sends method path (built from the positional
// arguments) with a JSON body built from its flags, and prints the answer.
type call struct {
	use, short, long string
	method           string
	path             func(args []string) string
	args             []string // names of the positional arguments
	body             []field  // flags making the JSON body; nil: no body
	list             bool     // a list: --limit, --cursor and the filters as query flags
	filters          []string // query parameters of a list, each a flag (dashes for underscores)
	cols             []string // the table's first columns
	done             string   // printed for an answer without a body (204)
}

// command builds the cobra command of c.
func (c call) command() *cobra.Command {
	cmd := &cobra.Command{Use: c.use, Short: c.short, Long: c.long, Args: args(c.args...)}
	addBodyFlags(cmd, c.body)
	var query func() map[string][]string
	if c.list {
		query = pageQuery(cmd, c.filters...)
	}
	cmd.RunE = func(cmd *cobra.Command, a []string) error {
		r, err := newRemote(cmd)
		if err != nil {
			return err
		}
		var body any
		if c.body != nil {
			if body, err = bodyFrom(cmd, c.body); err != nil {
				return err
			}
		}
		var q url.Values
		if query != nil {
			q = query()
		}
		escaped := make([]string, len(a))
		for i := range a {
			escaped[i] = url.PathEscape(a[i])
		}
		resp, err := r.client.Do(cmd.Context(), c.method, c.path(escaped), q, body)
		if err != nil {
			return err
		}
		if resp.Status == http.StatusNoContent || len(resp.Body) == 0 {
			return r.printDone(c.done)
		}
		return r.print(resp.Body, c.cols...)
	}
	return cmd
}

// commands builds every call.
func commands(calls ...call) []*cobra.Command {
	out := make([]*cobra.Command, len(calls))
	for i, c := range calls {
		out[i] = c.command()
	}
	return out
}

// fixed is a path without arguments.
func fixed(p string) func([]string) string { return func([]string) string { return p } }
