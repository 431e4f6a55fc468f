// Package duedate words a task's due date the way a person thinks of it,
// relative to today: "Today", "Tomorrow", "Overdue · 3 days", "In 4 days",
// "Mon, Jan 12". A due date is a day: the calendar day of its instant in
// UTC, which is how the editor's date field writes it; "today" is the
// person's own calendar day.
package duedate

import (
	"strconv"
	"time"
)

// Urgency sorts due dates into what a list row shows differently.
type Urgency int

// Urgencies, least urgent first.
const (
	None    Urgency = iota // no due date
	Later                  // after tomorrow
	Soon                   // tomorrow
	Today                  // today
	Overdue                // before today
)

// Class names the urgency for a style sheet (e.g. "due-overdue").
func (u Urgency) Class() string {
	switch u {
	case Later:
		return "due-later"
	case Soon:
		return "due-soon"
	case Today:
		return "due-today"
	case Overdue:
		return "due-overdue"
	}
	return "due-none"
}

// Due is a due date as a row shows it.
type Due struct {
	Urgency Urgency
	// Text is relative ("Today", "Overdue · 3 days"): it says in words
	// what colour also shows, so colour is never the only sign.
	Text string
	// Date is the day in full ("Monday, January 12, 2031"), for a title
	// or a screen reader.
	Date string
	// ISO is the day as YYYY-MM-DD, for <time datetime>.
	ISO string
}

// Describe words due relative to now, whose calendar day is taken in
// now's location.
func Describe(due *time.Time, now time.Time) Due {
	if due == nil {
		return Due{Urgency: None}
	}
	d := due.UTC()
	day := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	// Whole days between two UTC midnights: no daylight-saving hour.
	n := int(day.Sub(today).Hours() / 24)
	out := Due{Date: day.Format("Monday, January 2, 2006"), ISO: day.Format(time.DateOnly)}
	switch {
	case n < 0:
		out.Urgency, out.Text = Overdue, "Overdue · "+days(-n)
	case n == 0:
		out.Urgency, out.Text = Today, "Today"
	case n == 1:
		out.Urgency, out.Text = Soon, "Tomorrow"
	case n < 7:
		out.Urgency, out.Text = Later, "In "+days(n)
	case day.Year() == today.Year():
		out.Urgency, out.Text = Later, day.Format("Mon, Jan 2")
	default:
		out.Urgency, out.Text = Later, day.Format("Jan 2, 2006")
	}
	return out
}

func days(n int) string {
	if n == 1 {
		return "1 day"
	}
	return strconv.Itoa(n) + " days"
}
