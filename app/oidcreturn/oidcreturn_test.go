package oidcreturn_test

import (
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/authdash/authdash/app/oidcreturn"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		name, query string
		want        oidcreturn.Outcome
	}{
		{"None", "", oidcreturn.Outcome{}},
		{"NoneOtherParams", "next=/profile", oidcreturn.Outcome{}},
		{"SecondFactor", "mfaToken=abc&methods=totp,passkey",
			oidcreturn.Outcome{Kind: oidcreturn.SecondFactor, MFAToken: "abc", Methods: []string{"totp", "passkey"}}},
		{"SecondFactorUnknownAndRepeatedMethods", "mfaToken=abc&methods=passkey,sms,%20totp%20,passkey",
			oidcreturn.Outcome{Kind: oidcreturn.SecondFactor, MFAToken: "abc", Methods: []string{"passkey", "totp"}}},
		{"SecondFactorNoMethodsMeansCode", "mfaToken=abc",
			oidcreturn.Outcome{Kind: oidcreturn.SecondFactor, MFAToken: "abc", Methods: []string{"totp"}}},
		{"ErrEmptyToken", "mfaToken=&methods=totp", oidcreturn.Outcome{}},
		{"ErrTokenTooLong", "mfaToken=" + strings.Repeat("x", 129), oidcreturn.Outcome{}},
		{"LinkSent", "oidc=link-sent", oidcreturn.Outcome{Kind: oidcreturn.LinkSent, Message: oidcreturn.LinkSentMessage}},
		{"Linked", "oidc=linked", oidcreturn.Outcome{Kind: oidcreturn.Linked, Message: oidcreturn.LinkedMessage}},
		{"FailedTaken", "oidcError=taken",
			oidcreturn.Outcome{Kind: oidcreturn.Failed, Slug: "taken", Message: oidcreturn.Message("taken")}},
		{"ErrOtherOIDCValue", "oidc=whatever", oidcreturn.Outcome{}},
		{"Failed", "oidcError=denied",
			oidcreturn.Outcome{Kind: oidcreturn.Failed, Slug: "denied", Message: oidcreturn.Message("denied")}},
		{"FailedWinsOverToken", "oidcError=state&mfaToken=abc",
			oidcreturn.Outcome{Kind: oidcreturn.Failed, Slug: "state", Message: oidcreturn.Message("state")}},
		{"FailedUnknownSlug", "oidcError=<script>",
			oidcreturn.Outcome{Kind: oidcreturn.Failed, Slug: "<script>", Message: oidcreturn.Message("nope")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			q, err := url.ParseQuery(c.query)
			if err != nil {
				t.Fatal(err)
			}
			if got := oidcreturn.Parse(q); !reflect.DeepEqual(got, c.want) {
				t.Errorf("Parse(%q) = %+v, want %+v", c.query, got, c.want)
			}
		})
	}
}

// TestMessage: every slug of the contract has words of its own, and none
// is the fallback's or another's.
func TestMessage(t *testing.T) {
	want := []string{"code", "denied", "email", "nonce", "provider", "state", "taken", "token"}
	if got := oidcreturn.Slugs(); !reflect.DeepEqual(got, want) {
		t.Fatalf("slugs %v, want the contract's %v", got, want)
	}
	fallback := oidcreturn.Message("")
	seen := map[string]string{}
	for _, s := range want {
		m := oidcreturn.Message(s)
		if m == fallback || m == "" {
			t.Errorf("%s: %q is the fallback", s, m)
		}
		if other, ok := seen[m]; ok {
			t.Errorf("%s says what %s says: %q", s, other, m)
		}
		seen[m] = s
	}
	for _, s := range []string{"", "STATE", "unknown", "<b>"} {
		if oidcreturn.Message(s) != fallback {
			t.Errorf("%q: %q, want the fallback", s, oidcreturn.Message(s))
		}
	}
}

func TestWithout(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"/signin?mfaToken=abc&methods=totp", "/signin"},
		{"/signin?oidcError=state&next=%2Fprofile", "/signin?next=%2Fprofile"},
		{"/signin?oidc=link-sent", "/signin"},
		{"/profile?oidc=linked", "/profile"},
		{"/signin", "/signin"},
	} {
		u, _ := url.Parse(c.in)
		if got := oidcreturn.Without(u).String(); got != c.want {
			t.Errorf("Without(%s) = %s, want %s", c.in, got, c.want)
		}
		if u.String() != c.in {
			t.Errorf("Without changed its argument to %s", u)
		}
	}
}

func TestStartURL(t *testing.T) {
	for _, c := range []struct{ name, base, start, back, want string }{
		{"SameOrigin", "", "/api/auth/oidc/google/start", "/", "/api/auth/oidc/google/start?return=%2F"},
		{"APIOrigin", "https://api.example.com/", "/api/auth/oidc/google/start", "/", "https://api.example.com/api/auth/oidc/google/start?return=%2F"},
		{"StartHasQuery", "", "/start?x=1", "/profile", "/start?x=1&return=%2Fprofile"},
		{"ErrBackElsewhere", "", "/s", "https://evil.example/", "/s?return=%2F"},
		{"ErrBackProtocolRelative", "", "/s", "//evil.example/", "/s?return=%2F"},
		{"EmptyBack", "", "/s", "", "/s?return=%2F"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := oidcreturn.StartURL(c.base, c.start, c.back); got != c.want {
				t.Errorf("StartURL = %s, want %s", got, c.want)
			}
		})
	}
}
