package dashboard

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/authdash/authdash/e2e/internal/browsertest"
	"github.com/authdash/authdash/e2e/internal/dashtest"
)

// recoveryCodesJS lists what is wrong with the recovery codes' layout: a
// code broken over lines, two codes on top of each other, or a code that
// runs into the numbers of the column to its right ("10." of the width of
// the list's font).
const recoveryCodesJS = `(() => {
	const ol = document.querySelector("#recovery-codes"), out = [];
	const ctx = document.createElement("canvas").getContext("2d"); ctx.font = getComputedStyle(ol).font;
	const marker = ctx.measureText("10.").width;
	const items = [...ol.querySelectorAll("li")].map(li => {
		const code = li.querySelector("code");
		return {text: code.textContent, lines: code.getClientRects().length, li: li.getBoundingClientRect(), code: code.getBoundingClientRect()};
	});
	for (const a of items) {
		if (a.lines !== 1) out.push(a.text + " on " + a.lines + " lines");
		for (const b of items) {
			if (a === b) continue;
			const over = (p, q) => p.left < q.right && q.left < p.right && p.top < q.bottom && q.top < p.bottom;
			if (a.text < b.text && over(a.code, b.code)) out.push(a.text + " over " + b.text);
			// b in a column to a's right, on a's line: a ends before b's number.
			if (b.li.left > a.li.left + 1 && b.li.top < a.li.bottom && a.li.top < b.li.bottom && a.code.right + marker > b.li.left)
				out.push(a.text + " ends at " + Math.round(a.code.right) + ", under the number of " + b.text + " at " + Math.round(b.li.left - marker));
		}
	}
	return out; })()`

// rowsJS gives, for every task row, its title and where its Edit and
// Delete buttons and its tags' pills are.
const rowsJS = `[...document.querySelectorAll("#task-list > li")].map(li => {
	const x = sel => { const r = li.querySelector(sel).getBoundingClientRect(); return {left: r.left, right: r.right}; };
	return {title: li.querySelector(".task-title").textContent, edit: x('[data-ctl="edit"]'), del: x('[data-ctl="delete"]'),
		pills: [...li.querySelectorAll(".tag .pill")].map(p => p.getBoundingClientRect().right)};
})`

type box struct{ Left, Right float64 }

type row struct {
	Title     string
	Edit, Del box
	Pills     []float64
}

// picture saves the element sel, light and dark, as screen-size-theme.png
// in the directory E2E_SCREENSHOTS names, to look at (nothing without it).
func picture(b *browsertest.Tab, screen, sel string, size browsertest.ScreenSize) {
	b.T.Helper()
	dir := os.Getenv("E2E_SCREENSHOTS")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.T.Fatal(err)
	}
	for _, theme := range []string{"light", "dark"} {
		b.Do(theme, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: theme}},
			})
			return err
		}))
		b.WaitJS("settled", `document.getAnimations().every(a => a.playState !== "running")`)
		png, err := chromedp.Run(b.Ctx, chromedp.Screenshot(sel))
		if err != nil {
			b.T.Fatalf("screenshot %s: %v", screen, err)
		}
		if err := os.WriteFile(filepath.Join(dir, screen+"-"+size.Name+"-"+theme+".png"), png, 0o644); err != nil {
			b.T.Fatal(err)
		}
	}
}

