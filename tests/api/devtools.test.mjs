// SPDX-License-Identifier: Apache-2.0
// The development control API and simulated printers (issue 20, docs/spoold-dev.md) through the
// real Graph clients: what a pull-print vendor's CI does against `spoold serve --dev`.
//   - a job released by the app (print task completed) is printed by a simulated printer that
//     speaks IPP INFRA to the server, and ends completed with acknowledgedDateTime;
//   - a jammed simulated printer shows the jam in the Graph printer status and in the job's
//     status, and finishes the job once it is ready again;
//   - moving the service clock past --task-timeout aborts a held job with the documented reason
//     and notifies the app's webhook;
//   - an injected 429 reaches the Kiota client with Retry-After and its retry handler succeeds;
//   - a webhook fault delivers a notification twice with the same content;
//   - without --dev every control path is 404, and --simulate-printers refuses to start.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readdir, readFile, rm } from "node:fs/promises";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { RetryHandlerOptions } from "@microsoft/kiota-http-fetchlibrary";
import { kiotaClient, kiotaWithStatus, rawFetch, rawHttp, closeAgents } from "./lib/clients.mjs";
import { assertErrorEnvelope } from "./lib/graph-assert.mjs";
import {
  PRINTER_MANAGEMENT_SCOPES, serverForSuite, registerPrinter, createShare, uploadDocument,
} from "./lib/fixtures.mjs";
import { startServer, makeTempDir, spooldBin } from "./lib/server.mjs";
import { startReceiver } from "./lib/webhook-receiver.mjs";
import { TestIssuer } from "./lib/jwt.mjs";
import { tenantCmd } from "./lib/cli.mjs";

const run = promisify(execFile);
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

const APP = "00000000-0000-4000-8000-0000000000a1";
const APP_ROLES = "PrintTaskDefinition.ReadWrite.All PrintJob.Manage.All PrintJob.ReadWrite.All Printer.Read.All";
const ADMIN_SCOPES = [...PRINTER_MANAGEMENT_SCOPES, "PrinterShare.ReadWrite.All", "PrintJob.ReadWrite.All"].join(" ");
const USER_SCOPES = "PrintJob.ReadWrite PrinterShare.ReadBasic.All";
// Two pages, so the simulated printer's time per page counts twice.
const PDF = Buffer.from("%PDF-1.4\n1 0 obj<</Type /Pages /Count 2>>endobj\n2 0 obj<</Type /Page>>endobj\n"
  + "3 0 obj<</Type/Page>>endobj\ntrailer<<>>\n%%EOF\n");

after(() => closeAgents());

const kiota = (ctx, token, version = "v1.0") => kiotaClient({ origin: ctx.srv.origin, version, token, ca: ctx.srv.ca });
const raw = (ctx, p, opts = {}) => rawFetch(`${ctx.srv.origin}${p}`, { ca: ctx.srv.ca, ...opts });
const dev = (ctx, p, opts = {}) => raw(ctx, `/spoold/v1/dev${p}`, { token: ctx.dev, timeoutMs: 60_000, ...opts });

async function getJson(ctx, p, token) {
  const r = await raw(ctx, p, { token });
  assert.equal(r.status, 200, `GET ${p}: ${r.status} ${r.text}`);
  return r.json;
}

// Polls fn() every 50 ms until it returns a truthy value; fails with the last value after ms.
async function until(what, fn, ms = 15_000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last && last.ok !== false) return last;
    await sleep(50);
  }
  throw new Error(`${what}: not reached within ${ms} ms; last: ${JSON.stringify(last)}`);
}

// The vendor's world: definition D of the app, printer V with a trigger (shared as sV: jobs are
// held for the app), printer P without (shared as sP: jobs are released at start).
function vendorWorld(args = [], { receiver = false } = {}) {
  return serverForSuite({ args: ["--max-jobs-per-printer-window", "0", "--max-jobs-per-user-window", "0", ...args] }, {
    tokens: () => ({
      admin: { app: APP, scopes: ADMIN_SCOPES, admin: true },
      dev: { app: APP, scopes: "Printer.Read.All", admin: true },
      user: { scopes: USER_SCOPES, upn: "alice@contoso.test" },
      app: { app: APP, roles: APP_ROLES },
    }),
    setup: async (ctx) => {
      if (receiver) ctx.rx = await startReceiver();
      ctx.D = (await kiota(ctx, ctx.app).print.taskDefinitions.post({ displayName: "Secure release" })).id;
      ctx.V = await registerPrinter(ctx.srv, ctx.admin, { name: "Follow-me queue" });
      ctx.P = await registerPrinter(ctx.srv, ctx.admin, { name: "Front desk" });
      await kiota(ctx, ctx.admin).print.printers.byPrinterId(ctx.V).taskTriggers.post({
        event: "jobStarted", additionalData: { "definition@odata.bind": `https://graph.microsoft.com/v1.0/print/taskDefinitions/${ctx.D}` },
      });
      ctx.sV = await createShare(ctx.srv, ctx.admin, ctx.V, { name: "Follow-me" });
      ctx.sP = await createShare(ctx.srv, ctx.admin, ctx.P, { name: "Front desk" });
    },
    teardown: async (ctx) => { if (ctx.rx) await ctx.rx.close(); },
  });
}

