// SPDX-License-Identifier: Apache-2.0
// Start-up and storage integrity (issue 11, defect 7), on the store SPOOLD_TEST_STORE names
// (make check runs this file on SQLite and on PostgreSQL):
// - a data directory that cannot be written (a read-only tmpfs this test mounts: it runs as
//   root, as CI does, and root passes a chmod 0555; a mount failure FAILS the test) or that is a
//   file is reported with the real errno text and the path;
// - SQLite: a damaged page of a copy of a database refuses the start (PRAGMA quick_check),
//   naming the file; `spoold check` lists the damage and exits 1, the intact original passes;
// - an empty store next to stored document bytes refuses the start unless --allow-empty-store;
// - `spoold check` verifies every document (bytes present, SHA-256 equal) and names the ids;
// - a document whose bytes are missing answers 500 generalException on every path that serves
//   bytes (Graph $value through Kiota, the download URL, IPP Fetch-Document), logged with the
//   document id and counted in /metrics; bytes that no longer match their SHA-256 answer 500
//   when checked before sending (small documents, ranges) and, for a large document checked
//   while it streams, the connection is aborted before the last byte so no client can take the
//   body as complete.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomUUID, createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, rmdir, cp, open, unlink, writeFile, readdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { startServer, makeTempDir, spooldBin } from "./lib/server.mjs";
import { kiotaClient, kiotaWithStatus, rawFetch, rawHttp, closeAgents } from "./lib/clients.mjs";
import { spooldCli } from "./lib/cli.mjs";
import { registerPrinter, createJob, uploadDocument, PRINTER_MANAGEMENT_SCOPES } from "./lib/fixtures.mjs";
import { ippRequest, attr, OP, STATUS, bearer, val } from "./lib/ipp.mjs";
import { testStore, storeArgsFor, storeUrlFor, psql } from "./lib/store.mjs";

const run = promisify(execFile);
const PG = testStore() === "postgres";
after(() => closeAgents());

const APP = "00000000-0000-4000-8000-0000000000d7";
const ADMIN_SCOPES = [...PRINTER_MANAGEMENT_SCOPES, "PrintJob.ReadWrite.All"].join(" ");
const USER_SCOPES = "PrintJob.ReadWrite Printer.Read.All";

// `spoold serve` that is expected to refuse to start: resolves { code, stdout, stderr }. A
// server that starts instead runs until the timeout, is killed and fails the assertion on code.
function serveExpectingRefusal(dataDir, extra = []) {
  return new Promise((resolve, reject) => {
    execFile(spooldBin(), ["serve", "--listen", "127.0.0.1:0", "--data", dataDir, "--dev", ...extra],
      { timeout: 20_000, encoding: "utf8" }, (err, stdout, stderr) => {
        if (err && typeof err.code !== "number" && !err.killed) { reject(err); return; }
        resolve({ code: err ? (err.killed ? `killed: it started (${stdout})` : err.code) : 0, stdout, stderr });
      });
  });
}

// `spoold check` on a data directory (with its --store in postgres mode).
async function check(dataDir) {
  const r = await spooldCli(["check", "--data", dataDir, ...await storeArgsFor(dataDir)], { timeoutMs: 60_000 });
  return { ...r, out: r.stdout + r.stderr };
}

// The schema of a data directory's PostgreSQL store.
async function pgSchema(dataDir) {
  return /search_path%3D(\w+)/.exec(await storeUrlFor(dataDir))[1];
}

// SQL on the data directory's store: sqlite3 on DIR/spoold.db, or psql on its schema.
async function storeSql(dataDir, sql) {
  if (PG) return (await psql(`SET search_path TO ${await pgSchema(dataDir)}; ${sql}`)).trim();
  const { stdout } = await run("sqlite3", [path.join(dataDir, "spoold.db"), sql], { encoding: "utf8" });
  return stdout.trim();
}

const blobKeyOf = (dataDir, docId) => storeSql(dataDir, `SELECT blob_key FROM documents WHERE id = '${docId}'`);

// Whether a document's bytes are chunk rows of the store (PostgreSQL; small documents on SQLite).
const inRows = async (dataDir, key) => PG || (await storeSql(dataDir, `SELECT COUNT(*) FROM blobs WHERE key = '${key}'`)) === "1";

// Removes a document's bytes behind the server's back (the file, or the blob's rows).
async function loseBytes(dataDir, key) {
  if (await inRows(dataDir, key)) await storeSql(dataDir, `DELETE FROM blobs WHERE key = '${key}'`);
  else await unlink(path.join(dataDir, "blobs", key));
}

