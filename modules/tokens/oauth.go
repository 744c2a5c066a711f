package tokens

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/agentidp/agentidp/modules/credentials"
	"github.com/agentidp/agentidp/modules/metering"
	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/database"
	"github.com/agentidp/agentidp/platform/httpserver"
	"github.com/agentidp/agentidp/platform/reqctx"
)

// realm names this server in WWW-Authenticate challenges.
const realm = `realm="agentidp"`

// oauthError is an error answer of the OAuth endpoints (RFC 6749 §5.2, RFC 6750 §3.1):
// a status, an error code and a description safe to show.
type oauthError struct {
	Status      int
	Code        string
	Description string
	RetryAfter  time.Duration
	Challenge   string // WWW-Authenticate value; "" for none
	Cause       error  // for logs only
}

func (e *oauthError) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Description, e.Cause)
	}
	return e.Code + ": " + e.Description
}

func (e *oauthError) Unwrap() error { return e.Cause }

func invalidRequest(desc string) *oauthError {
	return &oauthError{Status: http.StatusBadRequest, Code: "invalid_request", Description: desc}
}

// invalidClient is the one answer for an unknown client, a wrong secret, a revoked or
// expired credential and a missing authentication: callers cannot tell them apart.
func invalidClient(desc string) *oauthError {
	return &oauthError{Status: http.StatusUnauthorized, Code: "invalid_client", Description: desc,
		Challenge: "Basic " + realm}
}

var errClientAuthFailed = invalidClient("client authentication failed")

// oauthErrorOf maps any error to the answer to give: *oauthError as it is, a metering
// refusal as 429, a store outage as 503 temporarily_unavailable, anything else as a 500
// that shows nothing internal.
func oauthErrorOf(err error) *oauthError {
	var oe *oauthError
	var lim *metering.Limited
	var ae *apperr.Error
	switch {
	case errors.As(err, &oe):
		return oe
	case errors.As(err, &lim):
		return &oauthError{Status: http.StatusTooManyRequests, Code: lim.Code, Description: lim.Detail,
			RetryAfter: lim.RetryAfter, Cause: err}
	case errors.Is(err, database.ErrUnavailable), errors.Is(err, cache.ErrUnavailable),
		errors.As(err, &ae) && ae.Status == http.StatusServiceUnavailable:
		retry := 5 * time.Second
		if ae != nil && ae.RetryAfter > 0 {
			retry = ae.RetryAfter
		}
		return &oauthError{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable",
			Description: "the server cannot answer right now; retry shortly", RetryAfter: retry, Cause: err}
	case ae != nil && ae.Status < 500:
		return &oauthError{Status: ae.Status, Code: ae.Code, Description: ae.Detail, RetryAfter: ae.RetryAfter, Cause: err}
	}
	return &oauthError{Status: http.StatusInternalServerError, Code: "server_error",
		Description: "an internal error occurred; quote the request id when reporting it", Cause: err}
}

// noStore marks an OAuth answer uncacheable (RFC 6749 §5.1).
func noStore(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
}

// writeOAuthError renders err as {"error", "error_description"} with its status, challenge
// and Retry-After. Server-side failures are logged with the request id.
func writeOAuthError(w http.ResponseWriter, r *http.Request, log *zap.Logger, err error) {
	oe := oauthErrorOf(err)
	if oe.Status >= 500 && r.Context().Err() == nil {
		log.Error("OAuth request failed", zap.Error(err), zap.String("request_id", reqctx.InfoFrom(r.Context()).RequestID))
	}
	h := w.Header()
	noStore(w)
	if oe.Challenge != "" {
		h.Add("WWW-Authenticate", oe.Challenge)
	}
	if oe.RetryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(max(int64((oe.RetryAfter+time.Second-1)/time.Second), 1), 10))
	}
	h.Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(oe.Status)
	_ = json.NewEncoder(w).Encode(errorResponse{Error: oe.Code, Description: oe.Description})
}

// errorResponse is an error answer's body (RFC 6749 §5.2).
type errorResponse struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// readParams reads the request parameters from a form body (RFC 6749) or a JSON object
// (the original design's clients). Query parameters are ignored: credentials never belong
// in a URL. JSON members must be strings (resource and audience may also be arrays of
// strings); members the server does not know are ignored, as RFC 6749 §3.2 wants.
func readParams(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	if r.Method != http.MethodPost {
		return nil, invalidRequest("use POST")
	}
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil {
		return nil, invalidRequest("send the parameters as application/x-www-form-urlencoded (or application/json)")
	}
	// The server's one body limit (413 past it): introspection and revocation answer for any
	// string a client may hold as a token, however long (RFC 7662 §2.2, RFC 7009 §2.2); the
	// validator refuses an overlong token before decoding anything.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, httpserver.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &oauthError{Status: http.StatusRequestEntityTooLarge, Code: "invalid_request",
				Description: "the request body is too large"}
		}
		return nil, invalidRequest("the request body could not be read")
	}
	switch mt {
	case "application/x-www-form-urlencoded":
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, invalidRequest("the form body is not valid application/x-www-form-urlencoded")
		}
		return v, nil
	case "application/json":
		return jsonParams(body)
	}
	return nil, invalidRequest("send the parameters as application/x-www-form-urlencoded (or application/json)")
}

