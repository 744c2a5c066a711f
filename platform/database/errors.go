package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"regexp"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Sentinels that repositories return instead of driver errors.
var (
	ErrNotFound      = errors.New("not found")
	ErrAlreadyExists = errors.New("already exists")
	// ErrUnavailable means the store could not be reached; the HTTP layer answers 503.
	ErrUnavailable = errors.New("database unavailable")
)

// Translate maps a driver error to a sentinel (wrapped, so the cause stays visible to
// logs): no rows → ErrNotFound, unique violation → ErrAlreadyExists, connection failures →
// ErrUnavailable. Other errors pass through unchanged; nil stays nil.
func Translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return ErrNotFound
	case IsUniqueViolation(err):
		return errors.Join(ErrAlreadyExists, err)
	case IsConnectionError(err):
		return errors.Join(ErrUnavailable, err)
	}
	return err
}

// IsUniqueViolation reports a unique or primary-key constraint failure on either dialect.
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		c := sqErr.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// IsConnectionError reports a failure to reach the database (as opposed to a query error).
func IsConnectionError(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, sql.ErrConnDone) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	// pgx reports a connection it already closed with a bare error of this text.
	if msg := err.Error(); msg == "conn closed" || strings.HasSuffix(msg, ": conn closed") {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08: connection exception; 57P01..03: admin shutdown, crash, cannot connect now.
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P")
	}
	return pgconn.SafeToRetry(err)
}

var urlPassword = regexp.MustCompile(`(://[^:/@\s]*:)[^@\s]*@`)

// redactURL removes a password from any URL quoted in a driver error message.
func redactURL(err error) string {
	return urlPassword.ReplaceAllString(err.Error(), "${1}***@")
}
