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
"use strict";
(() => {
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
