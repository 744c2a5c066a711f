package tokens

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// claims are an access token's claims (RFC 9068 §2.2) plus cid, the private claim naming
// the credential that minted the token, so that revoking the credential kills the token.
type claims struct {
	Issuer       string
	Subject      string // the agent id
	ClientID     string // = Subject (client credentials: the client is the subject)
	Audience     []string
	Scope        string
	IssuedAt     int64
	Expiry       int64
	NotBefore    int64 // 0: absent
	ID           string
	CredentialID string
}

// appendJSON appends the JSON payload of c to b. It writes the object by hand, in a fixed
// member order, because this runs for every token issued and encoding/json's reflection
// costs more than everything else around the signature.
func (c *claims) appendJSON(b []byte) []byte {
	b = append(b, `{"iss":`...)
	b = appendJSONString(b, c.Issuer)
	b = append(b, `,"sub":`...)
	b = appendJSONString(b, c.Subject)
	b = append(b, `,"aud":`...)
	if len(c.Audience) == 1 {
		b = appendJSONString(b, c.Audience[0])
	} else {
		b = append(b, '[')
		for i, a := range c.Audience {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, a)
		}
		b = append(b, ']')
	}
	b = append(b, `,"exp":`...)
	b = strconv.AppendInt(b, c.Expiry, 10)
	b = append(b, `,"iat":`...)
	b = strconv.AppendInt(b, c.IssuedAt, 10)
	if c.NotBefore != 0 {
		b = append(b, `,"nbf":`...)
		b = strconv.AppendInt(b, c.NotBefore, 10)
	}
	b = append(b, `,"jti":`...)
	b = appendJSONString(b, c.ID)
	b = append(b, `,"client_id":`...)
	b = appendJSONString(b, c.ClientID)
	b = append(b, `,"scope":`...)
	b = appendJSONString(b, c.Scope)
	b = append(b, `,"cid":`...)
	b = appendJSONString(b, c.CredentialID)
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string: quotes, backslashes and control characters
// escaped, U+2028/U+2029 escaped (as encoding/json does), invalid UTF-8 replaced by U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// wireClaims is the payload as decoded; numeric dates are numbers that may carry a
// fraction (RFC 7519 NumericDate), read as float64 and checked to be integral and in range.
type wireClaims struct {
	Iss      string          `json:"iss"`
	Sub      string          `json:"sub"`
	Aud      json.RawMessage `json:"aud"`
	Exp      *float64        `json:"exp"`
	Iat      *float64        `json:"iat"`
	Nbf      *float64        `json:"nbf"`
	Jti      string          `json:"jti"`
	ClientID string          `json:"client_id"`
	Scope    string          `json:"scope"`
	Cid      string          `json:"cid"`
}

var errClaims = errors.New("malformed claims")

// parseClaims decodes a verified payload. exp and iat are required; aud is a string or an
// array of strings.
func parseClaims(payload []byte) (*claims, error) {
	var w wireClaims
	if err := json.Unmarshal(payload, &w); err != nil {
		return nil, errClaims
	}
	c := &claims{Issuer: w.Iss, Subject: w.Sub, ClientID: w.ClientID, Scope: w.Scope, ID: w.Jti, CredentialID: w.Cid}
	var ok bool
	if c.Expiry, ok = numericDate(w.Exp); !ok || w.Exp == nil {
		return nil, errClaims
	}
	if c.IssuedAt, ok = numericDate(w.Iat); !ok || w.Iat == nil {
		return nil, errClaims
	}
	if c.NotBefore, ok = numericDate(w.Nbf); !ok {
		return nil, errClaims
	}
	aud := bytes.TrimSpace(w.Aud)
	switch {
	case len(aud) > 0 && aud[0] == '"':
		var s string
		if json.Unmarshal(aud, &s) != nil {
			return nil, errClaims
		}
		c.Audience = []string{s}
	case len(aud) > 0 && aud[0] == '[':
		if json.Unmarshal(aud, &c.Audience) != nil {
			return nil, errClaims
		}
	default:
		return nil, errClaims
	}
	return c, nil
}

// numericDate converts an optional NumericDate to whole seconds (a fraction is dropped).
func numericDate(f *float64) (int64, bool) {
	if f == nil {
		return 0, true
	}
	if math.IsNaN(*f) || *f < 0 || *f > 1<<40 {
		return 0, false
	}
	return int64(*f), true
}

// scopes splits the scope claim.
func (c *claims) scopes() []string { return strings.Fields(c.Scope) }

// hasAudience reports whether aud is one of the token's audiences.
func (c *claims) hasAudience(aud string) bool {
	for _, a := range c.Audience {
		if a == aud {
			return true
		}
	}
	return false
}
