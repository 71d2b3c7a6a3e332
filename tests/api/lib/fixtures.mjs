// SPDX-License-Identifier: Apache-2.0
// Shared fixtures of the API test files: a spoold per describe block with its tokens, printers
// registered through the API with an openssl-made CSR, shares, jobs, and documents uploaded
// through createUploadSession + the upload URL. Everything goes through the public API (never
// behind its back), and every step asserts the status it needs, so a broken fixture fails the
// test that uses it with the server's answer in the message.
//
//   const ctx = serverForSuite({ tls: true }, {
//     tokens: (ctx) => ({ admin: { scopes: ADMIN, admin: true }, app: { roles: "Printer.Read.All" } }),
//   });
//   before(async () => {
//     ctx.printer = await registerPrinter(ctx.srv, ctx.admin, { name: "Front desk" });
//     ctx.share = await createShare(ctx.srv, ctx.admin, ctx.printer);
//   });
//   const job = await createJob(ctx.srv, ctx.user, `shares/${ctx.share}`, { configuration: {} });
//   await uploadDocument(ctx.srv, ctx.user, `shares/${ctx.share}`, job, bytes);
//
// `parent` is where a job lives, as in its URL: "printers/<id>" or "shares/<id>".
import { before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { startServer, makeTempDir } from "./server.mjs";
import { kiotaClient, kiotaWithStatus, rawFetch } from "./clients.mjs";

const run = promisify(execFile);
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

// The delegated scopes a Printer Administrator needs to register and manage printers; test files
// add what else their administrator does (shares, jobs, connectors, settings, ...).
export const PRINTER_MANAGEMENT_SCOPES = Object.freeze([
  "Printer.Create", "Printer.Read.All", "Printer.ReadWrite.All", "Printer.FullControl.All",
]);

// The document uploadDocument() sends when given no bytes.
export const TEST_PDF = Buffer.from("%PDF-1.7\n% spoold test\n%%EOF\n");

// ---- servers and tokens --------------------------------------------------------------------------

// Mints tokens from the development issuer of `srv`'s data directory, one after another (`spoold
// token` processes share the data directory), in the order of `specs`; resolves { name: token }.
//   specs: { name: spec }; a spec with a `roles` key is an application token (srv.mintApp), any
//   other a delegated user token (srv.mintUser). The spec's other fields are those of mintApp /
//   mintUser (tokens.mjs); `tenant` defaults to the `tenant` argument.
//   const t = await mintTokens(srv, tid, { admin: { scopes: "Printer.Read.All", admin: true } });
export async function mintTokens(srv, tenant, specs) {
  const out = {};
  for (const [name, spec] of Object.entries(specs)) {
    const o = { tenant, ...spec };
    out[name] = "roles" in spec ? await srv.mintApp(o) : await srv.mintUser(o);
  }
  return out;
}

// One spoold for the enclosing describe block: a before hook starts it (startServer(serverOpts))
// and mints the tokens, an after hook stops it by PID (SIGTERM, exit code 0 expected). Returns
// the block's context object, filled in by the before hook:
//   ctx.tenant  a fresh tenant id (unless opts.ctx gives one); ctx.srv the server;
//   ctx[name]   one token per entry of opts.tokens (see mintTokens; the default tenant is ctx.tenant)
// opts:
//   ctx       initial fields of the context (e.g. more ids the token specs refer to)
//   tokens    the token specs, or (ctx) => specs
//   setup     async (ctx) => ..., run in the before hook once the tokens are minted
//   teardown  async (ctx) => ..., run in the after hook before the server stops
export function serverForSuite(serverOpts = {}, { ctx: init = {}, tokens, setup, teardown } = {}) {
  const ctx = { tenant: randomUUID(), ...init };
  before(async () => {
    ctx.srv = await startServer(serverOpts);
    const specs = typeof tokens === "function" ? tokens(ctx) : tokens;
    if (specs) Object.assign(ctx, await mintTokens(ctx.srv, ctx.tenant, specs));
    if (setup) await setup(ctx);
  });
  after(async () => {
    try {
      if (teardown) await teardown(ctx);
    } finally {
      if (ctx.srv) await ctx.srv.stop();
    }
  });
  return ctx;
}

// ---- certificate signing requests ----------------------------------------------------------------

let csrDir;
const csrCache = new Map();

// The keys and CSRs live in one temporary directory per test process, removed when it exits
// (unless SPOOLD_KEEP_DATA=1).
async function csrFile(name) {
  if (!csrDir) {
    csrDir = makeTempDir("spoold-csr-");
    const dir = await csrDir;
    process.on("exit", () => {
      if (process.env.SPOOLD_KEEP_DATA !== "1") rmSync(dir, { recursive: true, force: true });
    });
  }
  return path.join(await csrDir, name);
}

// A new key and a PKCS#10 request for it, made with `openssl req` (once per kind and digest per
// test process, then reused). Resolves { content: base64 DER of the CSR, transportKey: base64 DER
// of the public key (SubjectPublicKeyInfo), key: the private key's PEM file }.
//   kind: "rsa2048" | "ec256" | "rsa1024" | "ec384"; digest: "sha256" | "sha1"
export function makeCsr(kind = "rsa2048", digest = "sha256") {
  const id = `${kind}-${digest}`;
  if (!csrCache.has(id)) {
    csrCache.set(id, (async () => {
      const key = await csrFile(`${id}.key`);
      const der = await csrFile(`${id}.csr`);
      const newkey = {
        rsa2048: ["-newkey", "rsa:2048"], rsa1024: ["-newkey", "rsa:1024"],
        ec256: ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        ec384: ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"],
      }[kind];
      if (!newkey) throw new Error(`makeCsr: unknown key kind ${kind}`);
      await run("openssl", ["req", "-new", ...newkey, `-${digest}`, "-nodes", "-subj", "/CN=device",
        "-keyout", key, "-outform", "DER", "-out", der]);
      const pub = await run("openssl", ["pkey", "-in", key, "-pubout", "-outform", "DER"], { encoding: "buffer" });
      return { content: (await readFile(der)).toString("base64"), transportKey: pub.stdout.toString("base64"), key };
    })());
  }
  return csrCache.get(id);
}

// The certificateSigningRequest of a registration body ({ content, transportKey }) for makeCsr().
export async function csrBody(kind, digest) {
  const c = await makeCsr(kind, digest);
  return { content: c.content, transportKey: c.transportKey };
}

// ---- printers, shares, jobs, documents -----------------------------------------------------------

// Registers a printer through POST /v1.0/print/printers/create (the Kiota client) with `token`
// (a Printer Administrator allowed Printer.Create), asserts 202 with an Operation-Location, then
// polls GET /v1.0/print/operations/{id} (200 each time) until the operation has succeeded;
// resolves the printer's id. Fails if the operation fails or is not done within 200 polls.
//   opts: name ("Printer"), manufacturer ("Contoso"), model ("LaserJet 9"),
//         physical (false; true: hasPhysicalDevice with a random physicalDeviceId),
//         csr (the certificateSigningRequest; default: csrBody("rsa2048"), shared by the process)
export async function registerPrinter(srv, token, {
  name = "Printer", manufacturer = "Contoso", model = "LaserJet 9", physical = false, csr,
} = {}) {
  const client = kiotaClient({ origin: srv.origin, version: "v1.0", token, ca: srv.ca });
  const body = {
    displayName: name, manufacturer, model, hasPhysicalDevice: physical,
    certificateSigningRequest: csr || await csrBody("rsa2048"),
  };
  if (physical) body.physicalDeviceId = randomUUID();
  const r = await kiotaWithStatus((cfg) => client.print.printers.create.post(body, cfg));
  assert.equal(r.status, 202, `printers/create: ${r.status} ${r.text}`);
  const opUrl = r.headers.get("operation-location");
  assert.ok(opUrl, "Operation-Location header");
  const opId = opUrl.split("/").pop();
  for (let i = 0; i < 200; i++) {
    const op = await rawFetch(`${srv.origin}/v1.0/print/operations/${opId}`, { token, ca: srv.ca });
    assert.equal(op.status, 200, op.text);
    const state = op.json.status?.state;
    if (state === "succeeded") return op.json.printer.id;
    assert.notEqual(state, "failed", `registration failed: ${op.text}`);
    await sleep(25);
  }
  throw new Error("printer registration did not finish");
}

// Shares printer `printerId` through POST /v1.0/print/shares (printer@odata.bind with the Graph
// URL of the printer) with `token`; asserts 201 and resolves the share's id.
//   opts: name (default "Share <first 8 characters of the printer id>"), allowAllUsers (true)
export async function createShare(srv, token, printerId, { name = `Share ${printerId.slice(0, 8)}`, allowAllUsers = true } = {}) {
  const r = await rawFetch(`${srv.origin}/v1.0/print/shares`, {
    method: "POST", token, ca: srv.ca,
    json: {
      displayName: name, allowAllUsers,
      "printer@odata.bind": `https://graph.microsoft.com/v1.0/print/printers/${printerId}`,
    },
  });
  assert.equal(r.status, 201, `create share: ${r.status} ${r.text}`);
  return r.json.id;
}

// Creates a job with POST /{version}/print/{parent}/jobs, `body` sent as it is (the server's
// defaults apply to what it leaves out); asserts 201 and resolves the printJob as JSON (id,
// status, documents: the one empty document, ...).
//   parent: "printers/<id>" or "shares/<id>"; opts: version ("v1.0")
export async function createJob(srv, token, parent, body = {}, { version = "v1.0" } = {}) {
  const r = await rawFetch(`${srv.origin}/${version}/print/${parent}/jobs`, { method: "POST", token, ca: srv.ca, json: body });
  assert.equal(r.status, 201, `create job: ${r.status} ${r.text}`);
  return r.json;
}

// The Kiota request builder of job `jobId` under `parent` ("printers/<id>" or "shares/<id>").
function jobBuilder(client, parent, jobId) {
  const [kind, id] = parent.split("/");
  if (kind === "printers") return client.print.printers.byPrinterId(id).jobs.byPrintJobId(jobId);
  if (kind === "shares") return client.print.shares.byPrinterShareId(id).jobs.byPrintJobId(jobId);
  throw new Error(`job parent must be printers/<id> or shares/<id>, not ${parent}`);
}

// Uploads `bytes` as the document of `job` (its JSON or model: `id`, and `documents` if known,
// else the document is looked up) in one fragment: createUploadSession through the Kiota client
// under /{version}/print/{parent}/jobs/{id}/documents/{docId} (200 asserted), then one PUT of
// bytes 0..n-1 to the upload URL (201 asserted: the document is complete).
// Resolves { documentId, uploadUrl }.
//   opts: documentName ("test.pdf"), contentType ("application/pdf"), version ("v1.0")
export async function uploadDocument(srv, token, parent, job, bytes = TEST_PDF, {
  documentName = "test.pdf", contentType = "application/pdf", version = "v1.0",
} = {}) {
  let documentId = job.documents?.[0]?.id;
  if (!documentId) {
    const docs = await rawFetch(`${srv.origin}/${version}/print/${parent}/jobs/${job.id}/documents`, { token, ca: srv.ca });
    assert.equal(docs.status, 200, `list documents: ${docs.status} ${docs.text}`);
    documentId = docs.json.value[0].id;
  }
  const client = kiotaClient({ origin: srv.origin, version, token, ca: srv.ca });
  const s = await kiotaWithStatus((cfg) => jobBuilder(client, parent, job.id).documents.byPrintDocumentId(documentId)
    .createUploadSession.post({ properties: { documentName, contentType, size: bytes.length } }, cfg));
  assert.equal(s.status, 200, `createUploadSession: ${s.status} ${s.text}`);
  // The URL is built on the public URL; connect to where the server listens.
  const uploadUrl = s.json.uploadUrl.replace(srv.url, srv.origin);
  const put = await rawFetch(uploadUrl, {
    method: "PUT", body: bytes, ca: srv.ca,
    headers: { "content-range": `bytes 0-${bytes.length - 1}/${bytes.length}`, "content-type": "application/octet-stream" },
  });
  assert.equal(put.status, 201, `upload: ${put.status} ${put.text}`);
  return { documentId, uploadUrl };
}
