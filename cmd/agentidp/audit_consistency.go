package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/agentidp/agentidp/modules/audit"
)

func auditConsistencyCmd() *cobra.Command {
	var keyArg, serverURL, token string
	cmd := &cobra.Command{
		Use:   "consistency OLD NEW",
		Short: "Check that a newer saved checkpoint extends an older one",
		Long: `Check two saved signed checkpoints of the audit log (files, as GET
/api/v1/audit/checkpoint served them): both must verify under the audit verifier key
(--key: a file holding it, or the key itself), and the server's consistency proof must show
that the tree of OLD is a prefix of the tree of NEW — nothing in the log was rewritten,
reordered or removed between them. The proof is asked of a running server with --url (a
bearer token with audit:read in --token or AGENTIDP_TOKEN), else read from the configured
store. The proof is checked here, not trusted. Exits 1 when they are not consistent.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if keyArg == "" {
				return errors.New("--key is required")
			}
			vkey, err := readKey(keyArg)
			if err != nil {
				return err
			}
			var sizes [2]uint64
			var roots [2][]byte
			for i, f := range args {
				b, err := os.ReadFile(f)
				if err != nil {
					return err
				}
				cp, _, err := audit.ParseCheckpoint(b, vkey)
				if err != nil {
					return fmt.Errorf("%s: %w", f, err)
				}
				sizes[i], roots[i] = cp.Size, cp.Hash
			}
			if sizes[0] > sizes[1] {
				return fmt.Errorf("OLD covers %d events, NEW only %d: give the older checkpoint first", sizes[0], sizes[1])
			}
			var hashes [][]byte
			if sizes[0] > 0 && sizes[0] < sizes[1] {
				if token == "" {
					token = os.Getenv("AGENTIDP_TOKEN")
				}
				if hashes, err = fetchConsistency(cmd, serverURL, token, sizes[0], sizes[1]); err != nil {
					return err
				}
			}
			if err := proof.VerifyConsistency(rfc6962.DefaultHasher, sizes[0], sizes[1], hashes, roots[0], roots[1]); err != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "NOT consistent: the log of %d events is not a prefix of the log of %d: %v\n", sizes[0], sizes[1], err)
				return errLogBroken
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "consistent: the log of %d events is a prefix of the log of %d\n", sizes[0], sizes[1])
			return err
		},
	}
	cmd.Flags().StringVar(&keyArg, "key", "", "audit verifier key: a file holding it, or the key itself")
	cmd.Flags().StringVar(&serverURL, "url", "", "ask this running server for the proof (e.g. https://idp.example.com)")
	cmd.Flags().StringVar(&token, "token", "", "bearer token with audit:read for --url (default: AGENTIDP_TOKEN)")
	return cmd
}

// fetchConsistency asks the server at serverURL (or, without one, the store) for the
// consistency proof between the two sizes.
func fetchConsistency(cmd *cobra.Command, serverURL, token string, from, to uint64) ([][]byte, error) {
	if serverURL == "" {
		if err := refuseWithoutStore(cmd); err != nil {
			return nil, err
		}
		var p audit.Proofs
		var hashes [][]byte
		err := withApp(cmd, func(ctx context.Context) error {
			var err error
			hashes, err = p.Consistency(ctx, int64(from), int64(to))
			return err
		}, &p)
		return hashes, err
	}
	u, err := url.Parse(strings.TrimRight(serverURL, "/") + "/api/v1/audit/proof/consistency")
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("--url: want http(s)://host, got %q", serverURL)
	}
	u.RawQuery = url.Values{"from": {fmt.Sprint(from)}, "to": {fmt.Sprint(to)}}.Encode()
	ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the server answered %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	var p audit.ConsistencyProof
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("the server's proof does not parse: %w", err)
	}
	return p.Hashes, nil
}
