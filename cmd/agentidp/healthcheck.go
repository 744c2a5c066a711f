package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// healthcheckCmd asks this host's server for /readyz: the container image's health check,
// which needs no shell or curl in the image. It reads only AGENTIDP_HTTP_ADDR and
// AGENTIDP_TLS_CERT_FILE from the environment (loading the whole configuration could create
// the embedded store's secrets).
func healthcheckCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 when the server on this host answers GET /readyz with 200, 1 otherwise",
		Long: `Asks http://127.0.0.1:<port>/readyz, the port taken from AGENTIDP_HTTP_ADDR (default
:8080; https when AGENTIDP_TLS_CERT_FILE is set). Exits 0 on 200 and 1 otherwise, naming
the failing checks. For container health checks (Docker, compose, ECS).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			timeout, _ := cmd.Flags().GetDuration("timeout")
			target, err := healthURL(os.Getenv("AGENTIDP_HTTP_ADDR"), os.Getenv("AGENTIDP_TLS_CERT_FILE") != "")
			if err != nil {
				return err
			}
			if err := probe(target, timeout); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "ready")
			return nil
		},
	}
	cmd.Flags().Duration("timeout", 3*time.Second, "how long to wait for the answer")
	return cmd
}

// healthURL is the /readyz URL of a server listening on addr, reached over loopback when it
// listens on every interface.
func healthURL(addr string, https bool) (string, error) {
	if addr == "" {
		addr = ":8080"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", errors.New("AGENTIDP_HTTP_ADDR: want host:port or :port")
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	scheme := "http"
	if https {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/readyz", nil
}

func probe(target string, timeout time.Duration) error {
	client := &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy: nil,
			// The server's certificate names its public host, not the address asked here:
			// this checks that it answers, not who it is.
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Get(target)
	if err != nil {
		return fmt.Errorf("healthcheck: %s: no answer (%s)", target, rootCause(err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %d %s", target, resp.StatusCode, strings.Join(strings.Fields(string(body)), " "))
	}
	return nil
}

// rootCause is the innermost error's text (e.g. "connection refused").
func rootCause(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}
