// SPDX-License-Identifier: Apache-2.0
// Print jobs (reference §4.3) through the real Graph clients, under /v1.0 and /beta and through
// printers and shares (the same objects): create (exact shape), get with $select/$expand, list
// (own jobs versus .All + administrator, application tokens), $filter, keyset paging through
// 2,500 jobs, start (refused before the upload; fetchable after it; held by a print task when
// the printer has a trigger), cancel (owner, administrator, others 403, terminal 409), DELETE
// (405), tenant isolation, configuration validation, printers not accepting jobs, and the
// per-printer / per-user creation limits (429 + Retry-After). Printers are registered through
// POST /print/printers/create and documents uploaded through createUploadSession + the upload
// URL, never inserted behind the API's back. Every describe block runs its own spoold.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import {
  kiotaClient, v3Client, kiotaWithStatus, rawFetch, models, GUID, closeAgents,
} from "./lib/clients.mjs";
import { assertErrorEnvelope, expectKiotaError, expectGraphError } from "./lib/graph-assert.mjs";
import {
  PRINTER_MANAGEMENT_SCOPES, serverForSuite, registerPrinter, createShare, createJob, uploadDocument, TEST_PDF,
} from "./lib/fixtures.mjs";
import { testStore } from "./lib/store.mjs";

// A Printer Administrator who registers printers, shares them and sees every job.
const ADMIN_SCOPES = [...PRINTER_MANAGEMENT_SCOPES, "PrinterShare.ReadWrite.All", "PrintJob.ReadWrite.All"].join(" ");
// An ordinary user printing through printers and shares (own jobs only).
const USER_SCOPES = "Printer.Read.All PrinterShare.Read.All PrintJob.ReadWrite";
const BASIC_SCOPES = "Printer.Read.All PrinterShare.Read.All PrintJob.ReadWriteBasic";
const PULL_APP = "00000000-0000-4000-8000-0000000000b7";

const JOB_KEYS_V1 = [
  "@odata.context", "acknowledgedDateTime", "configuration", "createdBy", "createdDateTime",
  "documents", "errorCode", "id", "isFetchable", "redirectedFrom", "redirectedTo", "status",
];
const JOB_KEYS_BETA = [...JOB_KEYS_V1, "completedDateTime", "displayName"].sort();
const CONFIG_KEYS = [
  "collate", "colorMode", "copies", "dpi", "duplexMode", "feedOrientation", "finishings",
  "fitPdfToPage", "inputBin", "margin", "mediaSize", "mediaType", "multipageLayout", "orientation",
  "outputBin", "pageRanges", "pagesPerSheet", "quality", "scaling",
];
const FULL_CONFIG = {
  copies: 1, dpi: 600, orientation: "landscape", duplexMode: "oneSided", colorMode: "blackAndWhite",
  mediaSize: "A4", pageRanges: [{ start: 1, end: 1 }], margin: { top: 0, bottom: 0, left: 0, right: 0 },
  finishings: null, multipageLayout: "clockwiseFromTopLeft", scaling: "shrinkToFit", collate: false,
  fitPdfToPage: false,
};

after(() => closeAgents());

// --- helpers ----------------------------------------------------------------------------------

// Starts a server and mints the tokens of the describe block.
function withServer(opts = {}) {
  return serverForSuite(opts, {
    ctx: { other: randomUUID(), aliceId: randomUUID(), bobId: randomUUID() },
    tokens: (ctx) => ({
      admin: { scopes: ADMIN_SCOPES, admin: true, upn: "admin@contoso.test" },
      alice: { user: ctx.aliceId, upn: "Alice@Contoso.test", scopes: USER_SCOPES },
      bob: { user: ctx.bobId, upn: "bob@contoso.test", scopes: USER_SCOPES },
      otherAdmin: { tenant: ctx.other, scopes: ADMIN_SCOPES, admin: true },
    }),
  });
}

const kiota = (ctx, token, version = "v1.0") => kiotaClient({ origin: ctx.srv.origin, version, token, ca: ctx.srv.ca });
const raw = (ctx, p, opts = {}) => rawFetch(`${ctx.srv.origin}${p}`, { token: ctx.admin, ca: ctx.srv.ca, ...opts });
const createRaw = (ctx, parent, token, body = {}, version = "v1.0") =>
  raw(ctx, `/${version}/print/${parent}/jobs`, { method: "POST", token, json: body });

// Every page of a list, following @odata.nextLink; returns the items and the page count.
async function allPages(ctx, firstUrl, token) {
  const items = [];
  let next = firstUrl, pages = 0;
  while (next) {
    const r = await rawFetch(next, { token, ca: ctx.srv.ca });
    assert.equal(r.status, 200, r.text);
    items.push(...r.json.value);
    pages++;
    next = r.json["@odata.nextLink"];
    if (next) assert.ok(next.startsWith(`${ctx.srv.url}/`), `nextLink is absolute on --public-url: ${next}`);
    assert.ok(pages < 1000, "paging terminates");
  }
  return { items, pages };
}

// -----------------------------------------------------------------------------------------------

