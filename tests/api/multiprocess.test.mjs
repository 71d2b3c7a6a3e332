// SPDX-License-Identifier: Apache-2.0
// Scale-out (issue 13): three spoold processes on one PostgreSQL database and one data
// directory (the shared development signing key), started at the same moment (their migrations
// meet under the advisory lock). Any request may reach any process:
//   - their first start on the empty database logs no error or warning;
//   - a printer and a job created on A are read on B and C;
//   - the fragments of one upload alternate over A, B and C; the last one completes the document
//     exactly once, and the bytes (kept in PostgreSQL) download through another process;
//   - a download URL ($value's redirect) issued by A is served by B and C;
//   - fragments sent to the three processes at once: exactly one 201;
//   - a job started on A is canceled on C; B's cancel then gets 409 and changes nothing;
//   - a write that keeps losing serialization conflicts (a trigger raises 40001) answers 503
//     with Retry-After and is logged with its cause; another database error a logged 500;
//   - /metrics of each process shows its connection pool;
//   - notifications: the three processes deliver a subscription's notifications, each exactly
//     once (the outbox rows are claimed with a lease); the process delivering one is killed
//     with SIGKILL while the receiver stalls, and another process delivers it after the lease;
//   - pull printing: a device long-polling Get-Notifications on A is woken by an abort committed
//     on B (LISTEN/NOTIFY), and by a release committed on B, after which the job is fetchable
//     through A; 200 held jobs each hit at once by an abort and a task completion sent to two
//     different processes: exactly one winner each, the other 409; 200 more hit by five
//     contenders; 120 held jobs ended by the held-job timeout of three more processes or by a
//     release, start or abort sent to others at about the moment it falls due: one outcome each;
//   - device completion: 200 jobs being printed, each completed by its device over IPP on one
//     process while aborted and canceled on the two others: exactly one winner each;
//   - three more processes with job and upload volume limits: each limit holds in total over the
//     three (counted in the database), and what was refused left nothing;
//   - kill -9 of one process while twelve clients create jobs on all three: every job any
//     process acknowledged (201) is there afterwards;
//   - a tenant suspended with `spoold tenant suspend --store` is refused by all three processes
//     within the 5 s of their tenant cache (no request sent later than that is served).
//
// The database: the throwaway server of SPOOLD_TEST_PG when the suite runs on PostgreSQL, else a
// throwaway PostgreSQL 15 of this file's own (tests/lib/pg.sh), stopped by PID at the end.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomUUID, randomBytes, createHash } from "node:crypto";
import { rm } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { rawFetch, closeAgents } from "./lib/clients.mjs";
import { PRINTER_MANAGEMENT_SCOPES, registerPrinter, createJob } from "./lib/fixtures.mjs";
import { startServer, makeTempDir, REPO_ROOT } from "./lib/server.mjs";
import { freshPgStore } from "./lib/store.mjs";
import { HELD_JOB_RACE_OUTCOMES, raceWinners } from "./lib/held-job-races.mjs";
import { startReceiver } from "./lib/webhook-receiver.mjs";
import { spooldCli, tenantCmd } from "./lib/cli.mjs";
import { ippRequest, attr, OP, TAG, STATUS, bearer, val } from "./lib/ipp.mjs";

const run = promisify(execFile);
const PG_SH = path.join(REPO_ROOT, "tests/lib/pg.sh");
const sha256 = (buf) => createHash("sha256").update(buf).digest("hex");
const ADMIN_SCOPES = [...PRINTER_MANAGEMENT_SCOPES, "PrintJob.ReadWrite.All"].join(" ");

const ctx = { tenant: randomUUID(), srvs: [] };

before(async () => {
  if (!process.env.SPOOLD_TEST_PG) {  // our own throwaway server
    const { stdout } = await run("bash", ["-c", `source '${PG_SH}' && pg_start >&2 && echo "$SPOOLD_TEST_PG $PG_DIR"`],
      { encoding: "utf8", timeout: 60_000 });
    const [url, dir] = stdout.trim().split(" ");
    process.env.SPOOLD_TEST_PG = url;
    ctx.pgDir = dir;
  }
  ctx.store = await freshPgStore("multiprocess");
  ctx.data = await makeTempDir("spoold-multi-");
  // the same --store and --data for all three, started together
  ctx.srvs = await Promise.all([0, 1, 2].map(() =>
    startServer({ dataDir: ctx.data, args: ["--store", ctx.store,
      // the load tests create more jobs than the default per-printer window allows
      "--max-jobs-per-printer-window", "0", "--max-jobs-per-user-window", "0"] })));
  ctx.startLogs = ctx.srvs.map((s) => s.output);   // the first start on the empty schema
  ctx.admin = await ctx.srvs[0].mintUser({ tenant: ctx.tenant, scopes: ADMIN_SCOPES, admin: true });
  ctx.printer = await registerPrinter(ctx.srvs[0], ctx.admin, { name: "Shared" });
});

after(async () => {
  await closeAgents();
  for (const s of ctx.srvs) await s.stop();
  await rm(ctx.data, { recursive: true, force: true });
  if (ctx.pgDir) {
    await run("bash", ["-c", `source '${PG_SH}' && PG_DIR='${ctx.pgDir}' && pg_stop`], { timeout: 60_000 });
    delete process.env.SPOOLD_TEST_PG;
  }
});

// SQL on the suite's schema (its search_path is in the store URL).
const psqlStore = (sql) => run("psql", ["-qAtX", "-v", "ON_ERROR_STOP=1", "-c", sql, ctx.store], { encoding: "utf8", timeout: 30_000 });
const api = (i, p, opts = {}) => rawFetch(`${ctx.srvs[i].origin}${p}`, { token: ctx.admin, ...opts });
// The same URL on process i (upload and download URLs name the process that made them).
const on = (i, url) => { const u = new URL(url); return `${ctx.srvs[i].origin}${u.pathname}${u.search}`; };
const jobPath = (job, printer = ctx.printer) => `/v1.0/print/printers/${printer}/jobs/${job}`;

async function newJob(i, printer = ctx.printer) {
  const job = (await createJob(ctx.srvs[i], ctx.admin, `printers/${printer}`, { configuration: {} })).id;
  const docs = await api(i, `${jobPath(job, printer)}/documents`);
  assert.equal(docs.status, 200, docs.text);
  return { job, doc: docs.json.value[0].id, printer };
}