// A user's job on share shareId, uploaded and started; resolves { id, status }.
async function startedJob(ctx, shareId) {
  const job = await kiota(ctx, ctx.user).print.shares.byPrinterShareId(shareId).jobs.post({ configuration: { copies: 1 } });
  await uploadDocument(ctx.srv, ctx.user, `shares/${shareId}`, job, PDF, { documentName: "report.pdf" });
  const status = await kiota(ctx, ctx.user).print.shares.byPrinterShareId(shareId).jobs.byPrintJobId(job.id).start.post();
  return { id: job.id, status };
}

// The processing print task of a held job on printer V.
async function heldTask(ctx, jobId) {
  const tasks = await getJson(ctx, `/v1.0/print/printers/${ctx.V}/jobs/${jobId}/tasks`, ctx.app);
  assert.equal(tasks.value.length, 1, JSON.stringify(tasks));
  assert.equal(tasks.value[0].status.state, "processing");
  return tasks.value[0];
}

const getJob = (ctx, printerId, jobId) =>
  kiota(ctx, ctx.app).print.printers.byPrinterId(printerId).jobs.byPrintJobId(jobId).get();

// ---- simulated printers --------------------------------------------------------------------------

describe("simulated printers (--simulate-printers)", () => {
  // made before the server starts: --simulate-output names it
  const outDir = mkdtempSync(path.join(os.tmpdir(), "spoold-sim-out-"));
  const ctx = vendorWorld(["--simulate-printers", "--simulate-page-ms", "50", "--simulate-output", outDir]);
  after(async () => { await rm(outDir, { recursive: true, force: true }); });

  it("a job the app releases is fetched, printed and completed by the simulated printer", async () => {
    // every printer gets a simulated device, with --simulate-page-ms and --simulate-output
    const sim = await until("simulation of P", async () => {
      const r = await dev(ctx, `/printers/${ctx.V}/simulation`);
      return r.status === 200 ? r : { ok: false, status: r.status };
    });
    assert.equal(sim.json.state, "ready");
    assert.equal(sim.json.pageMs, 50, "--simulate-page-ms");
    assert.equal(sim.json.outputDirectory, outDir, "--simulate-output");
    // the output directory stays the option's: the printed file below shows it reached the device
    const set = await dev(ctx, `/printers/${ctx.V}/simulation`, { method: "POST", json: { pageMs: 150 } });
    assert.equal(set.status, 200, set.text);
    assert.equal(set.json.pageMs, 150);
    assert.equal(set.json.outputDirectory, outDir);

    const job = await startedJob(ctx, ctx.sV);
    assert.equal(job.status.state, "paused");            // held for the app's print task
    const task = await heldTask(ctx, job.id);
    await sleep(400);                                     // the device must not take a held job
    assert.equal((await getJob(ctx, ctx.V, job.id)).status.state, "paused");

    const t0 = Date.now();
    const done = await kiotaWithStatus((cfg) => kiota(ctx, ctx.app).print.taskDefinitions.byPrintTaskDefinitionId(ctx.D)
      .tasks.byPrintTaskId(task.id).patch({ status: { state: "completed" } }, cfg));
    assert.equal(done.status, 200, done.text);

    const final = await until("job completed", async () => {
      const j = await getJob(ctx, ctx.V, job.id);
      return j.status.state === "completed" ? j : { ok: false, status: j.status };
    });
    assert.ok(Date.now() - t0 >= 300, "two pages at 150 ms each");
    assert.deepEqual(final.status.details, ["completedSuccessfully"]);
    assert.equal(final.status.isAcquiredByPrinter, true);
    assert.ok(final.acknowledgedDateTime instanceof Date, `acknowledgedDateTime: ${final.acknowledgedDateTime}`);
    assert.ok(final.acknowledgedDateTime.getTime() <= Date.now() + 1000);

    const doc = (await getJson(ctx, `/v1.0/print/printers/${ctx.V}/jobs/${job.id}/documents`, ctx.app)).value[0];
    assert.ok(doc.downloadedDateTime, `the device fetched the document: ${JSON.stringify(doc)}`);
    const files = await readdir(outDir);
    assert.ok(files.includes(`${ctx.V}-${job.id}.pdf`), files.join(", "));
    assert.deepEqual(await readFile(path.join(outDir, `${ctx.V}-${job.id}.pdf`)), PDF);

    const after = await dev(ctx, `/printers/${ctx.V}/simulation`);
    assert.equal(after.json.jobsPrinted, 1);
    assert.equal(after.json.currentJobId, null);
  });

  it("a job the app redirects is printed by the destination printer's simulated device", async () => {
    const job = await startedJob(ctx, ctx.sV);
    await heldTask(ctx, job.id);
    const r = await kiotaWithStatus((cfg) => kiota(ctx, ctx.app).print.printers.byPrinterId(ctx.V).jobs.byPrintJobId(job.id)
      .redirect.post({ destinationPrinterId: ctx.P, configuration: { copies: 2 } }, cfg));
    assert.equal(r.status, 200, r.text);
    const moved = r.json.id;
    const done = await until("redirected job completed", async () => {
      const j = await getJob(ctx, ctx.P, moved);
      return j.status.state === "completed" ? j : { ok: false, status: j.status };
    });
    assert.ok(done.acknowledgedDateTime instanceof Date);
    const src = await getJob(ctx, ctx.V, job.id);
    assert.equal(src.status.state, "completed");
    assert.ok(src.redirectedTo.endsWith(`/print/printers/${ctx.P}/jobs/${moved}`), src.redirectedTo);
  });

  it("a jam shows in the printer's status and the job's status; the job completes once cleared", async () => {
    const jam = await dev(ctx, `/printers/${ctx.P}/simulation`, { method: "POST", json: { state: "jammed", pageMs: 50 } });
    assert.equal(jam.status, 200, jam.text);
    const printer = await until("printer stopped", async () => {
      const p = await kiota(ctx, ctx.admin).print.printers.byPrinterId(ctx.P).get();
      return p.status.state === "stopped" ? p : { ok: false, status: p.status };
    });
    assert.ok(printer.status.details.includes("mediaJam"), JSON.stringify(printer.status));
    assert.equal(printer.status.description, "Media jam (simulated printer).");

    const job = await startedJob(ctx, ctx.sP);
    const stopped = await until("job stopped", async () => {
      const j = await getJob(ctx, ctx.P, job.id);
      return j.status.state === "stopped" ? j : { ok: false, status: j.status };
    });
    assert.equal(stopped.status.description, "Media jam (simulated printer).");
    assert.equal(stopped.status.isAcquiredByPrinter, true);

    const clear = await dev(ctx, `/printers/${ctx.P}/simulation`, { method: "POST", json: { state: "ready" } });
    assert.equal(clear.status, 200, clear.text);
    await until("job completed", async () => {
      const j = await getJob(ctx, ctx.P, job.id);
      return j.status.state === "completed" ? j : { ok: false, status: j.status };
    });
    // The device reports the job done, then itself idle: wait for the second report too.
    await until("printer idle", async () => {
      const p = await kiota(ctx, ctx.admin).print.printers.byPrinterId(ctx.P).get();
      return p.status.state === "idle" ? p : { ok: false, status: p.status };
    });
  });

  it("offline: the device stops fetching; out of paper shows in the printer status", async () => {
    const off = await dev(ctx, `/printers/${ctx.P}/simulation`, { method: "POST", json: { state: "offline" } });
    assert.equal(off.status, 200, off.text);
    const job = await startedJob(ctx, ctx.sP);
    await sleep(700);
    const waiting = await getJob(ctx, ctx.P, job.id);
    assert.equal(waiting.isFetchable, true, JSON.stringify(waiting.status));
    assert.equal(waiting.status.isAcquiredByPrinter, false);

    const paper = await dev(ctx, `/printers/${ctx.P}/simulation`, { method: "POST", json: { state: "outOfPaper" } });
    assert.equal(paper.status, 200, paper.text);
    const printer = await until("printer out of paper", async () => {
      const p = await kiota(ctx, ctx.admin).print.printers.byPrinterId(ctx.P).get();
      return p.status.details.includes("mediaEmpty") ? p : { ok: false, status: p.status };
    });
    assert.equal(printer.status.state, "stopped");
    await until("job stopped", async () => (await getJob(ctx, ctx.P, job.id)).status.state === "stopped");

    assert.equal((await dev(ctx, `/printers/${ctx.P}/simulation`, { method: "POST", json: { state: "ready" } })).status, 200);
    await until("job completed", async () => (await getJob(ctx, ctx.P, job.id)).status.state === "completed");
  });

  it("offline while its Get-Jobs is on the way: the job in the answer stays fetchable", async () => {
    // The device reads its state, then asks for a job. Its next request is held in spoold
    // (a delay fault, before the handler) while the printer goes offline and a job is
    // released; the held Get-Jobs then answers with that job, which a printer switched off
    // must leave in spoold (docs/spoold-dev.md). Before the fix the device fetched it.
    const job = await kiota(ctx, ctx.user).print.shares.byPrinterShareId(ctx.sP).jobs.post({ configuration: { copies: 1 } });
    await uploadDocument(ctx.srv, ctx.user, `shares/${ctx.sP}`, job, PDF, { documentName: "late.pdf" });
    const held = new RegExp(`dev: fault \\S+ delays POST /ipp/print/${ctx.P} by`, "gi");
    const heldBefore = (ctx.srv.output.match(held) || []).length;
    // 8 s: the offline switch and the start below must reach spoold before the held request's
    // handler runs (a loaded machine gets room; the test takes that long)
    const arm = await dev(ctx, "/faults", { method: "POST", json: { method: "POST", path: `/ipp/print/${ctx.P}`, delayMs: 8000, count: 1 } });
    assert.equal(arm.status, 201, arm.text);
    await until("the device's next request held", async () => (ctx.srv.output.match(held) || []).length > heldBefore);
    // Each on a new connection: the held request keeps its worker thread asleep, and with it
    // every connection that thread serves (a kept-alive one of this process's clients could
    // be one of them); a new connection is accepted by a thread that is awake.
    const fresh = (p, token, json) => rawHttp(`${ctx.srv.origin}${p}`, {
      method: "POST", token, ca: ctx.srv.ca, timeoutMs: 60_000,
      headers: json ? { "content-type": "application/json" } : {}, body: json ? JSON.stringify(json) : "" });
    const off = await fresh(`/spoold/v1/dev/printers/${ctx.P}/simulation`, ctx.dev, { state: "offline" });
    assert.equal(off.status, 200, off.text);
    const start = await fresh(`/v1.0/print/shares/${ctx.sP}/jobs/${job.id}/start`, ctx.user);
    assert.equal(start.status, 200, start.text);
    // the device's own word that it left the job (a liveness bound past the 8 s delay)
    await until("the device leaving the job", async () => new RegExp(`simulated printer ${ctx.P} went offline: job \\d+ stays in spoold`, "i").test(ctx.srv.output), 30_000);
    const waiting = await getJob(ctx, ctx.P, job.id);
    assert.equal(waiting.isFetchable, true, JSON.stringify(waiting.status));
    assert.equal(waiting.status.isAcquiredByPrinter, false);
    assert.equal((await dev(ctx, `/printers/${ctx.P}/simulation`, { method: "POST", json: { state: "ready" } })).status, 200);
    await until("job completed", async () => (await getJob(ctx, ctx.P, job.id)).status.state === "completed");
  });

  it("failNextJobs: the next job is aborted by the printer", async () => {
    const r = await dev(ctx, `/printers/${ctx.P}/simulation`, { method: "POST", json: { failNextJobs: 1 } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.failNextJobs, 1);
    const job = await startedJob(ctx, ctx.sP);
    const j = await until("job aborted", async () => {
      const x = await getJob(ctx, ctx.P, job.id);
      return x.status.state === "aborted" ? x : { ok: false, status: x.status };
    });
    assert.equal(j.status.description, "The simulated printer failed the job.");
    const s = await until("the device counted it", async () => {
      const x = await dev(ctx, `/printers/${ctx.P}/simulation`);
      return x.json.jobsFailed === 1 ? x : { ok: false, sim: x.json };
    });
    assert.equal(s.json.failNextJobs, 0);
  });

  it("a bad behaviour is 400 naming the member; an unknown printer is 404", async () => {
    const bad = await dev(ctx, `/printers/${ctx.P}/simulation`, { method: "POST", json: { state: "melted" } });
    assertErrorEnvelope(bad, 400, "invalidRequest");
    assert.match(bad.json.error.message, /'state' must be ready, offline, jammed or outOfPaper/);
    const unknown = await dev(ctx, `/printers/${randomUUID()}/simulation`, { method: "POST", json: {} });
    assertErrorEnvelope(unknown, 404, "itemNotFound");
  });
});

// ---- the clock -------------------------------------------------------------------------------------

describe("the service clock", () => {
  const ctx = vendorWorld(["--task-timeout", "1h"], { receiver: true });

  it("advancing past --task-timeout aborts a held job with the documented reason and notifies the app", async () => {
    ctx.rx.on("/tasks");
    const sub = await kiota(ctx, ctx.app).subscriptions.post({
      changeType: "created", notificationUrl: ctx.rx.url("/tasks"), resource: `print/taskDefinitions/${ctx.D}/tasks`,
      expirationDateTime: new Date(Date.now() + 3 * 3600 * 1000), clientState: "vendor-secret",
    });
    const job = await startedJob(ctx, ctx.sV);
    const task = await heldTask(ctx, job.id);
    const [created] = await ctx.rx.waitFor("/tasks", 1, 10_000);
    assert.equal(created.value[0].changeType, "created");

    const before = await dev(ctx, "/clock");
    assert.equal(before.status, 200, before.text);
    const t0 = Date.parse(before.json.now);
    // the clock is not moved yet: it reads the time of day (a minute's slack, far below the
    // 61 minutes it is moved by below)
    assert.ok(Math.abs(t0 - Date.now()) < 60_000, before.text);

    const moved = await dev(ctx, "/clock", { method: "POST", json: { advanceBy: "PT61M" } });
    assert.equal(moved.status, 200, moved.text);
    assert.ok(Date.parse(moved.json.now) - t0 >= 61 * 60 * 1000, moved.text);
    assert.equal(moved.json.swept.jobsAborted, 1, moved.text);

    const j = await getJob(ctx, ctx.V, job.id);
    assert.equal(j.status.state, "aborted");
    assert.equal(j.status.description, "The print task did not complete within 1 hour; the job was aborted.");
    const t = await getJson(ctx, `/v1.0/print/taskDefinitions/${ctx.D}/tasks/${task.id}`, ctx.app);
    assert.equal(t.status.state, "aborted");

    const got = await ctx.rx.waitFor("/tasks", 2, 10_000);
    const n = got[1].value[0];
    assert.equal(n.subscriptionId, sub.id);
    assert.equal(n.changeType, "updated");
    assert.equal(n.clientState, "vendor-secret");
    assert.equal(n.resource, `print/taskDefinitions/${ctx.D}/tasks/${task.id}`);
    assert.equal(n.resourceData.id, task.id);
    assert.match(n.resourceData.parentUrl, new RegExp(`/print/printers/${ctx.V}/jobs/${job.id}$`));

    // the clock never goes back; timestamps follow the service clock, tokens still work
    const back = await dev(ctx, "/clock", { method: "POST", json: { now: new Date(Date.now()).toISOString() } });
    assertErrorEnvelope(back, 400, "invalidRequest");
    assert.match(back.json.error.message, /only moves forward/);
    const bad = await dev(ctx, "/clock", { method: "POST", json: { advanceBy: "P1M" } });
    assertErrorEnvelope(bad, 400, "invalidRequest");
    assert.match(bad.json.error.message, /no fixed length/);
    const later = await startedJob(ctx, ctx.sP);
    const lj = await getJob(ctx, ctx.P, later.id);
    assert.ok(lj.createdDateTime.getTime() - Date.now() > 60 * 60 * 1000, `createdDateTime ${lj.createdDateTime.toISOString()}`);

    const metrics = await raw(ctx, "/metrics");
    assert.match(metrics.text, /spoold_dev_actions_total\{action="clock.advance"\} 1\n/);
    assert.match(metrics.text, /spoold_dev_clock_offset_seconds 36[6-9]\d\./);
  });
});

// ---- faults ----------------------------------------------------------------------------------------

describe("injected faults", () => {
  const ctx = vendorWorld([], { receiver: true });

  it("an injected 429 reaches the Kiota client with Retry-After; its retry handler then succeeds", async () => {
    const arm = await dev(ctx, "/faults", { method: "POST", json: {
      method: "POST", path: "/v1.0/print/shares/*/jobs", status: 429, retryAfter: 1, count: 1,
    } });
    assert.equal(arm.status, 201, arm.text);
    assert.equal(arm.json.count, 1);
    const list = await dev(ctx, "/faults");
    assert.deepEqual(list.json.value.map((f) => f.id), [arm.json.id]);

    // without retries the client sees the 429 itself
    const noRetry = await kiotaWithStatus((cfg) => kiota(ctx, ctx.user).print.shares.byPrinterShareId(ctx.sP).jobs.post(
      { configuration: {} }, { ...cfg, options: [...cfg.options, new RetryHandlerOptions({ maxRetries: 0 })] }));
    assert.equal(noRetry.status, 429, noRetry.text);
    assert.equal(noRetry.headers.get("retry-after"), "1");
    assert.equal(noRetry.json.error.code, "activityLimitReached");

    // armed again: the default retry handler waits Retry-After and succeeds
    const again = await dev(ctx, "/faults", { method: "POST", json: { method: "POST", path: "/v1.0/print/shares/*/jobs", status: 429, retryAfter: 1 } });
    assert.equal(again.status, 201, again.text);
    const seen = [];
    const retry = new RetryHandlerOptions({
      maxRetries: 3,
      shouldRetry: (delay, attempt, url, init, response) => {
        seen.push({ delay, attempt, status: response.status, retryAfter: response.headers.get("retry-after") });
        return true;
      },
    });
    const t0 = Date.now();
    const job = await kiota(ctx, ctx.user).print.shares.byPrinterShareId(ctx.sP).jobs.post({ configuration: {} }, { options: [retry] });
    assert.ok(job.id, "the retried request created the job");
    assert.deepEqual(seen.map((s) => [s.status, s.retryAfter]), [[429, "1"]]);
    assert.ok(seen[0].delay >= 1, `delay ${seen[0].delay}`);
    assert.ok(Date.now() - t0 >= 900, "the client waited Retry-After");
    assert.deepEqual((await dev(ctx, "/faults")).json.value, []);
    const metrics = await raw(ctx, "/metrics");
    assert.match(metrics.text, /spoold_dev_faults_fired_total\{target="request",kind="status"\} 2\n/);
  });

  it("503 and delayMs faults; DELETE clears; bad faults are 400", async () => {
    const a = await dev(ctx, "/faults", { method: "POST", json: { method: "GET", path: "/v1.0/print/printers/**", status: 503, retryAfter: 3 } });
    assert.equal(a.status, 201, a.text);
    const r = await raw(ctx, `/v1.0/print/printers/${ctx.P}`, { token: ctx.admin });
    assertErrorEnvelope(r, 503, "serviceNotAvailable");
    assert.equal(r.headers.get("retry-after"), "3");
    assert.equal((await raw(ctx, `/v1.0/print/printers/${ctx.P}`, { token: ctx.admin })).status, 200);

    const d = await dev(ctx, "/faults", { method: "POST", json: { path: "/v1.0/print/printers", delayMs: 600 } });
    assert.equal(d.status, 201, d.text);
    const t0 = Date.now();
    assert.equal((await raw(ctx, "/v1.0/print/printers", { token: ctx.admin })).status, 200);
    assert.ok(Date.now() - t0 >= 550, "delayed");

    await dev(ctx, "/faults", { method: "POST", json: { path: "/v1.0/print/printers", status: 429, count: 5 } });
    const cleared = await dev(ctx, "/faults", { method: "DELETE" });
    assert.equal(cleared.status, 204);
    assert.equal((await raw(ctx, "/v1.0/print/printers", { token: ctx.admin })).status, 200);

    for (const [json, re] of [
      [{ path: "/x", status: 418 }, /'status' must be 429/],
      [{ path: "/x" }, /exactly one of 'status'/],
      [{ path: "x", status: 429 }, /must start with '\/'/],
      [{ target: "webhook", action: "explode" }, /'action' must be fail, hang or deliverTwice/],
      [{ path: "/x", status: 429, count: 0 }, /'count' must be a whole number/],
      [{ path: "/x", status: 429, colour: "red" }, /'colour' is not a fault member/],
    ]) {
      const bad = await dev(ctx, "/faults", { method: "POST", json });
      assertErrorEnvelope(bad, 400, "invalidRequest");
      assert.match(bad.json.error.message, re);
    }
  });

  it("a webhook fault delivers the same notification twice", async () => {
    ctx.rx.on("/twice");
    ctx.sub = await kiota(ctx, ctx.app).subscriptions.post({
      changeType: "created", notificationUrl: ctx.rx.url("/twice"), resource: `print/taskDefinitions/${ctx.D}/tasks`,
      expirationDateTime: new Date(Date.now() + 3600 * 1000), clientState: "twice",
    });
    const arm = await dev(ctx, "/faults", { method: "POST", json: { target: "webhook", action: "deliverTwice", count: 1 } });
    assert.equal(arm.status, 201, arm.text);
    assert.equal(arm.json.action, "deliverTwice");
    await startedJob(ctx, ctx.sV);
    const got = await ctx.rx.waitFor("/twice", 2, 10_000);
    assert.equal(got[0].body, got[1].body, "the same notification content");
    assert.equal(got[0].value[0].changeType, "created");
    await sleep(500);
    assert.equal(ctx.rx.notifications("/twice").length, 2, "delivered exactly twice");
  });

  it("a failed webhook delivery is retried and arrives afterwards", async () => {
    ctx.rx.on("/fail");
    const moved = await raw(ctx, `/v1.0/subscriptions/${ctx.sub.id}`, { method: "PATCH", token: ctx.app, json: { notificationUrl: ctx.rx.url("/fail") } });
    assert.equal(moved.status, 200, moved.text);
    const arm = await dev(ctx, "/faults", { method: "POST", json: { target: "webhook", action: "fail", url: "**/fail" } });
    assert.equal(arm.status, 201, arm.text);
    const t0 = Date.now();
    await startedJob(ctx, ctx.sV);
    const [n] = await ctx.rx.waitFor("/fail", 1, 15_000);
    assert.ok(n.at - t0 >= 900, "delivered after the first retry delay (1 s)");
    await sleep(300);
    assert.equal(ctx.rx.notifications("/fail").length, 1, "the failed attempt never reached the endpoint");
  });
});

// ---- access ----------------------------------------------------------------------------------------

const CONTROL_PATHS = [
  ["GET", "/spoold/v1/dev/clock"], ["POST", "/spoold/v1/dev/clock"],
  ["GET", "/spoold/v1/dev/faults"], ["POST", "/spoold/v1/dev/faults"], ["DELETE", "/spoold/v1/dev/faults"],
  ["DELETE", `/spoold/v1/dev/faults/${randomUUID()}`],
  ["POST", `/spoold/v1/dev/tenants/${randomUUID()}/reset`],
  ["POST", `/spoold/v1/dev/tenants/${randomUUID()}/seed`],
  ["GET", `/spoold/v1/dev/printers/${randomUUID()}/simulation`],
  ["POST", `/spoold/v1/dev/printers/${randomUUID()}/simulation`],
  ["DELETE", `/spoold/v1/dev/printers/${randomUUID()}/simulation`],
];

describe("access to the control API", () => {
  const ctx = vendorWorld();

  it("with --dev: 404 without a token, with a non-admin token and with an app token", async () => {
    for (const token of [undefined, ctx.user, ctx.app, ctx.admin.replace(/.$/, "x")]) {
      for (const [method, p] of CONTROL_PATHS) {
        const r = await raw(ctx, p, { method, token, json: method === "POST" ? { advanceBy: "PT1H" } : undefined });
        assertErrorEnvelope(r, 404, "itemNotFound");
        assert.match(r.json.error.message, /No resource matches the path/);
      }
    }
    assert.equal((await dev(ctx, "/clock")).status, 200, "the admin token of the dev issuer is let in");
  });

  it("tenant reset empties the caller's tenant; another tenant is 404", async () => {
    const other = await dev(ctx, `/tenants/${randomUUID()}/reset`, { method: "POST" });
    assertErrorEnvelope(other, 404, "itemNotFound");
    const before = await getJson(ctx, "/v1.0/print/printers", ctx.admin);
    assert.ok(before.value.length >= 2);
    const r = await dev(ctx, `/tenants/${ctx.tenant}/reset`, { method: "POST" });
    assert.equal(r.status, 204, r.text);
    assert.deepEqual((await getJson(ctx, "/v1.0/print/printers", ctx.admin)).value, []);
    assert.deepEqual((await getJson(ctx, "/v1.0/print/taskDefinitions", ctx.app)).value, []);
    const m = await raw(ctx, "/metrics");
    assert.match(m.text, /spoold_dev_actions_total\{action="tenants.reset"\} 1\n/);
  });
});

describe("tenant seed", () => {
  // --simulate-page-ms 0: no wait per page (0 once fell back to 200 silently)
  const ctx = vendorWorld(["--simulate-printers", "--simulate-page-ms", "0"]);

  it("a fixture replaces the tenant: printers, shares, definitions, triggers and jobs in given states", async () => {
    const fixture = {
      printers: [{ key: "v", displayName: "Follow-me" }, { key: "p", displayName: "Front desk", manufacturer: "Contoso", model: "M1" }],
      taskDefinitions: [{ key: "rel", displayName: "Seeded release", appId: APP, createdBy: "Contoso Release" }],
      shares: [{ key: "sv", printer: "v", displayName: "Seeded follow-me" }, { key: "sp", printer: "p", displayName: "Seeded front" }],
      taskTriggers: [{ key: "t", printer: "v", definition: "rel" }],
      jobs: [
        { key: "held", share: "sv", state: "held", document: { name: "held.pdf", text: "%PDF-1.4 held" } },
        { key: "printed", share: "sp", state: "fetchable", document: { base64: PDF.toString("base64") } },
        { key: "canceled", printer: "p", state: "canceled", document: {} },
        { key: "aborted", share: "sv", state: "aborted", document: {},
          createdBy: { id: randomUUID(), userPrincipalName: "bob@contoso.test", displayName: "Bob" } },
        { key: "new", printer: "p", configuration: { copies: 2 } },
      ],
    };
    const r = await dev(ctx, `/tenants/${ctx.tenant}/seed`, { method: "POST", json: fixture });
    assert.equal(r.status, 200, r.text);
    const ids = r.json;
    assert.deepEqual(Object.keys(ids.jobs).sort(), ["aborted", "canceled", "held", "new", "printed"]);

    const printers = (await getJson(ctx, "/v1.0/print/printers", ctx.admin)).value;
    assert.deepEqual(printers.map((p) => p.displayName).sort(), ["Follow-me", "Front desk"], "the old printers are gone");
    const shares = (await getJson(ctx, "/v1.0/print/shares", ctx.admin)).value;
    assert.deepEqual(shares.map((s) => s.displayName).sort(), ["Seeded follow-me", "Seeded front"]);
    const defs = (await getJson(ctx, "/v1.0/print/taskDefinitions", ctx.app)).value;
    assert.deepEqual(defs.map((d) => d.id), [ids.taskDefinitions.rel]);
    assert.equal(defs[0].createdBy.displayName, "Contoso Release");
    const trig = await getJson(ctx, `/v1.0/print/printers/${ids.printers.v}/taskTriggers/${ids.taskTriggers.t}/definition`, ctx.admin);
    assert.equal(trig.id, ids.taskDefinitions.rel);

    const V = ids.printers.v, P = ids.printers.p;
    const held = await getJob(ctx, V, ids.jobs.held);
    assert.equal(held.status.state, "paused");
    const tasks = await getJson(ctx, `/v1.0/print/printers/${V}/jobs/${ids.jobs.held}/tasks`, ctx.app);
    assert.equal(tasks.value[0].status.state, "processing");
    const docs = await getJson(ctx, `/v1.0/print/printers/${V}/jobs/${ids.jobs.held}/documents`, ctx.app);
    assert.equal(docs.value[0].displayName, "held.pdf");
    assert.equal(docs.value[0].size, "%PDF-1.4 held".length);
    assert.equal((await getJob(ctx, P, ids.jobs.canceled)).status.state, "canceled");
    const aborted = await getJob(ctx, V, ids.jobs.aborted);
    assert.equal(aborted.status.state, "aborted");
    assert.equal(aborted.createdBy.userPrincipalName, "bob@contoso.test");
    const fresh = await getJob(ctx, P, ids.jobs.new);
    assert.equal(fresh.status.state, "paused");                 // created, not started: as from POST .../jobs
    assert.deepEqual(fresh.status.details, ["uploadPending"]);
    assert.equal(fresh.configuration.copies, 2);
    const simP = await until("simulation of the seeded printer", async () => {
      const r = await dev(ctx, `/printers/${P}/simulation`);
      return r.status === 200 ? r : { ok: false, status: r.status };
    });
    assert.equal(simP.json.pageMs, 0, "--simulate-page-ms 0");
    // the fetchable job is printed by the simulated printer of the seeded printer
    const done = await until("seeded job printed", async () => {
      const j = await getJob(ctx, P, ids.jobs.printed);
      return j.status.state === "completed" ? j : { ok: false, status: j.status };
    });
    assert.ok(done.acknowledgedDateTime instanceof Date);
    // the app can release the held job as usual
    const rel = await raw(ctx, `/v1.0/print/taskDefinitions/${ids.taskDefinitions.rel}/tasks/${tasks.value[0].id}`,
      { method: "PATCH", token: ctx.app, json: { status: { state: "completed" } } });
    assert.equal(rel.status, 200, rel.text);
    await until("held job printed", async () => (await getJob(ctx, V, ids.jobs.held)).status.state === "completed");
  });

  it("a bad fixture is 400 naming the problem and changes nothing", async () => {
    const before = (await getJson(ctx, "/v1.0/print/printers", ctx.admin)).value.map((p) => p.id).sort();
    for (const [fx, re] of [
      [{ printers: [{ key: "a", displayName: "A" }], shares: [{ key: "s", printer: "zz", displayName: "S" }] }, /shares\[0\]: 'printer' names 'zz'/],
      [{ jobs: [{ printer: "a" }] }, /jobs\[0\]: 'printer' names 'a'/],
      [{ printers: [{ key: "a", displayName: "A" }], jobs: [{ printer: "a", state: "printed" }] }, /'state' must be created, held/],
      [{ printers: [{ key: "a", displayName: "A" }], jobs: [{ printer: "a", state: "held" }] }, /needs a 'document'/],
      [{ printers: [{ key: "a", displayName: "A" }, { key: "a", displayName: "B" }] }, /key 'a' is used twice/],
      [{ queues: [] }, /'queues' is not a member/],
    ]) {
      const r = await dev(ctx, `/tenants/${ctx.tenant}/seed`, { method: "POST", json: fx });
      assertErrorEnvelope(r, 400, "invalidRequest");
      assert.match(r.json.error.message, re);
    }
    const after = (await getJson(ctx, "/v1.0/print/printers", ctx.admin)).value.map((p) => p.id).sort();
    assert.deepEqual(after, before);
    // a state the printers cannot give: 500, and the tenant is left empty rather than half seeded
    const r = await dev(ctx, `/tenants/${ctx.tenant}/seed`, { method: "POST", json: {
      printers: [{ key: "a", displayName: "A" }], jobs: [{ printer: "a", state: "held", document: {} }],
    } });
    assertErrorEnvelope(r, 500, "generalException");
    assert.match(r.json.error.message, /needs a printer with a task trigger; the tenant was left empty/);
    assert.deepEqual((await getJson(ctx, "/v1.0/print/printers", ctx.admin)).value, []);
  });
});

describe("without --dev", () => {
  it("every control path answers 404, even to a Printer Administrator of a trusted issuer", async () => {
    const dir = await makeTempDir("spoold-nodev-");
    const tid = randomUUID();
    const issuer = new TestIssuer({ iss: "https://login.test/issuer/v2.0" });
    issuer.addKey("ES256");
    const jwks = path.join(dir, "jwks.json");
    await issuer.writeJwks(jwks);
    await tenantCmd("add", tid, dir);
    const srv = await startServer({ dataDir: dir, dev: false, args: ["--issuer", issuer.iss, "--jwks", jwks] });
    try {
      const admin = issuer.userToken({ tid, scopes: "Printer.Read.All", admin: true });
      const ok = await rawFetch(`${srv.origin}/v1.0/print/printers`, { token: admin });
      assert.equal(ok.status, 200, `the token is valid: ${ok.text}`);
      for (const token of [undefined, admin]) {
        for (const [method, p] of CONTROL_PATHS) {
          const r = await rawFetch(`${srv.origin}${p}`, { method, token, json: method === "POST" ? { advanceBy: "PT1H" } : undefined });
          assertErrorEnvelope(r, 404, "itemNotFound");
          assert.match(r.json.error.message, /No resource matches the path/);
        }
      }
    } finally {
      await srv.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("--simulate-printers is refused at start", async () => {
    const dir = await makeTempDir("spoold-nodev-");
    try {
      const r = await run(spooldBin(), ["serve", "--listen", "127.0.0.1:0", "--data", dir, "--simulate-printers"])
        .then(() => ({ code: 0 }), (e) => e);
      assert.notEqual(r.code, 0, "the server must not start");
      assert.match(r.stderr, /--simulate-printers needs --dev/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
