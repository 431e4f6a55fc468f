package app

import (
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/api"
	"github.com/authdash/authdash/app/merge"
)

// stateKey names a piece of app state. Components observe state. What
// comes from the server (session, tasks, stats, toasts…) is set only by
// the controller's action handlers; what is the UI's alone (which dialog
// is open) is set by the components, on the UI goroutine.
type stateKey string

// State keys.
const (
	stSession  stateKey = "authdash.session"
	stLive     stateKey = "authdash.live"
	stTasks    stateKey = "authdash.tasks"
	stStats    stateKey = "authdash.stats"
	stConflict stateKey = "authdash.conflict"
	stSessions stateKey = "authdash.sessions"
	stNotice   stateKey = "authdash.notice"
	stUpdate   stateKey = "authdash.update"
	stToasts   stateKey = "authdash.toasts"
	// resetLinkVerdict: a reset link that does not work, as the server said.
	stResetLink stateKey = "authdash.reset-link"
	// UI state, set by components.
	stEditor stateKey = "authdash.editor" // editorState
	stHelp   stateKey = "authdash.help"   // bool: the shortcuts dialog is open
	// rowFocus: the focus goes to a task's row (the list puts it there).
	stFocusRow stateKey = "authdash.focus-row"
	// bool: the profile asks before signing out everywhere.
	stSignOutAll stateKey = "authdash.signout-all"
	// int: changes kept on this device and not yet sent; above 0 the
	// sign-out asks before it discards them.
	stSignOutUnsent stateKey = "authdash.signout-unsent"
)

// formKey is the state of one form: busy, its error and field errors.
func formKey(form string) stateKey { return stateKey("authdash.form." + form) }

// Form names.
const (
	formSignIn   = "signin"
	formSignUp   = "signup"
	formCreate   = "create" // the quick-add bar
	formNew      = "new"    // the full form of a new task, in the editor dialog
	formEdit     = "edit"
	formProfile  = "profile"
	formPassword = "password"
	formDelete   = "delete"
)

// offlineKey is the local-storage key of the last loaded task page, kept
// only while signed in so the app can open offline; signing out deletes it.
const offlineKey = "authdash.offline"

func observe(ctx app.Context, k stateKey, recv any) app.Observer {
	return ctx.ObserveState(string(k), recv)
}

func setState(ctx app.Context, k stateKey, v any) { ctx.SetState(string(k), v) }

// phase is where the session stands.
type phase int

const (
	phaseBooting   phase = iota // restoring a session from the refresh cookie
	phaseSignedOut              // nobody is signed in
	phaseSignedIn               // a user is signed in and the API answers
	phaseOffline                // signed in from the offline copy: read-only
)

// sessionView is the signed-in user as components see it.
type sessionView struct {
	Phase phase
	User  authdash.User
	// Outbox: offline (phaseOffline), changes are kept on this device
	// and sent when the network is back.
	Outbox bool
}

// canEdit reports whether the page takes changes: signed in, or offline
// with an outbox to keep them.
func (s sessionView) canEdit() bool {
	return s.Phase == phaseSignedIn || (s.Phase == phaseOffline && s.Outbox)
}

// tasksView is the task list as components see it: a copy, never shared
// with the controller.
type tasksView struct {
	Query    authdash.TaskQuery
	Items    []authdash.Task
	HasMore  bool
	Loading  bool
	Loaded   bool
	Err      string
	ReadOnly bool
	// Offline: the list is the one kept in the browser (phaseOffline),
	// which search, filters, sort and Load more answer; Partial: it is
	// not the whole list (docs/REALTIME.md "Offline").
	Offline bool
	Partial bool
	// Pending are the tasks with changes kept on this device that the
	// server has not yet (made offline, waiting to be sent).
	Pending []authdash.TaskID
	// Deleted are the tasks whose deletion the list has seen (and no
	// restore since), sorted: what tells an open editor its task is gone.
	Deleted []authdash.TaskID
}

// formState is the status of a form's submission.
type formState struct {
	Busy   bool
	Err    string
	Fields map[string]string
	// Done counts successful submissions, so a form knows to clear itself.
	Done int
	// Target is the task an edit form concerns.
	Target authdash.TaskID
}

// summary is the form's error as the summary above its fields says it:
// nothing when it only repeats the error under one of the fields the form
// shows, named in shown as the server names them ("Password is
// incorrect." once, under the field). A field the form does not show (a
// mailed link's token, a sign-in that expired) is said in the summary.
func (st formState) summary(shown ...string) string {
	for _, k := range shown {
		if f := st.Fields[k]; f != "" && f == st.Err {
			return ""
		}
	}
	return st.Err
}

// conflict is an edit that met a version saved elsewhere in which both
// changed the same fields: the user chooses, for those fields, between
// their value and the other one. Their other changes are kept either way.
type conflict struct {
	Open  bool
	Merge merge.Result
	// Delete: the refused change was a deletion of the task, which has
	// changed since (Merge.Theirs).
	Delete bool
}

// editorState says what the editor dialog shows: a new task (New, its
// title carried over from the quick-add bar) or an edit of Base, the
// version it opened (which the save merges against).
type editorState struct {
	Open  bool
	New   bool
	Title string
	Base  authdash.Task
	// Return is the id of the element to focus when the dialog closes
	// (what opened it), if it is still there.
	Return string
}

// toast is a short message at the bottom of the screen; with Offer, an
// "Undo" button for that offer (undo.Offer.ID).
type toast struct {
	ID    int
	Text  string
	Offer int
	Error bool
	// Retry: a "Retry" button does again what failed (actRetry).
	Retry bool
	// Task is the task the toast is about, if any: where the focus goes
	// when the toast goes from under it.
	Task authdash.TaskID
	// Life is how long the toast shows while nobody is on it (its
	// undo.Countdown in toasts); 0: until it is closed.
	Life time.Duration
}

// rowFocus asks the task list to put the focus on a task's row; N tells
// one request from the next about the same task.
type rowFocus struct {
	Task authdash.TaskID
	N    int
}

// sessionsList is the user's signed-in devices.
type sessionsList struct {
	Items   []authdash.Session
	Loading bool
	Err     string
}

// liveView is the realtime indicator's state.
type liveView struct {
	Status api.LiveStatus
}

// notice is a short message for the user (an error, or news such as
// "signed out elsewhere").
type notice struct {
	Text  string
	Error bool
}

// Notices go by themselves: news after noticeLife, an error after twice
// as long (it may need acting on); both have a close button before that.
const noticeLife = 8 * time.Second

func (n notice) lifetime() time.Duration {
	if n.Error {
		return 2 * noticeLife
	}
	return noticeLife
}
