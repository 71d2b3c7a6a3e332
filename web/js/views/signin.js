// SPDX-License-Identifier: Apache-2.0
// The sign-in page: the configured OpenID Connect issuer, and with --dev the development personas.
import * as auth from "../auth.js";
import { h, render, form, field, select, showError } from "../ui.js";

const PERSONAS = [
  ["admin", "Printer administrator"],
  ["user", "User"],
  ["app", "Pull-print application"],
];

export function signinView(reason, done) {
  const cfg = auth.consoleConfig() || {};
  const parts = [h("h1", {}, "Sign in to the spoold console")];
  if (reason) parts.push(h("p", { class: "notice", role: "status", id: "signed-out" }, reason));

  if (cfg.oidc) {
    parts.push(h("section", {},
      h("h2", {}, "Organisation account"),
      h("p", {}, `Signs in at ${cfg.oidc.issuer}.`),
      h("button", {
        type: "button", id: "oidc-signin",
        onclick: () => auth.oidcBegin(location.hash && location.hash !== "#/signin" ? location.hash : "#/printers")
          .catch((e) => showError(e, "Sign-in")),
      }, "Sign in")));
  }

  if (cfg.dev) {
    const d = cfg.devDefaults || {};
    parts.push(h("section", {},
      h("h2", {}, "Development persona"),
      h("p", { class: "muted" },
        "This server runs with --dev: pick who you are, and the development issuer signs a token for it."),
      form({ id: "dev-signin" }, [
        select("Persona", "role", PERSONAS, "admin"),
        field("Tenant", "tenant", { value: d.tenant || "contoso", required: true, autocomplete: "off" }),
        field("User object id (user personas)", "user", { value: d.user || "", autocomplete: "off" }),
        field("User principal name (user personas)", "upn", { value: d.upn || "", autocomplete: "off" }),
        field("Application id", "app", { value: d.app || "", autocomplete: "off" }),
        field("Lifetime in seconds", "ttl", { value: "3600", inputmode: "numeric" }),
      ], "Sign in", async (fd) => {
        const body = {};
        for (const [k, v] of fd.entries()) if (String(v).trim() !== "") body[k] = String(v).trim();
        if (body.ttl) body.ttl = Number(body.ttl);
        await auth.devSignIn(body);
        done();
      })));
  }

  if (!cfg.oidc && !cfg.dev) {
    parts.push(h("p", {},
      "No sign-in is configured for this console: the administrator sets --console-issuer and ",
      "--console-client-id (docs/console.md)."));
  }
  render(...parts);
  return null;
}
