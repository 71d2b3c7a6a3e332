// SPDX-License-Identifier: Apache-2.0
// DOM helpers. Text always goes in as text nodes (never innerHTML), so data from the server
// cannot become markup.

// h("a", {href: "#/x", class: "c", onclick: fn}, "text", child, ...)
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// Replaces the contents of the main area and moves focus there for keyboard and screen-reader
// users.
export function render(...nodes) {
  const main = document.getElementById("main");
  main.replaceChildren(...nodes.flat());
  return main;
}

export function clearBanner() {
  document.getElementById("banner").replaceChildren();
}

// Shows an API or other error with the Graph message and request id.
export function showError(err, what = "") {
  const banner = document.getElementById("banner");
  const parts = [what ? `${what}: ` : "", err.message || String(err)];
  banner.replaceChildren(
    h("div", { class: "error", "data-code": err.code || "" },
      h("strong", {}, "Error"), " ", ...parts,
      err.requestId ? h("span", { class: "rid" }, ` (request id ${err.requestId})`) : null,
      h("button", { type: "button", class: "link", "aria-label": "Dismiss the error", onclick: clearBanner }, "Dismiss")));
}

export function showNotice(text) {
  document.getElementById("banner").replaceChildren(h("div", { class: "notice", role: "status" }, text));
}

export function table(columns, rows, empty = "Nothing here yet.") {
  if (!rows.length) return h("p", { class: "muted empty" }, empty);
  return h("table", {},
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c.title)))),
    h("tbody", {}, rows.map((r) => h("tr", { "data-id": r.id || "" }, columns.map((c) => h("td", {}, c.cell(r)))))));
}

export function when(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function badge(state) {
  return h("span", { class: `badge state-${state || "unknown"}` }, state || "unknown");
}

export function section(title, ...body) {
  return h("section", {}, h("h2", {}, title), ...body);
}

export function kv(pairs) {
  return h("dl", { class: "kv" }, pairs.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "—")]));
}

// A form whose submit runs action(formData) and reports failures in the banner.
export function form(attrs, fields, submitLabel, action) {
  const f = h("form", { ...attrs }, ...fields, h("button", { type: "submit" }, submitLabel));
  f.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const button = f.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      clearBanner();
      await action(new FormData(f));
    } catch (e) {
      showError(e);
    } finally {
      button.disabled = false;
    }
  });
  return f;
}

export function field(label, name, attrs = {}) {
  const id = `f-${name}-${Math.random().toString(36).slice(2, 8)}`;
  return h("label", { for: id }, h("span", {}, label), h("input", { id, name, ...attrs }));
}

export function select(label, name, options, value) {
  const id = `f-${name}-${Math.random().toString(36).slice(2, 8)}`;
  return h("label", { for: id }, h("span", {}, label),
    h("select", { id, name }, options.map(([v, text]) => h("option", { value: v, selected: v === value }, text))));
}

// A button that runs action and reports failures in the banner.
export function actionButton(label, action, attrs = {}) {
  const b = h("button", { type: "button", ...attrs }, label);
  b.addEventListener("click", async () => {
    b.disabled = true;
    try {
      clearBanner();
      await action();
    } catch (e) {
      showError(e, label);
    } finally {
      b.disabled = false;
    }
  });
  return b;
}
