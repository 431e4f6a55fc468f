package queryurl_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/queryurl"
)

func day(s string) *time.Time {
	t, _ := time.Parse(time.DateOnly, s)
	return &t
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		q    authdash.TaskQuery
		want string
	}{
		{"OKDefaultIsEmpty", authdash.TaskQuery{}, ""},
		{"OKEverything", authdash.TaskQuery{
			Search: "milk & honey", Status: authdash.StatusDone, Priority: authdash.PriorityHigh, Tag: "work",
			DueAfter: day("2031-01-01"), DueBefore: day("2031-02-01"), Sort: authdash.SortDue, Order: authdash.Asc,
		}, "q=milk+%26+honey&status=done&priority=high&tag=work&after=2031-01-01&before=2031-01-31&sort=due&order=asc"},
		{"OKDefaultSortLeftOut", authdash.TaskQuery{Status: authdash.StatusTodo, Sort: authdash.SortCreated, Order: authdash.Desc}, "status=todo"},
		{"OKUnicode", authdash.TaskQuery{Search: "café ☕"}, "q=caf%C3%A9+%E2%98%95"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.q
			q.Normalize()
			got := queryurl.Encode(q)
			if got != tt.want {
				t.Errorf("Encode = %q, want %q", got, tt.want)
			}
			v, err := url.ParseQuery(got)
			if err != nil {
				t.Fatal(err)
			}
			back, dropped := queryurl.Decode(v)
			if len(dropped) > 0 {
				t.Errorf("Decode dropped %v", dropped)
			}
			if queryurl.Encode(back) != got {
				t.Errorf("round trip gave %q", queryurl.Encode(back))
			}
			if err := back.Validate(); err != nil {
				t.Errorf("decoded query not valid: %v", err)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	long := strings.Repeat("x", authdash.MaxSearchLen+1)
	tests := []struct {
		name    string
		raw     string
		want    string // Encode of the result
		dropped []string
	}{
		{"OKNothing", "", "", nil},
		{"OKHashTag", "tag=%23work", "tag=work", nil},
		{"OKSpacesTrimmed", "q=+milk+&tag=+work+", "q=milk&tag=work", nil},
		{"OKUnknownIgnored", "utm_source=mail&status=todo", "status=todo", nil},
		{"OKEmptyValuesAreAbsent", "status=&priority=&sort=", "", nil},
		{"ErrStatusAny", "status=Any&q=milk", "q=milk", []string{"status"}},
		{"ErrBadValuesDroppedOthersKept", "status=nope&priority=urgent&sort=colour&order=up&tag=work",
			"tag=work", []string{"status", "priority", "sort", "order"}},
		{"ErrBadDates", "after=tomorrow&before=2031-13-01", "", []string{"after", "before"}},
		{"ErrSearchTooLong", "q=" + long, "", []string{"q"}},
		{"ErrTagTooLong", "tag=" + strings.Repeat("t", 40), "", []string{"tag"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := url.ParseQuery(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			q, dropped := queryurl.Decode(v)
			if got := queryurl.Encode(q); got != tt.want {
				t.Errorf("Decode → %q, want %q", got, tt.want)
			}
			if !slices.Equal(dropped, tt.dropped) {
				t.Errorf("dropped %v, want %v", dropped, tt.dropped)
			}
			if err := q.Validate(); err != nil {
				t.Errorf("decoded query not valid: %v", err)
			}
		})
	}
}

func TestActive(t *testing.T) {
	tests := []struct {
		q        authdash.TaskQuery
		n        int
		filtered bool
	}{
		{authdash.TaskQuery{}, 0, false},
		{authdash.TaskQuery{Search: "x", Sort: authdash.SortTitle}, 0, true},
		{authdash.TaskQuery{Status: authdash.StatusDone, Tag: "w"}, 2, true},
		{authdash.TaskQuery{Priority: authdash.PriorityLow, DueAfter: day("2031-01-01"), DueBefore: day("2031-01-02")}, 3, true},
	}
	for _, tt := range tests {
		if n := queryurl.Active(tt.q); n != tt.n {
			t.Errorf("Active(%+v) = %d, want %d", tt.q, n, tt.n)
		}
		if f := queryurl.Filtered(tt.q); f != tt.filtered {
			t.Errorf("Filtered(%+v) = %v", tt.q, f)
		}
	}
}

// TestDueDays: "due from" and "due by" a day each take in the whole of it,
// whatever time of it a task is due at, and nothing of the days around it.
func TestDueDays(t *testing.T) {
	q, dropped := queryurl.Decode(url.Values{queryurl.After: {"2031-01-10"}, queryurl.Before: {"2031-01-12"}})
	if len(dropped) > 0 {
		t.Fatalf("dropped %v", dropped)
	}
	q.Normalize()
	at := func(s string) *time.Time {
		d, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return &d
	}
	tests := []struct {
		due  *time.Time
		want bool
	}{
		{at("2031-01-09T23:59:59.999Z"), false},
		{day("2031-01-10"), true}, // as the app's date field sets it
		{at("2031-01-10T00:00:00.001Z"), true},
		{at("2031-01-10T15:00:00Z"), true},
		{day("2031-01-11"), true},
		{day("2031-01-12"), true},
		{at("2031-01-12T23:59:59.999Z"), true},
		{day("2031-01-13"), false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := q.Matches(authdash.Task{DueDate: tt.due}); got != tt.want {
			t.Errorf("due %v: matches %v, want %v", tt.due, got, tt.want)
		}
	}
	// The days read back as they were picked.
	if got, want := queryurl.Encode(q), "after=2031-01-10&before=2031-01-12"; got != want {
		t.Errorf("Encode = %q, want %q", got, want)
	}
}
