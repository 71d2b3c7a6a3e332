// SPDX-License-Identifier: Apache-2.0
// Pull-print printers (reference §4.10, P16, S9; docs/behaviour.md "Pull-print printers") through
// the real Graph clients: the Kiota beta SDK (whose version has no pullPrintPrinter model yet, so
// it reads them as printerBase, see lib/print-fluent.mjs) and the microsoft-graph-client v3.
// Create is asynchronous (202 + Operation-Location, the result at
// /print/operations/{id}/pullPrintPrinter), then list with $count / $filter / $orderby / $select /
// $top / $expand=shares and nextLinks, get, update (only defaults, includeAllPrinters, location),
// delete, restoreFactoryDefaults, member printers by $ref, a printer's pull-print printers
// (explicit members and includeAllPrinters), a share's pull-print printer (bound with
// pullPrintPrinter@odata.bind), a job held on the printer of such a share released at a member
// printer with jobs/release (J10), $metadata, and the refusals: bad bodies (400 naming the
// property), unknown ids (404), missing permissions (403, delegated and application). Runs on
// SQLite and, with SPOOLD_TEST_STORE=postgres, on PostgreSQL.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { kiotaClient, v3Client, kiotaWithStatus, rawFetch, GUID, closeAgents } from "./lib/clients.mjs";
import { assertErrorEnvelope, expectKiotaError, expectGraphError } from "./lib/graph-assert.mjs";
import { PRINTER_MANAGEMENT_SCOPES, serverForSuite, registerPrinter, uploadDocument, TEST_PDF } from "./lib/fixtures.mjs";

const ADMIN_SCOPES = [...PRINTER_MANAGEMENT_SCOPES, "PrinterShare.ReadWrite.All", "PullPrintPrinter.FullControl.All"].join(" ");
const LOCATION_KEYS = ["altitudeInMeters", "building", "city", "countryOrRegion", "floor", "floorDescription",
  "latitude", "longitude", "organization", "postalCode", "roomDescription", "roomName", "site",
  "stateOrProvince", "streetAddress", "subdivision", "subunit"];
const BUILTIN_DEFAULTS = {
  colorMode: "auto", contentType: "application/pdf", copiesPerJob: 1, dpi: null, duplexMode: "oneSided",
  finishings: ["none"], fitPdfToPage: false, inputBin: null, mediaColor: null, mediaSize: null, mediaType: null,
  multipageLayout: "clockwiseFromTopLeft", orientation: "portrait", outputBin: null, pagesPerSheet: 1,
  quality: "medium", scaling: "auto",
};

after(() => closeAgents());

function withServer() {
  return serverForSuite({ tls: true }, {
    ctx: { other: randomUUID() },
    tokens: (ctx) => ({
      admin: { scopes: ADMIN_SCOPES, admin: true },
      // PullPrintPrinter.Read.All only: reads, no changes
      reader: { scopes: "PullPrintPrinter.Read.All", admin: true },
      // S9 needs a pull-print printer read permission and a share read permission
      shareReader: { scopes: "PullPrintPrinter.Read.All PrinterShare.ReadBasic.All", admin: true },
      // ReadWrite: update and members, not create/delete
      writer: { scopes: "PullPrintPrinter.ReadWrite.All Printer.Read.All", admin: true },
      // the scopes without the Printer Administrator role
      notAdmin: { scopes: ADMIN_SCOPES },
      // printer scopes only
      printerAdmin: { scopes: PRINTER_MANAGEMENT_SCOPES.join(" "), admin: true },
      appReader: { roles: "PullPrintPrinter.Read.All" },
      appPrinter: { roles: "Printer.ReadWrite.All" },
      otherAdmin: { tenant: ctx.other, scopes: ADMIN_SCOPES, admin: true },
    }),
  });
}

const kiota = (ctx, token = ctx.admin, version = "v1.0") =>
  kiotaClient({ origin: ctx.srv.origin, version, token, ca: ctx.srv.ca });
const v3 = (ctx, token = ctx.admin, version = "v1.0") =>
  v3Client({ origin: ctx.srv.origin, version, token, ca: ctx.srv.ca });
const raw = (ctx, p, opts = {}) => rawFetch(`${ctx.srv.origin}${p}`, { ca: ctx.srv.ca, token: ctx.admin, ...opts });

// Creates a pull-print printer with the Kiota client: 202 + Operation-Location, then the
// operation and its pullPrintPrinter. Resolves { id, op, entity } (entity: the JSON of the GET).
async function createPull(ctx, body, { version = "v1.0" } = {}) {
  const r = await kiotaWithStatus((cfg) => kiota(ctx, ctx.admin, version).print.pullPrintPrinters.post(body, cfg));
  assert.equal(r.status, 202, `create: ${r.status} ${r.text}`);
  assert.equal(r.text, "", "202 without a body");
  assert.equal(r.headers.get("retry-after"), "1");
  const loc = r.headers.get("operation-location");
  assert.match(loc, new RegExp(`^${ctx.srv.origin}/${version}/print/operations/[0-9a-f-]{36}$`), loc);
  const op = loc.split("/").pop();
  const got = await raw(ctx, `/${version}/print/operations/${op}`);
  assert.equal(got.status, 200, got.text);
  assert.equal(got.json.status.state, "succeeded");
  const pp = await raw(ctx, `/${version}/print/operations/${op}/pullPrintPrinter`);
  assert.equal(pp.status, 200, pp.text);
  assert.match(pp.json.id, GUID);
  return { id: pp.json.id, op, entity: pp.json };
}

