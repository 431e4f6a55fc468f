//go:build !wasm

// Command static writes the dashboard as a static website that any CDN or
// object store can serve (make static): the prerendered shell of every
// page, app.js, the service worker, the manifest and the content-hashed
// assets with app.wasm's precompressed forms beside it.
//
// The API it talks to is given by -api; that API must list the site's
// origin in ALLOWED_ORIGINS, since the refresh cookie crosses origins.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash/app"
	"github.com/authdash/authdash/app/frontend"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "static:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fl := flag.NewFlagSet("static", flag.ContinueOnError)
	out := fl.String("out", "dist", "output directory")
	build := fl.String("build", frontend.DefaultBuildDir, "directory holding app.wasm (make wasm)")
	api := fl.String("api", "", "API origin, e.g. https://api.example.com (required)")
	ws := fl.String("ws", "", "WebSocket URL; default derived from -api")
	version := fl.String("version", "dev", "release version")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *api == "" {
		return errors.New("-api (API_URL) is required: the static site has no API of its own")
	}
	app.Register()
	site, err := frontend.New(frontend.Options{Build: os.DirFS(*build), Version: *version, APIURL: *api, WSURL: *ws})
	if err != nil {
		return err
	}
	if err := goapp.GenerateStaticWebsite(*out, site.Handler(), app.Routes()...); err != nil {
		return err
	}
	if err := fixPages(*out); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*out, "app.js"), site.AppJS(), 0o644); err != nil {
		return err
	}
	web := filepath.Join(*out, "web")
	if err := os.MkdirAll(web, 0o755); err != nil {
		return err
	}
	return site.Assets(func(name string, body, br, gz []byte) error {
		p := filepath.Join(web, name)
		if err := os.WriteFile(p, body, 0o644); err != nil {
			return err
		}
		if br != nil {
			if err := os.WriteFile(p+".br", br, 0o644); err != nil {
				return err
			}
		}
		if gz != nil {
			return os.WriteFile(p+".gz", gz, 0o644)
		}
		return nil
	})
}

// fixPages applies frontend.FixPage to the pages go-app wrote, as the
// server does to the pages it serves.
func fixPages(dir string) error {
	pages, err := filepath.Glob(filepath.Join(dir, "*.html"))
	if err != nil {
		return err
	}
	for _, p := range pages {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(p, frontend.FixPage(b), 0o644); err != nil {
			return err
		}
	}
	return nil
}