// Changes one byte of a document's bytes, at offset 0 (the file, or its first chunk row).
async function damageBytes(dataDir, key) {
  if (PG) {
    await storeSql(dataDir, `UPDATE blob_chunks SET data = set_byte(data, 0, (get_byte(data, 0) + 1) % 256) WHERE key = '${key}' AND idx = 0`);
  } else if (await inRows(dataDir, key)) {
    const b = Buffer.from(await storeSql(dataDir, `SELECT hex(data) FROM blob_chunks WHERE key = '${key}' AND idx = 0`), "hex");
    b[0] = (b[0] + 1) % 256;
    await storeSql(dataDir, `UPDATE blob_chunks SET data = X'${b.toString("hex")}' WHERE key = '${key}' AND idx = 0`);
  } else {
    const fh = await open(path.join(dataDir, "blobs", key), "r+");
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, 0);
    b[0] = (b[0] + 1) % 256;
    await fh.write(b, 0, 1, 0);
    await fh.close();
  }
}

// A world: a server, an admin and a user, a printer with a device token.
async function world(t) {
  const ctx = { tenant: randomUUID() };
  ctx.srv = await startServer({ args: ["--max-jobs-per-printer-window", "0", "--max-jobs-per-user-window", "0"] });
  ctx.admin = await ctx.srv.mintUser({ tenant: ctx.tenant, app: APP, scopes: ADMIN_SCOPES, admin: true, upn: "admin@contoso.test" });
  ctx.user = await ctx.srv.mintUser({ tenant: ctx.tenant, app: APP, scopes: USER_SCOPES, upn: "alice@contoso.test" });
  ctx.printer = await registerPrinter(ctx.srv, ctx.admin, { name: `Integrity ${t}` });
  const r = await spooldCli(["token", "--device", ctx.printer, "--data", ctx.srv.dataDir]);
  assert.equal(r.code, 0, r.stderr);
  ctx.deviceToken = r.stdout.trim();
  return ctx;
}

// A started job of the user with `bytes` uploaded; resolves { id, docId, key, bytes }.
async function storedJob(ctx, bytes) {
  const j = await createJob(ctx.srv, ctx.user, `printers/${ctx.printer}`, { configuration: {} });
  const { documentId } = await uploadDocument(ctx.srv, ctx.user, `printers/${ctx.printer}`, j, bytes);
  const st = await rawFetch(`${ctx.srv.origin}/v1.0/print/printers/${ctx.printer}/jobs/${j.id}/start`, { method: "POST", token: ctx.user });
  assert.equal(st.status, 200, st.text);
  return { id: j.id, docId: documentId, key: await blobKeyOf(ctx.srv.dataDir, documentId), bytes };
}

const kiota = (ctx) => kiotaClient({ origin: ctx.srv.origin, version: "v1.0", token: ctx.user });
const valuePath = (ctx, j) => `/v1.0/print/printers/${ctx.printer}/jobs/${j.id}/documents/${j.docId}/$value`;

// The pre-authorized download URL $value redirects to.
async function downloadUrl(ctx, j) {
  const r = await rawFetch(`${ctx.srv.origin}${valuePath(ctx, j)}`, { token: ctx.user });
  assert.equal(r.status, 302, r.text);
  return r.headers.get("location").replace(ctx.srv.url, ctx.srv.origin);
}

// IPP Fetch-Document of job j by the printer's device (after Acknowledge-Job).
async function ippFetch(ctx, j, more = {}) {
  const url = `${ctx.srv.origin}/ipp/print/${ctx.printer}`;
  const uuid = attr.uri("output-device-uuid", `urn:uuid:${ctx.deviceUuid ||= randomUUID()}`);
  const base = [attr.uri("printer-uri", url.replace(/^http/, "ipp")), attr.integer("job-id", Number(j.id)), uuid];
  const ack = await ippRequest(url, { op: OP.ACKNOWLEDGE_JOB, auth: bearer(ctx.deviceToken), operation: base });
  assert.equal(ack.status, STATUS.OK, `Acknowledge-Job: 0x${ack.status?.toString(16)}`);
  return ippRequest(url, { op: OP.FETCH_DOCUMENT, auth: bearer(ctx.deviceToken), operation: [...base, attr.integer("document-number", 1)], ...more });
}

async function metric(ctx, name) {
  const r = await rawFetch(`${ctx.srv.origin}/metrics`);
  assert.equal(r.status, 200);
  const m = new RegExp(`^${name} (\\d+)$`, "m").exec(r.text);
  assert.ok(m, `${name} in /metrics`);
  return Number(m[1]);
}

