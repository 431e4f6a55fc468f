package mail_test

import (
	"context"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authdash/authdash/internal/testkit"
	"github.com/authdash/authdash/mail"
	"github.com/authdash/authdash/mail/mailtest"
)

const from = "Authdash <no-reply@authdash.test>"

func mustComposer(tb testing.TB) *mail.Composer {
	tb.Helper()
	u, _ := url.Parse("https://app.authdash.test")
	c, err := mail.NewComposer("Authdash", u)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func mustMessage(tb testing.TB, to string) mail.Message {
	tb.Helper()
	m, err := mustComposer(tb).Compose(mail.KindResetPassword, to, mail.Data{Name: "Ada", Token: "tok-123", Valid: 30 * time.Minute})
	if err != nil {
		tb.Fatal(err)
	}
	m.ID = "outbox-42"
	return m
}

func mustSender(tb testing.TB, srv *mailtest.Server, u *url.URL) mail.Sender {
	tb.Helper()
	s, err := mail.New(mail.Config{URL: u, From: from, RootCAs: srv.Roots, Timeout: 5 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestSMTP(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts mailtest.Options
	}{
		{"OKStartTLSWithLogin", mailtest.Options{Security: mailtest.StartTLS, User: "mailer", Password: "s3cret:/@"}},
		{"OKImplicitTLSWithLogin", mailtest.Options{Security: mailtest.Implicit, User: "mailer", Password: "pw"}},
		{"OKStartTLSWithoutLogin", mailtest.Options{Security: mailtest.StartTLS}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := mailtest.Start(t, tc.opts)
			m := mustMessage(t, "ada@example.com")
			if err := mustSender(t, srv, srv.URL()).Send(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			got := srv.Wait(t, 1, 5*time.Second)[0]
			if got.From != "no-reply@authdash.test" || len(got.To) != 1 || got.To[0] != "ada@example.com" {
				t.Errorf("envelope %q → %q", got.From, got.To)
			}
			if got.Subject != "Reset your Authdash password" {
				t.Errorf("subject %q", got.Subject)
			}
			link := "https://app.authdash.test/reset-password?token=tok-123"
			if !strings.Contains(got.Text, link) || !strings.Contains(got.HTML, `href="`+link+`"`) {
				t.Errorf("link missing:\ntext %s\nhtml %s", got.Text, got.HTML)
			}
			if id := got.Header.Get("Message-Id"); id != "<outbox-42@authdash.test>" {
				t.Errorf("Message-ID %q: a resend must carry the same one", id)
			}
			for _, h := range []string{"User-Agent", "X-Mailer"} {
				if v := got.Header.Get(h); v != "" {
					t.Errorf("%s: %q", h, v)
				}
			}
		})
	}
}

func TestSMTPErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		opts      mailtest.Options
		url       func(*mailtest.Server) *url.URL
		fail      int  // the server answers DATA with this code
		stop      bool // the server is gone
		permanent bool
	}{
		{name: "ErrNoSTARTTLSOffered", opts: mailtest.Options{Security: mailtest.NoTLS, User: "u", Password: "p"}},
		{name: "ErrWrongPassword", opts: mailtest.Options{User: "u", Password: "p"},
			url: func(s *mailtest.Server) *url.URL { u := s.URL(); u.User = url.UserPassword("u", "nope"); return u }},
		{name: "ErrTemporary", fail: 451},
		{name: "ErrPermanent", fail: 554, permanent: true},
		{name: "ErrServerGone", stop: true},
		{name: "ErrUntrustedCertificate",
			url: func(s *mailtest.Server) *url.URL { return s.URL() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := mailtest.Start(t, tc.opts)
			u := srv.URL()
			if tc.url != nil {
				u = tc.url(srv)
			}
			roots := srv.Roots
			if tc.name == "ErrUntrustedCertificate" {
				roots = nil // the system's roots do not know the test server's certificate
			}
			s, err := mail.New(mail.Config{URL: u, From: from, RootCAs: roots, Timeout: 2 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			srv.FailWith(tc.fail)
			if tc.stop {
				srv.Stop()
			}
			err = s.Send(context.Background(), mustMessage(t, "ada@example.com"))
			if err == nil {
				t.Fatal("sent")
			}
			if got := mail.Permanent(err); got != tc.permanent {
				t.Errorf("Permanent(%v) = %v, want %v", err, got, tc.permanent)
			}
			if n := len(srv.Messages()); n != 0 {
				t.Errorf("server received %d messages", n)
			}
		})
	}
}

func TestSMTPRecoversAfterRestart(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	s := mustSender(t, srv, srv.URL())
	srv.Stop()
	if err := s.Send(context.Background(), mustMessage(t, "a@example.com")); err == nil {
		t.Fatal("sent to a stopped server")
	}
	srv.Restart(t)
	if err := s.Send(context.Background(), mustMessage(t, "a@example.com")); err != nil {
		t.Fatal(err)
	}
	srv.Wait(t, 1, 5*time.Second)
}

func TestLogSender(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mail")
	log, logs := testkit.NewLogger(slog.LevelInfo)
	s, err := mail.New(mail.Config{From: from, Dir: dir, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	m := mustMessage(t, "ada@example.com")
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), m.Link) || !strings.Contains(logs.String(), `"level":"INFO"`) {
		t.Errorf("log lacks the link at info: %s", logs)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != 1 {
		t.Fatalf("eml files: %v", files)
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	got, err := mailtest.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != m.Subject || !strings.Contains(got.Text, m.Link) || !strings.Contains(got.HTML, m.Link) {
		t.Errorf("eml: %+v", got)
	}
	if !strings.Contains(filepath.Base(files[0]), "reset-password-outbox-42") {
		t.Errorf("file name %s", files[0])
	}
}

func TestNewRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  mail.Config
	}{
		{"ErrNoFrom", mail.Config{Dir: "x"}},
		{"ErrBadFrom", mail.Config{From: "not an address", Dir: "x"}},
		{"ErrNoDirWithoutSMTP", mail.Config{From: from}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := mail.New(tc.cfg); err == nil {
				t.Error("accepted")
			}
		})
	}
}

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		raw string
		ok  bool
	}{
		{"smtp://user:pass@mail.example.com:587", true},
		{"smtps://user:p%40ss@mail.example.com", true},
		{"smtp://mail.example.com", true},
		{"http://mail.example.com", false},
		{"smtp://", false},
		{"smtp://mail.example.com:99999", false},
		{"smtp://mail.example.com/path", false},
		{"smtp://mail.example.com?tls=off", false},
		{"mail.example.com:25", false},
	} {
		t.Run(tc.raw, func(t *testing.T) {
			_, err := mail.ParseURL(tc.raw)
			if (err == nil) != tc.ok {
				t.Errorf("err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
