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
	actSignOut        action = "authdash.signout"        // nil
	actSignOutAll     action = "authdash.signout-all"    // nil
	actQuery          action = "authdash.query"          // authdash.TaskQuery
	actMore           action = "authdash.more"           // nil
	actCreate         action = "authdash.create"         // authdash.TaskDraft
	actUpdate         action = "authdash.update"         // taskEdit
	actDelete         action = "authdash.delete"         // taskRef
	actResolve        action = "authdash.resolve"        // bool: keep mine
	actUpdateProfile  action = "authdash.profile"        // authdash.UserPatch
	actChangePassword action = "authdash.password"       // authdash.PasswordChange
	actLoadSessions   action = "authdash.sessions"       // nil
	actRevokeSession  action = "authdash.revoke"         // authdash.SessionID
	actDeleteAccount  action = "authdash.delete-account" // string: password
	actDismiss        action = "authdash.dismiss"        // nil: clears the notice
)

// taskEdit is a change to a task the user made on the version they saw.
type taskEdit struct {
	ID        authdash.TaskID
	Patch     authdash.TaskPatch
	IfVersion int64
}

// taskRef names a task at the version the user saw.
type taskRef struct {
	ID      authdash.TaskID
	Version int64
}
