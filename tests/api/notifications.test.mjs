// SPDX-License-Identifier: Apache-2.0
// Change notifications (reference §7): POST/GET/PATCH/DELETE /subscriptions with the Kiota
// client and on the wire, the validation handshake against a receiver started here, every
// refusal, and delivery: a print task created by a job start, a job becoming fetchable,
// retries with back-off, redelivery after SIGKILL, isolation of a hanging endpoint, expiry with
// its subscriptionRemoved lifecycle notification and the `missed` one after dropped deliveries.
//
// Every describe block runs its own spoold and receiver. Short timings come from test options:
// --webhook-retry-base-ms, --webhook-retry-max-age, and --webhook-validation-timeout 1 only for
// the test of a receiver that never answers the handshake (everywhere else the default 10 s: a
// handshake is a round trip through this process's receiver, which a loaded machine can delay).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { kiotaClient, kiotaWithStatus, rawFetch, models, GUID, closeAgents } from "./lib/clients.mjs";
import { assertErrorEnvelope, expectKiotaError } from "./lib/graph-assert.mjs";
import { startReceiver } from "./lib/webhook-receiver.mjs";
import { serverForSuite, registerPrinter, createJob, uploadDocument } from "./lib/fixtures.mjs";

after(() => closeAgents());

const APP_X = "00000000-0000-4000-8000-0000000000a1";   // the pull-print vendor app
const APP_Y = "00000000-0000-4000-8000-0000000000b2";   // another app of the same tenant
const MINUTE = 60_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const inMinutes = (m) => new Date(Date.now() + m * MINUTE).toISOString();

// ---- fixtures --------------------------------------------------------------------------------

// Starts spoold and a receiver for a describe block, with the tokens the tests use.
function withServer(args = [], { receiver = true } = {}) {
  return serverForSuite({ args }, {
    ctx: { args },
    tokens: {
      appX: { app: APP_X, roles: "PrintTaskDefinition.ReadWrite.All Printer.Read.All" },
      appY: { app: APP_Y, roles: "PrintTaskDefinition.ReadWrite.All Printer.Read.All" },
      appPrinterOnly: { app: APP_X, roles: "Printer.Read.All" },
      appJobsOnly: { app: APP_X, roles: "PrintJob.ReadWrite.All" },
      admin: {
        app: APP_X, admin: true,
        scopes: "Printer.Create Printer.ReadWrite.All Printer.FullControl.All PrinterShare.ReadWrite.All",
      },
      user: { scopes: "PrintJob.ReadWrite Printer.Read.All" },
    },
    setup: async (ctx) => { if (receiver) ctx.rx = await startReceiver(); },
    teardown: async (ctx) => { if (ctx.rx) await ctx.rx.close(); },
  });
}

const api = (ctx, p, v = "v1.0") => `${ctx.srv.origin}/${v}${p}`;

async function call(ctx, method, p, token, json) {
  return rawFetch(api(ctx, p), { method, token, json, ca: ctx.srv.ca });
}

async function mustOk(promise, status, what) {
  const r = await promise;
  assert.equal(r.status, status, `${what}: ${r.status} ${r.text.slice(0, 400)}`);
  return r;
}

async function createDefinition(ctx, token = ctx.appX) {
  const r = await mustOk(call(ctx, "POST", "/print/taskDefinitions", token,
    { displayName: `def ${randomUUID().slice(0, 8)}` }), 201, "create task definition");
  return r.json.id;
}

async function createTrigger(ctx, printerId, definitionId) {
  await mustOk(call(ctx, "POST", `/print/printers/${printerId}/taskTriggers`, ctx.admin, {
    event: "jobStarted", "definition@odata.bind": `${ctx.srv.url}/v1.0/print/taskDefinitions/${definitionId}`,
  }), 201, "create task trigger");
}

// A user's job on printerId with one uploaded document, started (J1, D2, D3, J6). Returns the
// job id and the start answer.
async function printJob(ctx, printerId) {
  const parent = `printers/${printerId}`;
  const job = await createJob(ctx.srv, ctx.user, parent, { configuration: {} });
  assert.ok(job.documents?.[0]?.id, `job has a document: ${JSON.stringify(job)}`);
  await uploadDocument(ctx.srv, ctx.user, parent, job, Buffer.from("%PDF-1.4\n% spoold notification test\n%%EOF\n"),
    { documentName: "t.pdf" });
  const start = await mustOk(call(ctx, "POST", `/print/printers/${printerId}/jobs/${job.id}/start`, ctx.user), 200, "start job");
  return { jobId: job.id, start: start.json };
}

function subscriptionBody(ctx, over = {}) {
  return {
    changeType: "created",
    notificationUrl: ctx.rx.url("/hook"),
    resource: `print/taskDefinitions/${ctx.definition}/tasks`,
    expirationDateTime: inMinutes(60),
    clientState: "secret-client-state",
    ...over,
  };
}

