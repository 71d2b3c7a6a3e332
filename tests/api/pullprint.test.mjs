// SPDX-License-Identifier: Apache-2.0
// Pull printing (reference §2.8, §4.3 J5/J8/J9, §4.5, §5, §6) through the real Graph clients:
// task definitions, task triggers, print tasks, and the full flow — an administrator registers
// printers (POST /print/printers/create), shares one and binds the app's definition with a
// trigger; a user prints to the share (create, upload through the documents API, start); the job
// is held and a print task appears; the app then completes the task, aborts the job, redirects it
// or changes its configuration. Every refusal asserts its status, its error code and that the job
// and its task did not change. A race test hits 50 held jobs at once with abort and task
// completion; held-job expiry and job retention run on a server with short timeouts.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { kiotaClient, kiotaWithStatus, rawFetch, models, GUID, closeAgents } from "./lib/clients.mjs";
import { assertErrorEnvelope, expectKiotaError } from "./lib/graph-assert.mjs";
import { HELD_JOB_RACE_OUTCOMES, raceWinners } from "./lib/held-job-races.mjs";
import {
  PRINTER_MANAGEMENT_SCOPES, serverForSuite, registerPrinter, createShare, uploadDocument, csrBody,
} from "./lib/fixtures.mjs";

// The pull-print vendor's application (app X of reference §6) and a second vendor.
const APP_X = "00000000-0000-4000-8000-0000000000a1";
const APP_Y = "00000000-0000-4000-8000-0000000000b2";
const APP_ROLES = "PrintTaskDefinition.ReadWrite.All PrintJob.Manage.All PrintJob.ReadWrite.All Printer.Read.All";
const ADMIN_SCOPES = [...PRINTER_MANAGEMENT_SCOPES, "PrinterShare.ReadWrite.All", "PrintJob.ReadWrite.All"].join(" ");
const USER_SCOPES = "PrintJob.ReadWrite PrinterShare.ReadBasic.All";
const PDF = Buffer.from("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n");
const HELD_DESCRIPTION = "The job is waiting for a print task to complete.";
const ALICE_OID = "00000000-0000-4000-8000-00000000a11c";

after(() => closeAgents());

// ---- helpers -----------------------------------------------------------------------------------

const kiota = (ctx, token, version = "v1.0") => kiotaClient({ origin: ctx.srv.origin, version, token, ca: ctx.srv.ca });
const raw = (ctx, p, opts = {}) => rawFetch(`${ctx.srv.origin}${p}`, { ca: ctx.srv.ca, ...opts });
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

// A user's job on share shareId with its document uploaded, not started. Resolves { id, docId }.
async function uploadedJob(ctx, shareId, { token = ctx.user, configuration = { copies: 1, colorMode: "color" } } = {}) {
  const job = await kiota(ctx, token).print.shares.byPrinterShareId(shareId).jobs.post({ configuration });
  const { documentId } = await uploadDocument(ctx.srv, token, `shares/${shareId}`, job, PDF, { documentName: "report.pdf" });
  return { id: job.id, docId: documentId };
}

// Starts job id through share shareId; resolves the printJobStatus.
function startJob(ctx, shareId, id, token = ctx.user) {
  return kiota(ctx, token).print.shares.byPrinterShareId(shareId).jobs.byPrintJobId(id).start.post();
}

// A job held by a print task on the share's printer: { id, docId, status, task }.
async function heldJob(ctx, shareId = ctx.sV, printerId = ctx.V, opts = {}) {
  const job = await uploadedJob(ctx, shareId, opts);
  job.status = await startJob(ctx, shareId, job.id, opts.token);
  const tasks = await getJson(ctx, `/v1.0/print/printers/${printerId}/jobs/${job.id}/tasks`, ctx.app);
  assert.equal(tasks.value.length, 1, JSON.stringify(tasks));
  job.task = tasks.value[0];
  return job;
}

async function getJson(ctx, p, token) {
  const r = await raw(ctx, p, { token });
  assert.equal(r.status, 200, `GET ${p}: ${r.status} ${r.text}`);
  return r.json;
}

// The job (read with the app token) and its task (read under its definition).
async function snapshot(ctx, printerId, jobId, taskId, definitionId = ctx.D) {
  const job = await getJson(ctx, `/v1.0/print/printers/${printerId}/jobs/${jobId}`, ctx.app);
  const task = taskId ? await getJson(ctx, `/v1.0/print/taskDefinitions/${definitionId}/tasks/${taskId}`,
    definitionId === ctx.D ? ctx.app : ctx.appY) : undefined;
  return { job, task };
}

function assertHeld(snap, msg = "") {
  assert.equal(snap.job.status.state, "paused", `${msg} job state: ${JSON.stringify(snap.job.status)}`);
  assert.deepEqual(snap.job.status.details, [], msg);
  assert.equal(snap.job.status.description, HELD_DESCRIPTION, msg);
  assert.equal(snap.job.isFetchable, false, msg);
  if (snap.task) assert.equal(snap.task.status.state, "processing", `${msg} task: ${JSON.stringify(snap.task)}`);
}

const jobPath = (printerId, jobId) => `/v1.0/print/printers/${printerId}/jobs/${jobId}`;
const abort = (ctx, printerId, jobId, token, json) =>
  raw(ctx, `${jobPath(printerId, jobId)}/abort`, { method: "POST", token, json });

// Starts a server and sets up the tenant of §6: definition D of app X, printers V (trigger -> D,
// shared as sV) and P (no trigger), printer W whose trigger binds app Y's definition DY (shared
// as sW).
function pullPrintWorld(opts = {}) {
  return serverForSuite({
    ...opts,
    args: ["--max-jobs-per-printer-window", "0", "--max-jobs-per-user-window", "0", ...(opts.args || [])],
  }, {
    ctx: { other: randomUUID() },
    tokens: (ctx) => ({
      admin: { app: APP_X, scopes: ADMIN_SCOPES, admin: true },
      adminY: { app: APP_Y, scopes: ADMIN_SCOPES, admin: true },
      user: { user: ALICE_OID, scopes: USER_SCOPES, upn: "alice@contoso.test" },
      // the same user with a permission that allows Get printer (J10 goes through a printer)
      releaser: { user: ALICE_OID, scopes: `${USER_SCOPES} Printer.Read.All`, upn: "alice@contoso.test" },
      otherReleaser: { scopes: `${USER_SCOPES} Printer.Read.All`, upn: "bob@contoso.test" },
      app: { app: APP_X, roles: APP_ROLES },
      appY: { app: APP_Y, roles: APP_ROLES },
      otherTenantApp: { tenant: ctx.other, app: APP_X, roles: APP_ROLES },
    }),
    setup: async (ctx) => {
      ctx.D = (await kiota(ctx, ctx.app).print.taskDefinitions.post({ displayName: "Secure release" })).id;
      ctx.DY = (await kiota(ctx, ctx.appY).print.taskDefinitions.post({ displayName: "Other vendor" })).id;
      ctx.V = await registerPrinter(ctx.srv, ctx.admin, { name: "Virtual queue" });
      ctx.P = await registerPrinter(ctx.srv, ctx.admin, { name: "Physical MFP" });
      ctx.W = await registerPrinter(ctx.srv, ctx.admin, { name: "Other vendor queue" });
      const trig = await kiota(ctx, ctx.admin).print.printers.byPrinterId(ctx.V).taskTriggers.post({
        event: "jobStarted", additionalData: { "definition@odata.bind": `https://graph.microsoft.com/v1.0/print/taskDefinitions/${ctx.D}` },
      });
      ctx.T = trig.id;
      ctx.TY = (await kiota(ctx, ctx.adminY).print.printers.byPrinterId(ctx.W).taskTriggers.post({
        event: "jobStarted", additionalData: { "definition@odata.bind": `print/taskDefinitions/${ctx.DY}` },
      })).id;
      ctx.sV = await createShare(ctx.srv, ctx.admin, ctx.V, { name: "Follow-me" });
      ctx.sP = await createShare(ctx.srv, ctx.admin, ctx.P, { name: "MFP" });
      ctx.sW = await createShare(ctx.srv, ctx.admin, ctx.W, { name: "Other vendor" });
    },
  });
}


