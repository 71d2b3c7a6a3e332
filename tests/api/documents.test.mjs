// SPDX-License-Identifier: Apache-2.0
// Documents and upload sessions (reference §2.7, §4.4 D1-D4) through the real Graph clients:
// the documents of a job (Kiota, both versions), createUploadSession (Kiota and the v3 client),
// uploads in shuffled parallel fragments with raw PUTs, the v3 client's LargeFileUploadTask over
// https, Kiota's LargeFileUploadTask, every refusal of a fragment (416 overlap, 400 Content-Range,
// 413 over 10 MiB before the body is read, 404 wrong token or canceled session, 429 upload volume),
// resume (GET) and cancel (DELETE) of the upload URL, the contentType rule with the OXPS->PDF
// exception, the download through $value (302 to a pre-authorized URL, sendfile, Range, 416,
// downloadedDateTime), session expiry with the sweeper, and a 64 MiB upload whose peak RSS stays
// far below the document size. Printers are registered through POST /print/printers/create and
// jobs created through POST .../jobs. Every describe block runs its own spoold (https) and stops
// it by PID.
import { blobKeys, testStore } from "./lib/store.mjs";
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID, randomBytes, createHash } from "node:crypto";
import { readFile, readdir } from "node:fs/promises";
import https from "node:https";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  kiotaClient, v3Client, rawFetch, models, graphV3, agentFor, GUID, closeAgents,
} from "./lib/clients.mjs";
import { assertErrorEnvelope, expectKiotaError } from "./lib/graph-assert.mjs";
import {
  PRINTER_MANAGEMENT_SCOPES, serverForSuite, registerPrinter, createShare, createJob, uploadDocument,
} from "./lib/fixtures.mjs";
import { GraphBetaRequestAdapter } from "@microsoft/msgraph-beta-sdk";
import { version as betaSdkVersion } from "@microsoft/msgraph-beta-sdk/version.js";
import { createGraphClientFactory, LargeFileUploadTask as KiotaUploadTask } from "@microsoft/msgraph-sdk-core";
import { AllowedHostsValidator, BaseBearerTokenAuthenticationProvider } from "@microsoft/kiota-abstractions";

const MiB = 1024 * 1024;

// A Printer Administrator who registers printers, changes print settings and works with jobs.
const ADMIN_SCOPES = [
  ...PRINTER_MANAGEMENT_SCOPES, "PrintJob.ReadWrite.All", "PrintSettings.Read.All", "PrintSettings.ReadWrite.All",
].join(" ");

after(() => closeAgents());

const sha256 = (buf) => createHash("sha256").update(buf).digest("hex");
const runFile = promisify(execFile);

// Starts an https server for the enclosing describe block, mints tokens, registers a printer.
function withServer(opts = {}) {
  return serverForSuite({ tls: true, ...opts }, {
    tokens: {
      admin: { scopes: ADMIN_SCOPES, admin: true },
      // the application that registered the printers (same appid as the admin's client)
      app: { roles: "Printer.ReadWrite.All Printer.Read.All" },
    },
    setup: async (ctx) => { ctx.printer = await registerPrinter(ctx.srv, ctx.admin, { name: "Documents" }); },
  });
}

const kiota = (ctx, version = "v1.0", token = ctx.admin) =>
  kiotaClient({ origin: ctx.srv.origin, version, token, ca: ctx.srv.ca });
const raw = (ctx, p, opts = {}) => rawFetch(`${ctx.srv.origin}${p}`, { token: ctx.admin, ca: ctx.srv.ca, ...opts });
const jobPath = (printer, job, version = "v1.0") => `/${version}/print/printers/${printer}/jobs/${job}`;

// A new job on the printer (POST .../jobs) and the id of its document (GET .../documents).
async function newJob(ctx, printer = ctx.printer) {
  const job = (await createJob(ctx.srv, ctx.admin, `printers/${printer}`, { configuration: {} })).id;
  const docs = await kiota(ctx).print.printers.byPrinterId(printer).jobs.byPrintJobId(job).documents.get();
  assert.equal(docs.value.length, 1, "a new job has one document");
  return { printer, job, doc: docs.value[0].id, path: jobPath(printer, job) };
}

// createUploadSession with the Kiota client; returns the uploadSession model.
function createSession(ctx, j, { name = "report.pdf", type = "application/pdf", size }) {
  return kiota(ctx).print.printers.byPrinterId(j.printer).jobs.byPrintJobId(j.job).documents
    .byPrintDocumentId(j.doc).createUploadSession.post({ properties: { documentName: name, contentType: type, size } });
}

// PUT of bytes [first, first + body.length - 1] of a document of total bytes.
function put(ctx, url, body, first, total, headers = {}) {
  const last = first + body.length - 1;
  return rawFetch(url, {
    method: "PUT", body, ca: ctx.srv.ca, timeoutMs: 60_000,
    headers: { "content-range": `bytes ${first}-${last}/${total}`, "content-type": "application/octet-stream", ...headers },
  });
}

// Fragments [start, end) of size `step` covering `size` bytes.
function fragments(size, step) {
  const out = [];
  for (let a = 0; a < size; a += step) out.push([a, Math.min(size, a + step)]);
  return out;
}

function shuffle(a) {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

// Runs the async functions with at most `n` at once; resolves their results in order.
async function pool(tasks, n) {
  const results = new Array(tasks.length);
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  }));
  return results;
}

// Follows $value's 302 (without a bearer token on the second request). Returns both responses.
async function download(ctx, j, headers = {}) {
  const redirect = await raw(ctx, `${j.path}/documents/${j.doc}/$value`);
  assert.equal(redirect.status, 302, redirect.text);
  const location = redirect.headers.get("location");
  const res = await rawFetch(location, { ca: ctx.srv.ca, headers, timeoutMs: 60_000 });
  return { redirect, location, res };
}

// Checks a 202 answer: the missing ranges are sorted, disjoint, inside the document and leave
// out the fragment just accepted.
function check202(r, size, first, last) {
  assert.equal(r.status, 202, r.text);
  assert.match(r.contentType, /^application\/json\b/i);
  assert.ok(!Number.isNaN(Date.parse(r.json.expirationDateTime)), r.text);
  const ranges = r.json.nextExpectedRanges;
  assert.ok(Array.isArray(ranges) && ranges.length > 0, r.text);
  let prev = -2;
  for (const s of ranges) {
    const m = /^(\d+)-(\d+)$/.exec(s);
    assert.ok(m, `explicit range "${s}"`);
    const a = Number(m[1]), b = Number(m[2]);
    assert.ok(a <= b && b < size && a > prev + 1, `ranges ${JSON.stringify(ranges)} of ${size}`);
    assert.ok(b < first || a > last, `the accepted fragment ${first}-${last} is not listed as missing`);
    prev = b;
  }
}

