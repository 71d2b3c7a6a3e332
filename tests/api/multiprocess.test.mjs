// SPDX-License-Identifier: Apache-2.0
// Scale-out (issue 13): three spoold processes on one PostgreSQL database and one data
// directory (the shared development signing key), started at the same moment (their migrations
// meet under the advisory lock). Any request may reach any process:
//   - a printer and a job created on A are read on B and C;
//   - the fragments of one upload alternate over A, B and C; the last one completes the document
//     exactly once, and the bytes (kept in PostgreSQL) download through another process;
//   - fragments sent to the three processes at once: exactly one 201;
//   - a job started on A is canceled on C; B's cancel then gets 409 and changes nothing;
//   - /metrics of each process shows its connection pool;
//   - notifications: the three processes deliver a subscription's notifications, each exactly
//     once (the outbox rows are claimed with a lease); the process delivering one is killed
//     with SIGKILL while the receiver stalls, and another process delivers it after the lease.
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
import { startReceiver } from "./lib/webhook-receiver.mjs";

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
    startServer({ dataDir: ctx.data, args: ["--store", ctx.store] })));
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

const api = (i, p, opts = {}) => rawFetch(`${ctx.srvs[i].origin}${p}`, { token: ctx.admin, ...opts });
// The same URL on process i (upload and download URLs name the process that made them).
const on = (i, url) => { const u = new URL(url); return `${ctx.srvs[i].origin}${u.pathname}${u.search}`; };
const jobPath = (job) => `/v1.0/print/printers/${ctx.printer}/jobs/${job}`;

async function newJob(i) {
  const job = (await createJob(ctx.srvs[i], ctx.admin, `printers/${ctx.printer}`, { configuration: {} })).id;
  const docs = await api(i, `${jobPath(job)}/documents`);
  assert.equal(docs.status, 200, docs.text);
  return { job, doc: docs.json.value[0].id };
}

async function session(i, j, size) {
  const r = await api(i, `${jobPath(j.job)}/documents/${j.doc}/createUploadSession`, {
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

// A job of process i with a 4-byte document, started: no trigger, so it becomes fetchable and
// queues one notification per matching subscription.
async function startedJob(i) {
  const j = await newJob(i);
  assert.equal((await put(on(i, await session(i, j, 4)), Buffer.from("%PDF"), 0, 4)).status, 201);
  const started = await api(i, `${jobPath(j.job)}/start`, { method: "POST" });
  assert.equal(started.status, 200, started.text);
  return j.job;
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

      // The process holding the next delivery dies while the receiver stalls.
      const attemptsBefore = rx.attempts("/multi");
      const last = await startedJob(2);
      let holder = -1;
      for (let t = 0; t < 100 && holder < 0; t++) {
        if (rx.attempts("/multi") > attemptsBefore) {
          for (let i = 0; i < 3 && holder < 0; i++) if (await inflight(i) > 0) holder = i;
        }
        if (holder < 0) await sleep(20);
      }
      assert.ok(holder >= 0, "one process is delivering the notification");
      await ctx.srvs[holder].kill({ keepData: true });
      const got = await rx.waitFor("/multi", 7, 30_000);
      assert.equal(got[6].value[0].resourceData.id, last);
      assert.equal(rx.abandoned("/multi"), 1, "the killed process's attempt was cut off");
      await sleep(3000);
      assert.deepEqual(ids(), [...jobs, last].sort(), "delivered once after the lease");
      assert.equal(rx.attempts("/multi"), 8);
      await ctx.srvs[holder].spawn();
    } finally {
      await rx.close();
    }
  });
});
