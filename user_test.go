package authdash_test

import (
	"strings"
	"testing"
	"time"

	"github.com/authdash/authdash"
)

func TestRegistrationValidate(t *testing.T) {
	tests := []struct {
		name      string
		reg       authdash.Registration
		wantField string
	}{
		{"OK", authdash.Registration{Email: " Ann@Example.COM ", Password: "correct horse", Name: "Ann"}, ""},
		{"OKUnicodePassword", authdash.Registration{Email: "a@b.co", Password: "pässwörd", Name: "A"}, ""},
		{"OKLongestPassword", authdash.Registration{Email: "a@b.co", Password: strings.Repeat("p", 128), Name: "A"}, ""},
		{"ErrEmailMissing", authdash.Registration{Password: "12345678", Name: "A"}, "email"},
		{"ErrEmailShape", authdash.Registration{Email: "not-an-email", Password: "12345678", Name: "A"}, "email"},
		{"ErrEmailNoDomainDot", authdash.Registration{Email: "a@localhost", Password: "12345678", Name: "A"}, "email"},
		{"ErrEmailDisplayName", authdash.Registration{Email: "Ann <a@b.co>", Password: "12345678", Name: "A"}, "email"},
		{"ErrPasswordShort", authdash.Registration{Email: "a@b.co", Password: "1234567", Name: "A"}, "password"},
		{"ErrPasswordLong", authdash.Registration{Email: "a@b.co", Password: strings.Repeat("p", 129), Name: "A"}, "password"},
		{"ErrNameMissing", authdash.Registration{Email: "a@b.co", Password: "12345678", Name: "  "}, "name"},
		{"ErrNameControl", authdash.Registration{Email: "a@b.co", Password: "12345678", Name: "A\x00B"}, "name"},
		{"ErrNameC1Control", authdash.Registration{Email: "a@b.co", Password: "12345678", Name: "A\u009bB"}, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.reg
			r.Normalize()
			err := r.Validate()
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				if r.Email != strings.ToLower(strings.TrimSpace(tt.reg.Email)) {
					t.Fatalf("email not normalised: %q", r.Email)
				}
				return
			}
			if _, ok := authdash.ErrorFieldsOf(err)[tt.wantField]; !ok {
				t.Fatalf("err = %v, want field %q", err, tt.wantField)
			}
		})
	}
}

func TestErrorHelpers(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		wantCode authdash.ErrorCode
		wantMsg  string
	}{
		{"Nil", nil, "", ""},
		{"Domain", authdash.Errorf(authdash.CodeNotFound, "Task not found."), authdash.CodeNotFound, "Task not found."},
		{"Wrapped", wrap(authdash.Errorf(authdash.CodeConflict, "Taken.")), authdash.CodeConflict, "Taken."},
		{"Foreign", errString("disk on fire"), authdash.CodeInternal, "Internal error."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := authdash.ErrorCodeOf(tt.err); got != tt.wantCode {
				t.Errorf("ErrorCodeOf = %q, want %q", got, tt.wantCode)
			}
			if got := authdash.ErrorMessageOf(tt.err); got != tt.wantMsg {
				t.Errorf("ErrorMessageOf = %q, want %q", got, tt.wantMsg)
			}
		})
	}
}

type errString string

func (e errString) Error() string { return string(e) }

type wrapped struct{ err error }

func (w wrapped) Error() string { return "ctx: " + w.err.Error() }
func (w wrapped) Unwrap() error { return w.err }

func wrap(err error) error { return wrapped{err} }

func TestRevocationRevokes(t *testing.T) {
	at := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	one := authdash.Revocation{User: "u1", Session: "s1", At: at}
	all := authdash.Revocation{User: "u1", At: at}
	allButS2 := authdash.Revocation{User: "u1", Keep: "s2", At: at}
	tests := []struct {
		name    string
		r       authdash.Revocation
		user    authdash.UserID
		session authdash.SessionID
		started time.Time
		want    bool
	}{
		{"SessionItself", one, "u1", "s1", at.Add(-time.Hour), true},
		{"SessionOther", one, "u1", "s2", at.Add(-time.Hour), false},
		{"SessionOtherUser", one, "u2", "s1", at.Add(-time.Hour), false},
		{"AllStartedBefore", all, "u1", "s3", at.Add(-time.Millisecond), true},
		{"AllStartedAt", all, "u1", "s3", at, false},
		{"AllStartedSameMillisecond", authdash.Revocation{User: "u1", At: at.Add(999 * time.Microsecond)}, "u1", "s3", at, false},
		{"AllStartedAfter", all, "u1", "s3", at.Add(time.Millisecond), false},
		{"AllOtherUser", all, "u2", "s3", at.Add(-time.Hour), false},
		{"AllButKept", allButS2, "u1", "s2", at.Add(-time.Hour), false},
		{"AllButKeptOther", allButS2, "u1", "s1", at.Add(-time.Hour), true},
		{"AllNoStart", all, "u1", "s1", time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.Revokes(tt.user, tt.session, tt.started); got != tt.want {
				t.Errorf("Revokes = %v, want %v", got, tt.want)
			}
		})
	}
}
