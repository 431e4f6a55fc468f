package wire

import "github.com/authdash/authdash"

// CloseCode is a WebSocket close status. Ours follow centrifuge's ranges:
// 4000–4499 mean "reconnect (with backoff)", 4500–4999 mean "do not redial
// as you are": the session is over, or the access token must be refreshed
// first.
type CloseCode int

// Close codes the server sends. The values are part of the protocol and must
// never change.
const (
	// CloseSlowConsumer: the client fell too far behind the event stream.
	// Reconnect and resume.
	CloseSlowConsumer CloseCode = 4000
	// CloseGoingAway: the server is shutting down. Reconnect (another
	// instance will answer) and resume.
	CloseGoingAway CloseCode = 4001
	// CloseTooManyMessages: the client sent more frames than allowed per
	// minute. Reconnect after a backoff.
	CloseTooManyMessages CloseCode = 4002

	// CloseAuthFailed: no valid auth frame in time, or the token was
	// rejected. Refresh the access token before redialing; if refreshing
	// fails, sign in again.
	CloseAuthFailed CloseCode = 4500
	// CloseTokenExpired: the access token expired and no fresh one was sent.
	// Refresh, then redial and resume.
	CloseTokenExpired CloseCode = 4501
	// CloseSessionRevoked: this session was signed out (elsewhere, or by a
	// password change). Do not redial.
	CloseSessionRevoked CloseCode = 4502
	// CloseAccountDeleted: the account no longer exists. Do not redial.
	CloseAccountDeleted CloseCode = 4503
	// CloseOriginNotAllowed: the page's origin is not on the allow-list.
	CloseOriginNotAllowed CloseCode = 4504
	// CloseProtocolError: the client sent a frame that is not valid here.
	CloseProtocolError CloseCode = 4505
	// CloseTooManySockets: the account has as many sockets open as the
	// server allows (tabs and devices together). Do not redial on your own.
	CloseTooManySockets CloseCode = 4506
)

// The standard codes a client also meets (RFC 6455 §7.4.1).
const (
	CloseNormal          CloseCode = 1000
	CloseEndpointGone    CloseCode = 1001
	CloseAbnormal        CloseCode = 1006 // no close frame: the network dropped
	ClosePolicyViolation CloseCode = 1008
	CloseMessageTooBig   CloseCode = 1009
	CloseInternalError   CloseCode = 1011
)

// closeMeaning is the one table from close code to meaning.
var closeMeaning = []struct {
	code      CloseCode
	err       authdash.ErrorCode
	reconnect bool
	reason    string
}{
	{CloseSlowConsumer, authdash.CodeUnavailable, true, "client too slow"},
	{CloseGoingAway, authdash.CodeUnavailable, true, "server going away"},
	{CloseTooManyMessages, authdash.CodeRateLimited, true, "too many messages"},
	{CloseAuthFailed, authdash.CodeUnauthorized, false, "authentication failed"},
	{CloseTokenExpired, authdash.CodeUnauthorized, false, "access token expired"},
	{CloseSessionRevoked, authdash.CodeUnauthorized, false, "session revoked"},
	{CloseAccountDeleted, authdash.CodeNotFound, false, "account deleted"},
	{CloseOriginNotAllowed, authdash.CodeForbidden, false, "origin not allowed"},
	{CloseProtocolError, authdash.CodeInvalid, false, "protocol error"},
	{CloseTooManySockets, authdash.CodeRateLimited, false, "too many sockets"},
	{CloseNormal, "", false, "closed"},
	{CloseEndpointGone, authdash.CodeUnavailable, true, "going away"},
	{CloseAbnormal, authdash.CodeUnavailable, true, "connection lost"},
	{ClosePolicyViolation, authdash.CodeForbidden, false, "policy violation"},
	{CloseMessageTooBig, authdash.CodeTooLarge, false, "message too big"},
	{CloseInternalError, authdash.CodeInternal, true, "server error"},
}

// Meaning tells a client what a close means: the domain error kind to
// report ("" for a normal close) and whether to reconnect (after a backoff)
// as it is. A code it does not know is read by its range: 4000–4499
// reconnect, 4500–4999 do not, anything else is treated as a lost connection.
// CloseAuthFailed and CloseTokenExpired say "no" because the client must
// refresh its access token first; it may then redial.
func (c CloseCode) Meaning() (code authdash.ErrorCode, reconnect bool) {
	for _, m := range closeMeaning {
		if m.code == c {
			return m.err, m.reconnect
		}
	}
	switch {
	case c >= 4000 && c < 4500:
		return authdash.CodeUnavailable, true
	case c >= 4500 && c < 5000:
		return authdash.CodeUnauthorized, false
	}
	return authdash.CodeUnavailable, true
}

// Reason is the short text the server puts in the close frame.
func (c CloseCode) Reason() string {
	for _, m := range closeMeaning {
		if m.code == c {
			return m.reason
		}
	}
	return ""
}

// Err returns the close as a domain error, or nil for a normal close, so a
// client can branch on authdash.ErrorCodeOf like for any API error.
func (c CloseCode) Err() error {
	code, _ := c.Meaning()
	if code == "" {
		return nil
	}
	return &authdash.Error{Code: code, Message: closeMessage(c)}
}

func closeMessage(c CloseCode) string {
	switch c {
	case CloseSessionRevoked:
		return "You were signed out."
	case CloseAccountDeleted:
		return "This account was deleted."
	case CloseAuthFailed, CloseTokenExpired:
		return "Your session needs to be refreshed."
	case CloseOriginNotAllowed:
		return "This site may not open live updates."
	case CloseTooManyMessages:
		return "Too many messages; reconnecting shortly."
	case CloseTooManySockets:
		return "Live updates are open in too many tabs; close some and reload."
	}
	return "Live updates were interrupted."
}
