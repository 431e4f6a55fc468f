package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/wire"
)

// handleListTasks answers one page of the user's tasks: {items, nextCursor}.
func handleListTasks(tasks *authdash.TaskService) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		q, err := parseTaskQuery(r.URL.RawQuery)
		if err != nil {
			return err
		}
		page, err := tasks.List(r.Context(), authdash.UserFrom(r.Context()), q)
		if authdash.ErrorCodeOf(err) == authdash.CodeInvalid {
			// TaskService validates what parseTaskQuery read; its faults
			// here are the query parameters', not "fields" never sent.
			return queryInvalid(authdash.ErrorFieldsOf(err))
		}
		if err != nil {
			return err
		}
		writeTaskJSON(w, http.StatusOK, func(b []byte) []byte { return appendTaskPage(b, &page) })
		return nil
	})
}

// taskQueryParams are the query parameters GET /api/tasks understands; any
// other is refused so that a typo ("stauts") is not silently ignored.
var taskQueryParams = []string{"q", "status", "priority", "tag", "dueBefore", "dueAfter", "sort", "order", "limit", "cursor"}

// parseTaskQuery reads the list parameters from the raw query string. Syntax
// problems (a limit that is not a number, a date that is not RFC 3339, a
// repeated or unknown parameter, a pair that is not percent-encoded
// properly) and domain validation problems come back together, one message
// per parameter.
func parseTaskQuery(raw string) (authdash.TaskQuery, error) {
	v, bad := parseQueryStrict(raw)
	for name, vals := range v {
		known := false
		for _, p := range taskQueryParams {
			if name == p {
				known = true
				break
			}
		}
		switch {
		case !known:
			bad[name] = "Unknown parameter."
		case len(vals) > 1:
			bad[name] = "Give this parameter once."
		}
	}
	q := authdash.TaskQuery{
		Search:   v.Get("q"),
		Status:   authdash.TaskStatus(v.Get("status")),
		Priority: authdash.TaskPriority(v.Get("priority")),
		Tag:      v.Get("tag"),
		Sort:     authdash.TaskSort(v.Get("sort")),
		Order:    authdash.Order(v.Get("order")),
		Cursor:   v.Get("cursor"),
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			bad["limit"] = "Limit must be a whole number between 1 and 100."
		} else {
			q.Limit = n
		}
		if err == nil && n == 0 {
			q.Limit = -1 // 0 means "default" to Normalize; here it was asked for
		}
	}
	for name, dst := range map[string]**time.Time{"dueBefore": &q.DueBefore, "dueAfter": &q.DueAfter} {
		if s := v.Get(name); s != "" {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				bad[name] = "Must be an RFC 3339 date-time, e.g. 2026-01-31T17:00:00Z."
				continue
			}
			*dst = &t
		}
	}
	if len(bad) == 0 {
		return q, nil // TaskService validates the rest (handleListTasks)
	}
	q.Normalize()
	if err := q.Validate(); err != nil {
		for k, m := range authdash.ErrorFieldsOf(err) {
			if _, ok := bad[k]; !ok {
				bad[k] = m
			}
		}
	}
	return q, queryInvalid(bad)
}

// queryInvalid is the answer to a list's bad query parameters, each with
// its message.
func queryInvalid(bad map[string]string) error {
	return &authdash.Error{Code: authdash.CodeInvalid, Message: "Some query parameters are not valid.", Fields: bad}
}

// parseQueryStrict splits a raw query string as url.ParseQuery does, but
// keeps the pairs it cannot read as problems instead of dropping them:
// url.Values from r.URL.Query() silently loses "status=done;" (a semicolon
// is not a separator since Go 1.17) and "limit=%zz", which would let a
// filter the client asked for be ignored. Empty pairs ("a=1&&b=2") are
// skipped as everywhere else.
func parseQueryStrict(raw string) (url.Values, map[string]string) {
	v, bad := url.Values{}, map[string]string{}
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		rawKey, rawVal, _ := strings.Cut(pair, "=")
		key, kerr := url.QueryUnescape(rawKey)
		if kerr != nil {
			key = rawKey
		}
		val, verr := url.QueryUnescape(rawVal)
		switch {
		case strings.Contains(pair, ";"):
			bad[key] = "Must not contain ';': separate parameters with '&' and write a literal ';' as %3B."
		case kerr != nil || verr != nil:
			bad[key] = "Is not properly percent-encoded."
		default:
			v[key] = append(v[key], val)
		}
	}
	return v, bad
}

