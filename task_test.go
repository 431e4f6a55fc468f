package authdash_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/authdash/authdash"
)

func ptr[T any](v T) *T { return &v }

func TestTaskDraftValidate(t *testing.T) {
	long := func(n int) string { return strings.Repeat("é", n) }
	tests := []struct {
		name      string
		draft     authdash.TaskDraft
		wantField string // "" means valid
	}{
		{"OK", authdash.TaskDraft{Title: "Write docs"}, ""},
		{"OKMaxLengths", authdash.TaskDraft{Title: long(200), Description: long(10000)}, ""},
		{"OKTitleTrimmed", authdash.TaskDraft{Title: "  x  "}, ""},
		{"ErrTitleRequired", authdash.TaskDraft{Title: "   "}, "title"},
		{"ErrTitleTooLong", authdash.TaskDraft{Title: long(201)}, "title"},
		{"ErrDescriptionTooLong", authdash.TaskDraft{Title: "x", Description: long(10001)}, "description"},
		{"ErrStatus", authdash.TaskDraft{Title: "x", Status: "doing"}, "status"},
		{"ErrPriority", authdash.TaskDraft{Title: "x", Priority: "urgent"}, "priority"},
		{"ErrTooManyTags", authdash.TaskDraft{Title: "x", Tags: strings.Fields("a b c d e f g h i j k l m n o p q r s t u")}, "tags"},
		{"ErrTagTooLong", authdash.TaskDraft{Title: "x", Tags: []string{strings.Repeat("t", 33)}}, "tags"},
		{"OKDescriptionLinesAndTabs", authdash.TaskDraft{Title: "x", Description: "a\n\tb\r\nc"}, ""},
		{"ErrTitleNUL", authdash.TaskDraft{Title: "a\x00b"}, "title"},
		{"ErrTitleESC", authdash.TaskDraft{Title: "\x1b[2Jgone"}, "title"},
		{"ErrTitleNewline", authdash.TaskDraft{Title: "two\nlines"}, "title"},
		{"ErrTitleC1", authdash.TaskDraft{Title: "csi\u009b2J"}, "title"},
		{"ErrTitleDEL", authdash.TaskDraft{Title: "a\x7f"}, "title"},
		{"ErrDescriptionNUL", authdash.TaskDraft{Title: "x", Description: "a\x00b"}, "description"},
		{"ErrDescriptionESC", authdash.TaskDraft{Title: "x", Description: "\x1b]0;pwned\x07"}, "description"},
		{"ErrDescriptionLoneCR", authdash.TaskDraft{Title: "x", Description: "over\rwrite"}, "description"},
		{"ErrDescriptionC1", authdash.TaskDraft{Title: "x", Description: "a\u0085b"}, "description"},
		{"ErrTagC1", authdash.TaskDraft{Title: "x", Tags: []string{"a\u0090"}}, "tags"},
		{"OKDueFirstMoment", authdash.TaskDraft{Title: "x", DueDate: ptr(time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC))}, ""},
		{"OKDueLastMillisecond", authdash.TaskDraft{Title: "x", DueDate: ptr(time.Date(9999, 12, 31, 23, 59, 59, 999_000_000, time.UTC))}, ""},
		{"OKDueLastNanosecondTruncated", authdash.TaskDraft{Title: "x", DueDate: ptr(time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC))}, ""},
		{"ErrDueAfter9999", authdash.TaskDraft{Title: "x", DueDate: ptr(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))}, "dueDate"},
		{"ErrDueTooEarly", authdash.TaskDraft{Title: "x", DueDate: ptr(time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC))}, "dueDate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.draft
			d.Normalize()
			err := d.Validate()
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if code := authdash.ErrorCodeOf(err); code != authdash.CodeInvalid {
				t.Fatalf("code = %q, want invalid (err %v)", code, err)
			}
			if _, ok := authdash.ErrorFieldsOf(err)[tt.wantField]; !ok {
				t.Fatalf("fields = %v, want a problem with %q", authdash.ErrorFieldsOf(err), tt.wantField)
			}
		})
	}
}

