// Package app is the dashboard's user interface: go-app components for the
// sign-in, sign-up, dashboard and profile pages, the controller that does
// their work through app/api, and the go-app Handler that serves the app
// shell (used by the server and by the static-site build alike).
//
// Components only render state and post actions; the controller's action
// handlers do the I/O and set state. Nothing here runs network I/O while
// prerendering on the server: a prerendered page is the empty shell.
package app

import (
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash/wire"
)

// Environment keys the handler passes to the page (go-app's Env), read by
// the browser build with app.Getenv.
const (
	envAPIURL = "AUTHDASH_API_URL"
	envWSURL  = "AUTHDASH_WS_URL"
	// Read by web/boot.js: a signed-out visitor opening one of the
	// session routes from the service worker's copy goes to the sign-in
	// page before the app starts (the server redirects the others).
	envSessionRoutes = "AUTHDASH_SESSION_ROUTES"
	envSessionHint   = "AUTHDASH_SESSION_HINT"
	envSignInRoute   = "AUTHDASH_SIGNIN_ROUTE"
)

// Routes of the pages.
const (
	routeHome    = "/"
	routeSignIn  = "/signin"
	routeSignUp  = "/signup"
	routeProfile = "/profile"
)

// SignInRoute is the sign-in page, where a visitor who is not signed in
// is sent from SessionRoutes.
const SignInRoute = routeSignIn

// NotFoundRoute is the page the server shows, with status 404, for an
// address the app does not have.
const NotFoundRoute = "/not-found"

// SessionRoutes lists the pages for signed-in users only.
func SessionRoutes() []string { return []string{routeHome, routeProfile} }

// Routes lists every page path, for the service worker's offline cache and
// the static-site generator.
func Routes() []string {
	return append([]string{routeHome, routeSignIn, routeSignUp, routeProfile, routeOIDCLink}, accountRoutes()...)
}

// Register declares the pages and the action handlers. Both the server
// (which prerenders the shell) and the browser build call it once, from
// main: go-app's route and handler tables are global.
func Register() {
	app.Route(routeHome, func() app.Composer { return &dashboardPage{} })
	app.Route(routeSignIn, func() app.Composer { return &signInPage{} })
	app.Route(routeSignUp, func() app.Composer { return &signUpPage{} })
	app.Route(routeProfile, func() app.Composer { return &profilePage{} })
	registerAccountRoutes()
	app.Route(routeOIDCLink, func() app.Composer { return &oidcLinkPage{} })
	app.Route(NotFoundRoute, func() app.Composer { return &notFoundPage{} })
	app.NotFound = &notFoundPage{}
	// go-app's server answers an unknown address with app.NotFound (status
	// 404), but its browser side then loads its own bare page there
	// (engine.go in v10.1.11 ignores app.NotFound). A route matching every
	// path, checked after all the others, gives the browser ours; only in
	// the browser, since on the server it would make every address a page
	// answered with 200.
	if app.IsClient {
		app.RouteWithRegexp("^/", func() app.Composer { return &notFoundPage{} })
	}
	newController().register()
}

// Config describes the app shell a handler serves.
type Config struct {
	// Version identifies the build (the commit). go-app puts it in the
	// service worker, so a new version updates every installed client once,
	// and the same version on every replica updates none.
	Version string
	// APIURL is the API's origin when it is not the page's own (the static
	// CDN build); empty means same origin.
	APIURL string
	// WSURL is the realtime socket's URL; empty means derived from APIURL or
	// the page's origin.
	WSURL string
	// Resources resolves /web/ paths, e.g. to content-hashed file names;
	// nil means go-app's default (the web/ directory next to the binary).
	Resources app.ResourceResolver
	// WasmSize is the uncompressed size of app.wasm, for the loading
	// progress (the served file is compressed, so Content-Length is not).
	WasmSize string
}

// Theme colours, also in web/app.css.
const (
	themeColor      = "#1e40af"
	backgroundColor = "#f8fafc"
)

// Handler returns the go-app handler of the app shell: the prerendered
// pages, app.js, the service worker and the web manifest.
func Handler(cfg Config) *app.Handler {
	env := map[string]string{
		envSessionRoutes: strings.Join(SessionRoutes(), ","),
		envSessionHint:   wire.SessionHintCookie,
		envSignInRoute:   SignInRoute,
	}
	if cfg.APIURL != "" {
		env[envAPIURL] = strings.TrimRight(cfg.APIURL, "/")
	}
	if cfg.WSURL != "" {
		env[envWSURL] = cfg.WSURL
	}
	return &app.Handler{
		Name:            "Authdash",
		ShortName:       "Authdash",
		Title:           "Authdash — tasks",
		Description:     "Your tasks, live on every device.",
		Lang:            "en",
		Author:          "Authdash",
		BackgroundColor: backgroundColor,
		ThemeColor:      themeColor,
		// No {progress}: app.wasm is compiled from the fetch's own answer
		// (app/frontend), which go-app cannot count.
		LoadingLabel: "Loading…",
		Icon: app.Icon{
			Default:  "/web/icon-192.png",
			Large:    "/web/icon-512.png",
			Maskable: "/web/icon-512.png",
			SVG:      "/web/icon.svg",
		},
		Styles: []string{"/web/app.css"},
		// boot.js keeps what is done on the prerendered page before the
		// app runs, for the app to take over (handoff.go).
		Scripts:            []string{"/web/boot.js defer"},
		CacheableResources: Routes(),
		Env:                env,
		Version:            cfg.Version,
		Resources:          cfg.Resources,
		WasmContentLength:  cfg.WasmSize,
		// app.wasm is deliberately not preloaded: a preload starts it
		// a little earlier, but Lighthouse's simulated link then counts
		// the whole download before the largest paint (LCP 1.7 s instead
		// of 0.75 s at 10 Mbit/s), though the prerendered page paints long
		// before (docs/BENCHMARKS-HISTORY.md, start-up).
	}
}
