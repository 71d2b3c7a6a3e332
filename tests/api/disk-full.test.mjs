// SPDX-License-Identifier: Apache-2.0
// A full disk (issue 11, defect 6): the data directory is a small tmpfs this test mounts (it runs
// as root, as CI does; when the mount fails the test FAILS saying why, it never skips), filled
// with a filler file until the filesystem answers ENOSPC. Then:
// - every Graph write that fails for space answers 507 quotaLimitReached with Retry-After (not
//   500 generalException), and nothing of it is stored;
// - /readyz answers 503 while the store cannot write;
// - once the filler is removed, /readyz and writes recover by themselves, without a restart.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { open, rm, mkdtemp, rmdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { rawFetch, closeAgents } from "./lib/clients.mjs";
import { startServer } from "./lib/server.mjs";
import { testStore, psql, freshPgStore } from "./lib/store.mjs";

const run = promisify(execFile);
after(() => closeAgents());

// Writes zeros to file until the filesystem is full (ENOSPC), in shrinking chunks so that the
// last bytes are used too. Returns the bytes written.
async function fill(file) {
  const fh = await open(file, "w");
  let total = 0;
  try {
    for (const size of [1 << 20, 64 << 10, 4 << 10, 512]) {
      const chunk = Buffer.alloc(size);
      for (;;) {
        try {
          await fh.write(chunk);
          total += size;
        } catch (e) {
          if (e.code !== "ENOSPC") throw e;
          break;
        }
      }
    }
    try { await fh.sync(); } catch { /* full */ }
  } finally {
    await fh.close().catch(() => {});
  }
  return total;
}

