// SPDX-License-Identifier: Apache-2.0
// Shares: the list, and one share with the users and groups allowed to print to it.
import * as graph from "../graph.js";
import { identity } from "../auth.js";
import { h, render, table, when, section, kv, form, field, actionButton, showError } from "../ui.js";

const GRAPH = "https://graph.microsoft.com/v1.0";

export function sharesView() {
  const body = h("div", {}, h("p", { class: "muted" }, "Loading shares…"));
  const admin = identity().isAdmin;
  render(h("h1", {}, admin ? "Shares" : "Shares you can print to"), body);
  (async () => {
    try {
      const { items } = await graph.list("/print/shares?$top=100");
      body.replaceChildren(table([
        { title: "Name", cell: (s) => h("a", { href: `#/shares/${encodeURIComponent(s.id)}` }, s.displayName) },
        { title: "Created", cell: (s) => when(s.createdDateTime) },
        { title: "All users", cell: (s) => (s.allowAllUsers === undefined ? "—" : s.allowAllUsers ? "yes" : "no") },
      ], items, admin ? "No share yet: share a printer from its page." : "No share is open to you."));
    } catch (e) {
      showError(e, "Shares");
    }
  })();
  return null;
}

function memberList(kind, share, reload) {
  const path = `/print/shares/${encodeURIComponent(share.id)}/${kind}`;
  const label = kind === "allowedUsers" ? "user" : "group";
  const members = share[kind] || [];
  return h("div", { id: kind },
    table([
      { title: "Id", cell: (m) => m.id },
      { title: "Name", cell: (m) => m.displayName || m.userPrincipalName || "—" },
      { title: "", cell: (m) => actionButton(`Remove ${label}`, async () => { await graph.del(`${path}/${m.id}/$ref`); await reload(); }) },
    ], members, `No ${label} is named here.`),
    form({ class: "inline", id: `${kind}-form` }, [field(`${label === "user" ? "User" : "Group"} object id`, "id", { required: true })],
      `Allow ${label}`, async (fd) => {
        const target = kind === "allowedUsers" ? "users" : "groups";
        await graph.post(`${path}/$ref`, { "@odata.id": `${GRAPH}/${target}/${fd.get("id").trim()}` });
        await reload();
      }));
}

export function shareView(id) {
  const path = `/print/shares/${encodeURIComponent(id)}`;
  const admin = identity().isAdmin;
  const main = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  render(h("p", {}, h("a", { href: "#/shares" }, "← Shares")), main);
  const load = async () => {
    try {
      const s = await graph.get(admin ? `${path}?$expand=allowedUsers,allowedGroups,printer` : path);
      document.title = `${s.displayName} · spoold console`;
      const parts = [h("h1", {}, s.displayName), kv([
        ["Id", s.id], ["Created", when(s.createdDateTime)],
        ["Printer", s.printer ? h("a", { href: `#/printers/${encodeURIComponent(s.printer.id)}` }, s.printer.displayName || s.printer.id) : "—"],
        ["All users may print", s.allowAllUsers === undefined ? "—" : s.allowAllUsers ? "yes" : "no"],
      ])];
      if (admin) {
        parts.push(actionButton(s.allowAllUsers ? "Restrict to the users and groups below" : "Allow all users",
          async () => { await graph.patch(path, { allowAllUsers: !s.allowAllUsers }); await load(); }));
        parts.push(section("Allowed users", memberList("allowedUsers", s, load)));
        parts.push(section("Allowed groups", memberList("allowedGroups", s, load)));
        parts.push(actionButton("Delete share", async () => {
          if (!confirm(`Delete the share ${s.displayName}?`)) return;
          await graph.del(path);
          location.hash = "#/shares";
        }, { class: "danger" }));
      }
      main.replaceChildren(...parts);
    } catch (e) {
      showError(e, "Share");
    }
  };
  load();
  return null;
}