const fetchableBody = (ctx, printerId, url, over = {}) => ({
  changeType: "updated", resource: `print/printers/${printerId}/jobs`,
  notificationQueryOptions: "$filter = isFetchable eq true", notificationUrl: url,
  expirationDateTime: inMinutes(60), clientState: "fetch-state", ...over,
});

async function subscribe(ctx, body, token = ctx.appX) {
  const r = await call(ctx, "POST", "/subscriptions", token, body);
  assert.equal(r.status, 201, `subscribe: ${r.status} ${r.text.slice(0, 500)}`);
  return r.json;
}

async function metric(ctx, name) {
  const r = await rawFetch(`${ctx.srv.origin}/metrics`, { ca: ctx.srv.ca });
  const m = new RegExp(`^${name} (\\d+)`, "m").exec(r.text);
  return m ? Number(m[1]) : undefined;
}

// Polls a counter until it reaches at least `min` (the worker records an outcome just after
// the receiver has answered). Returns the last value read.
async function metricAtLeast(ctx, name, min, timeoutMs = 5000) {
  const end = Date.now() + timeoutMs;
  let v;
  while ((v = await metric(ctx, name)) < min && Date.now() < end) await sleep(50);
  return v;
}

// ---- subscriptions CRUD -------------------------------------------------------------------------

