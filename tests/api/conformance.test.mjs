// SPDX-License-Identifier: Apache-2.0
// Conformance: every operation of appendix-a.json (reference Appendix A, the report, pull-print,
// beta, subscription and $metadata paths) through the real microsoft-graph-client (v3) against a
// running spoold, with tokens that hold what each operation needs. An operation marked served
// must answer its `expect` status class (never 404 or 405), its path must resolve through our
// own $metadata (navigation properties, bound operations), and its JSON must match the shape of
// its type there (names, EDM types, nullability, enum members; lib/csdl.mjs). An operation not
// served must answer 4xx with a Graph error, never 2xx. Served GETs run under /v1.0 and /beta,
// the rest under /v1.0. Destructive operations get fresh objects of their own.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { v3Client, graphV3, closeAgents } from "./lib/clients.mjs";
import { loadModel } from "./lib/csdl.mjs";
import { startReceiver } from "./lib/webhook-receiver.mjs";
import {
  PRINTER_MANAGEMENT_SCOPES, serverForSuite, registerPrinter, createShare, createJob, uploadDocument, csrBody,
} from "./lib/fixtures.mjs";

const LIST = JSON.parse(readFileSync(new URL("./appendix-a.json", import.meta.url), "utf8")).operations;
const APP_X = "00000000-0000-4000-8000-0000000000c1";
const ADMIN_SCOPES = [...PRINTER_MANAGEMENT_SCOPES, "PrinterShare.ReadWrite.All", "PrintJob.ReadWrite.All",
  "PrintSettings.ReadWrite.All", "PrintConnector.ReadWrite.All", "User.ReadBasic.All", "Group.Read.All", "Reports.Read.All",
  "PullPrintPrinter.FullControl.All"].join(" ");
const APP_ROLES = "PrintTaskDefinition.ReadWrite.All PrintJob.Manage.All PrintJob.ReadWrite.All Printer.Read.All";
const NS = "microsoft.graph";
const inMinutes = (m) => new Date(Date.now() + m * 60_000).toISOString();

after(() => closeAgents());

