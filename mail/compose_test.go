package mail_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authdash/authdash/mail"
)

func TestCompose(t *testing.T) {
	c := mustComposer(t)
	for _, tc := range []struct {
		kind     mail.Kind
		data     mail.Data
		subject  string
		link     string
		contains []string
	}{
		{mail.KindVerifyEmail, mail.Data{Token: "v1", Valid: 48 * time.Hour}, "Confirm your email address for Authdash",
			"https://app.authdash.test/verify-email?token=v1", []string{"48 hours", "to@example.com"}},
		{mail.KindResetPassword, mail.Data{Token: "r1", Valid: 30 * time.Minute}, "Reset your Authdash password",
			"https://app.authdash.test/reset-password?token=r1", []string{"30 minutes", "signs out every device"}},
		{mail.KindPasswordChanged, mail.Data{}, "Your Authdash password was changed",
			"https://app.authdash.test/forgot-password", []string{"signed out"}},
		{mail.KindConfirmEmail, mail.Data{Token: "c1", Valid: 24 * time.Hour, OldEmail: "old@example.com"}, "Confirm your new email address for Authdash",
			"https://app.authdash.test/confirm-email?token=c1", []string{"24 hours", "old@example.com"}},
		{mail.KindEmailChanged, mail.Data{Token: "u1", Valid: 72 * time.Hour, NewEmail: "new@example.com"}, "The email address of your Authdash account was changed",
			"https://app.authdash.test/revert-email?token=u1", []string{"72 hours", "new@example.com"}},
		{mail.KindNewSignIn, mail.Data{Device: "Firefox on Linux", IP: "203.0.113.9", At: time.Date(2026, 12, 4, 23, 5, 0, 0, time.UTC)},
			"New sign-in to your Authdash account", "https://app.authdash.test/forgot-password",
			[]string{"Firefox on Linux", "203.0.113.9", "4 December 2026 at 23:05 UTC", "to@example.com"}},
		{mail.KindTwoFactorOn, mail.Data{}, "Two-factor authentication is on for your Authdash account",
			"https://app.authdash.test/forgot-password", []string{"recovery codes", "to@example.com"}},
		{mail.KindTwoFactorOff, mail.Data{}, "Two-factor authentication was turned off for your Authdash account",
			"https://app.authdash.test/forgot-password", []string{"password alone", "to@example.com"}},
		{mail.KindLinkIdentity, mail.Data{Token: "l1", Valid: 30 * time.Minute, Provider: "Google"}, "Connect Google to your Authdash account?",
			"https://app.authdash.test/oidc/link?token=l1", []string{"30 minutes", "Google account", "nothing is connected without the link"}},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			m, err := c.Compose(tc.kind, "to@example.com", tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if m.Subject != tc.subject || m.Link != tc.link || m.Kind != tc.kind || m.To != "to@example.com" {
				t.Errorf("got %q %q %q %q", m.Subject, m.Link, m.Kind, m.To)
			}
			for _, part := range []string{m.Text, m.HTML} {
				for _, s := range append(tc.contains, tc.link, "Authdash") {
					if !strings.Contains(part, s) {
						t.Errorf("part lacks %q:\n%s", s, part)
					}
				}
			}
			if strings.Contains(m.Text, "<") {
				t.Errorf("markup in the plain part:\n%s", m.Text)
			}
			assertNoTracking(t, m.HTML, tc.link)
		})
	}
}

// assertNoTracking: nothing in the HTML loads on opening, and the only link is the action's.
func assertNoTracking(t *testing.T, html, link string) {
	t.Helper()
	for _, bad := range []string{"<img", "src=", "<link", "url(", "<script", "@import"} {
		if strings.Contains(strings.ToLower(html), bad) {
			t.Errorf("HTML has %q", bad)
		}
	}
	for _, m := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(html, -1) {
		if m[1] != link {
			t.Errorf("HTML links to %q, want only %q", m[1], link)
		}
	}
}

func TestComposeEscapes(t *testing.T) {
	c := mustComposer(t)
	m, err := c.Compose(mail.KindVerifyEmail, "a@example.com", mail.Data{Name: `O'Brien <script>alert(1)</script>`, Token: "a&b", Valid: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.HTML, "<script>") || !strings.Contains(m.HTML, "O&#39;Brien &lt;script&gt;") {
		t.Errorf("name not escaped in HTML:\n%s", m.HTML)
	}
	if !strings.Contains(m.Text, "Hello O'Brien <script>") {
		t.Errorf("plain part mangled the name:\n%s", m.Text)
	}
	if !strings.Contains(m.Text, "token=a%26b") || !strings.Contains(m.HTML, "token=a%26b") {
		t.Errorf("token not query-escaped: %s", m.Link)
	}
	if !strings.Contains(m.Text, "1 hour ") {
		t.Errorf("duration: %s", m.Text)
	}
}

func TestComposerLinkKeepsAppPath(t *testing.T) {
	u, _ := url.Parse("https://example.com/authdash/")
	c, err := mail.NewComposer("Authdash", u)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Link(mail.KindVerifyEmail, "t"); got != "https://example.com/authdash/verify-email?token=t" {
		t.Errorf("link %q", got)
	}
}

func TestNewComposerRefuses(t *testing.T) {
	rel, _ := url.Parse("/relative")
	for name, u := range map[string]*url.URL{"ErrNoURL": nil, "ErrRelativeURL": rel} {
		t.Run(name, func(t *testing.T) {
			if _, err := mail.NewComposer("Authdash", u); err == nil {
				t.Error("accepted")
			}
		})
	}
}