// The stored blobs: chunk rows (PostgreSQL; small documents on SQLite too) and files (SQLite).
async function blobFiles(ctx) {
  const rows = await blobKeys(ctx.srv.dataDir);
  if (testStore() === "postgres") return rows;
  try {
    return [...rows, ...await readdir(path.join(ctx.srv.dataDir, "blobs"))];
  } catch {
    return rows;
  }
}

// -----------------------------------------------------------------------------------------------

describe("documents of a job, createUploadSession", () => {
  const ctx = withServer();

  it("a new job's document is empty (Kiota list and get, v1.0 and beta contexts)", async () => {
    const j = await newJob(ctx);
    for (const version of ["v1.0", "beta"]) {
      const list = await raw(ctx, `/${version}/print/printers/${j.printer}/jobs/${j.job}/documents`);
      assert.equal(list.status, 200, list.text);
      assert.equal(list.json["@odata.context"],
        `${ctx.srv.url}/${version}/$metadata#print/printers('${j.printer}')/jobs('${j.job}')/documents`);
      const doc = await kiota(ctx, version).print.printers.byPrinterId(j.printer).jobs.byPrintJobId(j.job)
        .documents.byPrintDocumentId(j.doc).get();
      assert.match(doc.id, GUID);
      assert.equal(doc.displayName, "");
      assert.equal(doc.contentType, "");
      assert.equal(doc.size, 0);
      assert.equal(doc.uploadedDateTime ?? null, null);
      assert.equal(doc.downloadedDateTime ?? null, null);
      assert.equal(doc.additionalData["@odata.context"],
        `${ctx.srv.url}/${version}/$metadata#print/printers('${j.printer}')/jobs('${j.job}')/documents/$entity`);
    }
    const sel = await raw(ctx, `${j.path}/documents/${j.doc}?$select=size`);
    assert.equal(sel.status, 200, sel.text);
    assert.deepEqual(Object.keys(sel.json).sort(), ["@odata.context", "id", "size"]);
    const bad = await raw(ctx, `${j.path}/documents/${j.doc}?$select=nope`);
    assertErrorEnvelope(bad, { status: 400, code: "invalidRequest" });
    const missing = await raw(ctx, `${j.path}/documents/${randomUUID()}`);
    assertErrorEnvelope(missing, { status: 404, code: "itemNotFound" });
  });

  it("createUploadSession (Kiota): uploadSession with explicit ranges; the document takes the declared values", async () => {
    const j = await newJob(ctx);
    const s = await createSession(ctx, j, { name: "Quarterly report.pdf", size: 4533322 });
    assert.deepEqual(s.nextExpectedRanges, ["0-4533321"]);
    assert.ok(s.expirationDateTime instanceof Date && s.expirationDateTime > new Date(), String(s.expirationDateTime));
    const u = new URL(s.uploadUrl);
    assert.equal(`${u.protocol}//${u.host}`, ctx.srv.url, "the upload URL is on our own server");
    assert.match(u.pathname, /^\/upload\/[0-9a-f-]{36}$/);
    assert.match(u.searchParams.get("token") || "", /^[A-Za-z0-9_-]{40,}$/);
    assert.equal(s.additionalData["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#microsoft.graph.uploadSession`);
    const doc = await raw(ctx, `${j.path}/documents/${j.doc}`);
    assert.equal(doc.json.displayName, "Quarterly report.pdf");
    assert.equal(doc.json.contentType, "application/pdf");
    assert.equal(doc.json.size, 4533322);
    assert.equal(doc.json.uploadedDateTime, null);
    // lower-case action name (the JS sample) and the namespaced form reach the same operation
    for (const action of ["createuploadsession", "microsoft.graph.createUploadSession"]) {
      const r = await raw(ctx, `${j.path}/documents/${j.doc}/${action}`, {
        method: "POST", json: { properties: { documentName: "x.pdf", contentType: "application/pdf", size: 10 } },
      });
      assert.equal(r.status, 200, `${action}: ${r.text}`);
      assert.deepEqual(r.json.nextExpectedRanges, ["0-9"]);
    }
  });

  it("createUploadSession (v3 client over https)", async () => {
    const j = await newJob(ctx);
    const client = v3Client({ origin: ctx.srv.origin, version: "beta", token: ctx.admin, ca: ctx.srv.ca });
    const s = await client.api(`/print/printers/${j.printer}/jobs/${j.job}/documents/${j.doc}/createUploadSession`)
      .post({ properties: { documentName: "v3.pdf", contentType: "application/pdf", size: 1 } });
    assert.deepEqual(s.nextExpectedRanges, ["0-0"]);
    assert.equal(s["@odata.context"], `${ctx.srv.url}/beta/$metadata#microsoft.graph.uploadSession`);
    assert.ok(s.uploadUrl.startsWith(`${ctx.srv.url}/upload/`));
  });

  it("refuses bad properties: missing members 400, size 0 400, size over --max-document-size 413", async () => {
    const j = await newJob(ctx);
    const post = (body) => raw(ctx, `${j.path}/documents/${j.doc}/createUploadSession`, { method: "POST", json: body });
    let e = assertErrorEnvelope(await post({}), { status: 400, code: "invalidRequest" });
    assert.match(e.message, /properties/);
    e = assertErrorEnvelope(await post({ properties: { documentName: "a", contentType: "application/pdf" } }), { status: 400, code: "invalidRequest" });
    assert.match(e.message, /properties\/size/);
    e = assertErrorEnvelope(await post({ properties: { documentName: "a", contentType: "application/pdf", size: 0 } }), { status: 400, code: "invalidRequest" });
    assert.match(e.message, /at least 1 byte/);
    e = assertErrorEnvelope(await post({ properties: { documentName: "a", contentType: "application/pdf", size: "5" } }), { status: 400, code: "invalidRequest" });
    e = assertErrorEnvelope(await post({ properties: { documentName: "a", contentType: "application/pdf", size: 2 * 1024 * MiB } }), { status: 413 });
    assert.equal(e.innerError.code, "maxFileSizeExceeded");
    e = assertErrorEnvelope(await post({ properties: { documentName: "a", contentType: "application/pdf", size: 5, extra: 1 } }), { status: 400, code: "invalidRequest" });
  });

  it("contentType must be one of the printer's capabilities.contentTypes (400 names them); OXPS -> PDF when conversion is on", async () => {
    const pdfOnly = await registerPrinter(ctx.srv, ctx.admin, { name: "PDF only" });
    const patch = await raw(ctx, `/v1.0/print/printers/${pdfOnly}`, {
      method: "PATCH", token: ctx.app, json: { capabilities: { contentTypes: ["application/pdf", "image/pwg-raster"] } },
    });
    assert.ok(patch.status === 200 || patch.status === 204, `PATCH printer: ${patch.status} ${patch.text}`);
    const j = await newJob(ctx, pdfOnly);
    const post = (type) => raw(ctx, `${j.path}/documents/${j.doc}/createUploadSession`, {
      method: "POST", json: { properties: { documentName: "a", contentType: type, size: 100 } },
    });
    const e = assertErrorEnvelope(await post("image/jpeg"), { status: 400, code: "invalidRequest" });
    assert.match(e.message, /image\/jpeg/);
    assert.match(e.message, /application\/pdf, image\/pwg-raster/);
    assert.equal((await post("image/pwg-raster")).status, 200);
    assert.equal((await post("application/pdf")).status, 200);
    // documentConversionEnabled defaults to true: OXPS is accepted for a PDF printer
    assert.equal((await post("application/oxps")).status, 200);
    const off = await raw(ctx, "/v1.0/print", { method: "PATCH", json: { settings: { documentConversionEnabled: false } } });
    assert.equal(off.status, 204, off.text);
    try {
      const r = assertErrorEnvelope(await post("application/oxps"), { status: 400, code: "invalidRequest" });
      assert.match(r.message, /documentConversionEnabled/);
    } finally {
      await raw(ctx, "/v1.0/print", { method: "PATCH", json: { settings: { documentConversionEnabled: true } } });
    }
    // a printer without contentTypes takes PDF and OXPS
    const j2 = await newJob(ctx);
    const r2 = await raw(ctx, `${j2.path}/documents/${j2.doc}/createUploadSession`, {
      method: "POST", json: { properties: { documentName: "a", contentType: "text/plain", size: 1 } },
    });
    const e2 = assertErrorEnvelope(r2, { status: 400, code: "invalidRequest" });
    assert.match(e2.message, /application\/pdf, application\/oxps/);
  });

  it("Kiota reports a refused createUploadSession as an ODataError", async () => {
    const j = await newJob(ctx);
    await expectKiotaError(createSession(ctx, j, { type: "video/mp4", size: 10 }), { status: 400, code: "invalidRequest" });
  });
});

// -----------------------------------------------------------------------------------------------

describe("uploading fragments", () => {
  const ctx = withServer();

  it("shuffled fragments, 4 at once (raw PUTs): 202s with the gaps, one 201 printDocument, bytes and SHA-256 round-trip", async () => {
    const j = await newJob(ctx);
    const size = 5 * MiB + 12345;
    const data = randomBytes(size);
    const s = await createSession(ctx, j, { name: "parallel.pdf", size });
    const frags = shuffle(fragments(size, 320 * 1024));
    const results = await pool(frags.map(([a, b]) => async () => ({ a, b, r: await put(ctx, s.uploadUrl, data.subarray(a, b), a, size) })), 4);
    const created = results.filter((x) => x.r.status === 201);
    assert.equal(created.length, 1, `exactly one 201: ${results.map((x) => x.r.status).join(",")}`);
    for (const { a, b, r } of results) if (r.status !== 201) check202(r, size, a, b - 1);
    const doc = created[0].r.json;
    assert.equal(doc.id, j.doc);
    assert.equal(doc.displayName, "parallel.pdf");
    assert.equal(doc.contentType, "application/pdf");
    assert.equal(doc.size, size);
    assert.ok(!Number.isNaN(Date.parse(doc.uploadedDateTime)), JSON.stringify(doc));

    // the session is gone; the job is still paused, without uploadPending
    const gone = await rawFetch(s.uploadUrl, { ca: ctx.srv.ca });
    assert.equal(assertErrorEnvelope(gone, { status: 404, code: "itemNotFound" }).innerError.code, "uploadSessionNotFound");
    const job = await raw(ctx, j.path);
    assert.equal(job.json.status.state, "paused");
    assert.ok(!job.json.status.details.includes("uploadPending"), JSON.stringify(job.json.status));
    const expanded = await raw(ctx, `${j.path}?$expand=documents`);
    assert.equal(expanded.json.documents[0].size, size);

    const { res } = await download(ctx, j);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/pdf");
    assert.equal(res.body.length, size);
    assert.equal(sha256(res.body), sha256(data), "downloaded bytes have the uploaded SHA-256");
    assert.equal(res.headers.get("etag"), `"${sha256(data)}"`, "the stored SHA-256 is the document's");
  });

  it("out of order one at a time: every gap is listed; GET on the upload URL resumes", async () => {
    const j = await newJob(ctx);
    const size = 1000;
    const data = randomBytes(size);
    const s = await createSession(ctx, j, { size });
    let r = await put(ctx, s.uploadUrl, data.subarray(300, 400), 300, size);
    assert.equal(r.status, 202, r.text);
    assert.deepEqual(r.json.nextExpectedRanges, ["0-299", "400-999"]);
    r = await put(ctx, s.uploadUrl, data.subarray(999, 1000), 999, size);
    assert.deepEqual(r.json.nextExpectedRanges, ["0-299", "400-998"]);
    r = await put(ctx, s.uploadUrl, data.subarray(0, 1), 0, size);
    assert.deepEqual(r.json.nextExpectedRanges, ["1-299", "400-998"]);
    const resume = await rawFetch(s.uploadUrl, { ca: ctx.srv.ca });
    assert.equal(resume.status, 200, resume.text);
    assert.deepEqual(resume.json.nextExpectedRanges, ["1-299", "400-998"]);
    assert.ok(!Number.isNaN(Date.parse(resume.json.expirationDateTime)));
    // the documentation's "bytes=" form is accepted too
    r = await put(ctx, s.uploadUrl, data.subarray(1, 300), 1, size, { "content-range": `bytes=1-299/${size}` });
    assert.deepEqual(r.json.nextExpectedRanges, ["400-998"]);
    r = await put(ctx, s.uploadUrl, data.subarray(400, 999), 400, size);
    assert.equal(r.status, 201, r.text);
    const { res } = await download(ctx, j);
    assert.ok(res.body.equals(data));
  });

  it("a single-byte document completes with its only fragment", async () => {
    const j = await newJob(ctx);
    const s = await createSession(ctx, j, { size: 1 });
    const r = await put(ctx, s.uploadUrl, Buffer.from("x"), 0, 1);
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.size, 1);
    const { res } = await download(ctx, j);
    assert.equal(res.body.toString(), "x");
  });

  it("416 fragmentOverlap for any overlap with received bytes; the session is unharmed", async () => {
    const j = await newJob(ctx);
    const size = 100;
    const data = randomBytes(size);
    const s = await createSession(ctx, j, { size });
    assert.equal((await put(ctx, s.uploadUrl, data.subarray(10, 20), 10, size)).status, 202);
    for (const [a, b] of [[10, 20], [0, 11], [19, 30], [12, 15], [0, 100]]) {
      const r = await put(ctx, s.uploadUrl, randomBytes(b - a), a, size);
      const e = assertErrorEnvelope(r, { status: 416, code: "invalidRange" });
      assert.equal(e.innerError.code, "fragmentOverlap", `${a}-${b - 1}`);
    }
    // adjacent on both sides is fine
    assert.equal((await put(ctx, s.uploadUrl, data.subarray(9, 10), 9, size)).status, 202);
    assert.equal((await put(ctx, s.uploadUrl, data.subarray(20, 21), 20, size)).status, 202);
    const rest = await put(ctx, s.uploadUrl, data.subarray(21, 100), 21, size);
    assert.equal(rest.status, 202);
    assert.deepEqual(rest.json.nextExpectedRanges, ["0-8"]);
    assert.equal((await put(ctx, s.uploadUrl, data.subarray(0, 9), 0, size)).status, 201);
    const { res } = await download(ctx, j);
    assert.ok(res.body.equals(data), "refused overlapping fragments never changed accepted bytes");
  });

  it("400 invalidRequest for a bad Content-Range, a wrong total, a range past the end, a length mismatch", async () => {
    const j = await newJob(ctx);
    const s = await createSession(ctx, j, { size: 100 });
    const body = Buffer.alloc(10, 1);
    const cases = [
      [undefined, /Content-Range header/],
      ["bytes 0-9", /bytes \{first\}-\{last\}\/\{total\}/],
      ["bytes */100", /bytes \{first\}-\{last\}\/\{total\}/],
      ["items 0-9/100", /bytes \{first\}-\{last\}\/\{total\}/],
      ["bytes 9-0/100", /before its first/],
      ["bytes 0-9/200", /total is 200 bytes.*100 bytes/],
      ["bytes 95-104/100", /not below the total/],
      ["bytes 0-19/100", /Content-Length is 10 bytes.*covers 20 bytes/],
    ];
    for (const [cr, msg] of cases) {
      const headers = { "content-range": cr };
      if (cr === undefined) delete headers["content-range"];
      const r = await rawFetch(s.uploadUrl, { method: "PUT", body, ca: ctx.srv.ca, headers });
      const e = assertErrorEnvelope(r, { status: 400, code: "invalidRequest" });
      assert.match(e.message, msg, `${cr}: ${e.message}`);
    }
    const mismatch = await rawFetch(s.uploadUrl, { method: "PUT", body, ca: ctx.srv.ca, headers: { "content-range": "bytes 0-19/100" } });
    assert.equal(mismatch.json.error.innerError.code, "fragmentLengthMismatch");
    const after = await rawFetch(s.uploadUrl, { ca: ctx.srv.ca });
    assert.deepEqual(after.json.nextExpectedRanges, ["0-99"], "refused fragments recorded nothing");
  });

  it("413 maxFragmentLengthExceeded for a fragment over 10 MiB, answered before the body is sent", async () => {
    const j = await newJob(ctx);
    const size = 30 * MiB;
    const s = await createSession(ctx, j, { size });
    const body = Buffer.alloc(10 * MiB + 1);
    const u = new URL(s.uploadUrl);
    // Expect: 100-continue: the body goes out only if the server asks for it
    const r = await new Promise((resolve, reject) => {
      let sent = false;
      const req = https.request({
        hostname: u.hostname, port: u.port, path: u.pathname + u.search, method: "PUT", ca: ctx.srv.ca, agent: false,
        headers: { "content-length": body.length, "content-range": `bytes 0-${body.length - 1}/${size}`, expect: "100-continue" },
      }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d) => { text += d; });
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, text, sent }));
      });
      req.on("continue", () => { sent = true; req.end(body); });
      req.on("error", reject);
      req.flushHeaders();
    });
    assert.equal(r.status, 413, r.text);
    assert.equal(r.sent, false, "the server answered without asking for the body");
    const e = JSON.parse(r.text).error;
    assert.equal(e.code, "invalidRequest");
    assert.equal(e.innerError.code, "maxFragmentLengthExceeded");
    // exactly 10 MiB is allowed
    const ok = await put(ctx, s.uploadUrl, Buffer.alloc(10 * MiB, 7), 0, size);
    assert.equal(ok.status, 202, ok.text);
    assert.deepEqual(ok.json.nextExpectedRanges, [`${10 * MiB}-${size - 1}`]);
  });

  it("404 uploadSessionNotFound for a wrong token or an unknown session; a bearer token is ignored", async () => {
    const j = await newJob(ctx);
    const s = await createSession(ctx, j, { size: 20 });
    const u = new URL(s.uploadUrl);
    const wrong = new URL(s.uploadUrl);
    wrong.searchParams.set("token", "A".repeat(43));
    const noToken = `${u.origin}${u.pathname}`;
    const unknown = `${u.origin}/upload/${randomUUID()}${u.search}`;
    for (const url of [wrong.href, noToken, unknown]) {
      for (const method of ["PUT", "GET", "DELETE"]) {
        const r = await rawFetch(url, {
          method, ca: ctx.srv.ca, body: method === "PUT" ? Buffer.alloc(10) : undefined,
          headers: method === "PUT" ? { "content-range": "bytes 0-9/20" } : {},
        });
        const e = assertErrorEnvelope(r, { status: 404, code: "itemNotFound" });
        assert.equal(e.innerError.code, "uploadSessionNotFound", `${method} ${url}`);
      }
    }
    // the upload URL carries its own credential: an Authorization header (even a bad one) is ignored
    const r = await put(ctx, s.uploadUrl, Buffer.alloc(10, 1), 0, 20, { authorization: "Bearer not-a-token" });
    assert.equal(r.status, 202, r.text);
    const done = await put(ctx, s.uploadUrl, Buffer.alloc(10, 2), 10, 20, { authorization: `Bearer ${ctx.admin}` });
    assert.equal(done.status, 201, done.text);
  });

  it("DELETE cancels: 204, the bytes are removed, the URL is dead; a new session starts over", async () => {
    const j = await newJob(ctx);
    const s = await createSession(ctx, j, { size: 50 });
    assert.equal((await put(ctx, s.uploadUrl, Buffer.alloc(25, 3), 0, 50)).status, 202);
    const before = await blobFiles(ctx);
    const del = await rawFetch(s.uploadUrl, { method: "DELETE", ca: ctx.srv.ca });
    assert.equal(del.status, 204, del.text);
    assert.equal(del.body.length, 0);
    const after = await blobFiles(ctx);
    assert.equal(after.length, before.length - 1, "the session's bytes were removed");
    assertErrorEnvelope(await rawFetch(s.uploadUrl, { ca: ctx.srv.ca }), { status: 404, code: "itemNotFound" });
    assertErrorEnvelope(await put(ctx, s.uploadUrl, Buffer.alloc(25, 3), 25, 50), { status: 404, code: "itemNotFound" });
    assertErrorEnvelope(await rawFetch(s.uploadUrl, { method: "DELETE", ca: ctx.srv.ca }), { status: 404 });
    const again = await createSession(ctx, j, { size: 2 });
    assert.equal((await put(ctx, again.uploadUrl, Buffer.from("ok"), 0, 2)).status, 201);
  });

  it("a second createUploadSession replaces the first: old URL 404, its bytes dropped, and re-uploading a finished document starts over", async () => {
    const j = await newJob(ctx);
    const first = await createSession(ctx, j, { name: "one.pdf", size: 40 });
    assert.equal((await put(ctx, first.uploadUrl, Buffer.alloc(20, 1), 0, 40)).status, 202);
    const files = (await blobFiles(ctx)).length;
    const second = await createSession(ctx, j, { name: "two.pdf", size: 30 });
    assert.equal((await blobFiles(ctx)).length, files, "old bytes dropped, new blob created");
    assertErrorEnvelope(await put(ctx, first.uploadUrl, Buffer.alloc(20, 1), 20, 40), { status: 404, code: "itemNotFound" });
    assertErrorEnvelope(await rawFetch(first.uploadUrl, { ca: ctx.srv.ca }), { status: 404 });
    assert.deepEqual((await rawFetch(second.uploadUrl, { ca: ctx.srv.ca })).json.nextExpectedRanges, ["0-29"]);
    const data = randomBytes(30);
    assert.equal((await put(ctx, second.uploadUrl, data, 0, 30)).status, 201);
    assert.ok((await download(ctx, j)).res.body.equals(data));
    // a new session on an uploaded document forgets its bytes until the new upload completes
    const third = await createSession(ctx, j, { name: "three.pdf", size: 3 });
    const doc = await raw(ctx, `${j.path}/documents/${j.doc}`);
    assert.equal(doc.json.uploadedDateTime, null);
    assert.equal(doc.json.displayName, "three.pdf");
    const job = await raw(ctx, j.path);
    assert.ok(job.json.status.details.includes("uploadPending"), JSON.stringify(job.json.status));
    assertErrorEnvelope(await raw(ctx, `${j.path}/documents/${j.doc}/$value`), { status: 404, code: "itemNotFound" });
    assert.equal((await put(ctx, third.uploadUrl, Buffer.from("abc"), 0, 3)).status, 201);
    assert.equal((await download(ctx, j)).res.body.toString(), "abc");
  });

  it("no upload session once the job has started (409 notAllowed)", async () => {
    const j = await newJob(ctx);
    const s = await createSession(ctx, j, { size: 4 });
    assert.equal((await put(ctx, s.uploadUrl, Buffer.from("data"), 0, 4)).status, 201);
    const start = await raw(ctx, `${j.path}/start`, { method: "POST" });
    assert.equal(start.status, 200, start.text);
    const r = await raw(ctx, `${j.path}/documents/${j.doc}/createUploadSession`, {
      method: "POST", json: { properties: { documentName: "late.pdf", contentType: "application/pdf", size: 4 } },
    });
    const e = assertErrorEnvelope(r, { status: 409, code: "notAllowed" });
    assert.match(e.message, /released to the printer|started|not started|cannot be created/);
  });
});