describe("pull-print printers: create, get, list, delete", () => {
  const ctx = withServer();

  it("create answers 202 with Operation-Location; the operation leads to the pull-print printer (Kiota)", async () => {
    const before = Date.now();
    const { id, op, entity } = await createPull(ctx, {
      displayName: "Contoso Pull Print - Building 5",
      location: { building: "5", city: "Redmond", floor: "2", organization: ["Contoso"] },
      defaults: { colorMode: "blackAndWhite", copiesPerJob: 2 },
      additionalData: { includeAllPrinters: false },
    });
    assert.equal(entity["@odata.context"], `${ctx.srv.origin}/v1.0/$metadata#print/pullPrintPrinters/$entity`);
    assert.equal(entity.displayName, "Contoso Pull Print - Building 5");
    assert.equal(entity.includeAllPrinters, false);
    assert.equal(entity.isAcceptingJobs, true);
    assert.equal(entity.manufacturer, null);
    assert.equal(entity.model, null);
    assert.deepEqual(entity.status, { state: "idle", details: [], description: "" });
    assert.deepEqual(Object.keys(entity.location).sort(), LOCATION_KEYS);
    assert.equal(entity.location.building, "5");
    assert.deepEqual(entity.location.organization, ["Contoso"]);
    assert.deepEqual(entity.location.subunit, [], "collections are [] when unset");
    assert.deepEqual(entity.defaults, { ...BUILTIN_DEFAULTS, colorMode: "blackAndWhite", copiesPerJob: 2 });
    assert.equal(entity.capabilities, undefined, "capabilities only when $select'ed");
    const reg = Date.parse(entity.registeredDateTime);
    assert.ok(reg >= before - 2000 && reg <= Date.now() + 2000, entity.registeredDateTime);

    // the same through Kiota's models: printerBase plus the pullPrintPrinter members
    const k = await kiota(ctx).print.pullPrintPrinters.byPullPrintPrinterId(id).get();
    assert.equal(k.id, id);
    assert.equal(k.displayName, "Contoso Pull Print - Building 5");
    assert.equal(k.isAcceptingJobs, true);
    assert.equal(k.location.city, "Redmond");
    assert.equal(k.defaults.copiesPerJob, 2);
    assert.equal(k.additionalData.includeAllPrinters, false);
    const viaOp = await kiota(ctx).print.operations.byPrintOperationId(op).pullPrintPrinter.get();
    assert.equal(viaOp.id, id);

    // the operation is listed with the tenant's operations
    const ops = await v3(ctx).api("/print/operations").get();
    const listed = ops.value.find((o) => o.id === op);
    assert.ok(listed, "the operation is listed");
    assert.equal(listed.status.state, "succeeded");
    assert.equal(listed.certificate, null);
  });

  it("create with only a displayName: includeAllPrinters false, built-in defaults, no location (v3)", async () => {
    const { entity } = await createPull(ctx, { displayName: "Minimal" });
    assert.equal(entity.includeAllPrinters, false);
    assert.deepEqual(Object.keys(entity.location).sort(), LOCATION_KEYS, "every member, as printers write it");
    assert.ok(Object.values(entity.location).every((v) => v === null || (Array.isArray(v) && v.length === 0)));
    assert.deepEqual(entity.defaults, BUILTIN_DEFAULTS);
    const got = await v3(ctx).api(`/print/pullPrintPrinters/${entity.id}`).select("capabilities,displayName").get();
    assert.deepEqual(Object.keys(got).sort(), ["@odata.context", "capabilities", "displayName", "id"]);
    assert.equal(got.capabilities.isColorPrintingSupported, null);
    assert.deepEqual(got.capabilities.colorModes, []);
  });

  it("create works under /beta too, and the beta answer points into /beta/$metadata", async () => {
    const { entity } = await createPull(ctx, { displayName: "Beta pull", additionalData: { includeAllPrinters: true } }, { version: "beta" });
    assert.equal(entity["@odata.context"], `${ctx.srv.origin}/beta/$metadata#print/pullPrintPrinters/$entity`);
    assert.equal(entity.includeAllPrinters, true);
    const k = await kiota(ctx, ctx.admin, "beta").print.pullPrintPrinters.byPullPrintPrinterId(entity.id).get();
    assert.equal(k.additionalData.includeAllPrinters, true);
  });

  it("bad bodies are 400 naming the property and create nothing", async () => {
    const count = async () => Number((await raw(ctx, "/v1.0/print/pullPrintPrinters/$count")).text);
    const n = await count();
    const cases = [
      [{}, /'displayName' is required/],
      [{ displayName: "   " }, /'displayName' cannot be empty/],
      [{ displayName: 5 }, /displayName/],
      [{ displayName: "x", includeAllPrinters: "yes" }, /includeAllPrinters/],
      [{ displayName: "x", registeredDateTime: "2026-01-01T00:00:00Z" }, /registeredDateTime/],
      [{ displayName: "x", isAcceptingJobs: false }, /isAcceptingJobs/],
      [{ displayName: "x", manufacturer: "Contoso" }, /manufacturer/],
      [{ displayName: "x", status: { state: "idle" } }, /status/],
      [{ displayName: "x", location: { latitude: 47.6 } }, /'location\/latitude' cannot be set on a pull-print printer/],
      [{ displayName: "x", location: { streetAddress: "1 Main St" } }, /location\/streetAddress/],
      [{ displayName: "x", location: { floor: 2 } }, /location\/floor/],
      [{ displayName: "x", defaults: { copiesPerJob: 0 } }, /copiesPerJob/],
      [{ displayName: "x", defaults: { colorMode: "sepia" } }, /colorMode/],
      [{ displayName: "x", printers: [] }, /printers/],
      [{ displayName: "x".repeat(257) }, /displayName/],
    ];
    for (const [body, re] of cases) {
      const r = await raw(ctx, "/v1.0/print/pullPrintPrinters", { method: "POST", json: body });
      const err = assertErrorEnvelope(r, { status: 400, code: "invalidRequest" });
      assert.match(err.message, re, JSON.stringify(body));
    }
    // and through the v3 client
    await expectGraphError(v3(ctx).api("/print/pullPrintPrinters").post({ includeAllPrinters: true }), { status: 400, code: "invalidRequest" });
    assert.equal(await count(), n, "nothing was created");
  });

  it("list with $count, $filter, $orderby, $select, $top and nextLinks (v3)", async () => {
    const names = [];
    for (let i = 0; i < 5; i++) {
      const name = `Paged ${i}`;
      names.push(name);
      await createPull(ctx, { displayName: name, location: { building: i % 2 ? "odd" : "even", organization: i % 2 ? ["Contoso", "Odd team"] : [] }, additionalData: { includeAllPrinters: i === 4 } });
    }
    const client = v3(ctx);
    const all = await client.api("/print/pullPrintPrinters").count(true).get();
    assert.equal(all["@odata.context"], `${ctx.srv.origin}/v1.0/$metadata#print/pullPrintPrinters`);
    assert.equal(all["@odata.count"], all.value.length);
    assert.ok(all.value.length >= 8, `${all.value.length} listed`);
    for (const p of all.value) {
      assert.equal(p.defaults, undefined, "lists leave out defaults");
      assert.equal(p.capabilities, undefined, "lists leave out capabilities");
      assert.equal(typeof p.includeAllPrinters, "boolean");
    }

    const paged = await client.api("/print/pullPrintPrinters").filter("startswith(displayName,'Paged')")
      .orderby("displayName desc").select("id,displayName").top(2).count(true).get();
    assert.equal(paged["@odata.count"], 5);
    assert.deepEqual(paged.value.map((p) => p.displayName), ["Paged 4", "Paged 3"]);
    assert.deepEqual(Object.keys(paged.value[0]).sort(), ["displayName", "id"]);
    assert.match(paged["@odata.nextLink"], /\$skiptoken=/);
    const seen = [...paged.value.map((p) => p.displayName)];
    let next = paged["@odata.nextLink"];
    while (next) {
      const page = await client.api(next).get();
      seen.push(...page.value.map((p) => p.displayName));
      next = page["@odata.nextLink"];
    }
    assert.deepEqual(seen, [...names].reverse(), "every page once, in order");

    const odd = await client.api("/print/pullPrintPrinters").filter("location/building eq 'odd' and includeAllPrinters eq false").get();
    assert.deepEqual(odd.value.map((p) => p.displayName).sort(), ["Paged 1", "Paged 3"]);
    const team = await client.api("/print/pullPrintPrinters").filter("location/organization/any(o: startswith(o,'odd')) and startswith(displayName,'Paged')").count(true).get();
    assert.deepEqual(team.value.map((p) => p.displayName).sort(), ["Paged 1", "Paged 3"], "lambda any on a location collection");
    assert.equal(team["@odata.count"], 2);
    const none = await client.api("/print/pullPrintPrinters").filter("location/organization/all(o: o eq 'Contoso') and startswith(displayName,'Paged')").get();
    assert.deepEqual(none.value.map((p) => p.displayName).sort(), ["Paged 0", "Paged 2", "Paged 4"], "all() holds on an empty collection");
    const byRule = await client.api("/print/pullPrintPrinters").filter("includeAllPrinters eq true and startswith(displayName,'Paged')").get();
    assert.deepEqual(byRule.value.map((p) => p.displayName), ["Paged 4"]);

    const n = await raw(ctx, "/v1.0/print/pullPrintPrinters/$count?$filter=startswith(displayName,'Paged')");
    assert.equal(n.status, 200);
    assert.match(n.contentType, /^text\/plain/);
    assert.equal(n.text, "5");

    // what a list does not support or never returns
    for (const [q, re] of [["$select=defaults", /defaults/], ["$filter=nosuch eq 1", /nosuch/], ["$orderby=location/city", /location\/city/],
      ["$search=x", /\$search/], ["$expand=printers", /\$expand|printers/]]) {
      const r = await raw(ctx, `/v1.0/print/pullPrintPrinters?${q}`);
      const err = assertErrorEnvelope(r, { status: 400, code: "invalidRequest" });
      assert.match(err.message, re, q);
    }
  });

  it("get and delete; unknown and deleted ids are 404, another tenant's too", async () => {
    const { id, op } = await createPull(ctx, { displayName: "Doomed" });
    await expectKiotaError(kiota(ctx, ctx.otherAdmin).print.pullPrintPrinters.byPullPrintPrinterId(id).get(), { status: 404, code: "itemNotFound" });
    await expectGraphError(v3(ctx, ctx.otherAdmin).api(`/print/pullPrintPrinters/${id}`).delete(), { status: 404, code: "itemNotFound" });
    const del = await kiotaWithStatus((cfg) => kiota(ctx).print.pullPrintPrinters.byPullPrintPrinterId(id).delete(cfg));
    assert.equal(del.status, 204, del.text);
    await expectKiotaError(kiota(ctx).print.pullPrintPrinters.byPullPrintPrinterId(id).get(), { status: 404, code: "itemNotFound", message: new RegExp(id) });
    await expectGraphError(v3(ctx).api(`/print/pullPrintPrinters/${id}`).delete(), { status: 404, code: "itemNotFound" });
    // the operation stays; its pullPrintPrinter is gone
    const gone = await raw(ctx, `/v1.0/print/operations/${op}/pullPrintPrinter`);
    assert.match(assertErrorEnvelope(gone, { status: 404, code: "itemNotFound" }).message, /was deleted/);
    assertErrorEnvelope(await raw(ctx, `/v1.0/print/operations/${randomUUID()}/pullPrintPrinter`), { status: 404, code: "itemNotFound" });
    assertErrorEnvelope(await raw(ctx, `/v1.0/print/pullPrintPrinters/${randomUUID()}`), { status: 404, code: "itemNotFound" });
    // a printer registration's operation created no pull-print printer
    await registerPrinter(ctx.srv, ctx.admin, { name: "Registered" });
    const ops = (await raw(ctx, "/v1.0/print/operations?$expand=printer")).json.value;
    const reg = ops.find((o) => o.printer && o.printer.displayName === "Registered");
    assert.ok(reg, "the registration's operation");
    const none = await raw(ctx, `/v1.0/print/operations/${reg.id}/pullPrintPrinter`);
    assertErrorEnvelope(none, { status: 404, code: "itemNotFound" });
  });

  it("a printer's pull-print printers: those with includeAllPrinters (P16)", async () => {
    const printer = await registerPrinter(ctx.srv, ctx.admin, { name: "Member" });
    const r = await v3(ctx).api(`/print/printers/${printer}/pullPrintPrinters`).get();
    assert.equal(r["@odata.context"], `${ctx.srv.origin}/v1.0/$metadata#print/printers('${printer}')/pullPrintPrinters`);
    const all = (await v3(ctx).api("/print/pullPrintPrinters").filter("includeAllPrinters eq true").get()).value;
    assert.ok(all.length >= 1);
    assert.deepEqual(r.value.map((p) => p.id).sort(), all.map((p) => p.id).sort());
    const k = await kiota(ctx).print.printers.byPrinterId(printer).pullPrintPrinters.get();
    assert.deepEqual(k.value.map((p) => p.id).sort(), all.map((p) => p.id).sort());
    // no OData options (reference §9.3); unknown printers are 404
    assertErrorEnvelope(await raw(ctx, `/v1.0/print/printers/${printer}/pullPrintPrinters?$top=1`), { status: 400, code: "invalidRequest" });
    assertErrorEnvelope(await raw(ctx, `/v1.0/print/printers/${randomUUID()}/pullPrintPrinters`), { status: 404, code: "itemNotFound" });
  });

  it("permissions: delegated and application, 403 naming what is missing", async () => {
    const { id } = await createPull(ctx, { displayName: "Guarded" });
    // PullPrintPrinter.Read.All reads (delegated and application), changes nothing
    assert.equal((await raw(ctx, "/v1.0/print/pullPrintPrinters", { token: ctx.reader })).status, 200);
    assert.equal((await raw(ctx, `/v1.0/print/pullPrintPrinters/${id}`, { token: ctx.reader })).status, 200);
    const app = await kiota(ctx, ctx.appReader).print.pullPrintPrinters.get();
    assert.ok(app.value.some((p) => p.id === id));
    assert.equal((await kiota(ctx, ctx.appReader).print.pullPrintPrinters.byPullPrintPrinterId(id).get()).id, id);
    const refused = async (token, method, p, re, body) => {
      const r = await raw(ctx, p, { token, method, json: body });
      const err = assertErrorEnvelope(r, { status: 403, code: "accessDenied" });
      if (re) assert.match(err.message, re, `${method} ${p}`);
    };
    await refused(ctx.reader, "POST", "/v1.0/print/pullPrintPrinters", /PullPrintPrinter\.FullControl\.All/, { displayName: "x" });
    await refused(ctx.writer, "POST", "/v1.0/print/pullPrintPrinters", /PullPrintPrinter\.FullControl\.All/, { displayName: "x" });
    await refused(ctx.reader, "DELETE", `/v1.0/print/pullPrintPrinters/${id}`, /PullPrintPrinter\.FullControl\.All/);
    await refused(ctx.writer, "DELETE", `/v1.0/print/pullPrintPrinters/${id}`);
    await refused(ctx.notAdmin, "GET", "/v1.0/print/pullPrintPrinters", /Administrator/);
    await refused(ctx.printerAdmin, "GET", "/v1.0/print/pullPrintPrinters", /PullPrintPrinter\.Read\.All/);
    await refused(ctx.appPrinter, "GET", "/v1.0/print/pullPrintPrinters", /PullPrintPrinter\.Read\.All/);
    await refused(ctx.appReader, "POST", "/v1.0/print/pullPrintPrinters", /delegated|application/, { displayName: "x" });
    await refused(ctx.appReader, "DELETE", `/v1.0/print/pullPrintPrinters/${id}`);
    // P16 needs FullControl (reference P16): Read.All is not enough
    const printer = await registerPrinter(ctx.srv, ctx.admin, { name: "P16 guarded" });
    await refused(ctx.reader, "GET", `/v1.0/print/printers/${printer}/pullPrintPrinters`, /PullPrintPrinter\.FullControl\.All/);
    await refused(ctx.appReader, "GET", `/v1.0/print/printers/${printer}/pullPrintPrinters`);
    await expectKiotaError(kiota(ctx, ctx.writer).print.pullPrintPrinters.post({ displayName: "x" }), { status: 403, code: "accessDenied" });
    assert.equal((await raw(ctx, `/v1.0/print/pullPrintPrinters/${id}`)).status, 200, "still there");
  });

  it("$metadata: pullPrintPrinter derives from printerBase, with its navigations", async () => {
    for (const version of ["v1.0", "beta"]) {
      const r = await raw(ctx, `/${version}/$metadata`);
      assert.equal(r.status, 200);
      const xml = r.text;
      assert.match(xml, /<EntityType Name="pullPrintPrinter" BaseType="microsoft\.graph\.printerBase">/);
      const type = xml.match(/<EntityType Name="pullPrintPrinter"[^>]*>(.*?)<\/EntityType>/)[1];
      assert.match(type, /<Property Name="includeAllPrinters" Type="Edm\.Boolean" Nullable="false"\/>/);
      assert.match(type, /<Property Name="registeredDateTime" Type="Edm\.DateTimeOffset" Nullable="false"\/>/);
      assert.match(type, /<NavigationProperty Name="printers" Type="Collection\(microsoft\.graph\.printer\)"\/>/);
      const print = xml.match(/<EntityType Name="print"[^>]*>(.*?)<\/EntityType>/)[1];
      assert.match(print, /<NavigationProperty Name="pullPrintPrinters" Type="Collection\(microsoft\.graph\.pullPrintPrinter\)" ContainsTarget="true"\/>/);
      const printer = xml.match(/<EntityType Name="printer"[^>]*>(.*?)<\/EntityType>/)[1];
      assert.match(printer, /<NavigationProperty Name="pullPrintPrinters" Type="Collection\(microsoft\.graph\.pullPrintPrinter\)"\/>/);
      const op = xml.match(/<EntityType Name="printOperation"[^>]*>(.*?)<\/EntityType>/)[1];
      assert.match(op, /<NavigationProperty Name="pullPrintPrinter" Type="microsoft\.graph\.pullPrintPrinter"\/>/);
    }
  });
});

