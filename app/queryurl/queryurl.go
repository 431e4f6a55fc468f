// Package queryurl puts the dashboard's view in its URL and reads it back:
// search, filters, sort and order as the query string
// (/?q=milk&status=done&tag=work&sort=due&order=asc), so that a reload,
// Back and Forward, and a shared link show the same tasks. Reading is
// forgiving: a parameter that is not valid is dropped and named, never
// passed on to the API to be refused.
package queryurl

import (
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/authdash/authdash"
)

// The parameters, in the order Encode writes them.
const (
	Search   = "q"
	Status   = "status"
	Priority = "priority"
	Tag      = "tag"
	After    = "after"  // due from this day (YYYY-MM-DD), inclusive
	Before   = "before" // due by this day, inclusive
	Sort     = "sort"
	Order    = "order"
)

// Params lists every parameter the view reads.
var Params = []string{Search, Status, Priority, Tag, After, Before, Sort, Order}

// Encode returns the query string of q without the leading "?", leaving
// out what is empty or the default (sort by created, newest first), so the
// plain dashboard's URL is just "/". "Due by" a day is stored as before
// the next day's midnight, and written as the day itself.
func Encode(q authdash.TaskQuery) string {
	var b strings.Builder
	add := func(k, v string) {
		if v == "" {
			return
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(v))
	}
	add(Search, q.Search)
	add(Status, string(q.Status))
	add(Priority, string(q.Priority))
	add(Tag, q.Tag)
	if q.DueAfter != nil {
		add(After, FromDay(*q.DueAfter))
	}
	if q.DueBefore != nil {
		add(Before, ByDay(*q.DueBefore))
	}
	if q.Sort != authdash.SortCreated {
		add(Sort, string(q.Sort))
	}
	if q.Order != authdash.Desc && q.Order != "" {
		add(Order, string(q.Order))
	}
	return b.String()
}

// Decode reads a view from URL parameters. It returns the query and the
// names of the parameters it dropped because their values were not valid
// (in Params order); parameters it does not know are ignored, so a link
// with tracking parameters still opens. Tag accepts "#work" for "work".
// The query is normalised.
func Decode(v url.Values) (q authdash.TaskQuery, dropped []string) {
	get := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	drop := func(k string) { dropped = append(dropped, k) }

	if s := get(Search); utf8.RuneCountInString(s) > authdash.MaxSearchLen {
		drop(Search)
	} else {
		q.Search = s
	}
	if s := authdash.TaskStatus(get(Status)); s != "" {
		if s.Valid() {
			q.Status = s
		} else {
			drop(Status)
		}
	}
	if p := authdash.TaskPriority(get(Priority)); p != "" {
		if p.Valid() {
			q.Priority = p
		} else {
			drop(Priority)
		}
	}
	if t := NormalizeTag(get(Tag)); utf8.RuneCountInString(t) > authdash.MaxTagLen {
		drop(Tag)
	} else {
		q.Tag = t
	}
	if s := get(After); s != "" {
		if d, err := time.Parse(time.DateOnly, s); err == nil {
			q.DueAfter = DueFrom(d)
		} else {
			drop(After)
		}
	}
	if s := get(Before); s != "" {
		if d, err := time.Parse(time.DateOnly, s); err == nil {
			q.DueBefore = DueBy(d)
		} else {
			drop(Before)
		}
	}
	if s := authdash.TaskSort(get(Sort)); s != "" {
		if s.Valid() {
			q.Sort = s
		} else {
			drop(Sort)
		}
	}
	if o := authdash.Order(get(Order)); o != "" {
		if o == authdash.Asc || o == authdash.Desc {
			q.Order = o
		} else {
			drop(Order)
		}
	}
	q.Normalize()
	return q, dropped
}

// NormalizeTag reads a tag filter as people type it: "#work" and "work"
// both mean the tag work.
func NormalizeTag(s string) string {
	return strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(s), "#"))
}

// Active counts the filters that narrow the list (not search, sort or
// order), for a "Filters (2)" button.
func Active(q authdash.TaskQuery) int {
	n := 0
	for _, on := range []bool{q.Status != "", q.Priority != "", q.Tag != "", q.DueAfter != nil, q.DueBefore != nil} {
		if on {
			n++
		}
	}
	return n
}

// Filtered reports whether q hides any task: a search or a filter.
func Filtered(q authdash.TaskQuery) bool { return q.Search != "" || Active(q) > 0 }

// The filters pick whole days (a date field's midnight, UTC), and both
// ends take in the whole of their day, whatever time of it a task is due
// at: a date picked in the app is that day's midnight, an API client's may
// be any time of it. The query's bounds are strict (due after, due
// before), so "due from" a day is due after the millisecond before it
// starts, and "due by" a day is due before the next one starts.

// DueFrom is the query's DueAfter for "due from" day.
func DueFrom(day time.Time) *time.Time {
	t := day.Add(-time.Millisecond)
	return &t
}

// FromDay is the day (YYYY-MM-DD) of a DueAfter made by DueFrom.
func FromDay(after time.Time) string {
	return after.UTC().Add(time.Millisecond).Format(time.DateOnly)
}

// DueBy is the query's DueBefore for "due by" day.
func DueBy(day time.Time) *time.Time {
	t := day.Add(24 * time.Hour)
	return &t
}

// ByDay is the day (YYYY-MM-DD) of a DueBefore made by DueBy.
func ByDay(before time.Time) string {
	return before.UTC().Add(-24 * time.Hour).Format(time.DateOnly)
}