// TestLongContentFits: what a person may type at its longest stays in its
// place at a laptop's size and a phone's (a QA pass at 390 px found it
// out): a 100-character name without a space wraps inside the greeting;
// a 32-character tag (the longest) keeps its pill clear of the row's
// Delete button; Edit and Delete stand at one place in every row, whatever
// the title and description beside them; the recovery codes read each on
// one line, none under another's number; and the sign-in page's two
// buttons do not touch. With E2E_SCREENSHOTS set it pictures the three
// screens, light and dark, there.
func TestLongContentFits(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the app and drives Chromium")
	}
	w := kit.Webapp(t)
	w.Start()
	d := &dash{&dashtest.Dash{W: w, Browser: kit.Browser(t)}}
	name := strings.Repeat("Wolfeschlg", 10) // 100 characters, no space
	tag := strings.Repeat("abcdefgh", 4)     // 32 characters, no break
	tasks := []string{
		`{"title": "Plain"}`,
		`{"title": "Tagged", "tags": ["` + tag + `"]}`,
		`{"title": "Described", "description": "` + strings.Repeat("Compare the three venues on price, distance and rooms. ", 6) + `"}`,
		`{"title": "` + strings.Repeat("A title long enough to fill the row twice over ", 4) + `"}`,
	}
	for _, size := range browsertest.ScreenSizes {
		t.Run(size.Name, func(t *testing.T) {
			b := browsertest.NewTab(t, d.Browser, true)
			b.Do("viewport", chromedp.EmulateViewport(size.W, size.H, size.Opts...))
			browsertest.SignUpByAPI(t, b, w, d.Email("fit"))
			api := func(method, path, body string, want int) {
				t.Helper()
				if st := browsertest.Eval[int](b, fmt.Sprintf(`fetch(%q, {method: %q, headers: {"Content-Type": "application/json",
					"Authorization": "Bearer " + window.__token}, body: %q}).then(r => r.status)`, path, method, body)); st != want {
					t.Fatalf("%s %s %s: %d", method, path, body, st)
				}
			}
			api("PATCH", "/api/me", `{"name": "`+name+`"}`, 200)
			for _, body := range tasks {
				api("POST", "/api/tasks", body, 201)
			}
			d.Size = size
			d.Open(b, len(tasks))

			if bad := browsertest.Eval[[]string](b, `(() => {
				const h = document.querySelector("#hello"), col = document.querySelector(".dash").getBoundingClientRect(), r = h.getBoundingClientRect(), out = [];
				if (r.left < col.left - 0.5 || r.right > col.right + 0.5) out.push("h1 " + r.left + "-" + r.right + " outside the column " + col.left + "-" + col.right);
				if (h.scrollWidth > h.clientWidth) out.push("h1 scrollWidth " + h.scrollWidth + " > clientWidth " + h.clientWidth);
				if (document.documentElement.scrollWidth > innerWidth) out.push("the page scrolls sideways");
				return out; })()`); len(bad) > 0 {
				t.Errorf("the 100-character name: %q", bad)
			}

			picture(b, "long-name-and-tag", ".dash", size)

			rows := browsertest.Eval[[]row](b, rowsJS)
			for _, r := range rows {
				for _, right := range r.Pills {
					if right >= r.Del.Left {
						t.Errorf("%.20s: the tag's pill ends at %.1f, over Delete at %.1f", r.Title, right, r.Del.Left)
					}
				}
				if r.Edit != rows[0].Edit || r.Del != rows[0].Del {
					t.Errorf("%.20s: Edit %v, Delete %v; %s: Edit %v, Delete %v", r.Title, r.Edit, r.Del, rows[0].Title, rows[0].Edit, rows[0].Del)
				}
			}

			b.Do("two-factor set-up", chromedp.Navigate(w.URL("/profile")), browsertest.AppReady, chromedp.WaitVisible("#totp-begin-form"),
				chromedp.SendKeys("#totp-password", "benchmark password"),
				chromedp.Click(`#totp-begin-form button[type="submit"]`),
				chromedp.WaitVisible("#totp-secret"))
			code, err := totp.GenerateCode(strings.TrimSpace(browsertest.Eval[string](b, `document.querySelector("#totp-secret").textContent`)), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			// A phone shows its number pad for the app's code.
			if got := browsertest.Eval[string](b, `document.querySelector("#totp-code").inputMode + " " + document.querySelector("#totp-code").autocomplete`); got != "numeric one-time-code" {
				t.Errorf("#totp-code: inputmode and autocomplete %q, want numeric one-time-code", got)
			}
			b.Do("turn on", chromedp.SendKeys("#totp-code", code),
				chromedp.Click(`#totp-confirm-form button[type="submit"]`),
				chromedp.WaitVisible("#recovery-codes"))
			if bad := browsertest.Eval[[]string](b, recoveryCodesJS); len(bad) > 0 {
				t.Errorf("recovery codes: %q", bad)
			}
			picture(b, "recovery-codes", "#two-factor", size)

			out := browsertest.NewTab(t, d.Browser, true)
			out.Do("viewport", chromedp.EmulateViewport(size.W, size.H, size.Opts...))
			out.Do("sign-in page", chromedp.Navigate(w.URL("/signin")), browsertest.AppReady, chromedp.WaitVisible("#passkey-signin"))
			gap := browsertest.Eval[float64](out, `document.querySelector("#passkey-signin").getBoundingClientRect().top -
				document.querySelector('#signin-form button[type="submit"]').getBoundingClientRect().bottom`)
			want := browsertest.Eval[float64](out, `parseFloat(getComputedStyle(document.querySelector("#signin-form")).rowGap)`)
			if gap < want {
				t.Errorf("Sign in and Sign in with a passkey are %.1f px apart, want the form's %.0f px", gap, want)
			}
			picture(out, "signin", ".auth-card", size)
		})
	}
}
