package duedate_test

import (
	"testing"
	"time"

	"github.com/authdash/authdash/app/duedate"
)

func TestDescribe(t *testing.T) {
	paris := time.FixedZone("Paris", 3600)
	// 23:30 on Jan 10 in Paris is 22:30 UTC: still the 10th where the
	// person is.
	now := time.Date(2031, 1, 10, 23, 30, 0, 0, paris)
	at := func(y int, m time.Month, d, h int) *time.Time {
		t := time.Date(y, m, d, h, 0, 0, 0, time.UTC)
		return &t
	}
	tests := []struct {
		name    string
		due     *time.Time
		urgency duedate.Urgency
		text    string
		iso     string
	}{
		{"None", nil, duedate.None, "", ""},
		{"Today", at(2031, 1, 10, 0), duedate.Today, "Today", "2031-01-10"},
		{"TodayLateInTheDay", at(2031, 1, 10, 23), duedate.Today, "Today", "2031-01-10"},
		{"Tomorrow", at(2031, 1, 11, 0), duedate.Soon, "Tomorrow", "2031-01-11"},
		{"Yesterday", at(2031, 1, 9, 15), duedate.Overdue, "Overdue · 1 day", "2031-01-09"},
		{"ThreeDaysLate", at(2031, 1, 7, 0), duedate.Overdue, "Overdue · 3 days", "2031-01-07"},
		{"AcrossTheYear", at(2030, 12, 31, 0), duedate.Overdue, "Overdue · 10 days", "2030-12-31"},
		{"InSixDays", at(2031, 1, 16, 0), duedate.Later, "In 6 days", "2031-01-16"},
		{"NextWeek", at(2031, 1, 17, 0), duedate.Later, "Fri, Jan 17", "2031-01-17"},
		{"NextYear", at(2032, 2, 1, 0), duedate.Later, "Feb 1, 2032", "2032-02-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := duedate.Describe(tt.due, now)
			if got.Urgency != tt.urgency || got.Text != tt.text || got.ISO != tt.iso {
				t.Errorf("Describe = %+v, want %v %q %q", got, tt.urgency, tt.text, tt.iso)
			}
			if tt.due != nil && got.Date == "" {
				t.Error("no full date")
			}
		})
	}
}

// Around a daylight-saving change a day still counts as one.
func TestDescribeAcrossDST(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no time zone database")
	}
	now := time.Date(2031, 3, 8, 12, 0, 0, 0, ny) // the day before DST starts
	due := time.Date(2031, 3, 10, 0, 0, 0, 0, time.UTC)
	if got := duedate.Describe(&due, now); got.Text != "In 2 days" {
		t.Errorf("Describe = %q, want In 2 days", got.Text)
	}
}

func TestClass(t *testing.T) {
	seen := map[string]bool{}
	for _, u := range []duedate.Urgency{duedate.None, duedate.Later, duedate.Soon, duedate.Today, duedate.Overdue} {
		if c := u.Class(); seen[c] {
			t.Errorf("class %q used twice", c)
		} else {
			seen[c] = true
		}
	}
}
