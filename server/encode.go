package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/wire"
)

// bufPool recycles response buffers. Encoding into a buffer first lets every
// JSON answer carry a Content-Length (so the compressor decides at once and
// keep-alive needs no chunking) and turns an encoding failure into a clean
// 500 instead of half a body.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuf keeps one huge response from pinning its buffer forever.
const maxPooledBuf = 64 << 10

// encode writes v as JSON with the given status.
func encode(w http.ResponseWriter, status int, v any) {
	writeJSON(w, status, jsonContentType, v)
}

// Header values set on many responses, shared rather than allocated per
// response by Header.Set. Sharing is safe because nothing writes into a
// header's value slice: net/http and Header.Set replace it, and Header.Add
// appends to a slice whose capacity is its length, which copies.
var (
	jsonContentType    = []string{"application/json"}
	problemContentType = []string{wire.ProblemContentType}
	noStoreValue       = []string{"no-store"}
)

func writeJSON(w http.ResponseWriter, status int, contentType []string, v any) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= maxPooledBuf {
			bufPool.Put(buf)
		}
	}()
	h := w.Header()
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		// Only a programming error gets here (an unsupported type); say so
		// without recursing into the problem writer.
		h.Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"type":"about:blank","title":"Internal Server Error","status":500,"detail":"Internal error.","code":"internal"}`+"\n")
		if rs := rsOf(w); rs != nil {
			rs.err = fmt.Errorf("encode response: %w", err)
		}
		return
	}
	h["Content-Type"] = contentType
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// rsOf finds the request state through a chain of wrapping ResponseWriters.
func rsOf(w http.ResponseWriter) *reqState {
	for {
		switch t := w.(type) {
		case *reqState:
			return t
		case interface{ Unwrap() http.ResponseWriter }:
			w = t.Unwrap()
		default:
			return nil
		}
	}
}

var (
	errNotJSON = &authdash.Error{Code: wire.CodeUnsupportedMediaType,
		Message: "Send the request body as JSON with Content-Type: application/json."}
	errEmptyBody = authdash.Errorf(authdash.CodeInvalid, "Request body is empty; send a JSON object.")
	errTwoValues = authdash.Errorf(authdash.CodeInvalid, "Request body must contain a single JSON object.")
	errDateTime  = errors.New("bad date-time")
)

// isJSON reports whether a Content-Type names JSON (parameters such as
// charset are ignored; JSON is always UTF-8).
func isJSON(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/json")
}

// decode reads exactly one JSON object from the request body into v,
// refusing unknown fields, and turns every way that can fail into a
// CodeInvalid error that says what and where.
func decode(r *http.Request, v any) error {
	present, err := decodeOptional(r, v)
	if err == nil && !present {
		return errEmptyBody
	}
	return err
}

// decodeOptional is decode for endpoints whose body may be empty; present
// reports whether there was one.
func decodeOptional(r *http.Request, v any) (present bool, err error) {
	if !isJSON(r.Header.Get("Content-Type")) {
		return false, errNotJSON
	}
	// The body is read whole (limitBody caps it) so that, once it decoded,
	// its keys can be checked for duplicates.
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return len(body) > 0, decodeError(err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		return true, decodeError(err)
	}
	// Anything after the value but whitespace is a second value or junk.
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return true, errTwoValues
	}
	if name, dup := duplicateKey(body); dup {
		return true, &authdash.Error{
			Code:    authdash.CodeInvalid,
			Message: fmt.Sprintf("Field %q is given more than once (names are compared ignoring case).", name),
			Fields:  map[string]string{name: "Given more than once."},
		}
	}
	return true, nil
}

// decodeError explains a json.Decoder error in terms of the request.
func decodeError(err error) error {
	var (
		syntax    *json.SyntaxError
		typ       *json.UnmarshalTypeError
		maxBytes  *http.MaxBytesError
		timeParse *time.ParseError
	)
	switch {
	case errors.As(err, &maxBytes):
		return authdash.WrapError(authdash.CodeTooLarge, err, "Request body must be at most %d KiB.", maxBytes.Limit>>10)
	case errors.As(err, &syntax):
		return authdash.WrapError(authdash.CodeInvalid, err, "Request body is not valid JSON: %s (at byte %d).", syntax.Error(), syntax.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return authdash.WrapError(authdash.CodeInvalid, err, "Request body ends in the middle of the JSON value.")
	case errors.As(err, &typ):
		want := jsonKind(typ.Type)
		if typ.Field == "" {
			return authdash.WrapError(authdash.CodeInvalid, err, "Request body must be %s.", want)
		}
		return &authdash.Error{
			Code:    authdash.CodeInvalid,
			Message: fmt.Sprintf("Field %q must be %s.", typ.Field, want),
			Fields:  map[string]string{typ.Field: "Must be " + want + "."},
			Err:     err,
		}
	case errors.As(err, &timeParse), strings.HasPrefix(err.Error(), "Time.UnmarshalJSON:"):
		// time.Time reports a bad value without naming the field; callers
		// that know which field holds a time name it (see dueDateError).
		return authdash.WrapError(authdash.CodeInvalid, fmt.Errorf("%w: %w", errDateTime, err),
			"A date-time must be an RFC 3339 string, e.g. 2026-01-31T17:00:00Z.")
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if n, uerr := strconv.Unquote(name); uerr == nil {
			name = n
		}
		return &authdash.Error{
			Code:    authdash.CodeInvalid,
			Message: fmt.Sprintf("Unknown field %q.", name),
			Fields:  map[string]string{name: "Unknown field."},
			Err:     err,
		}
	}
	return authdash.WrapError(authdash.CodeInvalid, err, "Request body is not valid JSON.")
}

var timeType = reflect.TypeFor[time.Time]()

// jsonKind names the JSON a Go type accepts, for error messages.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType {
		return "an RFC 3339 date-time string"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	default:
		return "a JSON object"
	}
}

// apiFunc is the one adapter between handlers that return errors and
// net/http: an error becomes a problem response, written in one place.
type apiFunc func(w http.ResponseWriter, r *http.Request) error

func (f apiFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := f(w, r); err != nil {
		writeProblem(w, r, err)
	}
}
