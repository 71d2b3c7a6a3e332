// SPDX-License-Identifier: Apache-2.0
// The console's entry point: reads the configuration, completes a sign-in in progress, and
// routes hash URLs (#/printers, #/jobs/p/{printerId}/{jobId}, ...) to views, so every view can
// be bookmarked and reloaded.
import * as auth from "./auth.js";
import { h, render, showError, clearBanner } from "./ui.js";
import { signinView } from "./views/signin.js";
import { printersView, printerView } from "./views/printers.js";
import { sharesView, shareView } from "./views/shares.js";
import { jobsView, jobView } from "./views/jobs.js";
import { heldView } from "./views/held.js";
import { tasksView } from "./views/tasks.js";
import { subscriptionsView } from "./views/subscriptions.js";
import { usageView } from "./views/usage.js";

const ROUTES = [
  [/^#\/printers$/, printersView],
  [/^#\/printers\/([^/]+)$/, printerView],
  [/^#\/shares$/, sharesView],
  [/^#\/shares\/([^/]+)$/, shareView],
  [/^#\/jobs$/, jobsView],
  [/^#\/jobs\/(p|s)\/([^/]+)\/([^/]+)$/, jobView],
  [/^#\/held$/, heldView],
  [/^#\/tasks$/, tasksView],
  [/^#\/subscriptions$/, subscriptionsView],
  [/^#\/usage(?:\?.*)?$/, usageView],
];

let stopView = null;   // the current view's cleanup (stops its polling)
let wanted = "";       // the route asked for before signing in

function updateHeader() {
  const nav = document.getElementById("nav");
  const who = document.getElementById("who");
  const s = auth.currentSession();
  nav.hidden = !s;
  if (!s) {
    who.replaceChildren();
    return;
  }
  const id = auth.identity();
  const role = id.isApp ? "application" : id.isAdmin ? "printer administrator" : "user";
  who.replaceChildren(
    h("span", { class: "me", "data-role": role }, `${id.name} (${role})`),
    h("button", { type: "button", class: "link", onclick: () => { auth.signOut("You signed out."); } }, "Sign out"));
  for (const a of nav.querySelectorAll("a")) {
    const current = location.hash.startsWith(a.getAttribute("href"));
    if (current) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
}

function route() {
  if (stopView) { stopView(); stopView = null; }
  clearBanner();
  const hash = location.hash || "#/printers";
  if (!auth.currentSession()) {
    if (hash !== "#/signin") wanted = hash;
    updateHeader();
    stopView = signinView(auth.lastSignOutReason(), () => { location.hash = wanted || "#/printers"; route(); }) || null;
    document.title = "Sign in · spoold console";
    return;
  }
  if (hash === "#/signin") { location.hash = wanted || "#/printers"; return; }
  updateHeader();
  for (const [re, view] of ROUTES) {
    const m = hash.match(re);
    if (m) {
      try {
        stopView = view(...m.slice(1).map(decodeURIComponent)) || null;
      } catch (e) {
        showError(e);
      }
      document.getElementById("main").focus({ preventScroll: true });
      return;
    }
  }
  render(h("h1", {}, "Not found"), h("p", {}, `There is no console page at ${hash}.`),
    h("p", {}, h("a", { href: "#/printers" }, "Go to the printers")));
}

async function boot() {
  try {
    await auth.loadConfig();
  } catch (e) {
    render(h("h1", {}, "The console cannot start"), h("p", {}, e.message));
    return;
  }
  auth.onSessionChange(() => route());
  try {
    const returnTo = await auth.oidcComplete();
    if (returnTo) { location.hash = returnTo; }
  } catch (e) {
    auth.signOut(e.message);
  }
  window.addEventListener("hashchange", route);
  route();
}

boot();