describe("full disk: 507 for every write that fails for space, /readyz 503, recovery by itself", () => {
  const ctx = {};
  before(async () => {
    ctx.mnt = await mkdtemp(path.join(os.tmpdir(), "spoold-full-"));
    try {
      await run("mount", ["-t", "tmpfs", "-o", "size=12m,mode=0700", "tmpfs", ctx.mnt]);
    } catch (e) {
      ctx.mountError = `cannot mount a tmpfs at ${ctx.mnt} (this test needs root, as in CI): ${e.stderr || e.message}`;
      return;
    }
    ctx.mounted = true;
    ctx.data = path.join(ctx.mnt, "data");
    // SQLite in the data directory whatever SPOOLD_TEST_STORE says: the full disk is this one.
    ctx.srv = await startServer({ dataDir: ctx.data, args: ["--store", `sqlite:${ctx.data}/spoold.db`] });
    ctx.app = await ctx.srv.mintApp({ tenant: "00000000-0000-4000-8000-00000000f011", app: "00000000-0000-4000-8000-0000000000f1", roles: "PrintTaskDefinition.ReadWrite.All" });
  });
  after(async () => {
    if (ctx.srv) await ctx.srv.stop({ keepData: true });
    if (ctx.mounted) await run("umount", [ctx.mnt]);
    if (ctx.mnt) await rmdir(ctx.mnt).catch(() => rm(ctx.mnt, { recursive: true, force: true }));
  });

  const api = (p) => `${ctx.srv.origin}/v1.0${p}`;
  const post = (name) => rawFetch(api("/print/taskDefinitions"), { method: "POST", token: ctx.app, json: { displayName: name } });

  it("writes answer 507 (never 500) while the disk is full and 201 again once space is freed", async () => {
    assert.ok(ctx.mounted, ctx.mountError);
    const first = await post("before the disk filled");
    assert.equal(first.status, 201, first.text);
    assert.equal((await rawFetch(`${ctx.srv.origin}/readyz`)).status, 200);

    const filler = path.join(ctx.mnt, "filler");
    const bytes = await fill(filler);
    assert.ok(bytes > 1 << 20, `filled ${bytes} bytes`);

    // /readyz reports the store unable to write.
    const ready = await rawFetch(`${ctx.srv.origin}/readyz`);
    assert.equal(ready.status, 503, ready.text);
    assert.equal(ready.json.error.code, "serviceNotAvailable");
    assert.match(ready.json.error.message, /no storage space/);

    // Writes: what still fits in the database's preallocated space may succeed (and is then
    // durable), but none may fail with 500, and the disk runs out within a few dozen.
    const created = [first.json.id];
    let refused = null;
    for (let i = 0; i < 300 && !refused; i++) {
      const r = await post(`while full ${i} ${"x".repeat(200)}`);
      if (r.status === 201) { created.push(r.json.id); continue; }
      assert.equal(r.status, 507, `write ${i}: ${r.status} ${r.text}`);
      refused = { r, name: `while full ${i}` };
    }
    assert.ok(refused, "no write failed although the disk is full");
    const { r } = refused;
    assert.equal(r.json.error.code, "quotaLimitReached");
    assert.equal(r.headers.get("retry-after"), "60");
    assert.match(r.json.error.message, /no storage space left/);
    assert.match(r.json.error.innerError["request-id"], /^[0-9a-f-]{36}$/);

    // Another kind of write (an update) is 507 too, and changes nothing.
    const patch = await rawFetch(api(`/print/taskDefinitions/${first.json.id}`), { method: "PATCH", token: ctx.app, json: { displayName: "renamed while full" } });
    assert.equal(patch.status, 507, patch.text);
    assert.match(ctx.srv.output, /a write failed for lack of space/);

    // Nothing of the refused writes was stored; every 201 was.
    const all = [];
    for (let url = api("/print/taskDefinitions"); url;) {
      const page = await rawFetch(url.replace(ctx.srv.url, ctx.srv.origin), { token: ctx.app });
      assert.equal(page.status, 200, page.text);
      all.push(...page.json.value);
      url = page.json["@odata.nextLink"];
    }
    const names = all.map((d) => d.displayName);
    assert.ok(!names.some((n) => n.startsWith(`${refused.name} `)), "the refused definition is absent");
    assert.ok(!names.includes("renamed while full"));
    assert.deepEqual(new Set(all.map((d) => d.id)), new Set(created));

    // Free the space: readiness and writes come back by themselves.
    await rm(filler);
    let back = null;
    for (let i = 0; i < 50 && !back; i++) {
      const rr = await rawFetch(`${ctx.srv.origin}/readyz`);
      if (rr.status === 200) back = rr;
      else await new Promise((res) => setTimeout(res, 100));
    }
    assert.ok(back, "/readyz stays 503 after space was freed");
    const again = await post("after space returned");
    assert.equal(again.status, 201, again.text);
    const renamed = await rawFetch(api(`/print/taskDefinitions/${first.json.id}`), { method: "PATCH", token: ctx.app, json: { displayName: "renamed later" } });
    assert.equal(renamed.status, 200, renamed.text);
    assert.match(ctx.srv.output, /writes succeed again/);
  });
});

