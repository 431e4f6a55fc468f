// Authdash boot: the server prerenders each page, so the sign-in form can
// be read and typed into before the app (app.wasm) runs. The app then
// replaces the prerendered page with its own; this keeps what the app
// needs to carry over (read by app/handoff.go):
//   page:   the prerendered page, whose fields keep what was typed (or
//           filled in by a password manager) after it is replaced;
//   focus:  the id of the field last focused in it;
//   submit: the id of a form submitted before the app ran. The submit is
//           held here (it would otherwise reload the page) and the app
//           sends it once it runs.
//
// First, though: a visitor nobody is signed in as (no session hint cookie)
// opening a page for signed-in users goes to the sign-in page. The server
// redirects such a request itself; this catches the pages the service
// worker answers from its copy, before the app starts. goappGetenv is
// app.js's, which runs first.
"use strict";
// The theme chosen on this device (app/theme), before the page is painted.
try {
  const theme = localStorage.getItem("authdash.theme");
  if (theme === "light" || theme === "dark") document.documentElement.dataset.theme = theme;
} catch (e) {
  // Storage blocked: the system's theme.
}
(() => {
  const env = (k) => (typeof goappGetenv === "function" && goappGetenv(k)) || "";
  const hint = env("AUTHDASH_SESSION_HINT");
  const hinted = document.cookie.split(";").some((c) => c.trim().startsWith(hint + "=") && c.trim().length > hint.length + 1);
  if (hint && !env("AUTHDASH_API_URL") && !hinted && env("AUTHDASH_SESSION_ROUTES").split(",").includes(location.pathname)) {
    location.replace(env("AUTHDASH_SIGNIN_ROUTE"));
    return;
  }
  const handoff = (window.authdashHandoff = {
    page: document.querySelector(".page"),
    focus: "",
    submit: "",
  });
  const inPrerendered = (el) => handoff.page !== null && handoff.page.contains(el);
  document.addEventListener("focusin", (e) => {
    if (inPrerendered(e.target)) handoff.focus = e.target.id || "";
  }, true);
  document.addEventListener("submit", (e) => {
    if (!inPrerendered(e.target)) return;
    e.preventDefault();
    handoff.submit = e.target.id || "";
    e.target.setAttribute("aria-busy", "true");
  }, true);
})();