const printerUrl = (id) => `https://graph.microsoft.com/v1.0/print/printers/${id}`;
const pullUrl = (id) => `https://graph.microsoft.com/v1.0/print/pullPrintPrinters/${id}`;

describe("pull-print printers: update, restoreFactoryDefaults, members, shares", () => {
  const ctx = withServer();

  it("PATCH changes defaults, includeAllPrinters and location members, and nothing else (Kiota, v3)", async () => {
    const { id } = await createPull(ctx, { displayName: "Patched", location: { building: "A", floor: "1" } });
    const r = await kiotaWithStatus((cfg) => kiota(ctx).print.pullPrintPrinters.byPullPrintPrinterId(id)
      .patch({ defaults: { duplexMode: "flipOnLongEdge" }, location: { floor: "3", roomName: "Copy room" },
        additionalData: { includeAllPrinters: true } }, cfg));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json["@odata.context"], `${ctx.srv.origin}/v1.0/$metadata#print/pullPrintPrinters/$entity`);
    assert.equal(r.json.displayName, "Patched");
    assert.equal(r.json.includeAllPrinters, true);
    assert.deepEqual(r.json.defaults, { ...BUILTIN_DEFAULTS, duplexMode: "flipOnLongEdge" });
    assert.equal(r.json.location.building, "A", "location members merge");
    assert.equal(r.json.location.floor, "3");
    assert.equal(r.json.location.roomName, "Copy room");
    const got = await v3(ctx).api(`/print/pullPrintPrinters/${id}`).get();
    assert.deepEqual(got, r.json, "the answer is what is stored");
    const back = await v3(ctx).api(`/print/pullPrintPrinters/${id}`).patch({ includeAllPrinters: false, location: { subdivision: ["North"] } });
    assert.equal(back.includeAllPrinters, false);
    assert.deepEqual(back.location.subdivision, ["North"]);
    assert.equal(back.location.floor, "3");

    const cases = [
      [{ displayName: "Renamed" }, /'displayName' is set when the pull-print printer is created/],
      [{ isAcceptingJobs: false }, /'isAcceptingJobs' is read-only/],
      [{ status: { state: "stopped" } }, /'status' is read-only/],
      [{ registeredDateTime: "2026-01-01T00:00:00Z" }, /registeredDateTime/],
      [{ location: { latitude: 1.5 } }, /'location\/latitude' cannot be set/],
      [{ location: { postalCode: "98052" } }, /location\/postalCode/],
      [{ includeAllPrinters: null }, /includeAllPrinters/],
      [{ defaults: { pagesPerSheet: 0 } }, /pagesPerSheet/],
      [{ printers: [] }, /printers/],
    ];
    for (const [body, re] of cases) {
      const bad = await raw(ctx, `/v1.0/print/pullPrintPrinters/${id}`, { method: "PATCH", json: body });
      assert.match(assertErrorEnvelope(bad, { status: 400, code: "invalidRequest" }).message, re, JSON.stringify(body));
    }
    assert.deepEqual(await v3(ctx).api(`/print/pullPrintPrinters/${id}`).get(), back, "refused PATCHes changed nothing");
    await expectGraphError(v3(ctx).api(`/print/pullPrintPrinters/${randomUUID()}`).patch({ includeAllPrinters: true }), { status: 404, code: "itemNotFound" });
    await expectGraphError(v3(ctx, ctx.otherAdmin).api(`/print/pullPrintPrinters/${id}`).patch({ includeAllPrinters: true }), { status: 404, code: "itemNotFound" });
    // ReadWrite updates; Read does not
    assert.equal((await v3(ctx, ctx.writer).api(`/print/pullPrintPrinters/${id}`).patch({ defaults: { copiesPerJob: 3 } })).defaults.copiesPerJob, 3);
    await expectGraphError(v3(ctx, ctx.reader).api(`/print/pullPrintPrinters/${id}`).patch({ includeAllPrinters: true }), { status: 403, code: "accessDenied" });
    await expectKiotaError(kiota(ctx, ctx.appReader).print.pullPrintPrinters.byPullPrintPrinterId(id).patch({ additionalData: { includeAllPrinters: true } }), { status: 403, code: "accessDenied" });
  });

  it("restoreFactoryDefaults puts back the built-in defaults (Kiota)", async () => {
    const { id } = await createPull(ctx, { displayName: "Restored", defaults: { colorMode: "grayscale" } });
    await v3(ctx).api(`/print/pullPrintPrinters/${id}`).patch({ defaults: { copiesPerJob: 9 } });
    const r = await kiotaWithStatus((cfg) => kiota(ctx, ctx.writer).print.pullPrintPrinters.byPullPrintPrinterId(id).restoreFactoryDefaults.post(cfg));
    assert.equal(r.status, 204, r.text);
    assert.deepEqual((await v3(ctx).api(`/print/pullPrintPrinters/${id}`).get()).defaults, BUILTIN_DEFAULTS);
    await expectKiotaError(kiota(ctx).print.pullPrintPrinters.byPullPrintPrinterId(randomUUID()).restoreFactoryDefaults.post(), { status: 404, code: "itemNotFound" });
    await expectKiotaError(kiota(ctx, ctx.reader).print.pullPrintPrinters.byPullPrintPrinterId(id).restoreFactoryDefaults.post(), { status: 403, code: "accessDenied" });
  });

  it("member printers by $ref; a printer's pull-print printers follow (Kiota, v3)", async () => {
    const { id } = await createPull(ctx, { displayName: "Members" });
    const p1 = await registerPrinter(ctx.srv, ctx.admin, { name: "M1" });
    const p2 = await registerPrinter(ctx.srv, ctx.admin, { name: "M2" });
    const refs = kiota(ctx).print.pullPrintPrinters.byPullPrintPrinterId(id).printers;
    const add = await kiotaWithStatus((cfg) => refs.ref.post({ odataId: printerUrl(p1) }, cfg));
    assert.equal(add.status, 204, add.text);
    await v3(ctx, ctx.writer).api(`/print/pullPrintPrinters/${id}/printers/$ref`).post({ "@odata.id": `${ctx.srv.origin}/beta/print/printers('${p2}')` });
    const members = await v3(ctx).api(`/print/pullPrintPrinters/${id}/printers`).orderby("displayName").get();
    assert.equal(members["@odata.context"], `${ctx.srv.origin}/v1.0/$metadata#print/pullPrintPrinters('${id}')/printers`);
    assert.deepEqual(members.value.map((p) => p.displayName), ["M1", "M2"]);
    assert.equal(members.value[0].defaults, undefined, "a printer list");
    const viaKiota = await refs.get();
    assert.deepEqual(viaKiota.value.map((p) => p.id).sort(), [p1, p2].sort());
    const p16 = await v3(ctx).api(`/print/printers/${p1}/pullPrintPrinters`).get();
    assert.ok(p16.value.some((p) => p.id === id), "P16 lists the pull-print printer of a member");

    // refusals: already a member, not a printer URL, unknown or another tenant's printer
    const dup = await raw(ctx, `/v1.0/print/pullPrintPrinters/${id}/printers/$ref`, { method: "POST", json: { "@odata.id": printerUrl(p1) } });
    assert.match(assertErrorEnvelope(dup, { status: 400, code: "invalidRequest" }).message, /already a member/);
    const notPrinter = await raw(ctx, `/v1.0/print/pullPrintPrinters/${id}/printers/$ref`, { method: "POST", json: { "@odata.id": `https://graph.microsoft.com/v1.0/print/shares/${p1}` } });
    assert.match(assertErrorEnvelope(notPrinter, { status: 400, code: "invalidRequest" }).message, /URL of a printer/);
    const noRef = await raw(ctx, `/v1.0/print/pullPrintPrinters/${id}/printers/$ref`, { method: "POST", json: {} });
    assert.match(assertErrorEnvelope(noRef, { status: 400, code: "invalidRequest" }).message, /'@odata\.id' is required/);
    const unknown = randomUUID();
    const r404 = await raw(ctx, `/v1.0/print/pullPrintPrinters/${id}/printers/$ref`, { method: "POST", json: { "@odata.id": printerUrl(unknown) } });
    assert.match(assertErrorEnvelope(r404, { status: 404, code: "itemNotFound" }).message, new RegExp(unknown));
    const foreign = await registerPrinter(ctx.srv, ctx.otherAdmin, { name: "Foreign" });
    assertErrorEnvelope(await raw(ctx, `/v1.0/print/pullPrintPrinters/${id}/printers/$ref`, { method: "POST", json: { "@odata.id": printerUrl(foreign) } }), { status: 404, code: "itemNotFound" });
    assertErrorEnvelope(await raw(ctx, `/v1.0/print/pullPrintPrinters/${randomUUID()}/printers/$ref`, { method: "POST", json: { "@odata.id": printerUrl(p1) } }), { status: 404, code: "itemNotFound" });
    await expectGraphError(v3(ctx, ctx.reader).api(`/print/pullPrintPrinters/${id}/printers/$ref`).post({ "@odata.id": printerUrl(p1) }), { status: 403, code: "accessDenied" });

    // remove: membership only
    const rm = await kiotaWithStatus((cfg) => refs.byPrinterId(p1).ref.delete(cfg));
    assert.equal(rm.status, 204, rm.text);
    const again = await raw(ctx, `/v1.0/print/pullPrintPrinters/${id}/printers/${p1}/$ref`, { method: "DELETE" });
    assert.match(assertErrorEnvelope(again, { status: 404, code: "itemNotFound" }).message, /not a member/);
    assert.equal((await raw(ctx, `/v1.0/print/printers/${p1}`)).status, 200, "the printer stays");
    assert.deepEqual((await v3(ctx).api(`/print/pullPrintPrinters/${id}/printers`).get()).value.map((p) => p.id), [p2]);
    assert.ok(!(await v3(ctx).api(`/print/printers/${p1}/pullPrintPrinters`).get()).value.some((p) => p.id === id));

    // includeAllPrinters: every printer of the tenant is a member, explicit rows come back after
    await v3(ctx).api(`/print/pullPrintPrinters/${id}`).patch({ includeAllPrinters: true });
    const everyone = await v3(ctx).api(`/print/pullPrintPrinters/${id}/printers`).count(true).get();
    const printers = await raw(ctx, "/v1.0/print/printers/$count", { token: ctx.admin });
    assert.equal(everyone["@odata.count"], Number(printers.text));
    assert.ok((await v3(ctx).api(`/print/printers/${p1}/pullPrintPrinters`).get()).value.some((p) => p.id === id));
    await v3(ctx).api(`/print/pullPrintPrinters/${id}`).patch({ includeAllPrinters: false });
    assert.deepEqual((await v3(ctx).api(`/print/pullPrintPrinters/${id}/printers`).get()).value.map((p) => p.id), [p2]);

    // a deleted printer leaves the members; a deleted pull-print printer leaves its printers
    await v3(ctx).api(`/print/printers/${p2}`).delete();
    assert.deepEqual((await v3(ctx).api(`/print/pullPrintPrinters/${id}/printers`).get()).value, []);
    await v3(ctx).api(`/print/pullPrintPrinters/${id}/printers/$ref`).post({ "@odata.id": printerUrl(p1) });
    await v3(ctx).api(`/print/pullPrintPrinters/${id}`).delete();
    assert.equal((await raw(ctx, `/v1.0/print/printers/${p1}`)).status, 200);
    assert.ok(!(await v3(ctx).api(`/print/printers/${p1}/pullPrintPrinters`).get()).value.some((p) => p.id === id));
    assertErrorEnvelope(await raw(ctx, `/v1.0/print/pullPrintPrinters/${id}/printers`), { status: 404, code: "itemNotFound" });
  });

  it("a share publishes a pull-print printer: pullPrintPrinter@odata.bind, S9, $expand=shares", async () => {
    const { id } = await createPull(ctx, { displayName: "Published" });
    const printer = await registerPrinter(ctx.srv, ctx.admin, { name: "Behind the share" });
    const share = (await v3(ctx).api("/print/shares").post({ displayName: "Pull queue", allowAllUsers: true,
      "printer@odata.bind": printerUrl(printer) })).id;
    const none = await raw(ctx, `/v1.0/print/shares/${share}/pullPrintPrinter`);
    assert.match(assertErrorEnvelope(none, { status: 404, code: "itemNotFound" }).message, /does not publish a pull-print printer/);

    const bound = await v3(ctx).api(`/print/shares/${share}`).patch({ "pullPrintPrinter@odata.bind": pullUrl(id) });
    assert.equal(bound.id, share);
    const s9 = await v3(ctx, ctx.shareReader).api(`/print/shares/${share}/pullPrintPrinter`).get();
    assert.equal(s9["@odata.context"], `${ctx.srv.origin}/v1.0/$metadata#print/pullPrintPrinters/$entity`);
    assert.equal(s9.id, id);
    assert.equal(s9.displayName, "Published");

    const expanded = await v3(ctx).api(`/print/pullPrintPrinters/${id}`).expand("shares").get();
    assert.deepEqual(expanded.shares.map((x) => x.id), [share]);
    assert.equal(expanded.shares[0].displayName, "Pull queue");
    assert.equal(expanded.shares[0].allowAllUsers, true);
    const listed = await v3(ctx).api("/print/pullPrintPrinters").expand("shares").filter(`id eq '${id}'`).get();
    assert.deepEqual(listed.value[0].shares.map((x) => x.id), [share]);
    const plain = await v3(ctx).api(`/print/pullPrintPrinters/${id}`).get();
    assert.equal(plain.shares, undefined, "shares only when expanded");

    // refusals: a pull-print printer that does not exist, not a pull-print printer URL, on create
    const unknown = randomUUID();
    const bad = await raw(ctx, `/v1.0/print/shares/${share}`, { method: "PATCH", json: { "pullPrintPrinter@odata.bind": pullUrl(unknown) } });
    assert.match(assertErrorEnvelope(bad, { status: 400, code: "invalidRequest" }).message, new RegExp(`pullPrintPrinter@odata.bind.*${unknown}`));
    const wrong = await raw(ctx, `/v1.0/print/shares/${share}`, { method: "PATCH", json: { "pullPrintPrinter@odata.bind": printerUrl(printer) } });
    assert.match(assertErrorEnvelope(wrong, { status: 400, code: "invalidRequest" }).message, /URL of a pull-print printer/);
    const onCreate = await raw(ctx, "/v1.0/print/shares", { method: "POST", json: { displayName: "x", "printer@odata.bind": printerUrl(await registerPrinter(ctx.srv, ctx.admin, { name: "Other" })), "pullPrintPrinter@odata.bind": pullUrl(id) } });
    assert.match(assertErrorEnvelope(onCreate, { status: 400, code: "invalidRequest" }).message, /PATCH/);
    assert.equal((await v3(ctx, ctx.shareReader).api(`/print/shares/${share}/pullPrintPrinter`).get()).id, id, "still bound");

    // permissions: both a pull-print printer and a share read permission
    await expectGraphError(v3(ctx, ctx.reader).api(`/print/shares/${share}/pullPrintPrinter`).get(), { status: 403, code: "accessDenied" });
    await expectGraphError(v3(ctx, ctx.printerAdmin).api(`/print/shares/${share}/pullPrintPrinter`).get(), { status: 403, code: "accessDenied" });
    assertErrorEnvelope(await raw(ctx, `/v1.0/print/shares/${randomUUID()}/pullPrintPrinter`), { status: 404, code: "itemNotFound" });

    // unbind with null; bind again; deleting the pull-print printer unbinds the share, which stays
    await v3(ctx).api(`/print/shares/${share}`).patch({ "pullPrintPrinter@odata.bind": null });
    assertErrorEnvelope(await raw(ctx, `/v1.0/print/shares/${share}/pullPrintPrinter`), { status: 404, code: "itemNotFound" });
    assert.deepEqual((await v3(ctx).api(`/print/pullPrintPrinters/${id}`).expand("shares").get()).shares, []);
    await v3(ctx).api(`/print/shares/${share}`).patch({ "pullPrintPrinter@odata.bind": pullUrl(id) });
    await v3(ctx).api(`/print/pullPrintPrinters/${id}`).delete();
    assertErrorEnvelope(await raw(ctx, `/v1.0/print/shares/${share}/pullPrintPrinter`), { status: 404, code: "itemNotFound" });
    assert.equal((await raw(ctx, `/v1.0/print/shares/${share}`)).status, 200, "the share stays");
  });
});

