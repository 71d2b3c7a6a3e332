// SPDX-License-Identifier: Apache-2.0
// An upgraded store (make check runs this file on SQLite and on PostgreSQL): jobs, a document
// with bytes and a canceled job are written through the API, the store is taken back to schema
// 13 (SQLite: the jobs table rebuilt as version 13 defines it, keyed by an index on id instead
// of the rowid; both: the version row of 14 removed), and the next start runs migration 14
// (docs/operation.md, "Upgrading"): every old job and document is served as before, and new
// jobs take ids above the old ones.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { rawFetch, closeAgents } from "./lib/clients.mjs";
import {
  PRINTER_MANAGEMENT_SCOPES, serverForSuite, registerPrinter, createShare, createJob, uploadDocument,
} from "./lib/fixtures.mjs";
import { testStore, psql, storeUrlFor } from "./lib/store.mjs";

const run = promisify(execFile);
const PG = testStore() === "postgres";
const ADMIN_SCOPES = [...PRINTER_MANAGEMENT_SCOPES, "PrinterShare.ReadWrite.All", "PrintJob.ReadWrite.All"].join(" ");
const USER_SCOPES = "Printer.Read.All PrinterShare.Read.All PrintJob.ReadWrite";

after(() => closeAgents());

// SQL on the data directory's store: sqlite3 on DIR/spoold.db, or psql on its schema.
async function storeSql(dataDir, sql) {
  if (PG) {
    const schema = /search_path%3D(\w+)/.exec(await storeUrlFor(dataDir))[1];
    return (await psql(`SET search_path TO ${schema}; ${sql}`)).trim();
  }
  const { stdout } = await run("sqlite3", [path.join(dataDir, "spoold.db"), sql], { encoding: "utf8" });
  return stdout.trim();
}

