// Package apperr is the error type services return: a status, a stable code and a public
// message (Grafana's errutil idea), so the HTTP layer renders every failure the same way and
// never shows an internal error to a caller.
package apperr

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// FieldError names one bad field of a request and why.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is a failure meant for the caller. Detail is public; Cause is for logs only.
type Error struct {
	Status     int
	Code       string
	Detail     string
	Fields     []FieldError
	RetryAfter time.Duration // sets Retry-After on 429/503 when > 0
	Cause      error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Detail, e.Cause)
	}
	return e.Code + ": " + e.Detail
}

func (e *Error) Unwrap() error { return e.Cause }

// Is matches another *Error with the same code, so errors.Is(err, apperr.ErrNotFound) works.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code && t.Detail == ""
}

// Sentinels for errors.Is; build detailed errors with the constructors below.
var (
	ErrNotFound    = &Error{Status: http.StatusNotFound, Code: "not_found"}
	ErrConflict    = &Error{Status: http.StatusConflict, Code: "conflict"}
	ErrValidation  = &Error{Status: http.StatusBadRequest, Code: "validation_failed"}
	ErrUnavailable = &Error{Status: http.StatusServiceUnavailable, Code: "unavailable"}
)

func NotFound(detail string) *Error {
	return &Error{Status: http.StatusNotFound, Code: "not_found", Detail: detail}
}

func Conflict(detail string) *Error {
	return &Error{Status: http.StatusConflict, Code: "conflict", Detail: detail}
}

func BadRequest(code, detail string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Detail: detail}
}

// Validation is a 400 validation_failed listing each bad field.
func Validation(fields ...FieldError) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "validation_failed",
		Detail: "the request has invalid fields", Fields: fields}
}

// Unavailable is a 503: a store the answer depends on cannot be reached.
func Unavailable(detail string, cause error) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Detail: detail,
		RetryAfter: 5 * time.Second, Cause: cause}
}

// Fields accumulates field errors during validation.
type Fields []FieldError

// Add records that field is bad.
func (f *Fields) Add(field, format string, args ...any) {
	*f = append(*f, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err returns a validation error, or nil when no field was added.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return Validation(f...)
}