describe("a job sent to a share that publishes a pull-print printer is released at a member (J10)", () => {
  const APP_X = "00000000-0000-4000-8000-0000000000c1";
  const ALICE = "00000000-0000-4000-8000-00000000a11c";
  // J10 also needs a permission that allows Get printer (docs/behaviour.md)
  const USER_SCOPES = "PrintJob.ReadWrite PrinterShare.ReadBasic.All Printer.Read.All";
  const ctx = serverForSuite({ tls: true }, {
    tokens: {
      appX: { app: APP_X, roles: "PrintTaskDefinition.ReadWrite.All" },
      admin: { app: APP_X, scopes: `${ADMIN_SCOPES} PrintJob.ReadWrite.All`, admin: true },
      alice: { user: ALICE, upn: "alice@contoso.test", scopes: USER_SCOPES },
      bob: { upn: "bob@contoso.test", scopes: USER_SCOPES },
    },
    setup: async (c) => {
      const r = (p, opts) => rawFetch(`${c.srv.origin}${p}`, { ca: c.srv.ca, token: c.admin, ...opts });
      const def = await r("/v1.0/print/taskDefinitions", { method: "POST", token: c.appX, json: { displayName: "Pull release" } });
      assert.equal(def.status, 201, def.text);
      c.V = await registerPrinter(c.srv, c.admin, { name: "Pull queue (virtual)" });
      c.P1 = await registerPrinter(c.srv, c.admin, { name: "Floor 1" });
      c.P2 = await registerPrinter(c.srv, c.admin, { name: "Floor 2 (not a member)" });
      const trig = await r(`/v1.0/print/printers/${c.V}/taskTriggers`, { method: "POST",
        json: { event: "jobStarted", "definition@odata.bind": `https://graph.microsoft.com/v1.0/print/taskDefinitions/${def.json.id}` } });
      assert.equal(trig.status, 201, trig.text);
      const share = await r("/v1.0/print/shares", { method: "POST", json: { displayName: "Follow me", allowAllUsers: true, "printer@odata.bind": printerUrl(c.V) } });
      assert.equal(share.status, 201, share.text);
      c.S = share.json.id;
    },
  });

  // alice's job through the share, uploaded and started: held by the trigger of the share's printer
  async function heldJob() {
    const client = kiota(ctx, ctx.alice);
    const job = await client.print.shares.byPrinterShareId(ctx.S).jobs.post({ configuration: { copies: 1 } });
    await uploadDocument(ctx.srv, ctx.alice, `shares/${ctx.S}`, job);
    const status = await client.print.shares.byPrinterShareId(ctx.S).jobs.byPrintJobId(job.id).start.post();
    assert.equal(status.state, "paused", "held by the print task");
    return job.id;
  }
  const release = (printer, token, jobId) => raw(ctx, `/v1.0/print/printers/${printer}/jobs/release`, { method: "POST", token, json: { jobId } });

  it("released at a member printer: a new job there, the held one completed with redirectedTo", async () => {
    const { id: pp } = await createPull(ctx, { displayName: "Follow me" });
    await v3(ctx).api(`/print/pullPrintPrinters/${pp}/printers/$ref`).post({ "@odata.id": printerUrl(ctx.P1) });
    await v3(ctx).api(`/print/shares/${ctx.S}`).patch({ "pullPrintPrinter@odata.bind": pullUrl(pp) });
    const jobId = await heldJob();

    // not at a printer outside the pull-print printer, not by another user
    assertErrorEnvelope(await release(ctx.P2, ctx.alice, jobId), { status: 404, code: "itemNotFound" });
    assertErrorEnvelope(await release(ctx.P1, ctx.bob, jobId), { status: 404, code: "itemNotFound" });

    const released = await v3(ctx, ctx.alice).api(`/print/printers/${ctx.P1}/jobs/release`).post({ jobId });
    assert.equal(released["@odata.context"], `${ctx.srv.origin}/v1.0/$metadata#print/printers('${ctx.P1}')/jobs/$entity`);
    assert.notEqual(released.id, jobId, "a new job on the member printer");
    assert.equal(released.isFetchable, true);
    assert.equal(released.createdBy.userPrincipalName, "alice@contoso.test");
    assert.equal(released.redirectedFrom, `${ctx.srv.origin}/v1.0/print/printers/${ctx.V}/jobs/${jobId}`);
    const source = await raw(ctx, `/v1.0/print/printers/${ctx.V}/jobs/${jobId}`);
    assert.equal(source.json.status.state, "completed");
    assert.equal(source.json.isFetchable, false);
    assert.equal(source.json.redirectedTo, `${ctx.srv.origin}/v1.0/print/printers/${ctx.P1}/jobs/${released.id}`);
    const tasks = await raw(ctx, `/v1.0/print/printers/${ctx.V}/jobs/${jobId}/tasks`);
    assert.equal(tasks.json.value[0].status.state, "completed");
    // the document's bytes went with it
    const docs = await raw(ctx, `/v1.0/print/printers/${ctx.P1}/jobs/${released.id}/documents`);
    const bytes = await raw(ctx, `/v1.0/print/printers/${ctx.P1}/jobs/${released.id}/documents/${docs.json.value[0].id}/$value`);
    assert.equal(bytes.status, 302, "$value answers with the pre-authorized download URL");
    const download = await rawFetch(bytes.headers.get("location"), { ca: ctx.srv.ca });
    assert.equal(download.status, 200);
    assert.deepEqual(download.body, TEST_PDF);
    // released once
    assertErrorEnvelope(await release(ctx.P1, ctx.alice, jobId), { status: 409, code: "notAllowed" });
  });

  it("includeAllPrinters releases anywhere in the tenant; an unbound share's jobs stay at their printer", async () => {
    const { id: pp } = await createPull(ctx, { displayName: "Anywhere", additionalData: { includeAllPrinters: true } });
    await v3(ctx).api(`/print/shares/${ctx.S}`).patch({ "pullPrintPrinter@odata.bind": pullUrl(pp) });
    const first = await heldJob();
    const r = await release(ctx.P2, ctx.alice, first);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json["@odata.context"], `${ctx.srv.origin}/v1.0/$metadata#print/printers('${ctx.P2}')/jobs/$entity`);

    await v3(ctx).api(`/print/shares/${ctx.S}`).patch({ "pullPrintPrinter@odata.bind": null });
    const second = await heldJob();
    assertErrorEnvelope(await release(ctx.P2, ctx.alice, second), { status: 404, code: "itemNotFound" });
    // at its own printer the existing J10 rule still releases it
    const own = await release(ctx.V, ctx.alice, second);
    assert.equal(own.status, 200, own.text);
    assert.equal(own.json.id, second);
    assert.equal(own.json.isFetchable, true);
  });
});