// handleCreateTask stores a new task: 201 with Location and ETag. With an
// Idempotency-Key the create happens once per key: a repeat gets the first
// answer again, marked Idempotent-Replayed.
func handleCreateTask(tasks *authdash.TaskService) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		key, err := idempotencyKey(r)
		if err != nil {
			return err
		}
		var d authdash.TaskDraft
		if err := decode(r, &d); err != nil {
			return dueDateError(err)
		}
		owner := authdash.UserFrom(r.Context())
		var t *authdash.Task
		if key == "" {
			t, err = tasks.Create(r.Context(), owner, d)
		} else {
			var replayed bool
			t, replayed, err = tasks.CreateOnce(r.Context(), owner, key, d)
			if replayed {
				w.Header().Set("Idempotent-Replayed", "true")
			}
		}
		if err != nil {
			return err
		}
		w.Header().Set("Location", taskPath(t.ID))
		writeTask(w, http.StatusCreated, t)
		return nil
	})
}

func taskPath(id authdash.TaskID) string { return "/api/tasks/" + url.PathEscape(string(id)) }

var errIdempotencyKey = &authdash.Error{Code: authdash.CodeInvalid,
	Message: `Idempotency-Key must be one string of 1 to 255 visible ASCII characters without quotes or backslashes, e.g. "8e03978e-40d5-43e8-bc93-6894a57f9324".`,
	Fields:  map[string]string{wire.HeaderIdempotencyKey: "Must be one key of 1 to 255 visible ASCII characters, e.g. a UUID."}}

// idempotencyKey reads the Idempotency-Key header ("" when absent). The
// draft standard makes it a Structured Field string ("…"); the bare
// token many clients send is accepted too. Anything else, or the header
// twice, is a 400: a create that silently ignored a key could duplicate.
func idempotencyKey(r *http.Request) (string, error) {
	vs := r.Header.Values(wire.HeaderIdempotencyKey)
	if len(vs) == 0 {
		return "", nil
	}
	k := strings.TrimSpace(vs[0])
	if len(k) >= 2 && k[0] == '"' && k[len(k)-1] == '"' {
		k = k[1 : len(k)-1]
	}
	if len(vs) > 1 || !authdash.ValidIdempotencyKey(k) {
		return "", errIdempotencyKey
	}
	return k, nil
}

// dueDateError names the field of a date-time that failed to decode:
// dueDate is the only one in a draft.
func dueDateError(err error) error {
	var e *authdash.Error
	if !errors.Is(err, errDateTime) || !errors.As(err, &e) {
		return err
	}
	named := *e
	named.Fields = map[string]string{"dueDate": "Must be an RFC 3339 date-time, e.g. 2026-01-31T17:00:00Z."}
	return &named
}

// handleGetTask returns one task with its ETag; a matching If-None-Match
// gets 304.
func handleGetTask(tasks *authdash.TaskService) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		t, err := tasks.Get(r.Context(), authdash.UserFrom(r.Context()), taskID(r))
		if err != nil {
			return err
		}
		if inm := r.Header.Get("If-None-Match"); inm != "" && noneMatch(inm, t.Version) {
			w.Header().Set("ETag", etag(t.Version))
			w.WriteHeader(http.StatusNotModified)
			return nil
		}
		writeTask(w, http.StatusOK, t)
		return nil
	})
}

// handleUpdateTask applies a partial update, conditional on If-Match.
func handleUpdateTask(tasks *authdash.TaskService) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		versions, err := ifMatch(r)
		if err != nil {
			return err
		}
		var p authdash.TaskPatch
		if err := decode(r, &p); err != nil {
			return err
		}
		owner, id := authdash.UserFrom(r.Context()), taskID(r)
		ifVersion, err := condition(r.Context(), tasks, owner, id, versions)
		if err != nil {
			return err
		}
		t, err := tasks.Update(r.Context(), owner, id, p, ifVersion)
		if err != nil {
			return err
		}
		writeTask(w, http.StatusOK, t)
		return nil
	})
}

