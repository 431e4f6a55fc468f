package app

import (
	"testing"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
)

// A row whose change is kept on this device, not yet sent, says so in
// words (not only by its look); other rows do not.
func TestTaskRowPending(t *testing.T) {
	task := authdash.Task{ID: "t1", Title: "Kept", Status: authdash.StatusTodo, Priority: authdash.PriorityMedium, Version: 1}
	pendingBadge := app.Span().Class("badge pending").DataSet("task", "t1").Title("Kept on this device; sent when the connection is back")
	for _, c := range []struct {
		name    string
		pending bool
		want    app.UI
	}{
		{"Pending", true, pendingBadge},
		{"Sent", false, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			row := &taskRow{Task: task, Today: "2026-12-05", Pending: c.pending}
			e := app.NewTestEngine()
			if err := e.Load(row); err != nil {
				t.Fatal(err)
			}
			e.ConsumeAll()
			cls := "task status-todo due-none"
			if c.pending {
				cls += " pending"
			}
			// li > [check, main > [title, meta > [badge…]]]
			if err := app.TestMatch(row, app.TestUIDescriptor{Path: app.TestPath(0), Expected: app.Li().Class(cls).ID("task-t1").DataSet("id", "t1").DataSet("version", 1)}); err != nil {
				t.Error(err)
			}
			err := app.TestMatch(row, app.TestUIDescriptor{Path: app.TestPath(0, 1, 1, 0), Expected: pendingBadge})
			if c.want != nil && err != nil {
				t.Error(err)
			}
			if c.want == nil && err == nil {
				t.Error("a row with nothing pending is marked as not sent")
			}
			if c.want != nil {
				if err := app.TestMatch(row, app.TestUIDescriptor{Path: app.TestPath(0, 1, 1, 0, 0), Expected: app.Text("Not sent yet")}); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// Offline, the page takes changes only when it has an outbox to keep them.
func TestCanEdit(t *testing.T) {
	for _, c := range []struct {
		name string
		s    sessionView
		want bool
	}{
		{"SignedIn", sessionView{Phase: phaseSignedIn}, true},
		{"OfflineWithOutbox", sessionView{Phase: phaseOffline, Outbox: true}, true},
		{"OfflineWithoutOutbox", sessionView{Phase: phaseOffline}, false},
		{"Booting", sessionView{Phase: phaseBooting, Outbox: true}, false},
		{"SignedOut", sessionView{Phase: phaseSignedOut}, false},
	} {
		if got := c.s.canEdit(); got != c.want {
			t.Errorf("%s: canEdit = %v, want %v", c.name, got, c.want)
		}
	}
}
