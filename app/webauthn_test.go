package app

import (
	"errors"
	"strings"
	"testing"

	"github.com/authdash/authdash"
)

// TestPasskeyFailure: a failed WebAuthn request reads as what happened and
// what to do, never as the browser's developer-facing text, which stays
// the error's cause.
func TestPasskeyFailure(t *testing.T) {
	const raw = "The operation either timed out or was not allowed. See: https://www.w3.org/TR/webauthn-2/#sctn-privacy-considerations-client."
	tests := []struct {
		name string
		code authdash.ErrorCode
		says string
	}{
		{"NotAllowedError", authdash.CodeInvalid, "No passkey was used"},
		{"AbortError", authdash.CodeInvalid, "No passkey was used"},
		{"InvalidStateError", authdash.CodeConflict, "already holds a passkey"},
		{"SecurityError", authdash.CodeInvalid, "cannot be used at this address"},
		{"NotSupportedError", authdash.CodeInvalid, "cannot make the kind of passkey"},
		{"ConstraintError", authdash.CodeInvalid, "no screen lock"},
		{"UnknownError", authdash.CodeInvalid, "did not work on this device"},
		{"", authdash.CodeInvalid, "did not work on this device"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := passkeyFailure(tt.name, raw)
			msg := authdash.ErrorMessageOf(err)
			if got := authdash.ErrorCodeOf(err); got != tt.code {
				t.Errorf("code %q, want %q", got, tt.code)
			}
			if !strings.Contains(msg, tt.says) {
				t.Errorf("message %q, want it to say %q", msg, tt.says)
			}
			if strings.Contains(msg, "operation") || strings.Contains(msg, "w3.org") {
				t.Errorf("message %q shows the browser's text", msg)
			}
			if tt.name == "NotAllowedError" || tt.name == "AbortError" || tt.name == "" {
				return
			}
			if !strings.Contains(err.Error(), raw) || errors.Unwrap(err) == nil {
				t.Errorf("error %q does not keep the browser's text as its cause", err)
			}
		})
	}
}