// jsonParams reads a JSON object of parameters. A member repeated, also under another
// spelling ("\u0073cope") or inside a nested value, is refused as a repeated form
// parameter is (RFC 6749 §3.1): encoding/json would silently keep the last one.
func jsonParams(body []byte) (url.Values, error) {
	if err := httpserver.CheckJSON(body); err != nil {
		var ae *apperr.Error
		if errors.As(err, &ae) {
			return nil, invalidRequest(ae.Detail)
		}
		return nil, invalidRequest("the body is not a JSON object")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, invalidRequest("the body is not a JSON object")
	}
	v := make(url.Values, len(raw))
	for name, msg := range raw {
		var s string
		if json.Unmarshal(msg, &s) == nil {
			v[name] = []string{s}
			continue
		}
		if name == "resource" || name == "audience" {
			var list []string
			if json.Unmarshal(msg, &list) == nil {
				v[name] = list
				continue
			}
		}
		if knownParams[name] {
			return nil, invalidRequest("the parameter " + name + " must be a string")
		}
	}
	return v, nil
}

// knownParams are the parameters the OAuth endpoints read.
var knownParams = map[string]bool{
	"grant_type": true, "scope": true, "resource": true, "audience": true,
	"client_id": true, "client_secret": true, "token": true, "token_type_hint": true,
	"subject_token": true, "subject_token_type": true, "actor_token": true, "actor_token_type": true,
	"requested_token_type": true,
	"client_assertion":     true, "client_assertion_type": true,
}

// single returns the value of a parameter that may appear at most once (RFC 6749 §3.1).
func single(v url.Values, name string) (string, bool, error) {
	vals := v[name]
	switch len(vals) {
	case 0:
		return "", false, nil
	case 1:
		return vals[0], true, nil
	}
	return "", false, invalidRequest("the parameter " + name + " is repeated")
}

// clientCredentials is how a client authenticated on an OAuth endpoint.
type clientCredentials struct {
	ID     string // for an assertion: the client it claims to be (credentials.Assertion.Client)
	Secret string
	Method string // client_secret_basic, client_secret_post or private_key_jwt
	// Assertion is the client assertion (private_key_jwt, federated); nil for a secret.
	Assertion *credentials.Assertion
}

// methodPrivateKeyJWT names authentication by client assertion (RFC 7523 §2.2), for
// private_key_jwt and federated credentials alike.
const methodPrivateKeyJWT = "private_key_jwt"

// readClientCredentials extracts client_secret_basic (the Basic user and password are
// form-urlencoded, RFC 6749 §2.3.1), client_secret_post or a client assertion
// (client_assertion_type and client_assertion, RFC 7521 §4.2). Using two at once is an
// invalid_request; none is reported as (nil, nil).
func readClientCredentials(r *http.Request, v url.Values) (*clientCredentials, error) {
	postID, hasPostID, err := single(v, "client_id")
	if err != nil {
		return nil, err
	}
	postSecret, hasPostSecret, err := single(v, "client_secret")
	if err != nil {
		return nil, err
	}
	auth := r.Header.Get("Authorization")
	if cc, err := readAssertion(v, postID, hasPostSecret, auth); cc != nil || err != nil {
		return cc, err
	}
	if scheme, rest, _ := strings.Cut(auth, " "); strings.EqualFold(scheme, "Basic") {
		if hasPostSecret {
			return nil, invalidRequest("use one client authentication method: client_secret_basic or client_secret_post, not both")
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
		if err != nil {
			return nil, invalidClient("malformed Basic credentials")
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		if !ok {
			return nil, invalidClient("malformed Basic credentials")
		}
		id, err1 := url.QueryUnescape(user)
		secret, err2 := url.QueryUnescape(pass)
		if err1 != nil || err2 != nil {
			return nil, invalidClient("malformed Basic credentials (the client id and secret are form-urlencoded)")
		}
		if hasPostID && postID != id {
			return nil, invalidRequest("client_id does not match the authenticated client")
		}
		return &clientCredentials{ID: id, Secret: secret, Method: "client_secret_basic"}, nil
	}
	if hasPostSecret {
		if !hasPostID {
			return nil, invalidRequest("client_secret needs client_id")
		}
		return &clientCredentials{ID: postID, Secret: postSecret, Method: "client_secret_post"}, nil
	}
	return nil, nil
}

// readAssertion reads a client assertion: nil, nil when the request carries none.
func readAssertion(v url.Values, clientID string, hasSecret bool, auth string) (*clientCredentials, error) {
	typ, hasType, err := single(v, "client_assertion_type")
	if err != nil {
		return nil, err
	}
	jwt, hasJWT, err := single(v, "client_assertion")
	if err != nil {
		return nil, err
	}
	if !hasType && !hasJWT {
		return nil, nil
	}
	scheme, _, _ := strings.Cut(auth, " ")
	if hasSecret || strings.EqualFold(scheme, "Basic") {
		return nil, invalidRequest("use one client authentication method: a client assertion or a client secret, not both")
	}
	if !hasType || !hasJWT {
		return nil, invalidRequest("client_assertion and client_assertion_type go together")
	}
	a := credentials.NewAssertion(typ, jwt, clientID) // parsed once, here
	return &clientCredentials{ID: a.Client(), Method: methodPrivateKeyJWT, Assertion: &a}, nil
}
