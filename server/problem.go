package server

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/authdash/authdash"
)

// HTTP-only error kinds. The domain never returns them: they describe what is
// wrong with the HTTP exchange itself rather than with what it asks for.
const (
	codeUnsupportedMediaType authdash.ErrorCode = "unsupported_media_type"
	codeMethodNotAllowed     authdash.ErrorCode = "method_not_allowed"
)

// statusOf is the one table from error kind to HTTP status. The API client
// (app/api) reverses it, so a status change here is an API change.
//
// Every CodeInvalid is 400, validation failures included. 422 would tell
// "well-formed but unacceptable" from "malformed", but no client of ours
// branches on that difference: both carry "code": "invalid" and per-field
// messages in "errors", and one status keeps the table and the client simple.
func statusOf(code authdash.ErrorCode) int {
	switch code {
	case authdash.CodeInvalid:
		return http.StatusBadRequest
	case authdash.CodeUnauthorized:
		return http.StatusUnauthorized
	case authdash.CodeForbidden:
		return http.StatusForbidden
	case authdash.CodeNotFound:
		return http.StatusNotFound
	case codeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case authdash.CodeConflict:
		return http.StatusConflict
	case authdash.CodePreconditionFailed:
		return http.StatusPreconditionFailed
	case authdash.CodeIdempotencyKeyReused:
		// As the Idempotency-Key draft asks: the key is well-formed, but
		// it names another request.
		return http.StatusUnprocessableEntity
	case authdash.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case codeUnsupportedMediaType:
		return http.StatusUnsupportedMediaType
	case authdash.CodeRateLimited:
		return http.StatusTooManyRequests
	case authdash.CodeUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// problem is an RFC 9457 problem details document. "type" is about:blank, so
// "title" is the status text; the stable, machine-readable kind is "code".
type problem struct {
	Type      string            `json:"type"`
	Title     string            `json:"title"`
	Status    int               `json:"status"`
	Detail    string            `json:"detail"`
	Instance  string            `json:"instance"`
	Code      string            `json:"code"`
	Errors    map[string]string `json:"errors,omitempty"`
	RequestID string            `json:"requestId,omitempty"`
}

// writeProblem answers err as problem details. It is the only writer of
// error responses: handlers return errors and the adapter (apiFunc) or a
// middleware calls this.
//
// An internal error's cause is never shown; it is handed to the request log,
// which records it with the request id and the whole chain.
func writeProblem(w http.ResponseWriter, r *http.Request, err error) {
	code := authdash.ErrorCodeOf(err)
	msg := authdash.ErrorMessageOf(err)
	if code == authdash.CodeInternal {
		msg = "Internal error."
	}
	// The body limit is enforced by http.MaxBytesReader, whose error is not
	// a domain error; it still deserves its own status.
	var maxBytes *http.MaxBytesError
	if errors.As(err, &maxBytes) {
		code, msg = authdash.CodeTooLarge, "Request body is larger than "+strconv.FormatInt(maxBytes.Limit>>10, 10)+" KiB."
	}
	status := statusOf(code)
	rs := stateOf(r)
	if rs != nil && status >= 500 {
		rs.err = err
	}

	h := w.Header()
	switch status {
	case http.StatusUnauthorized:
		if h.Get("WWW-Authenticate") == "" { // auth.RequireWith may have said more
			h.Set("WWW-Authenticate", `Bearer realm="authdash"`)
		}
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		var ra retryAfter
		if errors.As(err, &ra) {
			h.Set("Retry-After", strconv.Itoa(ra.seconds()))
		} else if h.Get("Retry-After") == "" {
			h.Set("Retry-After", "1")
		}
	}
	// A problem must not inherit validators or a cached body from a success
	// the handler had begun to describe.
	h.Del("ETag")
	h.Del("Location")
	h.Del("Content-Encoding")
	h["Cache-Control"] = noStoreValue

	p := problem{
		Type:     "about:blank",
		Title:    http.StatusText(status),
		Status:   status,
		Detail:   msg,
		Instance: r.URL.Path,
		Code:     string(code),
		Errors:   authdash.ErrorFieldsOf(err),
	}
	if rs != nil {
		p.RequestID = rs.id
	}
	writeJSON(w, status, problemContentType, p)
}

// errNotFound and errMethodNotAllowed answer requests the router cannot place.
var (
	errNotFound         = authdash.Errorf(authdash.CodeNotFound, "No such endpoint.")
	errMethodNotAllowed = &authdash.Error{Code: codeMethodNotAllowed, Message: "Method not allowed on this endpoint."}
)