function assertGeneralException(r, what) {
  assert.equal(r.status, 500, `${what}: ${r.status} ${r.text}`);
  assert.equal(r.json.error.code, "generalException", what);
  assert.doesNotMatch(r.json.error.message, /blob|sha|\/tmp/i, "no internal details");
}

// ---- start-up ------------------------------------------------------------------------------------

describe("start-up: an unusable data directory is reported with the real errno and path", () => {
  const ctx = {};
  before(async () => {
    ctx.mnt = await mkdtemp(path.join(os.tmpdir(), "spoold-ro-"));
    try {
      await run("mount", ["-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", ctx.mnt]);
      ctx.mounted = true;
    } catch (e) {
      ctx.mountError = `cannot mount a read-only tmpfs at ${ctx.mnt} (this test needs root, as in CI): ${e.stderr || e.message}`;
    }
  });
  after(async () => {
    if (ctx.mounted) await run("umount", [ctx.mnt]);
    await rmdir(ctx.mnt).catch(() => {});
  });

  it("a read-only data directory: 'Read-only file system' and the directory, for serve and migrate", async () => {
    assert.ok(ctx.mounted, ctx.mountError);
    const r = await serveExpectingRefusal(ctx.mnt, await storeArgsFor(ctx.mnt));
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`data directory ${ctx.mnt} is not writable: Read-only file system`));
    assert.doesNotMatch(r.stderr, /No such file or directory/);
    // migrate with the default SQLite store in the directory (never --store: it is the
    // directory's database that cannot be written)
    const m = await run(spooldBin(), ["migrate", "--data", ctx.mnt], { encoding: "utf8" }).then(
      () => ({ code: 0, stderr: "" }), (e) => ({ code: e.code, stderr: e.stderr }));
    assert.equal(m.code, 1, m.stderr);
    assert.match(m.stderr, new RegExp(`data directory ${ctx.mnt} is not writable: Read-only file system`));
  });

  it("a data directory that is a file: 'Not a directory'", async () => {
    const dir = await makeTempDir("spoold-notdir-");
    const file = path.join(dir, "data");
    await writeFile(file, "not a directory\n");
    try {
      const r = await serveExpectingRefusal(file, await storeArgsFor(file));
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`data directory ${file}: Not a directory`));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a SQLite database on a file system remounted read-only: 'Read-only file system', not 'No such file'", async (t) => {
    // the database exists and is intact; only the file system refuses writes
    const mnt = await mkdtemp(path.join(os.tmpdir(), "spoold-remount-"));
    await run("mount", ["-t", "tmpfs", "-o", "size=16m", "tmpfs", mnt]);
    try {
      const data = path.join(mnt, "data");
      await mkdir(data);
      const db = path.join(mnt, "db");
      await mkdir(db);
      const store = ["--store", `sqlite:${db}/spoold.db`];
      const m = await spooldCli(["migrate", "--data", data, ...store]);
      assert.equal(m.code, 0, m.stderr);
      // the database directory alone read-only (a bind mount of it), the data directory writable
      await run("mount", ["--bind", db, db]);
      await run("mount", ["-o", "remount,ro,bind", db]);
      try {
        const r = await serveExpectingRefusal(data, store);
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, new RegExp(`cannot open SQLite database ${db}/spoold.db .*cannot write in directory ${db}: Read-only file system`));
        assert.doesNotMatch(r.stderr, /No such file or directory/);
      } finally {
        await run("umount", [db]);
      }
    } finally {
      await run("umount", [mnt]);
      await rmdir(mnt).catch(() => {});
    }
  });
});

describe("start-up: an empty store next to stored documents refuses to start unless --allow-empty-store", () => {
  it("refuses, naming the option; starts with it", async () => {
    const ctx = await world("empty");
    const data = ctx.srv.dataDir;
    // larger than what SQLite mode keeps inside the database (BLOB_INLINE_MAX, 64 KiB): a file
    const j = await storedJob(ctx, Buffer.concat([Buffer.from("%PDF-1.4\n% kept bytes\n"),
      Buffer.alloc(70 * 1024, 0x20), Buffer.from("\n%%EOF\n")]));
    await ctx.srv.stop({ keepData: true });
    try {
      // the database is lost (SQLite: the file is gone; PostgreSQL: every tenant, so every
      // printer and job, deleted) while the document bytes remain
      if (PG) await storeSql(data, "DELETE FROM tenants");
      else for (const f of await readdir(data)) if (f.startsWith("spoold.db")) await unlink(path.join(data, f));
      const r = await serveExpectingRefusal(data, await storeArgsFor(data));
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /holds no tenant, printer or job, but document bytes are stored/);
      assert.match(r.stderr, new RegExp(j.key));
      assert.match(r.stderr, /--allow-empty-store/);
      // told to, it starts
      const srv = await startServer({ dataDir: data, args: ["--allow-empty-store"] });
      await srv.stop({ keepData: true });
    } finally {
      await rm(data, { recursive: true, force: true });
    }
  });

  it("a fresh install (no documents) starts without the option", async () => {
    const srv = await startServer();
    await srv.stop();
  });
});

