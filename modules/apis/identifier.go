package apis

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// maxIdentifierLen bounds an identifier (as given and as normalised).
const maxIdentifierLen = 512

// normalize returns the normalised form of an API identifier, or a message saying why raw
// is not one. An identifier is an absolute https URI (http only for a loopback host) with a
// host, without user information, query or fragment (RFC 8707 §2 and RFC 9728 §1.2: a
// resource identifier SHOULD NOT have a query; we refuse one), of printable ASCII.
// Normalised (RFC 3986 §6.2.2, §6.2.3): scheme and host in lower case, the scheme's default
// port dropped, dot segments removed, percent-encoding in its one canonical form (upper-case
// hex, unreserved characters decoded), and a root path ("/") written as none, the way
// issuers are written. normalize(normalize(x)) == normalize(x).
func normalize(raw string) (string, string) {
	const shape = "must be an absolute https URI (http only for a loopback host) of at most 512 characters"
	if raw == "" || len(raw) > maxIdentifierLen {
		return "", shape
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return "", "must be printable ASCII without spaces or backslashes (write an international host name in its xn-- form)"
		}
	}
	if strings.Contains(raw, "#") {
		return "", "must not contain a fragment"
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs() || u.Opaque != "":
		return "", shape
	case u.User != nil:
		return "", "must not contain user information"
	case u.RawQuery != "" || u.ForceQuery:
		return "", "must not contain a query"
	}
	host, ok := normalHost(u.Hostname())
	if !ok {
		return "", "must name a valid host"
	}
	switch u.Scheme { // url.Parse writes the scheme in lower case
	case "https":
	case "http":
		if !loopback(host) {
			return "", "must use https (http only for a loopback host: localhost, 127.0.0.0/8, ::1)"
		}
	default:
		return "", shape
	}
	port := u.Port()
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || len(port) > 5 {
			return "", "must have a port from 1 to 65535"
		}
		port = strconv.Itoa(n) // no leading zeros
		if (u.Scheme == "https" && n == 443) || (u.Scheme == "http" && n == 80) {
			port = ""
		}
	}
	if strings.Contains(strings.ToLower(u.EscapedPath()), "%2f") {
		return "", "must not contain an encoded slash (%2F) in its path"
	}
	p := removeDotSegments(u.Path)
	if p == "/" {
		p = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	hostport := host
	if port != "" {
		hostport += ":" + port
	}
	out := u.Scheme + "://" + hostport + (&url.URL{Path: p}).EscapedPath()
	if len(out) > maxIdentifierLen {
		return "", shape
	}
	return out, ""
}

// normalHost returns a host name in lower case, or an IP address in its canonical form;
// false for anything else (an empty host, a label that is not letters, digits and inner
// hyphens, an IPv6 zone).
func normalHost(h string) (string, bool) {
	if h == "" || len(h) > 253 {
		return "", false
	}
	if strings.Contains(h, ":") {
		a, err := netip.ParseAddr(h)
		if err != nil || a.Zone() != "" || !a.Is6() {
			return "", false
		}
		return a.String(), true
	}
	h = strings.ToLower(h)
	if a, err := netip.ParseAddr(h); err == nil {
		return a.String(), true
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
				return "", false
			}
		}
	}
	return h, true
}

// loopback reports a loopback host: localhost (and names under it, RFC 6761 §6.3), an
// address of 127.0.0.0/8, or ::1.
func loopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// removeDotSegments is RFC 3986 §5.2.4 on a decoded path.
func removeDotSegments(p string) string {
	if !strings.Contains(p, ".") {
		return p
	}
	var out []string
	segs := strings.Split(p, "/")
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case ".":
			if last {
				out = append(out, "")
			}
		case "..":
			if len(out) > 1 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, s)
		}
	}
	r := strings.Join(out, "/")
	if strings.HasPrefix(p, "/") && !strings.HasPrefix(r, "/") {
		r = "/" + r
	}
	return r
}

// origin is the scheme://host[:port] of a normalised identifier (or issuer).
func origin(normalised string) string {
	rest := strings.SplitN(normalised, "://", 2)
	if len(rest) != 2 {
		return normalised
	}
	hp, _, _ := strings.Cut(rest[1], "/")
	return rest[0] + "://" + hp
}
