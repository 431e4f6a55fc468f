package openapi_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/authdash/authdash/internal/oidctest"
	"github.com/authdash/authdash/internal/passkeytest"
)

// totpCode is the code an authenticator app shows for secret at t.
func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const (
	annReg = `{"email":"ann@example.com","password":"ann-password-1","name":"Ann"}`
	bobReg = `{"email":"bob@example.com","password":"bob-password-1","name":"Bob"}`
	annPW  = `{"email":"ann@example.com","password":"ann-password-1"}`
)

var tokenMode = map[string]string{"X-Auth-Mode": "token"}

// page is a browser's navigation.
var page = map[string]string{"Accept": "text/html,application/xhtml+xml"}

var olive = oidctest.Person{Subject: "o-1", Email: "olive@example.com", EmailVerified: true, Name: "Olive"}

// firstItem is the id of a list's first item.
func firstItem(b []byte, _ *scenario) string {
	var l struct{ Items []struct{ ID string } }
	if json.Unmarshal(b, &l) != nil || len(l.Items) == 0 {
		return ""
	}
	return l.Items[0].ID
}

// TestAPIMatchesSpec replays every operation of the API, successes and
// failures, against the real server and validates each request and response
// with kin-openapi's openapi3filter. Then it checks that every operation was
// exercised with a success and a failure, and every documented status at
// least once somewhere.
func TestAPIMatchesSpec(t *testing.T) {
	a := mustAPI(t)
	s := &scenario{api: a, spec: mustSpec(t), tokens: map[string]string{}, vars: map[string]string{}, seen: map[string]map[int]bool{}}
	big := `{"title":"` + strings.Repeat("x", 2<<20) + `"}`
	keep := func(name string, from func(b []byte, s *scenario) string) func(*testing.T, *scenario, *http.Response, []byte) {
		return func(t *testing.T, s *scenario, _ *http.Response, b []byte) { s.vars[name] = from(b, s) }
	}
	field := func(key string) func(b []byte, s *scenario) string {
		return func(b []byte, _ *scenario) string {
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				return ""
			}
			switch v := m[key].(type) {
			case string:
				return v
			case float64:
				return strconv.FormatInt(int64(v), 10)
			}
			return ""
		}
	}

	// The passkey's authenticator, and the key it makes.
	authenticator := &passkeytest.Authenticator{Origin: "http://localhost:8080", UserVerified: true, BackupEligible: true}
	var passkey *passkeytest.Key
	signWith := func(name string) func(*testing.T, *scenario, *http.Response, []byte) {
		return func(t *testing.T, s *scenario, _ *http.Response, b []byte) {
			cred, err := authenticator.Get(b, passkey)
			if err != nil {
				t.Fatal(err)
			}
			s.vars[name] = string(cred)
		}
	}

	s.run(t, []exchange{
		// Sign-up, sign-in, refresh, sign-out.
		{name: "RegisterOK", method: "POST", path: "/api/auth/register", body: annReg, header: tokenMode, wantStatus: 201, capture: grantOf("ann")},
		{name: "RegisterBob", method: "POST", path: "/api/auth/register", body: bobReg, header: tokenMode, wantStatus: 201, capture: grantOf("bob")},
		{name: "ErrRegisterTaken", method: "POST", path: "/api/auth/register", body: annReg, wantStatus: 409},
		{name: "ErrRegisterInvalid", method: "POST", path: "/api/auth/register", body: `{"email":"nope","password":"short","name":""}`, wantStatus: 400, req: specRejects},
		{name: "ErrRegisterUnknownField", method: "POST", path: "/api/auth/register", body: `{"email":"c@example.com","password":"long-enough","name":"C","admin":true}`, wantStatus: 400, req: specRejects},
		{name: "ErrRegisterNotJSON", method: "POST", path: "/api/auth/register", body: annReg, header: map[string]string{"Content-Type": "text/plain"}, wantStatus: 415, req: specRejects},
		{name: "ErrRegisterTooLarge", method: "POST", path: "/api/auth/register", body: big, wantStatus: 413, req: specRejects},
		{name: "LoginTokenMode", method: "POST", path: "/api/auth/login", body: annPW, header: tokenMode, wantStatus: 200, capture: grantOf("ann")},
		{name: "LoginCookieMode", method: "POST", path: "/api/auth/login", body: annPW, wantStatus: 200, capture: grantOf("ann-browser")},
		{name: "ErrLoginWrongPassword", method: "POST", path: "/api/auth/login", body: `{"email":"ann@example.com","password":"wrong-password"}`, wantStatus: 401},
		{name: "ErrLoginMissingPassword", method: "POST", path: "/api/auth/login", body: `{"email":"ann@example.com"}`, wantStatus: 400, req: specRejects},
		{name: "RefreshTokenMode", method: "POST", path: "/api/auth/refresh", body: `{"refreshToken":"{ann.refresh}"}`, header: tokenMode, wantStatus: 200, capture: grantOf("ann")},
		// The rotated token again, within the grace window: it lost a race.
		{name: "ErrRefreshRaced", method: "POST", path: "/api/auth/refresh", body: `{"refreshToken":"{ann.refresh.old}"}`, header: tokenMode, wantStatus: 409},
		{name: "RefreshRacedRetry", method: "POST", path: "/api/auth/refresh", body: `{"refreshToken":"{ann.refresh}","raced":true}`, header: tokenMode, wantStatus: 200, capture: grantOf("ann")},
		{name: "ErrRefreshNoToken", method: "POST", path: "/api/auth/refresh", body: `{}`, header: tokenMode, wantStatus: 400},
		{name: "ErrRefreshBadMode", method: "POST", path: "/api/auth/refresh", body: `{}`, header: map[string]string{"X-Auth-Mode": "json"}, wantStatus: 400, req: specRejects},
		{name: "RefreshCookie", method: "POST", path: "/api/auth/refresh", body: `{}`, cookie: "ann-browser.cookie", wantStatus: 200, capture: grantOf("ann-browser")},
		{name: "ErrRefreshNoCookie", method: "POST", path: "/api/auth/refresh", body: `{}`, wantStatus: 401},
		{name: "ErrRefreshNotJSON", method: "POST", path: "/api/auth/refresh", cookie: "ann-browser.cookie", header: map[string]string{"Content-Type": "text/plain"}, body: `x`, wantStatus: 415, req: specRejects},
		{name: "Sessions", method: "GET", path: "/api/auth/sessions", as: "ann", wantStatus: 200, capture: func(t *testing.T, s *scenario, _ *http.Response, b []byte) {
			var l struct {
				Items []struct {
					ID      string `json:"id"`
					Current bool   `json:"current"`
				} `json:"items"`
			}
			mustDecode(t, b, &l)
			for _, it := range l.Items {
				if !it.Current {
					s.vars["other-session"] = it.ID
				}
			}
		}},
		{name: "ErrSessionsNoToken", method: "GET", path: "/api/auth/sessions", wantStatus: 401, req: specRejects},
		{name: "ErrSessionsBadToken", method: "GET", path: "/api/auth/sessions", header: map[string]string{"Authorization": "Bearer not.a.jwt"}, wantStatus: 401},
		{name: "RevokeSession", method: "DELETE", path: "/api/auth/sessions/{other-session}", as: "ann", wantStatus: 204},
		{name: "ErrRevokeUnknownSession", method: "DELETE", path: "/api/auth/sessions/no-such-session", as: "ann", wantStatus: 404},
		{name: "LogoutTokenMode", method: "POST", path: "/api/auth/logout", body: `{"refreshToken":"{ann.refresh}"}`, header: tokenMode, wantStatus: 204},
		{name: "LogoutCookie", method: "POST", path: "/api/auth/logout", body: `{}`, cookie: "ann-browser.cookie", wantStatus: 204},
		{name: "ErrLogoutBadMode", method: "POST", path: "/api/auth/logout", body: `{}`, header: map[string]string{"X-Auth-Mode": "cookie"}, wantStatus: 400, req: specRejects},
		{name: "ErrLogoutNotJSON", method: "POST", path: "/api/auth/logout", body: `x`, header: map[string]string{"Content-Type": "text/plain"}, wantStatus: 415, req: specRejects},
		{name: "LoginAgain", method: "POST", path: "/api/auth/login", body: annPW, header: tokenMode, wantStatus: 200, capture: grantOf("ann")},

		// Profile.
		{name: "Profile", method: "GET", path: "/api/me", as: "ann", wantStatus: 200},
		{name: "ErrProfileNoToken", method: "GET", path: "/api/me", wantStatus: 401, req: specRejects},
		{name: "UpdateProfile", method: "PATCH", path: "/api/me", as: "ann", body: `{"name":"Ann B."}`, wantStatus: 200},
		{name: "ErrUpdateProfileEmail", method: "PATCH", path: "/api/me", as: "ann", body: `{"email":"bob@example.com"}`, wantStatus: 400},
		{name: "ErrUpdateProfileType", method: "PATCH", path: "/api/me", as: "ann", body: `{"name":5}`, wantStatus: 400, req: specRejects},
		{name: "ErrUpdateProfileNotJSON", method: "PATCH", path: "/api/me", as: "ann", body: `x`, header: map[string]string{"Content-Type": "text/plain"}, wantStatus: 415, req: specRejects},
		{name: "ErrUpdateProfileTooLarge", method: "PATCH", path: "/api/me", as: "ann", body: big, wantStatus: 413, req: specRejects},
		{name: "ErrChangePasswordWrong", method: "POST", path: "/api/me/password", as: "ann", body: `{"currentPassword":"not-it-at-all","newPassword":"ann-password-2"}`, wantStatus: 403},
		{name: "ErrChangePasswordShort", method: "POST", path: "/api/me/password", as: "ann", body: `{"currentPassword":"ann-password-1","newPassword":"short"}`, wantStatus: 400, req: specRejects},
		{name: "ChangePassword", method: "POST", path: "/api/me/password", as: "ann", body: `{"currentPassword":"ann-password-1","newPassword":"ann-password-2"}`, wantStatus: 204},

		// Tasks.
		{name: "CreateTask", method: "POST", path: "/api/tasks", as: "ann", header: map[string]string{"X-Client-ID": "tab-1"},
			body: `{"title":"Write the spec","description":"all of it","priority":"high","dueDate":"2030-01-02T03:04:05Z","tags":["docs","api"]}`, wantStatus: 201,
			capture: keep("task", field("id"))},
		{name: "CreateMinimalTask", method: "POST", path: "/api/tasks", as: "ann", body: `{"title":"Plain"}`, wantStatus: 201},
		{name: "CreateTaskIdempotent", method: "POST", path: "/api/tasks", as: "ann", header: map[string]string{"Idempotency-Key": `"8e03978e-40d5-43e8-bc93-6894a57f9324"`},
			body: `{"title":"Once"}`, wantStatus: 201},
		{name: "CreateTaskIdempotentReplay", method: "POST", path: "/api/tasks", as: "ann", header: map[string]string{"Idempotency-Key": `8e03978e-40d5-43e8-bc93-6894a57f9324`},
			body: `{"title":"Once"}`, wantStatus: 201, capture: func(t *testing.T, _ *scenario, resp *http.Response, _ []byte) {
				if resp.Header.Get("Idempotent-Replayed") != "true" {
					t.Errorf("replay not marked: %v", resp.Header)
				}
			}},
		{name: "ErrCreateTaskKeyReused", method: "POST", path: "/api/tasks", as: "ann", header: map[string]string{"Idempotency-Key": `"8e03978e-40d5-43e8-bc93-6894a57f9324"`},
			body: `{"title":"Twice?"}`, wantStatus: 422},
		{name: "ErrCreateTaskBadKey", method: "POST", path: "/api/tasks", as: "ann", header: map[string]string{"Idempotency-Key": `"two words"`},
			body: `{"title":"x"}`, wantStatus: 400, req: specRejects},
		{name: "ErrCreateTaskNoTitle", method: "POST", path: "/api/tasks", as: "ann", body: `{"description":"x"}`, wantStatus: 400, req: specRejects},
		{name: "ErrCreateTaskBlankTitle", method: "POST", path: "/api/tasks", as: "ann", body: `{"title":"   "}`, wantStatus: 400},
		{name: "ErrCreateTaskBadDue", method: "POST", path: "/api/tasks", as: "ann", body: `{"title":"x","dueDate":"tomorrow"}`, wantStatus: 400, req: specRejects},
		{name: "ErrCreateTaskBadClientID", method: "POST", path: "/api/tasks", as: "ann", header: map[string]string{"X-Client-ID": "no spaces"}, body: `{"title":"x"}`, wantStatus: 400, req: specRejects},
		{name: "ErrCreateTaskNotJSON", method: "POST", path: "/api/tasks", as: "ann", body: `x`, header: map[string]string{"Content-Type": "text/plain"}, wantStatus: 415, req: specRejects},
		{name: "ErrCreateTaskTooLarge", method: "POST", path: "/api/tasks", as: "ann", body: big, wantStatus: 413, req: specRejects},
		{name: "ErrCreateTaskNoToken", method: "POST", path: "/api/tasks", body: `{"title":"x"}`, wantStatus: 401, req: specRejects},
		{name: "ListTasks", method: "GET", path: "/api/tasks", as: "ann", wantStatus: 200},
		{name: "ListTasksFiltered", method: "GET", as: "ann", wantStatus: 200,
			path: "/api/tasks?q=spec&status=todo&priority=high&tag=docs&dueBefore=2031-01-01T00:00:00Z&dueAfter=2029-01-01T00:00:00Z&sort=due&order=asc&limit=1"},
		{name: "ListTasksPaged", method: "GET", path: "/api/tasks?limit=1", as: "ann", wantStatus: 200, capture: keep("cursor", field("nextCursor"))},
		{name: "ListTasksNextPage", method: "GET", path: "/api/tasks?limit=1&cursor={cursor}", as: "ann", wantStatus: 200},
		{name: "ErrListTasksLimit", method: "GET", path: "/api/tasks?limit=500", as: "ann", wantStatus: 400, req: specRejects},
		{name: "ErrListTasksSort", method: "GET", path: "/api/tasks?sort=colour", as: "ann", wantStatus: 400, req: specRejects},
		{name: "ErrListTasksUnknownParam", method: "GET", path: "/api/tasks?stauts=done", as: "ann", wantStatus: 400, req: specSilent},
		{name: "ErrListTasksNoToken", method: "GET", path: "/api/tasks", wantStatus: 401, req: specRejects},
		{name: "TaskStats", method: "GET", path: "/api/tasks/stats", as: "ann", wantStatus: 200},
		{name: "ErrTaskStatsNoToken", method: "GET", path: "/api/tasks/stats", wantStatus: 401, req: specRejects},
		{name: "GetTask", method: "GET", path: "/api/tasks/{task}", as: "ann", wantStatus: 200},
		{name: "GetTaskNotModified", method: "GET", path: "/api/tasks/{task}", as: "ann", header: map[string]string{"If-None-Match": `"1"`}, wantStatus: 304},
		{name: "ErrGetTaskOtherUser", method: "GET", path: "/api/tasks/{task}", as: "bob", wantStatus: 404},
		{name: "ErrGetTaskNoToken", method: "GET", path: "/api/tasks/{task}", wantStatus: 401, req: specRejects},
		{name: "UpdateTask", method: "PATCH", path: "/api/tasks/{task}", as: "ann", header: map[string]string{"If-Match": `"1"`}, body: `{"status":"done","dueDate":null}`, wantStatus: 200},
		{name: "ErrUpdateTaskStale", method: "PATCH", path: "/api/tasks/{task}", as: "ann", header: map[string]string{"If-Match": `"1"`}, body: `{"title":"late"}`, wantStatus: 412},
		{name: "ErrUpdateTaskBadIfMatch", method: "PATCH", path: "/api/tasks/{task}", as: "ann", header: map[string]string{"If-Match": "yesterday"}, body: `{"title":"x"}`, wantStatus: 400},
		{name: "ErrUpdateTaskEmpty", method: "PATCH", path: "/api/tasks/{task}", as: "ann", body: `{}`, wantStatus: 400, req: specRejects},
		{name: "ErrUpdateTaskStatus", method: "PATCH", path: "/api/tasks/{task}", as: "ann", body: `{"status":"someday"}`, wantStatus: 400, req: specRejects},
		{name: "ErrUpdateTaskOtherUser", method: "PATCH", path: "/api/tasks/{task}", as: "bob", body: `{"title":"mine now"}`, wantStatus: 404},
		{name: "ErrUpdateTaskNotJSON", method: "PATCH", path: "/api/tasks/{task}", as: "ann", body: `x`, header: map[string]string{"Content-Type": "text/plain"}, wantStatus: 415, req: specRejects},
		{name: "ErrUpdateTaskTooLarge", method: "PATCH", path: "/api/tasks/{task}", as: "ann", body: big, wantStatus: 413, req: specRejects},
		{name: "ErrUpdateTaskNoToken", method: "PATCH", path: "/api/tasks/{task}", body: `{"title":"x"}`, wantStatus: 401, req: specRejects},
		{name: "ErrDeleteTaskStale", method: "DELETE", path: "/api/tasks/{task}", as: "ann", header: map[string]string{"If-Match": `"1"`}, wantStatus: 412},
		{name: "ErrDeleteTaskBadIfMatch", method: "DELETE", path: "/api/tasks/{task}", as: "ann", header: map[string]string{"If-Match": "v2"}, wantStatus: 400},
		{name: "ErrDeleteTaskNoToken", method: "DELETE", path: "/api/tasks/{task}", wantStatus: 401, req: specRejects},
		{name: "DeleteTask", method: "DELETE", path: "/api/tasks/{task}", as: "ann", header: map[string]string{"If-Match": `"2"`}, wantStatus: 204},
		{name: "ErrDeleteTaskGone", method: "DELETE", path: "/api/tasks/{task}", as: "ann", wantStatus: 404},
		{name: "ErrRestoreTaskOtherUser", method: "POST", path: "/api/tasks/{task}/restore", as: "bob", wantStatus: 404},
		{name: "ErrRestoreTaskNoToken", method: "POST", path: "/api/tasks/{task}/restore", wantStatus: 401, req: specRejects},
		{name: "RestoreTask", method: "POST", path: "/api/tasks/{task}/restore", as: "ann", header: map[string]string{"X-Client-ID": "tab-1"}, wantStatus: 200},
		{name: "ErrRestoreTaskNotDeleted", method: "POST", path: "/api/tasks/{task}/restore", as: "ann", wantStatus: 409},

		// Rate limit: the per-account limiter allows 7 sign-in attempts.
		{name: "ErrLoginWrong1", method: "POST", path: "/api/auth/login", body: `{"email":"eve@example.com","password":"guess-number-1"}`, wantStatus: 401},
		{name: "ErrLoginWrong2", method: "POST", path: "/api/auth/login", body: `{"email":"eve@example.com","password":"guess-number-2"}`, wantStatus: 401},
		{name: "ErrLoginWrong3", method: "POST", path: "/api/auth/login", body: `{"email":"eve@example.com","password":"guess-number-3"}`, wantStatus: 401},
		{name: "ErrLoginWrong4", method: "POST", path: "/api/auth/login", body: `{"email":"eve@example.com","password":"guess-number-4"}`, wantStatus: 401},
		{name: "ErrLoginWrong5", method: "POST", path: "/api/auth/login", body: `{"email":"eve@example.com","password":"guess-number-5"}`, wantStatus: 401},
		{name: "ErrLoginWrong6", method: "POST", path: "/api/auth/login", body: `{"email":"eve@example.com","password":"guess-number-6"}`, wantStatus: 401},
		{name: "ErrLoginWrong7", method: "POST", path: "/api/auth/login", body: `{"email":"eve@example.com","password":"guess-number-7"}`, wantStatus: 401},
		{name: "ErrLoginRateLimited", method: "POST", path: "/api/auth/login", body: `{"email":"eve@example.com","password":"guess-number-8"}`, wantStatus: 429},

		// Accounts: the mailed links, with tokens read from what the SMTP server received.
		{name: "RegisterCat", method: "POST", path: "/api/auth/register", body: `{"email":"cat@example.com","password":"cat-password-1","name":"Cat"}`, header: tokenMode, wantStatus: 201, capture: grantOf("cat")},
		{name: "ResendVerification", method: "POST", path: "/api/auth/verify-email/resend", as: "cat", wantStatus: 202,
			capture: mailedToken(a, "verify", "cat@example.com", "Confirm your email address", "/verify-email")},
		{name: "ErrResendVerificationNoToken", method: "POST", path: "/api/auth/verify-email/resend", wantStatus: 401, req: specRejects},
		{name: "VerifyEmail", method: "POST", path: "/api/auth/verify-email", body: `{"token":"{verify}"}`, wantStatus: 204},
		{name: "ErrVerifyEmailUsed", method: "POST", path: "/api/auth/verify-email", body: `{"token":"{verify}"}`, wantStatus: 400},
		{name: "ErrVerifyEmailNoToken", method: "POST", path: "/api/auth/verify-email", body: `{}`, wantStatus: 400, req: specRejects},
		{name: "ErrChangeEmailWrongPassword", method: "POST", path: "/api/me/email", as: "cat", body: `{"newEmail":"kit@example.com","password":"not-cats-password"}`, wantStatus: 403},
		{name: "ErrChangeEmailTaken", method: "POST", path: "/api/me/email", as: "cat", body: `{"newEmail":"bob@example.com","password":"cat-password-1"}`, wantStatus: 409},
		{name: "ErrChangeEmailNoToken", method: "POST", path: "/api/me/email", body: `{"newEmail":"kit@example.com","password":"cat-password-1"}`, wantStatus: 401, req: specRejects},
		{name: "ChangeEmail", method: "POST", path: "/api/me/email", as: "cat", body: `{"newEmail":"kit@example.com","password":"cat-password-1"}`, wantStatus: 202,
			capture: mailedToken(a, "confirm", "kit@example.com", "Confirm your new email address", "/confirm-email")},
		{name: "ConfirmEmailChange", method: "POST", path: "/api/auth/email/confirm", body: `{"token":"{confirm}"}`, wantStatus: 204,
			capture: mailedToken(a, "revert", "cat@example.com", "was changed", "/revert-email")},
		{name: "ErrConfirmEmailChangeUsed", method: "POST", path: "/api/auth/email/confirm", body: `{"token":"{confirm}"}`, wantStatus: 400},
		{name: "RevertEmailChange", method: "POST", path: "/api/auth/email/revert", body: `{"token":"{revert}"}`, wantStatus: 204},
		{name: "ErrRevertEmailChangeUsed", method: "POST", path: "/api/auth/email/revert", body: `{"token":"{revert}"}`, wantStatus: 400},
		{name: "ForgotPasswordUnknown", method: "POST", path: "/api/auth/password/forgot", body: `{"email":"nobody@example.com"}`, wantStatus: 202},
		{name: "ForgotPassword", method: "POST", path: "/api/auth/password/forgot", body: `{"email":"cat@example.com"}`, wantStatus: 202,
			capture: mailedToken(a, "reset", "cat@example.com", "Reset your Authdash password", "/reset-password")},
		{name: "ErrForgotPasswordInvalid", method: "POST", path: "/api/auth/password/forgot", body: `{"email":"not an address"}`, wantStatus: 400},
		{name: "CheckResetLink", method: "POST", path: "/api/auth/password/reset/check", body: `{"token":"{reset}"}`, wantStatus: 204},
		{name: "ErrCheckResetLinkNoToken", method: "POST", path: "/api/auth/password/reset/check", body: `{}`, wantStatus: 400, req: specRejects},
		{name: "ErrResetPasswordShort", method: "POST", path: "/api/auth/password/reset", body: `{"token":"{reset}","newPassword":"short"}`, wantStatus: 400, req: specRejects},
		{name: "ResetPassword", method: "POST", path: "/api/auth/password/reset", body: `{"token":"{reset}","newPassword":"cat-password-2"}`, wantStatus: 204},
		{name: "ErrResetPasswordUsed", method: "POST", path: "/api/auth/password/reset", body: `{"token":"{reset}","newPassword":"cat-password-3"}`, wantStatus: 400},
		{name: "ErrCheckResetLinkUsed", method: "POST", path: "/api/auth/password/reset/check", body: `{"token":"{reset}"}`, wantStatus: 400},

		// Two-factor sign-in and the sign-in activity, with codes computed as the app would.
		// Code checks share the per-account limit (6 here): this section makes exactly 6.
		{name: "RegisterDan", method: "POST", path: "/api/auth/register", body: `{"email":"dan@example.com","password":"dan-password-1","name":"Dan"}`, header: tokenMode, wantStatus: 201, capture: grantOf("dan")},
		{name: "MFAStatusOff", method: "GET", path: "/api/me/mfa", as: "dan", wantStatus: 200},
		{name: "ErrMFAStatusNoToken", method: "GET", path: "/api/me/mfa", wantStatus: 401, req: specRejects},
		{name: "ErrConfirmTOTPNotBegun", method: "POST", path: "/api/me/mfa/totp/confirm", as: "dan", body: `{"code":"123456"}`, wantStatus: 404},
		{name: "ErrBeginTOTPWrongPassword", method: "POST", path: "/api/me/mfa/totp", as: "dan", body: `{"password":"not-dans-password"}`, wantStatus: 403},
		{name: "ErrBeginTOTPNoPassword", method: "POST", path: "/api/me/mfa/totp", as: "dan", body: `{}`, wantStatus: 400, req: specRejects},
		{name: "BeginTOTP", method: "POST", path: "/api/me/mfa/totp", as: "dan", body: `{"password":"dan-password-1"}`, wantStatus: 200,
			capture: func(t *testing.T, s *scenario, _ *http.Response, b []byte) {
				secret := field("secret")(b, s)
				// This step's code confirms; the next step's signs in (a step is accepted once).
				s.vars["totp-now"] = totpCode(t, secret, time.Now())
				s.vars["totp-next"] = totpCode(t, secret, time.Now().Add(30*time.Second))
			}},
		{name: "ErrConfirmTOTPWrongCode", method: "POST", path: "/api/me/mfa/totp/confirm", as: "dan", body: `{"code":"000000"}`, wantStatus: 400},
		{name: "ErrConfirmTOTPNoCode", method: "POST", path: "/api/me/mfa/totp/confirm", as: "dan", body: `{}`, wantStatus: 400, req: specRejects},
		{name: "ConfirmTOTP", method: "POST", path: "/api/me/mfa/totp/confirm", as: "dan", body: `{"code":"{totp-now}"}`, wantStatus: 200,
			capture: func(t *testing.T, s *scenario, _ *http.Response, b []byte) {
				var rc struct{ RecoveryCodes []string }
				mustDecode(t, b, &rc)
				s.vars["recovery-0"], s.vars["recovery-1"] = rc.RecoveryCodes[0], rc.RecoveryCodes[1]
			}},
		{name: "ErrBeginTOTPAgain", method: "POST", path: "/api/me/mfa/totp", as: "dan", body: `{"password":"dan-password-1"}`, wantStatus: 409},
		{name: "LoginAsksForCode", method: "POST", path: "/api/auth/login", body: `{"email":"dan@example.com","password":"dan-password-1"}`, wantStatus: 200, capture: keep("mfa", field("mfaToken"))},
		{name: "ErrCompleteMFAWrongCode", method: "POST", path: "/api/auth/mfa", body: `{"mfaToken":"{mfa}","code":"000000"}`, wantStatus: 401},
		{name: "ErrCompleteMFANoCode", method: "POST", path: "/api/auth/mfa", body: `{"mfaToken":"{mfa}"}`, wantStatus: 400},
		{name: "ErrCompleteMFANoToken", method: "POST", path: "/api/auth/mfa", body: `{"code":"123456"}`, wantStatus: 400, req: specRejects},
		{name: "ErrCompleteMFANotJSON", method: "POST", path: "/api/auth/mfa", body: `x`, header: map[string]string{"Content-Type": "text/plain"}, wantStatus: 415, req: specRejects},
		{name: "CompleteMFA", method: "POST", path: "/api/auth/mfa", body: `{"mfaToken":"{mfa}","code":"{totp-next}"}`, header: tokenMode, wantStatus: 200, capture: grantOf("dan")},
		{name: "ErrCompleteMFASpent", method: "POST", path: "/api/auth/mfa", body: `{"mfaToken":"{mfa}","code":"{totp-next}"}`, wantStatus: 401},
		{name: "LoginAsksForCodeAgain", method: "POST", path: "/api/auth/login", body: `{"email":"dan@example.com","password":"dan-password-1"}`, wantStatus: 200, capture: keep("mfa", field("mfaToken"))},
		{name: "CompleteMFARecoveryCode", method: "POST", path: "/api/auth/mfa", body: `{"mfaToken":"{mfa}","recoveryCode":"{recovery-0}"}`, wantStatus: 200},
		// Passkeys, with an authenticator in the test: added, the second
		// factor of a sign-in, a sign-in alone, renamed, deleted.
		{name: "ListPasskeysNone", method: "GET", path: "/api/me/passkeys", as: "dan", wantStatus: 200},
		{name: "ErrListPasskeysNoToken", method: "GET", path: "/api/me/passkeys", wantStatus: 401, req: specRejects},
		{name: "BeginPasskey", method: "POST", path: "/api/me/passkeys/begin", as: "dan", wantStatus: 200, capture: func(t *testing.T, s *scenario, _ *http.Response, b []byte) {
			cred, key, err := authenticator.Create(b)
			if err != nil {
				t.Fatal(err)
			}
			s.vars["passkey.reg"], passkey = string(cred), key
		}},
		{name: "ErrBeginPasskeyNoToken", method: "POST", path: "/api/me/passkeys/begin", wantStatus: 401, req: specRejects},
		{name: "ErrFinishPasskeyNoName", method: "POST", path: "/api/me/passkeys/finish", as: "dan", body: `{"name":" ","credential":{passkey.reg}}`, wantStatus: 400},
		{name: "FinishPasskey", method: "POST", path: "/api/me/passkeys/finish", as: "dan", body: `{"name":"Laptop","credential":{passkey.reg}}`, wantStatus: 201, capture: keep("passkey", field("id"))},
		{name: "ErrFinishPasskeySpent", method: "POST", path: "/api/me/passkeys/finish", as: "dan", body: `{"name":"Laptop","credential":{passkey.reg}}`, wantStatus: 400},
		{name: "ErrFinishPasskeyNoToken", method: "POST", path: "/api/me/passkeys/finish", body: `{"name":"Laptop","credential":{passkey.reg}}`, wantStatus: 401, req: specRejects},
		{name: "ErrFinishPasskeyNotJSON", method: "POST", path: "/api/me/passkeys/finish", as: "dan", body: `x`, header: map[string]string{"Content-Type": "text/plain"}, wantStatus: 415, req: specRejects},
		{name: "RenamePasskey", method: "PATCH", path: "/api/me/passkeys/{passkey}", as: "dan", body: `{"name":"Work laptop"}`, wantStatus: 200},
		{name: "ErrRenamePasskeyUnknown", method: "PATCH", path: "/api/me/passkeys/AAAA", as: "dan", body: `{"name":"Work laptop"}`, wantStatus: 404},
		{name: "ErrRenamePasskeyNoName", method: "PATCH", path: "/api/me/passkeys/{passkey}", as: "dan", body: `{"name":""}`, wantStatus: 400},
		{name: "ListPasskeys", method: "GET", path: "/api/me/passkeys", as: "dan", wantStatus: 200},
		{name: "LoginOffersPasskey", method: "POST", path: "/api/auth/login", body: `{"email":"dan@example.com","password":"dan-password-1"}`, wantStatus: 200, capture: keep("mfa", field("mfaToken"))},
		{name: "ErrBeginPasskeyLoginBadToken", method: "POST", path: "/api/auth/passkey/begin", body: `{"mfaToken":"not-a-token"}`, wantStatus: 401},
		{name: "ErrBeginPasskeyLoginUnknownField", method: "POST", path: "/api/auth/passkey/begin", body: `{"token":"x"}`, wantStatus: 400, req: specRejects},
		{name: "BeginPasskeyLoginSecondFactor", method: "POST", path: "/api/auth/passkey/begin", body: `{"mfaToken":"{mfa}"}`, wantStatus: 200, capture: signWith("passkey.mfa")},
		{name: "FinishPasskeyLoginSecondFactor", method: "POST", path: "/api/auth/passkey/finish", body: `{"mfaToken":"{mfa}","credential":{passkey.mfa}}`, header: tokenMode, wantStatus: 200, capture: grantOf("dan")},
		{name: "LoginOffersPasskeyAgain", method: "POST", path: "/api/auth/login", body: `{"email":"dan@example.com","password":"dan-password-1"}`, wantStatus: 200, capture: keep("mfa", field("mfaToken"))},
		{name: "ErrBeginMFAPasskeyNoToken", method: "POST", path: "/api/auth/mfa/passkey/begin", body: `{}`, wantStatus: 400, req: specRejects},
		{name: "ErrBeginMFAPasskeyBadToken", method: "POST", path: "/api/auth/mfa/passkey/begin", body: `{"mfaToken":"not-a-token"}`, wantStatus: 401},
		{name: "BeginMFAPasskey", method: "POST", path: "/api/auth/mfa/passkey/begin", body: `{"mfaToken":"{mfa}"}`, wantStatus: 200, capture: signWith("passkey.mfa2")},
		{name: "CompleteMFAPasskey", method: "POST", path: "/api/auth/mfa", body: `{"mfaToken":"{mfa}","passkey":{passkey.mfa2}}`, header: tokenMode, wantStatus: 200, capture: grantOf("dan")},
		{name: "BeginPasskeyLogin", method: "POST", path: "/api/auth/passkey/begin", wantStatus: 200, capture: signWith("passkey.alone")},
		{name: "FinishPasskeyLogin", method: "POST", path: "/api/auth/passkey/finish", body: `{"credential":{passkey.alone}}`, wantStatus: 200},
		{name: "ErrFinishPasskeyLoginSpent", method: "POST", path: "/api/auth/passkey/finish", body: `{"credential":{passkey.alone}}`, wantStatus: 400},
		{name: "ErrFinishPasskeyLoginNoCredential", method: "POST", path: "/api/auth/passkey/finish", body: `{}`, wantStatus: 400, req: specRejects},
		{name: "ErrFinishPasskeyLoginNotJSON", method: "POST", path: "/api/auth/passkey/finish", body: `x`, header: map[string]string{"Content-Type": "text/plain"}, wantStatus: 415, req: specRejects},
		{name: "SignInActivity", method: "GET", path: "/api/me/activity", as: "dan", wantStatus: 200},
		{name: "ErrSignInActivityNoToken", method: "GET", path: "/api/me/activity", wantStatus: 401, req: specRejects},
		{name: "DeletePasskey", method: "DELETE", path: "/api/me/passkeys/{passkey}", as: "dan", wantStatus: 204},
		{name: "ErrDeletePasskeyGone", method: "DELETE", path: "/api/me/passkeys/{passkey}", as: "dan", wantStatus: 404},
		{name: "ErrPasskeyLoginDeleted", method: "POST", path: "/api/auth/passkey/begin", wantStatus: 200, capture: signWith("passkey.gone")},
		{name: "ErrFinishPasskeyLoginDeleted", method: "POST", path: "/api/auth/passkey/finish", body: `{"credential":{passkey.gone}}`, wantStatus: 401},
		{name: "ErrDisableTOTPWrongCode", method: "DELETE", path: "/api/me/mfa/totp", as: "dan", body: `{"password":"dan-password-1","code":"000000"}`, wantStatus: 403},
		{name: "ErrDisableTOTPNoCode", method: "DELETE", path: "/api/me/mfa/totp", as: "dan", body: `{"password":"dan-password-1"}`, wantStatus: 400, req: specRejects},
		{name: "DisableTOTP", method: "DELETE", path: "/api/me/mfa/totp", as: "dan", body: `{"password":"dan-password-1","code":"{recovery-1}"}`, wantStatus: 204},
		{name: "ErrDisableTOTPOff", method: "DELETE", path: "/api/me/mfa/totp", as: "dan", body: `{"password":"dan-password-1","code":"{recovery-1}"}`, wantStatus: 404},

		// Sign-in with an identity provider (a real one, in the test process).
		{name: "OIDCProviders", method: "GET", path: "/api/auth/oidc/providers", wantStatus: 200},
		{name: "ErrStartOIDCUnknown", method: "GET", path: "/api/auth/oidc/nope/start", wantStatus: 404},
		{name: "ErrStartOIDCUnknownPage", method: "GET", path: "/api/auth/oidc/nope/start", header: page, wantStatus: 303},
		{name: "ErrStartOIDCElsewhere", method: "GET", path: "/api/auth/oidc/test/start?return=%2F%2Fevil.example", wantStatus: 400},
		{name: "StartOIDC", method: "GET", path: "/api/auth/oidc/test/start?return=/", wantStatus: 302, capture: a.authorize("o1", olive, oidctest.SpoilNone, false)},
		{name: "FinishOIDC", method: "GET", path: "{o1.callback}", cookie: "o1.cookie", wantStatus: 200, capture: grantOf("olive")},
		{name: "ErrFinishOIDCReplayed", method: "GET", path: "{o1.callback}", cookie: "o1.cookie", wantStatus: 400},
		{name: "ErrFinishOIDCReplayedPage", method: "GET", path: "{o1.callback}", cookie: "o1.cookie", header: page, wantStatus: 303},
		{name: "StartOIDCBadNonce", method: "GET", path: "/api/auth/oidc/test/start", wantStatus: 302, capture: a.authorize("o2", olive, oidctest.SpoilNonce, false)},
		{name: "ErrFinishOIDCBadNonce", method: "GET", path: "{o2.callback}", cookie: "o2.cookie", wantStatus: 401},
		{name: "StartOIDCDenied", method: "GET", path: "/api/auth/oidc/test/start", wantStatus: 302, capture: a.authorize("o3", olive, oidctest.SpoilNone, true)},
		{name: "ErrFinishOIDCDenied", method: "GET", path: "{o3.callback}", cookie: "o3.cookie", wantStatus: 403},
		{name: "StartOIDCBobsEmail", method: "GET", path: "/api/auth/oidc/test/start", wantStatus: 302,
			capture: a.authorize("o4", oidctest.Person{Subject: "b-1", Email: "bob@example.com", EmailVerified: true}, oidctest.SpoilNone, false)},
		{name: "FinishOIDCLinkSent", method: "GET", path: "{o4.callback}", cookie: "o4.cookie", wantStatus: 202,
			capture: mailedToken(a, "oidclink", "bob@example.com", "Connect Test", "/oidc/link")},
		{name: "ConfirmOIDCLink", method: "POST", path: "/api/auth/oidc/link", body: `{"token":"{oidclink}"}`, header: tokenMode, wantStatus: 200, capture: grantOf("bob")},
		{name: "ErrConfirmOIDCLinkSpent", method: "POST", path: "/api/auth/oidc/link", body: `{"token":"{oidclink}"}`, wantStatus: 400},
		{name: "ListIdentities", method: "GET", path: "/api/me/identities", as: "bob", wantStatus: 200, capture: keep("bob.identity", firstItem)},
		{name: "ListIdentitiesOlive", method: "GET", path: "/api/me/identities", as: "olive", wantStatus: 200, capture: keep("olive.identity", firstItem)},
		{name: "ErrListIdentitiesNoToken", method: "GET", path: "/api/me/identities", wantStatus: 401, req: specRejects},
		{name: "LinkIdentity", method: "POST", path: "/api/me/identities/test/link", as: "olive", wantStatus: 200,
			capture: a.authorize("o5", oidctest.Person{Subject: "b-1", Email: "bob@example.com", EmailVerified: true}, oidctest.SpoilNone, false)},
		{name: "ErrFinishOIDCTaken", method: "GET", path: "{o5.callback}", cookie: "o5.cookie", wantStatus: 409},
		{name: "ErrLinkIdentityUnknown", method: "POST", path: "/api/me/identities/nope/link", as: "olive", wantStatus: 404},
		{name: "ErrUnlinkIdentityOnlyWay", method: "DELETE", path: "/api/me/identities/{olive.identity}", as: "olive", wantStatus: 409},
		{name: "UnlinkIdentity", method: "DELETE", path: "/api/me/identities/{bob.identity}", as: "bob", wantStatus: 204},
		{name: "ErrUnlinkIdentityGone", method: "DELETE", path: "/api/me/identities/{bob.identity}", as: "bob", wantStatus: 404},

		// Ending things.
		{name: "LogoutAll", method: "POST", path: "/api/auth/logout-all", as: "bob", wantStatus: 200},
		{name: "ErrLogoutAllNoToken", method: "POST", path: "/api/auth/logout-all", wantStatus: 401, req: specRejects},
		{name: "ErrDeleteAccountNoPassword", method: "DELETE", path: "/api/me", as: "ann", body: `{}`, wantStatus: 400, req: specRejects},
		{name: "ErrDeleteAccountWrongPassword", method: "DELETE", path: "/api/me", as: "ann", body: `{"password":"ann-password-1"}`, wantStatus: 403},
		{name: "ErrDeleteAccountNotJSON", method: "DELETE", path: "/api/me", as: "ann", body: `x`, header: map[string]string{"Content-Type": "text/plain"}, wantStatus: 415, req: specRejects},
		{name: "ErrDeleteAccountTooLarge", method: "DELETE", path: "/api/me", as: "ann", body: `{"password":"` + strings.Repeat("p", 2<<20) + `"}`, wantStatus: 413},
		{name: "DeleteAccount", method: "DELETE", path: "/api/me", as: "ann", body: `{"password":"ann-password-2"}`, wantStatus: 204},
		{name: "ErrProfileDeleted", method: "GET", path: "/api/me", as: "ann", wantStatus: 401},

		// Operations and documents.
		{name: "Healthz", method: "GET", path: "/healthz", wantStatus: 200},
		{name: "Readyz", method: "GET", path: "/readyz", wantStatus: 200, capture: func(*testing.T, *scenario, *http.Response, []byte) { a.unready.Store(true) }},
		{name: "ErrReadyzUnready", method: "GET", path: "/readyz", wantStatus: 503, capture: func(*testing.T, *scenario, *http.Response, []byte) { a.unready.Store(false) }},
		{name: "OpenAPI", method: "GET", path: "/api/openapi.json", wantStatus: 200},
		{name: "RealtimeSchema", method: "GET", path: "/api/realtime.schema.json", wantStatus: 200},
		{name: "ErrWebSocketNotUpgrade", method: "GET", path: "/api/ws", wantStatus: 426},
	})
	if t.Failed() {
		return
	}

	// Coverage: every operation answered with a success and, where it can
	// fail, an error; every documented status seen somewhere.
	notProvoked := map[int]bool{500: true, 503: true, 101: true} // server faults; the upgrade is tested in TestSocketMatchesSchema
	documented := map[int]bool{}
	seenAny := map[int]bool{}
	for path, item := range s.spec.doc.Paths.Map() {
		for method, op := range item.Operations() {
			var hasErr bool
			for code := range op.Responses.Map() {
				n, err := strconv.Atoi(code)
				if err != nil {
					t.Errorf("%s %s: response %q is not a status code", method, path, code)
					continue
				}
				documented[n] = true
				hasErr = hasErr || (n >= 400 && !notProvoked[n])
			}
			seen := s.seen[op.OperationID]
			var ok, failed bool
			for st := range seen {
				seenAny[st] = true
				ok = ok || st < 400
				failed = failed || st >= 400
			}
			if op.OperationID == "realtime" {
				continue
			}
			if !ok {
				t.Errorf("%s %s (%s): no success exercised", method, path, op.OperationID)
			}
			if hasErr && !failed {
				t.Errorf("%s %s (%s): no error exercised", method, path, op.OperationID)
			}
		}
	}
	for st := range documented {
		if !seenAny[st] && !notProvoked[st] {
			t.Errorf("status %d is documented but never exercised", st)
		}
	}
}
