package app

import "github.com/authdash/authdash"

// action names a piece of work the controller does for components.
type action string

// Actions. Components post them with ctx.NewActionWithValue; the handlers
// are registered in Register.
const (
	actBoot           action = "authdash.boot"
	actSignIn         action = "authdash.signin"         // authdash.Credentials
	actSignUp         action = "authdash.signup"         // authdash.Registration
	actSignOut        action = "authdash.signout"        // bool: discard unsent changes (nil: ask)
	actSignOutAll     action = "authdash.signout-all"    // nil
	actQuery          action = "authdash.query"          // authdash.TaskQuery
	actMore           action = "authdash.more"           // nil
	actCreate         action = "authdash.create"         // taskCreate
	actUpdate         action = "authdash.update"         // taskEdit
	actDelete         action = "authdash.delete"         // taskRef
	actResolve        action = "authdash.resolve"        // bool: keep mine
	actUpdateProfile  action = "authdash.profile"        // authdash.UserPatch
	actChangePassword action = "authdash.password"       // authdash.PasswordChange
	actLoadSessions   action = "authdash.sessions"       // nil
	actRevokeSession  action = "authdash.revoke"         // authdash.SessionID
	actDeleteAccount  action = "authdash.delete-account" // string: password
	actDismiss        action = "authdash.dismiss"        // nil: clears the notice
	actComplete       action = "authdash.complete"       // taskDone
	actUndo           action = "authdash.undo"           // int: the undo offer
	actDismissToast   action = "authdash.dismiss-toast"  // int: the toast
	actRetry          action = "authdash.retry"          // int: the toast whose Retry was pressed
	actNextConflict   action = "authdash.next-conflict"  // nil: a conflict was put aside; show the next
)

// taskCreate is a task to create, with the Idempotency-Key that makes
// sending it twice (a double click, a retry) create it once, from Form
// (formCreate or formNew).
type taskCreate struct {
	Key   string
	Draft authdash.TaskDraft
	Form  string
}

// taskDone marks a task, as the user saw it, done or not done.
type taskDone struct {
	Task authdash.Task
	Done bool
}

// taskEdit is the user's edit (Mine) of the version of a task the editor
// opened (Base); the save merges it with whatever was saved meanwhile.
type taskEdit struct {
	Base, Mine authdash.Task
}

// taskRef names a task at the version the user saw.
type taskRef struct {
	ID      authdash.TaskID
	Version int64
}
