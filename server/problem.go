package server

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/wire"
)

// writeProblem answers err as problem details (wire.Problem), with the
// status package wire's table gives its code. It is the only writer of
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
	status := wire.StatusOf(code)
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
		var hint retryHint
		if errors.As(err, &ra) {
			h.Set("Retry-After", strconv.Itoa(ra.seconds()))
		} else if errors.As(err, &hint) {
			h.Set("Retry-After", strconv.Itoa(retryAfter(hint.RetryAfter()).seconds()))
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

	p := wire.Problem{
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

// WriteProblem is writeProblem for the one edge that answers outside the
// router's handlers: the WebSocket upgrade, which realtime may refuse before
// it hijacks the connection.
func WriteProblem(w http.ResponseWriter, r *http.Request, err error) { writeProblem(w, r, err) }

// retryHint is a cause that knows how long a client should wait before
// trying again, such as a store that cannot write for want of disk
// (store/sqlite): longer than the 1 s a passing fault gets.
type retryHint interface{ RetryAfter() time.Duration }

// errNotFound and errMethodNotAllowed answer requests the router cannot place.
var (
	errNotFound         = authdash.Errorf(authdash.CodeNotFound, "No such endpoint.")
	errMethodNotAllowed = &authdash.Error{Code: wire.CodeMethodNotAllowed, Message: "Method not allowed on this endpoint."}
)