// -----------------------------------------------------------------------------------------------

describe("the SDKs' large-file upload tasks", () => {
  const ctx = withServer();

  it("v3 client: LargeFileUploadTask over https uploads in 320 KiB slices and gets the printDocument", async () => {
    const j = await newJob(ctx);
    const size = 2 * MiB + 777;
    const data = randomBytes(size);
    const client = v3Client({ origin: ctx.srv.origin, version: "v1.0", token: ctx.admin, ca: ctx.srv.ca });
    const s = await client.api(`/print/printers/${j.printer}/jobs/${j.job}/documents/${j.doc}/createUploadSession`)
      .post({ properties: { documentName: "v3-task.pdf", contentType: "application/pdf", size } });
    const { LargeFileUploadTask, FileUpload } = graphV3;
    const task = new LargeFileUploadTask(client, new FileUpload(data, "v3-task.pdf", size),
      { url: s.uploadUrl, expiry: new Date(s.expirationDateTime) }, { rangeSize: 320 * 1024 });
    const result = await task.upload();
    const doc = result.responseBody ?? result._responseBody;
    assert.equal(doc.id, j.doc);
    assert.equal(doc.size, size);
    assert.equal(doc.displayName, "v3-task.pdf");
    const { res } = await download(ctx, j);
    assert.equal(sha256(res.body), sha256(data));
  });

  it("Kiota: LargeFileUploadTask works with our explicit nextExpectedRanges (custom fetch drops its short Content-Length)", async () => {
    const j = await newJob(ctx);
    const size = 700 * 1024 + 5;
    const data = randomBytes(size);
    const s = await createSession(ctx, j, { name: "kiota-task.pdf", size });
    const dispatcher = agentFor(ctx.srv.ca);
    const httpClient = createGraphClientFactory({ graphServiceTargetVersion: "beta", graphServiceLibraryClientVersion: betaSdkVersion },
      (url, init) => {
        for (const k of Object.keys(init.headers || {})) if (k.toLowerCase() === "content-length") delete init.headers[k];
        return fetch(url, { ...init, dispatcher });
      });
    const auth = new BaseBearerTokenAuthenticationProvider({
      getAuthorizationToken: async () => ctx.admin,
      getAllowedHostsValidator: () => new AllowedHostsValidator(new Set(["127.0.0.1"])),
    });
    const adapter = new GraphBetaRequestAdapter(auth, undefined, undefined, httpClient);
    const stream = new ReadableStream({ start(c) { c.enqueue(new Uint8Array(data)); c.close(); } });
    const task = new KiotaUploadTask(adapter, s, stream, 320 * 1024, models.createPrintDocumentFromDiscriminatorValue);
    const result = await task.upload();
    assert.equal(result.itemResponse?.id, j.doc, JSON.stringify(result));
    assert.equal(result.itemResponse?.size, size);
    const { res } = await download(ctx, j);
    assert.ok(res.body.equals(data));
  });
});

