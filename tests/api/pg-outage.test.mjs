// SPDX-License-Identifier: Apache-2.0
// PostgreSQL outage (issue 13): while the database is unreachable, requests get 503
// serviceNotAvailable with Retry-After and /readyz fails; when it returns, service resumes by
// itself (no restart) and what was acknowledged before is still there.
//
// Always on a throwaway PostgreSQL 15 of this file's own (tests/lib/pg.sh), since it stops and
// restarts the server; stopped by PID at the end.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { promisify } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { rawFetch, closeAgents } from "./lib/clients.mjs";
import { PRINTER_MANAGEMENT_SCOPES, registerPrinter, createJob } from "./lib/fixtures.mjs";
import { startServer, REPO_ROOT } from "./lib/server.mjs";

const run = promisify(execFile);
const PG_SH = path.join(REPO_ROOT, "tests/lib/pg.sh");
const pg = (fn) => run("bash", ["-c", `source '${PG_SH}' && PG_DIR='${ctx.pgDir}' && ${fn}`], { timeout: 60_000 });
const ctx = { tenant: randomUUID() };

before(async () => {
  const { stdout } = await run("bash", ["-c", `source '${PG_SH}' && pg_start >&2 && echo "$SPOOLD_TEST_PG $PG_DIR"`],
    { encoding: "utf8", timeout: 60_000 });
  [ctx.pgUrl, ctx.pgDir] = stdout.trim().split(" ");
  ctx.args = ["--store", `${ctx.pgUrl}/postgres`, "--max-jobs-per-printer-window", "0", "--max-jobs-per-user-window", "0"];
  ctx.srv = await startServer({ args: ctx.args });
  ctx.admin = await ctx.srv.mintUser({ tenant: ctx.tenant, scopes: [...PRINTER_MANAGEMENT_SCOPES, "PrintJob.ReadWrite.All"].join(" "), admin: true });
  ctx.printer = await registerPrinter(ctx.srv, ctx.admin, { name: "Outage" });
});

after(async () => {
  await closeAgents();
  if (ctx.srv) await ctx.srv.stop();
  if (ctx.pgDir) await pg("pg_stop");
});

const api = (p, opts = {}) => rawFetch(`${ctx.srv.origin}${p}`, { token: ctx.admin, ...opts });

describe("PostgreSQL stopped and started again", () => {
  it("503 serviceNotAvailable with Retry-After and a failing /readyz during; full service after, nothing lost", async () => {
    const before = await createJob(ctx.srv, ctx.admin, `printers/${ctx.printer}`, { configuration: {} });
    assert.equal((await rawFetch(`${ctx.srv.origin}/readyz`)).status, 200);

    await pg("pg_halt");
    // the first request may find its pooled connection dead; from then on the outage is known
    await api(`/v1.0/print/printers/${ctx.printer}/jobs/${before.id}`);
    for (const [method, p, json] of [
      ["GET", `/v1.0/print/printers/${ctx.printer}/jobs/${before.id}`],
      ["POST", `/v1.0/print/printers/${ctx.printer}/jobs`, { configuration: {} }],
    ]) {
      const r = await api(p, { method, json });
      assert.equal(r.status, 503, `${method} ${p}: ${r.status} ${r.text}`);
      assert.equal(r.json.error.code, "serviceNotAvailable");
      assert.ok(Number(r.headers.get("retry-after")) > 0, "Retry-After");
    }
    assert.equal((await rawFetch(`${ctx.srv.origin}/readyz`)).status, 503);

    await pg("pg_resume");
    let ready = 0;
    // a liveness bound, generous for a loaded machine
    for (const end = Date.now() + 60_000; ready !== 200 && Date.now() < end;) {
      ready = (await rawFetch(`${ctx.srv.origin}/readyz`)).status;
      if (ready !== 200) await sleep(200);
    }
    assert.equal(ready, 200, "/readyz recovers without a restart");
    const r = await api(`/v1.0/print/printers/${ctx.printer}/jobs/${before.id}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.id, before.id);
    const after = await createJob(ctx.srv, ctx.admin, `printers/${ctx.printer}`, { configuration: {} });
    assert.ok(BigInt(after.id) > BigInt(before.id));
    const list = await api(`/v1.0/print/printers/${ctx.printer}/jobs`);
    assert.deepEqual(list.json.value.map((j) => j.id).sort(), [after.id, before.id].sort(),
      "the job refused during the outage was not written");
  });
});

describe("PostgreSQL stopped and started again under load, two processes", () => {
  it("201 or 503 during, full service after, every acknowledged job kept", async (t) => {
    const second = await startServer({ dataDir: ctx.srv.dataDir, args: ctx.args });
    try {
      const srvs = [ctx.srv, second];
      const printer = await registerPrinter(ctx.srv, ctx.admin, { name: "Load" });
      const acked = [], statuses = new Map();
      let stop = false;
      const client = async (srv) => {
        while (!stop) {
          const r = await rawFetch(`${srv.origin}/v1.0/print/printers/${printer}/jobs`, {
            method: "POST", token: ctx.admin, json: { configuration: {} } });
          statuses.set(r.status, (statuses.get(r.status) || 0) + 1);
          if (r.status === 201) acked.push(r.json.id);
          else {
            assert.ok([500, 503].includes(r.status), `${r.status} ${r.text}`);
            await sleep(20);
          }
        }
      };
      const clients = srvs.flatMap((srv) => Array.from({ length: 4 }, () => client(srv)));
      // Each phase lasts until what it shows has happened (fixed sleeps of 1 s and 1.5 s were
      // not always enough on a loaded machine); the bounds are liveness ones.
      const phase = async (what, done) => {
        for (const end = Date.now() + 60_000; !done();) {
          assert.ok(Date.now() < end, `${what}: not within 60 s (answers: ${JSON.stringify(Object.fromEntries(statuses))}, ${acked.length} acknowledged)`);
          await sleep(20);
        }
      };
      await phase("jobs acknowledged before the outage", () => acked.length >= 20);
      const before = acked.length;
      await pg("pg_halt");
      await phase("503 answers during the outage", () => (statuses.get(503) || 0) > 0);
      await pg("pg_resume");
      const resumedAt = acked.length;
      await phase("full service after the outage, without a restart", () => acked.length > resumedAt + 20);
      stop = true;
      await Promise.all(clients);
      t.diagnostic(`answers: ${JSON.stringify(Object.fromEntries(statuses))}; ${before} acknowledged before the outage, ${acked.length} in all`);
      for (const srv of srvs) assert.equal((await rawFetch(`${srv.origin}/readyz`)).status, 200);
      const listed = new Set();
      let url = `${ctx.srv.origin}/v1.0/print/printers/${printer}/jobs?$top=1000`;
      while (url) {
        const page = await rawFetch(url, { token: ctx.admin });
        assert.equal(page.status, 200, page.text);
        for (const j of page.json.value) listed.add(j.id);
        url = page.json["@odata.nextLink"] || null;
      }
      for (const id of acked) assert.ok(listed.has(id), `acknowledged job ${id} is there`);
    } finally {
      await second.stop();
    }
  });
});