describe("conformance: every Appendix A operation through the Graph client", () => {
  const ctx = serverForSuite({ tls: true, args: ["--max-jobs-per-printer-window", "0", "--max-jobs-per-user-window", "0"] }, {
    tokens: {
      admin: { app: APP_X, scopes: ADMIN_SCOPES, admin: true },
      app: { app: APP_X, roles: APP_ROLES },
    },
    setup: async (ctx) => { ctx.rx = await startReceiver(); },
    teardown: async (ctx) => { if (ctx.rx) await ctx.rx.close(); },
  });
  const models = {};
  const clients = new Map();
  const w = {};   // the shared world: ids of the objects every read uses

  function client(token, version) {
    const key = `${token}|${version}`;
    if (!clients.has(key)) clients.set(key, v3Client({ origin: ctx.srv.origin, version, token, ca: ctx.srv.ca }));
    return clients.get(key);
  }

  // One request through the v3 client; resolves { status, contentType, text, json }.
  async function call(method, path, { token = ctx.admin, version = "v1.0", body, query } = {}) {
    let req = client(token, version).api(path).responseType(graphV3.ResponseType.RAW);
    if (query) req = req.query(query);
    const fn = { GET: "get", POST: "post", PATCH: "patch", PUT: "put", DELETE: "delete" }[method];
    const res = method === "GET" || method === "DELETE" ? await req[fn]() : await req[fn](body ?? {});
    const text = await res.text();
    const contentType = res.headers.get("content-type") || "";
    let json;
    if (/^application\/json/.test(contentType) && text) json = JSON.parse(text);
    return { status: res.status, contentType, text, json, headers: res.headers };
  }
  const ok = async (p, what) => {
    const r = await p;
    assert.ok(r.status >= 200 && r.status < 300, `${what}: ${r.status} ${r.text.slice(0, 300)}`);
    return r;
  };

  // ---- fixtures -------------------------------------------------------------------------------
  const printer = (name) => registerPrinter(ctx.srv, ctx.admin, { name });
  async function uploadedJob(printerId, parent = `printers/${printerId}`) {
    const job = await createJob(ctx.srv, ctx.admin, parent, {});
    await uploadDocument(ctx.srv, ctx.admin, parent, job);
    return job.id;
  }
  async function heldJob() {   // on w.P, whose trigger holds a started job with a processing task
    const id = await uploadedJob(w.P);
    await ok(call("POST", `/print/printers/${w.P}/jobs/${id}/start`), "start (held)");
    const tasks = await ok(call("GET", `/print/printers/${w.P}/jobs/${id}/tasks`), "job tasks");
    assert.equal(tasks.json.value.length, 1, "a held job has its task");
    return { job: id, task: tasks.json.value[0].id };
  }
  async function trigger(printerId) {
    const r = await ok(call("POST", `/print/printers/${printerId}/taskTriggers`, {
      body: { event: "jobStarted", "definition@odata.bind": `https://graph.microsoft.com/v1.0/print/taskDefinitions/${w.D}` },
    }), "create trigger");
    return r.json.id;
  }
  const printerRef = (id) => ({ "@odata.id": `https://graph.microsoft.com/v1.0/print/printers/${id}` });
  const userRef = (id) => ({ "@odata.id": `https://graph.microsoft.com/v1.0/users/${id}` });
  const groupRef = (id) => ({ "@odata.id": `https://graph.microsoft.com/v1.0/groups/${id}` });
  const definition = async (name) =>
    (await ok(call("POST", "/print/taskDefinitions", { token: ctx.app, body: { displayName: name } }), "definition")).json.id;
  const subscriptionBody = (definitionId) => ({
    changeType: "created", notificationUrl: ctx.rx.url("/hook"), resource: `print/taskDefinitions/${definitionId}/tasks`,
    expirationDateTime: inMinutes(60), clientState: "conformance",
  });
  async function subscription() {   // one per definition: an app has one per resource and change type
    const r = await ok(call("POST", "/subscriptions", { token: ctx.app, body: subscriptionBody(await definition("Watched")) }),
      "create subscription");
    return r.json.id;
  }

  // A pull-print printer: POST answers 202 + Operation-Location; resolves { id, op }.
  async function pullPrinter(name) {
    const r = await ok(call("POST", "/print/pullPrintPrinters", { body: { displayName: name } }), "create pull-print printer");
    assert.equal(r.status, 202);
    const op = r.headers.get("operation-location").split("/").pop();
    const pp = await ok(call("GET", `/print/operations/${op}/pullPrintPrinter`), "its pullPrintPrinter");
    return { id: pp.json.id, op };
  }

  before(async () => {
    models["v1.0"] = await loadModel(ctx.srv, "v1.0");
    models.beta = await loadModel(ctx.srv, "beta");
    w.D = await definition("Conformance");
    w.P = await printer("Conformance P");
    w.P2 = await printer("Conformance P2");
    w.TR = await trigger(w.P);
    w.S = await createShare(ctx.srv, ctx.admin, w.P);
    const held = await heldJob();
    w.J = held.job;
    w.T = held.task;
    w.DOC = (await ok(call("GET", `/print/printers/${w.P}/jobs/${w.J}/documents`), "documents")).json.value[0].id;
    w.U = randomUUID();
    w.G = randomUUID();
    await ok(call("POST", `/print/shares/${w.S}/allowedUsers/$ref`, { body: userRef(w.U) }), "allowed user");
    await ok(call("POST", `/print/shares/${w.S}/allowedGroups/$ref`, { body: groupRef(w.G) }), "allowed group");
    w.OP = (await ok(call("GET", "/print/operations"), "operations")).json.value[0].id;
    w.SVC = (await ok(call("GET", "/print/services"), "services")).json.value[0].id;
    w.EP = (await ok(call("GET", `/print/services/${w.SVC}/endpoints`), "endpoints")).json.value[0].id;
    w.SUB = await subscription();
    ({ id: w.PP, op: w.PPOP } = await pullPrinter("Conformance pull"));
    await ok(call("POST", `/print/pullPrintPrinters/${w.PP}/printers/$ref`, { body: printerRef(w.P) }), "pull-print member");
    await ok(call("PATCH", `/print/shares/${w.S}`, { body: { "pullPrintPrinter@odata.bind": `https://graph.microsoft.com/v1.0/print/pullPrintPrinters/${w.PP}` } }),
      "the share publishes the pull-print printer");
  });

  // The ids a path template takes, from the world (or overrides).
  function fill(template, ids = {}) {
    const v = {
      "printer-id": w.P, "printerShare-id": w.S, "printJob-id": w.J, "printDocument-id": w.DOC, "printTask-id": w.T,
      "printTaskTrigger-id": w.TR, "printTaskDefinition-id": w.D, "printConnector-id": randomUUID(),
      "printOperation-id": w.OP, "printService-id": w.SVC, "printServiceEndpoint-id": w.EP, "user-id": w.U,
      "group-id": w.G, "subscription-id": w.SUB, "pullPrintPrinter-id": w.PP,
      "printUsageByPrinter-id": randomUUID(), "printUsageByUser-id": randomUUID(),
      startDateTime: "2026-01-01T00:00:00Z", endDateTime: "2026-12-31T00:00:00Z", ...ids,
    };
    return template.replace(/\{([^}]+)\}/g, (_, k) => {
      if (!(k in v)) throw new Error(`no value for {${k}} in ${template}`);
      return v[k];
    });
  }

  // What an operation needs beyond the shared world: token, body, query, fresh objects (ids).
  const jobsOf = (p) => p.startsWith("/print/shares") ? { parent: () => `shares/${w.S}` } : { parent: () => `printers/${w.P}` };
  const SPECIAL = {
    "PATCH /print": async () => ({ body: { settings: { documentConversionEnabled: true } } }),
    "PATCH /print/settings": async () => ({ body: { documentConversionEnabled: false } }),
    "POST /print/printers/create": async () => ({
      body: { displayName: "Registered", manufacturer: "Contoso", model: "M1", hasPhysicalDevice: false,
        certificateSigningRequest: await csrBody("rsa2048") },
    }),
    "PATCH /print/printers/{printer-id}": async () => ({ body: { displayName: "Conformance P" } }),
    "DELETE /print/printers/{printer-id}": async () => ({ ids: { "printer-id": await printer("Doomed") } }),
    "POST /print/printers/{printer-id}/restoreFactoryDefaults": async () => ({}),
    "POST /print/printers/{printer-id}/taskTriggers": async () => {
      const p = await printer("Trigger target");
      return { ids: { "printer-id": p }, body: { event: "jobStarted", "definition@odata.bind": `https://graph.microsoft.com/v1.0/print/taskDefinitions/${w.D}` } };
    },
    "DELETE /print/printers/{printer-id}/taskTriggers/{printTaskTrigger-id}": async () => {
      const p = await printer("Trigger doomed");
      return { ids: { "printer-id": p, "printTaskTrigger-id": await trigger(p) } };
    },
    "POST /print/shares": async () => ({
      body: { displayName: "New share", allowAllUsers: true,
        "printer@odata.bind": `https://graph.microsoft.com/v1.0/print/printers/${await printer("To share")}` },
    }),
    "PATCH /print/shares/{printerShare-id}": async () => ({ body: { displayName: "Conformance share" } }),
    "DELETE /print/shares/{printerShare-id}": async () => {
      const p = await printer("Unshared");
      return { ids: { "printerShare-id": await createShare(ctx.srv, ctx.admin, p) } };
    },
    "POST /print/shares/{printerShare-id}/allowedUsers/$ref": async () => ({ body: userRef(randomUUID()) }),
    "POST /print/shares/{printerShare-id}/allowedGroups/$ref": async () => ({ body: groupRef(randomUUID()) }),
    "DELETE /print/shares/{printerShare-id}/allowedUsers/{user-id}/$ref": async () => {
      const u = randomUUID();
      await ok(call("POST", `/print/shares/${w.S}/allowedUsers/$ref`, { body: userRef(u) }), "add user");
      return { ids: { "user-id": u } };
    },
    "DELETE /print/shares/{printerShare-id}/allowedGroups/{group-id}/$ref": async () => {
      const g = randomUUID();
      await ok(call("POST", `/print/shares/${w.S}/allowedGroups/$ref`, { body: groupRef(g) }), "add group");
      return { ids: { "group-id": g } };
    },
    "DELETE /print/shares/{printerShare-id}/allowedUsers/$ref": async () => {
      const u = randomUUID();
      await ok(call("POST", `/print/shares/${w.S}/allowedUsers/$ref`, { body: userRef(u) }), "add user");
      return { query: { $id: userRef(u)["@odata.id"] } };
    },
    "DELETE /print/shares/{printerShare-id}/allowedGroups/$ref": async () => {
      const g = randomUUID();
      await ok(call("POST", `/print/shares/${w.S}/allowedGroups/$ref`, { body: groupRef(g) }), "add group");
      return { query: { $id: groupRef(g)["@odata.id"] } };
    },
    "POST /print/taskDefinitions": async () => ({ token: ctx.app, body: { displayName: "Another" } }),
    "PATCH /print/taskDefinitions/{printTaskDefinition-id}": async () => ({ token: ctx.app, body: { displayName: "Conformance" } }),
    "DELETE /print/taskDefinitions/{printTaskDefinition-id}": async () => {
      const r = await ok(call("POST", "/print/taskDefinitions", { token: ctx.app, body: { displayName: "Doomed" } }), "definition");
      return { token: ctx.app, ids: { "printTaskDefinition-id": r.json.id } };
    },
    "PATCH /print/taskDefinitions/{printTaskDefinition-id}/tasks/{printTask-id}": async () => {
      const h = await heldJob();
      return { token: ctx.app, ids: { "printTask-id": h.task }, body: { status: { state: "completed", description: "Released" } } };
    },
    // J10: the administrator (PrintJob.ReadWrite.All, Printer Administrator) releases a held job
    "POST /print/printers/{printer-id}/jobs/release": async () => ({ ids: { "printer-id": w.P }, body: { jobId: (await heldJob()).job } }),
    "POST /print/pullPrintPrinters": async () => ({ body: { displayName: "Another pull", includeAllPrinters: true } }),
    "DELETE /print/pullPrintPrinters/{pullPrintPrinter-id}": async () => ({ ids: { "pullPrintPrinter-id": (await pullPrinter("Doomed pull")).id } }),
    "GET /print/operations/{printOperation-id}/pullPrintPrinter": async () => ({ ids: { "printOperation-id": w.PPOP } }),
    "PATCH /print/pullPrintPrinters/{pullPrintPrinter-id}": async () => ({ body: { includeAllPrinters: false, location: { building: "C" } } }),
    "POST /print/pullPrintPrinters/{pullPrintPrinter-id}/printers/$ref": async () => ({ body: printerRef(await printer("Pull member")) }),
    "DELETE /print/pullPrintPrinters/{pullPrintPrinter-id}/printers/{printer-id}/$ref": async () => {
      const p = await printer("Pull member doomed");
      await ok(call("POST", `/print/pullPrintPrinters/${w.PP}/printers/$ref`, { body: printerRef(p) }), "add member");
      return { ids: { "printer-id": p } };
    },
    "POST /subscriptions": async () => ({ token: ctx.app, body: subscriptionBody(await definition("Subscribed")) }),
    "PATCH /subscriptions/{subscription-id}": async () => ({ token: ctx.app, body: { expirationDateTime: inMinutes(90) } }),
    "DELETE /subscriptions/{subscription-id}": async () => ({ token: ctx.app, ids: { "subscription-id": await subscription() } }),
  };
  // a usage row exists once a job has ended: cancel one, then read the report's first row
  for (const report of ["dailyPrintUsageByPrinter", "monthlyPrintUsageByPrinter", "dailyPrintUsageByUser", "monthlyPrintUsageByUser"]) {
    const key = report.endsWith("Printer") ? "printUsageByPrinter-id" : "printUsageByUser-id";
    SPECIAL[`GET /reports/${report}/{${key}}`] = async () => {
      const job = await createJob(ctx.srv, ctx.admin, `printers/${w.P2}`, {});
      await ok(call("POST", `/print/printers/${w.P2}/jobs/${job.id}/cancel`), "cancel");
      const list = await ok(call("GET", `/reports/${report}`), report);
      assert.ok(list.json.value.length > 0, `${report} has a row`);
      return { ids: { [key]: list.json.value[0].id } };
    };
  }
  for (const prefix of ["/print/printers/{printer-id}", "/print/shares/{printerShare-id}"]) {
    const J = `${prefix}/jobs/{printJob-id}`;
    const { parent } = jobsOf(prefix);
    Object.assign(SPECIAL, {
      [`POST ${prefix}/jobs`]: async () => ({ body: { configuration: { copies: 1 } } }),
      [`PATCH ${J}`]: async () => ({ token: ctx.app, ids: { "printJob-id": (await heldJob()).job }, body: { configuration: { copies: 2 } } }),
      [`POST ${J}/start`]: async () => ({ ids: { "printJob-id": await uploadedJob(w.P, parent()) } }),
      [`POST ${J}/cancel`]: async () => ({ ids: { "printJob-id": (await createJob(ctx.srv, ctx.admin, parent(), {})).id } }),
      [`POST ${J}/abort`]: async () => ({ token: ctx.app, ids: { "printJob-id": (await heldJob()).job }, body: { reason: "conformance" } }),
      [`POST ${J}/redirect`]: async () => ({ token: ctx.app, ids: { "printJob-id": (await heldJob()).job }, body: { destinationPrinterId: w.P2 } }),
      [`POST ${J}/documents/{printDocument-id}/createUploadSession`]: async () => {
        const job = await createJob(ctx.srv, ctx.admin, parent(), {});
        return { ids: { "printJob-id": job.id, "printDocument-id": job.documents[0].id },
          body: { properties: { documentName: "c.pdf", contentType: "application/pdf", size: 10 } } };
      },
    });
  }
  // operations the application token reads (definitions and their tasks are the app's own)
  const APP_READS = [/^\/print\/taskDefinitions/, /^\/subscriptions/];

  // Checks the answer's body against the $metadata type the path resolves to.
  function checkShape(model, version, entry, r, problems) {
    let target;
    try { target = model.resolve(entry.path); } catch (e) { problems.push(`the path is not in our $metadata: ${e.message}`); return; }
    if (r.status === 204 || r.status === 202) return;
    // POST to a collection creates one of its entities
    if (target.kind === "collection" && entry.method === "POST") target = { kind: "entity", type: target.type };
    if (target.kind === "count") {
      if (!/^text\/plain/.test(r.contentType) || !/^\d+$/.test(r.text)) problems.push(`$count answered ${r.contentType} '${r.text}'`);
      return;
    }
    if (target.kind === "value") return;   // the document's bytes
    if (!r.json) { problems.push(`expected JSON, got ${r.contentType}`); return; }
    const ctxUrl = r.json["@odata.context"];
    if (typeof ctxUrl !== "string" || !ctxUrl.startsWith(`${ctx.srv.url}/${version}/$metadata#`))
      problems.push(`@odata.context ${ctxUrl} does not point into /${version}/$metadata`);
    if (target.kind === "ref") {
      for (const v of r.json.value || []) if (typeof v["@odata.id"] !== "string") problems.push("a reference without @odata.id");
      return;
    }
    const type = target.kind === "operation" ? target.type : target.type;
    if (!type) return;
    if (target.kind === "collection" || /^Collection\(/.test(type)) {
      if (!Array.isArray(r.json.value)) { problems.push("a collection without value[]"); return; }
      const el = type.replace(/^Collection\((.*)\)$/, "$1");
      r.json.value.forEach((x, i) => problems.push(...model.check(x, el).map((p) => `value[${i}]${p}`)));
      return;
    }
    problems.push(...model.check(r.json, type));
  }

  for (const entry of LIST) {
    const versions = entry.served && entry.method === "GET" ? ["v1.0", "beta"] : ["v1.0"];
    for (const version of versions) {
      const label = `${entry.method} ${entry.path} (${version})${entry.served ? "" : ` not served: ${entry.note}`}`;
      it(label, async () => {
        const key = `${entry.method} ${entry.path}`;
        const spec = SPECIAL[key] ? await SPECIAL[key]() : {};
        const token = spec.token || (APP_READS.some((re) => re.test(entry.path)) ? ctx.app : ctx.admin);
        const path = fill(entry.path, spec.ids);
        const r = await call(entry.method, path, { token, version, body: spec.body, query: spec.query });
        const cls = `${String(r.status)[0]}xx`;
        if (!entry.served) {
          assert.equal(cls, "4xx", `${key} is listed as not served but answered ${r.status} ${r.text.slice(0, 200)}`);
          assert.ok(r.json?.error?.code, `a Graph error envelope: ${r.text.slice(0, 200)}`);
          return;
        }
        assert.ok(r.status !== 404 && r.status !== 405, `${key} is served but answered ${r.status} ${r.text.slice(0, 300)}`);
        assert.equal(cls, entry.expect, `${key}: ${r.status} ${r.text.slice(0, 300)}`);
        if (entry.path === "/$metadata") {
          assert.match(r.contentType, /^application\/xml/);
          return;
        }
        const problems = [];
        checkShape(models[version], version, entry, r, problems);
        assert.deepEqual(problems, [], `${key} (${version}) does not match our $metadata:\n${problems.join("\n")}`);
      });
    }
  }

  it("docs/api-coverage.md lists every entry with the same status", () => {
    const doc = readFileSync(new URL("../../docs/api-coverage.md", import.meta.url), "utf8");
    const rows = new Map();
    for (const m of doc.matchAll(/^\| (GET|POST|PATCH|PUT|DELETE) \| `([^`]+)` \| (.+) \|$/gm)) rows.set(`${m[1]} ${m[2]}`, m[3]);
    for (const e of LIST) {
      const status = rows.get(`${e.method} ${e.path}`);
      assert.ok(status, `docs/api-coverage.md has no row for ${e.method} ${e.path}`);
      assert.equal(status.startsWith("served"), e.served, `${e.method} ${e.path}: the docs say '${status}'`);
    }
  });

  it("the list is well-formed: no entry twice, a reason for each operation not served", () => {
    const served = LIST.filter((e) => e.served).length;
    assert.ok(served >= 100, `${served} served operations`);
    const keys = new Set(LIST.map((e) => `${e.method} ${e.path}`));
    assert.equal(keys.size, LIST.length, "no entry twice");
    for (const e of LIST) {
      assert.ok(["2xx", "3xx", "4xx"].includes(e.expect), `${e.method} ${e.path}: expect`);
      if (!e.served) assert.ok(e.note, `${e.method} ${e.path}: a not-served entry says why`);
    }
  });
});
