// Package oidcreturn reads what an identity provider's round trip (OpenID
// Connect) left in the sign-in page's address, and says it in words: the
// server ends every such sign-in with a redirect to the app, to "/" when it
// signed the person in, and otherwise to /signin with one of
//
//	?mfaToken=<t>&methods=totp,passkey   the second factor is next
//	?oidc=link-sent                      the account's owner must confirm by mail
//	?oidcError=<slug>                    it failed, for the reason slug names
//
// and a connection made while signed in comes back to the page it started
// from with ?oidc=linked.
//
// It also builds the address that starts such a sign-in. Plain Go, so that
// the parsing and the wording are tested natively; the page only shows it.
package oidcreturn

import (
	"net/url"
	"slices"
	"strings"
)

// The query parameters the server's redirect sets.
const (
	ParamMFAToken = "mfaToken"
	ParamMethods  = "methods"
	ParamOIDC     = "oidc"
	ParamError    = "oidcError"
)

// Params lists them, for taking them out of the address once read.
var Params = []string{ParamMFAToken, ParamMethods, ParamOIDC, ParamError}

// Kind is what the round trip came to.
type Kind int

const (
	// None: the page was not opened by a provider's redirect.
	None Kind = iota
	// SecondFactor: the provider vouched for the person, and the account
	// asks for its second factor (Outcome.MFAToken, Outcome.Methods).
	SecondFactor
	// LinkSent: the provider's address is an existing account's, which
	// must confirm the connection from the link mailed to it.
	LinkSent
	// Failed: Outcome.Message says why.
	Failed
	// Linked: a provider's account was connected to the signed-in one.
	Linked
)

// LinkSentMessage is what LinkSent tells the person.
const LinkSentMessage = "We sent a link to your email to confirm connecting this account. Open it to finish signing in."

// LinkedMessage is what Linked tells the person.
const LinkedMessage = "The account was connected: you can sign in with it from now on."

// Outcome is the round trip's result as the page shows it.
type Outcome struct {
	Kind     Kind
	MFAToken string
	Methods  []string
	Slug     string // Failed: the server's reason, as it came
	Message  string // Failed: the words for it; LinkSent, Linked: their message
}

// messages says each failure the server names (its slugs are fixed by the
// API contract) in words a person can act on.
var messages = map[string]string{
	"state":    "The sign-in took too long or was started in another tab. Please try again.",
	"code":     "The provider's answer could not be used, perhaps because it was used already. Please try again.",
	"nonce":    "The provider's answer did not belong to this sign-in. Please try again.",
	"token":    "The provider's identity token could not be verified. Please try again, or sign in with your password.",
	"denied":   "The sign-in was cancelled at the provider. Nothing was shared.",
	"email":    "The provider did not confirm an email address for this account, so it cannot be used to sign in here.",
	"provider": "This sign-in provider is not available right now. Please try again later, or sign in with your password.",
	"taken":    "This account at the provider is already connected to another account here.",
}

// unknownMessage stands for a slug this version of the app does not know.
const unknownMessage = "Signing in with the provider did not work. Please try again, or sign in with your password."

// Message says the failure slug names.
func Message(slug string) string {
	if m, ok := messages[slug]; ok {
		return m
	}
	return unknownMessage
}

// Slugs lists the failures the server may name, for tests.
func Slugs() []string {
	s := make([]string, 0, len(messages))
	for k := range messages {
		s = append(s, k)
	}
	slices.Sort(s)
	return s
}

// maxToken bounds what is taken for a token: anything longer is no token
// of ours (the server refuses over 128).
const maxToken = 128

// knownMethods are the second factors the sign-in page can offer.
var knownMethods = []string{"totp", "recovery", "passkey"}

// Parse reads q, the sign-in page's query. A failure wins over anything
// else the query holds; a second factor needs its token; methods keeps
// only the known ones, in their order, once each (a code is always
// possible: with none named, "totp" stands).
func Parse(q url.Values) Outcome {
	if q.Has(ParamError) {
		slug := q.Get(ParamError)
		return Outcome{Kind: Failed, Slug: slug, Message: Message(slug)}
	}
	if tok := strings.TrimSpace(q.Get(ParamMFAToken)); tok != "" && len(tok) <= maxToken {
		var methods []string
		for _, m := range strings.Split(q.Get(ParamMethods), ",") {
			m = strings.TrimSpace(m)
			if slices.Contains(knownMethods, m) && !slices.Contains(methods, m) {
				methods = append(methods, m)
			}
		}
		if len(methods) == 0 {
			methods = []string{"totp"}
		}
		return Outcome{Kind: SecondFactor, MFAToken: tok, Methods: methods}
	}
	switch q.Get(ParamOIDC) {
	case "link-sent":
		return Outcome{Kind: LinkSent, Message: LinkSentMessage}
	case "linked":
		return Outcome{Kind: Linked, Message: LinkedMessage}
	}
	return Outcome{}
}

// Without returns u's path and query without the parameters Parse reads,
// for the address bar once they are read: a reload must not show an old
// failure again, and the token must not stay in the history.
func Without(u *url.URL) *url.URL {
	v := *u
	q := v.Query()
	for _, p := range Params {
		q.Del(p)
	}
	v.RawQuery = q.Encode()
	return &v
}

// StartURL is the address that starts a sign-in with a provider: the API's
// origin (apiBase, empty when the API is on the app's), the provider's
// startUrl as the server listed it, and where to come back to in the app.
func StartURL(apiBase, startURL, back string) string {
	if back == "" || !strings.HasPrefix(back, "/") || strings.HasPrefix(back, "//") {
		back = "/" // only a path of the app: never somewhere else
	}
	sep := "?"
	if strings.Contains(startURL, "?") {
		sep = "&"
	}
	return strings.TrimRight(apiBase, "/") + startURL + sep + "return=" + url.QueryEscape(back)
}