func TestTaskDraftNormalizeDefaults(t *testing.T) {
	d := authdash.TaskDraft{Title: " a ", Tags: []string{" Go ", "go", "", "web"},
		DueDate: ptr(time.Date(2030, 1, 2, 3, 4, 5, 678901234, time.FixedZone("X", 3600)))}
	d.Normalize()
	if d.Title != "a" || d.Status != authdash.StatusTodo || d.Priority != authdash.PriorityMedium {
		t.Fatalf("defaults not applied: %+v", d)
	}
	if strings.Join(d.Tags, ",") != "Go,web" {
		t.Fatalf("tags = %q, want [Go web]", d.Tags)
	}
	want := time.Date(2030, 1, 2, 2, 4, 5, 678000000, time.UTC)
	if !d.DueDate.Equal(want) || d.DueDate.Location() != time.UTC {
		t.Fatalf("due = %v, want %v in UTC", d.DueDate, want)
	}
}

func TestTaskPatchJSON(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr bool
		check   func(t *testing.T, p authdash.TaskPatch)
	}{
		{"OKAbsentDueLeaves", `{"title":"x"}`, false, func(t *testing.T, p authdash.TaskPatch) {
			if p.DueDate != nil || p.ClearDueDate || *p.Title != "x" {
				t.Fatalf("got %+v", p)
			}
		}},
		{"OKNullDueClears", `{"dueDate":null}`, false, func(t *testing.T, p authdash.TaskPatch) {
			if !p.ClearDueDate || p.DueDate != nil {
				t.Fatalf("got %+v", p)
			}
		}},
		{"OKDueSets", `{"dueDate":"2031-05-06T07:08:09Z"}`, false, func(t *testing.T, p authdash.TaskPatch) {
			if p.DueDate == nil || p.DueDate.Year() != 2031 {
				t.Fatalf("got %+v", p)
			}
		}},
		{"ErrUnknownField", `{"titel":"x"}`, true, nil},
		{"ErrDueWrongType", `{"dueDate":5}`, true, nil},
		{"ErrTitleWrongType", `{"title":5}`, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p authdash.TaskPatch
			err := json.Unmarshal([]byte(tt.in), &p)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Unmarshal(%s) err = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if tt.check != nil {
				tt.check(t, p)
				// And back: what we write reads the same.
				b, err := json.Marshal(p)
				if err != nil {
					t.Fatal(err)
				}
				var q authdash.TaskPatch
				if err := json.Unmarshal(b, &q); err != nil {
					t.Fatalf("round trip %s: %v", b, err)
				}
				tt.check(t, q)
			}
		})
	}
}

func TestTaskPatchValidate(t *testing.T) {
	tests := []struct {
		name      string
		patch     authdash.TaskPatch
		wantField string
		wantErr   bool
	}{
		{"OK", authdash.TaskPatch{Status: ptr(authdash.StatusDone)}, "", false},
		{"ErrEmpty", authdash.TaskPatch{}, "", true},
		{"ErrBlankTitle", authdash.TaskPatch{Title: ptr(" ")}, "title", true},
		{"ErrBadStatus", authdash.TaskPatch{Status: ptr(authdash.TaskStatus("x"))}, "status", true},
		{"OKDescriptionCRLF", authdash.TaskPatch{Description: ptr("a\r\nb")}, "", false},
		{"ErrTitleESC", authdash.TaskPatch{Title: ptr("\x1b[31mred")}, "title", true},
		{"ErrDescriptionNUL", authdash.TaskPatch{Description: ptr("\x00")}, "description", true},
		{"ErrSetAndClearDue", authdash.TaskPatch{DueDate: ptr(time.Now()), ClearDueDate: true}, "dueDate", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.patch
			p.Normalize()
			err := p.Validate()
			if (err != nil) != tt.wantErr {
				t.Fatalf("Validate() = %v, wantErr %v", err, tt.wantErr)
			}
			if tt.wantField != "" {
				if _, ok := authdash.ErrorFieldsOf(err)[tt.wantField]; !ok {
					t.Fatalf("fields = %v, want %q", authdash.ErrorFieldsOf(err), tt.wantField)
				}
			}
		})
	}
}

