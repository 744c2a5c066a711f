package testenv

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/agentidp/agentidp/platform/apidoc"
)

// Client is the HTTP client of the tests, with a timeout. Every answer of a route of the
// OpenAPI document (platform/apidoc) is validated against the document: its status must
// be documented (or covered by a default), its Content-Type one of the operation's, and a
// JSON body must match the schema. A mismatch fails the request: Do returns the error.
var Client = &http.Client{Timeout: 30 * time.Second, Transport: ValidatingTransport{Next: http.DefaultTransport}}

// ValidatingTransport checks each answer against the OpenAPI document (see Client).
// Requests to paths the document does not describe (the dashboard, unknown routes, a
// method a path does not have) pass unchecked: the router tests cover which routes exist.
type ValidatingTransport struct{ Next http.RoundTripper }

// OpenAPIRouter is the kin-openapi router over the served document, built once.
var OpenAPIRouter = sync.OnceValues(func() (routers.Router, error) {
	raw, err := apidoc.JSON()
	if err != nil {
		return nil, err
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("openapi: loading the document: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi: the document is not valid: %w", err)
	}
	return gorillamux.NewRouter(doc)
})

// RoundTrip implements http.RoundTripper.
func (v ValidatingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := v.Next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if err := ValidateResponse(req, resp); err != nil {
		resp.Body.Close()
		return nil, err
	}
	return resp, nil
}

// ValidateResponse checks resp, the answer to req, against the OpenAPI document. A JSON
// body is read and put back; another body (NDJSON, metrics text) is left unread, so that
// streaming answers stay streams, and only its status and Content-Type are checked.
func ValidateResponse(req *http.Request, resp *http.Response) error {
	router, err := OpenAPIRouter()
	if err != nil {
		return err
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		return nil // not a documented path and method
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	isJSON := mt == "application/json" || strings.HasSuffix(mt, "+json")
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, ExcludeResponseBody: !isJSON},
	}
	if isJSON {
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		resp.Body = io.NopCloser(bytes.NewReader(raw))
		in.SetBodyBytes(raw)
	} else {
		in.Body = io.NopCloser(strings.NewReader(""))
		r := route.Operation.Responses.Status(resp.StatusCode)
		if r == nil {
			r = route.Operation.Responses.Default()
		}
		if r != nil && r.Value != nil && len(r.Value.Content) > 0 && r.Value.Content.Get(resp.Header.Get("Content-Type")) == nil {
			return fmt.Errorf("openapi: %s %s answered %d with Content-Type %q, which the document does not give it",
				req.Method, route.Path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	if err := openapi3filter.ValidateResponse(req.Context(), in); err != nil {
		return fmt.Errorf("openapi: %s %s answered %d not as the document says: %w", req.Method, route.Path, resp.StatusCode, err)
	}
	return nil
}
