package server

import (
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/authdash/authdash"
)

// FuzzDuplicateKey holds the scan that refuses bodies readable two ways to
// what encoding/json itself sees: for any valid JSON, an object key repeated
// exactly is always reported, and a reported key is one the body holds.
func FuzzDuplicateKey(f *testing.F) {
	for _, s := range []string{
		`{"title":"a","Title":"b"}`, `{"title":"a","title":"b"}`, `{"a":{"b":1,"b":2}}`, `[{"a":1},{"a":1}]`,
		`{"a":"{\"a\":1,\"a\":2}"}`, `{"a\"":1,"a\u0022":2}`, `{"K":1,"\u212a":2}`, `{"ſ":1,"s":2}`, `{"a":[{"x":1}],"b":{"x":1}}`,
		`"x"`, `[]`, `{}`, `{"":1,"":2}`, `{"a":1, "b" : {"c":[1,{"a":2}]} , "a":3}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return // decode refuses it before the scan runs
		}
		name, dup := duplicateKey(b)
		if exact := exactDuplicate(t, b); exact && !dup {
			t.Fatalf("%s repeats a key, not reported", b)
		}
		if dup && !strings.Contains(string(b), "\"") {
			t.Fatalf("%s: reported %q from a body without keys", b, name)
		}
	})
}

// exactDuplicate walks b with encoding/json's tokenizer, the reference.
func exactDuplicate(t *testing.T, b []byte) bool {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	type obj struct {
		keys    map[string]bool
		wantKey bool
	}
	var stack []*obj
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		top := (*obj)(nil)
		if n := len(stack); n > 0 {
			top = stack[n-1]
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				if top != nil && top.keys != nil {
					top.wantKey = true
				}
				o := &obj{wantKey: v == '{'}
				if v == '{' {
					o.keys = map[string]bool{}
				}
				stack = append(stack, o)
			case '}', ']':
				stack = stack[:len(stack)-1]
				if n := len(stack); n > 0 && stack[n-1].keys != nil {
					stack[n-1].wantKey = true
				}
			}
		case string:
			if top != nil && top.keys != nil && top.wantKey {
				if top.keys[v] {
					return true
				}
				top.keys[v] = true
				top.wantKey = false
				continue
			}
			if top != nil && top.keys != nil {
				top.wantKey = true
			}
		default:
			if top != nil && top.keys != nil {
				top.wantKey = true
			}
		}
	}
}

// FuzzIfMatch: any If-Match either names a version ≥ 1, is unconditional
// (absent or "*"), or is refused; an ETag the server wrote reads back as
// its version.
func FuzzIfMatch(f *testing.F) {
	for _, s := range []string{`"3"`, `W/"3"`, `3`, `*`, ``, `"0"`, `"-1"`, `"9223372036854775807"`, `"9223372036854775808"`, `"1", "2"`, `"`, `""`, `W/`, `+1`, `"0x10"`, " \"7\" "} {
		f.Add(s, int64(3))
	}
	f.Fuzz(func(t *testing.T, h string, version int64) {
		r := httptest.NewRequest("PATCH", "/api/tasks/x", nil)
		r.Header.Set("If-Match", h)
		vs, err := ifMatch(r)
		if err != nil && vs != nil || len(vs) > maxIfMatch || slices.ContainsFunc(vs, func(v int64) bool { return v < 1 }) {
			t.Fatalf("If-Match %q: %d, %v", h, vs, err)
		}
		if err == nil && vs == nil && strings.TrimSpace(r.Header.Get("If-Match")) != "" && strings.TrimSpace(r.Header.Get("If-Match")) != "*" {
			t.Fatalf("If-Match %q taken as unconditional", h)
		}
		if version >= 1 {
			got, ok := parseETag(etag(version))
			if !ok || got != version {
				t.Fatalf("etag(%d) = %s reads back as %d, %v", version, etag(version), got, ok)
			}
			if !noneMatch(etag(version)+", "+strconv.Quote("x"), version) {
				t.Fatalf("If-None-Match %s does not match %d", etag(version), version)
			}
		}
	})
}

// TestIfMatch: the forms of If-Match a write is conditional on, one ETag or
// a list of them over one field or several (RFC 9110, 13.1.1).
func TestIfMatch(t *testing.T) {
	many := strings.TrimSuffix(strings.Repeat(`"1", `, maxIfMatch+1), ", ")
	for _, tc := range []struct {
		name   string
		fields []string
		want   []int64
		bad    bool
	}{
		{name: "Absent"},
		{name: "Empty", fields: []string{" "}},
		{name: "Any", fields: []string{"*"}},
		{name: "One", fields: []string{`"3"`}, want: []int64{3}},
		{name: "Weak", fields: []string{`W/"3"`}, want: []int64{3}},
		{name: "Bare", fields: []string{`3`}, want: []int64{3}},
		{name: "List", fields: []string{`"3", W/"5",7`}, want: []int64{3, 5, 7}},
		{name: "EmptyElementsIgnored", fields: []string{`, "3",, "4" ,`}, want: []int64{3, 4}},
		{name: "OverFields", fields: []string{`"3"`, `"4", "5"`}, want: []int64{3, 4, 5}},
		{name: "AtTheLimit", fields: []string{strings.TrimSuffix(strings.Repeat(`"1", `, maxIfMatch), ", ")}, want: slices.Repeat([]int64{1}, maxIfMatch)},
		{name: "ErrTooMany", fields: []string{many}, bad: true},
		{name: "ErrOnlyCommas", fields: []string{", ,"}, bad: true},
		{name: "ErrAnyInAList", fields: []string{`*, "3"`}, bad: true},
		{name: "ErrAnyOverFields", fields: []string{`*`, `"3"`}, bad: true},
		{name: "ErrOneBad", fields: []string{`"3", "x"`}, bad: true},
		{name: "ErrZero", fields: []string{`"0"`}, bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("PATCH", "/api/tasks/x", nil)
			for _, f := range tc.fields {
				r.Header.Add("If-Match", f)
			}
			got, err := ifMatch(r)
			if tc.bad {
				if authdash.ErrorCodeOf(err) != authdash.CodeInvalid || got != nil {
					t.Fatalf("ifMatch = %v, %v; want a 400", got, err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("ifMatch = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
