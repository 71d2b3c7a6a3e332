// SPDX-License-Identifier: Apache-2.0
// Jobs: across the printers an administrator sees (or the shares a user prints to), with
// filters and paging; and one job with its status, documents, tasks and the actions the
// signed-in identity may take. Both refresh on their own.
import * as graph from "../graph.js";
import { identity } from "../auth.js";
import { h, render, table, when, badge, section, kv, form, field, select, actionButton, showError, showNotice } from "../ui.js";

const TERMINAL = new Set(["completed", "canceled", "aborted"]);
const STATES = [["", "any state"], ["paused", "held (paused)"], ["pending", "pending"], ["processing", "processing"],
  ["completed", "completed"], ["aborted", "aborted"], ["canceled", "canceled"], ["pendingHeld", "pending held"]];

// Where jobs are listed for this identity: printers (administrators; applications name one),
// or the shares a user prints to.
export async function jobSources(printerIds = []) {
  const id = identity();
  if (id.isAdmin) {
    const { items } = await graph.list("/print/printers?$select=id,displayName&$top=100");
    return items.map((p) => ({ kind: "p", id: p.id, name: p.displayName }));
  }
  if (id.isApp) return printerIds.map((p) => ({ kind: "p", id: p, name: p }));
  const { items } = await graph.list("/print/shares?$top=100");
  return items.map((s) => ({ kind: "s", id: s.id, name: s.displayName }));
}

export const jobBase = (kind, src, job) =>
  `/print/${kind === "p" ? "printers" : "shares"}/${encodeURIComponent(src)}/jobs${job ? `/${encodeURIComponent(job)}` : ""}`;

function odataString(s) { return `'${String(s).replace(/'/g, "''")}'`; }

export function jobFilter({ state, user, from }) {
  const parts = [];
  if (state) parts.push(`status/state eq ${odataString(state)}`);
  if (user) parts.push(`createdBy/userPrincipalName eq ${odataString(user)}`);
  if (from) parts.push(`createdDateTime ge ${new Date(from).toISOString()}`);
  return parts.join(" and ");
}

export function jobPath(src, filter, top = 25) {
  const q = new URLSearchParams({ $top: String(top), $orderby: "createdDateTime desc", $expand: "tasks" });
  if (filter) q.set("$filter", filter);
  return `${jobBase(src.kind, src.id)}?${q.toString().replace(/\+/g, "%20")}`;
}

export function jobRow(src, j) {
  const s = j.status || {};
  return {
    id: j.id,
    job: j,
    src,
    cells: {
      link: h("a", { href: `#/jobs/${src.kind}/${encodeURIComponent(src.id)}/${encodeURIComponent(j.id)}` }, j.displayName || `Job ${j.id}`),
      state: h("span", { class: "job-state" }, badge(s.state), " ", s.description || ""),
    },
  };
}

export const JOB_COLUMNS = [
  { title: "Job", cell: (r) => r.cells.link },
  { title: "Id", cell: (r) => r.id },
  { title: "State", cell: (r) => r.cells.state },
  { title: "Where", cell: (r) => r.src.name },
  { title: "Owner", cell: (r) => (r.job.createdBy && (r.job.createdBy.userPrincipalName || r.job.createdBy.displayName)) || "—" },
  { title: "Created", cell: (r) => when(r.job.createdDateTime) },
];

export function jobsView() {
  const id = identity();
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  const filters = {
    state: params.get("state") || "", user: params.get("user") || "", from: params.get("from") || "",
    printer: params.get("printer") || "",
  };
  const listing = h("div", { id: "jobs" }, h("p", { class: "muted" }, "Loading jobs…"));
  const more = h("div", {});
  const filterForm = form({ class: "filters", id: "job-filters" }, [
    select("State", "state", STATES, filters.state),
    id.isAdmin ? field("Owner (user principal name)", "user", { value: filters.user }) : null,
    field(id.isApp ? "Printer id" : "Printer or share", "printer", { value: filters.printer }),
    field("Created from", "from", { type: "date", value: filters.from }),
  ].filter(Boolean), "Apply", async (fd) => {
    const q = new URLSearchParams();
    for (const [k, v] of fd.entries()) if (v) q.set(k, v);
    location.hash = `#/jobs${q.toString() ? `?${q}` : ""}`;
  });
  render(h("h1", {}, id.isAdmin ? "Jobs" : id.isApp ? "Jobs of a printer" : "My jobs"), filterForm, listing, more);
  if (id.isApp && !filters.printer) {
    listing.replaceChildren(h("p", {}, "An application lists the jobs of one printer at a time: enter its id."));
    return null;
  }

  let sources = null;
  let extra = [];            // rows of pages loaded with "Load more"
  let nextLinks = new Map(); // source id -> nextLink after the first page
  const filter = jobFilter(filters);

  const draw = (firstRows) => {
    const rows = [...firstRows, ...extra].sort((a, b) => String(b.job.createdDateTime).localeCompare(String(a.job.createdDateTime)));
    listing.replaceChildren(table(JOB_COLUMNS, rows, "No job matches."));
    const pending = [...nextLinks.entries()].filter(([, link]) => link);
    more.replaceChildren(pending.length ? actionButton("Load more", async () => {
      for (const [srcId, link] of pending) {
        const src = sources.find((s) => s.id === srcId);
        const page = await graph.get(link);
        extra.push(...(page.value || []).map((j) => jobRow(src, j)));
        nextLinks.set(srcId, page["@odata.nextLink"] || null);
      }
      draw(firstRows);
    }, { id: "load-more" }) : null);
  };

  let lastFirst = [];
  return graph.poll(async () => {
    if (!sources) {
      sources = await jobSources(filters.printer ? [filters.printer] : []);
      if (filters.printer) sources = sources.filter((s) => s.id === filters.printer || s.name === filters.printer);
    }
    let changed = false;
    const first = [];
    for (const src of sources) {
      const r = await graph.get(jobPath(src, filter), { conditional: true });
      changed = changed || r.changed;
      if (!nextLinks.has(src.id)) nextLinks.set(src.id, r.body["@odata.nextLink"] || null);
      first.push(...(r.body.value || []).map((j) => jobRow(src, j)));
    }
    if (changed || !lastFirst.length) { lastFirst = first; draw(first); }
  }, 4000, (e) => showError(e, "Jobs"));
}