// -----------------------------------------------------------------------------------------------

describe("downloading through $value", () => {
  const ctx = withServer();
  const doc = {};

  before(async () => {
    doc.j = await newJob(ctx);
    doc.data = randomBytes(300 * 1024 + 3);
    const s = await createSession(ctx, doc.j, { name: "dl.pwg", type: "application/pdf", size: doc.data.length });
    const r = await put(ctx, s.uploadUrl, doc.data, 0, doc.data.length);
    assert.equal(r.status, 201, r.text);
  });

  it("404 before the upload completes", async () => {
    const j = await newJob(ctx);
    assertErrorEnvelope(await raw(ctx, `${j.path}/documents/${j.doc}/$value`), { status: 404, code: "itemNotFound" });
    await createSession(ctx, j, { size: 10 });
    assertErrorEnvelope(await raw(ctx, `${j.path}/documents/${j.doc}/$value`), { status: 404, code: "itemNotFound" });
  });

  it("302 to a pre-authorized URL on our server; the bytes come without a bearer token; downloadedDateTime is set", async () => {
    const before = await raw(ctx, `${doc.j.path}/documents/${doc.j.doc}`);
    assert.equal(before.json.downloadedDateTime, null);
    const { redirect, location, res } = await download(ctx, doc.j);
    assert.equal(redirect.body.length, 0);
    assert.ok(location.startsWith(`${ctx.srv.url}/download/`), location);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("accept-ranges"), "bytes");
    assert.equal(Number(res.headers.get("content-length")), doc.data.length);
    assert.ok(res.body.equals(doc.data));
    const after = await raw(ctx, `${doc.j.path}/documents/${doc.j.doc}`);
    assert.ok(!Number.isNaN(Date.parse(after.json.downloadedDateTime)), after.text);
    // the share-less beta path and a second use of the same URL work as well
    const again = await rawFetch(location, { ca: ctx.srv.ca });
    assert.equal(again.status, 200);
  });

  it("Kiota's content.get() follows the 302", async () => {
    const bytes = await kiota(ctx, "beta").print.printers.byPrinterId(doc.j.printer).jobs.byPrintJobId(doc.j.job)
      .documents.byPrintDocumentId(doc.j.doc).content.get();
    assert.ok(Buffer.from(bytes).equals(doc.data));
  });

  it("Range: one range 206 with Content-Range, suffix and open ranges, unsatisfiable 416, several ranges 200", async () => {
    const n = doc.data.length;
    let { res } = await download(ctx, doc.j, { range: "bytes=10-19" });
    assert.equal(res.status, 206);
    assert.equal(res.headers.get("content-range"), `bytes 10-19/${n}`);
    assert.ok(res.body.equals(doc.data.subarray(10, 20)));
    ({ res } = await download(ctx, doc.j, { range: "bytes=-5" }));
    assert.equal(res.status, 206);
    assert.ok(res.body.equals(doc.data.subarray(n - 5)));
    ({ res } = await download(ctx, doc.j, { range: `bytes=${n - 3}-` }));
    assert.equal(res.headers.get("content-range"), `bytes ${n - 3}-${n - 1}/${n}`);
    ({ res } = await download(ctx, doc.j, { range: `bytes=${n}-` }));
    assert.equal(res.status, 416);
    assert.equal(res.headers.get("content-range"), `bytes */${n}`);
    assert.equal(res.json.error.code, "invalidRange");
    ({ res } = await download(ctx, doc.j, { range: "bytes=0-1,5-6" }));
    assert.equal(res.status, 200);
    assert.equal(res.body.length, n);
  });

  it("an unknown download token is 404", async () => {
    const r = await rawFetch(`${ctx.srv.origin}/download/${"B".repeat(43)}`, { ca: ctx.srv.ca });
    assertErrorEnvelope(r, { status: 404, code: "itemNotFound" });
  });
});