// PostgreSQL (SPOOLD_TEST_STORE=postgres, as make check runs this file a second time): the
// store's schema lives in a tablespace on a small tmpfs this test mounts (owned by the server's
// user), filled until ENOSPC, so the server answers SQLSTATE 53100 disk_full for real when a
// table must grow. Writes that fail so answer 507 as on SQLite (DB_FULL), never 500, nothing of
// them is stored, and writes succeed again once space is freed.
if (testStore() === "postgres") {
  describe("full disk on PostgreSQL: 53100 disk_full answers 507 like SQLite's full disk", () => {
    const ctx = {};
    before(async () => {
      ctx.mnt = await mkdtemp(path.join(os.tmpdir(), "spoold-pgfull-"));
      const owner = process.env.PG_USER || "postgres";
      let uid, gid;
      try {
        uid = (await run("id", ["-u", owner])).stdout.trim();
        gid = (await run("id", ["-g", owner])).stdout.trim();
        await run("mount", ["-t", "tmpfs", "-o", `size=12m,mode=0700,uid=${uid},gid=${gid}`, "tmpfs", ctx.mnt]);
      } catch (e) {
        ctx.mountError = `cannot mount a tmpfs at ${ctx.mnt} for ${owner} (this test needs root, as in CI): ${e.stderr || e.message}`;
        return;
      }
      ctx.mounted = true;
      ctx.ts = "ts_" + path.basename(ctx.mnt).replace(/[^A-Za-z0-9]/g, "").toLowerCase();
      await psql(`CREATE TABLESPACE ${ctx.ts} LOCATION '${ctx.mnt}'`);
      // every table and index of the store's schema is created in that tablespace
      const url = (await freshPgStore("pgfull")) + `%20-cdefault_tablespace%3D${ctx.ts}`;
      ctx.schema = /search_path%3D(\w+)/.exec(url)[1];
      ctx.srv = await startServer({ args: ["--store", url] });
      ctx.app = await ctx.srv.mintApp({ tenant: "00000000-0000-4000-8000-00000000f012", app: "00000000-0000-4000-8000-0000000000f2", roles: "PrintTaskDefinition.ReadWrite.All" });
    });
    after(async () => {
      if (ctx.srv) await ctx.srv.stop();
      if (ctx.schema) await psql(`DROP SCHEMA ${ctx.schema} CASCADE`).catch(() => {});
      if (ctx.ts) await psql(`DROP TABLESPACE IF EXISTS ${ctx.ts}`).catch(() => {});
      if (ctx.mounted) await run("umount", [ctx.mnt]);
      if (ctx.mnt) await rmdir(ctx.mnt).catch(() => rm(ctx.mnt, { recursive: true, force: true }));
    });

    const api = (p) => `${ctx.srv.origin}/v1.0${p}`;
    const post = (name) => rawFetch(api("/print/taskDefinitions"), { method: "POST", token: ctx.app, json: { displayName: name } });

    it("writes that fail with disk_full answer 507 (never 500) and 201 again once space is freed", async () => {
      assert.ok(ctx.mounted, ctx.mountError);
      const first = await post("before the disk filled");
      assert.equal(first.status, 201, first.text);
      const filler = path.join(ctx.mnt, "filler");
      const bytes = await fill(filler);
      assert.ok(bytes > 1 << 20, `filled ${bytes} bytes`);

      // What still fits in the tables' last pages succeeds (and is durable); once a table must
      // grow the server says 53100 and the write is refused with 507.
      const created = [first.json.id];
      let refused = null;
      for (let i = 0; i < 3000 && !refused; i++) {
        const r = await post(`while full ${i} ${"x".repeat(200)}`);
        if (r.status === 201) { created.push(r.json.id); continue; }
        assert.equal(r.status, 507, `write ${i}: ${r.status} ${r.text}`);
        refused = { r, name: `while full ${i}` };
      }
      assert.ok(refused, "no write failed although the tablespace is full");
      assert.equal(refused.r.json.error.code, "quotaLimitReached");
      assert.equal(refused.r.headers.get("retry-after"), "60");
      assert.match(refused.r.json.error.message, /no storage space left/);
      assert.match(ctx.srv.output, /no space left: [^]*? \(53100\); in: /);
      assert.match(ctx.srv.output, /a write failed for lack of space/);

      const all = [];
      for (let url = api("/print/taskDefinitions"); url;) {
        const page = await rawFetch(url.replace(ctx.srv.url, ctx.srv.origin), { token: ctx.app });
        assert.equal(page.status, 200, page.text);
        all.push(...page.json.value);
        url = page.json["@odata.nextLink"];
      }
      assert.ok(!all.some((d) => d.displayName.startsWith(`${refused.name} `)), "the refused definition is absent");
      assert.deepEqual(new Set(all.map((d) => d.id)), new Set(created));

      await rm(filler);
      const again = await post("after space returned");
      assert.equal(again.status, 201, again.text);
      assert.match(ctx.srv.output, /writes succeed again/);
    });
  });
}
