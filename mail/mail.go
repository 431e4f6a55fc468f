// Package mail sends the product's email: over SMTP (SMTP_URL) with go-mail, or, without
// SMTP_URL, into the log and DATA_DIR/mail/*.eml so a developer finishes every flow with
// `make run` alone. It knows nothing of accounts: callers hand it a composed Message.
package mail

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is one composed email to one recipient.
type Message struct {
	// ID, when set, becomes the Message-ID's local part, so a message sent again after a
	// failure that might have delivered it carries the same ID and receivers can drop the copy.
	ID      string
	Kind    Kind // what the message is for (logs, .eml names)
	To      string
	Subject string
	Text    string // the plain-text part
	HTML    string // the HTML part
	// Link is the one action the message asks for (empty for a pure notice). The log
	// sender prints it, which is how a developer without SMTP follows a flow.
	Link string
}

// Sender delivers a message. An error may be temporary (try again later) or permanent
// (Permanent reports which); it never means the message was half sent to another recipient.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Config says how to send. With URL nil, New returns the log sender.
type Config struct {
	// URL is SMTP_URL: smtp://user:pass@host:587 (STARTTLS, required) or
	// smtps://user:pass@host:465 (TLS from the first byte).
	URL *url.URL
	// From is MAIL_FROM: "Authdash <no-reply@example.com>" or a bare address.
	From string
	// Dir is where the log sender writes its .eml files (DATA_DIR/mail).
	Dir string
	Log *slog.Logger
	// RootCAs, when set, replaces the system's roots for the SMTP server's certificate
	// (tests trust their own server this way).
	RootCAs *x509.CertPool
	// Timeout bounds one connection attempt and each SMTP command; 0 means 30 s.
	Timeout time.Duration
}

// ParseURL checks an SMTP_URL: the scheme, a host, and nothing we would silently ignore.
func ParseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("mail: SMTP_URL: %w", err)
	}
	if u.Scheme != "smtp" && u.Scheme != "smtps" {
		return nil, fmt.Errorf("mail: SMTP_URL: scheme %q: want smtp (STARTTLS) or smtps (implicit TLS)", u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, errors.New("mail: SMTP_URL: no host")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("mail: SMTP_URL: port %q", p)
		}
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("mail: SMTP_URL: only scheme, user, password, host and port are read")
	}
	return u, nil
}

// New returns the SMTP sender for cfg.URL, or the log sender when it is nil.
func New(cfg Config) (Sender, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("mail: MAIL_FROM %q: %w", cfg.From, err)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.URL == nil {
		if cfg.Dir == "" {
			return nil, errors.New("mail: no SMTP_URL and no directory for .eml files")
		}
		return &logSender{from: from, dir: cfg.Dir, log: cfg.Log}, nil
	}
	return newSMTP(cfg, from)
}

// smtpSender dials the server for every message: mail is rare (sign-ups, resets), and a
// held connection would only go stale between them.
type smtpSender struct {
	from   *mail.Address
	host   string
	opts   []gomail.Option
	scheme string
}

func newSMTP(cfg Config, from *mail.Address) (*smtpSender, error) {
	u := cfg.URL
	host := u.Hostname()
	tlsConf := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12, RootCAs: cfg.RootCAs}
	opts := []gomail.Option{gomail.WithTimeout(cfg.Timeout), gomail.WithTLSConfig(tlsConf)}
	port := 587
	switch u.Scheme {
	case "smtps":
		port = 465
		opts = append(opts, gomail.WithSSL())
	case "smtp":
		// Mandatory: a server (or a man in the middle) that does not offer STARTTLS gets
		// neither the password nor the reset links.
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		return nil, fmt.Errorf("mail: SMTP_URL: scheme %q", u.Scheme)
	}
	if p := u.Port(); p != "" {
		port, _ = strconv.Atoi(p)
	}
	opts = append(opts, gomail.WithPort(port))
	if u.User != nil {
		pw, _ := u.User.Password()
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(u.User.Username()), gomail.WithPassword(pw))
	}
	// Fail now on options go-mail refuses rather than at the first message.
	if _, err := gomail.NewClient(host, opts...); err != nil {
		return nil, fmt.Errorf("mail: SMTP client: %w", err)
	}
	return &smtpSender{from: from, host: host, opts: opts, scheme: u.Scheme}, nil
}

func (s *smtpSender) Send(ctx context.Context, m Message) error {
	msg, err := build(s.from, m)
	if err != nil {
		return err
	}
	c, err := gomail.NewClient(s.host, s.opts...)
	if err != nil {
		return fmt.Errorf("mail: SMTP client: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("mail: send %s to %s via %s: %w", m.Kind, m.To, s.scheme, err)
	}
	return nil
}

// Permanent reports whether an error from Send means that sending the message again cannot
// succeed: the server refused the sender, the recipient or the content with a 5xx answer.
// Anything else (no connection, a timeout, a 4xx, a refused login: configuration can be
// fixed) is worth another try.
func Permanent(err error) bool {
	var se *gomail.SendError
	if !errors.As(err, &se) || se.IsTemp() {
		return false
	}
	switch se.Reason {
	case gomail.ErrSMTPMailFrom, gomail.ErrSMTPRcptTo, gomail.ErrSMTPData, gomail.ErrSMTPDataClose:
		return se.ErrorCode() >= 500
	}
	return false
}

// build turns a Message into a MIME message: multipart/alternative, plain text first, no
// User-Agent or X-Mailer (they say nothing the recipient needs), nothing remote to load.
func build(from *mail.Address, m Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(from)
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("mail: recipient %q: %w", m.To, err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	id := m.ID
	if id == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	domain := "localhost"
	if at := strings.LastIndexByte(from.Address, '@'); at >= 0 {
		domain = from.Address[at+1:]
	}
	msg.SetMessageIDWithValue(id + "@" + domain)
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// logSender is the sender without SMTP_URL: each message goes to the log at info level with
// its link, and to an .eml file any mail program opens.
type logSender struct {
	from *mail.Address
	dir  string
	log  *slog.Logger
}

func (s *logSender) Send(ctx context.Context, m Message) error {
	msg, err := build(s.from, m)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	name := fmt.Sprintf("%s-%s-%s.eml", time.Now().UTC().Format("20060102T150405.000Z"), m.Kind, fileID(m.ID))
	path := filepath.Join(s.dir, name)
	if err := writeFile(path, msg); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "mail not sent (no SMTP_URL): written to a file",
		"kind", string(m.Kind), "to", m.To, "subject", m.Subject, "link", m.Link, "file", path)
	return nil
}

func fileID(id string) string {
	if id == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		return hex.EncodeToString(b[:])
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, id)
}

// writeFile writes through a temporary name, so a reader never sees half a message.
func writeFile(path string, msg io.WriterTo) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".eml-*")
	if err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	_, err = msg.WriteTo(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("mail: write %s: %w", path, err)
	}
	return nil
}
