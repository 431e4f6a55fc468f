package server

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/auth"
	"github.com/authdash/authdash/wire"
)

// Sign-in with an identity provider. The start and the callback are browser
// navigations, not fetches: a browser (Accept: text/html) is redirected to
// the app's pages with what happened in the query, an API client gets JSON
// and problem documents.

// oidcBinding is the cookie that ties a begun sign-in to the browser that
// began it (a sign-in finished in another browser is a login CSRF). Lax: it
// must come back on the provider's top-level redirect to the callback.
type oidcBinding struct {
	name   string
	secure bool
}

func newOIDCBinding(secure bool) oidcBinding {
	if secure {
		return oidcBinding{name: "__Secure-authdash_oidc", secure: true}
	}
	return oidcBinding{name: "authdash_oidc"}
}

const oidcPath = "/api/auth/oidc"

func (b oidcBinding) set(w http.ResponseWriter, value string) {
	http.SetCookie(w, &http.Cookie{Name: b.name, Value: value, Path: oidcPath, MaxAge: int(authdash.OIDCLoginTTL.Seconds()),
		Secure: b.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

func (b oidcBinding) take(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(b.name)
	http.SetCookie(w, &http.Cookie{Name: b.name, Path: oidcPath, MaxAge: -1, Secure: b.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	if err != nil {
		return ""
	}
	return c.Value
}

// wantsPage says the request is a browser's navigation.
func wantsPage(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// appRedirect sends a browser to a page of the app (APP_URL, or this
// origin) with query.
func appRedirect(w http.ResponseWriter, r *http.Request, appURL, path string, query url.Values) {
	to := strings.TrimSuffix(appURL, "/") + path
	if len(query) > 0 {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		to += sep + query.Encode()
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// oidcFailed answers a failed start or callback: a browser goes back to the
// sign-in page with the failure's name (oidcError), a client gets the
// problem document.
func oidcFailed(w http.ResponseWriter, r *http.Request, appURL string, err error) {
	if !wantsPage(r) {
		writeProblem(w, r, err)
		return
	}
	slug := "provider"
	var de *authdash.Error
	if errors.As(err, &de) {
		for k := range de.Fields {
			slug = k
		}
		if de.Code == authdash.CodeConflict {
			slug = "taken"
		}
	}
	if rs := stateOf(r); rs != nil && wire.StatusOf(authdash.ErrorCodeOf(err)) >= 500 {
		rs.err = err
	}
	appRedirect(w, r, appURL, "/signin", url.Values{"oidcError": {slug}})
}

// handleOIDCProviders lists the providers for the sign-in page's buttons.
func handleOIDCProviders(svc *auth.Service) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		out := []wire.OIDCProvider{}
		for _, p := range svc.Providers() {
			out = append(out, wire.OIDCProvider{Name: p.Name, DisplayName: p.DisplayName, StartURL: oidcPath + "/" + p.Name + "/start"})
		}
		encode(w, http.StatusOK, out)
		return nil
	})
}

// handleOIDCStart begins a sign-in: 302 to the provider.
func handleOIDCStart(svc *auth.Service, b oidcBinding, appURL string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start, err := svc.BeginOIDC(r.Context(), chi.URLParam(r, "name"), r.URL.Query().Get("return"), "")
		if err != nil {
			oidcFailed(w, r, appURL, err)
			return
		}
		b.set(w, start.Binding)
		http.Redirect(w, r, start.URL, http.StatusFound)
	})
}

// handleOIDCCallback finishes a sign-in the provider sent back.
func handleOIDCCallback(svc *auth.Service, b oidcBinding, ck refreshCookie, appURL string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		res, err := svc.FinishOIDC(r.Context(), chi.URLParam(r, "name"),
			auth.OIDCCallback{State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error")}, b.take(w, r), r.UserAgent())
		if err != nil {
			oidcFailed(w, r, appURL, err)
			return
		}
		page := wantsPage(r)
		switch {
		case res.LinkSent:
			if page {
				appRedirect(w, r, appURL, "/signin", url.Values{"oidc": {"link-sent"}})
				return
			}
			encode(w, http.StatusAccepted, wire.OIDCOutcome{LinkSent: true})
		case res.Linked:
			if page {
				appRedirect(w, r, appURL, res.Return, url.Values{"oidc": {"linked"}})
				return
			}
			encode(w, http.StatusOK, wire.OIDCOutcome{Linked: true})
		case res.Grant.Challenge != nil:
			if page {
				appRedirect(w, r, appURL, "/signin", url.Values{"mfaToken": {res.Grant.Challenge.Token},
					"methods": {strings.Join(res.Grant.Challenge.Methods, ",")}})
				return
			}
			writeChallenge(w, res.Grant.Challenge)
		default:
			if page {
				ck.set(w, res.Grant.RefreshToken, res.Grant.RefreshExpiresAt)
				appRedirect(w, r, appURL, res.Return, nil)
				return
			}
			writeGrant(w, http.StatusOK, res.Grant, false, ck)
		}
	})
}

// handleOIDCLink confirms a connection mailed to the account's owner and
// signs in, as a login does.
func handleOIDCLink(svc *auth.Service, ck refreshCookie) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		inBody, err := tokenMode(r)
		if err != nil {
			return err
		}
		var t authdash.TokenSubmission
		if err := decode(r, &t); err != nil {
			return err
		}
		if err := t.Validate(); err != nil {
			return err
		}
		g, err := svc.ConfirmOIDCLink(r.Context(), t.Token, r.UserAgent())
		if err != nil {
			return err
		}
		writeSignIn(w, g, inBody, ck)
		return nil
	})
}

// handleIdentities lists the signed-in account's connected providers.
func handleIdentities(svc *auth.Service) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		ids, err := svc.Identities(r.Context(), authdash.UserFrom(r.Context()))
		if err != nil {
			return err
		}
		out := wire.IdentityList{Items: []wire.Identity{}}
		for _, i := range ids {
			out.Items = append(out.Items, wire.IdentityOf(i))
		}
		encode(w, http.StatusOK, out)
		return nil
	})
}

// handleLinkIdentity begins connecting a provider to the signed-in account:
// the browser is to go to the returned URL (its binding cookie is set here).
func handleLinkIdentity(svc *auth.Service, b oidcBinding) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		start, err := svc.BeginOIDC(r.Context(), chi.URLParam(r, "name"), r.URL.Query().Get("return"), authdash.UserFrom(r.Context()))
		if err != nil {
			return err
		}
		b.set(w, start.Binding)
		encode(w, http.StatusOK, wire.OIDCRedirect{URL: start.URL})
		return nil
	})
}

// handleUnlinkIdentity disconnects a provider from the signed-in account.
func handleUnlinkIdentity(svc *auth.Service) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		if err := svc.Unlink(r.Context(), authdash.UserFrom(r.Context()), chi.URLParam(r, "id")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}