if (!PG) {
  describe("start-up: a damaged SQLite page refuses the start; spoold check lists it", () => {
    it("a copy with one damaged page: serve refuses naming the file, check exits 1; the original passes", async () => {
      const ctx = await world("pages");
      await storedJob(ctx, Buffer.from("%PDF-1.4\n% page check\n%%EOF\n"));
      const data = ctx.srv.dataDir;
      await ctx.srv.stop({ keepData: true });
      const copy = await makeTempDir("spoold-damaged-");
      try {
        await cp(data, copy, { recursive: true });
        const db = path.join(copy, "spoold.db");
        const { stdout } = await run("sqlite3", [db, "PRAGMA page_size; SELECT rootpage FROM sqlite_master WHERE name = 'jobs'"], { encoding: "utf8" });
        const [pageSize, root] = stdout.trim().split("\n").map(Number);
        assert.ok(pageSize > 0 && root > 1, stdout);
        const fh = await open(db, "r+");
        await fh.write(Buffer.alloc(16, 0xff), 0, 16, (root - 1) * pageSize);  // the page header
        await fh.close();

        const r = await serveExpectingRefusal(copy);
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, new RegExp(`the database sqlite:${db} is damaged: PRAGMA quick_check found \\d+ problem`));
        assert.match(r.stderr, new RegExp(`Page ${root}`));

        const c = await check(copy);
        assert.equal(c.code, 1, c.out);
        assert.match(c.stdout, new RegExp(`^database: .*Page ${root}`, "m"));
        assert.match(c.stdout, /problem\(s\)/);

        const ok = await check(data);
        assert.equal(ok.code, 0, ok.out);
        assert.match(ok.stdout, /1 document\(s\): 0 problem\(s\)/);
      } finally {
        await rm(copy, { recursive: true, force: true });
        await rm(data, { recursive: true, force: true });
      }
    });
  });
}

describe("spoold check: every document's bytes present and equal to their SHA-256", () => {
  it("exit 0 on an intact store; one line per missing or damaged document with its ids, exit 1", async () => {
    const ctx = await world("check");
    const a = await storedJob(ctx, Buffer.from("%PDF-1.4\n% document a\n%%EOF\n"));
    const b = await storedJob(ctx, Buffer.from("%PDF-1.4\n% document b\n%%EOF\n"));
    const c = await storedJob(ctx, Buffer.from("%PDF-1.4\n% document c\n%%EOF\n"));
    const data = ctx.srv.dataDir;
    await ctx.srv.stop({ keepData: true });
    try {
      let r = await check(data);
      assert.equal(r.code, 0, r.out);
      assert.match(r.stdout, /3 document\(s\): 0 problem\(s\)/);
      assert.doesNotMatch(r.stdout, /^document /m);

      await loseBytes(data, a.key);
      await damageBytes(data, b.key);
      r = await check(data);
      assert.equal(r.code, 1, r.out);
      assert.match(r.stdout, new RegExp(`^document ${a.docId} \\(job ${a.id}, tenant ${ctx.tenant}\\): bytes missing \\(blob ${a.key} not found\\)$`, "m"));
      const sha = createHash("sha256").update(b.bytes).digest("hex");
      assert.match(r.stdout, new RegExp(`^document ${b.docId} \\(job ${b.id}, tenant ${ctx.tenant}\\): SHA-256 mismatch \\(blob ${b.key}: recorded ${sha}, found [0-9a-f]{64}\\)$`, "m"));
      assert.doesNotMatch(r.stdout, new RegExp(c.docId), "the intact document is not reported");
      assert.match(r.stdout, /3 document\(s\): 2 problem\(s\)/);
    } finally {
      await rm(data, { recursive: true, force: true });
    }
  });

  it("is listed in spoold --help", async () => {
    const r = await spooldCli(["--help"]);
    assert.match(r.stdout, /^ {2}check {3,}/m);
  });
});

// ---- serving ------------------------------------------------------------------------------------

