package wire

import (
	"fmt"
	"net/http"

	"github.com/authdash/authdash"
)

// Error kinds of the HTTP exchange itself. The domain never returns them:
// they say what is wrong with the request as HTTP, not with what it asks.
const (
	CodeUnsupportedMediaType authdash.ErrorCode = "unsupported_media_type"
	CodeMethodNotAllowed     authdash.ErrorCode = "method_not_allowed"
	// CodeUpgradeRequired: a plain request to the WebSocket endpoint.
	CodeUpgradeRequired authdash.ErrorCode = "upgrade_required"
)

// statusTable is the one table from error kind to HTTP status, read both
// ways: the server answers an error with StatusOf its code, and a client
// reads an answer that carries no code (a proxy's own error page) with
// CodeOf its status. A status change here is an API change.
//
// Every CodeInvalid is 400, validation failures included. 422 would tell
// "well-formed but unacceptable" from "malformed", but no client of ours
// branches on that difference: both carry "code": "invalid" and per-field
// messages in "errors", and one status keeps the table and the clients
// simple. (422 is the reused Idempotency-Key's.)
var statusTable = []struct {
	code   authdash.ErrorCode
	status int
}{
	{authdash.CodeInvalid, http.StatusBadRequest},
	{authdash.CodeUnauthorized, http.StatusUnauthorized},
	{authdash.CodeForbidden, http.StatusForbidden},
	{authdash.CodeNotFound, http.StatusNotFound},
	{CodeMethodNotAllowed, http.StatusMethodNotAllowed},
	{CodeUpgradeRequired, http.StatusUpgradeRequired},
	{authdash.CodeConflict, http.StatusConflict},
	{authdash.CodePreconditionFailed, http.StatusPreconditionFailed},
	// As the Idempotency-Key draft asks: the key is well-formed, but it
	// names another request.
	{authdash.CodeIdempotencyKeyReused, http.StatusUnprocessableEntity},
	{authdash.CodeTooLarge, http.StatusRequestEntityTooLarge},
	{CodeUnsupportedMediaType, http.StatusUnsupportedMediaType},
	{authdash.CodeRateLimited, http.StatusTooManyRequests},
	{authdash.CodeUnavailable, http.StatusServiceUnavailable},
	{authdash.CodeInternal, http.StatusInternalServerError},
}

// foreignStatus are statuses our server never sends but a proxy or gateway
// in front of it may; a client reads them as these kinds.
var foreignStatus = map[int]authdash.ErrorCode{
	http.StatusBadGateway:     authdash.CodeUnavailable,
	http.StatusGatewayTimeout: authdash.CodeUnavailable,
}

// StatusOf is the HTTP status of an error kind; an unknown kind is 500.
func StatusOf(code authdash.ErrorCode) int {
	for _, e := range statusTable {
		if e.code == code {
			return e.status
		}
	}
	return http.StatusInternalServerError
}

// CodeOf is the error kind an error status stands for when the answer
// does not say (CodeInternal for a status outside the table).
func CodeOf(status int) authdash.ErrorCode {
	for _, e := range statusTable {
		if e.status == status {
			return e.code
		}
	}
	if code, ok := foreignStatus[status]; ok {
		return code
	}
	return authdash.CodeInternal
}

// ProblemContentType is the media type of a Problem.
const ProblemContentType = "application/problem+json"

// Problem is the body of every error answer: an RFC 9457 problem details
// document. Type is about:blank, so Title is the status text; the stable,
// machine-readable kind is Code, Detail is safe to show, and Errors holds
// per-field messages. A client keeps it as the cause of the
// *authdash.Error it makes of the answer, so it is an error too.
type Problem struct {
	Type      string            `json:"type"`
	Title     string            `json:"title"`
	Status    int               `json:"status"`
	Detail    string            `json:"detail"`
	Instance  string            `json:"instance"`
	Code      string            `json:"code"`
	Errors    map[string]string `json:"errors,omitempty"`
	RequestID string            `json:"requestId,omitempty"`
}

func (p *Problem) Error() string {
	return fmt.Sprintf("api: %d %s (%s, request %s)", p.Status, p.Detail, p.Code, p.RequestID)
}

// How the refresh token travels: browsers get it in an HttpOnly cookie; an
// API client without a cookie jar sends HeaderAuthMode: AuthModeToken and
// gets it as Grant.RefreshToken, then sends it back in a RefreshRequest.
const (
	HeaderAuthMode = "X-Auth-Mode"
	AuthModeToken  = "token"
)

// SessionHintCookie is set with the refresh cookie (for as long) and
// cleared with it, but readable by page script and sent to every path
// (Path=/, SameSite=Lax). It holds no secret, only "1": that a refresh
// might succeed. Without it a page knows at once that nobody is signed in:
// the server sends a navigation to / straight to the sign-in page, and the
// app skips a session check that could only fail.
const SessionHintCookie = "authdash_session"

// HeaderIdempotencyKey carries the client's key for a POST /api/tasks it
// may send again (a Structured Field string): the server creates the task
// once and answers every repeat with the first answer.
const HeaderIdempotencyKey = "Idempotency-Key"

// HeaderClientID names the tab a request comes from, so the events it
// causes come back tagged as its own (authdash.Event.Origin).
const HeaderClientID = "X-Client-ID"

// Grant answers a sign-up, sign-in or refresh.
type Grant struct {
	User        *authdash.User `json:"user"`
	AccessToken string         `json:"accessToken"`
	ExpiresIn   int64          `json:"expiresIn"` // seconds
	// RefreshToken is set in token mode only.
	RefreshToken string `json:"refreshToken,omitempty"`
}

// RefreshRequest is the body of POST /api/auth/refresh and /logout in token
// mode; in cookie mode it may be empty, {} or {"raced":true}.
type RefreshRequest struct {
	RefreshToken string `json:"refreshToken,omitempty"`
	// Raced (refresh only) says the client's previous refresh was answered
	// 409 (it lost a race with another tab's) and this one presents the
	// token the winner set: if that token was installed moments ago it is
	// kept rather than replaced, so that every tab that lost gets in now.
	Raced bool `json:"raced,omitempty"`
}

// LogoutAllResult answers POST /api/auth/logout-all.
type LogoutAllResult struct {
	Ended int `json:"ended"`
}

// SessionList answers GET /api/auth/sessions.
type SessionList struct {
	Items []authdash.Session `json:"items"`
}

// PasswordConfirmation is the body of DELETE /api/me: an access token alone
// must not be able to delete an account.
type PasswordConfirmation struct {
	Password string `json:"password"`
}