describe("create", () => {
  const ctx = withServer();
  before(async () => {
    ctx.p1 = await registerPrinter(ctx.srv, ctx.admin, { name: "P1" });
    ctx.s1 = await createShare(ctx.srv, ctx.admin, ctx.p1);
    ctx.p2 = await registerPrinter(ctx.srv, ctx.admin, { name: "Closed" });
    ctx.p3 = await registerPrinter(ctx.srv, ctx.admin, { name: "Restricted" });
    ctx.s3 = await createShare(ctx.srv, ctx.admin, ctx.p3, { allowAllUsers: false });
  });

  it("POST /v1.0/print/printers/{id}/jobs (Kiota): 201 printJob, paused/uploadPending, one empty document", async () => {
    const client = kiota(ctx, ctx.alice);
    const r = await kiotaWithStatus((cfg) => client.print.printers.byPrinterId(ctx.p1).jobs.post(
      { configuration: FULL_CONFIG }, cfg), models.createPrintJobFromDiscriminatorValue);
    assert.equal(r.status, 201, r.text);
    const j = r.json;
    assert.deepEqual(Object.keys(j).sort(), [...JOB_KEYS_V1].sort(), "every v1.0 printJob property");
    assert.equal(j["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#print/printers('${ctx.p1}')/jobs/$entity`);
    assert.match(j.id, /^[1-9][0-9]*$/, "decimal job id");
    assert.ok(Number(j.id) <= 2147483647);
    assert.deepEqual(j.status, {
      state: "paused", description: "The job is not a candidate for processing yet.",
      details: ["uploadPending"], isAcquiredByPrinter: false,
    });
    assert.equal(j.isFetchable, false);
    assert.equal(j.redirectedFrom, null);
    assert.equal(j.redirectedTo, null);
    assert.equal(j.errorCode, null);
    assert.equal(j.acknowledgedDateTime, null);
    assert.ok(Math.abs(Date.parse(j.createdDateTime) - Date.now()) < 60_000, j.createdDateTime);
    assert.equal(j.createdBy.id, ctx.aliceId);
    assert.equal(j.createdBy.userPrincipalName, "Alice@Contoso.test");
    assert.ok("displayName" in j.createdBy && "ipAddress" in j.createdBy);
    assert.deepEqual(Object.keys(j.configuration).sort(), CONFIG_KEYS);
    for (const [k, v] of Object.entries(FULL_CONFIG)) {
      assert.deepEqual(j.configuration[k], v === null && k === "finishings" ? [] : v, `configuration.${k} echoed`);
    }
    assert.equal(j.configuration.quality, null, "unset members are null");
    assert.deepEqual(j.configuration.finishings, [], "a collection sent as null reads back []");
    assert.equal(j.documents.length, 1);
    const d = j.documents[0];
    assert.match(d.id, GUID);
    assert.equal(d.displayName, "");
    assert.equal(d.contentType, "");
    assert.equal(d.size, 0);
    // The SDK parses it as a PrintJob.
    assert.equal(r.value.id, j.id);
    assert.equal(r.value.status.state, "paused");
    assert.equal(r.value.configuration.orientation, "landscape");
    ctx.aliceJob = j;
  });

  it("POST /beta/print/shares/{id}/jobs (Kiota): beta context, displayName, beta status members", async () => {
    const client = kiota(ctx, ctx.alice, "beta");
    const r = await kiotaWithStatus((cfg) => client.print.shares.byPrinterShareId(ctx.s1).jobs.post(
      { displayName: "Quarterly report", configuration: { copies: 2, dpi: 600 } }, cfg),
    models.createPrintJobFromDiscriminatorValue);
    assert.equal(r.status, 201, r.text);
    const j = r.json;
    assert.deepEqual(Object.keys(j).sort(), JOB_KEYS_BETA);
    assert.equal(j["@odata.context"], `${ctx.srv.url}/beta/$metadata#print/shares('${ctx.s1}')/jobs/$entity`);
    assert.equal(j.displayName, "Quarterly report");
    assert.equal(j.status.acquiredByPrinter, false);
    assert.equal(j.status.processingState, "paused");
    assert.equal(j.status.processingStateDescription, j.status.description);
    assert.equal(j.configuration.copies, 2);
    assert.equal(r.value.displayName, "Quarterly report");
    // The same object through the printer.
    const g = await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs/${j.id}`, { token: ctx.alice });
    assert.equal(g.status, 200, g.text);
    assert.equal(g.json.id, j.id);
    assert.ok(!("displayName" in g.json), "displayName is beta only");
  });

  it("the 201 is byte for byte the job read back with $expand=documents (v1.0 and beta, printer and share)", async () => {
    // A create's answer is written as text; the read with $expand=documents still builds the
    // jansson tree and dumps it, so the two must agree to the byte while nothing changed.
    const cases = [
      { version: "v1.0", parent: `printers/${ctx.p1}`, body: { configuration: FULL_CONFIG } },
      { version: "beta", parent: `shares/${ctx.s1}`,
        body: { displayName: "Q3 \"report\" \u00e9\u2028\t/\\ \ud83d\udda8", configuration: { copies: 3, mediaSize: "A4" } } },
      { version: "v1.0", parent: `shares/${ctx.s1}`, body: {}, headers: { prefer: "include-unknown-enum-members" } },
    ];
    for (const c of cases) {
      const headers = c.headers || {};
      const r = await raw(ctx, `/${c.version}/print/${c.parent}/jobs`, { method: "POST", token: ctx.alice, json: c.body, headers });
      assert.equal(r.status, 201, r.text);
      const g = await raw(ctx, `/${c.version}/print/${c.parent}/jobs/${r.json.id}?$expand=documents`, { token: ctx.alice, headers });
      assert.equal(g.status, 200, g.text);
      assert.equal(r.text, g.text, `${c.version} ${c.parent}: the create's answer and the tree's`);
      assert.equal(r.json.documents.length, 1);
      if (c.body.displayName) assert.equal(r.json.displayName, c.body.displayName);
    }
  });

  it("an empty body or {} creates a job with an all-null configuration ([] for its collections)", async () => {
    const r = await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs`, {
      method: "POST", token: ctx.alice, headers: { "content-type": "application/json" }, body: "",
    });
    assert.equal(r.status, 201, r.text);
    assert.ok(Object.entries(r.json.configuration).every(([k, v]) =>
      (["finishings", "pageRanges"].includes(k) ? Array.isArray(v) && !v.length : v === null)));
  });

  it("400 for supplied documents, bad enums, media sizes, ranges, read-only and unknown properties", async () => {
    const cases = [
      [{ documents: [{ displayName: "x" }] }, /documents/],
      [{ configuration: { colorMode: "rainbow" } }, /configuration\/colorMode/],
      [{ configuration: { finishings: ["staple", "glitter"] } }, /configuration\/finishings\[1\]/],
      [{ configuration: { mediaSize: "A4 Huge" } }, /configuration\/mediaSize/],
      [{ configuration: { copies: 0 } }, /configuration\/copies/],
      [{ configuration: { copies: "2" } }, /configuration\/copies/],
      [{ configuration: { pageRanges: [{ start: 5, end: 2 }] } }, /pageRanges\[0\]/],
      [{ configuration: { margin: { top: -1 } } }, /margin\/top/],
      [{ configuration: { margin: { inner: 1 } } }, /margin\/inner/],
      [{ configuration: { staple: true } }, /configuration\/staple/],
      [{ status: { state: "completed" } }, /status.*read-only/],
      [{ configuration: null }, /configuration/],
      [{ displayName: "beta only" }, /displayName/],
    ];
    for (const [body, msg] of cases) {
      const r = await createRaw(ctx, `printers/${ctx.p1}`, ctx.alice, body);
      const e = assertErrorEnvelope(r, { status: 400, code: "invalidRequest" });
      assert.match(e.message, msg, JSON.stringify(body));
    }
    // Through Kiota, the error surfaces as an ODataError naming the property.
    const e = await expectKiotaError(kiota(ctx, ctx.alice).print.printers.byPrinterId(ctx.p1).jobs.post({
      configuration: { additionalData: { quality: "ultra" } },
    }), { status: 400, code: "invalidRequest" });
    assert.match(e.message, /configuration\/quality/);
  });

  it("409 notAllowed on a printer that is not accepting jobs", async () => {
    // Only the registering application may change isAcceptingJobs (with an app token).
    const registrar = await ctx.srv.mintApp({ tenant: ctx.tenant, roles: "Printer.ReadWrite.All" });
    const p = await raw(ctx, `/v1.0/print/printers/${ctx.p2}`, { method: "PATCH", token: registrar, json: { isAcceptingJobs: false } });
    assert.ok(p.status === 200 || p.status === 204, p.text);
    const r = await createRaw(ctx, `printers/${ctx.p2}`, ctx.alice, {});
    const e = assertErrorEnvelope(r, { status: 409, code: "notAllowed" });
    assert.match(e.message, /not accepting jobs/);
  });

  it("403 through a share the user may not print to; the administrator may", async () => {
    const r = await createRaw(ctx, `shares/${ctx.s3}`, ctx.alice, {});
    const e = assertErrorEnvelope(r, { status: 403, code: "accessDenied" });
    assert.match(e.message, new RegExp(`^You are not allowed to print to share '.*' \\(${ctx.s3}\\): ask an administrator`));
    const list = await raw(ctx, `/v1.0/print/shares/${ctx.s3}/jobs?$top=1`, { token: ctx.admin });
    const before = list.json.value.length;
    assert.equal(before, 0, "the refused create wrote nothing");
    assert.equal((await createRaw(ctx, `printers/${ctx.p3}`, ctx.alice, {})).status, 201, "the printer path has no share rule");
  });

  it("404 for unknown and other tenants' printers and shares", async () => {
    assertErrorEnvelope(await createRaw(ctx, `printers/${randomUUID()}`, ctx.alice, {}), { status: 404, code: "itemNotFound" });
    // through a share the store reads the share in the create's write; a refusal is answered
    // by the full path, as a read of the share answers it
    for (const [share, token] of [[randomUUID(), ctx.alice], [ctx.s1, ctx.otherAdmin]]) {
      const e = assertErrorEnvelope(await createRaw(ctx, `shares/${share}`, token, {}), { status: 404, code: "itemNotFound" });
      const read = assertErrorEnvelope(await raw(ctx, `/v1.0/print/shares/${share}/jobs/1`, { token }), { status: 404, code: "itemNotFound" });
      assert.equal(e.message, read.message);
    }
    assertErrorEnvelope(await createRaw(ctx, `printers/${ctx.p1}`, ctx.otherAdmin, {}), { status: 404, code: "itemNotFound" });
  });

  it("403 without a job scope, and for application tokens (create is delegated only)", async () => {
    const noJobs = await ctx.srv.mintUser({ tenant: ctx.tenant, scopes: "Printer.Read.All" });
    assertErrorEnvelope(await createRaw(ctx, `printers/${ctx.p1}`, noJobs, {}), { status: 403, code: "accessDenied" });
    const app = await ctx.srv.mintApp({ tenant: ctx.tenant, roles: "PrintJob.ReadWrite.All Printer.Read.All" });
    assertErrorEnvelope(await createRaw(ctx, `printers/${ctx.p1}`, app, {}), { status: 403, code: "accessDenied" });
  });
});

describe("get, list, filters, visibility", () => {
  const ctx = withServer();
  before(async () => {
    ctx.p1 = await registerPrinter(ctx.srv, ctx.admin, { name: "P1" });
    ctx.s1 = await createShare(ctx.srv, ctx.admin, ctx.p1);
    ctx.aliceJobs = [];
    ctx.bobJobs = [];
    for (let i = 0; i < 3; i++) ctx.aliceJobs.push((await createJob(ctx.srv, ctx.alice, `printers/${ctx.p1}`, { configuration: { copies: i + 1 } })).id);
    for (let i = 0; i < 2; i++) ctx.bobJobs.push((await createJob(ctx.srv, ctx.bob, `shares/${ctx.s1}`)).id);
    ctx.basic = await ctx.srv.mintUser({ tenant: ctx.tenant, user: ctx.aliceId, upn: "Alice@Contoso.test", scopes: BASIC_SCOPES });
    ctx.allNoAdmin = await ctx.srv.mintUser({ tenant: ctx.tenant, user: ctx.aliceId, upn: "Alice@Contoso.test", scopes: "Printer.Read.All PrintJob.ReadWrite.All" });
    ctx.app = await ctx.srv.mintApp({ tenant: ctx.tenant, roles: "PrintJob.Read.All Printer.Read.All" });
    ctx.appNoPrinter = await ctx.srv.mintApp({ tenant: ctx.tenant, roles: "PrintJob.Read.All" });
  });

  const ids = (r) => r.json.value.map((j) => j.id);

  it("GET job (Kiota v1.0 and beta, printer and share): 200 printJob; documents only with $expand", async () => {
    const id = ctx.aliceJobs[0];
    const j = await kiota(ctx, ctx.alice).print.printers.byPrinterId(ctx.p1).jobs.byPrintJobId(id).get();
    assert.equal(j.id, id);
    assert.equal(j.status.state, "paused");
    assert.deepEqual(j.status.details, ["uploadPending"]);
    assert.equal(j.configuration.copies, 1);
    assert.equal(j.documents, undefined, "no documents without $expand");
    const b = await kiota(ctx, ctx.alice, "beta").print.shares.byPrinterShareId(ctx.s1).jobs.byPrintJobId(id).get();
    assert.equal(b.id, id);
    const r = await raw(ctx, `/beta/print/shares/${ctx.s1}/jobs('${id}')`, { token: ctx.alice });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json["@odata.context"], `${ctx.srv.url}/beta/$metadata#print/shares('${ctx.s1}')/jobs/$entity`);
  });

  it("a job read from the store and the same job from the hot-job cache: the same bytes", async () => {
    // On SQLite a job's first two reads come from the store (the second puts it into the
    // cache) and the later ones from the cache; every answer must be the same, byte for byte.
    const id = ctx.aliceJobs[1];
    for (const v of ["v1.0", "beta"]) {
      const path = `/${v}/print/printers/${ctx.p1}/jobs/${id}`;
      const reads = [];
      for (let i = 0; i < 4; i++) reads.push(await raw(ctx, path, { token: ctx.app }));
      for (const [i, r] of reads.entries()) {
        assert.equal(r.status, 200, r.text);
        assert.equal(r.text, reads[0].text, `${v}: read ${i + 1} against the first`);
        assert.equal(r.headers.get("etag"), reads[0].headers.get("etag"), `${v}: ETag of read ${i + 1}`);
        assert.equal(r.headers.get("content-length"), reads[0].headers.get("content-length"));
      }
      assert.equal(reads[0].json.id, id);
      assert.equal(reads[0].json.configuration.copies, 2);
    }
  });

  it("$select and $expand=documents,tasks", async () => {
    const id = ctx.aliceJobs[0];
    const r = await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs/${id}?$select=status,isFetchable`, { token: ctx.alice });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.json).sort(), ["@odata.context", "id", "isFetchable", "status"]);
    const k = await kiota(ctx, ctx.alice).print.printers.byPrinterId(ctx.p1).jobs.byPrintJobId(id)
      .get({ queryParameters: { expand: ["documents", "tasks"], select: ["id", "createdBy"] } });
    assert.equal(k.documents.length, 1);
    assert.match(k.documents[0].id, GUID);
    assert.equal(k.documents[0].size, 0);
    assert.deepEqual(k.tasks, []);
    assert.equal(k.createdBy.userPrincipalName, "Alice@Contoso.test");
    assert.equal(k.status, undefined);
    const bad = await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs/${id}?$select=colour`, { token: ctx.alice });
    assert.equal(assertErrorEnvelope(bad, { status: 400, code: "invalidRequest" }).innerError.code, "invalidQueryOption");
    assert.match(bad.json.error.message, /colour/);
    const bad2 = await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs/${id}?$expand=printer`, { token: ctx.alice });
    assertErrorEnvelope(bad2, { status: 400, code: "invalidRequest" });
  });

  it("$expand=documents needs a non-Basic job permission (403 naming one)", async () => {
    const id = ctx.aliceJobs[0];
    const r = await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs/${id}?$expand=documents`, { token: ctx.basic });
    const e = assertErrorEnvelope(r, { status: 403, code: "accessDenied" });
    assert.match(e.message, /PrintJob\.Read/);
    const ok = await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs/${id}`, { token: ctx.basic });
    assert.equal(ok.status, 200, "job metadata with a Basic scope");
  });

  it("own jobs only without .All + administrator: others' jobs are 404", async () => {
    const bobs = ctx.bobJobs[0];
    assertErrorEnvelope(await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs/${bobs}`, { token: ctx.alice }), { status: 404, code: "itemNotFound" });
    assertErrorEnvelope(await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs/${bobs}`, { token: ctx.allNoAdmin }), { status: 404, code: "itemNotFound" });
    assert.equal((await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs/${bobs}`)).status, 200, "the administrator sees it");
    assert.equal((await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs/${bobs}`, { token: ctx.app })).status, 200, "so does an app");
    assertErrorEnvelope(await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs/999999`, { token: ctx.alice }), { status: 404, code: "itemNotFound" });
    assertErrorEnvelope(await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs/abc`, { token: ctx.alice }), { status: 404, code: "itemNotFound" });
  });

  it("list: users see their own jobs; .All + administrator and apps see all; documents omitted", async () => {
    const mine = await kiota(ctx, ctx.alice).print.printers.byPrinterId(ctx.p1).jobs.get();
    assert.deepEqual(mine.value.map((j) => j.id), ctx.aliceJobs);
    assert.ok(mine.value.every((j) => j.documents === undefined));
    const viaShare = await raw(ctx, `/v1.0/print/shares/${ctx.s1}/jobs`, { token: ctx.bob });
    assert.equal(viaShare.status, 200, viaShare.text);
    assert.equal(viaShare.json["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#print/shares('${ctx.s1}')/jobs`);
    assert.deepEqual(ids(viaShare), ctx.bobJobs);
    assert.deepEqual(ids(await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs`, { token: ctx.allNoAdmin })), ctx.aliceJobs,
      ".All without the administrator role reaches only the user's own jobs");
    const all = await raw(ctx, `/beta/print/printers/${ctx.p1}/jobs`);
    assert.equal(all.json["@odata.context"], `${ctx.srv.url}/beta/$metadata#print/printers('${ctx.p1}')/jobs`);
    assert.deepEqual(ids(all), [...ctx.aliceJobs, ...ctx.bobJobs]);
    assert.deepEqual(ids(await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs`, { token: ctx.app })), [...ctx.aliceJobs, ...ctx.bobJobs]);
    const e = assertErrorEnvelope(await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs`, { token: ctx.appNoPrinter }), { status: 403, code: "accessDenied" });
    assert.match(e.message, /Printer\.Read/);
    const expanded = await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs?$expand=documents`, { token: ctx.alice });
    assert.ok(expanded.json.value.every((j) => j.documents.length === 1));
  });

  it("$filter on createdBy/userPrincipalName (case-insensitive), status/state, isFetchable, id, createdDateTime", async () => {
    const client = kiota(ctx, ctx.admin);
    const jobs = client.print.printers.byPrinterId(ctx.p1).jobs;
    const byUpn = await jobs.get({ queryParameters: { filter: "createdBy/userPrincipalName eq 'alice@CONTOSO.test'" } });
    assert.deepEqual(byUpn.value.map((j) => j.id), ctx.aliceJobs);
    const paused = await jobs.get({ queryParameters: { filter: "status/state eq 'paused' and isFetchable eq false" } });
    assert.equal(paused.value.length, 5);
    const none = await jobs.get({ queryParameters: { filter: "status/state eq 'processing'" } });
    assert.deepEqual(none.value, []);
    const one = await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs?$filter=id eq '${ctx.bobJobs[1]}'`);
    assert.deepEqual(ids(one), [ctx.bobJobs[1]]);
    const recent = await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs?$filter=createdDateTime ge ${new Date(Date.now() - 3600_000).toISOString()}`);
    assert.equal(recent.status, 200, recent.text);
    assert.equal(recent.json.value.length, 5);
    const asAlice = await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs?$filter=createdBy/userPrincipalName eq 'bob@contoso.test'`, { token: ctx.alice });
    assert.deepEqual(asAlice.json.value, [], "a filter never widens what the caller may see");
    const bad = await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs?$filter=status/state eq 'asleep'`);
    assertErrorEnvelope(bad, { status: 400, code: "invalidRequest" });
    assert.equal(bad.json.error.innerError.code, "invalidQueryOption");
  });

  it("$count and $search are refused with invalidQueryOption; $orderby and $select on lists", async () => {
    for (const q of ["$count=true", "$search=%22x%22"]) {
      const r = await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs?${q}`);
      assertErrorEnvelope(r, { status: 400, code: "invalidRequest" });
      assert.equal(r.json.error.innerError.code, "invalidQueryOption", q);
    }
    const desc = await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs?$orderby=id desc`);
    assert.deepEqual(ids(desc), [...ctx.aliceJobs, ...ctx.bobJobs].reverse());
    const byUpn = await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs?$orderby=createdBy/userPrincipalName,createdDateTime desc`);
    assert.deepEqual(ids(byUpn), [...[...ctx.aliceJobs].reverse(), ...[...ctx.bobJobs].reverse()]);
    const sel = await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs?$select=createdBy`);
    assert.ok(sel.json.value.every((j) => Object.keys(j).sort().join() === "createdBy,id"));
  });

  it("another tenant sees nothing (404)", async () => {
    assertErrorEnvelope(await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs`, { token: ctx.otherAdmin }), { status: 404, code: "itemNotFound" });
    assertErrorEnvelope(await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs/${ctx.aliceJobs[0]}`, { token: ctx.otherAdmin }), { status: 404, code: "itemNotFound" });
    assertErrorEnvelope(await raw(ctx, `/v1.0/print/shares/${ctx.s1}/jobs/${ctx.aliceJobs[0]}/cancel`, { method: "POST", token: ctx.otherAdmin }), { status: 404, code: "itemNotFound" });
  });
});

describe("start, cancel, delete", () => {
  const ctx = withServer({ tls: true });
  before(async () => {
    ctx.p1 = await registerPrinter(ctx.srv, ctx.admin, { name: "P1" });
    ctx.s1 = await createShare(ctx.srv, ctx.admin, ctx.p1);
  });

  it("start before the upload: 409 notAllowed; after it: 200 printJobStatus processing/interpreting, isFetchable", async () => {
    const job = await createJob(ctx.srv, ctx.alice, `shares/${ctx.s1}`);
    const client = kiota(ctx, ctx.alice);
    const start = () => client.print.shares.byPrinterShareId(ctx.s1).jobs.byPrintJobId(job.id).start.post();
    const e = await expectKiotaError(start(), { status: 409, code: "notAllowed" });
    assert.match(e.message, /upload/);
    await uploadDocument(ctx.srv, ctx.alice, `shares/${ctx.s1}`, job);
    const st = await start();
    assert.equal(st.state, "processing");
    assert.deepEqual(st.details, ["interpreting"]);
    assert.equal(st.isAcquiredByPrinter, false);
    assert.equal(st.description, "The print job is currently being processed.");
    const g = await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs/${job.id}`, { token: ctx.alice });
    assert.equal(g.json.isFetchable, true);
    assert.equal(g.json.status.state, "processing");
    // Started once only; an {} body is accepted like no body.
    const again = await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs/${job.id}/start`, { method: "POST", token: ctx.alice, json: {} });
    assert.match(assertErrorEnvelope(again, { status: 409, code: "notAllowed" }).message, /already been started/);
    const fetchable = await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs?$filter=isFetchable eq true`);
    assert.deepEqual(fetchable.json.value.map((j) => j.id), [job.id]);
  });

  it("createUploadSession, the upload's 201 and start answer the bytes of their jansson trees (v1.0 and beta, printer and share)", async () => {
    // These answers are written as text; the document read and the job read with
    // $expand=documents still build the tree, so the texts must agree with them to the byte.
    const name = "Q3 \"report\" \u00e9 \\ /.pdf";
    const cases = [
      { version: "v1.0", parent: `printers/${ctx.p1}`, headers: {} },
      { version: "beta", parent: `shares/${ctx.s1}`, headers: { prefer: "include-unknown-enum-members" } },
    ];
    for (const c of cases) {
      const base = `/${c.version}/print/${c.parent}/jobs`;
      const job = await raw(ctx, base, { method: "POST", token: ctx.alice, json: {}, headers: c.headers });
      assert.equal(job.status, 201, job.text);
      const docId = job.json.documents[0].id;
      const s = await raw(ctx, `${base}/${job.json.id}/documents/${docId}/createUploadSession`, {
        method: "POST", token: ctx.alice, headers: c.headers,
        json: { properties: { documentName: name, contentType: "application/pdf", size: TEST_PDF.length } },
      });
      assert.equal(s.status, 200, s.text);
      assert.deepEqual(Object.keys(s.json), ["@odata.context", "uploadUrl", "expirationDateTime", "nextExpectedRanges"]);
      assert.equal(s.text, JSON.stringify(s.json), "compact, in the tree's member order");
      assert.match(s.json["@odata.context"], /\/\$metadata#microsoft\.graph\.uploadSession$/);
      assert.deepEqual(s.json.nextExpectedRanges, [`0-${TEST_PDF.length - 1}`]);
      const put = await rawFetch(s.json.uploadUrl.replace(ctx.srv.url, ctx.srv.origin), {
        method: "PUT", body: TEST_PDF, ca: ctx.srv.ca,
        headers: { "content-range": `bytes 0-${TEST_PDF.length - 1}/${TEST_PDF.length}`, "content-type": "application/octet-stream" },
      });
      assert.equal(put.status, 201, put.text);
      const d = await raw(ctx, `${base}/${job.json.id}/documents/${docId}`, { token: ctx.alice, headers: c.headers });
      assert.equal(d.status, 200, d.text);
      // the document read is {"@odata.context":...,"id":...}; the 201 is the same members
      // without the context, then "documentName"
      const members = d.text.slice(d.text.indexOf(',"id":') + 1, -1);
      assert.equal(put.text, `{${members},"documentName":${JSON.stringify(name)}}`, `${c.version}: the upload's 201`);
      const st = await raw(ctx, `${base}/${job.json.id}/start`, { method: "POST", token: ctx.alice, headers: c.headers });
      assert.equal(st.status, 200, st.text);
      const g = await raw(ctx, `${base}/${job.json.id}?$expand=documents`, { token: ctx.alice, headers: c.headers });
      assert.equal(g.status, 200, g.text);
      // the status member of the tree's text (its strings hold no braces)
      const at = g.text.indexOf('"status":{') + '"status":'.length;
      const status = g.text.slice(at, g.text.indexOf("}", at) + 1);
      assert.equal(st.text, `${status.slice(0, -1)},"@odata.context":${JSON.stringify(st.json["@odata.context"])}}`,
        `${c.version}: the start's answer`);
      assert.match(st.json["@odata.context"], /\/\$metadata#microsoft\.graph\.printJobStatus$/);
    }
  });

  it("start with parameters is 400; another user's job is 404", async () => {
    const job = await createJob(ctx.srv, ctx.alice, `printers/${ctx.p1}`);
    const r = await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs/${job.id}/start`, { method: "POST", token: ctx.alice, json: { now: true } });
    assertErrorEnvelope(r, { status: 400, code: "invalidRequest" });
    assertErrorEnvelope(await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs/${job.id}/start`, { method: "POST", token: ctx.bob }), { status: 404, code: "itemNotFound" });
  });

  it("cancel: owner 204, again 409; another user 403; administrator 204 (v3 client over TLS)", async () => {
    const a = await createJob(ctx.srv, ctx.alice, `printers/${ctx.p1}`);
    const client = kiota(ctx, ctx.alice);
    const cancelA = () => client.print.printers.byPrinterId(ctx.p1).jobs.byPrintJobId(a.id).cancel.post();
    const r = await kiotaWithStatus((cfg) => client.print.printers.byPrinterId(ctx.p1).jobs.byPrintJobId(a.id).cancel.post(cfg));
    assert.equal(r.status, 204);
    assert.equal(r.text, "");
    const g = await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs/${a.id}`, { token: ctx.alice });
    assert.equal(g.json.status.state, "canceled");
    assert.equal(g.json.isFetchable, false);
    const e = await expectKiotaError(cancelA(), { status: 409, code: "notAllowed" });
    assert.match(e.message, /canceled/);

    const b = await createJob(ctx.srv, ctx.alice, `shares/${ctx.s1}`);
    const denied = await raw(ctx, `/v1.0/print/shares/${ctx.s1}/jobs/${b.id}/cancel`, { method: "POST", token: ctx.bob });
    assert.match(assertErrorEnvelope(denied, { status: 403, code: "accessDenied" }).message, /Printer Administrator/);
    const v3 = v3Client({ origin: ctx.srv.origin, version: "v1.0", token: ctx.admin, ca: ctx.srv.ca });
    await v3.api(`/print/shares/${ctx.s1}/jobs/${b.id}/cancel`).post({});
    await expectGraphError(v3.api(`/print/shares/${ctx.s1}/jobs/${b.id}/cancel`).post({}), { status: 409, code: "notAllowed" });
    const canceled = await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs?$filter=status/state eq 'canceled'`);
    assert.deepEqual(canceled.json.value.map((j) => j.id).sort(), [a.id, b.id].sort());
    const app = await ctx.srv.mintApp({ tenant: ctx.tenant, roles: "PrintJob.ReadWrite.All Printer.Read.All" });
    assertErrorEnvelope(await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs/${b.id}/cancel`, { method: "POST", token: app }), { status: 403, code: "accessDenied" });
  });

  it("cancel refusals keep their order and texts: 404 (unknown, another printer's, not a job id), 403 another user's, then the body's 400; nothing changes", async () => {
    // cancel writes without reading the job first; a refusal is answered as the job read would
    // have answered it, before the body's 400
    const p2 = await registerPrinter(ctx.srv, ctx.admin, { name: "P2" });
    const a = await createJob(ctx.srv, ctx.alice, `shares/${ctx.s1}`);
    const post = (path, token, body) => raw(ctx, path, { method: "POST", token, body, headers: { "content-type": "application/json" } });
    const notFound = [
      [`/v1.0/print/printers/${ctx.p1}/jobs/999999/cancel`, "printer", "999999"],
      [`/v1.0/print/printers/${p2}/jobs/${a.id}/cancel`, "printer", a.id],
      [`/v1.0/print/shares/${ctx.s1}/jobs/x1/cancel`, "printer share", "x1"],
      [`/v1.0/print/shares/${ctx.s1}/jobs/0/cancel`, "printer share", "0"],
    ];
    for (const [path, where, id] of notFound) {
      for (const body of ["{}", "", '{"x": 1}', "{"]) {
        const err = assertErrorEnvelope(await post(path, ctx.alice, body), { status: 404, code: "itemNotFound" });
        assert.equal(err.message, `The print job '${id}' was not found on this ${where}.`, `${path} ${body}`);
      }
    }
    for (const path of [`/v1.0/print/shares/${ctx.s1}/jobs/${a.id}/cancel`, `/v1.0/print/printers/${ctx.p1}/jobs/${a.id}/cancel`]) {
      for (const body of ["{}", '{"x": 1}']) {
        const err = assertErrorEnvelope(await post(path, ctx.bob, body), { status: 403, code: "accessDenied" });
        assert.equal(err.message, `Print job '${a.id}' was created by another user: canceling another user's job requires the Printer Administrator or Global Administrator role.`);
      }
    }
    assertErrorEnvelope(await post(`/v1.0/print/shares/${ctx.s1}/jobs/${a.id}/cancel`, ctx.alice, '{"x": 1}'), { status: 400, code: "invalidRequest" });
    const before = await raw(ctx, `/v1.0/print/shares/${ctx.s1}/jobs/${a.id}`, { token: ctx.alice });
    assert.notEqual(before.json.status.state, "canceled");
    assert.equal((await post(`/v1.0/print/shares/${ctx.s1}/jobs/${a.id}/cancel`, ctx.alice, "")).status, 204);
    const err = assertErrorEnvelope(await post(`/v1.0/print/shares/${ctx.s1}/jobs/${a.id}/cancel`, ctx.alice, "{}"), { status: 409, code: "notAllowed" });
    assert.match(err.message, /canceled/);
  });

  it("cancel and start through a share the store reads in the write: an unknown share is the share's 404, another share's job the job's 404, before the body's 400; nothing changes", async () => {
    // the direct cancel and start read the share in their own write transaction; any refusal
    // is answered by the full path, which reads the share first
    const p2 = await registerPrinter(ctx.srv, ctx.admin, { name: "P2 other share" });
    const s2 = await createShare(ctx.srv, ctx.admin, p2);
    const a = await createJob(ctx.srv, ctx.alice, `shares/${ctx.s1}`);
    await uploadDocument(ctx.srv, ctx.alice, `shares/${ctx.s1}`, a);
    const post = (path, body) => raw(ctx, path, { method: "POST", token: ctx.alice, body, headers: { "content-type": "application/json" } });
    const unknown = randomUUID();
    const shareErr = assertErrorEnvelope(await raw(ctx, `/v1.0/print/shares/${unknown}/jobs/${a.id}`, { token: ctx.alice }), { status: 404, code: "itemNotFound" });
    for (const action of ["cancel", "start"]) {
      for (const body of ["{}", "", '{"x": 1}', "{"]) {
        const e1 = assertErrorEnvelope(await post(`/v1.0/print/shares/${unknown}/jobs/${a.id}/${action}`, body), { status: 404, code: "itemNotFound" });
        assert.equal(e1.message, shareErr.message, `${action} ${body}`);
        const e2 = assertErrorEnvelope(await post(`/v1.0/print/shares/${s2}/jobs/${a.id}/${action}`, body), { status: 404, code: "itemNotFound" });
        assert.equal(e2.message, `The print job '${a.id}' was not found on this printer share.`, `${action} ${body}`);
      }
    }
    const after = await raw(ctx, `/v1.0/print/shares/${ctx.s1}/jobs/${a.id}`, { token: ctx.alice });
    assert.equal(after.json.status.state, "paused", "nothing changed");
    const created = await createRaw(ctx, `shares/${s2}`, ctx.alice, {});
    assert.equal(created.status, 201);
    assert.equal((await post(`/v1.0/print/shares/${s2}/jobs/${created.json.id}/cancel`, "")).status, 204);
  });

  it("start refusals keep their order and texts: 404 (unknown, another printer's, not a job id, another user's), then the body's 400, then 409; nothing changes", async () => {
    // start writes without reading the job first; a refusal is answered as the job read would
    // have answered it
    const p2 = await registerPrinter(ctx.srv, ctx.admin, { name: "P2 start" });
    const a = await createJob(ctx.srv, ctx.alice, `shares/${ctx.s1}`);
    const post = (path, token, body) => raw(ctx, path, { method: "POST", token, body, headers: { "content-type": "application/json" } });
    const notFound = [
      [`/v1.0/print/printers/${ctx.p1}/jobs/999999/start`, ctx.alice, "printer", "999999"],
      [`/v1.0/print/printers/${p2}/jobs/${a.id}/start`, ctx.alice, "printer", a.id],
      [`/v1.0/print/shares/${ctx.s1}/jobs/x1/start`, ctx.alice, "printer share", "x1"],
      [`/v1.0/print/shares/${ctx.s1}/jobs/${a.id}/start`, ctx.bob, "printer share", a.id],
      [`/v1.0/print/printers/${ctx.p1}/jobs/${a.id}/start`, ctx.bob, "printer", a.id],
    ];
    for (const [path, token, where, id] of notFound) {
      for (const body of ["{}", "", '{"x": 1}', "{"]) {
        const err = assertErrorEnvelope(await post(path, token, body), { status: 404, code: "itemNotFound" });
        assert.equal(err.message, `The print job '${id}' was not found on this ${where}.`, `${path} ${body}`);
      }
    }
    const path = `/v1.0/print/shares/${ctx.s1}/jobs/${a.id}/start`;
    assertErrorEnvelope(await post(path, ctx.alice, '{"x": 1}'), { status: 400, code: "invalidRequest" });
    const err = assertErrorEnvelope(await post(path, ctx.alice, "{}"), { status: 409, code: "notAllowed" });
    assert.match(err.message, /upload/);
    const after = await raw(ctx, `/v1.0/print/shares/${ctx.s1}/jobs/${a.id}`, { token: ctx.alice });
    assert.equal(after.json.status.state, "paused");
  });

  it("v3 client: create through a share and read it back", async () => {
    const v3 = v3Client({ origin: ctx.srv.origin, version: "beta", token: ctx.alice, ca: ctx.srv.ca });
    const j = await v3.api(`/print/shares/${ctx.s1}/jobs`).post({ configuration: { copies: 1, dpi: 600 } });
    assert.equal(j.status.state, "paused");
    const g = await v3.api(`/print/shares/${ctx.s1}/jobs/${j.id}`).expand("documents").get();
    assert.equal(g.documents.length, 1);
  });

  it("DELETE a job: 405 notSupported", async () => {
    const a = await createJob(ctx.srv, ctx.alice, `printers/${ctx.p1}`);
    const r = await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs/${a.id}`, { method: "DELETE", token: ctx.alice });
    assert.match(assertErrorEnvelope(r, { status: 405, code: "notSupported" }).message, /cancel/);
    assert.equal((await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs/${a.id}`, { token: ctx.alice })).status, 200);
  });
});

