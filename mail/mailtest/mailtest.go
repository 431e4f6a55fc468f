// Package mailtest runs a real SMTP server (emersion/go-smtp) inside a test process and
// hands the test what it received, parsed: the tests of mail, of the outbox and the browser
// journey read their links from it. Test-only; the product never imports it.
package mailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Security is how the server protects a connection.
type Security int

const (
	StartTLS Security = iota // plain connect, STARTTLS offered (smtp://)
	Implicit                 // TLS from the first byte (smtps://)
	NoTLS                    // no TLS at all: a client that requires it must refuse to send
)

// Options configure a server; the zero value is STARTTLS without a login.
type Options struct {
	Security       Security
	User, Password string // when set, AUTH PLAIN is required before MAIL FROM
}

// Received is one message as the server got it.
type Received struct {
	From    string
	To      []string
	Raw     []byte
	Header  mail.Header
	Subject string // decoded
	Text    string // the text/plain part, decoded
	HTML    string // the text/html part, decoded
}

// Server is a running SMTP server on a loopback port.
type Server struct {
	opts  Options
	cert  tls.Certificate
	Roots *x509.CertPool // trusts the server's certificate
	addr  string

	mu      sync.Mutex
	srv     *smtp.Server
	ln      net.Listener    // closed by Stop too: Serve may not have registered it yet
	served  chan struct{}   // closed when Serve has returned
	failure *smtp.SMTPError // answered to DATA while set
	got     []Received
	notify  chan struct{}
}

// Start runs a server until the test ends.
func Start(tb testing.TB, o Options) *Server {
	tb.Helper()
	cert, roots := selfSigned(tb)
	s := &Server{opts: o, cert: cert, Roots: roots, notify: make(chan struct{}, 1)}
	if err := s.listen("127.0.0.1:0"); err != nil {
		tb.Fatalf("mailtest: %v", err)
	}
	tb.Cleanup(s.Stop)
	return s
}

func (s *Server) listen(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.MaxMessageBytes = 1 << 20
	srv.ErrorLog = discard{}
	tlsConf := &tls.Config{Certificates: []tls.Certificate{s.cert}, MinVersion: tls.VersionTLS12}
	switch s.opts.Security {
	case StartTLS:
		srv.TLSConfig = tlsConf
	case Implicit:
		l = tls.NewListener(l, tlsConf)
	case NoTLS:
		srv.AllowInsecureAuth = true
	}
	s.mu.Lock()
	served := make(chan struct{})
	s.srv, s.ln, s.served, s.addr = srv, l, served, l.Addr().String()
	s.mu.Unlock()
	go func() { defer close(served); _ = srv.Serve(l) }()
	return nil
}

// Stop closes the server and every connection (the SMTP server "dies").
func (s *Server) Stop() {
	s.mu.Lock()
	srv, ln, served := s.srv, s.ln, s.served
	s.srv, s.ln = nil, nil
	s.mu.Unlock()
	if srv != nil {
		_ = ln.Close()
		_ = srv.Close()
		<-served
	}
}

// Restart starts the server again on the same port, keeping what it received.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	s.Stop()
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := s.listen(s.addr)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("mailtest: restart on %s: %v", s.addr, err)
		}
		time.Sleep(20 * time.Millisecond) // the port is freed by the kernel: nothing to block on
	}
}

// FailWith makes the server answer DATA with code (e.g. 451 temporary, 554 permanent) until
// FailWith(0) is called.
func (s *Server) FailWith(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == 0 {
		s.failure = nil
		return
	}
	s.failure = &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 0, 0}, Message: "mailtest: told to fail"}
}

// URL is the SMTP_URL that reaches this server.
func (s *Server) URL() *url.URL {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := &url.URL{Scheme: "smtp", Host: s.addr}
	if s.opts.Security == Implicit {
		u.Scheme = "smtps"
	}
	if s.opts.User != "" {
		u.User = url.UserPassword(s.opts.User, s.opts.Password)
	}
	return u
}

// CertPEM is the server's certificate, PEM-encoded: a process of its own (the server
// binary in the browser tests) trusts it through SSL_CERT_FILE.
func (s *Server) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.cert.Certificate[0]})
}

// Messages returns what the server has received so far.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.got...)
}

// Wait returns once the server holds at least n messages, failing the test after timeout.
func (s *Server) Wait(tb testing.TB, n int, timeout time.Duration) []Received {
	tb.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		if got := s.Messages(); len(got) >= n {
			return got
		}
		select {
		case <-s.notify:
		case <-deadline.C:
			tb.Fatalf("mailtest: %d message(s) after %v, want %d", len(s.Messages()), timeout, n)
		}
	}
}

// Last waits for a message to addr whose subject contains subject, and returns the newest.
func (s *Server) Last(tb testing.TB, addr, subject string, timeout time.Duration) Received {
	tb.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		got := s.Messages()
		for i := len(got) - 1; i >= 0; i-- {
			if strings.Contains(got[i].Subject, subject) && slicesContains(got[i].To, addr) {
				return got[i]
			}
		}
		select {
		case <-s.notify:
		case <-deadline.C:
			tb.Fatalf("mailtest: no message to %s about %q after %v (have %d)", addr, subject, timeout, len(got))
		}
	}
}

var linkRE = regexp.MustCompile(`https?://[^\s<>"]+`)

// Link is the first link in the plain-text part whose path is path (e.g. "/reset-password").
func (r Received) Link(path string) (*url.URL, error) {
	for _, m := range linkRE.FindAllString(r.Text, -1) {
		u, err := url.Parse(m)
		if err == nil && u.Path == path {
			return u, nil
		}
	}
	return nil, fmt.Errorf("mailtest: no %s link in %q", path, r.Text)
}

func slicesContains(xs []string, x string) bool {
	for _, v := range xs {
		if strings.EqualFold(v, x) {
			return true
		}
	}
	return false
}

func (s *Server) received(r Received) {
	s.mu.Lock()
	s.got = append(s.got, r)
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

type session struct {
	s      *Server
	authed bool
	from   string
	to     []string
}

func (x *session) AuthMechanisms() []string {
	if x.s.opts.User == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (x *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != x.s.opts.User || pass != x.s.opts.Password {
			return smtp.ErrAuthFailed
		}
		x.authed = true
		return nil
	}), nil
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if x.s.opts.User != "" && !x.authed {
		return smtp.ErrAuthRequired
	}
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	failure := x.s.failure
	x.s.mu.Unlock()
	if failure != nil {
		return failure
	}
	got, err := Parse(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: err.Error()}
	}
	got.From, got.To = x.from, append([]string(nil), x.to...)
	x.s.received(got)
	return nil
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

// Parse reads a MIME message into its decoded subject, plain and HTML parts.
func Parse(raw []byte) (Received, error) {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Received{}, err
	}
	r := Received{Raw: raw, Header: m.Header}
	if r.Subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject")); err != nil {
		return Received{}, err
	}
	err = walk(m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Body, &r)
	return r, err
}

func walk(ctype, encoding string, body io.Reader, r *Received) error {
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		return fmt.Errorf("content type %q: %w", ctype, err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, r); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		return errors.New("mailtest: base64 parts not expected")
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	switch mt {
	case "text/plain":
		r.Text = string(b)
	case "text/html":
		r.HTML = string(b)
	}
	return nil
}

func selfSigned(tb testing.TB) (tls.Certificate, *x509.CertPool) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mailtest"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

type discard struct{}

func (discard) Printf(string, ...any) {}
func (discard) Println(...any)        {}
