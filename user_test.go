package authdash_test

import (
	"strings"
	"testing"

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
