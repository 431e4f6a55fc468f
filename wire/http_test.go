package wire_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/wire"
)

// TestStatusTable reads the code <-> status table both ways: every kind the
// server can answer with comes back as itself from its status alone, and
// the statuses only a proxy sends are read as the kinds a client acts on.
func TestStatusTable(t *testing.T) {
	tests := []struct {
		code   authdash.ErrorCode
		status int
	}{
		{authdash.CodeInvalid, 400},
		{authdash.CodeUnauthorized, 401},
		{authdash.CodeForbidden, 403},
		{authdash.CodeNotFound, 404},
		{wire.CodeMethodNotAllowed, 405},
		{wire.CodeUpgradeRequired, 426},
		{authdash.CodeConflict, 409},
		{authdash.CodePreconditionFailed, 412},
		{authdash.CodeIdempotencyKeyReused, 422},
		{authdash.CodeTooLarge, 413},
		{wire.CodeUnsupportedMediaType, 415},
		{authdash.CodeRateLimited, 429},
		{authdash.CodeInternal, 500},
		{authdash.CodeUnavailable, 503},
	}
	for _, tt := range tests {
		t.Run(string(tt.code), func(t *testing.T) {
			if got := wire.StatusOf(tt.code); got != tt.status {
				t.Errorf("StatusOf(%s) = %d, want %d", tt.code, got, tt.status)
			}
			if got := wire.CodeOf(tt.status); got != tt.code {
				t.Errorf("CodeOf(%d) = %s, want %s", tt.status, got, tt.code)
			}
		})
	}
	for status, want := range map[int]authdash.ErrorCode{
		http.StatusBadGateway:     authdash.CodeUnavailable,
		http.StatusGatewayTimeout: authdash.CodeUnavailable,
		http.StatusTeapot:         authdash.CodeInternal,
	} {
		if got := wire.CodeOf(status); got != want {
			t.Errorf("CodeOf(%d) = %s, want %s", status, got, want)
		}
	}
	if got := wire.StatusOf("no_such_kind"); got != 500 {
		t.Errorf("StatusOf(unknown) = %d, want 500", got)
	}
}

// TestGrantTokenModeOnly: the refresh token appears in a grant only when
// set (token mode); a cookie-mode answer has no such member at all.
func TestGrantTokenModeOnly(t *testing.T) {
	for _, tt := range []struct {
		g    wire.Grant
		want string
	}{
		{wire.Grant{AccessToken: "a", ExpiresIn: 900}, `{"user":null,"accessToken":"a","expiresIn":900}`},
		{wire.Grant{AccessToken: "a", ExpiresIn: 900, RefreshToken: "r"}, `{"user":null,"accessToken":"a","expiresIn":900,"refreshToken":"r"}`},
	} {
		b, err := json.Marshal(tt.g)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tt.want {
			t.Errorf("%s, want %s", b, tt.want)
		}
	}
}