describe("serving a document whose bytes are missing or damaged", () => {
  let ctx;
  before(async () => { ctx = await world("serve"); });
  after(async () => { if (ctx?.srv) await ctx.srv.stop(); });

  it("missing bytes: 500 generalException on $value (Kiota), the download URL and a Range; IPP server-error-internal; logged and counted", async () => {
    const j = await storedJob(ctx, Buffer.from("%PDF-1.4\n% to be lost\n%%EOF\n"));
    const url = await downloadUrl(ctx, j);
    const before = await metric(ctx, "spoold_documents_missing_total");
    await loseBytes(ctx.srv.dataDir, j.key);

    const k = await kiotaWithStatus((cfg) => kiota(ctx).print.printers.byPrinterId(ctx.printer).jobs.byPrintJobId(j.id)
      .documents.byPrintDocumentId(j.docId).content.get(cfg));
    assert.equal(k.status, 500, `Kiota content.get(): ${k.status} ${k.text}`);
    assertGeneralException(await rawFetch(url), "download URL");
    assertGeneralException(await rawFetch(url, { headers: { range: "bytes=0-3" } }), "download URL with Range");
    const f = await ippFetch(ctx, j);
    assert.equal(f.status, 0x0500, `Fetch-Document: 0x${f.status?.toString(16)} ${val(f.op, "status-message")}`);
    assert.ok(!f.data || f.data.length === 0, "no document bytes after the IPP response");

    assert.match(ctx.srv.output, new RegExp(`document ${j.docId}: its bytes are missing \\(blob ${j.key}`));
    assert.ok(await metric(ctx, "spoold_documents_missing_total") >= before + 4, "each refusal is counted");
  });

  it("damaged bytes of a small document: 500 generalException (checked before sending), IPP server-error-internal; logged and counted", async () => {
    const j = await storedJob(ctx, Buffer.from("%PDF-1.4\n% to be damaged\n%%EOF\n"));
    const url = await downloadUrl(ctx, j);
    const good = await rawFetch(url);
    assert.equal(good.status, 200);
    assert.ok(good.body.equals(j.bytes));
    const before = await metric(ctx, "spoold_documents_corrupt_total");
    await damageBytes(ctx.srv.dataDir, j.key);

    assertGeneralException(await rawFetch(url), "download URL");
    assertGeneralException(await rawFetch(url, { headers: { range: "bytes=4-7" } }), "download URL with Range (the untouched bytes)");
    const k = await kiotaWithStatus((cfg) => kiota(ctx).print.printers.byPrinterId(ctx.printer).jobs.byPrintJobId(j.id)
      .documents.byPrintDocumentId(j.docId).content.get(cfg));
    assert.equal(k.status, 500, `Kiota content.get(): ${k.status}`);
    const f = await ippFetch(ctx, j);
    assert.equal(f.status, 0x0500, `Fetch-Document: 0x${f.status?.toString(16)}`);

    assert.match(ctx.srv.output, new RegExp(`document ${j.docId}: its bytes \\(blob ${j.key}\\) no longer match their SHA-256 .*not served`));
    assert.ok(await metric(ctx, "spoold_documents_corrupt_total") >= before + 4);
  });

  it("damaged bytes of a large document (checked while streaming): the connection is aborted before the last byte; logged and counted", async () => {
    const bytes = randomBytes(6 << 20);  // above the 4 MiB checked before sending
    const j = await storedJob(ctx, bytes);
    const url = await downloadUrl(ctx, j);
    const good = await rawHttp(url, { timeoutMs: 60_000 });
    assert.equal(good.status, 200);
    assert.ok(good.body.equals(bytes), "an intact large document streams whole");
    const before = await metric(ctx, "spoold_documents_corrupt_total");
    await damageBytes(ctx.srv.dataDir, j.key);

    // the status line and headers went out before the damage could be seen; the body must
    // not arrive complete: the request fails (connection closed short of Content-Length)
    const err = await rawHttp(url, { timeoutMs: 60_000 }).then((r) => ({ completed: r }), (e) => ({ e }));
    assert.ok(!err.completed, `a damaged body was delivered as complete (${err.completed?.body?.length} bytes)`);
    assert.match(String(err.e?.code || err.e?.message), /ECONNRESET|aborted|socket hang up|premature/i, String(err.e));

    const f = await ippFetch(ctx, j, {}).then((r) => ({ completed: r }), (e) => ({ e }));
    assert.ok(!f.completed || !(f.completed.data?.length === bytes.length),
      "Fetch-Document delivered the damaged document whole");

    assert.match(ctx.srv.output, new RegExp(`document ${j.docId}: its bytes \\(blob ${j.key}\\) no longer match their SHA-256 .*aborted before its last bytes`));
    assert.ok(await metric(ctx, "spoold_documents_corrupt_total") >= before + 2);
  });
});
