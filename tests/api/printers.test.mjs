// SPDX-License-Identifier: Apache-2.0
// Printers (reference §4.1, §4.6, §4.7, §5.4, §5.5) through the real Graph clients: registration
// with certificate signing requests made by `openssl req` at test time (RSA 2048 and EC P-256,
// plus refused ones: garbage, not PKCS#10, SHA-1, RSA 1024, P-384), the printerCreateOperation
// and its certificate chain (checked with `openssl verify`), list / get / $select=capabilities /
// update (delegated and registering application, deep merge) / delete (cascade) /
// restoreFactoryDefaults / getCapabilities under /v1.0 and /beta, paging through 250 printers,
// connectors, services, tenant isolation and the refusals that name what is missing. Every
// describe block runs its own spoold and stops it by PID.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID, randomBytes } from "node:crypto";
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { makeTempDir } from "./lib/server.mjs";
import {
  kiotaClient, v3Client, kiotaWithStatus, rawFetch, models, GUID, closeAgents,
} from "./lib/clients.mjs";
import { assertErrorEnvelope, expectKiotaError, expectGraphError } from "./lib/graph-assert.mjs";
import { PRINTER_MANAGEMENT_SCOPES, serverForSuite, makeCsr, csrBody, registerPrinter } from "./lib/fixtures.mjs";

const run = promisify(execFile);

const ADMIN_SCOPES = [
  ...PRINTER_MANAGEMENT_SCOPES, "PrinterShare.ReadWrite.All", "PrintConnector.ReadWrite.All", "PrintJob.ReadWrite.All",
].join(" ");
const APP_A = "00000000-0000-4000-8000-0000000000aa";   // registers the printers
const APP_B = "00000000-0000-4000-8000-0000000000bb";   // another application

const LOCATION_KEYS = ["altitudeInMeters", "building", "city", "countryOrRegion", "floor", "floorDescription",
  "latitude", "longitude", "organization", "postalCode", "roomDescription", "roomName", "site",
  "stateOrProvince", "streetAddress", "subdivision", "subunit"];
const LOCATION_LISTS = ["organization", "subdivision", "subunit"];   // collections: [] when empty, never null
const BUILTIN_DEFAULTS = {
  colorMode: "auto", contentType: "application/pdf", copiesPerJob: 1, dpi: null, duplexMode: "oneSided",
  finishings: ["none"], fitPdfToPage: false, inputBin: null, mediaColor: null, mediaSize: null, mediaType: null,
  multipageLayout: "clockwiseFromTopLeft", orientation: "portrait", outputBin: null, pagesPerSheet: 1,
  quality: "medium", scaling: "auto",
};

after(() => closeAgents());

// Certificate signing requests come from makeCsr() / csrBody() (lib/fixtures.mjs): RSA 2048 and
// EC P-256, and the refused RSA 1024, EC P-384 and SHA-1 ones, made with openssl at test time.

// Files of the certificate chain checks (verifyChain), in one temporary directory.
let chainDir;
async function tmp(name) {
  chainDir ||= await makeTempDir("spoold-chain-");
  return path.join(chainDir, name);
}

// ---- helpers -------------------------------------------------------------------------------------

function withServer(opts = {}) {
  return serverForSuite(opts, {
    ctx: { other: randomUUID() },
    tokens: (ctx) => ({
      admin: { app: APP_A, scopes: ADMIN_SCOPES, admin: true },
      otherAdmin: { tenant: ctx.other, app: APP_A, scopes: ADMIN_SCOPES, admin: true },
      reader: { app: APP_A, scopes: "Printer.Read.All", admin: true },
      notAdmin: { app: APP_A, scopes: ADMIN_SCOPES },
      appA: { app: APP_A, roles: "Printer.ReadWrite.All" },
      appB: { app: APP_B, roles: "Printer.ReadWrite.All" },
    }),
  });
}

const kiota = (ctx, token, version = "v1.0") => kiotaClient({ origin: ctx.srv.origin, version, token, ca: ctx.srv.ca });
const raw = (ctx, p, opts = {}) => rawFetch(`${ctx.srv.origin}${p}`, { token: ctx.admin, ca: ctx.srv.ca, ...opts });

// POST /print/printers/create through Kiota; resolves the raw 202 answer.
async function create(ctx, body, { token = ctx.admin, version = "v1.0" } = {}) {
  const client = kiota(ctx, token, version);
  return kiotaWithStatus((cfg) => client.print.printers.create.post(body, cfg));
}

// Polls the operation of a 202 (Kiota) until it is no longer notStarted/running.
async function finish(ctx, r, { token = ctx.admin, version = "v1.0" } = {}) {
  assert.equal(r.status, 202, `printers/create: ${r.status} ${r.text}`);
  const opId = r.headers.get("operation-location").split("/").pop();
  const client = kiota(ctx, token, version);
  for (let i = 0; i < 100; i++) {
    const raw = await kiotaWithStatus((cfg) => client.print.operations.byPrintOperationId(opId).get(cfg),
      models.createPrintOperationFromDiscriminatorValue);
    assert.equal(raw.status, 200, raw.text);
    if (!["notStarted", "running"].includes(raw.json.status.state)) return { opId, op: raw.value, json: raw.json };
    await new Promise((res) => setTimeout(res, Number(raw.headers.get("retry-after") || 1) * 100));
  }
  throw new Error("registration did not finish");
}

// Registers a printer with the admin token (registerPrinter of lib/fixtures.mjs) and an EC P-256
// key unless `kind` says otherwise; resolves its id.
async function register(ctx, { kind = "ec256", ...opts } = {}) {
  return registerPrinter(ctx.srv, ctx.admin, { csr: await csrBody(kind), ...opts });
}

// Splits a PEM chain into its certificates.
const pemCerts = (pem) => pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) || [];

// Checks the operation's certificate chain with openssl: the leaf verifies against the CA, is for
// clientAuth, names the printer, and certifies the CSR's key. Resolves the CA PEM.
async function verifyChain(certificate, printerId, keyFile) {
  const [leaf, ca, ...rest] = pemCerts(certificate);
  assert.ok(leaf && ca, `a leaf and a CA certificate: ${certificate.slice(0, 100)}`);
  assert.equal(rest.length, 0);
  const leafFile = await tmp(`leaf-${printerId}.pem`);
  const caFile = await tmp(`ca-${printerId}.pem`);
  await writeFile(leafFile, leaf);
  await writeFile(caFile, ca);
  const v = await run("openssl", ["verify", "-purpose", "sslclient", "-CAfile", caFile, leafFile]);
  assert.match(v.stdout, /: OK\s*$/, v.stdout);
  const subj = await run("openssl", ["x509", "-in", leafFile, "-noout", "-subject", "-nameopt", "RFC2253"]);
  assert.match(subj.stdout, new RegExp(`CN=${printerId}`), subj.stdout);
  const certKey = await run("openssl", ["x509", "-in", leafFile, "-noout", "-pubkey"]);
  const csrKey = await run("openssl", ["pkey", "-in", keyFile, "-pubout"]);
  assert.equal(certKey.stdout, csrKey.stdout, "the certificate carries the CSR's public key");
  const text = await run("openssl", ["x509", "-in", leafFile, "-noout", "-text"]);
  assert.match(text.stdout, /TLS Web Client Authentication/);
  assert.match(text.stdout, /CA:FALSE/);
  return ca;
}

// -------------------------------------------------------------------------------------------------