// ---- one job --------------------------------------------------------------------------------

function documentsSection(base, job) {
  const docs = job.documents || [];
  return section("Documents", table([
    { title: "Name", cell: (d) => d.displayName || d.id },
    { title: "Format", cell: (d) => d.contentType || d.mimeType || "—" },
    { title: "Size", cell: (d) => (d.size === undefined || d.size === null ? "—" : `${d.size} bytes`) },
    { title: "", cell: (d) => (d.size ? actionButton("Download", () => graph.download(`${base}/documents/${d.id}/$value`, d.displayName || `document-${d.id}`)) : "—") },
  ], docs, "No document metadata is visible to you."));
}

function tasksSection(tasks) {
  return section("Print tasks", table([
    { title: "Task", cell: (t) => t.id },
    { title: "State", cell: (t) => h("span", {}, badge((t.status || {}).state), " ", (t.status || {}).description || "") },
    { title: "Definition", cell: (t) => (t.definition ? `${t.definition.displayName || t.definition.id}` : "—") },
    { title: "Held by app", cell: (t) => (t.definition && t.definition.createdBy ? t.definition.createdBy.displayName || t.definition.createdBy.appId : "—") },
  ], tasks, "No print task: no trigger held this job."));
}

function actions(kind, src, job, tasks, reload) {
  const id = identity();
  const base = jobBase(kind, src, job.id);
  const state = (job.status || {}).state;
  const out = [];
  if (TERMINAL.has(state)) return h("p", { class: "muted" }, "This job has ended: no action is possible.");
  const mine = job.createdBy && id.oid && job.createdBy.id === id.oid;
  if (!id.isApp && (mine || id.isAdmin)) {
    out.push(actionButton("Cancel job", async () => { await graph.post(`${base}/cancel`); showNotice("Job canceled."); await reload(); }, { id: "cancel-job" }));
  }
  const processing = tasks.filter((t) => (t.status || {}).state === "processing");
  if (id.isApp && processing.length) {
    const t = processing[0];
    out.push(form({ class: "inline", id: "abort-form" }, [field("Reason", "reason", {})], "Abort job", async (fd) => {
      const reason = fd.get("reason");
      await graph.post(`${base}/abort`, reason ? { reason } : {});
      await reload();
    }));
    if (t.definition && t.definition.id) {
      out.push(actionButton("Release job", async () => {
        await graph.patch(`/print/taskDefinitions/${t.definition.id}/tasks/${t.id}`, { status: { state: "completed" } });
        await reload();
      }, { id: "release-job" }));
    }
    out.push(form({ class: "inline", id: "redirect-form" }, [field("Destination printer id", "printer", { required: true })], "Redirect job", async (fd) => {
      const moved = await graph.post(`${base}/redirect`, { destinationPrinterId: fd.get("printer").trim() });
      location.hash = `#/jobs/p/${encodeURIComponent(fd.get("printer").trim())}/${encodeURIComponent(moved.id)}`;
    }));
  }
  return out.length ? section("Actions", ...out) : h("p", { class: "muted" }, "You may not act on this job.");
}

export function jobView(kind, src, jobId) {
  const base = jobBase(kind, src, jobId);
  const head = h("div", {});
  const status = h("div", { id: "job-status" });
  const rest = h("div", {});
  render(h("p", {}, h("a", { href: "#/jobs" }, "← Jobs")), head, status, rest);
  let expandDocs = true;

  const load = async (conditional) => {
    let r;
    try {
      r = await graph.get(`${base}?$expand=${expandDocs ? "documents," : ""}tasks`, { conditional });
    } catch (e) {
      if (e.status !== 403 || !expandDocs) throw e;
      expandDocs = false;   // Basic job permissions see no document metadata
      r = await graph.get(`${base}?$expand=tasks`, { conditional });
    }
    const fresh = conditional ? r : { changed: true, body: r };
    if (!fresh.changed && head.childElementCount) return;
    const job = fresh.body;
    let tasks = job.tasks || [];
    try {
      tasks = (await graph.get(`${base}/tasks?$expand=definition`)).value || tasks;
    } catch { /* keep the tasks without their definitions */ }
    document.title = `Job ${job.id} · spoold console`;
    head.replaceChildren(h("h1", {}, job.displayName || `Job ${job.id}`), kv([
      ["Id", job.id], ["Owner", job.createdBy && (job.createdBy.userPrincipalName || job.createdBy.displayName)],
      ["Created", when(job.createdDateTime)], ["Acknowledged by the printer", when(job.acknowledgedDateTime)],
      ["Redirected from", job.redirectedFrom], ["Redirected to", job.redirectedTo],
    ]));
    const s = job.status || {};
    status.replaceChildren(section("Status", kv([
      ["State", h("span", { class: "job-state" }, badge(s.state))],
      ["Description", h("span", { class: "job-description" }, s.description || "—")],
      ["Details", (s.details || []).join(", ") || "—"],
    ])));
    rest.replaceChildren(
      documentsSection(base, job),
      tasksSection(tasks),
      actions(kind, src, job, tasks, () => load(false)));
  };
  return graph.poll(() => load(true), 3000, (e) => showError(e, "Job"));
}