// -----------------------------------------------------------------------------------------------

describe("through a share, and an application replacing a held job's document (seed rule)", () => {
  const APP_X = "00000000-0000-4000-8000-0000000000a1";
  const APP_Y = "00000000-0000-4000-8000-0000000000b2";
  const APP_ROLES = "PrintTaskDefinition.ReadWrite.All PrintJob.Manage.All PrintJob.ReadWrite.All Printer.Read.All";
  const ctx = serverForSuite({ tls: true }, {
    tokens: {
      admin: { app: APP_X, scopes: `${ADMIN_SCOPES} PrinterShare.ReadWrite.All`, admin: true },
      user: { scopes: "PrintJob.ReadWrite PrinterShare.ReadBasic.All", upn: "alice@contoso.test" },
      bob: { scopes: "PrintJob.ReadWrite PrinterShare.ReadBasic.All", upn: "bob@contoso.test" },
      appX: { app: APP_X, roles: APP_ROLES },
      appY: { app: APP_Y, roles: APP_ROLES },
    },
    setup: async (ctx) => {
      const def = await kiota(ctx, "v1.0", ctx.appX).print.taskDefinitions.post({ displayName: "Secure release" });
      ctx.printer = await registerPrinter(ctx.srv, ctx.admin, { name: "Follow-me queue" });
      await kiota(ctx).print.printers.byPrinterId(ctx.printer).taskTriggers.post({
        event: "jobStarted", additionalData: { "definition@odata.bind": `https://graph.microsoft.com/v1.0/print/taskDefinitions/${def.id}` },
      });
      ctx.share = await createShare(ctx.srv, ctx.admin, ctx.printer, { name: "Follow-me" });
    },
  });

  // The user's job through the share, its document uploaded through the share path.
  async function userJob(bytes) {
    const jobs = kiota(ctx, "beta", ctx.user).print.shares.byPrinterShareId(ctx.share).jobs;
    const job = await jobs.post({ configuration: {} });
    const base = `/beta/print/shares/${ctx.share}/jobs/${job.id}/documents`;
    const list = await raw(ctx, base, { token: ctx.user });
    assert.equal(list.json["@odata.context"], `${ctx.srv.url}/beta/$metadata#print/shares('${ctx.share}')/jobs('${job.id}')/documents`);
    const { documentId: docId } = await uploadDocument(ctx.srv, ctx.user, `shares/${ctx.share}`, job, bytes,
      { documentName: "mine.pdf", version: "beta" });
    return { printer: ctx.printer, job: job.id, doc: docId, path: jobPath(ctx.printer, job.id), sharePath: `/v1.0/print/shares/${ctx.share}/jobs/${job.id}` };
  }

  const appSession = (j, token, prefix = j.path) => raw(ctx, `${prefix}/documents/${j.doc}/createUploadSession`, {
    method: "POST", token, json: { properties: { documentName: "released.pdf", contentType: "application/pdf", size: 7 } },
  });

  // createUploadSession's write checks the share, the job, its creator, the document and the
  // content type itself; any refusal is answered by the reads before it, as they always were:
  // this pins each answer and its order (the share's 404, the job's, the document's, then the
  // body's 400 or 413, the content type's 400, then 409) with its text.
  it("createUploadSession's refusals through a share and a printer: status, code, text and order", async () => {
    const elsewhere = await registerPrinter(ctx.srv, ctx.admin, { name: "Elsewhere" });
    const other = await createShare(ctx.srv, ctx.admin, elsewhere, { name: "Elsewhere" });
    const mine = (await createJob(ctx.srv, ctx.user, `shares/${ctx.share}`, { configuration: {} })).id;
    const docs = await raw(ctx, `/v1.0/print/shares/${ctx.share}/jobs/${mine}/documents`, { token: ctx.user });
    const doc = docs.json.value[0].id;
    const good = { properties: { documentName: "a.pdf", contentType: "application/pdf", size: 10 } };
    const bodies = {
      good, none: {}, size0: { properties: { ...good.properties, size: 0 } },
      huge: { properties: { ...good.properties, size: 2 ** 40 } },
      text: { properties: { ...good.properties, contentType: "text/plain" } },
    };
    let uploadUrl;
    const session = async (parent, job, d, body, token = ctx.user) => {
      const r = await raw(ctx, `/v1.0/print/${parent}/jobs/${job}/documents/${d}/createUploadSession`, { method: "POST", token, json: body });
      if (r.status === 200) {
        uploadUrl = r.json.uploadUrl;
        return [200, r.json.nextExpectedRanges];
      }
      const e = assertErrorEnvelope(r, {});
      return [r.status, e.code, e.message];
    };
    const unknownShare = randomUUID(), unknownDoc = randomUUID();
    const jobNotHere = (job, where) => [404, "itemNotFound", `The print job '${job}' was not found on this ${where}.`];
    const cases = [];
    for (const [name, body] of Object.entries(bodies)) {
      cases.push([`unknown share, ${name}`, await session(`shares/${unknownShare}`, mine, doc, body),
        [404, "itemNotFound", `Printer share '${unknownShare}' was not found.`]]);
      cases.push([`another share's job, ${name}`, await session(`shares/${other}`, mine, doc, body), jobNotHere(mine, "printer share")]);
      cases.push([`another user's job, ${name}`, await session(`shares/${ctx.share}`, mine, doc, body, ctx.bob), jobNotHere(mine, "printer share")]);
      cases.push([`unknown job, ${name}`, await session(`shares/${ctx.share}`, "999999999", doc, body), jobNotHere("999999999", "printer share")]);
      cases.push([`not a job id, ${name}`, await session(`shares/${ctx.share}`, "x1", doc, body), jobNotHere("x1", "printer share")]);
      cases.push([`unknown document, ${name}`, await session(`shares/${ctx.share}`, mine, unknownDoc, body),
        [404, "itemNotFound", `The document '${unknownDoc}' was not found on print job '${mine}'.`]]);
      cases.push([`another printer's job, ${name}`, await session(`printers/${elsewhere}`, mine, doc, body, ctx.admin), jobNotHere(mine, "printer")]);
    }
    cases.push(["no properties", await session(`shares/${ctx.share}`, mine, doc, bodies.none),
      [400, "invalidRequest", `Property 'properties' is required: {"properties":{"documentName","contentType","size"}}.`]]);
    cases.push(["size 0", await session(`shares/${ctx.share}`, mine, doc, bodies.size0),
      [400, "invalidRequest", "Property 'properties/size' must be at least 1 byte, not 0."]]);
    cases.push(["size over the limit", await session(`shares/${ctx.share}`, mine, doc, bodies.huge),
      [413, "invalidRequest", "Property 'properties/size' is 1099511627776 bytes; documents may be at most 1073741824 bytes."]]);
    cases.push(["content type", await session(`shares/${ctx.share}`, mine, doc, bodies.text),
      [400, "invalidRequest", "Property 'properties/contentType': the printer does not accept 'text/plain'; it accepts application/pdf, application/oxps."]]);
    cases.push(["good", await session(`shares/${ctx.share}`, mine, doc, good), [200, ["0-9"]]]);
    assert.equal((await put(ctx, uploadUrl, randomBytes(10), 0, 10)).status, 201);
    const started = await raw(ctx, `/v1.0/print/shares/${ctx.share}/jobs/${mine}/start`, { method: "POST", token: ctx.user });
    assert.equal(started.status, 200, started.text);
    cases.push(["after the start", await session(`shares/${ctx.share}`, mine, doc, good),
      [409, "notAllowed", "An upload session cannot be created for a job that is held by a print task."]]);
    for (const [what, got, want] of cases) assert.deepEqual(got, want, what);
  });

  it("a user uploads and downloads through the share path", async () => {
    const bytes = randomBytes(1000);
    const j = await userJob(bytes);
    const r = await raw(ctx, `${j.sharePath}/documents/${j.doc}/$value`, { token: ctx.user });
    assert.equal(r.status, 302, r.text);
    const got = await rawFetch(r.headers.get("location"), { ca: ctx.srv.ca });
    assert.ok(got.body.equals(bytes));
  });

  it("an application may not create an upload session before its print task holds the job (409)", async () => {
    const j = await userJob(randomBytes(10));
    const e = assertErrorEnvelope(await appSession(j, ctx.appX), { status: 409, code: "notAllowed" });
    assert.match(e.message, /task/);
  });

  it("the app whose trigger holds the job replaces its document; the job stays held; other apps get 403", async () => {
    const j = await userJob(randomBytes(10));
    const start = await raw(ctx, `${j.sharePath}/start`, { method: "POST", token: ctx.user });
    assert.equal(start.status, 200, start.text);
    assert.equal(start.json.state, "paused");
    assertErrorEnvelope(await appSession(j, ctx.appY), { status: 403, code: "accessDenied" });
    // application tokens reach createUploadSession through the printer path only
    assertErrorEnvelope(await appSession(j, ctx.appX, j.sharePath), { status: 403, code: "accessDenied" });
    const s = await appSession(j, ctx.appX);
    assert.equal(s.status, 200, s.text);
    assert.equal((await put(ctx, s.json.uploadUrl, Buffer.from("release"), 0, 7)).status, 201);
    const job = await raw(ctx, j.path, { token: ctx.appX });
    assert.equal(job.json.status.state, "paused");
    assert.deepEqual(job.json.status.details, []);
    const r = await raw(ctx, `${j.path}/documents/${j.doc}/$value`, { token: ctx.appX });
    assert.equal(r.status, 302, r.text);
    assert.equal((await rawFetch(r.headers.get("location"), { ca: ctx.srv.ca })).body.toString(), "release");
    // the user may no longer replace it: the job has been started
    const late = await raw(ctx, `${j.sharePath}/documents/${j.doc}/createUploadSession`, {
      method: "POST", token: ctx.user, json: { properties: { documentName: "x", contentType: "application/pdf", size: 1 } },
    });
    assertErrorEnvelope(late, { status: 409, code: "notAllowed" });
  });
});