// handleDeleteTask removes a task, conditional on If-Match.
func handleDeleteTask(tasks *authdash.TaskService) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		versions, err := ifMatch(r)
		if err != nil {
			return err
		}
		owner, id := authdash.UserFrom(r.Context()), taskID(r)
		ifVersion, err := condition(r.Context(), tasks, owner, id, versions)
		if err != nil {
			return err
		}
		if err := tasks.Delete(r.Context(), owner, id, ifVersion); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// handleRestoreTask undoes a delete: 200 with the task as it was, at a new
// version. The request needs no body (one is ignored).
func handleRestoreTask(tasks *authdash.TaskService) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		t, err := tasks.Restore(r.Context(), authdash.UserFrom(r.Context()), taskID(r))
		if err != nil {
			return err
		}
		w.Header().Set("Content-Location", taskPath(t.ID))
		writeTask(w, http.StatusOK, t)
		return nil
	})
}

// handleTaskStats counts the user's tasks by status.
func handleTaskStats(tasks *authdash.TaskService) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		s, err := tasks.Stats(r.Context(), authdash.UserFrom(r.Context()))
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, s)
		return nil
	})
}

func taskID(r *http.Request) authdash.TaskID { return authdash.TaskID(chi.URLParam(r, "id")) }

func writeTask(w http.ResponseWriter, status int, t *authdash.Task) {
	w.Header().Set("ETag", etag(t.Version))
	writeTaskJSON(w, status, func(b []byte) []byte { return appendTask(b, t) })
}

// etag is a task's entity tag: its version, which changes on every write.
func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

var errIfMatch = &authdash.Error{Code: authdash.CodeInvalid,
	Message: `If-Match must be ETags of this task, e.g. "3" or "3", "4".`,
	Fields:  map[string]string{"If-Match": `Must be "*" or ETags separated by commas, e.g. "3".`}}

// maxIfMatch bounds the ETags one If-Match may list: a client names the
// versions it has seen, a handful; thousands are an attack on the parser.
const maxIfMatch = 32

// ifMatch reads the versions a write is conditional on: none
// (unconditional) when If-Match is absent or "*". It accepts "3", W/"3"
// and a bare 3, as clients differ in how they echo an ETag, and a list of
// them (RFC 9110, 13.1.1), over one field or several; anything else is a
// 400 rather than a write that silently ignores the condition.
func ifMatch(r *http.Request) ([]int64, error) {
	h := strings.TrimSpace(strings.Join(r.Header.Values("If-Match"), ","))
	if h == "" || h == "*" {
		return nil, nil
	}
	var versions []int64
	for part := range strings.SplitSeq(h, ",") {
		if strings.TrimSpace(part) == "" {
			continue // an empty element of a list, which RFC 9110 (5.6.1) says to ignore
		}
		v, ok := parseETag(part)
		if !ok || len(versions) == maxIfMatch {
			return nil, errIfMatch
		}
		versions = append(versions, v)
	}
	if len(versions) == 0 {
		return nil, errIfMatch
	}
	return versions, nil
}

// condition is the version a write must find (0: any). With one ETag it is
// that ETag's version, which the store checks as it writes. With several,
// the write may go ahead on whichever the task is at: the task's version is
// read, and the write made conditional on it when it is one of them, so a
// write that lands in between still makes it stale (412) rather than being
// overwritten.
func condition(ctx context.Context, tasks *authdash.TaskService, owner authdash.UserID, id authdash.TaskID, versions []int64) (int64, error) {
	switch len(versions) {
	case 0:
		return 0, nil
	case 1:
		return versions[0], nil
	}
	t, err := tasks.Get(ctx, owner, id)
	if err != nil {
		return 0, err
	}
	if !slices.Contains(versions, t.Version) {
		return 0, authdash.Errorf(authdash.CodePreconditionFailed, "The task has changed since you loaded it; reload and try again.")
	}
	return t.Version, nil
}

func parseETag(s string) (int64, bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "W/")
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 1 {
		return 0, false
	}
	return v, true
}

// noneMatch reports whether an If-None-Match list names version.
func noneMatch(h string, version int64) bool {
	if strings.TrimSpace(h) == "*" {
		return true
	}
	for part := range strings.SplitSeq(h, ",") {
		if v, ok := parseETag(part); ok && v == version {
			return true
		}
	}
	return false
}