describe("subscriptions: create, read, renew, delete", () => {
  const ctx = withServer();
  before(async () => { ctx.definition = await createDefinition(ctx); });

  it("POST answers 201 with every property of the reference example, after the handshake", async () => {
    ctx.rx.on("/hook");
    const exp = inMinutes(120);
    const r = await call(ctx, "POST", "/subscriptions", ctx.appX, subscriptionBody(ctx, {
      resource: `/print/taskdefinitions('${ctx.definition}')/TASKS`, expirationDateTime: exp,
    }));
    assert.equal(r.status, 201, r.text);
    const s = r.json;
    assert.equal(s["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#subscriptions/$entity`);
    for (const k of ["id", "resource", "applicationId", "changeType", "clientState", "notificationUrl",
      "notificationQueryOptions", "lifecycleNotificationUrl", "expirationDateTime", "creatorId",
      "includeProperties", "includeResourceData", "latestSupportedTlsVersion", "encryptionCertificate",
      "encryptionCertificateId"]) assert.ok(k in s, `property ${k} in ${r.text}`);
    assert.match(s.id, GUID);
    assert.equal(s.resource, `print/taskDefinitions/${ctx.definition}/tasks`, "normalised resource");
    assert.equal(s.applicationId, APP_X);
    assert.equal(s.changeType, "created");
    assert.equal(s.clientState, "secret-client-state");
    assert.equal(s.notificationUrl, ctx.rx.url("/hook"));
    assert.equal(s.notificationQueryOptions, null);
    assert.equal(s.lifecycleNotificationUrl, null);
    assert.equal(Date.parse(s.expirationDateTime), Date.parse(exp));
    assert.equal(typeof s.creatorId, "string");
    assert.equal(s.latestSupportedTlsVersion, "v1_2");
    assert.equal(s.includeResourceData, null);
    assert.equal(s.encryptionCertificate, null);
    ctx.sub = s;

    const hs = ctx.rx.handshakes("/hook");
    assert.equal(hs.length, 1, "one validation request");
    assert.equal(hs[0].method, "POST");
    assert.match(hs[0].contentType || "", /^text\/plain/);
    assert.match(hs[0].token, /^Validation: .* [0-9a-f-]{36}$/, "the token arrives URL-decoded (spaces, colon)");
  });

  it("a second subscription of the app for the same resource and changeType is 409", async () => {
    const r = await call(ctx, "POST", "/subscriptions", ctx.appX, subscriptionBody(ctx));
    assertErrorEnvelope(r, { status: 409 });
    assert.match(r.json.error.message, new RegExp(ctx.sub.id));
  });

  it("GET /subscriptions lists the app's own subscriptions only; GET by id", async () => {
    const list = await mustOk(call(ctx, "GET", "/subscriptions", ctx.appX), 200, "list");
    assert.equal(list.json["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#subscriptions`);
    assert.deepEqual(list.json.value.map((s) => s.id), [ctx.sub.id]);
    const other = await mustOk(call(ctx, "GET", "/subscriptions", ctx.appY), 200, "list as another app");
    assert.deepEqual(other.json.value, []);
    const one = await mustOk(call(ctx, "GET", `/subscriptions/${ctx.sub.id}`, ctx.appX, undefined), 200, "get");
    assert.equal(one.json.id, ctx.sub.id);
    assert.equal(one.json["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#subscriptions/$entity`);
    const beta = await rawFetch(api(ctx, `/subscriptions('${ctx.sub.id}')`, "beta"), { token: ctx.appX });
    assert.equal(beta.status, 200);
    assert.equal(beta.json["@odata.context"], `${ctx.srv.url}/beta/$metadata#subscriptions/$entity`);
  });

  it("another app's subscription is 404 for GET, PATCH and DELETE", async () => {
    for (const [m, body] of [["GET"], ["PATCH", { expirationDateTime: inMinutes(30) }], ["DELETE"]]) {
      const r = await call(ctx, m, `/subscriptions/${ctx.sub.id}`, ctx.appY, body);
      assertErrorEnvelope(r, { status: 404, code: "itemNotFound" });
    }
    assertErrorEnvelope(await call(ctx, "GET", `/subscriptions/${randomUUID()}`, ctx.appX), { status: 404, code: "itemNotFound" });
  });

  it("PATCH renews expirationDateTime (200); other properties are 400; too far is 400", async () => {
    const exp = inMinutes(4000);
    const r = await mustOk(call(ctx, "PATCH", `/subscriptions/${ctx.sub.id}`, ctx.appX, { expirationDateTime: exp }), 200, "renew");
    assert.equal(Date.parse(r.json.expirationDateTime), Date.parse(exp));
    assert.equal(r.json.id, ctx.sub.id);
    const got = await call(ctx, "GET", `/subscriptions/${ctx.sub.id}`, ctx.appX);
    assert.equal(Date.parse(got.json.expirationDateTime), Date.parse(exp));

    for (const body of [{ resource: "print/printers/x/jobs" }, { changeType: "updated" }, { clientState: "x" }]) {
      const bad = await call(ctx, "PATCH", `/subscriptions/${ctx.sub.id}`, ctx.appX, body);
      assertErrorEnvelope(bad, { status: 400, code: "invalidRequest" });
      assert.match(bad.json.error.message, /cannot be updated/);
    }
    assertErrorEnvelope(await call(ctx, "PATCH", `/subscriptions/${ctx.sub.id}`, ctx.appX,
      { expirationDateTime: inMinutes(4232) }), { status: 400, code: "invalidRequest" });
    assertErrorEnvelope(await call(ctx, "PATCH", `/subscriptions/${ctx.sub.id}`, ctx.appX,
      { expirationDateTime: inMinutes(-1) }), { status: 400, code: "invalidRequest" });
  });

  it("PATCH notificationUrl validates the new endpoint", async () => {
    ctx.rx.on("/moved");
    ctx.rx.on("/wrong", { handshake: "wrong" });
    const bad = await call(ctx, "PATCH", `/subscriptions/${ctx.sub.id}`, ctx.appX, { notificationUrl: ctx.rx.url("/wrong") });
    assertErrorEnvelope(bad, { status: 400, code: "invalidRequest" });
    const r = await mustOk(call(ctx, "PATCH", `/subscriptions/${ctx.sub.id}`, ctx.appX,
      { notificationUrl: ctx.rx.url("/moved") }), 200, "move");
    assert.equal(r.json.notificationUrl, ctx.rx.url("/moved"));
    assert.equal(ctx.rx.handshakes("/moved").length, 1);
  });

  it("DELETE answers 204; the subscription is then 404 and the slot is free again", async () => {
    const r = await call(ctx, "DELETE", `/subscriptions/${ctx.sub.id}`, ctx.appX);
    assert.equal(r.status, 204, r.text);
    assertErrorEnvelope(await call(ctx, "GET", `/subscriptions/${ctx.sub.id}`, ctx.appX), { status: 404 });
    const again = await subscribe(ctx, subscriptionBody(ctx));
    assert.notEqual(again.id, ctx.sub.id);
    ctx.sub = again;
  });

  it("the Kiota client creates, lists, renews and deletes", async () => {
    const client = kiotaClient({ origin: ctx.srv.origin, token: ctx.appY });
    const defY = await createDefinition(ctx, ctx.appY);
    const body = new Object({
      changeType: "created", notificationUrl: ctx.rx.url("/hook"), resource: `print/taskDefinitions/${defY}/tasks`,
      expirationDateTime: new Date(Date.now() + 30 * MINUTE), clientState: "kiota",
    });
    const created = await client.subscriptions.post(body);
    assert.match(created.id, GUID);
    assert.equal(created.applicationId, APP_Y);
    assert.equal(created.latestSupportedTlsVersion, "v1_2");
    assert.ok(created.expirationDateTime instanceof Date);
    const raw = await kiotaWithStatus((cfg) => client.subscriptions.get(cfg), models.createSubscriptionCollectionResponseFromDiscriminatorValue);
    assert.equal(raw.status, 200);
    assert.deepEqual(raw.value.value.map((s) => s.id), [created.id]);
    const renewed = await client.subscriptions.bySubscriptionId(created.id).patch({ expirationDateTime: new Date(Date.now() + 60 * MINUTE) });
    assert.ok(renewed.expirationDateTime.getTime() > created.expirationDateTime.getTime());
    await client.subscriptions.bySubscriptionId(created.id).delete();
    await expectKiotaError(client.subscriptions.bySubscriptionId(created.id).get(), { status: 404, code: "itemNotFound" });
  });
});

// ---- refusals -----------------------------------------------------------------------------------

describe("subscriptions: refusals", () => {
  const ctx = withServer();
  before(async () => {
    ctx.rx.on("/hook");
    ctx.definition = await createDefinition(ctx);
    ctx.definitionY = await createDefinition(ctx, ctx.appY);
  });

  it("delegated tokens get 403 saying print subscriptions need application permissions", async () => {
    for (const [m, p, body] of [["POST", "/subscriptions", subscriptionBody(ctx)], ["GET", "/subscriptions"],
      ["GET", `/subscriptions/${randomUUID()}`], ["DELETE", `/subscriptions/${randomUUID()}`]]) {
      const r = await call(ctx, m, p, ctx.admin, body);
      assertErrorEnvelope(r, { status: 403, code: "accessDenied" });
      assert.match(r.json.error.message, /application permissions/, `${m} ${p}: ${r.json.error.message}`);
    }
    assert.equal(ctx.rx.handshakes("/hook").length, 0, "no handshake for a refused request");
  });

  it("expirationDateTime more than 4230 minutes ahead, or in the past, is 400", async () => {
    for (const exp of [inMinutes(4232), inMinutes(10_000), inMinutes(-5), "not a date"]) {
      const r = await call(ctx, "POST", "/subscriptions", ctx.appX, subscriptionBody(ctx, { expirationDateTime: exp }));
      assertErrorEnvelope(r, { status: 400, code: "invalidRequest" });
      assert.match(r.json.error.message, /expirationDateTime|4230|future/);
    }
    ctx.sub = await subscribe(ctx, subscriptionBody(ctx, { expirationDateTime: inMinutes(4229) }));
  });

  it("renewing or deleting needs the permission of the subscription's resource (403)", async () => {
    // Same app, but its token no longer holds PrintTaskDefinition.ReadWrite.All.
    const got = await call(ctx, "GET", `/subscriptions/${ctx.sub.id}`, ctx.appPrinterOnly);
    assert.equal(got.status, 200, got.text);
    for (const [m, body] of [["PATCH", { expirationDateTime: inMinutes(30) }], ["DELETE"]]) {
      const r = await call(ctx, m, `/subscriptions/${ctx.sub.id}`, ctx.appPrinterOnly, body);
      assertErrorEnvelope(r, { status: 403, code: "accessDenied" });
      assert.match(r.json.error.message, /PrintTaskDefinition\.ReadWrite\.All/);
    }
  });

  it("an unsupported resource is 400; a task definition that does not exist is 404", async () => {
    for (const resource of ["print/printers", "print/shares/x/jobs", "me/messages", `print/taskDefinitions/${ctx.definition}`,
      `print/taskDefinitions/${ctx.definition}/tasks/extra`]) {
      const r = await call(ctx, "POST", "/subscriptions", ctx.appX, subscriptionBody(ctx, { resource }));
      assertErrorEnvelope(r, { status: 400, code: "invalidRequest" });
      assert.match(r.json.error.message, /not supported/);
    }
    const r = await call(ctx, "POST", "/subscriptions", ctx.appX, subscriptionBody(ctx, { resource: `print/taskDefinitions/${randomUUID()}/tasks` }));
    assertErrorEnvelope(r, { status: 404, code: "itemNotFound" });
    const p = await call(ctx, "POST", "/subscriptions", ctx.appX, fetchableBody(ctx, randomUUID(), ctx.rx.url("/hook")));
    assertErrorEnvelope(p, { status: 404, code: "itemNotFound" });
  });

  it("another app's task definition is 403", async () => {
    const r = await call(ctx, "POST", "/subscriptions", ctx.appX, subscriptionBody(ctx, { resource: `print/taskDefinitions/${ctx.definitionY}/tasks` }));
    assertErrorEnvelope(r, { status: 403, code: "accessDenied" });
    assert.match(r.json.error.message, /another application/);
  });

  it("a missing permission is 403 naming it", async () => {
    const r = await call(ctx, "POST", "/subscriptions", ctx.appPrinterOnly, subscriptionBody(ctx, { clientState: "x" }));
    assertErrorEnvelope(r, { status: 403, code: "accessDenied" });
    assert.match(r.json.error.message, /PrintTaskDefinition\.ReadWrite\.All/);
    const l = await call(ctx, "GET", "/subscriptions", ctx.appJobsOnly);
    assertErrorEnvelope(l, { status: 403, code: "accessDenied" });
    const j = await call(ctx, "POST", "/subscriptions", ctx.appJobsOnly, fetchableBody(ctx, randomUUID(), ctx.rx.url("/hook")));
    assertErrorEnvelope(j, { status: 403, code: "accessDenied" });
    assert.match(j.json.error.message, /Printer\.Read\.All/);
  });

  it("wrong changeType, query options, body properties are 400", async () => {
    const cases = [
      { changeType: "updated" }, { changeType: "created,updated" }, { changeType: "deleted" },
      { notificationQueryOptions: "$filter = isFetchable eq true" }, { includeResourceData: true },
      { encryptionCertificate: "abc" }, { latestSupportedTlsVersion: "v9" }, { id: "mine" }, { unknownProperty: 1 },
      { notificationUrl: undefined }, { resource: undefined }, { clientState: "x".repeat(129) },
    ];
    for (const over of cases) {
      const body = subscriptionBody(ctx, over);
      for (const k of Object.keys(over)) if (over[k] === undefined) delete body[k];
      const r = await call(ctx, "POST", "/subscriptions", ctx.appY, body);
      assertErrorEnvelope(r, { status: 400, code: "invalidRequest" });
    }
  });

  it("webhook URLs must be http(s) without credentials", async () => {
    for (const url of ["ftp://127.0.0.1/x", `http://user:pw@127.0.0.1:${ctx.rx.port}/hook`, "/relative", "not a url"]) {
      const r = await call(ctx, "POST", "/subscriptions", ctx.appY, subscriptionBody(ctx, { notificationUrl: url,
        resource: `print/taskDefinitions/${ctx.definitionY}/tasks` }));
      assertErrorEnvelope(r, { status: 400, code: "invalidRequest" });
      assert.match(r.json.error.message, /notificationUrl/);
    }
    const l = await call(ctx, "POST", "/subscriptions", ctx.appY, subscriptionBody(ctx, {
      lifecycleNotificationUrl: "https://u:p@example.com/x", resource: `print/taskDefinitions/${ctx.definitionY}/tasks` }));
    assertErrorEnvelope(l, { status: 400, code: "invalidRequest" });
    assert.match(l.json.error.message, /lifecycleNotificationUrl/);
  });
});

describe("subscriptions: --webhook-allow", () => {
  const ctx = withServer(["--webhook-allow", "hooks.example.invalid, 127.0.0.1"]);
  before(async () => { ctx.rx.on("/hook"); ctx.definition = await createDefinition(ctx); });

  it("hosts outside the allow-list are 400; listed hosts pass", async () => {
    const r = await call(ctx, "POST", "/subscriptions", ctx.appX, subscriptionBody(ctx, { notificationUrl: `http://localhost:${ctx.rx.port}/hook` }));
    assertErrorEnvelope(r, { status: 400, code: "invalidRequest" });
    assert.match(r.json.error.message, /allow-list/);
    await subscribe(ctx, subscriptionBody(ctx));
  });
});

// ---- validation handshake -----------------------------------------------------------------------

// Every failure gets the same message (what the endpoint did is only logged: a client must
// not learn what answers on the server's network); webhook-ssrf.test.mjs checks the rest.
const handshakeFailed = (seconds) => new RegExp(`^Subscription validation request failed for 'notificationUrl': the endpoint must be reachable on a public address and answer the POST with \\?validationToken=\\.\\.\\. within ${seconds} s with 200 OK, Content-Type text\\/plain and the URL-decoded token as its body\\.$`);

describe("subscriptions: validation handshake", () => {
  const ctx = withServer();
  before(async () => { ctx.definition = await createDefinition(ctx); });

  const attempt = async (p) => call(ctx, "POST", "/subscriptions", ctx.appX, subscriptionBody(ctx, { notificationUrl: ctx.rx.url(p) }));

  const HANDSHAKE_FAILED = handshakeFailed(10);   // the default --webhook-validation-timeout

  it("a wrong echo is 400 with the handshake message; the log says why", async () => {
    ctx.rx.on("/wrong", { handshake: "wrong" });
    const r = await attempt("/wrong");
    assertErrorEnvelope(r, { status: 400, code: "invalidRequest" });
    assert.match(r.json.error.message, HANDSHAKE_FAILED);
    assert.match(ctx.srv.output, /answered 200 with a body \(\d+ bytes\) that is not the validationToken/);
  });

  it("an error status is 400 with the same message; the log names the status", async () => {
    ctx.rx.on("/status", { handshake: "status", handshakeStatus: 404 });
    const r = await attempt("/status");
    assertErrorEnvelope(r, { status: 400, code: "invalidRequest" });
    assert.match(r.json.error.message, HANDSHAKE_FAILED);
    assert.match(ctx.srv.output, /answered HTTP 404/);
  });

  it("a non-text/plain answer is 400 with the same message", async () => {
    ctx.rx.on("/type", { handshake: "type" });
    const r = await attempt("/type");
    assertErrorEnvelope(r, { status: 400, code: "invalidRequest" });
    assert.match(r.json.error.message, HANDSHAKE_FAILED);
  });

  it("a refused connection is 400", async () => {
    const probe = await startReceiver();
    const port = probe.port;
    await probe.close();
    const r = await call(ctx, "POST", "/subscriptions", ctx.appX, subscriptionBody(ctx, { notificationUrl: `http://127.0.0.1:${port}/gone` }));
    assertErrorEnvelope(r, { status: 400, code: "invalidRequest" });
    assert.match(r.json.error.message, HANDSHAKE_FAILED);
  });

  it("the lifecycleNotificationUrl is validated too", async () => {
    ctx.rx.on("/ok");
    ctx.rx.on("/life-wrong", { handshake: "wrong" });
    const r = await call(ctx, "POST", "/subscriptions", ctx.appX, subscriptionBody(ctx, {
      notificationUrl: ctx.rx.url("/ok"), lifecycleNotificationUrl: ctx.rx.url("/life-wrong") }));
    assertErrorEnvelope(r, { status: 400, code: "invalidRequest" });
    assert.match(r.json.error.message, /lifecycleNotificationUrl/);
    ctx.rx.on("/life");
    const ok = await subscribe(ctx, subscriptionBody(ctx, { notificationUrl: ctx.rx.url("/ok"), lifecycleNotificationUrl: ctx.rx.url("/life") }));
    assert.equal(ok.lifecycleNotificationUrl, ctx.rx.url("/life"));
    assert.equal(ctx.rx.handshakes("/life").length, 1);
  });
});

// A server of its own with a 1 s handshake timeout: only a receiver that never answers meets it.
describe("subscriptions: validation handshake timeout", () => {
  const ctx = withServer(["--webhook-validation-timeout", "1"]);
  before(async () => { ctx.definition = await createDefinition(ctx); });

  it("no answer within the validation timeout is 400 (here 1 s)", async () => {
    ctx.rx.on("/hang", { handshake: "hang" });
    const t0 = Date.now();
    const r = await call(ctx, "POST", "/subscriptions", ctx.appX, subscriptionBody(ctx, { notificationUrl: ctx.rx.url("/hang") }));
    const took = Date.now() - t0;
    assertErrorEnvelope(r, { status: 400, code: "invalidRequest" });
    assert.match(r.json.error.message, handshakeFailed(1));
    // the server gave up for the timeout (its log says so), not before it (a lower bound, which
    // load cannot trip); no upper bound: a server waiting on the hanging receiver fails the
    // request's own 15 s timeout instead
    assert.ok(took >= 900, `gave up after ${took} ms, before the 1 s timeout`);
    assert.match(ctx.srv.output, /did not answer within 1000 ms/);
  });
});

// ---- delivery -----------------------------------------------------------------------------------

describe("delivery: print task created and job fetchable", () => {
  const ctx = withServer();
  before(async () => {
    ctx.definition = await createDefinition(ctx);
    ctx.held = await registerPrinter(ctx.srv, ctx.admin);
    await createTrigger(ctx, ctx.held, ctx.definition);
    ctx.plain = await registerPrinter(ctx.srv, ctx.admin);
  });

  it("a job start on a printer with a trigger notifies the definition's subscribers (reference §7.4)", async () => {
    ctx.rx.on("/tasks");
    const sub = await subscribe(ctx, subscriptionBody(ctx, { notificationUrl: ctx.rx.url("/tasks") }));
    const { jobId } = await printJob(ctx, ctx.held);
    const [n] = await ctx.rx.waitFor("/tasks", 1, 10_000);
    assert.match(n.contentType || "", /^application\/json/);
    assert.equal(n.value.length, 1);
    const v = n.value[0];
    assert.equal(v.subscriptionId, sub.id);
    assert.equal(Date.parse(v.subscriptionExpirationDateTime), Date.parse(sub.expirationDateTime));
    assert.equal(v.changeType, "created");
    assert.equal(v.clientState, "secret-client-state");
    assert.equal(v.tenantId, ctx.tenant);
    const m = new RegExp(`^print/taskDefinitions/${ctx.definition}/tasks/([0-9a-f-]{36})$`).exec(v.resource);
    assert.ok(m, v.resource);
    assert.equal(v.resourceData["@odata.type"], "#Microsoft.Graph.PrintTask");
    assert.equal(v.resourceData["@odata.id"], v.resource);
    assert.equal(v.resourceData.id, m[1]);
    assert.equal(v.resourceData.parentUrl, `${ctx.srv.url}/v1.0/print/printers/${ctx.held}/jobs/${jobId}`);
    const task = await call(ctx, "GET", `/print/taskDefinitions/${ctx.definition}/tasks/${m[1]}`, ctx.appX);
    assert.equal(task.status, 200, task.text);
  });

  it("a job that becomes fetchable notifies the printer's JobFetchable subscribers", async () => {
    ctx.rx.on("/fetchable");
    const sub = await subscribe(ctx, fetchableBody(ctx, ctx.plain, ctx.rx.url("/fetchable"), {
      resource: `/Print/Printers('${ctx.plain}')/Jobs`, notificationQueryOptions: "$filter=isFetchable eq true" }), ctx.appPrinterOnly);
    assert.equal(sub.resource, `print/printers/${ctx.plain}/jobs`);
    assert.equal(sub.notificationQueryOptions, "$filter=isFetchable eq true");
    const { jobId } = await printJob(ctx, ctx.plain);
    const [n] = await ctx.rx.waitFor("/fetchable", 1, 10_000);
    const v = n.value[0];
    assert.equal(v.subscriptionId, sub.id);
    assert.equal(v.changeType, "updated");
    assert.equal(v.resource, `print/printers/${ctx.plain}/jobs/${jobId}`);
    assert.equal(v.clientState, "fetch-state");
    assert.deepEqual(v.resourceData, { "@odata.type": "#Microsoft.Graph.PrintJob", "@odata.id": v.resource, id: jobId });
    assert.ok(await metricAtLeast(ctx, "spoold_notifications_delivered_total", 2) >= 2);
  });

  it("the worker wakes when the change commits (no waiting for its periodic poll)", async () => {
    // The worker also looks at the outbox at least once a second, so arrival times prove
    // nothing on a loaded machine; the commit listener's wake-ups are counted instead.
    for (let i = 1; i <= 3; i++) {
      const before = await metric(ctx, "spoold_notifications_commit_wakeups_total");
      await printJob(ctx, ctx.plain);
      await ctx.rx.waitFor("/fetchable", 1 + i, 10_000);
      const after = await metric(ctx, "spoold_notifications_commit_wakeups_total");
      assert.ok(after > before, `the commit of job ${i} woke the worker (${before} -> ${after})`);
    }
  });

  it("a deleted subscription receives nothing more", async () => {
    ctx.rx.on("/gone");
    const sub = await subscribe(ctx, fetchableBody(ctx, ctx.plain, ctx.rx.url("/gone")), ctx.appY);
    assert.equal((await call(ctx, "DELETE", `/subscriptions/${sub.id}`, ctx.appY)).status, 204);
    await printJob(ctx, ctx.plain);
    await ctx.rx.waitFor("/fetchable", 5, 10_000);   // the other subscriber got this job
    assert.equal(ctx.rx.notifications("/gone").length, 0);
  });
});

// ---- reliability --------------------------------------------------------------------------------

describe("reliability: retries with exponential back-off", () => {
  const ctx = withServer(["--webhook-retry-base-ms", "200"]);
  before(async () => { ctx.printer = await registerPrinter(ctx.srv, ctx.admin); });

  it("a receiver failing the first 3 attempts gets the notification once, after growing delays", async () => {
    ctx.rx.on("/flaky", { failFirst: 3 });
    await subscribe(ctx, fetchableBody(ctx, ctx.printer, ctx.rx.url("/flaky")));
    const failedBefore = await metric(ctx, "spoold_notifications_failed_total");
    const { jobId } = await printJob(ctx, ctx.printer);
    const [n] = await ctx.rx.waitFor("/flaky", 1, 15_000);
    assert.equal(n.value[0].resourceData.id, jobId);
    const times = [...ctx.rx.failures("/flaky").map((f) => f.at), n.at];
    assert.equal(times.length, 4, "3 failures then the delivery");
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    // The delays spoold chose, from its own log line of each failure ("attempt N at +D ms"):
    // base 200 ms, doubling, plus up to 25 % jitter. The gaps the receiver saw only bound them
    // from below: a loaded machine delays an attempt, never brings it forward (comparing the
    // receiver's gaps with each other failed when one attempt was late).
    const url = ctx.rx.url("/flaky").replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const planned = [...ctx.srv.output.matchAll(new RegExp(`notify: delivery of \\S+ to ${url} failed \\(HTTP 500\\); attempt (\\d+) at \\+(\\d+) ms`, "g"))]
      .map((m) => [Number(m[1]), Number(m[2])]);
    assert.deepEqual(planned.map(([a]) => a), [2, 3, 4], `failure log lines:\n${JSON.stringify(planned)}`);
    const delays = planned.map(([, d]) => d);
    [200, 400, 800].forEach((d, i) => assert.ok(delays[i] >= d && delays[i] <= d * 1.25 + 1, `planned delays ${delays}`));
    delays.forEach((d, i) => assert.ok(gaps[i] >= d - 5, `attempt ${i + 2} after ${gaps[i]} ms, before its delay of ${d} ms`));
    await sleep(1500);
    assert.equal(ctx.rx.notifications("/flaky").length, 1, "delivered exactly once after the 2xx");
    assert.equal(await metricAtLeast(ctx, "spoold_notifications_failed_total", failedBefore + 3) - failedBefore, 3);
  });
});

describe("reliability: SIGKILL with notifications pending, restart on the same data", () => {
  const ctx = withServer(["--webhook-retry-base-ms", "100"]);
  before(async () => { ctx.printer = await registerPrinter(ctx.srv, ctx.admin); });

  it("every pending notification arrives after the restart", async () => {
    ctx.rx.on("/down", { notify: "fail" });
    await subscribe(ctx, fetchableBody(ctx, ctx.printer, ctx.rx.url("/down")));
    const jobs = [];
    for (let i = 0; i < 5; i++) jobs.push((await printJob(ctx, ctx.printer)).jobId);
    // Each of the 5 attempted and failed before the kill (waited for: under load the first
    // attempts can come later than any fixed sleep; the bound is a liveness one).
    for (const end = Date.now() + 30_000; ctx.rx.failures("/down").length < 5 && Date.now() < end;) await sleep(50);
    assert.ok(ctx.rx.failures("/down").length >= 5, `attempted and failed: ${ctx.rx.failures("/down").length} failures`);
    await ctx.srv.kill({ keepData: true });
    ctx.rx.on("/down");   // the endpoint recovers while spoold is down
    await ctx.srv.spawn();
    const got = await ctx.rx.waitFor("/down", 5, 15_000);
    const ids = new Set(got.map((n) => n.value[0].resourceData.id));
    assert.deepEqual([...ids].sort(), [...jobs].sort());
  });
});

describe("reliability: a hanging receiver does not hold up another", () => {
  const ctx = withServer();
  before(async () => { ctx.printer = await registerPrinter(ctx.srv, ctx.admin); });

  it("the healthy receiver gets its notifications while the hanging one is still held open", async () => {
    ctx.rx.on("/hang", { notify: "hang" });
    ctx.rx.on("/fast");
    const other = await startReceiver();
    other.on("/fast");
    try {
      // Several hanging subscriptions' worth of traffic: one subscription per app, all on one printer.
      await subscribe(ctx, fetchableBody(ctx, ctx.printer, ctx.rx.url("/hang")), ctx.appX);
      await subscribe(ctx, fetchableBody(ctx, ctx.printer, other.url("/fast")), ctx.appY);
      for (let i = 0; i < 8; i++) await printJob(ctx, ctx.printer);
      const got = await other.waitFor("/fast", 8, 30_000);
      // No clock bound (the machine may be loaded): a sender that waited for the hanging receiver
      // would deliver to the healthy one only between hanging attempts, after each had timed out.
      // Deliveries that overlap a held-open attempt show the two are independent.
      const held = ctx.rx.held("/hang");
      assert.ok(held.length >= 1, "the hanging receiver was attempted");
      const overlapping = got.filter((n) => held.some((h) => h.at <= n.at && (h.closedAt === null || n.at < h.closedAt)));
      assert.ok(overlapping.length >= 1,
        `none of the 8 healthy deliveries happened while a notification to the hanging receiver was open ` +
        `(held: ${JSON.stringify(held)}, delivered at: ${JSON.stringify(got.map((n) => n.at))})`);
    } finally {
      await other.close();
    }
  });
});

describe("expiry and lifecycle notifications", () => {
  const ctx = withServer(["--webhook-retry-base-ms", "100", "--webhook-retry-max-age", "1"]);
  before(async () => { ctx.printer = await registerPrinter(ctx.srv, ctx.admin); });

  it("an expired subscription is removed and subscriptionRemoved goes to its lifecycle URL", async () => {
    ctx.rx.on("/short");
    ctx.rx.on("/short-life");
    // Expiry is timed on the service clock, moved with --dev's /spoold/v1/dev/clock: an
    // expirationDateTime 2.5 s ahead of the client's clock failed when the subscribe (with its
    // validation handshake) took longer than that on a loaded machine. 2 minutes leave the
    // subscribe room; moving the clock 3 minutes passes the expiry and runs the sweep.
    const exp = new Date(Date.now() + 120_000).toISOString();
    const sub = await subscribe(ctx, fetchableBody(ctx, ctx.printer, ctx.rx.url("/short"), {
      expirationDateTime: exp, lifecycleNotificationUrl: ctx.rx.url("/short-life") }), ctx.appY);
    assert.equal((await call(ctx, "GET", `/subscriptions/${sub.id}`, ctx.appY)).status, 200, "not expired yet");
    assert.equal(ctx.rx.notifications("/short-life").length, 0, "no lifecycle notification before the expiry");
    const moved = await rawFetch(`${ctx.srv.origin}/spoold/v1/dev/clock`, {
      method: "POST", token: ctx.admin, json: { advanceBy: "PT3M" }, ca: ctx.srv.ca, timeoutMs: 60_000 });
    assert.equal(moved.status, 200, moved.text);
    assert.equal(moved.json.swept.subscriptionsRemoved, 1, moved.text);
    const [n] = await ctx.rx.waitFor("/short-life", 1, 30_000);
    const v = n.value[0];
    assert.equal(v.lifecycleEvent, "subscriptionRemoved");
    assert.equal(v.subscriptionId, sub.id);
    assert.equal(v.clientState, "fetch-state");
    assert.equal(v.tenantId, ctx.tenant);
    assertErrorEnvelope(await call(ctx, "GET", `/subscriptions/${sub.id}`, ctx.appY), { status: 404 });
    await printJob(ctx, ctx.printer);
    await sleep(500);
    assert.equal(ctx.rx.notifications("/short").length, 0, "nothing after expiry");
  });

  it("notifications failing for the whole retry period are dropped: metric, log and `missed`", async () => {
    ctx.rx.on("/broken", { notify: "fail" });
    ctx.rx.on("/broken-life");
    const sub = await subscribe(ctx, fetchableBody(ctx, ctx.printer, ctx.rx.url("/broken"), {
      lifecycleNotificationUrl: ctx.rx.url("/broken-life") }));
    const before = await metric(ctx, "spoold_notifications_dropped_total");
    await printJob(ctx, ctx.printer);
    const [n] = await ctx.rx.waitFor("/broken-life", 1, 10_000);
    assert.equal(n.value[0].lifecycleEvent, "missed");
    assert.equal(n.value[0].subscriptionId, sub.id);
    assert.equal(await metricAtLeast(ctx, "spoold_notifications_dropped_total", before + 1) - before, 1);
    assert.match(ctx.srv.output, /dropping notification/);
  });
});