// -----------------------------------------------------------------------------------------------

describe("upload volume limit (--upload-volume-limit 1MiB)", () => {
  const ctx = withServer({ args: ["--upload-volume-limit", "1MiB", "--upload-volume-window", "900"] });

  it("429 activityLimitReached with Retry-After once a user has uploaded 1 MiB in the window", async () => {
    const j = await newJob(ctx);
    const size = 2 * MiB;
    const s = await createSession(ctx, j, { size });
    assert.equal((await put(ctx, s.uploadUrl, Buffer.alloc(MiB, 1), 0, size)).status, 202);
    const r = await put(ctx, s.uploadUrl, Buffer.alloc(10, 1), MiB, size);
    assertErrorEnvelope(r, { status: 429, code: "activityLimitReached" });
    const after = Number(r.headers.get("retry-after"));
    assert.ok(Number.isInteger(after) && after >= 1 && after <= 900, `Retry-After ${r.headers.get("retry-after")}`);
    const progress = await rawFetch(s.uploadUrl, { ca: ctx.srv.ca });
    assert.deepEqual(progress.json.nextExpectedRanges, [`${MiB}-${size - 1}`], "the refused fragment was not recorded");
  });
});

// -----------------------------------------------------------------------------------------------

describe("where the bytes live: small documents in the store's rows, larger ones in files", () => {
  const ctx = withServer();
  const keyOf = async (j) => {
    if (testStore() === "postgres") return null;
    const { stdout } = await runFile("sqlite3", [path.join(ctx.srv.dataDir, "spoold.db"),
      `SELECT blob_key FROM documents WHERE id = '${j.doc}'`], { encoding: "utf8" });
    return stdout.trim();
  };
  const fileExists = (key) => readFile(path.join(ctx.srv.dataDir, "blobs", key)).then(() => true, () => false);

  for (const [what, size, pieces] of [
    ["a 4 KiB document in one PUT (rows, written by the completing transaction)", 4096, 1],
    ["a 4 KiB document in two fragments (rows, the first written on its own)", 4096, 2],
    ["a 64 KiB document in one PUT (the largest kept in rows)", 64 * 1024, 1],
    ["a 70 KiB document in one PUT (a file)", 70 * 1024, 1],
  ]) {
    it(what, async () => {
      const j = await newJob(ctx);
      const body = randomBytes(size);
      const s = await createSession(ctx, j, { size });
      const step = Math.ceil(size / pieces);
      let r;
      for (const [a, b] of fragments(size, step)) r = await put(ctx, s.uploadUrl, body.subarray(a, b), a, size);
      assert.equal(r.status, 201, r.text);
      const { res } = await download(ctx, j);
      assert.equal(res.status, 200);
      assert.equal(sha256(res.body), sha256(body), "the bytes come back");
      const part = await download(ctx, j, { range: "bytes=10-19" });
      assert.equal(part.res.status, 206);
      assert.deepEqual(Buffer.from(part.res.body), body.subarray(10, 20));
      const key = await keyOf(j);
      if (key !== null) {  // SQLite: the rows or the file, never both
        const rows = (await blobKeys(ctx.srv.dataDir)).includes(key);
        assert.equal(rows, size <= 64 * 1024, `blob ${key} of ${size} bytes in the rows`);
        assert.equal(await fileExists(key), !rows, `blob ${key} of ${size} bytes in a file`);
      }
    });
  }
});

