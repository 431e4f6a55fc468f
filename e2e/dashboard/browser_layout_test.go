package dashboard

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/authdash/authdash/e2e/internal/browsertest"
	"github.com/authdash/authdash/e2e/internal/dashtest"
)

// TestLayout measures what a walk through the screens at 1280×800 and
// 390×844 found out of line: the filters' fields of one row side by side
// at one height (the date fields stood 2 px taller, their labels higher),
// the overdue icon apart from its words ("⚠Overdue"), and the profile's
// badges apart from the device's name ("Linux[Signed in]"), and the
// header's rows the same during an outage; and that no filter is cut
// short (issue 11: the date filters and the Order select at 1280 px).
func TestLayout(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the app and drives Chromium")
	}
	w := kit.Webapp(t)
	w.Start()
	d := &dash{&dashtest.Dash{W: w, Browser: kit.Browser(t)}}
	late := time.Now().AddDate(0, 0, -3).Format(time.DateOnly) + "T12:00:00Z"
	for _, size := range browsertest.ScreenSizes {
		t.Run(size.Name, func(t *testing.T) {
			d.Size = size
			b := d.Person(t, `{"title": "Late", "dueDate": "`+late+`"}`)
			if browsertest.Eval[bool](b, `getComputedStyle(document.querySelector("#filters-toggle")).display !== "none"`) {
				browsertest.Click(b, "#filters-toggle")
			}
			b.WaitJS("filters shown", `document.querySelector("#filters").getBoundingClientRect().height > 0`)
			// Fields whose tops are on one row have one height.
			if bad := browsertest.Eval[[]string](b, `(() => {
				const fs = [...document.querySelectorAll("#filters input, #filters select")].map(e => ({id: e.id, r: e.getBoundingClientRect()}));
				const out = [];
				for (const a of fs) for (const b of fs)
					if (a.id < b.id && Math.abs(a.r.top - b.r.top) < 8 && (a.r.top !== b.r.top || a.r.height !== b.r.height))
						out.push(a.id + " " + a.r.top + "+" + a.r.height + " vs " + b.id + " " + b.r.top + "+" + b.r.height);
				return out; })()`); len(bad) > 0 {
				t.Errorf("filters out of line: %q", bad)
			}
			// No filter's text is cut short: every option of a select
			// and a date's "mm/dd/yyyy" fit inside the field, beside its
			// arrow or calendar button (about 24 px).
			if bad := browsertest.Eval[[]string](b, `(() => {
				const ctx = document.createElement("canvas").getContext("2d"), out = [];
				for (const e of document.querySelectorAll("#filters select, #filters input[type=date]")) {
					const cs = getComputedStyle(e); ctx.font = cs.font;
					const room = e.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - 24;
					const texts = e.tagName === "SELECT" ? [...e.options].map(o => o.text) : ["mm/dd/yyyy"];
					for (const s of texts) if (ctx.measureText(s).width > room) out.push(e.id + ": " + s);
				}
				return out; })()`); len(bad) > 0 {
				t.Errorf("filters cut short: %q", bad)
			}
			if gap := browsertest.Eval[float64](b, `(() => {
				const due = document.querySelector("#task-list time.due");
				const icon = due.querySelector(".due-icon").getBoundingClientRect();
				const r = document.createRange(); r.selectNodeContents(due.lastChild);
				return r.getBoundingClientRect().left - icon.right; })()`); gap < 2 {
				t.Errorf("the overdue icon is %.1f px from its words, want a space", gap)
			}

			// The header keeps its rows when the live badge says the
			// server is gone (on a phone "Reconnecting…" pushed Sign out
			// to a row of its own).
			b.WaitJS("live", dashtest.LiveJS)
			before := browsertest.Eval[float64](b, `document.querySelector(".topbar").getBoundingClientRect().height`)
			w.Kill()
			b.WaitJS("outage", dashtest.OutageJS+` && document.querySelector("#live.live-live") === null`)
			if during := browsertest.Eval[float64](b, `document.querySelector(".topbar").getBoundingClientRect().height`); during != before {
				t.Errorf("the header is %.0f px high during an outage, %.0f px live", during, before)
			}
			w.Start()
			b.WaitJS("live again", dashtest.LiveJS)

			b.Do("profile", chromedp.Navigate(w.URL("/profile")), browsertest.AppReady)
			b.WaitJS("devices and activity listed", `document.querySelector("#sessions .badge") !== null && document.querySelector("#activity .badge") !== null`)
			if bad := browsertest.Eval[[]string](b, `[...document.querySelectorAll(".session strong + .badge")].map(badge => {
				const name = badge.previousElementSibling.getBoundingClientRect(), r = badge.getBoundingClientRect();
				const sameLine = r.top < name.bottom && r.bottom > name.top;
				return sameLine && r.left - name.right < 4 ? badge.textContent + ": " + (r.left - name.right) + " px" : "";
			}).filter(s => s)`); len(bad) > 0 {
				t.Errorf("badges against the device's name: %q", bad)
			}
		})
	}
}