describe("registration: POST /print/printers/create and /print/operations", () => {
  const ctx = withServer();

  it("RSA 2048 / SHA-256 (Kiota, v1.0): 202 + Operation-Location + Retry-After; the operation succeeds with a verifiable certificate and the printer", async () => {
    const csr = await makeCsr("rsa2048");
    const r = await create(ctx, {
      displayName: "Front desk", manufacturer: "Contoso", model: "LaserJet 9", physicalDeviceId: randomUUID(),
      certificateSigningRequest: { content: csr.content, transportKey: csr.transportKey },
    });
    assert.equal(r.status, 202, r.text);
    assert.equal(r.text, "", "no body");
    const loc = r.headers.get("operation-location");
    assert.match(loc, new RegExp(`^${ctx.srv.url}/v1\\.0/print/operations/[0-9a-f-]{36}$`), loc);
    assert.equal(r.headers.get("retry-after"), "1");

    const { opId, op, json } = await finish(ctx, r);
    assert.match(opId, GUID);
    assert.equal(json["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#print/operations/$entity`);
    assert.equal(json["@odata.type"], "#microsoft.graph.printerCreateOperation");
    assert.equal(op.odataType, "#microsoft.graph.printerCreateOperation", "Kiota picked the derived type");
    assert.equal(op.id, opId);
    assert.ok(op.createdDateTime instanceof Date && Date.now() - op.createdDateTime.getTime() < 60_000);
    assert.equal(op.status.state, "succeeded");
    assert.equal(op.status.description, "The operation has completed successfully.");
    assert.ok(op.printer?.id, "printer inlined");
    const p = json.printer;
    assert.match(p.id, GUID);
    assert.equal(p.displayName, "Front desk");
    assert.equal(p.manufacturer, "Contoso");
    assert.equal(p.model, "LaserJet 9");
    assert.deepEqual(p.status, { state: "unknown", details: [], description: "" });
    assert.deepEqual(Object.keys(p.location).sort(), LOCATION_KEYS);
    assert.ok(Object.entries(p.location).every(([k, v]) => (LOCATION_LISTS.includes(k) ? Array.isArray(v) && !v.length : v === null)),
      "empty location: null members, [] collections");
    assert.equal(p.hasPhysicalDevice, true);
    assert.equal(p.isShared, false);
    assert.equal(p.isAcceptingJobs, true);
    assert.equal(p.lastSeenDateTime, null);
    assert.ok(Math.abs(Date.parse(p.registeredDateTime) - Date.now()) < 60_000);
    assert.ok(!("capabilities" in p));

    ctx.ca = await verifyChain(op.certificate, p.id, csr.key);
    ctx.physical = p.id;
  });

  it("EC P-256 (Kiota, beta, virtual printer): the operation lives under /beta and the same tenant CA signs", async () => {
    const csr = await makeCsr("ec256");
    const r = await create(ctx, {
      displayName: "Virtual", manufacturer: "Fabrikam", model: "Cloud", hasPhysicalDevice: false,
      certificateSigningRequest: { content: csr.content, transportKey: csr.transportKey },
    }, { version: "beta" });
    assert.match(r.headers.get("operation-location"), new RegExp(`^${ctx.srv.url}/beta/print/operations/`));
    const { json } = await finish(ctx, r, { version: "beta" });
    assert.equal(json["@odata.context"], `${ctx.srv.url}/beta/$metadata#print/operations/$entity`);
    assert.equal(json.status.state, "succeeded");
    assert.equal(json.printer.hasPhysicalDevice, false);
    assert.ok(!("releaseMechanisms" in json.printer), "v1.0-only property absent under /beta");
    const ca = await verifyChain(json.certificate, json.printer.id, csr.key);
    assert.equal(ca, ctx.ca, "one device CA per tenant");
    ctx.virtual = json.printer.id;
  });

  it("a refused CSR still answers 202 and ends failed with a description saying why; no printer is made", async () => {
    const before = (await raw(ctx, "/v1.0/print/printers")).json.value.length;
    const cases = [
      [{ content: "not base64 !!!", transportKey: "x" }, /base64/],
      [{ content: randomBytes(64).toString("base64"), transportKey: "x" }, /PKCS#10/],
      [await csrBody("rsa2048", "sha1"), /sha1.*SHA-256/i],
      [await csrBody("rsa1024"), /RSA key of 1024 bits.*2048/],
      [await csrBody("ec384"), /secp384r1.*P-256/],
    ];
    for (const [csr, why] of cases) {
      const r = await create(ctx, {
        displayName: "Refused", manufacturer: "Contoso", model: "M", hasPhysicalDevice: false,
        certificateSigningRequest: csr,
      });
      assert.equal(r.status, 202, r.text);
      const { op, json } = await finish(ctx, r);
      assert.equal(op.status.state, "failed", JSON.stringify(json));
      assert.match(op.status.description, why, op.status.description);
      assert.equal(json.certificate, null);
      assert.ok(!("printer" in json), "no printer on a failed operation");
    }
    // an unknown connector fails the same way
    const r = await create(ctx, {
      displayName: "Behind connector", manufacturer: "Contoso", model: "M", hasPhysicalDevice: false,
      connectorId: randomUUID(), certificateSigningRequest: await csrBody("ec256"),
    });
    const { json } = await finish(ctx, r);
    assert.equal(json.status.state, "failed");
    assert.match(json.status.description, /connector .* does not exist/);
    assert.equal((await raw(ctx, "/v1.0/print/printers")).json.value.length, before, "no printer registered");
  });

  it("missing or malformed body properties: 400 invalidRequest naming the property", async () => {
    const csr = await csrBody("ec256");
    const ok = { displayName: "X", manufacturer: "M", model: "N", hasPhysicalDevice: false, certificateSigningRequest: csr };
    const without = (k) => { const b = { ...ok }; delete b[k]; return b; };
    const cases = [
      [without("displayName"), /displayName.*required/],
      [without("manufacturer"), /manufacturer.*required/],
      [without("model"), /model.*required/],
      [without("certificateSigningRequest"), /certificateSigningRequest.*required/],
      [{ ...ok, certificateSigningRequest: { transportKey: "x" } }, /certificateSigningRequest\/content.*required/],
      [{ ...ok, hasPhysicalDevice: true }, /physicalDeviceId.*required/],
      [without("hasPhysicalDevice"), /physicalDeviceId.*required.*default/],
      [{ ...ok, displayName: "" }, /displayName.*empty/],
      [{ ...ok, hasPhysicalDevice: "yes" }, /hasPhysicalDevice.*Boolean/],
      [{ ...ok, certificateSigningRequest: "abc" }, /certificateSigningRequest.*object/],
      [{ ...ok, colour: "red" }, /colour.*does not exist/],
      [{ ...ok, displayName: "x".repeat(257) }, /displayName.*too long/],
    ];
    for (const [body, msg] of cases) {
      const res = await raw(ctx, "/v1.0/print/printers/create", { method: "POST", json: body });
      const err = assertErrorEnvelope(res, { status: 400, code: "invalidRequest" });
      assert.match(err.message, msg, `${JSON.stringify(body).slice(0, 90)} -> ${err.message}`);
    }
    await expectKiotaError(kiota(ctx, ctx.admin).print.printers.create.post(without("model")), { status: 400, code: "invalidRequest" });
  });

  it("refusals: no administrator role, a scope that does not register, an application token", async () => {
    const body = { displayName: "X", manufacturer: "M", model: "N", hasPhysicalDevice: false, certificateSigningRequest: await csrBody("ec256") };
    let err = assertErrorEnvelope(await raw(ctx, "/v1.0/print/printers/create", { method: "POST", json: body, token: ctx.notAdmin }),
      { status: 403, code: "accessDenied" });
    assert.match(err.message, /Printer Administrator/, err.message);
    err = assertErrorEnvelope(await raw(ctx, "/v1.0/print/printers/create", { method: "POST", json: body, token: ctx.reader }),
      { status: 403, code: "accessDenied" });
    assert.match(err.message, /Printer\.Create/, err.message);
    err = assertErrorEnvelope(await raw(ctx, "/v1.0/print/printers/create", { method: "POST", json: body, token: ctx.appA }),
      { status: 403, code: "accessDenied" });
    assert.match(err.message, /application tokens cannot/, err.message);
    await expectKiotaError(kiota(ctx, ctx.notAdmin).print.printers.create.post(body), { status: 403, code: "accessDenied" });
  });

  it("GET /print/operations lists the tenant's operations; another tenant sees none of them", async () => {
    const client = kiota(ctx, ctx.admin);
    const list = await client.print.operations.get();
    assert.equal(list.additionalData["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#print/operations`);
    assert.ok(list.value.length >= 8, `operations: ${list.value.length}`);
    const states = new Set(list.value.map((o) => o.status.state));
    assert.ok(states.has("succeeded") && states.has("failed"), [...states].join());
    assert.ok(list.value.every((o) => o.odataType === "#microsoft.graph.printerCreateOperation"));

    const failed = await raw(ctx, "/v1.0/print/operations?$filter=status/state eq 'failed'&$select=id,status");
    assert.equal(failed.status, 200, failed.text);
    assert.equal(failed.json.value.length, 6);
    assert.ok(failed.json.value.every((o) => o.status.state === "failed" && !("certificate" in o)));
    const expanded = await raw(ctx, "/v1.0/print/operations?$filter=status/state eq 'succeeded'&$expand=printer");
    assert.ok(expanded.json.value.every((o) => o.printer && o.certificate), expanded.text.slice(0, 300));

    const one = list.value[0].id;
    assertErrorEnvelope(await raw(ctx, `/v1.0/print/operations/${one}`, { token: ctx.otherAdmin }), { status: 404, code: "itemNotFound" });
    const other = await raw(ctx, "/v1.0/print/operations", { token: ctx.otherAdmin });
    assert.deepEqual(other.json.value, []);
    assertErrorEnvelope(await raw(ctx, `/v1.0/print/operations/${randomUUID()}`), { status: 404, code: "itemNotFound" });
    assertErrorEnvelope(await raw(ctx, "/v1.0/print/operations?$count=true"), { status: 400, code: "invalidRequest" });
  });
});

// -------------------------------------------------------------------------------------------------

describe("get, update, restoreFactoryDefaults, getCapabilities, delete", () => {
  const ctx = withServer();
  before(async () => {
    ctx.p = await register(ctx, { name: "Physical", physical: true });
    ctx.v = await register(ctx, { name: "Virtual" });
    ctx.gone = await register(ctx, { name: "Doomed" });
  });

  it("GET (Kiota v1.0, raw beta): every property, the entity context, no capabilities unless selected", async () => {
    const client = kiota(ctx, ctx.reader);
    const p = await client.print.printers.byPrinterId(ctx.p).get();
    assert.equal(p.id, ctx.p);
    assert.equal(p.displayName, "Physical");
    assert.equal(p.status.state, "unknown");
    assert.equal(p.hasPhysicalDevice, true);
    assert.equal(p.capabilities, undefined);
    assert.equal(p.additionalData["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#print/printers/$entity`);

    const v1 = await raw(ctx, `/v1.0/print/printers/${ctx.p}`, { token: ctx.reader });
    assert.deepEqual(Object.keys(v1.json).sort(), ["@odata.context", "defaults", "displayName", "hasPhysicalDevice", "id",
      "isAcceptingJobs", "isShared", "lastSeenDateTime", "location", "manufacturer", "model", "printerProvidedReleaseSupport",
      "registeredDateTime", "releaseMechanisms", "status"]);
    assert.deepEqual(v1.json.defaults, BUILTIN_DEFAULTS);
    assert.deepEqual(v1.json.releaseMechanisms, []);
    const beta = await raw(ctx, `/beta/print/printers('${ctx.p}')`, { token: ctx.reader });
    assert.equal(beta.json["@odata.context"], `${ctx.srv.url}/beta/$metadata#print/printers/$entity`);
    assert.ok(!("releaseMechanisms" in beta.json) && !("printerProvidedReleaseSupport" in beta.json));

    const sel = await client.print.printers.byPrinterId(ctx.p).get({ queryParameters: { select: ["id", "displayName", "capabilities"] } });
    assert.ok(sel.capabilities, "capabilities when $select'ed");
    const rsel = await raw(ctx, `/v1.0/print/printers/${ctx.p}?$select=displayName,capabilities`, { token: ctx.reader });
    assert.deepEqual(Object.keys(rsel.json).sort(), ["@odata.context", "capabilities", "displayName", "id"]);
    assert.deepEqual(rsel.json.capabilities.contentTypes, [], "collections are [] until the device reports them");
    assert.equal(rsel.json.capabilities.isColorPrintingSupported, null);
    assert.ok(!("queueBufferSizeInBytes" in rsel.json.capabilities), "beta-only member absent under v1.0");
    const bsel = await raw(ctx, `/beta/print/printers/${ctx.p}?$select=capabilities`, { token: ctx.reader });
    assert.ok("queueBufferSizeInBytes" in bsel.json.capabilities);

    for (const [q, msg] of [["$select=nope", /nope/], ["$expand=jobs", /jobs/], ["$select=releaseMechanisms", /releaseMechanisms/]]) {
      const res = await raw(ctx, `/beta/print/printers/${ctx.p}?${q}`, { token: ctx.reader });
      const err = assertErrorEnvelope(res, { status: 400, code: "invalidRequest" });
      assert.equal(err.innerError.code, "invalidQueryOption");
      assert.match(err.message, msg);
    }
  });

  it("PATCH (delegated, Kiota): 200 with the printer; location and defaults merge member-wise, collections are replaced", async () => {
    const client = kiota(ctx, ctx.admin);
    const r = await kiotaWithStatus((cfg) => client.print.printers.byPrinterId(ctx.p).patch({
      displayName: "Front desk", location: { building: "B1", floor: "3", subunit: ["east"], latitude: 47.6 },
      defaults: { copiesPerJob: 2, mediaSize: "A4", finishings: ["staple", "punch"] },
    }, cfg), models.createPrinterFromDiscriminatorValue);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#print/printers/$entity`);
    assert.equal(r.value.displayName, "Front desk");
    assert.equal(r.json.location.building, "B1");
    assert.equal(r.json.location.city, null);
    assert.equal(r.json.defaults.copiesPerJob, 2);
    assert.equal(r.json.defaults.colorMode, "auto", "other defaults kept");

    // deep merge: city added, building kept; a member set to null goes; arrays replaced
    let res = await raw(ctx, `/v1.0/print/printers/${ctx.p}`, {
      method: "PATCH", json: { location: { city: "Redmond", floor: null, subUnit: ["west"] }, defaults: { finishings: ["none"] } },
    });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual({ b: res.json.location.building, c: res.json.location.city, f: res.json.location.floor, s: res.json.location.subunit, l: res.json.location.latitude },
      { b: "B1", c: "Redmond", f: null, s: ["west"], l: 47.6 });
    assert.deepEqual(res.json.defaults.finishings, ["none"]);
    assert.equal(res.json.defaults.mediaSize, "A4");

    // releaseMechanisms (delegated, v1.0): a collection, replaced whole
    res = await raw(ctx, `/v1.0/print/printers/${ctx.p}`, { method: "PATCH", json: { releaseMechanisms: [{ releaseType: "qrCode" }] } });
    assert.deepEqual(res.json.releaseMechanisms, [{ releaseType: "qrCode" }]);

    // restoreFactoryDefaults: 204, defaults back to the built-in ones; location untouched
    const rr = await kiotaWithStatus((cfg) => client.print.printers.byPrinterId(ctx.p).restoreFactoryDefaults.post(cfg));
    assert.equal(rr.status, 204, rr.text);
    res = await raw(ctx, `/beta/print/printers/${ctx.p}`);
    assert.deepEqual(res.json.defaults, BUILTIN_DEFAULTS);
    assert.equal(res.json.location.city, "Redmond");
    assert.equal(res.json.displayName, "Front desk");

    // location: null clears it (all members null again)
    res = await raw(ctx, `/v1.0/print/printers/${ctx.p}`, { method: "PATCH", json: { location: null } });
    assert.ok(Object.entries(res.json.location).every(([k, v]) => (LOCATION_LISTS.includes(k) ? Array.isArray(v) && !v.length : v === null)));
  });

  it("PATCH refusals (delegated): app-only and read-only properties, unknown properties, bad enum members and values", async () => {
    const cases = [
      [{ capabilities: { colorModes: ["color"] } }, /capabilities.*application that registered/, "propertyNotUpdateable"],
      [{ status: { state: "idle" } }, /status.*application/, "propertyNotUpdateable"],
      [{ manufacturer: "X" }, /manufacturer/, "propertyNotUpdateable"],
      [{ isAcceptingJobs: false }, /isAcceptingJobs/, "propertyNotUpdateable"],
      [{ isShared: true }, /isShared.*read-only/, "propertyNotUpdateable"],
      [{ registeredDateTime: "2020-01-01T00:00:00Z" }, /registeredDateTime.*read-only/, "propertyNotUpdateable"],
      [{ jobs: [] }, /jobs.*navigation/, "propertyNotUpdateable"],
      [{ colour: "red" }, /colour.*does not exist on type 'microsoft.graph.printer'/],
      [{ displayName: "" }, /displayName.*empty/],
      [{ displayName: 5 }, /displayName.*string/],
      [{ defaults: { colorMode: "rainbow" } }, /defaults\/colorMode.*rainbow.*printColorMode/],
      [{ defaults: { mediaSize: "Z9" } }, /defaults\/mediaSize.*Z9/],
      [{ defaults: { copiesPerJob: 0 } }, /defaults\/copiesPerJob.*at least 1/],
      [{ defaults: { contentType: "pdf" } }, /defaults\/contentType.*MIME/],
      [{ defaults: { finishings: ["bindLeft"] } }, /defaults\/finishings\[0\].*bindLeft/],
      [{ defaults: { shade: 1 } }, /defaults\/shade.*does not exist on type 'microsoft.graph.printerDefaults'/],
      [{ location: { altitudeInMeters: "high" } }, /location\/altitudeInMeters.*integer/],
      [{ location: { subunit: ["a"], subUnit: ["b"] } }, /subUnit/],
      [{ releaseMechanisms: [{ releaseType: "badge" }] }, /releaseMechanisms\[0\]\/releaseType.*badge/],
    ];
    for (const [body, msg, inner] of cases) {
      const res = await raw(ctx, `/v1.0/print/printers/${ctx.p}`, { method: "PATCH", json: body });
      const err = assertErrorEnvelope(res, { status: 400, code: "invalidRequest" });
      assert.match(err.message, msg, `${JSON.stringify(body)} -> ${err.message}`);
      if (inner) assert.equal(err.innerError.code, inner);
    }
    await expectKiotaError(kiota(ctx, ctx.admin).print.printers.byPrinterId(ctx.p).patch({ isShared: true }),
      { status: 400, code: "invalidRequest" });
    // evolvable members are accepted with Prefer: include-unknown-enum-members, and hidden without it
    const prefer = { prefer: "include-unknown-enum-members" };
    let res = await raw(ctx, `/v1.0/print/printers/${ctx.p}`, { method: "PATCH", json: { defaults: { finishings: ["bindLeft", "staple"] } }, headers: prefer });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json.defaults.finishings, ["bindLeft", "staple"]);
    res = await raw(ctx, `/v1.0/print/printers/${ctx.p}`);
    assert.deepEqual(res.json.defaults.finishings, ["unknownFutureValue", "staple"]);
    // refused for a read-only or non-admin caller
    let err = assertErrorEnvelope(await raw(ctx, `/v1.0/print/printers/${ctx.p}`, { method: "PATCH", json: { displayName: "x" }, token: ctx.reader }),
      { status: 403, code: "accessDenied" });
    assert.match(err.message, /Printer\.ReadWrite\.All/);
    err = assertErrorEnvelope(await raw(ctx, `/v1.0/print/printers/${ctx.p}`, { method: "PATCH", json: { displayName: "x" }, token: ctx.notAdmin }),
      { status: 403, code: "accessDenied" });
    assert.match(err.message, /Printer Administrator/);
  });

  it("PATCH by the registering application (virtual printer): capabilities, status, isAcceptingJobs, manufacturer, model, defaults", async () => {
    const client = kiota(ctx, ctx.appA, "beta");
    const r = await kiotaWithStatus((cfg) => client.print.printers.byPrinterId(ctx.v).patch({
      manufacturer: "Fabrikam", model: "Cloud 2", isAcceptingJobs: false,
      status: { state: "idle", details: ["mediaLow"], description: "Tray 2 is low" },
      defaults: { mediaSize: "North America Letter", quality: "high" },
      capabilities: {
        contentTypes: ["application/pdf", "image/pwg-raster"], colorModes: ["blackAndWhite", "color"],
        mediaSizes: ["A4", "North America Letter"], copiesPerJob: { start: 1, end: 99 }, dpis: [300, 600],
        duplexModes: ["oneSided", "flipOnLongEdge"], finishings: ["none", "staple"], collation: true,
      },
    }, cfg), models.createPrinterFromDiscriminatorValue);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.manufacturer, "Fabrikam");
    assert.equal(r.json.isAcceptingJobs, false);
    assert.deepEqual(r.json.status, { state: "idle", details: ["mediaLow"], description: "Tray 2 is low" });

    // getCapabilities (beta function, also served under /v1.0)
    // getCapabilities is delegated only: an application reading it is refused, a reader is not
    await expectKiotaError(client.print.printers.byPrinterId(ctx.v).getCapabilities.get(), { status: 403, code: "accessDenied" });
    const caps = await kiota(ctx, ctx.reader, "beta").print.printers.byPrinterId(ctx.v).getCapabilities.get();
    assert.deepEqual(caps.contentTypes, ["application/pdf", "image/pwg-raster"]);
    assert.equal(caps.isColorPrintingSupported, true, "computed from colorModes");
    assert.equal(caps.copiesPerJob.end, 99);
    const raw1 = await raw(ctx, `/v1.0/print/printers/${ctx.v}/getCapabilities`, { token: ctx.reader });
    assert.equal(raw1.status, 200, raw1.text);
    assert.equal(raw1.json["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#microsoft.graph.printerCapabilities`);
    assert.deepEqual(raw1.json.mediaSizes, ["A4", "North America Letter"]);
    assert.deepEqual(raw1.json.orientations, []);
    const rawBeta = await raw(ctx, `/beta/print/printers/${ctx.v}/getCapabilities`, { token: ctx.reader });
    assert.equal(rawBeta.json["@odata.context"], `${ctx.srv.url}/beta/$metadata#microsoft.graph.printerCapabilities`);
    // OData function-call forms: empty parentheses and the namespace-qualified name
    for (const f of ["getCapabilities()", "microsoft.graph.getCapabilities", "microsoft.graph.getCapabilities()"]) {
      const res = await raw(ctx, `/beta/print/printers('${ctx.v}')/${f}`, { token: ctx.reader });
      assert.equal(res.status, 200, `${f}: ${res.text}`);
      assert.deepEqual(res.json.contentTypes, ["application/pdf", "image/pwg-raster"]);
    }
    assertErrorEnvelope(await raw(ctx, `/v1.0/print/printers/${randomUUID()}/getCapabilities`), { status: 404, code: "itemNotFound" });

    // capabilities merge member-wise too: one member replaced, the others kept
    let res = await raw(ctx, `/v1.0/print/printers/${ctx.v}`, { method: "PATCH", token: ctx.appA, json: { capabilities: { dpis: [1200] } } });
    assert.equal(res.status, 200, res.text);
    res = await raw(ctx, `/v1.0/print/printers/${ctx.v}?$select=capabilities`);
    assert.deepEqual(res.json.capabilities.dpis, [1200]);
    assert.deepEqual(res.json.capabilities.colorModes, ["blackAndWhite", "color"]);

    // an evolvable status detail needs the Prefer header both ways
    res = await raw(ctx, `/v1.0/print/printers/${ctx.v}`, { method: "PATCH", token: ctx.appA, json: { status: { details: ["staplerJam"] } } });
    assertErrorEnvelope(res, { status: 400, code: "invalidRequest" });
    res = await raw(ctx, `/v1.0/print/printers/${ctx.v}`, {
      method: "PATCH", token: ctx.appA, json: { status: { details: ["staplerJam", "mediaJam"] } }, headers: { prefer: "include-unknown-enum-members" },
    });
    assert.deepEqual(res.json.status.details, ["staplerJam", "mediaJam"]);
    assert.equal(res.json.status.state, "idle", "state kept");
    res = await raw(ctx, `/v1.0/print/printers/${ctx.v}`);
    assert.deepEqual(res.json.status.details, ["unknownFutureValue", "mediaJam"]);

    // defaults the registering application reports become the factory defaults
    const admin = kiota(ctx, ctx.admin);
    await admin.print.printers.byPrinterId(ctx.v).patch({ defaults: { quality: "low", copiesPerJob: 3 } });
    await admin.print.printers.byPrinterId(ctx.v).restoreFactoryDefaults.post();
    res = await raw(ctx, `/v1.0/print/printers/${ctx.v}`);
    assert.deepEqual(res.json.defaults, { ...BUILTIN_DEFAULTS, mediaSize: "North America Letter", quality: "high" });
  });

  it("application refusals: another app (403), a physical printer (403), delegated-only properties (400), a read-only role (403)", async () => {
    let err = assertErrorEnvelope(await raw(ctx, `/v1.0/print/printers/${ctx.v}`, { method: "PATCH", token: ctx.appB, json: { isAcceptingJobs: true } }),
      { status: 403, code: "accessDenied" });
    assert.match(err.message, /Only the application that registered/, err.message);
    err = assertErrorEnvelope(await raw(ctx, `/v1.0/print/printers/${ctx.p}`, { method: "PATCH", token: ctx.appA, json: { isAcceptingJobs: true } }),
      { status: 403, code: "accessDenied" });
    assert.match(err.message, /without a physical device/, err.message);
    err = assertErrorEnvelope(await raw(ctx, `/v1.0/print/printers/${ctx.v}`, { method: "PATCH", token: ctx.appA, json: { location: { city: "X" } } }),
      { status: 400, code: "invalidRequest" });
    assert.match(err.message, /location.*application token/);
    const readOnlyApp = await ctx.srv.mintApp({ tenant: ctx.tenant, app: APP_A, roles: "Printer.Read.All" });
    err = assertErrorEnvelope(await raw(ctx, `/v1.0/print/printers/${ctx.v}`, { method: "PATCH", token: readOnlyApp, json: { isAcceptingJobs: true } }),
      { status: 403, code: "accessDenied" });
    assert.match(err.message, /Printer\.ReadWrite\.All/);
    // the app may read the printer (P4 accepts Printer.Read.All), not list printers (P3 is delegated only)
    assert.equal((await raw(ctx, `/v1.0/print/printers/${ctx.v}`, { token: readOnlyApp })).status, 200);
    err = assertErrorEnvelope(await raw(ctx, "/v1.0/print/printers", { token: readOnlyApp }), { status: 403, code: "accessDenied" });
    await expectKiotaError(kiota(ctx, ctx.appB).print.printers.byPrinterId(ctx.v).patch({ model: "x" }), { status: 403, code: "accessDenied" });
    const still = await raw(ctx, `/v1.0/print/printers/${ctx.v}`);
    assert.equal(still.json.isAcceptingJobs, false, "refused updates changed nothing");
  });

  it("another tenant's printer is 404 for every operation", async () => {
    const t = { token: ctx.otherAdmin };
    for (const [method, p, json] of [
      ["GET", `/v1.0/print/printers/${ctx.p}`], ["PATCH", `/v1.0/print/printers/${ctx.p}`, { displayName: "x" }],
      ["DELETE", `/v1.0/print/printers/${ctx.p}`], ["POST", `/v1.0/print/printers/${ctx.p}/restoreFactoryDefaults`],
      ["GET", `/beta/print/printers/${ctx.p}/getCapabilities`], ["GET", `/v1.0/print/printers/${ctx.p}/connectors`],
    ]) {
      assertErrorEnvelope(await raw(ctx, p, { ...t, method, json }), { status: 404, code: "itemNotFound" });
    }
    await expectKiotaError(kiota(ctx, ctx.otherAdmin).print.printers.byPrinterId(ctx.p).get(), { status: 404, code: "itemNotFound" });
    assert.equal((await raw(ctx, `/v1.0/print/printers/${ctx.p}`)).json.displayName, "Front desk", "untouched");
  });

  it("isShared and $expand=shares follow the printer's share", async () => {
    const s = await raw(ctx, "/v1.0/print/shares", { method: "POST", json: { displayName: "Shared", "printer@odata.bind": `print/printers/${ctx.gone}` } });
    assert.equal(s.status, 201, s.text);
    const got = await raw(ctx, `/v1.0/print/printers/${ctx.gone}?$expand=shares`);
    assert.equal(got.json.isShared, true);
    assert.equal(got.json.shares.length, 1);
    assert.equal(got.json.shares[0].id, s.json.id);
    assert.equal(got.json.shares[0].displayName, "Shared");
    assert.equal(got.json.shares[0].manufacturer, "Contoso");
    const list = await raw(ctx, "/v1.0/print/printers?$filter=isShared eq true&$expand=shares&$select=id,isShared");
    assert.deepEqual(list.json.value.map((p) => p.id), [ctx.gone]);
    assert.deepEqual(Object.keys(list.json.value[0]).sort(), ["id", "isShared", "shares"]);
    ctx.share = s.json.id;
  });

  it("DELETE (Kiota): 204; the printer, its share and its jobs are gone; a second delete is 404", async () => {
    const job = await raw(ctx, `/v1.0/print/printers/${ctx.gone}/jobs`, { method: "POST", json: { configuration: {} } });
    assert.equal(job.status, 201, job.text);
    const client = kiota(ctx, ctx.admin);
    let err = assertErrorEnvelope(await raw(ctx, `/v1.0/print/printers/${ctx.gone}`, { method: "DELETE", token: ctx.reader }), { status: 403, code: "accessDenied" });
    assert.match(err.message, /Printer\.FullControl\.All/);
    const r = await kiotaWithStatus((cfg) => client.print.printers.byPrinterId(ctx.gone).delete(cfg));
    assert.equal(r.status, 204, r.text);
    assertErrorEnvelope(await raw(ctx, `/v1.0/print/printers/${ctx.gone}`), { status: 404, code: "itemNotFound" });
    assertErrorEnvelope(await raw(ctx, `/v1.0/print/shares/${ctx.share}`), { status: 404, code: "itemNotFound" });
    assertErrorEnvelope(await raw(ctx, `/v1.0/print/printers/${ctx.gone}/jobs/${job.json.id}`), { status: 404, code: "itemNotFound" });
    await expectKiotaError(client.print.printers.byPrinterId(ctx.gone).delete(), { status: 404, code: "itemNotFound" });
    const list = await raw(ctx, "/v1.0/print/printers");
    assert.ok(!list.json.value.some((p) => p.id === ctx.gone));
    // the operation that registered it stays, without its printer
    const ops = await raw(ctx, "/v1.0/print/operations?$expand=printer");
    assert.equal(ops.json.value.filter((o) => o.status.state === "succeeded" && !o.printer).length, 1);
    assertErrorEnvelope(await raw(ctx, `/v1.0/print/printers/${ctx.gone}/restoreFactoryDefaults`, { method: "POST" }), { status: 404, code: "itemNotFound" });
  });
});

// -------------------------------------------------------------------------------------------------

describe("list and paging", () => {
  const ctx = withServer();
  const N = 250;
  before(async () => {
    // 250 registrations, 10 at a time
    ctx.ids = [];
    const names = Array.from({ length: N }, (_, i) => `Printer ${String(i).padStart(3, "0")}`);
    for (let i = 0; i < N; i += 10) {
      ctx.ids.push(...await Promise.all(names.slice(i, i + 10).map((name, k) =>
        register(ctx, { name, physical: (i + k) % 5 === 0 }))));
    }
  });

  it("$top=100 pages through all 250 printers without gaps or duplicates (nextLink followed verbatim)", async () => {
    let next = `${ctx.srv.origin}/v1.0/print/printers?$top=100`;
    const seen = [];
    const sizes = [];
    while (next) {
      const res = await rawFetch(next, { token: ctx.reader });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#print/printers`);
      sizes.push(res.json.value.length);
      for (const p of res.json.value) {
        assert.ok(!("capabilities" in p) && !("defaults" in p), "lists never carry defaults or capabilities");
        seen.push(p.id);
      }
      next = res.json["@odata.nextLink"];
      if (next) assert.match(next, /\$skiptoken=/);
    }
    assert.deepEqual(sizes, [100, 100, 50]);
    assert.equal(new Set(seen).size, N, "no duplicates");
    assert.deepEqual([...seen].sort(), [...ctx.ids].sort(), "no gaps");
  });

  it("Kiota (beta): default page size and a $top above the maximum both give pages of at most 100", async () => {
    const client = kiota(ctx, ctx.reader, "beta");
    const page = await client.print.printers.get();
    assert.equal(page.value.length, 100);
    assert.ok(page.odataNextLink.startsWith(`${ctx.srv.url}/beta/print/printers?`), page.odataNextLink);
    const big = await client.print.printers.get({ queryParameters: { top: 500 } });
    assert.equal(big.value.length, 100);
    assert.ok(big.odataNextLink);
    const small = await client.print.printers.get({ queryParameters: { top: 7, orderby: ["displayName desc"] } });
    assert.deepEqual(small.value.map((p) => p.displayName), Array.from({ length: 7 }, (_, i) => `Printer ${249 - i}`));
  });

  it("$orderby=displayName with $skip and paging keeps the order across pages", async () => {
    let next = `${ctx.srv.origin}/v1.0/print/printers?$orderby=displayName&$skip=10&$top=60&$select=id,displayName`;
    const names = [];
    while (next) {
      const res = await rawFetch(next, { token: ctx.reader });
      assert.equal(res.status, 200, res.text);
      for (const p of res.json.value) {
        assert.deepEqual(Object.keys(p).sort(), ["displayName", "id"]);
        names.push(p.displayName);
      }
      next = res.json["@odata.nextLink"];
      if (next) assert.ok(!/\$skip=/.test(next), "the nextLink carries the position, not $skip");
    }
    assert.deepEqual(names, Array.from({ length: N - 10 }, (_, i) => `Printer ${String(i + 10).padStart(3, "0")}`));
  });

  it("$filter on displayName, hasPhysicalDevice, status/state and registeredDateTime", async () => {
    let res = await raw(ctx, "/v1.0/print/printers?$filter=displayName eq 'Printer 007'", { token: ctx.reader });
    assert.deepEqual(res.json.value.map((p) => p.displayName), ["Printer 007"]);
    res = await raw(ctx, "/v1.0/print/printers?$filter=hasPhysicalDevice eq true&$top=100", { token: ctx.reader });
    assert.equal(res.json.value.length, N / 5);
    assert.ok(res.json.value.every((p) => p.hasPhysicalDevice));
    res = await raw(ctx, "/v1.0/print/printers?$filter=status/state eq 'unknown' and isShared eq false&$top=1", { token: ctx.reader });
    assert.equal(res.json.value.length, 1);
    res = await raw(ctx, `/v1.0/print/printers?$filter=registeredDateTime gt ${new Date(Date.now() + 3600_000).toISOString()}`, { token: ctx.reader });
    assert.deepEqual(res.json.value, []);
  });

  it("refused query options: $count, $search, $select of defaults/capabilities, $expand=jobs, bad filters (400 invalidQueryOption)", async () => {
    const cases = [
      ["$count=true", /\$count/], ["$search=x", /\$search/], ["$select=capabilities", /capabilities.*never returned/],
      ["$select=id,defaults", /defaults/], ["$expand=jobs", /jobs/], ["$filter=status/state eq 'bogus'", /bogus/],
      ["$filter=color eq 'red'", /color/], ["$orderby=status/state", /status\/state/], ["$skiptoken=garbage", /skiptoken/],
      ["$top=-1", /\$top/],
    ];
    for (const [q, msg] of cases) {
      const res = await raw(ctx, `/v1.0/print/printers?${q}`, { token: ctx.reader });
      const err = assertErrorEnvelope(res, { status: 400, code: "invalidRequest" });
      assert.equal(err.innerError.code, "invalidQueryOption", q);
      assert.match(err.message, msg, `${q} -> ${err.message}`);
    }
    await expectKiotaError(kiota(ctx, ctx.reader).print.printers.get({ queryParameters: { count: true } }), { status: 400, code: "invalidRequest" });
  });

  it("refusals: no administrator role (names the role), a scope that does not read printers (names one), another tenant sees nothing", async () => {
    const user = await ctx.srv.mintUser({ tenant: ctx.tenant, app: APP_A, scopes: "Printer.Read.All" });
    let err = assertErrorEnvelope(await raw(ctx, "/v1.0/print/printers", { token: user }), { status: 403, code: "accessDenied" });
    assert.match(err.message, /Printer Administrator or Global Administrator/);
    const wrong = await ctx.srv.mintUser({ tenant: ctx.tenant, app: APP_A, scopes: "PrinterShare.ReadWrite.All", admin: true });
    err = assertErrorEnvelope(await raw(ctx, "/v1.0/print/printers", { token: wrong }), { status: 403, code: "accessDenied" });
    assert.match(err.message, /Printer\.Read\.All/);
    await expectKiotaError(kiota(ctx, wrong).print.printers.get(), { status: 403, code: "accessDenied" });
    const other = await raw(ctx, "/v1.0/print/printers", { token: ctx.otherAdmin });
    assert.equal(other.status, 200);
    assert.deepEqual(other.json.value, []);
    assert.equal(other.json["@odata.nextLink"], undefined);
  });
});

// -------------------------------------------------------------------------------------------------

describe("connectors and services", () => {
  const ctx = withServer();
  before(async () => { ctx.p = await register(ctx, { name: "Printer" }); });

  it("connectors: empty collections, 404 for any connector id, 404 for an unknown printer", async () => {
    const client = kiota(ctx, ctx.admin);
    const list = await client.print.connectors.get();
    assert.deepEqual(list.value, []);
    assert.equal(list.additionalData["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#print/connectors`);
    const mine = await client.print.printers.byPrinterId(ctx.p).connectors.get();
    assert.deepEqual(mine.value, []);
    assert.equal(mine.additionalData["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#print/printers('${ctx.p}')/connectors`);
    await expectKiotaError(client.print.connectors.byPrintConnectorId(randomUUID()).get(), { status: 404, code: "itemNotFound" });
    await expectKiotaError(client.print.connectors.byPrintConnectorId(randomUUID()).patch({ displayName: "x" }), { status: 404, code: "itemNotFound" });
    await expectKiotaError(client.print.connectors.byPrintConnectorId(randomUUID()).delete(), { status: 404, code: "itemNotFound" });
    await expectKiotaError(client.print.printers.byPrinterId(randomUUID()).connectors.get(), { status: 404, code: "itemNotFound" });
    assertErrorEnvelope(await raw(ctx, `/beta/print/printers/${ctx.p}/connectors/${randomUUID()}`), { status: 404, code: "itemNotFound" });
    for (const q of ["$count=true", "$filter=displayName eq 'x'", "$search=x", "$select=nope", "$orderby=nope"]) {
      const err = assertErrorEnvelope(await raw(ctx, `/v1.0/print/connectors?${q}`), { status: 400, code: "invalidRequest" });
      assert.equal(err.innerError.code, "invalidQueryOption");
    }
    assert.equal((await raw(ctx, "/v1.0/print/connectors?$select=id,displayName&$top=5&$orderby=displayName")).status, 200);
    // C5 also needs a Get-printer scope; connectors need PrintConnector.Read.All
    const connOnly = await ctx.srv.mintUser({ tenant: ctx.tenant, scopes: "PrintConnector.Read.All", admin: true });
    let err = assertErrorEnvelope(await raw(ctx, `/v1.0/print/printers/${ctx.p}/connectors`, { token: connOnly }), { status: 403, code: "accessDenied" });
    assert.match(err.message, /Printer\.Read\.All/);
    err = assertErrorEnvelope(await raw(ctx, "/v1.0/print/connectors", { token: ctx.reader }), { status: 403, code: "accessDenied" });
    assert.match(err.message, /PrintConnector\.Read\.All/);
  });

  it("services: one service whose endpoints are this server's IPP and Graph endpoints", async () => {
    const user = await ctx.srv.mintUser({ tenant: ctx.tenant, scopes: "PrintJob.Create" });
    const client = kiota(ctx, user);
    const list = await client.print.services.get();
    assert.equal(list.additionalData["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#print/services`);
    assert.equal(list.value.length, 1);
    const svc = list.value[0];
    assert.match(svc.id, GUID);
    const uris = Object.fromEntries(svc.endpoints.map((e) => [e.id, e.uri]));
    assert.deepEqual(uris, { ipp: `${ctx.srv.url}/ipp/print`, graph: `${ctx.srv.url}/v1.0` });
    assert.ok(svc.endpoints.every((e) => e.displayName));

    const one = await client.print.services.byPrintServiceId(svc.id).get();
    assert.equal(one.id, svc.id);
    assert.equal(one.additionalData["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#print/services/$entity`);
    const eps = await client.print.services.byPrintServiceId(svc.id).endpoints.get();
    assert.equal(eps.additionalData["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#Collection(microsoft.graph.printServiceEndpoint)`);
    assert.deepEqual(eps.value.map((e) => e.id), ["ipp", "graph"]);
    const ep = await client.print.services.byPrintServiceId(svc.id).endpoints.byPrintServiceEndpointId("ipp").get();
    assert.equal(ep.uri, `${ctx.srv.url}/ipp/print`);
    await expectKiotaError(client.print.services.byPrintServiceId(randomUUID()).get(), { status: 404, code: "itemNotFound" });
    await expectKiotaError(client.print.services.byPrintServiceId(svc.id).endpoints.byPrintServiceEndpointId("mpsdiscovery").get(),
      { status: 404, code: "itemNotFound" });
    const beta = await raw(ctx, "/beta/print/services", { token: user });
    assert.equal(beta.json["@odata.context"], `${ctx.srv.url}/beta/$metadata#print/services`);
    const err = assertErrorEnvelope(await raw(ctx, "/v1.0/print/services", { token: ctx.appA }), { status: 403, code: "accessDenied" });
    assert.match(err.message, /application tokens cannot/);
  });
});

// -------------------------------------------------------------------------------------------------

describe("v3 client over https", () => {
  const ctx = withServer({ tls: true });
  before(async () => { ctx.p = await register(ctx, { name: "Secure", kind: "rsa2048" }); });

  it("get, list with $select, update and the 404 envelope through @microsoft/microsoft-graph-client", async () => {
    assert.ok(ctx.srv.url.startsWith("https://"));
    const client = v3Client({ origin: ctx.srv.origin, version: "v1.0", token: ctx.admin, ca: ctx.srv.ca });
    const p = await client.api(`/print/printers/${ctx.p}`).select(["id", "displayName", "capabilities"]).get();
    assert.equal(p.id, ctx.p);
    assert.equal(p.displayName, "Secure");
    assert.ok(p.capabilities);
    assert.equal(p["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#print/printers(id,displayName,capabilities)/$entity`, "$select is carried in the context");
    const list = await client.api("/print/printers").top(5).get();
    assert.deepEqual(list.value.map((x) => x.id), [ctx.p]);
    const upd = await client.api(`/print/printers/${ctx.p}`).patch({ location: { building: "HQ" } });
    assert.equal(upd.location.building, "HQ");
    const { body } = await expectGraphError(client.api(`/print/printers/${randomUUID()}`).get(), { status: 404, code: "itemNotFound" });
    assert.match(body.message, /was not found/);
    const op = await client.api("/print/operations").get();
    assert.equal(op.value[0].status.state, "succeeded");
    assert.match(op.value[0].certificate, /BEGIN CERTIFICATE/);
  });
});

describe("$filter on location/* and capabilities/* paths", () => {
  const ctx = withServer({ tls: true }); // https: the v3 client sends its token only over TLS
  before(async () => {
    ctx.a = await register(ctx, { name: "Loc A" });
    ctx.b = await register(ctx, { name: "Loc B" });
    ctx.c = await register(ctx, { name: "Loc C" });
    const patch = async (id, json, token = ctx.admin) => {
      const res = await raw(ctx, `/v1.0/print/printers/${id}`, { method: "PATCH", token, json });
      assert.equal(res.status, 200, res.text);
    };
    await patch(ctx.a, { location: { building: "B1", site: "HQ North", floor: "3", latitude: 47.5, altitudeInMeters: 120 } });
    await patch(ctx.b, { location: { building: "b2", site: "hq south", floor: "10", latitude: 12.25 } });
    await patch(ctx.a, { capabilities: { collation: true, isPageRangeSupported: false, copiesPerJob: { start: 1, end: 99 } } }, ctx.appA);
    await patch(ctx.b, { capabilities: { collation: false, isPageRangeSupported: true } }, ctx.appA);
    // collections: a colour A4/Letter duplex printer in the east wing, b monochrome A4 only
    await patch(ctx.a, { location: { subunit: ["East wing", "Lab 2"], organization: ["Contoso", "Research"] } });
    await patch(ctx.b, { location: { subunit: [] } });
    await patch(ctx.a, { capabilities: {
      colorModes: ["blackAndWhite", "color"], mediaSizes: ["A4", "North America Letter"], dpis: [300, 600],
      duplexModes: ["oneSided", "flipOnLongEdge"], contentTypes: ["application/pdf", "image/pwg-raster"],
    } }, ctx.appA);
    await patch(ctx.b, { capabilities: { colorModes: ["grayscale"], mediaSizes: ["A4"], dpis: [1200], duplexModes: ["oneSided"] } }, ctx.appA);
  });
  const ids = (ctx, r) => r.value.map((p) => p.id).sort();
  const names = (ctx, list) => list.map((x) => ctx[x]).sort();

  it("location members through the v3 client: eq (exact), startswith/endswith/contains (case-insensitive), numbers, ne and not with absent members", async () => {
    const client = v3Client({ origin: ctx.srv.origin, version: "v1.0", token: ctx.reader, ca: ctx.srv.ca });
    const q = (f) => client.api("/print/printers").filter(f).get();
    assert.deepEqual(ids(ctx, await q("location/building eq 'B1'")), names(ctx, ["a"]));
    assert.deepEqual(ids(ctx, await q("location/building eq 'b1'")), [], "eq is exact, as on the other string properties");
    assert.deepEqual(ids(ctx, await q("startswith(location/site,'HQ')")), names(ctx, ["a", "b"]));
    assert.deepEqual(ids(ctx, await q("endswith(location/site,'NORTH')")), names(ctx, ["a"]));
    assert.deepEqual(ids(ctx, await q("contains(location/site,'SOUTH')")), names(ctx, ["b"]));
    assert.deepEqual(ids(ctx, await q("location/floor eq '10'")), names(ctx, ["b"]));
    assert.deepEqual(ids(ctx, await q("location/floor in ('3','10')")), names(ctx, ["a", "b"]));
    assert.deepEqual(ids(ctx, await q("location/latitude gt 20")), names(ctx, ["a"]));
    assert.deepEqual(ids(ctx, await q("location/latitude le 12.25")), names(ctx, ["b"]));
    assert.deepEqual(ids(ctx, await q("location/altitudeInMeters eq 120")), names(ctx, ["a"]));
    assert.deepEqual(ids(ctx, await q("location/building ne 'B1'")), names(ctx, ["b", "c"]), "ne matches a printer without a location");
    assert.deepEqual(ids(ctx, await q("not startswith(location/site,'hq n')")), names(ctx, ["b", "c"]));
    assert.deepEqual(ids(ctx, await q("location/building eq null")), names(ctx, ["c"]));
    assert.deepEqual(ids(ctx, await q("location/building eq 'B1' or location/floor eq '10'")), names(ctx, ["a", "b"]));
    assert.deepEqual(ids(ctx, await q("Location/Building eq 'B1'")), names(ctx, ["a"]), "paths are case-insensitive");
  });

  it("capabilities members through Kiota: booleans and copiesPerJob/end, combined with location", async () => {
    const client = kiota(ctx, ctx.reader);
    const q = async (filter) => ids(ctx, await client.print.printers.get({ queryParameters: { filter } }));
    assert.deepEqual(await q("capabilities/collation eq true"), names(ctx, ["a"]));
    assert.deepEqual(await q("capabilities/collation eq false"), names(ctx, ["b"]));
    assert.deepEqual(await q("capabilities/isPageRangeSupported"), names(ctx, ["b"]), "a bare boolean member");
    assert.deepEqual(await q("capabilities/collation ne true"), names(ctx, ["b", "c"]));
    assert.deepEqual(await q("capabilities/copiesPerJob/end ge 50"), names(ctx, ["a"]));
    assert.deepEqual(await q("capabilities/collation eq true and startswith(location/building,'b')"), names(ctx, ["a"]));
  });

  it("collection members with lambda any/all through the v3 client and Kiota; isColorPrintingSupported", async () => {
    const v3 = v3Client({ origin: ctx.srv.origin, version: "v1.0", token: ctx.reader, ca: ctx.srv.ca });
    const q3 = async (f) => ids(ctx, await v3.api("/print/printers").filter(f).get());
    assert.deepEqual(await q3("capabilities/colorModes/any(c: c eq 'color')"), names(ctx, ["a"]));
    assert.deepEqual(await q3("capabilities/colorModes/any(c: c eq 'color' or c eq 'grayscale')"), names(ctx, ["a", "b"]));
    assert.deepEqual(await q3("capabilities/duplexModes/any(d: d eq 'flipOnLongEdge')"), names(ctx, ["a"]));
    assert.deepEqual(await q3("capabilities/mediaSizes/any(m: m eq 'A4')"), names(ctx, ["a", "b"]));
    assert.deepEqual(await q3("capabilities/mediaSizes/any(m: m in ('North America Letter', 'A3'))"), names(ctx, ["a"]));
    assert.deepEqual(await q3("capabilities/mediaSizes/all(m: m eq 'A4')"), names(ctx, ["b", "c"]), "all() holds on an empty collection");
    assert.deepEqual(await q3("not capabilities/colorModes/any(c: c eq 'color')"), names(ctx, ["b", "c"]));
    assert.deepEqual(await q3("capabilities/dpis/any(d: d ge 600)"), names(ctx, ["a", "b"]));
    assert.deepEqual(await q3("capabilities/dpis/all(d: d lt 1000)"), names(ctx, ["a", "c"]));
    assert.deepEqual(await q3("capabilities/contentTypes/any(t: endswith(t,'/PDF'))"), names(ctx, ["a"]), "string functions stay case-insensitive");
    assert.deepEqual(await q3("location/subunit/any(s: s eq 'East wing')"), names(ctx, ["a"]));
    assert.deepEqual(await q3("location/subunit/any(s: s eq 'east wing')"), [], "eq is exact, as on the scalar members");
    assert.deepEqual(await q3("location/subunit/any()"), names(ctx, ["a"]));
    assert.deepEqual(await q3("location/organization/any(o: startswith(o,'res')) and capabilities/collation eq true"), names(ctx, ["a"]));
    const kc = kiota(ctx, ctx.reader, "beta");
    const qk = async (filter) => ids(ctx, await kc.print.printers.get({ queryParameters: { filter } }));
    assert.deepEqual(await qk("capabilities/isColorPrintingSupported eq true"), names(ctx, ["a"]));
    assert.deepEqual(await qk("capabilities/isColorPrintingSupported eq false"), names(ctx, ["b"]));
    assert.deepEqual(await qk("capabilities/isColorPrintingSupported eq null"), names(ctx, ["c"]), "null until the device reports colour modes");
    assert.deepEqual(await qk("capabilities/mediaSizes/any(m: m eq 'A4') and not capabilities/isColorPrintingSupported"), names(ctx, ["b"]));
    assert.deepEqual(await qk("capabilities/colorModes/ANY(x:x eq microsoft.graph.printColorMode'color')"), names(ctx, ["a"]), "typed enum literals");
    // the answers agree with the printers' own capabilities
    const sel = await raw(ctx, `/v1.0/print/printers/${ctx.b}?$select=capabilities`, { token: ctx.reader });
    assert.equal(sel.json.capabilities.isColorPrintingSupported, false);
  });

  it("refusals name the path: unknown members, wrong literal types, functions on non-strings, $orderby (400 invalidQueryOption)", async () => {
    const cases = [
      ["$filter=capabilities/colorModes/any(c: c eq 'rainbow')", /'rainbow'.*capabilities\/colorModes/],
      ["$filter=capabilities/dpis/any(d: d eq '300')", /capabilities\/dpis.*integer/],
      ["$filter=location/building/any(b: b eq 'B1')", /any\(\) applies to collection-valued.*location\/building/],
      ["$filter=capabilities/wings/any(w: w eq 'x')", /unknown property 'capabilities\/wings'/],
      ["$filter=capabilities/dpis/all()", /all\(\).*needs a lambda variable/],
      ["$filter=capabilities/dpis/any(d: d/x eq 1)", /'d\/x'/],
      ["$filter=releaseMechanisms/any(r: r/releaseType eq 'qrCode')", /releaseMechanisms/],
      ["$orderby=capabilities/isColorPrintingSupported", /isColorPrintingSupported/],
      ["$filter=location/nope eq 'x'", /unknown property 'location\/nope'/],
      ["$filter=capabilities/colorModes eq 'color'", /capabilities\/colorModes.*is a collection.*any\(/],
      ["$filter=location/building eq 5", /location\/building.*string/],
      ["$filter=capabilities/collation eq 'yes'", /capabilities\/collation.*boolean/],
      ["$filter=startswith(location/latitude,'4')", /location\/latitude/],
      ["$filter=capabilities/collation gt true", /capabilities\/collation/],
      ["$orderby=location/building", /location\/building/],
    ];
    for (const [q, msg] of cases) {
      const res = await raw(ctx, `/v1.0/print/printers?${q}`, { token: ctx.reader });
      const err = assertErrorEnvelope(res, { status: 400, code: "invalidRequest" });
      assert.equal(err.innerError.code, "invalidQueryOption", q);
      assert.match(err.message, msg, `${q} -> ${err.message}`);
    }
  });
});
