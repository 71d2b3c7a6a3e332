// SPDX-License-Identifier: Apache-2.0
// A write that waits for its commit gives its HTTP thread back (docs/benchmarks.md, "Where the
// time goes"): on the SQLite store a request's store write suspends its connection while the
// group commit is on its way, and the writer's completion resumes it, so more writes than
// --threads can share one commit. With --threads 2 and 16 concurrent job creates (each on its
// own connection), every create is answered 201 with its own job, each of them waited without
// its thread (spoold_http_write_waits_total) unless it was a lone write committed on its own
// thread (spoold_store_commits_inline_total: no other write in flight, so nothing to share the
// commit with), and a commit carried more than 2 of them (the commit batch histogram of
// /metrics). With the threads held, no commit could carry more than
// 2 request writes. No timing is asserted: rounds are repeated until a batch > 2 is seen (a
// round whose creates arrive one after the other commits them one by one).
//
// On PostgreSQL every write runs on its request's thread with its own connection (no single
// writer to wait for): the same creates succeed, no write waits without its thread and none
// is counted as inline.
//
// On both backends every commit is timed: the commit time histogram of /metrics
// (spoold_store_commit_seconds) counts exactly the commits the batch histogram counts, and
// the write time histogram (spoold_store_write_seconds) every store write of the requests; the
// buckets are cumulative and the sums grow (no bound on the times is asserted).
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { rawFetch, closeAgents } from "./lib/clients.mjs";
import { PRINTER_MANAGEMENT_SCOPES, serverForSuite, registerPrinter, createShare } from "./lib/fixtures.mjs";
import { testStore } from "./lib/store.mjs";
import { startServer } from "./lib/server.mjs";

after(() => closeAgents());

const ADMIN_SCOPES = [...PRINTER_MANAGEMENT_SCOPES, "PrinterShare.ReadWrite.All", "PrintJob.ReadWrite.All"].join(" ");
const USER_SCOPES = "PrintJob.ReadWrite PrinterShare.ReadBasic.All";
const CONCURRENT = 16;
const MAX_ROUNDS = 30;  // a bound on attempts, not on time: each round is asserted on its own