// -----------------------------------------------------------------------------------------------

describe("session expiry (--upload-session-ttl 600, the service clock moved with --dev)", () => {
  // The expiry is timed on the service clock (/spoold/v1/dev/clock), not on the machine's: a
  // 1 s TTL on the real clock failed whenever the machine took over a second between creating
  // the session and the PUT. Moving the clock also runs the session sweep at the new time.
  const ctx = withServer({ args: ["--upload-session-ttl", "600"] });
  const advance = async (by) => {
    const r = await raw(ctx, "/spoold/v1/dev/clock", { method: "POST", json: { advanceBy: by }, timeoutMs: 60_000 });
    assert.equal(r.status, 200, r.text);
  };

  it("an idle session expires: its URL answers 404 and the sweeper removes its bytes", async () => {
    const j = await newJob(ctx);
    const before = (await blobFiles(ctx)).length;
    const s = await createSession(ctx, j, { size: 100 });
    const r = await put(ctx, s.uploadUrl, Buffer.alloc(50), 0, 100);
    assert.equal(r.status, 202, r.text);
    assert.equal((await blobFiles(ctx)).length, before + 1);
    // half the TTL after the last fragment (and whatever real time has passed): still open
    await advance("PT300S");
    const open = await rawFetch(s.uploadUrl, { ca: ctx.srv.ca });
    assert.equal(open.status, 200, open.text);
    assert.deepEqual(open.json.nextExpectedRanges, ["50-99"]);
    assert.equal((await blobFiles(ctx)).length, before + 1, "not swept while open");
    // past the TTL: gone, and the sweep the clock move ran has removed its bytes
    await advance("PT301S");
    const gone = assertErrorEnvelope(await rawFetch(s.uploadUrl, { ca: ctx.srv.ca }), { status: 404, code: "itemNotFound" });
    assert.equal(gone.innerError.code, "uploadSessionNotFound");
    assertErrorEnvelope(await put(ctx, s.uploadUrl, Buffer.alloc(50), 50, 100), { status: 404 });
    assert.equal((await blobFiles(ctx)).length, before, "the sweeper removed the expired session's bytes");
  });
});