// Takes the (stopped) store of dataDir back to schema 13. On SQLite the jobs table is rebuilt
// from its own definition with `id BIGINT PRIMARY KEY` (what migrations 2-13 create: the key is
// a separate unique index, not the rowid) and its indexes made again; on PostgreSQL migration 14
// changed nothing, so only its version row goes.
async function backTo13(dataDir) {
  if (!PG) {
    const table = await storeSql(dataDir, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'jobs'");
    assert.match(table, /\bid INTEGER PRIMARY KEY,/);
    const indexes = (await storeSql(dataDir,
      "SELECT sql || ';' FROM sqlite_master WHERE type = 'index' AND tbl_name = 'jobs' AND sql IS NOT NULL")).split("\n");
    assert.ok(indexes.length >= 7, indexes.join("\n"));
    const old = table.replace(/^CREATE TABLE "?jobs"?/, "CREATE TABLE jobs13").replace("id INTEGER PRIMARY KEY,", "id BIGINT PRIMARY KEY,");
    await storeSql(dataDir, ["PRAGMA foreign_keys=OFF", "BEGIN", old, "INSERT INTO jobs13 SELECT * FROM jobs",
      "DROP TABLE jobs", "ALTER TABLE jobs13 RENAME TO jobs", ...indexes.map((s) => s.replace(/;$/, "")),
      "DELETE FROM schema_migrations WHERE version = 14", "COMMIT"].join(";\n"));
    assert.equal(await storeSql(dataDir, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_autoindex_jobs_1'"), "1",
      "keyed by an index on id, as at schema 13");
    assert.equal(await storeSql(dataDir, "PRAGMA foreign_key_check"), "");
  } else {
    await storeSql(dataDir, "DELETE FROM schema_migrations WHERE version = 14");
  }
  assert.equal(await storeSql(dataDir, "SELECT MAX(version) FROM schema_migrations"), "13");
}

describe("a store upgraded to schema 14 (jobs keyed by the rowid on SQLite)", () => {
  const ctx = serverForSuite({}, {
    tokens: { admin: { scopes: ADMIN_SCOPES, admin: true, upn: "admin@contoso.test" },
      alice: { upn: "alice@contoso.test", scopes: USER_SCOPES } },
  });
  const get = (p, token = ctx.admin) => rawFetch(`${ctx.srv.origin}${p}`, { token, ca: ctx.srv.ca });

  it("serves its old jobs and documents and gives new jobs ids above them", async () => {
    const printer = await registerPrinter(ctx.srv, ctx.admin);
    const share = await createShare(ctx.srv, ctx.admin, printer);
    const jobs = [];
    for (let i = 0; i < 4; i++) jobs.push(await createJob(ctx.srv, ctx.alice, `shares/${share}`, { configuration: { copies: i + 1 } }));
    await uploadDocument(ctx.srv, ctx.alice, `shares/${share}`, jobs[1]);
    const cancel = await rawFetch(`${ctx.srv.origin}/v1.0/print/shares/${share}/jobs/${jobs[2].id}/cancel`,
      { method: "POST", token: ctx.alice, ca: ctx.srv.ca });
    assert.equal(cancel.status, 204, cancel.text);
    const jobPath = (id) => `/v1.0/print/printers/${printer}/jobs/${id}?$expand=documents`;
    // the answer with the server's origin (a new port after the restart) taken out
    const body = (r) => JSON.parse(r.text.replaceAll(ctx.srv.url, "ORIGIN"));
    const before = [];
    for (const j of jobs) {
      const r = await get(jobPath(j.id));
      assert.equal(r.status, 200, r.text);
      before.push(body(r));
    }
    const docBytes = async () => {
      const r = await get(`/v1.0/print/printers/${printer}/jobs/${jobs[1].id}/documents/${before[1].documents[0].id}/$value`);
      return r;
    };
    assert.equal(before[1].documents[0].size > 0, true, "the document has bytes");
    assert.equal(before[2].status.state, "canceled");

    await ctx.srv.stop({ keepData: true });
    await backTo13(ctx.srv.dataDir);
    await ctx.srv.spawn();
    if (!PG) assert.match(ctx.srv.output, /database migration 14: rebuilding table jobs: 4 rows/);
    if (!PG) assert.match(ctx.srv.output, /database migration 14: rebuilt table jobs \(4 rows\) in [0-9.]+ s/);
    assert.match(ctx.srv.output, /database schema migrated to version 14/);
    assert.equal(await storeSql(ctx.srv.dataDir, "SELECT MAX(version) FROM schema_migrations"), "14");
    if (!PG) {
      assert.equal(await storeSql(ctx.srv.dataDir,
        "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('sqlite_autoindex_jobs_1', 'jobs_rowid')"), "0");
      assert.equal(await storeSql(ctx.srv.dataDir, "SELECT COUNT(*) FROM jobs WHERE rowid = id"), "4");
    }

    for (let i = 0; i < jobs.length; i++) {
      const r = await get(jobPath(jobs[i].id));
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(body(r), before[i], `job ${jobs[i].id} as before the upgrade`);
    }
    const bytes = await docBytes();
    assert.ok(bytes.status === 200 || bytes.status === 302, `document $value: ${bytes.status} ${bytes.text}`);
    const list = await get(`/v1.0/print/printers/${printer}/jobs`);
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.json.value.map((j) => j.id).sort(), jobs.map((j) => j.id).sort());

    const maxOld = Math.max(...jobs.map((j) => Number(j.id)));
    const fresh = await createJob(ctx.srv, ctx.alice, `shares/${share}`);
    assert.ok(Number(fresh.id) > maxOld, `new id ${fresh.id} above ${maxOld}`);
    const again = await get(jobPath(fresh.id));
    assert.equal(again.status, 200, again.text);
    assert.equal(again.json.id, fresh.id);
    const next = await createJob(ctx.srv, ctx.alice, `shares/${share}`);
    assert.ok(Number(next.id) > Number(fresh.id), `then ${next.id} above ${fresh.id}`);
  });
});