// ---- task definitions ---------------------------------------------------------------------------

describe("task definitions", () => {
  const ctx = pullPrintWorld();

  it("POST (Kiota): 201 with createdBy.appId from the token and the client's createdBy.displayName", async () => {
    const client = kiota(ctx, ctx.app);
    const r = await kiotaWithStatus((cfg) => client.print.taskDefinitions.post({
      displayName: "Badge release", createdBy: { displayName: "Contoso Release" },
    }, cfg), models.createPrintTaskDefinitionFromDiscriminatorValue);
    assert.equal(r.status, 201, r.text);
    assert.match(r.value.id, GUID);
    assert.equal(r.value.displayName, "Badge release");
    assert.equal(r.value.createdBy.appId, APP_X);
    assert.equal(r.value.createdBy.displayName, "Contoso Release");
    assert.equal(r.json["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#print/taskDefinitions/$entity`);
    ctx.created = r.value.id;
  });

  it("GET by id: @odata.type printTaskDefinition; another app's or tenant's definition is 404", async () => {
    const res = await raw(ctx, `/v1.0/print/taskDefinitions/${ctx.created}`, { token: ctx.app });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json["@odata.type"], "#microsoft.graph.printTaskDefinition");
    assert.equal(res.json.createdBy.appId, APP_X);
    const def = await kiota(ctx, ctx.app, "beta").print.taskDefinitions.byPrintTaskDefinitionId(ctx.created).get();
    assert.equal(def.displayName, "Badge release");
    for (const token of [ctx.appY, ctx.otherTenantApp]) {
      const r = await raw(ctx, `/v1.0/print/taskDefinitions/${ctx.created}`, { token });
      assertErrorEnvelope(r, { status: 404, code: "itemNotFound" });
    }
  });

  it("GET list: only the calling application's definitions; unsupported options are 400", async () => {
    const list = await kiota(ctx, ctx.app).print.taskDefinitions.get();
    const ids = list.value.map((d) => d.id).sort();
    assert.deepEqual(ids, [ctx.D, ctx.created].sort());
    assert.ok(list.value.every((d) => d.createdBy.appId === APP_X));
    const listY = await getJson(ctx, "/v1.0/print/taskDefinitions", ctx.appY);
    assert.deepEqual(listY.value.map((d) => d.id), [ctx.DY]);
    assert.equal(listY["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#print/taskDefinitions`);
    for (const q of ["$top=1", "$count=true", "$select=id", "$skip=1", "$search=x", "$format=json"]) {
      const r = await raw(ctx, `/v1.0/print/taskDefinitions?${q}`, { token: ctx.app });
      assertErrorEnvelope(r, { status: 400, code: "invalidRequest" });
    }
    const f = await getJson(ctx, "/v1.0/print/taskDefinitions?$filter=displayName eq 'Badge release'", ctx.app);
    assert.deepEqual(f.value.map((d) => d.id), [ctx.created]);
  });

  it("GET list pages with @odata.nextLink and $skiptoken", async () => {
    const app = await ctx.srv.mintApp({ tenant: ctx.tenant, app: randomUUID(), roles: APP_ROLES });
    for (let i = 0; i < 105; i++)
      assert.equal((await raw(ctx, "/v1.0/print/taskDefinitions", { method: "POST", token: app, json: { displayName: `d${i}` } })).status, 201);
    const first = await getJson(ctx, "/v1.0/print/taskDefinitions", app);
    assert.equal(first.value.length, 100);
    assert.match(first["@odata.nextLink"], /\$skiptoken=/);
    const second = await rawFetch(first["@odata.nextLink"], { token: app, ca: ctx.srv.ca });
    assert.equal(second.status, 200, second.text);
    assert.equal(second.json.value.length, 5);
    assert.equal(second.json["@odata.nextLink"], undefined);
    const all = new Set([...first.value, ...second.json.value].map((d) => d.id));
    assert.equal(all.size, 105);
  });

  it("PATCH: displayName and createdBy.displayName change (200); appId and unknown properties are 400", async () => {
    const client = kiota(ctx, ctx.app);
    const r = await kiotaWithStatus((cfg) => client.print.taskDefinitions.byPrintTaskDefinitionId(ctx.created).patch({
      displayName: "Badge release v2", createdBy: { displayName: "Contoso" },
    }, cfg), models.createPrintTaskDefinitionFromDiscriminatorValue);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.value.displayName, "Badge release v2");
    assert.equal(r.value.createdBy.displayName, "Contoso");
    assert.equal(r.value.createdBy.appId, APP_X);
    for (const body of [{ createdBy: { appId: APP_Y } }, { id: "x" }, { color: "red" }, { displayName: 5 }, { displayName: "" }]) {
      const bad = await raw(ctx, `/v1.0/print/taskDefinitions/${ctx.created}`, { method: "PATCH", token: ctx.app, json: body });
      assertErrorEnvelope(bad, { status: 400, code: "invalidRequest" });
    }
    const after = await getJson(ctx, `/v1.0/print/taskDefinitions/${ctx.created}`, ctx.app);
    assert.equal(after.displayName, "Badge release v2");
    assert.equal(after.createdBy.appId, APP_X);
    const other = await raw(ctx, `/v1.0/print/taskDefinitions/${ctx.created}`, { method: "PATCH", token: ctx.appY, json: { displayName: "mine" } });
    assertErrorEnvelope(other, { status: 404, code: "itemNotFound" });
  });

  it("POST without displayName, or with a delegated token: refused", async () => {
    assertErrorEnvelope(await raw(ctx, "/v1.0/print/taskDefinitions", { method: "POST", token: ctx.app, json: {} }),
      { status: 400, code: "invalidRequest" });
    const dlg = await raw(ctx, "/v1.0/print/taskDefinitions", { method: "POST", token: ctx.admin, json: { displayName: "x" } });
    const err = assertErrorEnvelope(dlg, { status: 403, code: "accessDenied" });
    assert.match(err.message, /application permissions/);
    const noRole = await ctx.srv.mintApp({ tenant: ctx.tenant, app: APP_X, roles: "Printer.Read.All" });
    const e2 = assertErrorEnvelope(await raw(ctx, "/v1.0/print/taskDefinitions", { token: noRole }), { status: 403, code: "accessDenied" });
    assert.match(e2.message, /PrintTaskDefinition\.ReadWrite\.All/);
  });

  it("DELETE: 409 notAllowed while a trigger binds it, 204 once the trigger is gone", async () => {
    const printer = await registerPrinter(ctx.srv, ctx.admin, { name: "Temp" });
    const trig = await raw(ctx, `/v1.0/print/printers/${printer}/taskTriggers`, {
      method: "POST", token: ctx.admin, json: { event: "jobStarted", "definition@odata.bind": `${ctx.srv.url}/beta/print/taskDefinitions('${ctx.created}')` },
    });
    assert.equal(trig.status, 201, trig.text);
    const refused = await raw(ctx, `/v1.0/print/taskDefinitions/${ctx.created}`, { method: "DELETE", token: ctx.app });
    const err = assertErrorEnvelope(refused, { status: 409, code: "notAllowed" });
    assert.match(err.message, /trigger/);
    assert.equal((await raw(ctx, `/v1.0/print/taskDefinitions/${ctx.created}`, { token: ctx.app })).status, 200);
    assert.equal((await raw(ctx, `/v1.0/print/printers/${printer}/taskTriggers/${trig.json.id}`, { method: "DELETE", token: ctx.admin })).status, 204);
    const r = await kiotaWithStatus((cfg) => kiota(ctx, ctx.app).print.taskDefinitions.byPrintTaskDefinitionId(ctx.created).delete(cfg));
    assert.equal(r.status, 204);
    assertErrorEnvelope(await raw(ctx, `/v1.0/print/taskDefinitions/${ctx.created}`, { token: ctx.app }), { status: 404, code: "itemNotFound" });
  });
});

// ---- task triggers -------------------------------------------------------------------------------

describe("task triggers", () => {
  const ctx = pullPrintWorld();

  it("list, get and GET .../definition of the trigger bound in setup", async () => {
    const client = kiota(ctx, ctx.admin);
    const list = await client.print.printers.byPrinterId(ctx.V).taskTriggers.get();
    assert.deepEqual(list.value.map((t) => t.id), [ctx.T]);
    assert.equal(list.value[0].event, "jobStarted");
    const r = await raw(ctx, `/v1.0/print/printers/${ctx.V}/taskTriggers/${ctx.T}`, { token: ctx.admin });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#print/printers('${ctx.V}')/taskTriggers/$entity`);
    assert.deepEqual({ id: r.json.id, event: r.json.event }, { id: ctx.T, event: "jobStarted" });
    const def = await client.print.printers.byPrinterId(ctx.V).taskTriggers.byPrintTaskTriggerId(ctx.T).definition.get();
    assert.equal(def.id, ctx.D);
    assert.equal(def.createdBy.appId, APP_X);
    const exp = await getJson(ctx, `/v1.0/print/printers/${ctx.V}/taskTriggers?$expand=definition`, ctx.admin);
    assert.equal(exp.value[0].definition.id, ctx.D);
    for (const q of ["$top=1", "$count=true", "$select=id", "$skip=1", "$search=x", "$format=json"])
      assertErrorEnvelope(await raw(ctx, `/v1.0/print/printers/${ctx.V}/taskTriggers?${q}`, { token: ctx.admin }), { status: 400, code: "invalidRequest" });
  });

  it("a second trigger on a printer: 409 notAllowed", async () => {
    const r = await raw(ctx, `/v1.0/print/printers/${ctx.V}/taskTriggers`, {
      method: "POST", token: ctx.admin, json: { event: "jobStarted", "definition@odata.bind": `${ctx.srv.url}/v1.0/print/taskDefinitions/${ctx.D}` },
    });
    const err = assertErrorEnvelope(r, { status: 409, code: "notAllowed" });
    assert.match(err.message, /at most one/);
  });

  it("binding another application's definition: 403 accessDenied saying so", async () => {
    const p = await registerPrinter(ctx.srv, ctx.admin, { name: "Y's definition" });
    const r = await raw(ctx, `/v1.0/print/printers/${p}/taskTriggers`, {
      method: "POST", token: ctx.admin, json: { event: "jobStarted", "definition@odata.bind": `https://graph.microsoft.com/beta/print/taskDefinitions/${ctx.DY}` },
    });
    const err = assertErrorEnvelope(r, { status: 403, code: "accessDenied" });
    assert.match(err.message, /another application/);
    assert.deepEqual((await getJson(ctx, `/v1.0/print/printers/${p}/taskTriggers`, ctx.admin)).value, []);
  });

  it("bad bodies and callers: 400 / 403 / 404", async () => {
    const p = await registerPrinter(ctx.srv, ctx.admin, { name: "Bad bodies" });
    const post = (json, token = ctx.admin, printer = p) =>
      raw(ctx, `/v1.0/print/printers/${printer}/taskTriggers`, { method: "POST", token, json });
    const bind = `/print/taskDefinitions/${ctx.D}`;
    for (const body of [
      { event: "jobStarted" },
      { event: "jobStarted", "definition@odata.bind": "https://example.com/v1.0/print/printers/x" },
      { event: "jobStarted", "definition@odata.bind": `print/taskDefinitions/${randomUUID()}` },
      { event: "jobEnded", "definition@odata.bind": bind },
      { "definition@odata.bind": bind },
      { event: "jobStarted", "definition@odata.bind": bind, color: "red" },
    ]) assertErrorEnvelope(await post(body), { status: 400, code: "invalidRequest" });
    const user = await post({ event: "jobStarted", "definition@odata.bind": bind }, ctx.user);
    assertErrorEnvelope(user, { status: 403, code: "accessDenied" });
    const app = await post({ event: "jobStarted", "definition@odata.bind": bind }, ctx.app);
    assertErrorEnvelope(app, { status: 403, code: "accessDenied" });
    assertErrorEnvelope(await post({ event: "jobStarted", "definition@odata.bind": bind }, ctx.admin, randomUUID()),
      { status: 404, code: "itemNotFound" });
    assert.deepEqual((await getJson(ctx, `/v1.0/print/printers/${p}/taskTriggers`, ctx.admin)).value, []);
  });

  it("create with a relative binding (201, created_by_app recorded) and delete (204)", async () => {
    const p = await registerPrinter(ctx.srv, ctx.admin, { name: "Relative" });
    const client = kiota(ctx, ctx.admin, "beta");
    const r = await kiotaWithStatus((cfg) => client.print.printers.byPrinterId(p).taskTriggers.post({
      event: "jobStarted", additionalData: { "definition@odata.bind": `/v1.0/print/taskDefinitions/${ctx.D}` },
    }, cfg), models.createPrintTaskTriggerFromDiscriminatorValue);
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json["@odata.context"], `${ctx.srv.url}/beta/$metadata#print/printers('${p}')/taskTriggers/$entity`);
    const del = await kiotaWithStatus((cfg) => client.print.printers.byPrinterId(p).taskTriggers.byPrintTaskTriggerId(r.value.id).delete(cfg));
    assert.equal(del.status, 204);
    assertErrorEnvelope(await raw(ctx, `/v1.0/print/printers/${p}/taskTriggers/${r.value.id}`, { token: ctx.admin }), { status: 404, code: "itemNotFound" });
  });
});

// ---- the flow ------------------------------------------------------------------------------------

describe("pull-print flow", () => {
  const ctx = pullPrintWorld();

  it("start on a printer with a trigger: the job is held and a processing task appears", async () => {
    const job = await uploadedJob(ctx, ctx.sV);
    const status = await startJob(ctx, ctx.sV, job.id);
    assert.equal(status.state, "paused");
    assert.deepEqual(status.details, []);
    assert.equal(status.description, HELD_DESCRIPTION);

    const tasks = await kiota(ctx, ctx.app).print.taskDefinitions.byPrintTaskDefinitionId(ctx.D).tasks.get();
    const task = tasks.value.find((t) => t.parentUrl.endsWith(`/jobs/${job.id}`));
    assert.ok(task, JSON.stringify(tasks.value));
    assert.match(task.id, GUID);
    assert.equal(task.parentUrl, `${ctx.srv.url}/v1.0/print/printers/${ctx.V}/jobs/${job.id}`);
    assert.equal(task.status.state, "processing");

    const one = await raw(ctx, `/v1.0/print/taskDefinitions/${ctx.D}/tasks/${task.id}`, { token: ctx.app });
    assert.equal(one.status, 200, one.text);
    assert.equal(one.json["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#print/taskDefinitions('${ctx.D}')/tasks/$entity`);
    const trig = await kiota(ctx, ctx.app).print.taskDefinitions.byPrintTaskDefinitionId(ctx.D).tasks.byPrintTaskId(task.id).trigger.get();
    assert.equal(trig.id, ctx.T);
    const def = await kiota(ctx, ctx.app).print.taskDefinitions.byPrintTaskDefinitionId(ctx.D).tasks.byPrintTaskId(task.id).definition.get();
    assert.equal(def.id, ctx.D);

    const viaJob = await kiota(ctx, ctx.app).print.shares.byPrinterShareId(ctx.sV).jobs.byPrintJobId(job.id).tasks.get();
    assert.deepEqual(viaJob.value.map((t) => t.id), [task.id]);
    const viaJobOne = await getJson(ctx, `/v1.0/print/shares/${ctx.sV}/jobs/${job.id}/tasks/${task.id}`, ctx.user);
    assert.equal(viaJobOne.status.state, "processing");
    // job-side task navigation: definition and trigger under both job paths and both prefixes
    const jobSide = kiota(ctx, ctx.app).print.printers.byPrinterId(ctx.V).jobs.byPrintJobId(job.id).tasks.byPrintTaskId(task.id);
    assert.equal((await jobSide.definition.get()).id, ctx.D);
    assert.equal((await jobSide.trigger.get()).id, ctx.T);
    for (const version of ["v1.0", "beta"]) {
      for (const [base, token] of [[`printers/${ctx.V}`, ctx.app], [`shares/${ctx.sV}`, ctx.user]]) {
        const d = await getJson(ctx, `/${version}/print/${base}/jobs/${job.id}/tasks/${task.id}/definition`, token);
        assert.equal(d.id, ctx.D);
        assert.equal(d.displayName, "Secure release");
        assert.equal(d["@odata.context"], `${ctx.srv.url}/${version}/$metadata#print/taskDefinitions/$entity`);
        const g = await getJson(ctx, `/${version}/print/${base}/jobs/${job.id}/tasks/${task.id}/trigger?$expand=definition`, token);
        assert.equal(g.id, ctx.T);
        assert.equal(g.event, "jobStarted");
        assert.equal(g.definition.id, ctx.D);
        assert.equal(g["@odata.context"], `${ctx.srv.url}/${version}/$metadata#print/printers('${ctx.V}')/taskTriggers/$entity`);
      }
    }
    const sel = await getJson(ctx, `/v1.0/print/printers/${ctx.V}/jobs/${job.id}/tasks/${task.id}/definition?$select=displayName`, ctx.app);
    assert.deepEqual(Object.keys(sel).filter((k) => !k.startsWith("@")).sort(), ["displayName", "id"]);
    assertErrorEnvelope(await raw(ctx, `/v1.0/print/printers/${ctx.V}/jobs/${job.id}/tasks/${randomUUID()}/trigger`, { token: ctx.app }),
      { status: 404, code: "itemNotFound" });
    assertErrorEnvelope(await raw(ctx, `/v1.0/print/printers/${ctx.V}/jobs/${job.id}/tasks/${task.id}/definition`, { token: ctx.otherTenantApp }),
      { status: 404, code: "itemNotFound" });
    const expanded = await getJson(ctx, `/v1.0/print/printers/${ctx.V}/jobs/${job.id}?$expand=tasks`, ctx.app);
    assert.equal(expanded.tasks[0].id, task.id);
    assertHeld(await snapshot(ctx, ctx.V, job.id, task.id));
    assertErrorEnvelope(await raw(ctx, `/v1.0/print/taskDefinitions/${ctx.D}/tasks/${task.id}`, { token: ctx.appY }),
      { status: 404, code: "itemNotFound" });
    ctx.first = { ...job, task };
  });

  it("the app completes the task (Kiota PATCH): 200, the job becomes fetchable", async () => {
    const { id, task } = ctx.first;
    const client = kiota(ctx, ctx.app);
    const r = await kiotaWithStatus((cfg) => client.print.taskDefinitions.byPrintTaskDefinitionId(ctx.D).tasks.byPrintTaskId(task.id).patch({
      status: { state: "completed" },
    }, cfg), models.createPrintTaskFromDiscriminatorValue);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.value.status.state, "completed");
    assert.equal(r.value.status.description, "Task execution is completed.");
    const snap = await snapshot(ctx, ctx.V, id, task.id);
    assert.equal(snap.job.status.state, "processing");
    assert.equal(snap.job.isFetchable, true);
    assert.equal(snap.task.status.state, "completed");
    // a finished task cannot change again
    const again = await raw(ctx, `/v1.0/print/taskDefinitions/${ctx.D}/tasks/${task.id}`, {
      method: "PATCH", token: ctx.app, json: { status: { state: "aborted" } },
    });
    assertErrorEnvelope(again, { status: 409, code: "notAllowed" });
    assert.equal((await snapshot(ctx, ctx.V, id, task.id)).job.isFetchable, true);
  });

  it("abort with a reason (Kiota): 204; job aborted with the reason, task aborted, at once", async () => {
    const job = await heldJob(ctx);
    const client = kiota(ctx, ctx.app);
    const r = await kiotaWithStatus((cfg) => client.print.printers.byPrinterId(ctx.V).jobs.byPrintJobId(job.id).abort.post({
      reason: "The user walked away.",
    }, cfg));
    assert.equal(r.status, 204, r.text);
    const snap = await snapshot(ctx, ctx.V, job.id, job.task.id);
    assert.equal(snap.job.status.state, "aborted");
    assert.equal(snap.job.status.description, "The user walked away.");
    assert.equal(snap.job.isFetchable, false);
    assert.equal(snap.task.status.state, "aborted");
    const viaShare = await getJson(ctx, `/v1.0/print/shares/${ctx.sV}/jobs/${job.id}`, ctx.user);
    assert.equal(viaShare.status.state, "aborted");
  });

  it("abort without a reason, through the share: 204 with the default description", async () => {
    const job = await heldJob(ctx);
    const r = await raw(ctx, `/v1.0/print/shares/${ctx.sV}/jobs/${job.id}/abort`, { method: "POST", token: ctx.app });
    assert.equal(r.status, 204, r.text);
    const snap = await snapshot(ctx, ctx.V, job.id, job.task.id);
    assert.equal(snap.job.status.state, "aborted");
    assert.equal(snap.job.status.description, "The print job was aborted.");
    assert.equal(snap.task.status.state, "aborted");
  });

  it("abort with reason null (Kiota sends an explicit null): 204 with the default description", async () => {
    const job = await heldJob(ctx);
    const client = kiota(ctx, ctx.app);
    // Kiota writes {"reason":null}: before the fix this answered 400 "Property 'reason' cannot be null."
    const r = await kiotaWithStatus((cfg) => client.print.printers.byPrinterId(ctx.V).jobs.byPrintJobId(job.id).abort.post({
      reason: null,
    }, cfg));
    assert.equal(r.status, 204, r.text);
    const snap = await snapshot(ctx, ctx.V, job.id, job.task.id);
    assert.equal(snap.job.status.state, "aborted");
    assert.equal(snap.job.status.description, "The print job was aborted.");
    assert.equal(snap.task.status.state, "aborted");
    const again = await abort(ctx, ctx.V, job.id, ctx.app, { reason: null });
    assertErrorEnvelope(again, { status: 409, code: "notAllowed" });
  });

  it("redirect (Kiota): 200 with the new job on the destination; the source is completed with redirectedTo", async () => {
    const job = await heldJob(ctx);
    const client = kiota(ctx, ctx.app);
    const r = await kiotaWithStatus((cfg) => client.print.printers.byPrinterId(ctx.V).jobs.byPrintJobId(job.id).redirect.post({
      destinationPrinterId: ctx.P, configuration: { colorMode: "grayscale", copies: 2 },
    }, cfg), models.createPrintJobFromDiscriminatorValue);
    assert.equal(r.status, 200, r.text);
    const nj = r.value;
    assert.notEqual(nj.id, job.id);
    assert.match(nj.id, /^\d+$/);
    assert.equal(r.json["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#print/printers('${ctx.P}')/jobs/$entity`);
    assert.equal(nj.redirectedFrom, `${ctx.srv.url}/v1.0/print/printers/${ctx.V}/jobs/${job.id}`);
    assert.equal(nj.createdBy.userPrincipalName, "alice@contoso.test");
    assert.equal(nj.configuration.colorMode, "grayscale");
    assert.equal(nj.configuration.copies, 2);
    assert.equal(nj.isFetchable, true, "no trigger on the destination: fetchable");
    assert.equal(nj.status.state, "processing");

    const snap = await snapshot(ctx, ctx.V, job.id, job.task.id);
    assert.equal(snap.job.status.state, "completed");
    assert.equal(snap.job.isFetchable, false);
    assert.equal(snap.job.redirectedTo, `${ctx.srv.url}/v1.0/print/printers/${ctx.P}/jobs/${nj.id}`);
    assert.equal(snap.task.status.state, "completed");

    // the same document bytes, under a new document id
    const docs = await getJson(ctx, `/v1.0/print/printers/${ctx.P}/jobs/${nj.id}/documents`, ctx.app);
    assert.equal(docs.value.length, 1);
    assert.notEqual(docs.value[0].id, job.docId);
    assert.equal(docs.value[0].size, PDF.length);
    const bytes = await kiota(ctx, ctx.app).print.printers.byPrinterId(ctx.P).jobs.byPrintJobId(nj.id).documents.byPrintDocumentId(docs.value[0].id).content.get();
    assert.deepEqual(Buffer.from(bytes), PDF);
    const src = await kiota(ctx, ctx.app).print.printers.byPrinterId(ctx.V).jobs.byPrintJobId(job.id).documents.byPrintDocumentId(job.docId).content.get();
    assert.deepEqual(Buffer.from(src), PDF, "the source keeps its own bytes");
    ctx.redirectedSource = job;
  });

  it("redirect to a printer with a trigger fires it again: a new task, the new job held", async () => {
    const job = await heldJob(ctx);
    const V2 = await registerPrinter(ctx.srv, ctx.admin, { name: "Second virtual queue" });
    const t = await raw(ctx, `/v1.0/print/printers/${V2}/taskTriggers`, {
      method: "POST", token: ctx.admin, json: { event: "jobStarted", "definition@odata.bind": `print/taskDefinitions/${ctx.D}` },
    });
    assert.equal(t.status, 201, t.text);
    const r = await raw(ctx, `${jobPath(ctx.V, job.id)}/redirect`, { method: "POST", token: ctx.app, json: { destinationPrinterId: V2 } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status.state, "paused");
    assert.equal(r.json.isFetchable, false);
    assert.equal(r.json.configuration.colorMode, "color", "the source's configuration");
    const tasks = await getJson(ctx, `/v1.0/print/printers/${V2}/jobs/${r.json.id}/tasks`, ctx.app);
    assert.equal(tasks.value.length, 1);
    assert.equal(tasks.value[0].status.state, "processing");
    assert.equal(tasks.value[0].parentUrl, `${ctx.srv.url}/v1.0/print/printers/${V2}/jobs/${r.json.id}`);
    // and the app may complete it, releasing the redirected job
    const done = await raw(ctx, `/v1.0/print/taskDefinitions/${ctx.D}/tasks/${tasks.value[0].id}`, {
      method: "PATCH", token: ctx.app, json: { status: { state: "completed", description: "Released at the MFP." } },
    });
    assert.equal(done.status, 200, done.text);
    assert.equal(done.json.status.description, "Released at the MFP.");
    assert.equal((await getJson(ctx, `/v1.0/print/printers/${V2}/jobs/${r.json.id}`, ctx.app)).isFetchable, true);
  });

  it("PATCH configuration (deep merge), then complete: the job is released with the new settings", async () => {
    const job = await heldJob(ctx, ctx.sV, ctx.V, { configuration: { copies: 3, colorMode: "color", margin: { top: 10, left: 5 } } });
    const client = kiota(ctx, ctx.app);
    const r = await kiotaWithStatus((cfg) => client.print.printers.byPrinterId(ctx.V).jobs.byPrintJobId(job.id).patch({
      configuration: { colorMode: "grayscale", margin: { top: 0 } },
    }, cfg), models.createPrintJobFromDiscriminatorValue);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.value.configuration.colorMode, "grayscale");
    assert.equal(r.value.configuration.copies, 3);
    assert.equal(r.value.configuration.margin.top, 0);
    assert.equal(r.value.configuration.margin.left, 5);
    assert.equal(r.value.status.state, "paused", "still held");
    for (const body of [{ displayName: "x" }, { configuration: { colorMode: "purple" } }, { configuration: { copies: 0 } }, { status: {} }, {}]) {
      const bad = await raw(ctx, jobPath(ctx.V, job.id), { method: "PATCH", token: ctx.app, json: body });
      assertErrorEnvelope(bad, { status: 400, code: "invalidRequest" });
    }
    const dlg = await raw(ctx, jobPath(ctx.V, job.id), { method: "PATCH", token: ctx.admin, json: { configuration: { copies: 1 } } });
    assertErrorEnvelope(dlg, { status: 403, code: "accessDenied" });
    const other = await raw(ctx, jobPath(ctx.V, job.id), { method: "PATCH", token: ctx.appY, json: { configuration: { copies: 1 } } });
    assertErrorEnvelope(other, { status: 403, code: "accessDenied" });
    assert.equal((await snapshot(ctx, ctx.V, job.id)).job.configuration.copies, 3);

    const done = await raw(ctx, `/v1.0/print/taskDefinitions/${ctx.D}/tasks/${job.task.id}`, {
      method: "PATCH", token: ctx.app, json: { status: { state: "completed" } },
    });
    assert.equal(done.status, 200, done.text);
    const snap = await snapshot(ctx, ctx.V, job.id, job.task.id);
    assert.equal(snap.job.isFetchable, true);
    assert.equal(snap.job.configuration.colorMode, "grayscale");
    const late = await raw(ctx, jobPath(ctx.V, job.id), { method: "PATCH", token: ctx.app, json: { configuration: { copies: 1 } } });
    assertErrorEnvelope(late, { status: 409, code: "notAllowed" });
  });

  it("the task PATCHed to aborted aborts the job", async () => {
    const job = await heldJob(ctx);
    const r = await raw(ctx, `/beta/print/taskDefinitions/${ctx.D}/tasks/${job.task.id}`, {
      method: "PATCH", token: ctx.app, json: { status: { state: "aborted", description: "Badge not recognised." } },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status.state, "aborted");
    assert.equal(r.json.status.description, "Badge not recognised.");
    const snap = await snapshot(ctx, ctx.V, job.id, job.task.id);
    assert.equal(snap.job.status.state, "aborted");
    assert.equal(snap.job.isFetchable, false);
  });

  it("task PATCH refusals: other states 409, bad bodies 400, other app 404", async () => {
    const job = await heldJob(ctx);
    const patch = (json, token = ctx.app) => raw(ctx, `/v1.0/print/taskDefinitions/${ctx.D}/tasks/${job.task.id}`, { method: "PATCH", token, json });
    for (const state of ["pending", "processing"])
      assertErrorEnvelope(await patch({ status: { state } }), { status: 409, code: "notAllowed" });
    for (const body of [{}, { status: {} }, { status: { state: "done" } }, { parentUrl: "x", status: { state: "completed" } }, { status: { state: "completed", description: 3 } }])
      assertErrorEnvelope(await patch(body), { status: 400, code: "invalidRequest" });
    assertErrorEnvelope(await patch({ status: { state: "completed" } }, ctx.appY), { status: 404, code: "itemNotFound" });
    assertHeld(await snapshot(ctx, ctx.V, job.id, job.task.id));
  });

  it("a user's cancel of a held job aborts its task", async () => {
    const job = await heldJob(ctx);
    const r = await raw(ctx, `/v1.0/print/shares/${ctx.sV}/jobs/${job.id}/cancel`, { method: "POST", token: ctx.user });
    assert.equal(r.status, 204, r.text);
    const snap = await snapshot(ctx, ctx.V, job.id, job.task.id);
    assert.equal(snap.job.status.state, "canceled");
    assert.equal(snap.task.status.state, "aborted");
  });
});

// ---- abort refusals --------------------------------------------------------------------------------

// Every action parameter or body property the v1.0 CSDL declares nullable (no Nullable="false")
// that spoold used to refuse as null, sent as an explicit null by the Kiota client; before the fix
// each answered 400 "Property '...' cannot be null." (abort's reason is tested above).
describe("release at the printer (J10)", () => {
  const ctx = pullPrintWorld();
  const release = (printerId, token, json, version = "v1.0") =>
    raw(ctx, `/${version}/print/printers/${printerId}/jobs/release`, { method: "POST", token, json });

  it("the owner releases a held job: its task completes and the job becomes fetchable", async () => {
    const job = await heldJob(ctx);
    const r = await release(ctx.V, ctx.releaser, { jobId: job.id });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.id, job.id);
    assert.equal(r.json["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#print/printers('${ctx.V}')/jobs/$entity`);
    assert.equal(r.json.isFetchable, true);
    assert.equal(r.json.status.state, "processing");
    const snap = await snapshot(ctx, ctx.V, job.id, job.task.id);
    assert.equal(snap.job.isFetchable, true);
    assert.equal(snap.task.status.state, "completed");
    assert.equal(snap.task.status.description, "Released at the printer by alice@contoso.test.");
    // once released it is no longer held
    const again = await release(ctx.V, ctx.releaser, { jobId: job.id });
    assertErrorEnvelope(again, { status: 409, code: "notAllowed" });
    // an administrator with PrintJob.ReadWrite.All releases any user's held job (beta prefix)
    const other = await heldJob(ctx);
    const byAdmin = await release(ctx.V, ctx.admin, { jobId: other.id }, "beta");
    assert.equal(byAdmin.status, 200, byAdmin.text);
    assert.equal((await snapshot(ctx, ctx.V, other.id, other.task.id)).task.status.state, "completed");
  });

  it("refusals: another user's job, another printer, a job not held, bad bodies, permissions; nothing changes", async () => {
    const job = await heldJob(ctx);
    const cases = [
      [release(ctx.V, ctx.otherReleaser, { jobId: job.id }), 404, "itemNotFound"],
      [release(ctx.P, ctx.releaser, { jobId: job.id }), 404, "itemNotFound"],
      [release(randomUUID(), ctx.releaser, { jobId: job.id }), 404, "itemNotFound"],
      [release(ctx.V, ctx.releaser, { jobId: "999999" }), 404, "itemNotFound"],
      [release(ctx.V, ctx.releaser, {}), 400, "invalidRequest"],
      [release(ctx.V, ctx.releaser, { jobId: 7 }), 400, "invalidRequest"],
      [release(ctx.V, ctx.releaser, { jobId: job.id, printerId: ctx.P }), 400, "invalidRequest"],
      [release(ctx.V, ctx.user, { jobId: job.id }), 403, "accessDenied"],      // no permission to Get printer
      [release(ctx.V, ctx.app, { jobId: job.id }), 403, "accessDenied"],       // delegated only
      [release(ctx.V, ctx.otherTenantApp, { jobId: job.id }), 403, "accessDenied"],
    ];
    for (const [p, status, code] of cases) assertErrorEnvelope(await p, { status, code });
    assertHeld(await snapshot(ctx, ctx.V, job.id, job.task.id), "after the refusals");
    // a job that was never started is not held
    const fresh = await uploadedJob(ctx, ctx.sV);
    assertErrorEnvelope(await release(ctx.V, ctx.releaser, { jobId: fresh.id }), { status: 409, code: "notAllowed" });
    // "release" is never taken as a job id
    assertErrorEnvelope(await raw(ctx, `/v1.0/print/printers/${ctx.V}/jobs/release`, { token: ctx.releaser }),
      { status: 405, code: "notSupported" });
  });
});

describe("null for a nullable action parameter or property (Kiota)", () => {
  const ctx = pullPrintWorld();

  it("redirect with configuration null: 200, the source job's configuration is kept", async () => {
    const job = await heldJob(ctx);
    const client = kiota(ctx, ctx.app);
    const r = await kiotaWithStatus((cfg) => client.print.printers.byPrinterId(ctx.V).jobs.byPrintJobId(job.id).redirect.post({
      destinationPrinterId: ctx.P, configuration: null,
    }, cfg), models.createPrintJobFromDiscriminatorValue);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.configuration.colorMode, "color");
    assert.equal(r.json.configuration.copies, 1);
  });

  it("printers/create with hasPhysicalDevice null: the default (true) applies", async () => {
    const client = kiota(ctx, ctx.admin);
    const body = {
      displayName: "Null default", manufacturer: "Contoso", model: "N1", hasPhysicalDevice: null,
      certificateSigningRequest: await csrBody("ec256"),
    };
    // null is the default, true: a physical device needs its id
    await expectKiotaError(client.print.printers.create.post(body), { status: 400, code: "invalidRequest", message: /physicalDeviceId/ });
    const deviceId = randomUUID();
    const r = await kiotaWithStatus((cfg) => client.print.printers.create.post({ ...body, physicalDeviceId: deviceId }, cfg));
    assert.equal(r.status, 202, r.text);
    const opId = r.headers.get("operation-location").split("/").pop();
    let op;
    for (let i = 0; i < 200; i++) {
      op = await getJson(ctx, `/v1.0/print/operations/${opId}`, ctx.admin);
      if (!["notStarted", "running"].includes(op.status.state)) break;
      await sleep(25);
    }
    assert.equal(op.status.state, "succeeded", JSON.stringify(op));
    const p = await getJson(ctx, `/v1.0/print/printers/${op.printer.id}`, ctx.admin);
    assert.equal(p.hasPhysicalDevice, true);
  });

  it("a page range with a null start or end (integerRange members are nullable): the first / last page", async () => {
    const client = kiota(ctx, ctx.user);
    const job = await client.print.shares.byPrinterShareId(ctx.sP).jobs.post({
      configuration: { pageRanges: [{ start: null, end: 3 }, { start: 5, end: null }] },
    });
    assert.deepEqual(job.configuration.pageRanges.map((x) => [x.start ?? null, x.end ?? null]), [[null, 3], [5, null]]);
    // an inverted range is still refused, naming the property
    await expectKiotaError(client.print.shares.byPrinterShareId(ctx.sP).jobs.post({
      configuration: { pageRanges: [{ start: 4, end: 2 }] },
    }), { status: 400, code: "invalidRequest", message: /pageRanges\[0\]/ });
  });
});

describe("abort refusals: status, code, and nothing changed", () => {
  const ctx = pullPrintWorld();
  before(async () => {
    const s = ctx.srv;
    ctx.appNoJob = await s.mintApp({ tenant: ctx.tenant, app: APP_X, roles: "PrintTaskDefinition.ReadWrite.All Printer.Read.All" });
    ctx.appNoPrinter = await s.mintApp({ tenant: ctx.tenant, app: APP_X, roles: "PrintTaskDefinition.ReadWrite.All PrintJob.Manage.All" });
    ctx.appBasic = await s.mintApp({ tenant: ctx.tenant, app: APP_X, roles: "PrintJob.ReadWriteBasic.All Printer.ReadWrite.All" });
    ctx.held = await heldJob(ctx);
  });

  // Asserts the refusal and that the held job and its task are untouched.
  async function refused(res, status, code, message) {
    const err = assertErrorEnvelope(res, { status, code });
    if (message) assert.match(err.message, message, err.message);
    assertHeld(await snapshot(ctx, ctx.V, ctx.held.id, ctx.held.task.id), `after ${status} ${code}`);
    return err;
  }

  it("a delegated token: 403 saying only application permissions may abort a job", async () => {
    await refused(await abort(ctx, ctx.V, ctx.held.id, ctx.admin), 403, "accessDenied", /only application permissions may abort a job/);
    await refused(await raw(ctx, `/v1.0/print/shares/${ctx.sV}/jobs/${ctx.held.id}/abort`, { method: "POST", token: ctx.user }),
      403, "accessDenied", /only application permissions/);
    await expectKiotaError(kiota(ctx, ctx.admin).print.printers.byPrinterId(ctx.V).jobs.byPrintJobId(ctx.held.id).abort.post({}),
      { status: 403, code: "accessDenied" });
  });

  it("an application without a PrintJob role: 403 naming the roles", async () => {
    await refused(await abort(ctx, ctx.V, ctx.held.id, ctx.appNoJob), 403, "accessDenied", /PrintJob\.(ReadWriteBasic|Manage|ReadWrite)\.All/);
  });

  it("a PrintJob role without Printer.Read.All or Printer.ReadWrite.All: 403 naming them", async () => {
    await refused(await abort(ctx, ctx.V, ctx.held.id, ctx.appNoPrinter), 403, "accessDenied", /Printer\.Read\.All.*Printer\.ReadWrite\.All/);
  });

  it("another application, whose trigger did not create the task: 403 accessDenied", async () => {
    await refused(await abort(ctx, ctx.V, ctx.held.id, ctx.appY, { reason: "not mine" }), 403, "accessDenied", /another application/);
    // and the other way round: a job held by app Y's trigger
    const y = await heldJob(ctx, ctx.sW, ctx.W);
    const err = assertErrorEnvelope(await abort(ctx, ctx.W, y.id, ctx.app), { status: 403, code: "accessDenied" });
    assert.match(err.message, /another application/);
    const snap = await snapshot(ctx, ctx.W, y.id, y.task.id, ctx.DY);
    assertHeld(snap);
    assert.equal((await abort(ctx, ctx.W, y.id, ctx.appY)).status, 204, "its own app may");
  });

  it("a job with no task: never started, already released: 409 notAllowed", async () => {
    const fresh = await uploadedJob(ctx, ctx.sV);
    const before = await getJson(ctx, jobPath(ctx.V, fresh.id), ctx.app);
    const err = assertErrorEnvelope(await abort(ctx, ctx.V, fresh.id, ctx.app), { status: 409, code: "notAllowed" });
    assert.match(err.message, /not been started/);
    assert.deepEqual(await getJson(ctx, jobPath(ctx.V, fresh.id), ctx.app), before);

    const released = await heldJob(ctx);
    assert.equal((await raw(ctx, `/v1.0/print/taskDefinitions/${ctx.D}/tasks/${released.task.id}`, {
      method: "PATCH", token: ctx.app, json: { status: { state: "completed" } } })).status, 200);
    const rel = await snapshot(ctx, ctx.V, released.id, released.task.id);
    assertErrorEnvelope(await abort(ctx, ctx.V, released.id, ctx.app), { status: 409, code: "notAllowed" });
    assert.deepEqual(await snapshot(ctx, ctx.V, released.id, released.task.id), rel);
  });

  it("a job already aborted, canceled or completed (redirected): 409 notAllowed", async () => {
    const a = await heldJob(ctx);
    assert.equal((await abort(ctx, ctx.V, a.id, ctx.app)).status, 204);
    const c = await heldJob(ctx);
    assert.equal((await raw(ctx, `/v1.0/print/shares/${ctx.sV}/jobs/${c.id}/cancel`, { method: "POST", token: ctx.user })).status, 204);
    const r = await heldJob(ctx);
    assert.equal((await raw(ctx, `${jobPath(ctx.V, r.id)}/redirect`, { method: "POST", token: ctx.app, json: { destinationPrinterId: ctx.P } })).status, 200);
    for (const [job, word] of [[a, /aborted/], [c, /canceled/], [r, /completed/]]) {
      const before = await snapshot(ctx, ctx.V, job.id, job.task.id);
      const err = assertErrorEnvelope(await abort(ctx, ctx.V, job.id, ctx.app, { reason: "again" }), { status: 409, code: "notAllowed" });
      assert.match(err.message, word, err.message);
      assert.deepEqual(await snapshot(ctx, ctx.V, job.id, job.task.id), before);
    }
  });

  it("a job of another tenant: 404 itemNotFound", async () => {
    await refused(await abort(ctx, ctx.V, ctx.held.id, ctx.otherTenantApp), 404, "itemNotFound");
    await refused(await raw(ctx, `/v1.0/print/shares/${ctx.sV}/jobs/${ctx.held.id}/abort`, { method: "POST", token: ctx.otherTenantApp }),
      404, "itemNotFound");
  });

  it("an unknown job or a job of another printer: 404 itemNotFound", async () => {
    await refused(await abort(ctx, ctx.V, "999999", ctx.app), 404, "itemNotFound");
    await refused(await abort(ctx, ctx.P, ctx.held.id, ctx.app), 404, "itemNotFound");
  });

  it("an unknown job, a job of another printer or not a job id, with a good or a bad body: the job's 404 first, worded as always", async () => {
    // abort writes without reading the job first when the body is good; a refusal is answered
    // as the job read would have answered it, before the body's 400
    for (const [printer, id] of [[ctx.V, "999999"], [ctx.P, ctx.held.id], [ctx.V, "x1"], [ctx.V, "0"]]) {
      for (const body of ['{"reason": "x"}', "", '{"reason": 5}', "{"]) {
        const r = await raw(ctx, `${jobPath(printer, id)}/abort`, { method: "POST", token: ctx.app, body,
          headers: { "content-type": "application/json" } });
        const err = await refused(r, 404, "itemNotFound");
        assert.equal(err.message, `The print job '${id}' was not found on this printer.`, `${printer} ${id} ${body}`);
      }
    }
  });

  it("a conflict after a good body is worded as before, and a bad body on a held job is its 400", async () => {
    const fresh = await uploadedJob(ctx, ctx.sV);
    const err = assertErrorEnvelope(await abort(ctx, ctx.V, fresh.id, ctx.app, { reason: "r" }), { status: 409, code: "notAllowed" });
    assert.match(err.message, /not been started/);
    await refused(await abort(ctx, ctx.V, ctx.held.id, ctx.app, { reason: 5 }), 400, "invalidRequest", /reason/);
  });

  it("bad bodies: 400 invalidRequest, checked before anything changes", async () => {
    const p = `${jobPath(ctx.V, ctx.held.id)}/abort`;
    const post = (body) => raw(ctx, p, { method: "POST", token: ctx.app, body, headers: { "content-type": "application/json" } });
    const cases = [
      ["[]", /JSON object/],
      ['"stop"', /JSON/],
      ["{", /Malformed JSON/],
      ['{"reason": 5}', /reason/],
      ['{"reason": {"text": "x"}}', /reason/],
      ['{"reason": ["x"]}', /reason/],
      ['{"reason": "x", "force": true}', /force/],
      ['{"reason": "a", "reason": "b"}', /./],
      [JSON.stringify({ reason: "r".repeat(1025) }), /reason.*too long/],
    ];
    for (const [body, msg] of cases) await refused(await post(body), 400, "invalidRequest", msg);
    await refused(await raw(ctx, p, { method: "POST", token: ctx.app, body: "reason=x", headers: { "content-type": "text/plain" } }),
      415, "invalidRequest");
  });

  it("PrintJob.ReadWriteBasic.All with Printer.ReadWrite.All may abort; a 1,024-character reason is kept whole", async () => {
    const reason = "é".repeat(1024);
    const r = await abort(ctx, ctx.V, ctx.held.id, ctx.appBasic, { reason });
    assert.equal(r.status, 204, r.text);
    const snap = await snapshot(ctx, ctx.V, ctx.held.id, ctx.held.task.id);
    assert.equal(snap.job.status.state, "aborted");
    assert.equal(snap.job.status.description, reason);
    assert.equal(snap.task.status.state, "aborted");
  });

  it("redirect refusals: unknown destination 400, other app 403, delegated 403, no task 409", async () => {
    const job = await heldJob(ctx);
    const post = (json, token = ctx.app, id = job.id) => raw(ctx, `${jobPath(ctx.V, id)}/redirect`, { method: "POST", token, json });
    const check = async (res, status, code) => {
      assertErrorEnvelope(res, { status, code });
      assertHeld(await snapshot(ctx, ctx.V, job.id, job.task.id));
    };
    await check(await post({ destinationPrinterId: randomUUID() }), 400, "invalidRequest");
    await check(await post({}), 400, "invalidRequest");
    await check(await post({ destinationPrinterId: ctx.P, configuration: { dpi: "high" } }), 400, "invalidRequest");
    await check(await post({ destinationPrinterId: ctx.P, extra: 1 }), 400, "invalidRequest");
    await check(await post({ destinationPrinterId: ctx.P }, ctx.appY), 403, "accessDenied");
    await check(await post({ destinationPrinterId: ctx.P }, ctx.admin), 403, "accessDenied");
    // PrintJob.Manage.All only (the newest permission table)
    await check(await post({ destinationPrinterId: ctx.P }, ctx.appBasic), 403, "accessDenied");
    const fresh = await uploadedJob(ctx, ctx.sV);
    assertErrorEnvelope(await post({ destinationPrinterId: ctx.P }, ctx.app, fresh.id), { status: 409, code: "notAllowed" });
    const jobsOnP = await getJson(ctx, `/v1.0/print/printers/${ctx.P}/jobs`, ctx.app);
    assert.equal(jobsOnP.value.length, 1, "only the redirect of the previous test created a job on P");
  });
});

// ---- races -----------------------------------------------------------------------------------------

describe("races: one winner per job", () => {
  const ctx = pullPrintWorld();

  it("50 held jobs, each hit at once by abort and task completion: exactly one 2xx, a consistent end", async (t) => {
    const jobs = [];
    for (let i = 0; i < 50; i++) jobs.push(await heldJob(ctx));
    const results = await Promise.all(jobs.map(async (job) => {
      const [ab, done] = await Promise.all([
        abort(ctx, ctx.V, job.id, ctx.app, { reason: `race ${job.id}` }),
        raw(ctx, `/v1.0/print/taskDefinitions/${ctx.D}/tasks/${job.task.id}`, {
          method: "PATCH", token: ctx.app, json: { status: { state: "completed" } },
        }),
      ]);
      return { job, ab, done };
    }));
    const wins = { abort: 0, complete: 0 };
    for (const { job, ab, done } of results) {
      const okAbort = ab.status === 204, okDone = done.status === 200;
      assert.ok(okAbort !== okDone, `job ${job.id}: abort ${ab.status}, complete ${done.status}: exactly one may win`);
      const loser = okAbort ? done : ab;
      assertErrorEnvelope(loser, { status: 409, code: "notAllowed" });
      const snap = await snapshot(ctx, ctx.V, job.id, job.task.id);
      if (okAbort) {
        wins.abort++;
        assert.equal(snap.job.status.state, "aborted");
        assert.equal(snap.job.status.description, `race ${job.id}`);
        assert.equal(snap.job.isFetchable, false);
        assert.equal(snap.task.status.state, "aborted");
      } else {
        wins.complete++;
        assert.equal(snap.job.status.state, "processing");
        assert.equal(snap.job.isFetchable, true);
        assert.equal(snap.task.status.state, "completed");
      }
    }
    assert.equal(wins.abort + wins.complete, 50);
    t.diagnostic(`abort won ${wins.abort}, completion won ${wins.complete}`);
  });

  it("abort, redirect, task completion, task abort and cancel at once on 10 jobs: one outcome each", async () => {
    const jobs = [];
    for (let i = 0; i < 10; i++) jobs.push(await heldJob(ctx));
    const taskPatch = (job, state) => raw(ctx, `/v1.0/print/taskDefinitions/${ctx.D}/tasks/${job.task.id}`, {
      method: "PATCH", token: ctx.app, json: { status: { state } } });
    const results = await Promise.all(jobs.map(async (job) => {
      const [ab, rd, done, tab, cancel] = await Promise.all([
        abort(ctx, ctx.V, job.id, ctx.app),
        raw(ctx, `${jobPath(ctx.V, job.id)}/redirect`, { method: "POST", token: ctx.app, json: { destinationPrinterId: ctx.P } }),
        taskPatch(job, "completed"),
        taskPatch(job, "aborted"),
        raw(ctx, `/v1.0/print/shares/${ctx.sV}/jobs/${job.id}/cancel`, { method: "POST", token: ctx.user }),
      ]);
      return { job, ops: { abort: ab, redirect: rd, complete: done, taskAbort: tab, cancel } };
    }));
    for (const { job, ops } of results) {
      const { won, key } = raceWinners(ops);
      for (const [k, r] of Object.entries(ops)) if (!won.includes(k)) assertErrorEnvelope(r, { status: 409, code: "notAllowed" });
      const snap = await snapshot(ctx, ctx.V, job.id, job.task.id);
      const expect = HELD_JOB_RACE_OUTCOMES[key];
      assert.ok(expect, `job ${job.id}: winners ${key}`);
      assert.deepEqual([snap.job.status.state, snap.task.status.state], expect, `job ${job.id}: winners ${key}`);
      if (key === "redirect") assert.match(snap.job.redirectedTo, /\/jobs\/\d+$/);
      else assert.equal(snap.job.redirectedTo, null);
    }
  });
});

// ---- held-job expiry and retention -----------------------------------------------------------------

describe("held-job expiry (--task-timeout 2s)", () => {
  const ctx = pullPrintWorld({ args: ["--task-timeout", "2s", "--sweep-interval", "1s"] });

  it("a task not finished in time aborts its job (never deleted); a released job is left alone", async () => {
    const held = await heldJob(ctx);
    const released = await heldJob(ctx);
    assert.equal((await raw(ctx, `/v1.0/print/taskDefinitions/${ctx.D}/tasks/${released.task.id}`, {
      method: "PATCH", token: ctx.app, json: { status: { state: "completed" } } })).status, 200);
    let snap;
    for (let i = 0; i < 100; i++) {
      snap = await snapshot(ctx, ctx.V, held.id, held.task.id);
      if (snap.job.status.state !== "paused") break;
      await sleep(100);
    }
    assert.equal(snap.job.status.state, "aborted", JSON.stringify(snap.job.status));
    assert.equal(snap.job.status.description, "The print task did not complete within 2 seconds; the job was aborted.");
    assert.equal(snap.task.status.state, "aborted");
    assert.match(snap.task.status.description, /did not complete within 2 seconds/);
    assertErrorEnvelope(await abort(ctx, ctx.V, held.id, ctx.app), { status: 409, code: "notAllowed" });
    const rel = await snapshot(ctx, ctx.V, released.id, released.task.id);
    assert.equal(rel.job.isFetchable, true);
    assert.equal(rel.task.status.state, "completed");
  });
});

describe("job retention (--job-retention 2s)", () => {
  const ctx = pullPrintWorld({ args: ["--job-retention", "2s", "--sweep-interval", "1s"] });

  it("terminal jobs leave /jobs with their tasks; held jobs stay", async () => {
    const gone = await heldJob(ctx);
    const stays = await heldJob(ctx);
    assert.equal((await abort(ctx, ctx.V, gone.id, ctx.app)).status, 204);
    let res;
    for (let i = 0; i < 100; i++) {
      res = await raw(ctx, jobPath(ctx.V, gone.id), { token: ctx.app });
      if (res.status === 404) break;
      await sleep(100);
    }
    assertErrorEnvelope(res, { status: 404, code: "itemNotFound" });
    const list = await getJson(ctx, `/v1.0/print/printers/${ctx.V}/jobs`, ctx.app);
    assert.deepEqual(list.value.map((j) => j.id), [stays.id]);
    assertErrorEnvelope(await raw(ctx, `/v1.0/print/taskDefinitions/${ctx.D}/tasks/${gone.task.id}`, { token: ctx.app }),
      { status: 404, code: "itemNotFound" });
    assertHeld(await snapshot(ctx, ctx.V, stays.id, stays.task.id));
  });
});