// -----------------------------------------------------------------------------------------------

describe("memory stays flat", () => {
  const ctx = withServer();

  it("a 64 MiB document uploaded in 8 MiB fragments, 4 at once, leaves peak RSS (VmHWM) far below its size", async (t) => {
    // AddressSanitizer keeps freed memory in quarantine (TLS record buffers add up): RSS says
    // nothing about the server's own use there.
    if ((await readFile(`/proc/${ctx.srv.pid}/maps`, "utf8")).includes("libasan")) {
      t.skip("spoold is built with AddressSanitizer");
      return;
    }
    const hwm = async () => {
      const status = await readFile(`/proc/${ctx.srv.pid}/status`, "utf8");
      return Number(/VmHWM:\s+(\d+) kB/.exec(status)[1]) * 1024;
    };
    const j = await newJob(ctx);
    const size = 64 * MiB;
    const data = randomBytes(size);
    const before = await hwm();
    const s = await createSession(ctx, j, { name: "big.pdf", size });
    const frags = shuffle(fragments(size, 8 * MiB));
    const results = await pool(frags.map(([a, b]) => () => put(ctx, s.uploadUrl, data.subarray(a, b), a, size)), 4);
    assert.deepEqual(results.map((r) => r.status).sort(), [...Array(frags.length - 1).fill(202), 201].sort());
    const peak = await hwm();
    const { res } = await download(ctx, j);
    assert.equal(sha256(res.body), sha256(data));
    const afterDownload = await hwm();
    process.stderr.write(`spoold VmHWM: ${(before / MiB).toFixed(1)} MiB before, ${(peak / MiB).toFixed(1)} MiB after the upload, ${(afterDownload / MiB).toFixed(1)} MiB after the download\n`);
    assert.ok(peak - before < 16 * MiB, `upload grew peak RSS by ${((peak - before) / MiB).toFixed(1)} MiB`);
    assert.ok(peak < size / 2, `peak RSS ${(peak / MiB).toFixed(1)} MiB is well below the 64 MiB document`);
    assert.ok(afterDownload - before < 16 * MiB, `download grew peak RSS by ${((afterDownload - before) / MiB).toFixed(1)} MiB`);
  });
});