// The commit figures of /metrics: commits, and batches of at most 2 closures.
async function commitStats(ctx) {
  const r = await rawFetch(`${ctx.srv.origin}/metrics`, { ca: ctx.srv.ca });
  assert.equal(r.status, 200);
  const num = (re) => {
    const m = re.exec(r.text);
    assert.ok(m, `${re} in /metrics`);
    return Number(m[1]);
  };
  const histogram = (name) => {
    const buckets = [...r.text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)$`, "gm"))];
    assert.ok(buckets.length >= 2, `${name} buckets in /metrics`);
    assert.equal(buckets.at(-1)[1], "+Inf");
    const le = (k) => (buckets[k][1] === "+Inf" ? Infinity : Number(buckets[k][1]));
    for (let i = 1; i < buckets.length; i++) {
      assert.ok(le(i) > le(i - 1), `${name}: bucket bounds ascend: ${buckets[i][1]}`);
      assert.ok(Number(buckets[i][2]) >= Number(buckets[i - 1][2]), `${name}: cumulative buckets: ${buckets[i][0]}`);
    }
    const sum = new RegExp(`^${name}_sum ([0-9.]+)$`, "m").exec(r.text);
    assert.ok(sum, `${name}_sum in /metrics`);
    return { count: num(new RegExp(`^${name}_count (\\d+)$`, "m")), inf: Number(buckets.at(-1)[2]), sum: Number(sum[1]) };
  };
  const commit = histogram("spoold_store_commit_seconds");
  const write = histogram("spoold_store_write_seconds");
  return {
    commit,
    write,
    commits: num(/^spoold_store_commit_batch_size_count (\d+)$/m),
    le2: num(/^spoold_store_commit_batch_size_bucket\{le="2"\} (\d+)$/m),
    waits: num(/^spoold_http_write_waits_total (\d+)$/m),
    inline: num(/^spoold_store_commits_inline_total (\d+)$/m),
  };
}

describe("more concurrent writes than --threads share one commit", () => {
  const ctx = serverForSuite(
    { args: ["--threads", "2", "--max-jobs-per-user-window", "0", "--max-jobs-per-printer-window", "0"] },
    {
      tokens: { admin: { scopes: ADMIN_SCOPES, admin: true }, user: { scopes: USER_SCOPES } },
      setup: async (c) => {
        c.printer = await registerPrinter(c.srv, c.admin, { name: "Batch" });
        c.share = await createShare(c.srv, c.admin, c.printer);
      },
    });

  it(`${CONCURRENT} concurrent creates and cancels with --threads 2: all answered, a commit carries more than 2`, async () => {
    const postgres = testStore() === "postgres";
    const ids = new Set();
    let bigBatches = 0;
    let rounds = 0;
    while (rounds < MAX_ROUNDS && (postgres ? rounds < 2 : bigBatches === 0)) {
      rounds++;
      const before = await commitStats(ctx);
      const created = await Promise.all(Array.from({ length: CONCURRENT }, () =>
        rawFetch(`${ctx.srv.origin}/v1.0/print/shares/${ctx.share}/jobs`,
          { method: "POST", token: ctx.user, ca: ctx.srv.ca, json: {} })));
      for (const r of created) {
        assert.equal(r.status, 201, `create: ${r.status} ${r.text}`);
        assert.ok(!ids.has(r.json.id), `job id ${r.json.id} answered twice`);
        ids.add(r.json.id);
      }
      const canceled = await Promise.all(created.map((r) =>
        rawFetch(`${ctx.srv.origin}/v1.0/print/shares/${ctx.share}/jobs/${r.json.id}/cancel`,
          { method: "POST", token: ctx.user, ca: ctx.srv.ca })));
      for (const r of canceled) assert.equal(r.status, 204, `cancel: ${r.status} ${r.text}`);
      const after = await commitStats(ctx);
      // every commit of the round was timed
      assert.ok(after.commits - before.commits > 0, "the round committed");
      assert.equal(after.commit.count - before.commit.count, after.commits - before.commits, "commits timed");
      assert.equal(after.commit.inf, after.commit.count, "the +Inf bucket counts every timed commit");
      assert.ok(after.commit.sum > before.commit.sum, "the commit time sum grew");
      // every create and cancel made one store write at least, each timed
      assert.ok(after.write.count - before.write.count >= 2 * CONCURRENT,
        `writes timed: ${after.write.count - before.write.count} for ${2 * CONCURRENT} requests`);
      assert.equal(after.write.inf, after.write.count, "the +Inf bucket counts every timed write");
      assert.ok(after.write.sum > before.write.sum, "the write time sum grew");
      if (postgres) {
        assert.equal(after.waits - before.waits, 0, "on PostgreSQL writes keep their thread");
        assert.equal(after.inline - before.inline, 0, "no inline commit on PostgreSQL");
      } else {
        // Every create and cancel writes, and every write on SQLite waits without its thread
        // or, alone, commits on it.
        const waits = after.waits - before.waits, inline = after.inline - before.inline;
        assert.ok(waits + inline >= 2 * CONCURRENT,
          `write waits ${waits} and inline commits ${inline} for ${2 * CONCURRENT} writes`);
        bigBatches += (after.commits - before.commits) - (after.le2 - before.le2);
      }
    }
    if (!postgres) assert.ok(bigBatches > 0, `no commit carried more than 2 writes in ${rounds} rounds`);

    // Every answered job is there, canceled, when read back.
    for (const id of ids) {
      const r = await rawFetch(`${ctx.srv.origin}/v1.0/print/shares/${ctx.share}/jobs/${id}`,
        { token: ctx.user, ca: ctx.srv.ca });
      assert.equal(r.status, 200, `GET job ${id}: ${r.status}`);
      assert.equal(r.json.status.state, "canceled", JSON.stringify(r.json.status));
    }
  });
});

// --inline-commit (docs/configuration.md): on SQLite, `on` commits a lone write (no other in
// flight) on its request's thread, counted by spoold_store_commits_inline_total, `off` never
// does: every write waits for the writer thread without its HTTP thread. The writes here are
// one request at a time, so each is a lone write; with `on` the writer may still take a few
// (the first after the setup's concurrent writes, whose fill target is still above 1, or one
// meeting a write of the server's own), so at least half of them are asserted inline.
// spoold_store_inline_commit_allowed says 1 with `on`, 0 with `off` (and `auto` depends on
// the machine's CPU pressure, so it is not asserted), and the start's log line names the mode
// (so the option is seen to reach the store whatever the pressure). PostgreSQL refuses `on`
// and never commits inline.
for (const mode of ["on", "off"]) {
  describe(`--inline-commit ${mode}`, () => {
    const postgres = testStore() === "postgres";
    if (postgres && mode === "on") {
      it("is refused on PostgreSQL", async () => {
        await assert.rejects(startServer({ args: ["--inline-commit", "on"] }),
          /--inline-commit on applies to a SQLite store/);
      });
      return;
    }
    const ctx = serverForSuite(
      { args: ["--inline-commit", mode, "--max-jobs-per-user-window", "0", "--max-jobs-per-printer-window", "0"] },
      {
        tokens: { admin: { scopes: ADMIN_SCOPES, admin: true }, user: { scopes: USER_SCOPES } },
        setup: async (c) => {
          c.printer = await registerPrinter(c.srv, c.admin, { name: `Inline ${mode}` });
          c.share = await createShare(c.srv, c.admin, c.printer);
        },
      });

    it(`lone writes ${mode === "on" || postgres ? "" : "never "}commit${mode === "on" ? " inline" : " on the writer thread"}`, async () => {
      const LONE = 10;
      const before = await commitStats(ctx);
      for (let i = 0; i < LONE; i++) {
        const r = await rawFetch(`${ctx.srv.origin}/v1.0/print/shares/${ctx.share}/jobs`,
          { method: "POST", token: ctx.user, ca: ctx.srv.ca, json: {} });
        assert.equal(r.status, 201, `create: ${r.status} ${r.text}`);
      }
      const after = await commitStats(ctx);
      const inline = after.inline - before.inline, waits = after.waits - before.waits;
      const m = /^spoold_store_inline_commit_allowed (\d)$/m.exec(
        (await rawFetch(`${ctx.srv.origin}/metrics`, { ca: ctx.srv.ca })).text);
      assert.ok(m, "spoold_store_inline_commit_allowed in /metrics");
      if (!postgres) assert.match(ctx.srv.output, new RegExp(`--inline-commit ${mode}: a lone write`));
      if (postgres) {
        assert.equal(inline, 0, "no inline commit on PostgreSQL");
        assert.equal(m[1], "0");
      } else if (mode === "on") {
        assert.ok(inline >= LONE / 2, `${inline} inline commits among ${LONE} lone writes (waits: ${waits})`);
        assert.ok(inline + waits >= LONE, `inline ${inline} and waits ${waits} for ${LONE} writes`);
        assert.equal(m[1], "1");
      } else {
        assert.equal(inline, 0, "an inline commit with --inline-commit off");
        assert.ok(waits >= LONE, `write waits ${waits} for ${LONE} writes`);
        assert.equal(m[1], "0");
      }
    });
  });
}
