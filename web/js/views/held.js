// SPDX-License-Identifier: Apache-2.0
// Held jobs: jobs waiting for a pull-print app (a trigger held them at start), with the app
// that holds each. Administrators and users see them by printer or share; an application sees
// the processing tasks of its own task definitions.
import * as graph from "../graph.js";
import { identity } from "../auth.js";
import { h, render, table, when, badge, showError } from "../ui.js";
import { jobSources, jobPath, jobRow, JOB_COLUMNS } from "./jobs.js";

function jobLinkFromParentUrl(parentUrl) {
  const m = /\/print\/(printers|shares)\/([^/]+)\/jobs\/([^/?]+)/.exec(parentUrl || "");
  if (!m) return null;
  return `#/jobs/${m[1] === "printers" ? "p" : "s"}/${m[2]}/${m[3]}`;
}

function appTasksView(listing) {
  return graph.poll(async () => {
    const { items: defs } = await graph.list("/print/taskDefinitions");
    const rows = [];
    for (const d of defs) {
      const { items } = await graph.list(`/print/taskDefinitions/${d.id}/tasks`);
      for (const t of items) if ((t.status || {}).state === "processing") rows.push({ id: t.id, t, d });
    }
    listing.replaceChildren(table([
      { title: "Task", cell: (r) => r.id },
      { title: "Definition", cell: (r) => r.d.displayName },
      { title: "Job", cell: (r) => { const l = jobLinkFromParentUrl(r.t.parentUrl); return l ? h("a", { href: l }, r.t.parentUrl.split("/").pop()) : r.t.parentUrl; } },
      { title: "State", cell: (r) => badge(r.t.status.state) },
      { title: "Since", cell: (r) => when(r.t.createdDateTime) },
    ], rows, "No job is waiting for your application."));
  }, 4000, (e) => showError(e, "Held jobs"));
}

export function heldView() {
  const id = identity();
  const listing = h("div", { id: "held" }, h("p", { class: "muted" }, "Loading held jobs…"));
  render(h("h1", {}, "Held jobs"),
    h("p", { class: "muted" }, "Jobs held at start by a task trigger wait here until their pull-print app releases, redirects or aborts them."),
    listing);
  if (id.isApp) return appTasksView(listing);

  let sources = null;
  const holder = new Map(); // job id -> app display name
  return graph.poll(async () => {
    if (!sources) sources = await jobSources();
    const rows = [];
    for (const src of sources) {
      const r = await graph.get(jobPath(src, "status/state eq 'paused'", 100));
      rows.push(...(r.value || []).map((j) => jobRow(src, j)));
    }
    for (const row of rows) {
      if (holder.has(row.id)) continue;
      try {
        const base = `/print/${row.src.kind === "p" ? "printers" : "shares"}/${row.src.id}/jobs/${row.id}`;
        const tasks = (await graph.get(`${base}/tasks?$expand=definition`)).value || [];
        const t = tasks.find((x) => (x.status || {}).state === "processing");
        const by = t && t.definition && t.definition.createdBy;
        holder.set(row.id, by ? by.displayName || by.appId : t && t.definition ? t.definition.displayName : "—");
      } catch {
        holder.set(row.id, "—");
      }
    }
    listing.replaceChildren(table([...JOB_COLUMNS,
      { title: "Held by", cell: (r) => holder.get(r.id) || "—" }], rows, "No job is held."));
  }, 4000, (e) => showError(e, "Held jobs"));
}