func TestTaskPatchApply(t *testing.T) {
	due := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	base := authdash.Task{Title: "a", Description: "d", Status: authdash.StatusTodo, Priority: authdash.PriorityLow, DueDate: &due, Tags: []string{"x"}}
	got := authdash.TaskPatch{Title: ptr("b"), ClearDueDate: true, Tags: ptr([]string{"y", "z"})}.Apply(base)
	if got.Title != "b" || got.Description != "d" || got.DueDate != nil || strings.Join(got.Tags, ",") != "y,z" {
		t.Fatalf("Apply = %+v", got)
	}
	if base.Title != "a" || base.DueDate == nil {
		t.Fatal("Apply changed its input")
	}
}

func TestTaskQueryValidate(t *testing.T) {
	okCursor := authdash.SortKey(authdash.Task{ID: "a1", Title: "T"}, authdash.SortTitle, authdash.Asc).Encode()
	tests := []struct {
		name      string
		q         authdash.TaskQuery
		wantField string
	}{
		{"OKDefaults", authdash.TaskQuery{}, ""},
		{"OKCursor", authdash.TaskQuery{Sort: authdash.SortTitle, Order: authdash.Asc, Cursor: okCursor}, ""},
		{"ErrCursorOtherSort", authdash.TaskQuery{Sort: authdash.SortDue, Order: authdash.Asc, Cursor: okCursor}, "cursor"},
		{"ErrCursorGarbage", authdash.TaskQuery{Cursor: "!!"}, "cursor"},
		{"ErrLimitHigh", authdash.TaskQuery{Limit: 101}, "limit"},
		{"ErrLimitNegative", authdash.TaskQuery{Limit: -1}, "limit"},
		{"ErrSort", authdash.TaskQuery{Sort: "random"}, "sort"},
		{"ErrOrder", authdash.TaskQuery{Order: "up"}, "order"},
		{"ErrStatus", authdash.TaskQuery{Status: "x"}, "status"},
		{"ErrSearchTooLong", authdash.TaskQuery{Search: strings.Repeat("s", 201)}, "q"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.q
			q.Normalize()
			err := q.Validate()
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				if q.Limit != authdash.DefaultPageSize && tt.q.Limit == 0 {
					t.Fatalf("limit default = %d", q.Limit)
				}
				return
			}
			if _, ok := authdash.ErrorFieldsOf(err)[tt.wantField]; !ok {
				t.Fatalf("err = %v, want field %q", err, tt.wantField)
			}
		})
	}
}

func TestCursorRoundTrip(t *testing.T) {
	due := time.Date(2031, 2, 3, 4, 5, 6, 7e6, time.UTC)
	task := authdash.Task{ID: "abc", Title: "Élan", Priority: authdash.PriorityHigh, DueDate: &due,
		CreatedAt: time.UnixMilli(1000).UTC(), UpdatedAt: time.UnixMilli(2000).UTC()}
	for _, s := range authdash.TaskSorts {
		for _, o := range []authdash.Order{authdash.Asc, authdash.Desc} {
			c := authdash.SortKey(task, s, o)
			got, err := authdash.DecodeCursor(c.Encode(), s, o)
			if err != nil || got != c {
				t.Fatalf("%s/%s: DecodeCursor = %+v, %v; want %+v", s, o, got, err, c)
			}
		}
	}
	if k := authdash.SortKey(authdash.Task{ID: "x"}, authdash.SortDue, authdash.Asc).Int; k != authdash.NoDue {
		t.Fatalf("undated due key = %d, want NoDue", k)
	}
	if k := authdash.SortKey(task, authdash.SortTitle, authdash.Asc).Str; k != "élan" {
		t.Fatalf("title key = %q", k)
	}
}