async function session(i, j, size) {
  const r = await api(i, `${jobPath(j.job, j.printer)}/documents/${j.doc}/createUploadSession`, {
    method: "POST", json: { properties: { documentName: "shared.pdf", contentType: "application/pdf", size } },
  });
  assert.equal(r.status, 200, r.text);
  return r.json.uploadUrl;
}

function put(url, body, first, total) {
  return rawFetch(url, {
    method: "PUT", body, timeoutMs: 60_000,
    headers: { "content-range": `bytes ${first}-${first + body.length - 1}/${total}`, "content-type": "application/octet-stream" },
  });
}

describe("three processes on one PostgreSQL", () => {
  it("the first start of three processes on an empty database logs no error or warning", () => {
    // The start-up checks ran before the migrations: the look for stored document bytes once
    // queried the blobs table of a database that had none yet.
    for (const [i, out] of ctx.startLogs.entries()) {
      assert.match(out, /database schema migrated to version|listening on/, `process ${i}: ${out}`);
      const bad = out.split("\n").filter((l) => /^(\S+ (error|warn) |<[34]>)/.test(l));
      assert.deepEqual(bad, [], `process ${i} logged at start:\n${out}`);
    }
  });

  it("all three serve the same schema; what A creates, B and C read", async () => {
    for (let i = 0; i < 3; i++) {
      const r = await api(i, `/v1.0/print/printers/${ctx.printer}`);
      assert.equal(r.status, 200, `process ${i}: ${r.text}`);
      assert.equal(r.json.displayName, "Shared");
    }
    const j = await newJob(0);
    for (const i of [1, 2]) {
      const r = await api(i, jobPath(j.job));
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.id, j.job);
    }
    // job ids stay unique and decimal across processes
    const ids = await Promise.all([0, 1, 2, 0, 1, 2].map(async (i) => (await newJob(i)).job));
    assert.equal(new Set(ids).size, ids.length);
    for (const id of ids) assert.match(id, /^[1-9][0-9]*$/);
  });

  it("upload fragments alternate over A, B, C; the last completes the document once; it downloads through another process", async () => {
    const j = await newJob(0);
    const size = 3 * 1024 * 1024 + 12345;   // chunk rows of 256 KiB, fragments across their edges
    const data = randomBytes(size);
    const url = await session(1, j, size);
    const step = 700_001;
    const statuses = [];
    for (let a = 0, k = 0; a < size; a += step, k++) {
      const b = Math.min(size, a + step);
      const r = await put(on(k % 3, url), data.subarray(a, b), a, size);
      statuses.push(r.status);
      assert.ok(r.status === 202 || r.status === 201, `fragment ${k} on process ${k % 3}: ${r.status} ${r.text}`);
    }
    assert.equal(statuses.filter((s) => s === 201).length, 1);
    assert.equal(statuses.at(-1), 201);
    // the document, read on each process
    for (let i = 0; i < 3; i++) {
      const d = await api(i, `${jobPath(j.job)}/documents/${j.doc}`);
      assert.equal(d.status, 200, d.text);
      assert.equal(d.json.size, size);
    }
    // $value on C: 302 to C's pre-authorized URL, the bytes streamed from PostgreSQL
    const redirect = await api(2, `${jobPath(j.job)}/documents/${j.doc}/$value`);
    assert.equal(redirect.status, 302, redirect.text);
    const res = await rawFetch(redirect.headers.get("location"), { timeoutMs: 60_000 });
    assert.equal(res.status, 200);
    assert.equal(res.body.length, size);
    assert.equal(sha256(res.body), sha256(data));
  });

  it("a download URL issued by A works through B and C (the credential is in the database)", async () => {
    const j = await newJob(0);
    const data = randomBytes(300_000);
    assert.equal((await put(await session(0, j, data.length), data, 0, data.length)).status, 201);
    const redirect = await api(0, `${jobPath(j.job)}/documents/${j.doc}/$value`);
    assert.equal(redirect.status, 302, redirect.text);
    const location = redirect.headers.get("location");
    assert.ok(location.startsWith(`${ctx.srvs[0].origin}/download/`), location);
    for (const i of [1, 2]) {
      const res = await rawFetch(on(i, location), { timeoutMs: 60_000 });
      assert.equal(res.status, 200, `download through process ${i}: ${res.status} ${res.text}`);
      assert.equal(sha256(res.body), sha256(data));
      const part = await rawFetch(on(i, location), { headers: { range: "bytes=100-199" } });
      assert.equal(part.status, 206);
      assert.deepEqual(part.body, data.subarray(100, 200));
    }
    // an unknown credential is refused by every process
    const bad = await rawFetch(on(1, location.replace(/\/download\/.*/, "/download/" + "A".repeat(43))));
    assert.equal(bad.status, 404, bad.text);
    assert.equal(bad.json.error.code, "itemNotFound");
  });

  it("fragments sent to the three processes at once: exactly one 201, the bytes intact", async () => {
    const j = await newJob(2);
    const size = 2 * 1024 * 1024 + 7;
    const data = randomBytes(size);
    const url = await session(0, j, size);
    const step = 150_000;
    const frags = [];
    for (let a = 0; a < size; a += step) frags.push([a, Math.min(size, a + step)]);
    const results = await Promise.all(frags.map(([a, b], k) => put(on(k % 3, url), data.subarray(a, b), a, size)));
    const codes = results.map((r) => r.status);
    assert.deepEqual(codes.filter((c) => c !== 202 && c !== 201), [], JSON.stringify(results.map((r) => r.text)));
    assert.equal(codes.filter((c) => c === 201).length, 1, JSON.stringify(codes));
    const redirect = await api(1, `${jobPath(j.job)}/documents/${j.doc}/$value`);
    const res = await rawFetch(redirect.headers.get("location"), { timeoutMs: 60_000 });
    assert.equal(sha256(res.body), sha256(data));
  });

  it("a job started on A is canceled on C; the cancel on B then gets 409 and changes nothing", async () => {
    const j = await newJob(0);
    const url = await session(0, j, 4);
    assert.equal((await put(url, Buffer.from("%PDF"), 0, 4)).status, 201);
    const started = await api(0, `${jobPath(j.job)}/start`, { method: "POST" });
    assert.equal(started.status, 200, started.text);
    const c = await api(2, `${jobPath(j.job)}/cancel`, { method: "POST" });
    assert.equal(c.status, 204, c.text);
    const again = await api(1, `${jobPath(j.job)}/cancel`, { method: "POST" });
    assert.equal(again.status, 409, again.text);
    assert.equal(again.json.error.code, "notAllowed");
    const after = await api(0, jobPath(j.job));
    assert.equal(after.json.status.state, "canceled");
  });

  it("a write that keeps losing serialization conflicts answers 503 with Retry-After, logged with its cause; another failure 500, logged", async () => {
    // Every UPDATE of this one job fails in the database as a lost serialization conflict
    // (SQLSTATE 40001) or, second, with an internal error: spoold runs the write again from
    // the start each time and gives up after its bounded number of attempts.
    const j = await newJob(0);
    const fn = `fail_${j.job}`;
    const sql = (code) => `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'injected by the test' USING ERRCODE = '${code}'; END $$;
      DROP TRIGGER IF EXISTS ${fn} ON jobs;
      CREATE TRIGGER ${fn} BEFORE UPDATE ON jobs FOR EACH ROW WHEN (OLD.id = ${j.job}) EXECUTE FUNCTION ${fn}();`;
    const state = async () => (await api(2, jobPath(j.job))).json.status.state;
    const before = await state();
    try {
      await psqlStore(sql("40001"));
      const logged = ctx.srvs[1].output.length;
      const r = await api(1, `${jobPath(j.job)}/cancel`, { method: "POST", timeoutMs: 60_000 });
      assert.equal(r.status, 503, r.text);
      assert.equal(r.json.error.code, "serviceNotAvailable");
      assert.match(r.json.error.message, /conflicting with concurrent changes.*nothing was changed/);
      assert.equal(r.headers.get("retry-after"), "1");
      assert.equal(await state(), before, "nothing was changed");
      const log = ctx.srvs[1].output.slice(logged);
      assert.match(log, /a write was given up after \d+ attempts .*injected by the test.* \(40001\); in: UPDATE jobs/, log);
      assert.match(log, new RegExp(`POST /v1.0/print/printers/${ctx.printer}/jobs/${j.job}/cancel \\(printers.jobs.cancel, ` +
        `request-id ${r.json.error.innerError["request-id"]}\\) answered 503 serviceNotAvailable: postgres: given up after \\d+ conflicting attempts; .*\\(40001\\)`), log);

      await psqlStore(sql("XX000"));
      const logged2 = ctx.srvs[2].output.length;
      const e = await api(2, `${jobPath(j.job)}/cancel`, { method: "POST" });
      assert.equal(e.status, 500, e.text);
      assert.equal(e.json.error.code, "generalException");
      assert.equal(e.json.error.message, "The request could not be completed; try again.", "no internal details in the answer");
      assert.match(ctx.srvs[2].output.slice(logged2), new RegExp(`answered 500 generalException: postgres: ERROR:  injected by the test.*\\(XX000\\); in: UPDATE jobs`));
    } finally {
      await psqlStore(`DROP TRIGGER IF EXISTS ${fn} ON jobs; DROP FUNCTION IF EXISTS ${fn}()`);
    }
    // the conflict is over: the same request succeeds
    assert.equal((await api(1, `${jobPath(j.job)}/cancel`, { method: "POST" })).status, 204);
    assert.equal(await state(), "canceled");
  });

  it("/metrics shows the connection pool and the commits of each process", async () => {
    for (let i = 0; i < 3; i++) {
      const m = await rawFetch(`${ctx.srvs[i].origin}/metrics`);
      assert.equal(m.status, 200);
      const v = (name) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(m.text)?.[1]);
      assert.ok(v("spoold_store_pool_connections") >= 3, m.text);
      assert.ok(v("spoold_store_pool_connections_open") >= 1, m.text);
      assert.ok(v("spoold_store_connects_total") >= 1, m.text);
      assert.equal(v("spoold_store_connect_failures_total"), 0);
      assert.ok(v("spoold_store_commits_total") >= 1, m.text);
    }
  });
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A job of process i with a 4-byte document, started (on ctx.printer: no trigger, so it becomes
// fetchable and queues one notification per matching subscription); with state, the start's
// answer must say it. Resolves the job id.
async function startedJob(i, printer = ctx.printer, state) {
  const j = await newJob(i, printer);
  assert.equal((await put(on(i, await session(i, j, 4)), Buffer.from("%PDF"), 0, 4)).status, 201);
  const started = await api(i, `${jobPath(j.job, printer)}/start`, { method: "POST" });
  assert.equal(started.status, 200, started.text);
  if (state) assert.equal(started.json.state, state, started.text);
  return j.job;
}

// n jobs made by make(i), ten at a time, spread over the three processes.
async function makeJobs(n, make) {
  const jobs = [];
  for (let b = 0; b < n; b += 10)
    jobs.push(...await Promise.all(Array.from({ length: Math.min(10, n - b) }, (_, k) => make((b + k) % 3))));
  return jobs;
}

// race(job, k) for every job, `batch` of them at once (k, the job's index, spreads the contenders
// over the processes); resolves the results in the jobs' order.
async function raceAll(jobs, batch, race) {
  const results = [];
  for (let b = 0; b < jobs.length; b += batch)
    results.push(...await Promise.all(jobs.slice(b, b + batch).map((job, k) => race(job, b + k))));
  return results;
}

// An IPP request to process i's INFRA endpoint of printer, as its device (token).
function deviceIpp(i, printer, token, op, operation = [], groups = [], timeoutMs = 60_000) {
  const url = `${ctx.srvs[i].origin}/ipp/print/${printer}`;
  return ippRequest(url, { op, auth: bearer(token), timeoutMs, groups: [{ tag: TAG.OPERATION, attrs: [
    attr.charset("attributes-charset", "utf-8"), attr.language("attributes-natural-language", "en"),
    attr.uri("printer-uri", url.replace(/^http/, "ipp")), ...operation] }, ...groups] });
}

async function inflight(i) {
  const m = await rawFetch(`${ctx.srvs[i].origin}/metrics`);
  return Number(/^spoold_notifications_inflight (\d+)$/m.exec(m.text)?.[1] ?? 0);
}

describe("notifications across three processes", () => {
  it("each is delivered once; the deliverer killed mid-delivery: another process delivers it after the lease, once", async () => {
    const rx = await startReceiver();
    try {
      // Each answer takes 1.5 s: longer than the 1 s in which every process looks at the outbox,
      // so without claims the other processes would deliver the same rows again meanwhile.
      rx.on("/multi", { delayMs: 1500 });
      const app = await ctx.srvs[0].mintApp({ tenant: ctx.tenant, app: randomUUID(), roles: "Printer.Read.All" });
      const sub = await rawFetch(`${ctx.srvs[1].origin}/v1.0/subscriptions`, {
        method: "POST", token: app, json: {
          changeType: "updated", resource: `print/printers/${ctx.printer}/jobs`,
          notificationQueryOptions: "$filter = isFetchable eq true", notificationUrl: rx.url("/multi"),
          expirationDateTime: new Date(Date.now() + 3600_000).toISOString(), clientState: "multi",
        },
      });
      assert.equal(sub.status, 201, sub.text);
      const jobs = [];
      for (let i = 0; i < 6; i++) jobs.push(await startedJob(i % 3));
      await rx.waitFor("/multi", 6, 30_000);
      await sleep(3000);   // room for a duplicate to show up
      const ids = () => rx.notifications("/multi").map((n) => n.value[0].resourceData.id).sort();
      assert.deepEqual(ids(), [...jobs].sort(), "each job's notification exactly once");
      assert.equal(rx.attempts("/multi"), 6, "and no second attempt at any");

      // The process holding the next delivery dies while the receiver stalls: the receiver
      // holds the attempt open (it ends only with the sender's 3 s delivery timeout), so the
      // process found delivering it is still delivering it when it is killed. On a machine
      // loaded enough to take longer than that, the attempt times out and is retried, by any
      // process; the process delivering the attempt still open is the one killed.
      rx.on("/multi", { notify: "hang" });
      const last = await startedJob(2);
      let holder = -1, cut;
      for (const end = Date.now() + 30_000; holder < 0;) {
        assert.ok(Date.now() < end, `no process found delivering the notification within 30 s (held: ${JSON.stringify(rx.held("/multi"))})`);
        const open = rx.held("/multi").filter((h) => h.closedAt === null);
        if (open.length) {
          for (let i = 0; i < 3 && holder < 0; i++) if (await inflight(i) > 0) holder = i;
          cut = open[open.length - 1];
        }
        if (holder < 0) await sleep(20);
      }
      const killedAt = Date.now();
      await ctx.srvs[holder].kill({ keepData: true });
      rx.on("/multi");   // the receiver recovers: the next attempt, after the lease, is answered
      const got = await rx.waitFor("/multi", 7, 30_000);
      assert.equal(got[6].value[0].resourceData.id, last);
      assert.ok(cut.closedAt !== null && cut.closedAt >= killedAt, "the killed process's attempt was open until the kill cut it off");
      await sleep(3000);
      assert.deepEqual(ids(), [...jobs, last].sort(), "delivered once after the lease");
      assert.equal(rx.attempts("/multi"), 6 + rx.held("/multi").length + 1, "the held attempt(s), then one delivery");
      await ctx.srvs[holder].spawn();
    } finally {
      await rx.close();
    }
  });
});

describe("pull printing across processes", () => {
  const APP_ROLES = "PrintTaskDefinition.ReadWrite.All PrintJob.Manage.All PrintJob.ReadWrite.All Printer.Read.All";
  const WOKEN = 'spoold_http_parked_resumed_total{by="wake"}';
  const PARKED = "spoold_http_parked_requests";
  const pp = {};
  before(async () => {
    // the app of the admin token (the default of lib/tokens.mjs): a trigger binds only its own definitions
    pp.app = await ctx.srvs[0].mintApp({ tenant: ctx.tenant, app: "00000000-0000-4000-8000-00000000a001", roles: APP_ROLES });
    const def = await rawFetch(`${ctx.srvs[0].origin}/v1.0/print/taskDefinitions`, {
      method: "POST", token: pp.app, json: { displayName: "Release across processes" } });
    assert.equal(def.status, 201, def.text);
    pp.def = def.json.id;
    pp.printer = await registerPrinter(ctx.srvs[0], ctx.admin, { name: "Held" });
    pp.dest = await registerPrinter(ctx.srvs[2], ctx.admin, { name: "Redirect destination" });
    const trig = await api(1, `/v1.0/print/printers/${pp.printer}/taskTriggers`, { method: "POST", json: {
      event: "jobStarted", "definition@odata.bind": `${ctx.srvs[1].url}/v1.0/print/taskDefinitions/${pp.def}` } });
    assert.equal(trig.status, 201, trig.text);
    const tok = await spooldCli(["token", "--device", pp.printer, "--data", ctx.data, "--store", ctx.store]);
    assert.equal(tok.code, 0, tok.stderr);
    pp.device = tok.stdout.trim();
  });

  const hpath = (job) => `/v1.0/print/printers/${pp.printer}/jobs/${job}`;
  // A job of the held printer, created, uploaded and started on process i: held, with one task.
  async function heldJob(i) {
    const job = await startedJob(i, pp.printer, "paused");
    const tasks = await rawFetch(`${ctx.srvs[i].origin}${hpath(job)}/tasks`, { token: pp.app });
    assert.equal(tasks.status, 200, tasks.text);
    return { id: job, task: tasks.json.value[0].id };
  }
  // The contenders of the races below. Their timeout is generous: a contender is judged by its
  // answer, and on a shared, loaded machine serialization retries may take a while.
  const RACE_MS = 60_000;
  const abortOn = (i, job, reason) => rawFetch(`${ctx.srvs[i].origin}${hpath(job.id)}/abort`, {
    method: "POST", token: pp.app, json: reason ? { reason } : undefined, timeoutMs: RACE_MS });
  const taskOn = (i, job, state) => rawFetch(`${ctx.srvs[i].origin}/v1.0/print/taskDefinitions/${pp.def}/tasks/${job.task}`, {
    method: "PATCH", token: pp.app, json: { status: { state } }, timeoutMs: RACE_MS });
  const completeOn = (i, job) => taskOn(i, job, "completed");
  const redirectOn = (i, job) => rawFetch(`${ctx.srvs[i].origin}${hpath(job.id)}/redirect`, {
    method: "POST", token: pp.app, json: { destinationPrinterId: pp.dest }, timeoutMs: RACE_MS });
  // the owner (the admin token created the job) cancels it
  const cancelOn = (i, job) => rawFetch(`${ctx.srvs[i].origin}${hpath(job.id)}/cancel`, {
    method: "POST", token: ctx.admin, timeoutMs: RACE_MS });

  // Process i's IPP endpoint for the held printer, as its device.
  const ipp = (i, op, operation, groups) => deviceIpp(i, pp.printer, pp.device, op, operation, groups);
  async function metric(i, name) {
    const r = await rawFetch(`${ctx.srvs[i].origin}/metrics`);
    const line = r.text.split("\n").find((l) => l.startsWith(`${name} `));
    assert.ok(line, `${name} in /metrics of process ${i}`);
    return Number(line.slice(name.length + 1));
  }
  const notifications = (i, sub, seq, wait) => ipp(i, OP.GET_NOTIFICATIONS, [
    attr.integer("notify-subscription-ids", sub), attr.integer("notify-sequence-numbers", seq), attr.boolean("notify-wait", wait)]);

  it("a device waiting on A is woken by an abort committed on B, and by a release on B; the released job is fetchable through A", async () => {
    const uuid = attr.uri("output-device-uuid", `urn:uuid:${randomUUID()}`);
    const subR = await ipp(0, OP.CREATE_PRINTER_SUBSCRIPTIONS, [uuid], [{ tag: TAG.SUBSCRIPTION, attrs: [
      attr.keyword("notify-pull-method", "ippget"), attr.keyword("notify-events", ["job-completed", "job-fetchable"]),
      attr.integer("notify-lease-duration", 0)] }]);
    assert.equal(subR.status, STATUS.OK, `Create-Printer-Subscriptions: 0x${subR.status.toString(16)}`);
    const sub = val(subR.group(TAG.SUBSCRIPTION)[0], "notify-subscription-id");
    const drain = await notifications(0, sub, 1, false);
    let seq = 1 + Math.max(0, ...drain.group(TAG.EVENT).map((e) => val(e, "notify-sequence-number")));

    // The wait on A ends with the event, resumed by a wake-up (not by its 5 s recheck, counted
    // apart as by="due"): the abort's commit on B reached A through the database.
    const waitFor = async (commit) => {
      const woken = await metric(0, WOKEN);
      const parked = await metric(0, PARKED);
      let settled = false;
      const waiting = notifications(0, sub, seq, true).finally(() => { settled = true; });
      // waiting in A before the commit on B (A's gauge of parked requests; a request that came
      // after the commit would be answered without a wake-up); a liveness bound for a hang
      for (const end = Date.now() + 30_000; await metric(0, PARKED) <= parked;) {
        assert.ok(Date.now() < end, "A's Get-Notifications was not parked within 30 s");
        await sleep(20);
      }
      assert.equal(settled, false, "Get-Notifications with notify-wait answered before any event");
      await commit();
      const ev = await waiting;
      assert.equal(ev.status, STATUS.OK);
      assert.ok(await metric(0, WOKEN) > woken, "A's waiting request was resumed by a wake-up");
      const e = ev.group(TAG.EVENT)[0];
      assert.ok(e, "the answer carries the event");
      seq = val(e, "notify-sequence-number") + 1;
      return e;
    };
    const j = await heldJob(2);
    const e = await waitFor(async () => assert.equal((await abortOn(1, j, "aborted on B")).status, 204));
    assert.equal(val(e, "notify-subscribed-event"), "job-completed");
    assert.equal(val(e, "notify-job-id"), Number(j.id));
    assert.equal(val(e, "job-state"), 8);

    const k = await heldJob(2);
    const f = await waitFor(async () => assert.equal((await completeOn(1, k)).status, 200));
    assert.equal(val(f, "notify-subscribed-event"), "job-fetchable");
    assert.equal(val(f, "notify-job-id"), Number(k.id));
    const fetched = await ipp(0, OP.FETCH_JOB, [attr.integer("job-id", Number(k.id)), uuid]);
    assert.equal(fetched.status, STATUS.OK, `Fetch-Job through A: 0x${fetched.status.toString(16)}`);
  });

  it("200 held jobs, each hit at once by an abort and a task completion on two different processes: exactly one winner", async (t) => {
    const jobs = await makeJobs(200, heldJob);
    const results = await raceAll(jobs, 50, async (job, k) => {
      const i = k % 3;
      const [ab, done] = await Promise.all([abortOn(i, job, `race ${job.id}`), completeOn((i + 1) % 3, job)]);
      return { job, ab, done };
    });
    const wins = { abort: 0, complete: 0 };
    for (const { job, ab, done } of results) {
      const okAbort = ab.status === 204, okDone = done.status === 200;
      assert.ok(okAbort !== okDone, `job ${job.id}: abort ${ab.status}, complete ${done.status}: exactly one may win`);
      const loser = okAbort ? done : ab;
      assert.equal(loser.status, 409, loser.text);
      assert.equal(loser.json.error.code, "notAllowed");
      const g = await api(0, hpath(job.id));
      if (okAbort) {
        wins.abort++;
        assert.equal(g.json.status.state, "aborted");
        assert.equal(g.json.status.description, `race ${job.id}`);
      } else {
        wins.complete++;
        assert.equal(g.json.status.state, "processing");
        assert.equal(g.json.isFetchable, true);
      }
    }
    assert.equal(wins.abort + wins.complete, 200);
    t.diagnostic(`abort won ${wins.abort}, completion won ${wins.complete}`);
  });

  it("200 held jobs, each hit at once by abort, redirect, task completion, task abort and cancel spread over the three processes: one outcome each", async (t) => {
    const jobs = await makeJobs(200, heldJob);
    const results = await raceAll(jobs, 20, async (job, k) => {
      // contender c runs on process (job + c) % 3: every pairing meets across processes
      const on = (c) => (k + c) % 3;
      const [abort, redirect, complete, taskAbort, cancel] = await Promise.all([
        abortOn(on(0), job), redirectOn(on(1), job), completeOn(on(2), job),
        taskOn(on(3), job, "aborted"), cancelOn(on(4), job)]);
      return { job, ops: { abort, redirect, complete, taskAbort, cancel } };
    });
    // The outcomes a single process allows (pullprint.test.mjs): one winner, except that a job
    // released by its task's completion may still be canceled by its owner.
    const expected = HELD_JOB_RACE_OUTCOMES;
    const tally = {};
    for (const { job, ops } of results) {
      const { won, key } = raceWinners(ops);
      for (const [k, r] of Object.entries(ops)) {
        if (won.includes(k)) continue;
        assert.equal(r.status, 409, `job ${job.id}: ${k} lost to ${key}: ${r.text}`);
        assert.equal(r.json.error.code, "notAllowed");
      }
      assert.ok(expected[key], `job ${job.id}: winners ${key || "none"}`);
      const g = await api(0, hpath(job.id));
      const task = await rawFetch(`${ctx.srvs[1].origin}/v1.0/print/taskDefinitions/${pp.def}/tasks/${job.task}`, { token: pp.app });
      assert.equal(task.status, 200, task.text);
      assert.deepEqual([g.json.status.state, task.json.status.state], expected[key], `job ${job.id}: winners ${key}`);
      if (key === "redirect") assert.match(g.json.redirectedTo, /\/jobs\/\d+$/);
      else assert.equal(g.json.redirectedTo, null, `job ${job.id}: winners ${key}`);
      tally[key] = (tally[key] || 0) + 1;
    }
    // exactly one job on the destination per winning redirect
    const redirected = results.filter(({ ops }) => ops.redirect.status === 200).length;
    const onDest = await api(2, `/v1.0/print/printers/${pp.dest}/jobs/$count`);
    assert.equal(Number(onDest.text), redirected, "one job on the destination per redirect that won");
    t.diagnostic(`outcomes: ${JSON.stringify(tally)}`);
  });

  describe("the held-job timeout across processes", () => {
    // Three more processes on the same store whose sweepers end held jobs after 2 s, looking
    // every second (one process at a time: the sweep's advisory lock). Held jobs are hit by
    // the timeout and, at about the moment it falls due, by a release at the printer, a start
    // and an abort, each on a different process.
    const tmo = { srvs: [] };
    before(async () => {
      tmo.srvs = await Promise.all([0, 1, 2].map(() =>
        startServer({ dataDir: ctx.data, args: ["--store", ctx.store, "--task-timeout", "2s", "--sweep-interval", "1s",
          "--max-jobs-per-printer-window", "0", "--max-jobs-per-user-window", "0"] })));
    });
    after(async () => { for (const s of tmo.srvs) await s.stop(); });
    const TIMEOUT_TEXT = "The print task did not complete within 2 seconds; the job was aborted.";
    const on6 = (i) => (i % 6 < 3 ? ctx.srvs[i % 6] : tmo.srvs[i % 6 - 3]);
    const release = (i, job) => rawFetch(`${on6(i).origin}/v1.0/print/printers/${pp.printer}/jobs/release`, {
      method: "POST", token: ctx.admin, json: { jobId: job.id }, timeoutMs: RACE_MS });
    const start = (i, job) => rawFetch(`${on6(i).origin}${hpath(job.id)}/start`, {
      method: "POST", token: ctx.admin, timeoutMs: RACE_MS });
    const abort = (i, job) => rawFetch(`${on6(i).origin}${hpath(job.id)}/abort`, {
      method: "POST", token: pp.app, json: { reason: `abort ${job.id}` }, timeoutMs: RACE_MS });

    it("120 held jobs, each ended by the timeout or by a release, start or abort sent at about the same moment to other processes: one outcome each", async (t) => {
      const results = [];
      for (let b = 0; b < 6; b++) {
        const jobs = await Promise.all(Array.from({ length: 20 }, (_, k) => heldJob((b + k) % 3)));
        // the hold began when heldJob returned (a little earlier); the sweep falls due 2 s
        // after it and runs within the next second: the contenders go out spread over that
        // time, so some arrive before the sweep, some with it and some after
        await sleep(1700);
        results.push(...await Promise.all(jobs.map(async (job, k) => {
          await sleep((k * 67) % 1400);
          const c = (n) => b + k + n;   // contender n on process (b + k + n) % 6
          const [rel, st, ab] = await Promise.all([release(c(0), job), start(c(2), job), abort(c(4), job)]);
          return { job, ops: { release: rel, start: st, abort: ab } };
        })));
      }
      await sleep(3000);   // every job left held is past its timeout: a sweep ends it
      const tally = {};
      for (const { job, ops } of results) {
        const won = Object.entries(ops).filter(([, r]) => r.status < 300).map(([k]) => k);
        assert.ok(won.length <= 1, `job ${job.id}: ${won.join(" and ")} both succeeded`);
        for (const [k, r] of Object.entries(ops)) {
          if (won.includes(k)) continue;
          assert.equal(r.status, 409, `job ${job.id}: ${k}: ${r.status} ${r.text}`);
          assert.equal(r.json.error.code, "notAllowed");
        }
        assert.notEqual(won[0], "start", `job ${job.id}: a held job was started again`);
        const g = await api(0, hpath(job.id));
        const task = await rawFetch(`${ctx.srvs[1].origin}/v1.0/print/taskDefinitions/${pp.def}/tasks/${job.task}`, { token: pp.app });
        assert.equal(task.status, 200, task.text);
        const got = [g.json.status.state, g.json.status.description, task.json.status.state];
        let key;
        if (won[0] === "release") {
          key = "release";
          assert.deepEqual([got[0], got[2]], ["processing", "completed"], `job ${job.id}: released`);
          assert.equal(g.json.isFetchable, true);
        } else if (won[0] === "abort") {
          key = "abort";
          assert.deepEqual(got, ["aborted", `abort ${job.id}`, "aborted"], `job ${job.id}: aborted`);
        } else {
          key = "timeout";   // nobody else won: the sweep ended it, as on one process
          assert.deepEqual(got, ["aborted", TIMEOUT_TEXT, "aborted"], `job ${job.id}: timed out`);
        }
        tally[key] = (tally[key] || 0) + 1;
      }
      assert.equal(Object.values(tally).reduce((a, b) => a + b, 0), 120);
      t.diagnostic(`outcomes: ${JSON.stringify(tally)}`);
    });
  });
});

describe("device completion across processes", () => {
  // A printer without a trigger: a started job is fetchable at once. Its device fetches and
  // acknowledges each job over IPP on process i and reports it printing; then, at once, the
  // device reports it completed (Update-Job-Status) on i, the app aborts it on i + 1 and its
  // owner cancels it on i + 2.
  const dv = {};
  before(async () => {
    dv.printer = await registerPrinter(ctx.srvs[1], ctx.admin, { name: "Device races" });
    const tok = await spooldCli(["token", "--device", dv.printer, "--data", ctx.data, "--store", ctx.store]);
    assert.equal(tok.code, 0, tok.stderr);
    dv.token = tok.stdout.trim();
    dv.uuid = `urn:uuid:${randomUUID()}`;
    dv.app = await ctx.srvs[0].mintApp({ tenant: ctx.tenant, app: randomUUID(), roles: "PrintJob.Manage.All PrintJob.ReadWrite.All Printer.Read.All" });
  });
  const dpath = (job) => jobPath(job, dv.printer);
  const RACE_MS = 60_000;
  const jobOp = (i, op, job, groups) => deviceIpp(i, dv.printer, dv.token, op,
    [attr.integer("job-id", Number(job)), attr.uri("output-device-uuid", dv.uuid)], groups);
  const report = (i, job, state, reason) => jobOp(i, OP.UPDATE_JOB_STATUS, job, [{ tag: TAG.JOB, attrs: [
    attr.enum("output-device-job-state", state), attr.keyword("output-device-job-state-reasons", reason)] }]);
  // A job created, uploaded and started on process i, fetched, acknowledged and reported
  // printing by the device on i.
  async function printingJob(i) {
    const job = await startedJob(i, dv.printer);
    for (const op of [OP.FETCH_JOB, OP.ACKNOWLEDGE_JOB]) {
      const r = await jobOp(i, op, job);
      assert.equal(r.status, STATUS.OK, `job ${job}: op 0x${op.toString(16)}: 0x${r.status?.toString(16)}`);
    }
    const p = await report(i, job, 5, "job-printing");
    assert.equal(p.status, STATUS.OK, `job ${job}: Update-Job-Status processing: 0x${p.status?.toString(16)}`);
    return job;
  }

  it("200 jobs being printed, each completed by its device on one process while aborted and canceled on the two others: exactly one winner", async (t) => {
    const jobs = await makeJobs(200, printingJob);
    const results = await raceAll(jobs, 25, async (job, k) => {
      const i = k % 3;
      const [done, abort, cancel] = await Promise.all([
        report(i, job, 9, "job-completed-successfully"),
        rawFetch(`${ctx.srvs[(i + 1) % 3].origin}${dpath(job)}/abort`, { method: "POST", token: dv.app, json: { reason: "race" }, timeoutMs: RACE_MS }),
        rawFetch(`${ctx.srvs[(i + 2) % 3].origin}${dpath(job)}/cancel`, { method: "POST", token: ctx.admin, timeoutMs: RACE_MS })]);
      return { job, done, abort, cancel };
    });
    const wins = { device: 0, cancel: 0 };
    for (const { job, done, abort, cancel } of results) {
      const okDone = done.status === STATUS.OK, okCancel = cancel.status === 204;
      assert.ok(okDone !== okCancel, `job ${job}: completion 0x${done.status?.toString(16)}, cancel ${cancel.status} ${cancel.text}: exactly one may win`);
      // a job no print task holds cannot be aborted (a single process answers the same)
      assert.equal(abort.status, 409, `job ${job}: abort ${abort.text}`);
      assert.equal(abort.json.error.code, "notAllowed");
      if (!okCancel) {
        assert.equal(cancel.status, 409, cancel.text);
        assert.equal(cancel.json.error.code, "notAllowed");
      } else {
        assert.equal(done.status, STATUS.NOT_POSSIBLE, `job ${job}: the device's late completion: 0x${done.status?.toString(16)}`);
      }
      const g = await api((Number(job) + 1) % 3, dpath(job));
      assert.equal(g.status, 200, g.text);
      assert.equal(g.json.status.state, okDone ? "completed" : "canceled", `job ${job}`);
      const a = await jobOp(Number(job) % 3, OP.GET_JOB_ATTRIBUTES, job);
      assert.equal(val(a.group(TAG.JOB)[0], "job-state"), okDone ? 9 : 7, `job ${job}: IPP job-state`);
      wins[okDone ? "device" : "cancel"]++;
    }
    assert.equal(wins.device + wins.cancel, 200);
    t.diagnostic(`device completion won ${wins.device}, cancel won ${wins.cancel}`);
  });
});

describe("activity limits across processes", () => {
  // Three more processes on the same store, with limits: the windows are counted in the
  // database, so the three together allow each limit once (not three times).
  const lim = { srvs: [] };
  before(async () => {
    lim.srvs = await Promise.all([0, 1, 2].map(() =>
      startServer({ dataDir: ctx.data, args: ["--store", ctx.store,
        "--max-jobs-per-printer-window", "6", "--max-jobs-per-user-window", "8", "--job-limit-window", "600",
        "--upload-volume-limit", String(4 * 256 * 1024), "--upload-volume-window", "900"] })));
    lim.user = await lim.srvs[0].mintUser({ tenant: ctx.tenant, scopes: ADMIN_SCOPES, admin: true });
    lim.p1 = await registerPrinter(lim.srvs[0], ctx.admin, { name: "Limited 1" });
    lim.p2 = await registerPrinter(lim.srvs[1], ctx.admin, { name: "Limited 2" });
  });
  after(async () => { for (const s of lim.srvs) await s.stop(); });
  const create = (i, printer) => rawFetch(`${lim.srvs[i].origin}/v1.0/print/printers/${printer}/jobs`, {
    method: "POST", token: lim.user, json: { configuration: {} } });
  const jobsOf = async (printer) => {
    const r = await rawFetch(`${lim.srvs[2].origin}/v1.0/print/printers/${printer}/jobs?$top=100`, { token: ctx.admin });
    assert.equal(r.status, 200, r.text);
    return r.json.value.map((j) => j.id);
  };
  const refused = (r, pattern) => {
    assert.equal(r.status, 429, r.text);
    assert.equal(r.json.error.code, "activityLimitReached");
    assert.match(r.json.error.message, pattern);
    const after = Number(r.headers.get("retry-after"));
    assert.ok(Number.isInteger(after) && after >= 1 && after <= 600, `Retry-After ${r.headers.get("retry-after")}`);
  };

  it("the per-printer and per-user job windows hold in total over three processes; a refused create writes nothing", async () => {
    // 12 creates on one printer at once, 4 on each process: the printer's 6, no more
    const r1 = await Promise.all(Array.from({ length: 12 }, (_, k) => create(k % 3, lim.p1)));
    const ok1 = r1.filter((r) => r.status === 201);
    assert.equal(ok1.length, 6, JSON.stringify(r1.map((r) => r.status)));
    for (const r of r1.filter((r) => r.status !== 201)) refused(r, /on this printer: at most 6 in any 600 seconds/);
    assert.deepEqual((await jobsOf(lim.p1)).sort(), ok1.map((r) => r.json.id).sort(), "only the accepted jobs exist");
    // the user has 6 of 8: on another printer, 2 more of 6 sent at once over the three
    const r2 = await Promise.all(Array.from({ length: 6 }, (_, k) => create(k % 3, lim.p2)));
    const ok2 = r2.filter((r) => r.status === 201);
    assert.equal(ok2.length, 2, JSON.stringify(r2.map((r) => r.status)));
    for (const r of r2.filter((r) => r.status !== 201)) refused(r, /You created too many print jobs: at most 8/);
    assert.deepEqual((await jobsOf(lim.p2)).sort(), ok2.map((r) => r.json.id).sort());
    // another user still may print on the second printer (its window has 2 of 6)
    const other = await rawFetch(`${lim.srvs[1].origin}/v1.0/print/printers/${lim.p2}/jobs`, {
      method: "POST", token: ctx.admin, json: { configuration: {} } });
    assert.equal(other.status, 201, other.text);
  });

  it("the upload volume window holds in total over three processes; refused fragments are not recorded", async () => {
    // a user who has uploaded nothing yet (the window counts every process's uploads)
    const uploader = await lim.srvs[0].mintUser({ tenant: ctx.tenant, scopes: ADMIN_SCOPES, admin: true });
    const job = (await createJob(lim.srvs[0], uploader, `printers/${lim.p2}`, { configuration: {} })).id;
    const docs = await rawFetch(`${lim.srvs[0].origin}/v1.0/print/printers/${lim.p2}/jobs/${job}/documents`, { token: uploader });
    const s = await rawFetch(`${lim.srvs[0].origin}/v1.0/print/printers/${lim.p2}/jobs/${job}/documents/${docs.json.value[0].id}/createUploadSession`, {
      method: "POST", token: uploader, json: { properties: { documentName: "big.pdf", contentType: "application/pdf", size: 8 * 256 * 1024 } } });
    assert.equal(s.status, 200, s.text);
    // eight fragments of 256 KiB at once over the three processes: exactly four fit the 1 MiB
    const frag = 256 * 1024, size = 8 * frag;
    const url = (i) => { const u = new URL(s.json.uploadUrl); return `${lim.srvs[i].origin}${u.pathname}${u.search}`; };
    const rs = await Promise.all(Array.from({ length: 8 }, (_, k) => put(url(k % 3), randomBytes(frag), k * frag, size)));
    const codes = rs.map((r) => r.status);
    assert.equal(codes.filter((c) => c === 202).length, 4, JSON.stringify(codes));
    for (const r of rs.filter((r) => r.status !== 202)) {
      assert.equal(r.status, 429, r.text);
      assert.equal(r.json.error.code, "activityLimitReached");
      assert.ok(Number(r.headers.get("retry-after")) >= 1);
    }
    const progress = await rawFetch(url(1));
    assert.equal(progress.status, 200, progress.text);
    const missing = progress.json.nextExpectedRanges.map((x) => { const [a, b] = x.split("-").map(Number); return b - a + 1; });
    assert.equal(missing.reduce((a, b) => a + b, 0), size - 4 * frag, `only the accepted fragments were recorded: ${progress.text}`);
  });
});

describe("kill -9 of one process under load", () => {
  it("loses no acknowledged write: every job answered 201 by any process is there afterwards", async (t) => {
    const acked = [];
    let stop = false, failed = 0;
    // Four clients per process create jobs until told to stop; B is killed in the middle.
    const client = async (i) => {
      while (!stop) {
        try {
          const r = await api(i, `/v1.0/print/printers/${ctx.printer}/jobs`, { method: "POST", json: { configuration: {} } });
          if (r.status === 201) acked.push(r.json.id); else failed++;
        } catch { failed++; if (i === 1) await sleep(50); }   // B is gone: connection refused
      }
    };
    const clients = [0, 1, 2].flatMap((i) => Array.from({ length: 4 }, () => client(i)));
    // B is killed once the clients have jobs acknowledged, and they stop once more have been
    // acknowledged after the kill: counted, not timed (1.5 s of each was not always enough for
    // one job on a loaded machine). The bounds are liveness ones.
    const ackedAtLeast = async (n, what) => {
      for (const end = Date.now() + 60_000; acked.length < n;) {
        assert.ok(Date.now() < end, `${what}: ${acked.length} jobs acknowledged after 60 s, waiting for ${n} (${failed} requests failed)`);
        await sleep(20);
      }
    };
    await ackedAtLeast(30, "before the kill");
    const before = acked.length;
    await ctx.srvs[1].kill({ keepData: true });
    await ackedAtLeast(before + 30, "after the kill");
    stop = true;
    await Promise.all(clients);
    assert.ok(before > 0 && acked.length > before, `jobs acknowledged before (${before}) and after (${acked.length}) the kill`);
    t.diagnostic(`${before} jobs acknowledged before the kill, ${acked.length} in all, ${failed} requests failed`);
    for (const id of acked) {
      const r = await api(0, jobPath(id));
      assert.equal(r.status, 200, `acknowledged job ${id}: ${r.status} ${r.text}`);
    }
    await ctx.srvs[1].spawn();
    const r = await api(1, jobPath(acked[0]));
    assert.equal(r.status, 200, "the restarted process serves the same data");
  });
});

describe("tenant suspension across processes", () => {
  // What the cache allows is checked on the requests' send times, which load cannot move
  // earlier: a request sent more than 5 s after the suspension was committed reached the
  // server later still, so a 200 to it is a cache kept too long. The wait for every process's
  // first 403 is a liveness bound. (An upper bound on the time of that first 403 failed when a
  // loaded machine delayed the requests that would have seen it.)
  it("every process refuses a suspended tenant within its 5 s tenant cache", async (t) => {
    const tid = randomUUID();
    const tok = await ctx.srvs[0].mintUser({ tenant: tid, scopes: ADMIN_SCOPES, admin: true });
    const getPrint = (i) => rawFetch(`${ctx.srvs[i].origin}/v1.0/print/printers`, { token: tok });
    for (let i = 0; i < 3; i++) assert.equal((await getPrint(i)).status, 200, `process ${i} before`);
    await tenantCmd("suspend", tid, ctx.data, ["--store", ctx.store]);
    const t0 = Date.now();   // the suspension is committed: the command has exited
    const took = await Promise.all([0, 1, 2].map(async (i) => {
      for (;;) {
        const sent = Date.now() - t0;
        const r = await getPrint(i);
        if (r.status === 403) {
          assert.equal(r.json.error.code, "accessDenied");
          assert.match(r.json.error.message, /subscription is not active/);
          return sent;
        }
        assert.equal(r.status, 200, r.text);
        // 5 s of cache, and 100 ms for the clocks' granularity
        assert.ok(sent <= 5100, `process ${i} answered 200 to a request sent ${sent} ms after the suspension`);
        assert.ok(sent < 60_000, `process ${i} still serves the suspended tenant after 60 s`);
        await sleep(100);
      }
    }));
    t.diagnostic(`first refused request sent after ${JSON.stringify(took)} ms`);
  });
});
