// SPDX-License-Identifier: Apache-2.0
// The IPP INFRA endpoint (POST /ipp/print/{printerId}) seen from both sides: a test output
// device speaks IPP (lib/ipp.mjs) while the real Graph clients check that every device step
// shows on the Graph side — isAcquiredByPrinter / acknowledgedDateTime after Acknowledge-Job,
// the job's state after each Update-Job-Status, the printer's status, isAcceptingJobs,
// capabilities and defaults after Update-Output-Device-Attributes, lastSeenDateTime,
// downloadedDateTime — and that Graph-side changes (cancel, task completion, abort, the task
// timeout) reach the device. Also: device tokens (`spoold token --device`), Basic/Bearer and
// TLS client-certificate authentication, long polling that holds no worker thread, and a
// clean shutdown with waiting requests.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { startServer, makeTempDir } from "./lib/server.mjs";
import { kiotaClient, kiotaWithStatus, rawFetch, closeAgents } from "./lib/clients.mjs";
import { spooldCli } from "./lib/cli.mjs";
import { ippRequest, attr, OP, TAG, STATUS, bearer, basic, val, vals } from "./lib/ipp.mjs";

const run = promisify(execFile);
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

const APP = "00000000-0000-4000-8000-0000000000c7";
const ADMIN_SCOPES = "Printer.Create Printer.Read.All Printer.ReadWrite.All Printer.FullControl.All PrintJob.ReadWrite.All";
const USER_SCOPES = "PrintJob.ReadWrite Printer.Read.All";
const APP_ROLES = "PrintTaskDefinition.ReadWrite.All PrintJob.Manage.All PrintJob.ReadWrite.All Printer.Read.All";
const PDF = Buffer.from("%PDF-1.4\n1 0 obj<<>>endobj\n% spoold ipp.test.mjs\ntrailer<<>>\n%%EOF\n");

after(() => closeAgents());

// ---- helpers --------------------------------------------------------------------------------------

// A key and a CSR for printer registration (the key is kept for TLS client authentication).
async function keyAndCsr() {
  const dir = await makeTempDir("spoold-ipp-csr-");
  const key = path.join(dir, "key.pem");
  const der = path.join(dir, "csr.der");
  await run("openssl", ["req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=device",
    "-keyout", key, "-outform", "DER", "-out", der]);
  return { keyPem: await readFile(key, "utf8"), content: (await readFile(der)).toString("base64") };
}

// A world: one server, tokens, and helpers bound to it.
function world(serverOpts = {}) {
  const ctx = { tenant: randomUUID() };
  before(async () => {
    ctx.srv = await startServer({
      ...serverOpts,
      args: ["--max-jobs-per-printer-window", "0", "--max-jobs-per-user-window", "0", ...(serverOpts.args || [])],
    });
    const s = ctx.srv;
    ctx.admin = await s.mintUser({ tenant: ctx.tenant, app: APP, scopes: ADMIN_SCOPES, admin: true, upn: "admin@contoso.test" });
    ctx.user = await s.mintUser({ tenant: ctx.tenant, app: APP, scopes: USER_SCOPES, upn: "alice@contoso.test", name: "Alice" });
    ctx.app = await s.mintApp({ tenant: ctx.tenant, app: APP, roles: APP_ROLES });
    ctx.csr = await keyAndCsr();
  });
  after(async () => { if (ctx.srv) await ctx.srv.stop(); });
  return ctx;
}

const kiota = (ctx, token) => kiotaClient({ origin: ctx.srv.origin, version: "v1.0", token, ca: ctx.srv.ca });
const raw = (ctx, p, opts = {}) => rawFetch(`${ctx.srv.origin}${p}`, { ca: ctx.srv.ca, ...opts });

// Registers a printer; resolves { id, certPem } (the device certificate, without the CA).
async function registerPrinter(ctx, name) {
  const r = await kiotaWithStatus((cfg) => kiota(ctx, ctx.admin).print.printers.create.post({
    displayName: name, manufacturer: "Contoso", model: "Infra", hasPhysicalDevice: false,
    certificateSigningRequest: { content: ctx.csr.content, transportKey: "k" },
  }, cfg));
  assert.equal(r.status, 202, r.text);
  const opId = r.headers.get("operation-location").split("/").pop();
  const op = await raw(ctx, `/v1.0/print/operations/${opId}`, { token: ctx.admin });
  assert.equal(op.json.status.state, "succeeded", op.text);
  const certPem = op.json.certificate.split(/(?<=-----END CERTIFICATE-----)/)[0].trim() + "\n";
  return { id: op.json.printer.id, certPem };
}

