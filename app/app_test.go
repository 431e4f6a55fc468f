package app

import (
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

// A form's summary that repeats the message of a field it shows is not
// shown twice; one of a field it does not show is.
func TestSummary(t *testing.T) {
	const wrongCode = "The code is not right. Check it and try again."
	tests := []struct {
		name   string
		form   string
		msg    string
		fields map[string]string
		want   string
	}{
		{"NoFields", formSignIn, "Email or password is incorrect.", nil, "Email or password is incorrect."},
		{"Repeats", formPassword, "Password is incorrect.", map[string]string{"currentPassword": "Password is incorrect."}, ""},
		{"Summarises", formNew, "Some fields are not valid.", map[string]string{"title": "Title is required."}, "Some fields are not valid."},
		{"WrongCode", formMFA, wrongCode, map[string]string{"code": wrongCode}, ""},
		{"WrongRecoveryCode", formMFA, "This recovery code is not right.", map[string]string{"recoveryCode": "This recovery code is not right."}, ""},
		{"SignInExpired", formMFA, "This sign-in has expired. Sign in again.", map[string]string{"mfaToken": "This sign-in has expired. Sign in again."},
			"This sign-in has expired. Sign in again."},
		{"TOTPConfirm", formTOTPConfirm, wrongCode, map[string]string{"code": wrongCode}, ""},
		{"TOTPDisable", formTOTPDisable, "Password is incorrect.", map[string]string{"password": "Password is incorrect."}, ""},
		{"PasskeyName", formPasskeyAdd, "Give the passkey a name.", map[string]string{"name": "Give the passkey a name."}, ""},
		{"MailedToken", formReset, "This link has expired.", map[string]string{"token": "This link has expired."}, "This link has expired."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := summary(tt.form, tt.msg, tt.fields); got != tt.want {
				t.Errorf("summary(%s, %q, %v) = %q, want %q", tt.form, tt.msg, tt.fields, got, tt.want)
			}
		})
	}
}
