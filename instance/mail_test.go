package instance_test

import (
	"context"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/authdash/authdash/instance"
	"github.com/authdash/authdash/internal/testkit"
	"github.com/authdash/authdash/mail"
	"github.com/authdash/authdash/mail/mailtest"
)

// TestBuildSendsMail: an instance sends what its outbox holds over SMTP_URL and counts
// it; Close stops the worker with nothing left running.
func TestBuildSendsMail(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	t.Run("", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.Options{User: "u", Password: "p"})
		u := srv.URL()
		u.Host = strings.Replace(u.Host, "127.0.0.1", "localhost", 1) // the certificate names localhost too
		in, err := instance.Build(t.Context(), instance.Config{
			DataDir: t.TempDir(), Env: "dev", JWTSecret: testSecret, HashWait: time.Minute, StoreTimeout: time.Minute,
			SMTP: u, MailFrom: "Authdash <no-reply@authdash.test>", AppURL: mustURL(t, "https://tasks.example.com"),
		}, instance.Env{MailRootCAs: srv.Roots})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(in.Close)
		m, err := in.Composer.Compose(mail.KindResetPassword, "ann@example.com", mail.Data{Token: "tok", Valid: 30 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if err := in.Mail.Enqueue(context.Background(), m, time.Now().Add(30*time.Minute)); err != nil {
			t.Fatal(err)
		}
		got := srv.Last(t, "ann@example.com", "Reset your Authdash password", 10*time.Second)
		if _, err := got.Link("/reset-password"); err != nil || !strings.Contains(got.Text, "https://tasks.example.com/reset-password?token=tok") {
			t.Errorf("link: %v\n%s", err, got.Text)
		}
	})
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestBuildWritesMailWithoutSMTP: without SMTP_URL the message lands in the log, link
// included, and in DATA_DIR/mail as an .eml file, through the outbox.
func TestBuildWritesMailWithoutSMTP(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	dir := t.TempDir()
	log, logs := testkit.NewLogger(0)
	t.Run("", func(t *testing.T) {
		in, err := instance.Build(t.Context(), instance.Config{
			DataDir: dir, Env: "dev", JWTSecret: testSecret, HashWait: time.Minute, StoreTimeout: time.Minute,
		}, instance.Env{Log: log})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(in.Close)
		m, err := in.Composer.Compose(mail.KindVerifyEmail, "ann@example.com", mail.Data{Token: "tok", Valid: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if err := in.Mail.Enqueue(context.Background(), m, time.Time{}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for in.Mail.Stats().Sent == 0 {
			if time.Now().After(deadline) {
				t.Fatal("not written")
			}
			time.Sleep(5 * time.Millisecond) // the worker is the instance's own; nothing to wait on
		}
		files, _ := filepath.Glob(filepath.Join(dir, "mail", "*.eml"))
		if len(files) != 1 {
			t.Fatalf("eml files %v", files)
		}
		raw, _ := os.ReadFile(files[0])
		got, err := mailtest.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(got.Text, "http://localhost:8080/verify-email?token=tok") {
			t.Errorf("eml text %s", got.Text)
		}
		if !strings.Contains(logs.String(), "http://localhost:8080/verify-email?token=tok") {
			t.Errorf("log lacks the link: %s", logs)
		}
		rec := httptest.NewRecorder()
		in.Metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		if !strings.Contains(rec.Body.String(), `authdash_mail_attempts_total{kind="verify-email",result="sent"} 1`) {
			t.Error("metrics lack the sent message")
		}
	})
}
