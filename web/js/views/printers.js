// SPDX-License-Identifier: Apache-2.0
// Printers: the list with live status, and one printer with its capabilities, shares and task
// triggers.
import * as graph from "../graph.js";
import { identity } from "../auth.js";
import { h, render, table, when, badge, section, kv, form, field, actionButton, showError, showNotice } from "../ui.js";

const GRAPH = "https://graph.microsoft.com/v1.0";

function adminOnly(what) {
  render(h("h1", {}, what),
    h("p", {}, "Only printer administrators see the printers of the tenant. ",
      h("a", { href: "#/shares" }, "The shares you may print to"), " are listed under Shares."));
  return null;
}

function printerState(p) {
  const s = p.status || {};
  return h("span", {}, badge(s.state), " ", (s.details || []).join(", "));
}

export function printersView() {
  if (!identity().isAdmin) return adminOnly("Printers");
  const body = h("div", {}, h("p", { class: "muted" }, "Loading printers…"));
  render(h("h1", {}, "Printers"), body);
  return graph.poll(async () => {
    const r = await graph.get("/print/printers?$top=100", { conditional: true });
    if (!r.changed && body.dataset.loaded) return;
    body.dataset.loaded = "1";
    body.replaceChildren(table([
      { title: "Name", cell: (p) => h("a", { href: `#/printers/${encodeURIComponent(p.id)}` }, p.displayName) },
      { title: "State", cell: printerState },
      { title: "Model", cell: (p) => [p.manufacturer, p.model].filter(Boolean).join(" ") || "—" },
      { title: "Location", cell: (p) => (p.location && (p.location.site || p.location.building || p.location.roomName)) || "—" },
      { title: "Shared", cell: (p) => (p.isShared ? "yes" : "no") },
      { title: "Last seen", cell: (p) => when(p.lastSeenDateTime) },
    ], r.body.value || [], "No printer is registered yet. Register one with POST /print/printers/create (docs/printers.md)."));
  }, 5000, (e) => showError(e, "Printers"));
}

function capabilityRows(caps) {
  if (!caps) return h("p", { class: "muted" }, "The printer has reported no capabilities.");
  const show = (v) => (v === null || (Array.isArray(v) && !v.length) ? "—" : Array.isArray(v) ? v.map((x) => (typeof x === "object" ? JSON.stringify(x) : x)).join(", ") : typeof v === "object" && v ? JSON.stringify(v) : String(v));
  return kv(Object.entries(caps).filter(([k]) => !k.startsWith("@")).map(([k, v]) => [k, show(v)]));
}

export function printerView(id) {
  if (!identity().isAdmin) return adminOnly("Printer");
  const path = `/print/printers/${encodeURIComponent(id)}`;
  const head = h("div", {});
  const status = h("div", {});
  const shares = h("div", {});
  const triggers = h("div", {});
  const caps = h("div", {});
  const devices = h("div", { id: "output-devices" });
  render(h("p", {}, h("a", { href: "#/printers" }, "← Printers")), head, status,
    section("Output devices", devices), section("Shares", shares), section("Task triggers", triggers),
    section("Capabilities", caps));

  const loadShares = async () => {
    const list = await graph.list(`${path}/shares`);
    shares.replaceChildren(
      table([{ title: "Share", cell: (s) => h("a", { href: `#/shares/${encodeURIComponent(s.id)}` }, s.displayName) }],
        list.items, "This printer is not shared: users cannot print to it yet."),
      form({ class: "inline", id: "share-form" }, [field("Share name", "displayName", { required: true })], "Share this printer",
        async (fd) => {
          const share = await graph.post("/print/shares", {
            displayName: fd.get("displayName"),
            "printer@odata.bind": `${GRAPH}/print/printers/${id}`,
          });
          showNotice(`Shared as "${share.displayName}".`);
          location.hash = `#/shares/${encodeURIComponent(share.id)}`;
        }));
  };
  const loadTriggers = async () => {
    const list = await graph.list(`${path}/taskTriggers?$expand=definition`);
    triggers.replaceChildren(
      table([
        { title: "Trigger", cell: (t) => t.id },
        { title: "Event", cell: (t) => t.event },
        { title: "Definition", cell: (t) => (t.definition ? `${t.definition.displayName || ""} ${t.definition.id || ""}` : "—") },
        { title: "", cell: (t) => actionButton("Delete", async () => { await graph.del(`${path}/taskTriggers/${t.id}`); await loadTriggers(); }) },
      ], list.items, "No trigger: jobs print as soon as they start."),
      form({ class: "inline", id: "trigger-form" }, [field("Task definition id", "definition", { required: true })], "Add a jobStarted trigger",
        async (fd) => {
          await graph.post(`${path}/taskTriggers`, {
            event: "jobStarted",
            "definition@odata.bind": `${GRAPH}/print/taskDefinitions/${fd.get("definition").trim()}`,
          });
          await loadTriggers();
        }));
  };

  (async () => {
    try {
      const [p, withCaps] = await Promise.all([graph.get(path), graph.get(`${path}?$select=id,capabilities`)]);
      document.title = `${p.displayName} · spoold console`;
      head.replaceChildren(h("h1", {}, p.displayName), kv([
        ["Id", p.id], ["Manufacturer", p.manufacturer], ["Model", p.model],
        ["Registered", when(p.registeredDateTime)], ["Last seen", when(p.lastSeenDateTime)],
        ["Accepting jobs", p.isAcceptingJobs === undefined ? "—" : p.isAcceptingJobs ? "yes" : "no"],
        ["Release mechanisms", (p.releaseMechanisms || []).map((m) => m.releaseType || m.displayName).join(", ") || "—"],
      ]), actionButton("Unregister printer", async () => {
        if (!confirm(`Unregister ${p.displayName}? Its jobs and shares go with it.`)) return;
        await graph.del(path);
        location.hash = "#/printers";
      }, { class: "danger" }));
      caps.replaceChildren(capabilityRows(withCaps.capabilities));
      await Promise.all([loadShares(), loadTriggers()]);
    } catch (e) {
      showError(e, "Printer");
    }
  })();

  // The device's state changes on its own: refresh it without reloading the page.
  return graph.poll(async () => {
    const r = await graph.get(`${path}?$select=id,status,lastSeenDateTime`, { conditional: true });
    if (r.changed) {
      status.replaceChildren(section("Status", kv([
        ["State", printerState(r.body)],
        ["Description", (r.body.status || {}).description],
        ["Last seen", when(r.body.lastSeenDateTime)],
      ])));
    }
    // What each output device reported over IPP INFRA (spoold's extension; Graph has none).
    const d = await graph.get(`/spoold/v1/printers/${encodeURIComponent(id)}/outputDevices`, { conditional: true });
    if (!d.changed && devices.childElementCount) return;
    devices.replaceChildren(
      h("p", { class: "muted" }, `${d.body.queuedJobCount} released job(s) not finished by a device.`),
      table([
        { title: "Device", cell: (x) => x.uuid },
        { title: "State", cell: printerState },
        { title: "Message", cell: (x) => x.status.description || "—" },
        { title: "Accepting jobs", cell: (x) => (x.isAcceptingJobs === null ? "—" : x.isAcceptingJobs ? "yes" : "no") },
        { title: "Formats", cell: (x) => (x.capabilities.contentTypes || []).join(", ") || "—" },
      ], (d.body.value || []).map((x) => ({ ...x, id: x.uuid })),
      "No device has connected to this printer's IPP endpoint yet (docs/ipp.md)."));
  }, 5000, (e) => showError(e, "Printer status"));
}
