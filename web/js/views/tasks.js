// SPDX-License-Identifier: Apache-2.0
// Pull printing: the task definitions of the signed-in application, and the task triggers of
// each printer (administrators).
import * as graph from "../graph.js";
import { identity } from "../auth.js";
import { h, render, table, section, form, field, actionButton, showError } from "../ui.js";

function definitionsSection(out) {
  const load = async () => {
    const { items } = await graph.list("/print/taskDefinitions");
    out.replaceChildren(table([
      { title: "Definition", cell: (d) => d.displayName },
      { title: "Id", cell: (d) => d.id },
      { title: "Created by", cell: (d) => (d.createdBy ? d.createdBy.displayName || d.createdBy.appId : "—") },
      { title: "", cell: (d) => actionButton("Delete", async () => { await graph.del(`/print/taskDefinitions/${d.id}`); await load(); }) },
    ], items, "This application has no task definition yet."),
    form({ class: "inline", id: "definition-form" }, [field("Name", "displayName", { required: true })], "Create a task definition",
      async (fd) => {
        await graph.post("/print/taskDefinitions", {
          displayName: fd.get("displayName"),
          createdBy: { displayName: fd.get("displayName") },
        });
        await load();
      }));
  };
  load().catch((e) => showError(e, "Task definitions"));
}

function triggersSection(out) {
  (async () => {
    const { items: printers } = await graph.list("/print/printers?$select=id,displayName&$top=100");
    const rows = [];
    for (const p of printers) {
      const { items } = await graph.list(`/print/printers/${p.id}/taskTriggers?$expand=definition`);
      rows.push(...items.map((t) => ({ id: t.id, t, p })));
    }
    out.replaceChildren(table([
      { title: "Printer", cell: (r) => h("a", { href: `#/printers/${encodeURIComponent(r.p.id)}` }, r.p.displayName) },
      { title: "Trigger", cell: (r) => r.id },
      { title: "Event", cell: (r) => r.t.event },
      { title: "Definition", cell: (r) => (r.t.definition ? r.t.definition.displayName || r.t.definition.id : "—") },
    ], rows, "No printer has a task trigger: add one from a printer's page."));
  })().catch((e) => showError(e, "Task triggers"));
}

export function tasksView() {
  const id = identity();
  const parts = [h("h1", {}, "Pull printing")];
  if (id.isApp) {
    const defs = h("div", { id: "definitions" });
    parts.push(section("Task definitions", defs));
    render(...parts);
    definitionsSection(defs);
  } else if (id.isAdmin) {
    const trig = h("div", { id: "triggers" });
    parts.push(h("p", { class: "muted" },
      "Task definitions belong to pull-print applications (application permission PrintTaskDefinition.ReadWrite.All); sign in as the application to manage them."),
    section("Task triggers", trig));
    render(...parts);
    triggersSection(trig);
  } else {
    render(...parts, h("p", {}, "Pull printing is set up by administrators and pull-print applications."));
  }
  return null;
}