async function deviceToken(ctx, printerId) {
  const r = await spooldCli(["token", "--device", printerId, "--data", ctx.srv.dataDir]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

// A device of printer p: sends IPP requests with its token and output-device-uuid.
function device(ctx, p, token, uuid = `urn:uuid:${randomUUID()}`) {
  const url = `${ctx.srv.origin}/ipp/print/${p.id}`;
  const printerUri = url.replace(/^http/, "ipp");
  const d = {
    uuid, url, printerUri,
    req: (op, operation = [], more = {}) => ippRequest(url, {
      op, auth: bearer(token), ca: ctx.srv.ca,
      operation: [attr.uri("printer-uri", printerUri), ...operation], ...more,
    }),
    withGroups: (op, operation, groups, more = {}) => ippRequest(url, {
      op, auth: bearer(token), ca: ctx.srv.ca, ...more,
      groups: [{ tag: TAG.OPERATION, attrs: [attr.charset("attributes-charset", "utf-8"),
        attr.language("attributes-natural-language", "en"), attr.uri("printer-uri", printerUri), ...operation] }, ...groups],
    }),
  };
  d.dev = () => attr.uri("output-device-uuid", d.uuid);
  d.job = (id) => attr.integer("job-id", Number(id));
  d.update = (printerAttrs) => d.withGroups(OP.UPDATE_OUTPUT_DEVICE_ATTRIBUTES, [d.dev()], [{ tag: TAG.PRINTER, attrs: printerAttrs }]);
  d.ack = (id) => d.req(OP.ACKNOWLEDGE_JOB, [d.job(id), d.dev()]);
  d.status = (id, state, jobAttrs = []) => d.withGroups(OP.UPDATE_JOB_STATUS, [d.job(id), d.dev()],
    [{ tag: TAG.JOB, attrs: [attr.enum("output-device-job-state", state), ...jobAttrs] }]);
  d.subscribe = async (events) => {
    const r = await d.withGroups(OP.CREATE_PRINTER_SUBSCRIPTIONS, [d.dev()], [{ tag: TAG.SUBSCRIPTION, attrs: [
      attr.keyword("notify-pull-method", "ippget"), attr.keyword("notify-events", events), attr.integer("notify-lease-duration", 0)] }]);
    assert.equal(r.status, STATUS.OK, `Create-Printer-Subscriptions: 0x${r.status.toString(16)}`);
    return val(r.group(TAG.SUBSCRIPTION)[0], "notify-subscription-id");
  };
  d.notifications = (sub, seq, wait = false, more = {}) => d.req(OP.GET_NOTIFICATIONS, [
    attr.integer("notify-subscription-ids", sub), attr.integer("notify-sequence-numbers", seq),
    attr.boolean("notify-wait", wait)], more);
  return d;
}

// A job of the user on printer p with the document uploaded; started unless start is false.
async function job(ctx, p, { configuration = { copies: 1 }, start = true } = {}) {
  const jobs = kiota(ctx, ctx.user).print.printers.byPrinterId(p.id).jobs;
  const j = await jobs.post({ configuration });
  const docId = j.documents[0].id;
  const session = await jobs.byPrintJobId(j.id).documents.byPrintDocumentId(docId).createUploadSession.post({
    properties: { documentName: "ticket.pdf", contentType: "application/pdf", size: PDF.length },
  });
  const put = await rawFetch(session.uploadUrl, {
    method: "PUT", body: PDF, ca: ctx.srv.ca,
    headers: { "content-range": `bytes 0-${PDF.length - 1}/${PDF.length}`, "content-type": "application/octet-stream" },
  });
  assert.equal(put.status, 201, put.text);
  if (start) await jobs.byPrintJobId(j.id).start.post();
  return { id: j.id, docId };
}

const graphJob = (ctx, p, id, token = ctx.user) =>
  kiota(ctx, token).print.printers.byPrinterId(p.id).jobs.byPrintJobId(id).get();
const graphPrinter = (ctx, p) => kiota(ctx, ctx.admin).print.printers.byPrinterId(p.id).get({
  queryParameters: { select: ["id", "status", "isAcceptingJobs", "capabilities", "defaults", "lastSeenDateTime"] },
});
const st = (r) => `0x${(r.status ?? -1).toString(16).padStart(4, "0")} ${val(r.op, "status-message") || ""}`;
// A counter from the server's /metrics (name with its labels, e.g. 'x_total{by="wake"}').
async function metric(ctx, name) {
  const r = await raw(ctx, "/metrics");
  assert.equal(r.status, 200);
  const line = r.text.split("\n").find((l) => l.startsWith(`${name} `));
  assert.ok(line, `${name} in /metrics`);
  return Number(line.slice(name.length + 1));
}
const WOKEN = 'spoold_http_parked_resumed_total{by="wake"}';
const PARKED = "spoold_http_parked_requests";
// Waits until the server has at least n requests parked (its gauge in /metrics): a request
// sent is not yet a request waiting, and one that arrives after the event it waits for is
// answered without being parked or woken. The bound is a liveness one (a request that never
// parks is the failure), generous for a loaded machine.
async function parkedAtLeast(ctx, n) {
  const end = Date.now() + 30_000;
  let now;
  while ((now = await metric(ctx, PARKED)) < n) {
    assert.ok(Date.now() < end, `${now} request(s) parked after 30 s, waiting for ${n}`);
    await sleep(20);
  }
}

// ---- the main world ---------------------------------------------------------------------------

describe("IPP INFRA: every device step on the Graph side", () => {
  const ctx = world();
  let P, dev;
  before(async () => {
    P = await registerPrinter(ctx, "Front desk");
    P.token = await deviceToken(ctx, P.id);
    dev = device(ctx, P, P.token);
  });

  it("spoold token --device: 64 hex characters; a new token revokes the old one", async () => {
    const old = await deviceToken(ctx, P.id);
    assert.match(old, /^[0-9a-f]{64}$/);
    assert.notEqual(old, P.token);
    const r1 = await device(ctx, P, old).req(OP.GET_PRINTER_ATTRIBUTES);
    assert.equal(r1.httpStatus, 200);
    assert.equal((await device(ctx, P, P.token).req(OP.GET_PRINTER_ATTRIBUTES)).httpStatus, 401, "the first token is revoked");
    P.token = await deviceToken(ctx, P.id);
    dev = device(ctx, P, P.token, dev.uuid);
    assert.equal((await device(ctx, P, old).req(OP.GET_PRINTER_ATTRIBUTES)).httpStatus, 401);
  });

  it("authentication: 401 + WWW-Authenticate without credentials, Basic and Bearer, 403 for another printer's", async () => {
    const none = await ippRequest(dev.url, { op: OP.GET_PRINTER_ATTRIBUTES, operation: [attr.uri("printer-uri", dev.printerUri)] });
    assert.equal(none.httpStatus, 401);
    assert.match(none.headers["www-authenticate"], /Basic realm="spoold"/);
    assert.match(none.headers["www-authenticate"], /Bearer realm="spoold"/);
    const b = await ippRequest(dev.url, { op: OP.GET_PRINTER_ATTRIBUTES, auth: basic(P.id, P.token), operation: [attr.uri("printer-uri", dev.printerUri)] });
    assert.equal(b.status, STATUS.OK);
    const Q = await registerPrinter(ctx, "Other");
    const qtok = await deviceToken(ctx, Q.id);
    const other = await ippRequest(dev.url, { op: OP.GET_PRINTER_ATTRIBUTES, auth: basic(Q.id, qtok), operation: [attr.uri("printer-uri", dev.printerUri)] });
    assert.equal(other.httpStatus, 403, "a device sees only its own printer");
    const cross = await ippRequest(`${ctx.srv.origin}/ipp/print/${Q.id}`, { op: OP.GET_PRINTER_ATTRIBUTES, auth: bearer(P.token),
      operation: [attr.uri("printer-uri", dev.printerUri.replace(P.id, Q.id))] });
    assert.equal(cross.httpStatus, 401);
  });

  it("Update-Output-Device-Attributes drives status, isAcceptingJobs, capabilities, defaults and lastSeenDateTime", async () => {
    const before = await graphPrinter(ctx, P);
    const r = await dev.update([
      attr.enum("printer-state", 5),
      attr.keyword("printer-state-reasons", ["media-jam-error", "cover-open-warning", "not-a-reason"]),
      attr.text("printer-state-message", "Jam in tray 1"),
      attr.boolean("printer-is-accepting-jobs", false),
      attr.mime("document-format-supported", ["application/pdf", "image/urf"]),
      attr.keyword("sides-supported", ["one-sided", "two-sided-short-edge"]),
      attr.keyword("print-color-mode-supported", ["monochrome", "color"]),
      attr.range("copies-supported", [[1, 10]]),
      attr.keyword("media-supported", ["na_letter_8.5x11in", "iso_a5_148x210mm"]),
      attr.keyword("media-default", "na_letter_8.5x11in"),
      attr.enum("print-quality-supported", [4, 5]),
      attr.enum("print-quality-default", 5),
    ]);
    assert.equal(r.status, STATUS.OK, st(r));
    const p = await graphPrinter(ctx, P);
    assert.equal(p.status.state, "stopped");
    assert.deepEqual(p.status.details, ["mediaJam", "coverOpen"], "kebab -> camel, severity dropped, unknown ones left out");
    assert.equal(p.status.description, "Jam in tray 1");
    assert.equal(p.isAcceptingJobs, false);
    assert.deepEqual(p.capabilities.contentTypes, ["application/pdf", "image/urf"]);
    assert.deepEqual(p.capabilities.duplexModes, ["oneSided", "flipOnShortEdge"]);
    assert.deepEqual(p.capabilities.colorModes, ["grayscale", "color"]);
    assert.equal(p.capabilities.copiesPerJob.start, 1);
    assert.equal(p.capabilities.copiesPerJob.end, 10);
    assert.deepEqual(p.capabilities.mediaSizes, ["North America Letter", "A5"]);
    assert.deepEqual(p.capabilities.qualities, ["medium", "high"]);
    assert.equal(p.defaults.mediaSize, "North America Letter");
    assert.equal(p.defaults.quality, "high");
    assert.ok(p.lastSeenDateTime instanceof Date);
    assert.ok(!before.lastSeenDateTime || p.lastSeenDateTime >= before.lastSeenDateTime);

    // A printer that is not accepting jobs refuses new ones on the Graph side.
    const refused = await raw(ctx, `/v1.0/print/printers/${P.id}/jobs`, { method: "POST", token: ctx.user, json: {} });
    assert.equal(refused.status, 409, refused.text);

    const back = await dev.update([attr.enum("printer-state", 3), attr.keyword("printer-state-reasons", "none"),
      attr.boolean("printer-is-accepting-jobs", true)]);
    assert.equal(back.status, STATUS.OK);
    const p2 = await graphPrinter(ctx, P);
    assert.equal(p2.status.state, "idle");
    assert.deepEqual(p2.status.details, []);
    assert.equal(p2.isAcceptingJobs, true);
    assert.deepEqual(p2.capabilities.contentTypes, ["application/pdf", "image/urf"], "capabilities stay");

    const got = await dev.req(OP.GET_OUTPUT_DEVICE_ATTRIBUTES, [dev.dev()]);
    assert.equal(got.status, STATUS.OK);
    assert.equal(val(got.group(TAG.PRINTER)[0], "printer-state"), 3);
    const gpa = await dev.req(OP.GET_PRINTER_ATTRIBUTES);
    const pa = gpa.group(TAG.PRINTER)[0];
    assert.equal(val(pa, "printer-state"), 3);
    assert.deepEqual(vals(pa, "media-supported"), ["na_letter_8.5x11in", "iso_a5_148x210mm"]);
    assert.ok(vals(pa, "which-jobs-supported").includes("fetchable"));
  });

  it("Acknowledge-Job: isAcquiredByPrinter and acknowledgedDateTime; Fetch-Document: the bytes and downloadedDateTime", async () => {
    const j = await job(ctx, P, { configuration: { copies: 3, duplexMode: "flipOnLongEdge", mediaSize: "A4" } });
    let g = await graphJob(ctx, P, j.id);
    assert.equal(g.status.isAcquiredByPrinter, false);
    assert.ok(!g.acknowledgedDateTime, "acknowledgedDateTime is null before Acknowledge-Job");
    assert.equal(g.isFetchable, true);

    const fetched = await dev.req(OP.FETCH_JOB, [dev.job(j.id), dev.dev()]);
    assert.equal(fetched.status, STATUS.OK, st(fetched));
    const ja = fetched.group(TAG.JOB)[0];
    assert.equal(val(ja, "copies"), 3);
    assert.equal(val(ja, "sides"), "two-sided-long-edge");
    assert.equal(val(ja, "media"), "iso_a4_210x297mm");
    assert.equal(val(ja, "job-originating-user-name"), "alice@contoso.test");
    assert.equal(val(ja, "document-format"), "application/pdf");

    const t0 = Date.now();
    assert.equal((await dev.ack(j.id)).status, STATUS.OK);
    g = await graphJob(ctx, P, j.id);
    assert.equal(g.status.isAcquiredByPrinter, true);
    assert.equal(g.status.state, "processing");
    assert.ok(g.acknowledgedDateTime instanceof Date);
    assert.ok(Math.abs(g.acknowledgedDateTime.getTime() - t0) < 60_000);

    const doc = await dev.req(OP.FETCH_DOCUMENT, [dev.job(j.id), attr.integer("document-number", 1), dev.dev()]);
    assert.equal(doc.status, STATUS.OK, st(doc));
    assert.equal(val(doc.op, "document-format"), "application/pdf");
    assert.ok(doc.data.equals(PDF), `the bytes after the IPP response (${doc.data.length})`);
    const d = await kiota(ctx, ctx.user).print.printers.byPrinterId(P.id).jobs.byPrintJobId(j.id)
      .documents.byPrintDocumentId(j.docId).get();
    assert.ok(d.downloadedDateTime instanceof Date);
  });

  it("Update-Job-Status drives the Graph job: processing, stopped, completed with each detail, aborted, canceled", async () => {
    const cases = [
      { states: [5], want: { state: "processing" } },
      { states: [6], reasons: ["media-jam"], message: "Jammed", want: { state: "stopped", description: "Jammed" } },
      { states: [5, 9], want: { state: "completed", details: ["completedSuccessfully"] } },
      { states: [9], reasons: ["job-completed-with-warnings"], want: { state: "completed", details: ["completedWithWarnings"] } },
      { states: [9], reasons: ["job-completed-with-errors"], want: { state: "completed", details: ["completedWithErrors"] } },
      { states: [8], message: "Out of toner", want: { state: "aborted", description: "Out of toner" } },
      { states: [7], want: { state: "canceled", description: "The print job was canceled at the printer." } },
      { states: [6, 5], want: { state: "processing" } },
    ];
    for (const c of cases) {
      const j = await job(ctx, P);
      assert.equal((await dev.ack(j.id)).status, STATUS.OK);
      for (const s of c.states) {
        const extra = [];
        if (c.reasons) extra.push(attr.keyword("output-device-job-state-reasons", c.reasons));
        if (c.message) extra.push(attr.text("output-device-job-state-message", c.message));
        const r = await dev.status(j.id, s, extra);
        assert.equal(r.status, STATUS.OK, `${JSON.stringify(c)}: ${st(r)}`);
      }
      const g = await graphJob(ctx, P, j.id);
      assert.equal(g.status.state, c.want.state, JSON.stringify(c));
      if (c.want.details) assert.deepEqual(g.status.details, c.want.details, JSON.stringify(c));
      if (c.want.description) assert.equal(g.status.description, c.want.description);
      const ipp = await dev.req(OP.GET_JOB_ATTRIBUTES, [dev.job(j.id)]);
      assert.equal(val(ipp.group(TAG.JOB)[0], "output-device-job-state"), c.states[c.states.length - 1]);
    }
    // The device may not move a job it has not acknowledged, nor report a terminal one again.
    const j = await job(ctx, P);
    const r = await dev.status(j.id, 5);
    assert.equal(r.status, STATUS.NOT_POSSIBLE, st(r));
    assert.equal((await graphJob(ctx, P, j.id)).status.state, "processing");
  });

  it("a Graph cancel after the device fetched the job: job-completed event, Update-Active-Jobs, refusals", async () => {
    const sub = await dev.subscribe(["job-state-changed"]);
    const j = await job(ctx, P);
    assert.equal((await dev.req(OP.FETCH_JOB, [dev.job(j.id), dev.dev()])).status, STATUS.OK);
    assert.equal((await dev.ack(j.id)).status, STATUS.OK);
    const first = await dev.notifications(sub, 1);
    const seq = Math.max(...first.group(TAG.EVENT).map((e) => val(e, "notify-sequence-number"))) + 1;

    // The device waits; the owner cancels through Graph; the waiting request answers at once:
    // the cancel's commit wakes it (the server counts requests resumed by a wake-up apart from
    // those resumed at their deadline, the 5 s recheck that would otherwise answer it), and it
    // was still waiting when the cancel was sent (no timing assertion: a loaded machine only
    // makes both later).
    const woken = await metric(ctx, WOKEN);
    const parked = await metric(ctx, PARKED);
    let settled = false;
    const waiting = dev.notifications(sub, seq, true).finally(() => { settled = true; });
    await parkedAtLeast(ctx, parked + 1);   // waiting in the server before the cancel is sent
    assert.equal(settled, false, "Get-Notifications with notify-wait answered before any event");
    await kiota(ctx, ctx.user).print.printers.byPrinterId(P.id).jobs.byPrintJobId(j.id).cancel.post();
    const ev = await waiting;
    assert.ok(await metric(ctx, WOKEN) > woken, "the waiting request was resumed by the cancel's wake-up");
    const e = ev.group(TAG.EVENT)[0];
    assert.equal(val(e, "notify-subscribed-event"), "job-completed");
    assert.equal(val(e, "notify-job-id"), Number(j.id));
    assert.equal(val(e, "job-state"), 7);

    const uaj = await dev.req(OP.UPDATE_ACTIVE_JOBS, [dev.dev(), attr.integer("job-ids", [Number(j.id)]),
      attr.enum("output-device-job-states", [5])]);
    assert.equal(uaj.status, STATUS.OK);
    const ids = vals(uaj.op, "job-ids"), states = vals(uaj.op, "output-device-job-states");
    assert.equal(ids[0], Number(j.id), "the listed job first, with its real state");
    assert.equal(states[0], 7);
    // Then the jobs this device acknowledged earlier and left active, which it did not list.
    for (let i = 1; i < ids.length; i++) assert.ok([5, 6].includes(states[i]), `job ${ids[i]}: ${states[i]}`);
    const fd = await dev.req(OP.FETCH_DOCUMENT, [dev.job(j.id), attr.integer("document-number", 1), dev.dev()]);
    assert.equal(fd.status, STATUS.NOT_POSSIBLE, st(fd));
    assert.equal((await dev.status(j.id, 9)).status, STATUS.NOT_POSSIBLE);
    const g = await graphJob(ctx, P, j.id);
    assert.equal(g.status.state, "canceled", "the device cannot undo the cancel");
  });

  it("long polling holds no worker thread: other requests are answered while 12 Get-Notifications wait", async () => {
    const sub = await dev.subscribe(["job-fetchable"]);
    const drain = await dev.notifications(sub, 1);
    const seq = (drain.group(TAG.EVENT).length ? Math.max(...drain.group(TAG.EVENT).map((e) => val(e, "notify-sequence-number"))) : 0) + 1;
    // Ordering, not timing: the other requests are answered while every wait is still pending
    // (a wait ends only with an event or after 20 s; were the waits holding worker threads,
    // the other requests would be answered only after the waits ended).
    let settled = 0;
    const parked = await metric(ctx, PARKED);
    const waits = Array.from({ length: 12 }, () => dev.notifications(sub, seq, true).finally(() => { settled++; }));
    await parkedAtLeast(ctx, parked + 12);   // all 12 waiting in the server, holding no thread
    for (let i = 0; i < 5; i++) {
      const r = await dev.req(OP.GET_PRINTER_ATTRIBUTES, [attr.keyword("requested-attributes", "printer-state")]);
      assert.equal(r.status, STATUS.OK);
      assert.equal(settled, 0, `request ${i} was answered only after ${settled} wait(s) ended`);
    }
    const woken = await metric(ctx, WOKEN);
    const j = await job(ctx, P);
    const all = await Promise.all(waits);
    assert.ok(await metric(ctx, WOKEN) >= woken + 12, "the 12 waits were resumed by the job's wake-ups");
    for (const r of all) {
      assert.equal(r.status, STATUS.OK);
      const e = r.group(TAG.EVENT)[0];
      assert.equal(val(e, "notify-subscribed-event"), "job-fetchable");
      assert.equal(val(e, "notify-job-id"), Number(j.id));
    }
  });
});

// ---- pull printing -------------------------------------------------------------------------------

describe("IPP INFRA and pull printing: held jobs are never offered", () => {
  const ctx = world({ args: ["--task-timeout", "5s", "--sweep-interval", "1s"] });
  let H, dev, def;
  before(async () => {
    H = await registerPrinter(ctx, "Pull");
    H.token = await deviceToken(ctx, H.id);
    dev = device(ctx, H, H.token);
    def = (await kiota(ctx, ctx.app).print.taskDefinitions.post({ displayName: "Badge release" })).id;
    await kiota(ctx, ctx.admin).print.printers.byPrinterId(H.id).taskTriggers.post({
      event: "jobStarted", additionalData: { "definition@odata.bind": `https://graph.microsoft.com/v1.0/print/taskDefinitions/${def}` },
    });
  });

  it("a held job: not fetchable, refused, then released by the task (job-fetchable event)", async () => {
    const sub = await dev.subscribe(["job-fetchable", "job-completed"]);
    const j = await job(ctx, H);
    assert.equal((await graphJob(ctx, H, j.id)).status.state, "paused");
    const list = await dev.req(OP.GET_JOBS, [attr.keyword("which-jobs", "fetchable")]);
    assert.equal(list.group(TAG.JOB).length, 0);
    for (const op of [OP.FETCH_JOB, OP.ACKNOWLEDGE_JOB]) {
      const r = await dev.req(op, [dev.job(j.id), dev.dev()]);
      assert.equal(r.status, STATUS.NOT_POSSIBLE, st(r));
    }
    const tasks = await raw(ctx, `/v1.0/print/printers/${H.id}/jobs/${j.id}/tasks`, { token: ctx.app });
    const task = tasks.json.value[0].id;
    const waiting = dev.notifications(sub, 1, true);
    await sleep(200);
    const done = await raw(ctx, `/v1.0/print/taskDefinitions/${def}/tasks/${task}`, {
      method: "PATCH", token: ctx.app, json: { status: { state: "completed" } } });
    assert.equal(done.status, 200, done.text);
    const e = (await waiting).group(TAG.EVENT)[0];
    assert.equal(val(e, "notify-subscribed-event"), "job-fetchable");
    assert.equal(val(e, "notify-job-id"), Number(j.id));
    const fetched = await dev.req(OP.FETCH_JOB, [dev.job(j.id), dev.dev()]);
    assert.equal(fetched.status, STATUS.OK, st(fetched));
    assert.equal((await dev.ack(j.id)).status, STATUS.OK);
    assert.equal((await graphJob(ctx, H, j.id)).status.isAcquiredByPrinter, true);
  });

  it("a redirected held job: the new job is offered on the destination, the source never", async () => {
    const D = await registerPrinter(ctx, "Destination");
    D.token = await deviceToken(ctx, D.id);
    const ddev = device(ctx, D, D.token);
    const sub = await ddev.subscribe(["job-fetchable"]);
    const j = await job(ctx, H);
    const r = await raw(ctx, `/v1.0/print/printers/${H.id}/jobs/${j.id}/redirect`, {
      method: "POST", token: ctx.app, json: { destinationPrinterId: D.id, configuration: { copies: 4 } } });
    assert.equal(r.status, 200, r.text);
    const newId = Number(r.json.id);
    const e = (await ddev.notifications(sub, 1, true)).group(TAG.EVENT)[0];
    assert.equal(val(e, "notify-subscribed-event"), "job-fetchable");
    assert.equal(val(e, "notify-job-id"), newId);
    const fetched = await ddev.req(OP.FETCH_JOB, [ddev.job(newId), ddev.dev()]);
    assert.equal(fetched.status, STATUS.OK, st(fetched));
    assert.equal(val(fetched.group(TAG.JOB)[0], "copies"), 4, "the redirect's configuration");
    const src = await dev.req(OP.FETCH_JOB, [dev.job(j.id), dev.dev()]);
    assert.equal(src.status, STATUS.NOT_POSSIBLE, "the redirected source job is never fetchable");
    const list = await dev.req(OP.GET_JOBS, [attr.keyword("which-jobs", "fetchable")]);
    assert.ok(!list.group(TAG.JOB).some((g) => val(g, "job-id") === Number(j.id)));
  });

  it("a held job aborted by the task timeout reaches the device as job-completed, job-state 8", async () => {
    const sub = await dev.subscribe(["job-completed"]);
    const j = await job(ctx, H);
    let e;
    for (let i = 0; i < 5 && !e; i++) e = (await dev.notifications(sub, 1, true)).group(TAG.EVENT)[0];
    assert.ok(e, "an event within the wait");
    assert.equal(val(e, "notify-job-id"), Number(j.id));
    assert.equal(val(e, "job-state"), 8);
    assert.equal((await graphJob(ctx, H, j.id, ctx.app)).status.state, "aborted");
    const gja = await dev.req(OP.GET_JOB_ATTRIBUTES, [dev.job(j.id)]);
    assert.equal(val(gja.group(TAG.JOB)[0], "job-state"), 8);
  });
});

// ---- TLS -------------------------------------------------------------------------------------------

describe("a device that authenticates wrongly (ippsample's ippproxy): Basic root:<token>, slowed failures, throttled logs", () => {
  // ippproxy sends HTTP Basic with the user name "root" and the device token as password, and
  // retries at once on 401 (about 4,400 requests/s with 168,000 log lines in 40 s). These
  // requests reproduce its wire traffic with the IPP client of lib/ipp.mjs.
  const ctx = world();
  let P, url, printerUri;
  const gpa = (auth) => ippRequest(url, { op: OP.GET_PRINTER_ATTRIBUTES, auth, ca: ctx.srv.ca, operation: [attr.uri("printer-uri", printerUri)] });
  const timed = async (auth) => {
    const t0 = Date.now();
    const r = await gpa(auth);
    return { r, ms: Date.now() - t0 };
  };
  const warnLines = () => ctx.srv.output.split("\n").filter((l) => l.includes("device authentication failed") && l.includes(P.id));

  before(async () => {
    P = await registerPrinter(ctx, "Proxy queue");
    P.token = await deviceToken(ctx, P.id);
    url = `${ctx.srv.origin}/ipp/print/${P.id}`;
    printerUri = url.replace(/^http/, "ipp");
  });

  it("Basic root:<device token> is accepted (the token names the printer), for reads and Update-Output-Device-Attributes", async () => {
    const r = await gpa(basic("root", P.token));
    assert.equal(r.httpStatus, 200);
    assert.equal(r.status, STATUS.OK);
    assert.equal(val(r.group(TAG.PRINTER)[0], "printer-uuid"), `urn:uuid:${P.id}`);
    const upd = await ippRequest(url, { op: OP.UPDATE_OUTPUT_DEVICE_ATTRIBUTES, auth: basic("root", P.token), ca: ctx.srv.ca, groups: [
      { tag: TAG.OPERATION, attrs: [attr.charset("attributes-charset", "utf-8"), attr.language("attributes-natural-language", "en"),
        attr.uri("printer-uri", printerUri), attr.uri("output-device-uuid", `urn:uuid:${randomUUID()}`)] },
      { tag: TAG.PRINTER, attrs: [attr.enum("printer-state", 3), attr.text("printer-state-message", "ippproxy says hello")] }] });
    assert.equal(upd.status, STATUS.OK, `0x${upd.status?.toString(16)}`);
    assert.equal((await graphPrinter(ctx, P)).status.description, "ippproxy says hello");
    // any other user name as well; a wrong token under root is still 401
    assert.equal((await gpa(basic("anyone", P.token))).status, STATUS.OK);
    const bad = await gpa(basic("root", "0".repeat(64)));
    assert.equal(bad.httpStatus, 401);
    assert.match(bad.headers["www-authenticate"], /Basic realm="spoold"/);
  });

  it("repeated failures of one credential are answered more and more slowly; nobody else waits", async () => {
    const wrong = basic("root", `wrong-${randomUUID()}`);
    // two failures at full speed, then 250 ms, 500 ms, ...
    // Which requests were held is read from the server's own counter, not from the clock (a
    // loaded machine makes any request slow); lower bounds on held ones cannot be flaky.
    const HELD = "spoold_ipp_auth_failures_held_total";
    const held0 = await metric(ctx, HELD);
    const a = await timed(wrong);
    const b = await timed(wrong);
    assert.equal(await metric(ctx, HELD), held0, "the first two failures are answered at once (not held)");
    const c = await timed(wrong);
    for (const x of [a, b, c]) assert.equal(x.r.httpStatus, 401);
    assert.equal(await metric(ctx, HELD), held0 + 1, "the third failure is held");
    assert.ok(c.ms >= 230, `the third failure is held: ${c.ms} ms`);
    // a burst of 12 more, all at once (ippproxy's retry loop, but in parallel), and meanwhile
    // the right token, a fresh wrong credential and a request without credentials
    const t0 = Date.now();
    const burst = Array.from({ length: 12 }, () => timed(wrong));
    await sleep(50);
    const good = await timed(basic("root", P.token));
    const other = await timed(basic("root", "another-wrong-token"));
    const none = await timed(undefined);
    assert.equal(good.r.status, STATUS.OK);
    assert.equal(other.r.httpStatus, 401);
    assert.equal(none.r.httpStatus, 401);
    const done = await Promise.all(burst);
    // exactly the 12 of the burst were held besides the third: none of good, other and none
    assert.equal(await metric(ctx, HELD), held0 + 13, "only this credential's failures were held");
    for (const x of done) {
      assert.equal(x.r.httpStatus, 401);
      assert.match(x.r.headers["www-authenticate"] || "", /Basic realm="spoold"/);
    }
    const slowest = Math.max(...done.map((x) => x.ms));
    assert.ok(slowest >= 3500, `the delay grows to its cap of 4 s: slowest ${slowest} ms`);
    // Side by side, not one after another: one after another the 12 delays (0.5 + 1 + 2 + 9 x
    // 4 s) would add up to about 40 s. A generous liveness bound, only because such a pile-up
    // is the failure this checks; it is not a speed assertion.
    assert.ok(Date.now() - t0 < 25_000, `the held failures took ${Date.now() - t0} ms in all`);
  });

  it("log lines: one per credential per 10 s, then one line with the count of the unlogged ones", async () => {
    const wrong = basic("root", `logged-${randomUUID()}`);
    const before = warnLines().length;
    const accessBefore = ctx.srv.output.split("\n").filter((l) => l.includes("ipp.print 401")).length;
    await Promise.all(Array.from({ length: 20 }, () => gpa(wrong)));
    const lines = warnLines().slice(before);
    assert.equal(lines.length, 1, `one warning for 20 failures: ${lines.join("\n")}`);
    assert.match(lines[0], /device authentication failed for printer [0-9a-f-]+ from 127\.0\.0\.1: the password is not this printer's device token/);
    const access = ctx.srv.output.split("\n").filter((l) => l.includes("ipp.print 401")).length - accessBefore;
    assert.equal(access, 1, "one request log line for the 20 refused requests");
    // 10 s from when the server logged the first failure (the line's own time stamp), not from
    // when the client sent it: on a loaded machine the server may take it up long after
    const loggedAt = Date.parse(lines[0].split(" ")[0]);
    assert.ok(Number.isFinite(loggedAt), `a time stamp opens the line: ${lines[0]}`);
    await sleep(Math.max(0, loggedAt + 10_200 - Date.now()));
    await gpa(wrong);
    const next = warnLines().slice(before);
    assert.equal(next.length, 2, next.join("\n"));
    assert.match(next[1], /\(19 more failures with this credential not logged since the last report\)/);
  });
});

describe("IPP INFRA over TLS: the registered certificate as client certificate", () => {
  const ctx = world({ tls: true });

  it("the printer's certificate authenticates without a token; another certificate does not", async () => {
    const P = await registerPrinter(ctx, "TLS");
    const url = `${ctx.srv.origin}/ipp/print/${P.id}`;
    const operation = [attr.uri("printer-uri", url.replace(/^https/, "ipps"))];
    const r = await ippRequest(url, { op: OP.GET_PRINTER_ATTRIBUTES, operation, ca: ctx.srv.ca, cert: P.certPem, key: ctx.csr.keyPem });
    assert.equal(r.httpStatus, 200, r.raw.toString());
    assert.equal(r.status, STATUS.OK);
    const pa = r.group(TAG.PRINTER)[0];
    assert.equal(val(pa, "uri-security-supported"), "tls");
    assert.equal(val(pa, "uri-authentication-supported"), "certificate");
    assert.match(val(pa, "printer-uri-supported"), /^ipps:/);
    // A certificate of another printer (same key, another registration) is not this printer's.
    const Q = await registerPrinter(ctx, "TLS 2");
    const q = await ippRequest(url, { op: OP.GET_PRINTER_ATTRIBUTES, operation, ca: ctx.srv.ca, cert: Q.certPem, key: ctx.csr.keyPem });
    assert.equal(q.httpStatus, 401);
    const none = await ippRequest(url, { op: OP.GET_PRINTER_ATTRIBUTES, operation, ca: ctx.srv.ca });
    assert.equal(none.httpStatus, 401);
    // The Graph side still works over the same TLS listener (the certificate request is optional).
    const g = await raw(ctx, `/v1.0/print/printers/${P.id}`, { token: ctx.admin });
    assert.equal(g.status, 200);
    assert.ok(g.json.lastSeenDateTime, "the certificate-authenticated request counts as seen");
  });
});

// ---- shutdown ----------------------------------------------------------------------------------------

describe("shutdown with Get-Notifications waiting", () => {
  const ctx = world();

  it("SIGTERM answers the waiting requests and exits 0 promptly", async () => {
    const P = await registerPrinter(ctx, "Shutdown");
    P.token = await deviceToken(ctx, P.id);
    const dev = device(ctx, P, P.token);
    const sub = await dev.subscribe(["job-completed"]);
    const waits = Array.from({ length: 3 }, () => dev.notifications(sub, 1, true).catch((e) => e));
    await parkedAtLeast(ctx, 3);   // waiting in the server (500 ms of sleep were not always)
    const t0 = Date.now();
    ctx.srv.signal("SIGTERM");
    const results = await Promise.all(waits);
    for (const r of results) {
      if (r instanceof Error) continue; // the connection may close with the server
      assert.equal(r.status, STATUS.OK, "answered, without events");
      assert.equal(r.group(TAG.EVENT).length, 0);
    }
    // A liveness bound, not a speed one: left parked, the waits would hold the drain until
    // their 20 s deadline, which is the failure this checks.
    const status = await Promise.race([ctx.srv.exited, sleep(15_000).then(() => "timeout")]);
    assert.notEqual(status, "timeout", `spoold still running ${Date.now() - t0} ms after SIGTERM`);
    assert.equal(status.code, 0, ctx.srv.output);
    await ctx.srv.cleanup();
    ctx.srv = null;
  });
});