describe("start on a printer with a task trigger: the job is held", () => {
  const ctx = withServer();
  before(async () => {
    ctx.p1 = await registerPrinter(ctx.srv, ctx.admin, { name: "Virtual" });
    ctx.pullApp = await ctx.srv.mintApp({ tenant: ctx.tenant, app: PULL_APP, roles: "PrintTaskDefinition.ReadWrite.All PrintJob.Manage.All Printer.Read.All" });
    ctx.triggerAdmin = await ctx.srv.mintUser({ tenant: ctx.tenant, app: PULL_APP, scopes: ADMIN_SCOPES, admin: true });
    const d = await raw(ctx, "/v1.0/print/taskDefinitions", { method: "POST", token: ctx.pullApp, json: { displayName: "Release" } });
    assert.equal(d.status, 201, d.text);
    ctx.def = d.json.id;
    const t = await raw(ctx, `/v1.0/print/printers/${ctx.p1}/taskTriggers`, {
      method: "POST", token: ctx.triggerAdmin,
      json: { event: "jobStarted", "definition@odata.bind": `${ctx.srv.url}/v1.0/print/taskDefinitions/${ctx.def}` },
    });
    assert.equal(t.status, 201, t.text);
  });

  it("200 paused/[] 'waiting for a print task'; a processing task; cancel aborts the task", async () => {
    const job = await createJob(ctx.srv, ctx.alice, `printers/${ctx.p1}`);
    await uploadDocument(ctx.srv, ctx.alice, `printers/${ctx.p1}`, job);
    const st = await kiota(ctx, ctx.alice).print.printers.byPrinterId(ctx.p1).jobs.byPrintJobId(job.id).start.post();
    assert.equal(st.state, "paused");
    assert.deepEqual(st.details, []);
    assert.equal(st.description, "The job is waiting for a print task to complete.");
    const g = await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs/${job.id}?$expand=tasks`, { token: ctx.alice });
    assert.equal(g.json.isFetchable, false);
    assert.equal(g.json.tasks.length, 1);
    assert.equal(g.json.tasks[0].status.state, "processing");
    assert.equal(g.json.tasks[0].parentUrl, `${ctx.srv.url}/v1.0/print/printers/${ctx.p1}/jobs/${job.id}`);
    const tasks = await raw(ctx, `/v1.0/print/taskDefinitions/${ctx.def}/tasks`, { token: ctx.pullApp });
    assert.equal(tasks.status, 200, tasks.text);
    assert.deepEqual(tasks.json.value.map((t) => t.id), [g.json.tasks[0].id]);

    const c = await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs/${job.id}/cancel`, { method: "POST", token: ctx.alice });
    assert.equal(c.status, 204, c.text);
    const after = await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs/${job.id}?$expand=tasks`, { token: ctx.alice });
    assert.equal(after.json.status.state, "canceled");
    assert.equal(after.json.tasks[0].status.state, "aborted");
  });
});

describe("paging through 2,500 jobs", () => {
  const ctx = withServer({ args: ["--max-jobs-per-printer-window", "0", "--max-jobs-per-user-window", "0"] });
  const N = 2500;
  before(async () => {
    ctx.p1 = await registerPrinter(ctx.srv, ctx.admin, { name: "Busy" });
    const body = JSON.stringify({ configuration: { copies: 1 } });
    let made = 0;
    const worker = async () => {
      while (made < N) {
        made++;
        const r = await rawFetch(`${ctx.srv.origin}/v1.0/print/printers/${ctx.p1}/jobs`, {
          method: "POST", token: made % 2 ? ctx.alice : ctx.bob, body, headers: { "content-type": "application/json" },
        });
        assert.equal(r.status, 201, r.text);
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
  });

  // SQLite's single writer takes ids one after the other; PostgreSQL's sequence is not rolled
  // back when a create conflicts and runs again, so its ids may have gaps (never repeats).
  it("$top=100: 25 pages, every job once, ids ascending, no gaps on SQLite", async () => {
    const t0 = Date.now();
    const { items, pages } = await allPages(ctx, `${ctx.srv.origin}/v1.0/print/printers/${ctx.p1}/jobs?$top=100`, ctx.admin);
    assert.equal(pages, 25);
    assert.equal(items.length, N);
    const nums = items.map((j) => Number(j.id));
    assert.equal(new Set(nums).size, N, "no duplicates");
    const gapless = testStore() === "sqlite";
    for (let i = 1; i < N; i++) {
      if (gapless) assert.equal(nums[i], nums[i - 1] + 1, `no gap after ${nums[i - 1]}`);
      else assert.ok(nums[i] > nums[i - 1], `ascending after ${nums[i - 1]}`);
    }
    assert.ok(Date.now() - t0 < 30_000);
  });

  it("Kiota follows the nextLink; a filter pages too (own jobs of alice, 50 per page)", async () => {
    const client = kiota(ctx, ctx.admin);
    const first = await client.print.printers.byPrinterId(ctx.p1).jobs.get({ queryParameters: { top: 100 } });
    assert.equal(first.value.length, 100);
    assert.ok(first.odataNextLink.includes("$skiptoken="), first.odataNextLink);
    const { items, pages } = await allPages(ctx, `${ctx.srv.origin}/v1.0/print/printers/${ctx.p1}/jobs?$top=50`, ctx.alice);
    assert.equal(items.length, N / 2);
    assert.equal(pages, N / 2 / 50);
    assert.ok(items.every((j) => j.createdBy.id === ctx.aliceId));
    const byUpn = await allPages(ctx, `${ctx.srv.origin}/v1.0/print/printers/${ctx.p1}/jobs?$filter=createdBy/userPrincipalName eq 'BOB@contoso.test'&$top=100`, ctx.admin);
    assert.equal(byUpn.items.length, N / 2);
  });

  it("$top above 100 gives pages of 100; a token replayed with another filter is refused", async () => {
    const r = await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs?$top=500`);
    assert.equal(r.json.value.length, 100);
    const token = new URL(r.json["@odata.nextLink"]).searchParams.get("$skiptoken");
    const bad = await raw(ctx, `/v1.0/print/printers/${ctx.p1}/jobs?$filter=isFetchable eq true&$skiptoken=${encodeURIComponent(token)}`);
    assertErrorEnvelope(bad, { status: 400, code: "invalidRequest" });
  });
});

