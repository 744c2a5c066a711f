package config

import (
	"fmt"
	"net"
)

// DefaultIssuer is AGENTIDP_ISSUER's default.
const DefaultIssuer = "http://localhost:8080"

// Warnings are the settings that are valid but probably not what the operator meant; the
// server logs each at start.
func (c *Config) Warnings() []string {
	var out []string
	if c.Issuer == DefaultIssuer {
		// A port of 0 is an ephemeral one (tests): nobody could have meant it as the issuer's.
		if _, port, err := net.SplitHostPort(c.HTTPAddr); err == nil && port != "8080" && port != "0" {
			out = append(out, fmt.Sprintf("AGENTIDP_ISSUER is not set: tokens and discovery documents name %s "+
				"while AGENTIDP_HTTP_ADDR listens on port %s; set AGENTIDP_ISSUER to the URL clients reach the server at", DefaultIssuer, port))
		}
	}
	return out
}
