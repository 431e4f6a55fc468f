package mail

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"strings"
	texttemplate "text/template"
	"time"
)

// Kind is what a message is for. Each has its templates (templates/KIND.txt and .html) and,
// when it asks for an action, the frontend page its link opens.
type Kind string

const (
	KindVerifyEmail     Kind = "verify-email"         // link: /verify-email?token=
	KindResetPassword   Kind = "reset-password"       // link: /reset-password?token=
	KindPasswordChanged Kind = "password-changed"     // link: /forgot-password (if it was not you)
	KindConfirmEmail    Kind = "confirm-email-change" // to the new address; link: /confirm-email?token=
	KindEmailChanged    Kind = "email-changed"        // to the old address; link: /revert-email?token=
	KindNewSignIn       Kind = "new-sign-in"          // a device not seen before; link: /forgot-password (if it was not you)
	KindTwoFactorOn     Kind = "two-factor-on"        // TOTP turned on; link: /forgot-password (if it was not you)
	KindTwoFactorOff    Kind = "two-factor-off"       // TOTP turned off; link: /forgot-password (if it was not you)
	KindLinkIdentity    Kind = "link-identity"        // connect a provider's sign-in to the account; link: /oidc/link?token=
)

// pages is where each kind's link points on APP_URL; a kind not here carries no link.
var pages = map[Kind]string{
	KindVerifyEmail:     "/verify-email",
	KindResetPassword:   "/reset-password",
	KindPasswordChanged: "/forgot-password",
	KindConfirmEmail:    "/confirm-email",
	KindEmailChanged:    "/revert-email",
	KindNewSignIn:       "/forgot-password",
	KindTwoFactorOn:     "/forgot-password",
	KindTwoFactorOff:    "/forgot-password",
	KindLinkIdentity:    "/oidc/link",
}

// Kinds lists every kind, for tests and for checking templates at start-up.
func Kinds() []Kind {
	return []Kind{KindVerifyEmail, KindResetPassword, KindPasswordChanged, KindConfirmEmail, KindEmailChanged, KindNewSignIn, KindTwoFactorOn, KindTwoFactorOff, KindLinkIdentity}
}

// Data is what a message says beyond its kind.
type Data struct {
	Name     string        // the recipient's display name; may be empty
	Token    string        // the link's token, for the kinds whose link carries one
	Valid    time.Duration // how long the link works
	OldEmail string        // email change: the address being left
	NewEmail string        // email change: the address asked for
	Device   string        // new sign-in: the device, summarised
	IP       string        // new sign-in: the address it came from
	At       time.Time     // new sign-in: when
	Provider string        // link identity: the provider's name ("Google")
}

//go:embed templates
var templateFS embed.FS

// Composer renders messages. The HTML part goes through html/template, which escapes what
// a user chose (a name) for HTML; the plain part through text/template, since html/template
// would write "O'Brien" as "O&#39;Brien" in a text/plain part. Neither loads anything remote:
// no images, no pixels, no link rewriting, so opening a message tells nobody anything.
type Composer struct {
	product string
	appURL  *url.URL
	text    map[Kind]*texttemplate.Template
	html    map[Kind]*htmltemplate.Template
}

// NewComposer parses every template; product is the name the messages sign with, appURL the
// frontend's origin (APP_URL) that links point to.
func NewComposer(product string, appURL *url.URL) (*Composer, error) {
	if product == "" || appURL == nil || appURL.Host == "" {
		return nil, fmt.Errorf("mail: composer needs a product name and an absolute APP_URL")
	}
	c := &Composer{product: product, appURL: appURL,
		text: map[Kind]*texttemplate.Template{}, html: map[Kind]*htmltemplate.Template{}}
	funcs := map[string]any{
		"duration": humanDuration,
		"button":   func(link, label string) map[string]string { return map[string]string{"Link": link, "Label": label} },
	}
	for _, k := range Kinds() {
		t, err := texttemplate.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.txt", "templates/"+string(k)+".txt")
		if err != nil {
			return nil, fmt.Errorf("mail: templates for %s: %w", k, err)
		}
		h, err := htmltemplate.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+string(k)+".html")
		if err != nil {
			return nil, fmt.Errorf("mail: templates for %s: %w", k, err)
		}
		c.text[k], c.html[k] = t, h
	}
	return c, nil
}

// Link is the address a message of kind k opens, with the token when there is one.
func (c *Composer) Link(k Kind, token string) string {
	p, ok := pages[k]
	if !ok {
		return ""
	}
	u := *c.appURL
	u.Path = strings.TrimSuffix(u.Path, "/") + p
	u.RawQuery, u.Fragment = "", ""
	if token != "" {
		u.RawQuery = url.Values{"token": {token}}.Encode()
	}
	return u.String()
}

// Compose renders the message of kind k to the address to.
func (c *Composer) Compose(k Kind, to string, d Data) (Message, error) {
	t, ok := c.text[k]
	if !ok {
		return Message{}, fmt.Errorf("mail: no templates for kind %q", k)
	}
	view := struct {
		Data
		Product, To, Link, Subject string
	}{Data: d, Product: c.product, To: to, Link: c.Link(k, d.Token)}
	var subj, text, html bytes.Buffer
	if err := t.ExecuteTemplate(&subj, "subject", view); err != nil {
		return Message{}, fmt.Errorf("mail: subject of %s: %w", k, err)
	}
	view.Subject = strings.Join(strings.Fields(subj.String()), " ")
	if err := t.ExecuteTemplate(&text, "layout", view); err != nil {
		return Message{}, fmt.Errorf("mail: text of %s: %w", k, err)
	}
	if err := c.html[k].ExecuteTemplate(&html, "layout", view); err != nil {
		return Message{}, fmt.Errorf("mail: HTML of %s: %w", k, err)
	}
	return Message{Kind: k, To: to, Subject: view.Subject, Text: strings.TrimLeft(text.String(), "\n"),
		HTML: html.String(), Link: view.Link}, nil
}

// humanDuration says 48 h as "48 hours" and 30 min as "30 minutes".
func humanDuration(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return plural(int64(d/time.Hour), "hour")
	case d >= time.Minute:
		return plural(int64(d/time.Minute), "minute")
	default:
		return plural(int64(d/time.Second), "second")
	}
}