describe("job creation limits", () => {
  const ctx = withServer({ args: ["--max-jobs-per-printer-window", "3", "--max-jobs-per-user-window", "5", "--job-limit-window", "120"] });
  before(async () => {
    ctx.p1 = await registerPrinter(ctx.srv, ctx.admin, { name: "A" });
    ctx.p2 = await registerPrinter(ctx.srv, ctx.admin, { name: "B" });
  });

  it("429 activityLimitReached with Retry-After per printer, then per user", async () => {
    for (let i = 0; i < 3; i++) await createJob(ctx.srv, ctx.alice, `printers/${ctx.p1}`);
    const r = await createRaw(ctx, `printers/${ctx.p1}`, ctx.bob, {});
    const e = assertErrorEnvelope(r, { status: 429, code: "activityLimitReached" });
    assert.match(e.message, /printer/);
    const retry = Number(r.headers.get("retry-after"));
    assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 120, `Retry-After ${retry}`);
    // alice has 3 of her 5: two more on another printer, then the user limit answers.
    for (let i = 0; i < 2; i++) await createJob(ctx.srv, ctx.alice, `printers/${ctx.p2}`);
    const u = await createRaw(ctx, `printers/${ctx.p2}`, ctx.alice, {});
    assert.match(assertErrorEnvelope(u, { status: 429, code: "activityLimitReached" }).message, /You created too many/);
    assert.ok(Number(u.headers.get("retry-after")) >= 1);
    // bob still may print on the second printer (its window has 2 of 3).
    await createJob(ctx.srv, ctx.bob, `printers/${ctx.p2}`);
  });
});
