package authdash

import (
	"errors"
	"fmt"
)

// ErrorCode is a domain error kind. The HTTP layer maps each to a status in
// exactly one table (server/problem.go); the API client maps statuses back.
type ErrorCode string

// Error kinds. The string values are part of the API: they appear as the
// "code" member of problem details and must never change.
const (
	CodeInvalid            ErrorCode = "invalid"
	CodeUnauthorized       ErrorCode = "unauthorized"
	CodeForbidden          ErrorCode = "forbidden"
	CodeNotFound           ErrorCode = "not_found"
	CodeConflict           ErrorCode = "conflict"
	CodePreconditionFailed ErrorCode = "precondition_failed"
	CodeTooLarge           ErrorCode = "too_large"
	CodeRateLimited        ErrorCode = "rate_limited"
	CodeUnavailable        ErrorCode = "unavailable"
	CodeInternal           ErrorCode = "internal"
	// CodeIdempotencyKeyReused: an Idempotency-Key came back with another
	// request than the one it was first used with.
	CodeIdempotencyKeyReused ErrorCode = "idempotency_key_reused"
)

// Error is a domain error. Message is safe to show to the user; Fields holds
// per-field problems keyed by the JSON name of the field; Err is the cause,
// kept for logs and never shown.
type Error struct {
	Code    ErrorCode
	Message string
	Fields  map[string]string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with a formatted, user-safe message.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WrapError returns an *Error of the given code that keeps cause for logs.
func WrapError(code ErrorCode, cause error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: cause}
}

// ErrorCodeOf returns the code of the first *Error in err's chain, or
// CodeInternal for any other non-nil error. A context that ended reads as
// CodeUnavailable because the caller gave up, not because the server broke.
func ErrorCodeOf(err error) ErrorCode {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessageOf returns the user-safe message of err.
func ErrorMessageOf(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// ErrorFieldsOf returns the per-field problems of err, if any.
func ErrorFieldsOf(err error) map[string]string {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// fieldErrors collects per-field validation problems.
type fieldErrors map[string]string

func (f fieldErrors) add(field, msg string) {
	if _, ok := f[field]; !ok {
		f[field] = msg
	}
}

// err returns nil when nothing was added, else a CodeInvalid *Error.
func (f fieldErrors) err() error {
	if len(f) == 0 {
		return nil
	}
	return &Error{Code: CodeInvalid, Message: "Some fields are not valid.", Fields: f}
}
