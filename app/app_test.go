package app

import (
	"strings"
	"testing"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
)

// Pages mount in go-app's test engine and render only the shell while no
// session is known: no network I/O happens before the browser runs them.
func TestPagesRenderShell(t *testing.T) {
	tests := []struct {
		name string
		page app.Composer
		want app.UI // the first element inside <main>
	}{
		{"SignIn", &signInPage{}, app.Section().Class("card auth-card").Aria("labelledby", "signin-title")},
		{"SignUp", &signUpPage{}, app.Section().Class("card auth-card").Aria("labelledby", "signup-title")},
		{"DashboardBooting", &dashboardPage{}, app.Div().Class("card loading").Role("status")},
		{"ProfileBooting", &profilePage{}, app.Div().Class("card loading").Role("status")},
		{"OIDCLink", &oidcLinkPage{}, app.Section().Class("card auth-card").Aria("labelledby", "oidc-link-title")},
		{"NotFound", &notFoundPage{}, app.Section().Class("card auth-card").Aria("labelledby", "notfound-title")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := app.NewTestEngine()
			if err := e.Load(tt.page); err != nil {
				t.Fatal(err)
			}
			e.ConsumeAll()
			// page > div.page > [skip link, header, offline banner, notices, main]
			if err := app.TestMatch(tt.page, app.TestUIDescriptor{Path: app.TestPath(0, 4), Expected: app.Main().ID("main").Class("main")}); err != nil {
				t.Fatal(err)
			}
			if err := app.TestMatch(tt.page, app.TestUIDescriptor{Path: app.TestPath(0, 4, 0), Expected: tt.want}); err != nil {
				t.Error(err)
			}
		})
	}
}

// A field links its label, hint and error to the input, for screen readers.
func TestFieldAccessibility(t *testing.T) {
	ui := field{ID: "f", Label: "Title", Value: "x", Err: "Title is required.", Hint: "Short."}.render()
	checks := []struct {
		path []int
		want app.UI
	}{
		{[]int{0}, app.Label().For("f")},
		{[]int{0, 0}, app.Text("Title")},
		{[]int{1}, app.Input().ID("f").Name("f").Type("text").Value("x").Required(false).
			Aria("invalid", "true").Class("invalid").Aria("describedby", "f-hint f-err")},
		{[]int{2}, app.Small().ID("f-hint").Class("hint")},
		{[]int{3}, app.P().ID("f-err").Class("field-error").Role("alert")},
	}
	for _, c := range checks {
		if err := app.TestMatch(ui, app.TestUIDescriptor{Path: c.path, Expected: c.want}); err != nil {
			t.Errorf("path %v: %v", c.path, err)
		}
	}
}

// A form keeps one Idempotency-Key per draft: a retry of the same draft
// (however it is spelled) reuses it, another draft or a draft created gets
// a new one.
func TestIdempotencyKey(t *testing.T) {
	var k idempotencyKey
	milk := authdash.TaskDraft{Title: "Buy milk"}
	first := k.For(milk)
	tests := []struct {
		name string
		d    authdash.TaskDraft
		same bool
	}{
		{"OKRetry", milk, true},
		{"OKSameOnceNormalised", authdash.TaskDraft{Title: " Buy milk ", Status: authdash.StatusTodo, Priority: authdash.PriorityMedium, Tags: []string{}}, true},
		{"ErrOtherDraft", authdash.TaskDraft{Title: "Buy oat milk"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := k
			if got := k.For(tt.d); (got == first) != tt.same {
				t.Errorf("key %q for %+v, first %q: same = %v, want %v", got, tt.d, first, got == first, tt.same)
			}
		})
	}
	k.reset()
	if k.For(milk) == first {
		t.Error("a created draft's key was used again")
	}
}

func TestSplitTags(t *testing.T) {
	got := splitTags(" work, Home ,work,, ")
	if len(got) != 2 || got[0] != "work" || got[1] != "Home" {
		t.Errorf("splitTags = %q", got)
	}
	if got := splitTags("  "); got == nil || len(got) != 0 {
		t.Errorf("splitTags(blank) = %#v, want empty non-nil", got)
	}
}

// TestSummary: a form's error that repeats the error under one of the
// fields the form shows is said once, under the field; one of a field it
// does not show (a sign-in that expired) is said in the summary. Each form
// is rendered, so a form naming the wrong fields fails here.
func TestSummary(t *testing.T) {
	const (
		wrongCode = "The code is not right. Check it and try again."
		wrongPw   = "Password is incorrect."
	)
	on := mfaStatus{Loaded: true, On: true}
	tests := []struct {
		name   string
		msg    string
		fields map[string]string
		ui     func(st formState) app.UI
	}{
		{"SignInNoFields", "Email or password is incorrect.", nil,
			func(st formState) app.UI { return &signInPage{form: st} }},
		{"SignUpEmail", "An account with this email already exists.", map[string]string{"email": "An account with this email already exists."},
			func(st formState) app.UI { return &signUpPage{form: st} }},
		{"ProfileName", "Name is required.", map[string]string{"name": "Name is required."},
			func(st formState) app.UI { return (&profilePage{profile: st}).renderProfile() }},
		{"Password", wrongPw, map[string]string{"currentPassword": wrongPw},
			func(st formState) app.UI { return (&profilePage{password: st}).renderPassword() }},
		{"Delete", wrongPw, map[string]string{"password": wrongPw},
			func(st formState) app.UI { return (&profilePage{deletion: st, confirmDel: true}).renderDelete() }},
		{"WrongCode", wrongCode, map[string]string{"code": wrongCode},
			func(st formState) app.UI { return &secondFactorStep{form: st} }},
		{"WrongRecoveryCode", "This recovery code is not right.", map[string]string{"recoveryCode": "This recovery code is not right."},
			func(st formState) app.UI { return &secondFactorStep{form: st, recovery: true} }},
		{"SignInExpired", "This sign-in has expired. Sign in again.", map[string]string{"mfaToken": "This sign-in has expired. Sign in again."},
			func(st formState) app.UI { return &secondFactorStep{form: st} }},
		{"TOTPBegin", wrongPw, map[string]string{"password": wrongPw},
			func(st formState) app.UI { return &twoFactorCard{begin: st, status: mfaStatus{Loaded: true}} }},
		{"TOTPConfirm", wrongCode, map[string]string{"code": wrongCode},
			func(st formState) app.UI { return &twoFactorCard{confirm: st, setup: totpSetup{Secret: "ABC"}} }},
		{"TOTPDisable", wrongPw, map[string]string{"password": wrongPw},
			func(st formState) app.UI { return &twoFactorCard{off: st, status: on} }},
		{"TOTPDisableCode", wrongCode, map[string]string{"code": wrongCode},
			func(st formState) app.UI { return &twoFactorCard{off: st, status: on} }},
		{"PasskeyName", "Give the passkey a name.", map[string]string{"name": "Give the passkey a name."},
			func(st formState) app.UI { return &passkeysCard{add: st} }},
		{"ForgotEmail", "Email is not valid.", map[string]string{"email": "Email is not valid."},
			func(st formState) app.UI { return &forgotPasswordPage{form: st} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := app.HTMLString(tt.ui(formState{Err: tt.msg, Fields: tt.fields}))
			if n := strings.Count(h, tt.msg); n != 1 {
				t.Errorf("%q said %d times, want once:\n%s", tt.msg, n, h)
			}
		})
	}
}
