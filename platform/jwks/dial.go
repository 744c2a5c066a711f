package jwks

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// refusedRanges are the addresses a fetch never dials (unless private addresses are
// allowed): "this network", private, shared (CGNAT), loopback, link-local, multicast,
// unique-local, IPv4-mapped and NAT64 addresses.
var refusedRanges = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("224.0.0.0/4"),
	netip.MustParsePrefix("::/128"),
	netip.MustParsePrefix("::1/128"),
	netip.MustParsePrefix("fc00::/7"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("::ffff:0:0/96"),
	netip.MustParsePrefix("64:ff9b::/96"),
}

// ErrRefusedAddress is the cause of a fetch whose dialled address lies in a refused range.
var ErrRefusedAddress = errors.New("the address is in a range the JWKS fetch does not dial")

// Refused reports whether addr lies in a refused range.
func Refused(addr netip.Addr) bool {
	addr = addr.WithZone("")
	for _, p := range refusedRanges {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// dialGuard is the net.Dialer Control that checks the address actually dialled, after name
// resolution, so that a name resolving (or rebinding) to a refused address is refused.
func dialGuard(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("%w: %q", ErrRefusedAddress, address)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || Refused(ip) {
		return fmt.Errorf("%w: %s", ErrRefusedAddress, host)
	}
	return nil
}

// maxURILen bounds a jwks_uri.
const maxURILen = 2048

// CheckURI accepts a jwks_uri: an absolute https URL, or http to a loopback host
// (localhost, 127.0.0.0/8, ::1) for development; no user information, no fragment.
func CheckURI(raw string) error {
	if len(raw) > maxURILen {
		return fmt.Errorf("longer than %d characters", maxURILen)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" || u.Opaque != "" {
		return errors.New("want an absolute https URL without user information or fragment")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if loopbackHost(u.Hostname()) {
			return nil
		}
		return errors.New("http is accepted only to a loopback host (localhost, 127.0.0.1, ::1); use https")
	}
	return errors.New("want an https URL")
}

func loopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && ip.IsLoopback()
}
