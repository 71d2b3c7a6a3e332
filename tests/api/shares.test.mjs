// SPDX-License-Identifier: Apache-2.0
// Printer shares (reference §4.2) through the real Graph clients: create / list / get / update
// (printer swap) / delete under /v1.0 and /beta, one share per printer, query options and
// paging, the reduced property set for non-administrators, allowedUsers / allowedGroups, tenant
// isolation and the refusals that name what is missing. Printers are registered through
// POST /print/printers/create (never inserted behind the API's back). Every describe block runs
// its own spoold and stops it by PID.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import {
  kiotaClient, v3Client, kiotaWithStatus, rawFetch, models, GUID, closeAgents,
} from "./lib/clients.mjs";
import { assertErrorEnvelope, expectKiotaError, expectGraphError } from "./lib/graph-assert.mjs";
import { PRINTER_MANAGEMENT_SCOPES, serverForSuite, registerPrinter } from "./lib/fixtures.mjs";

// A Printer Administrator who may register printers, manage shares and list users and groups.
const ADMIN_SCOPES = [
  ...PRINTER_MANAGEMENT_SCOPES, "PrinterShare.ReadWrite.All", "User.ReadBasic.All", "GroupMember.Read.All",
  "PrintJob.ReadWrite.All",
].join(" ");
const REDUCED_KEYS = ["displayName", "id", "location", "manufacturer", "model"];

after(() => closeAgents());

// Starts a server for the enclosing describe block and mints the usual tokens.
function withServer(opts = {}) {
  return serverForSuite(opts, {
    ctx: { other: randomUUID() },
    tokens: (ctx) => ({
      admin: { scopes: ADMIN_SCOPES, admin: true },
      otherAdmin: { tenant: ctx.other, scopes: ADMIN_SCOPES, admin: true },
      reader: { scopes: "PrinterShare.ReadBasic.All" },
      app: { roles: "Printer.ReadWrite.All" }, // the application that registers the printers
    }),
  });
}

const kiota = (ctx, token, version = "v1.0") => kiotaClient({ origin: ctx.srv.origin, version, token, ca: ctx.srv.ca });
const url = (ctx, p) => `${ctx.srv.origin}${p}`;
const raw = (ctx, p, opts = {}) => rawFetch(url(ctx, p), { token: ctx.admin, ca: ctx.srv.ca, ...opts });
const graphPrinterUrl = (id, version = "v1.0") => `https://graph.microsoft.com/${version}/print/printers/${id}`;
const bind = (id, version) => ({ "printer@odata.bind": graphPrinterUrl(id, version) });

// -----------------------------------------------------------------------------------------------

describe("create, get, update, delete", () => {
  const ctx = withServer();
  before(async () => {
    ctx.p1 = await registerPrinter(ctx.srv, ctx.admin, { name: "P1", manufacturer: "Contoso", model: "M1" });
    ctx.p2 = await registerPrinter(ctx.srv, ctx.admin, { name: "P2", manufacturer: "Fabrikam", model: "M2" });
    ctx.p3 = await registerPrinter(ctx.srv, ctx.admin, { name: "P3" });
  });

  it("POST /v1.0/print/shares (Kiota): 201 printerShare with the printer's data; isShared becomes true", async () => {
    const client = kiota(ctx, ctx.admin);
    const r = await kiotaWithStatus((cfg) => client.print.shares.post({
      displayName: "Front desk", additionalData: bind(ctx.p1),
    }, cfg), models.createPrinterShareFromDiscriminatorValue);
    assert.equal(r.status, 201, r.text);
    const share = r.value;
    assert.match(share.id, GUID);
    assert.notEqual(share.id, ctx.p1, "the share has its own id");
    assert.equal(share.displayName, "Front desk");
    assert.equal(share.allowAllUsers, false, "allowAllUsers defaults to false");
    assert.ok(share.createdDateTime instanceof Date && Date.now() - share.createdDateTime.getTime() < 60_000);
    assert.equal(share.manufacturer, "Contoso", "mirrored from the printer");
    assert.equal(share.model, "M1");
    assert.equal(typeof share.status?.state, "string");
    assert.equal(r.json["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#print/shares/$entity`);
    assert.ok(!("capabilities" in r.json), "no capabilities unless $select'ed");
    ctx.s1 = share.id;

    const printer = await raw(ctx, `/v1.0/print/printers/${ctx.p1}`);
    assert.equal(printer.status, 200, printer.text);
    assert.equal(printer.json.isShared, true);
  });

  it("POST /beta/print/shares with a relative binding and allowAllUsers: 201 with the beta context", async () => {
    const client = kiota(ctx, ctx.admin, "beta");
    const share = await client.print.shares.post({
      displayName: "Second floor", allowAllUsers: true, additionalData: { "printer@odata.bind": `print/printers/${ctx.p2}` },
    });
    assert.equal(share.allowAllUsers, true);
    assert.equal(share.manufacturer, "Fabrikam");
    assert.equal(share.additionalData["@odata.context"], `${ctx.srv.url}/beta/$metadata#print/shares/$entity`);
    ctx.s2 = share.id;
  });

  it("a second share of a printer: 409 notAllowed naming the existing share", async () => {
    const res = await raw(ctx, "/v1.0/print/shares", {
      method: "POST", json: { displayName: "Again", "printer@odata.bind": `${ctx.srv.url}/v1.0/print/printers/${ctx.p1}` },
    });
    const err = assertErrorEnvelope(res, { status: 409, code: "notAllowed" });
    assert.match(err.message, /already shared/, err.message);
    assert.ok(err.message.includes(ctx.s1), err.message);
    const client = kiota(ctx, ctx.admin);
    await expectKiotaError(client.print.shares.post({ displayName: "Again", additionalData: bind(ctx.p1, "beta") }),
      { status: 409, code: "notAllowed" });
  });

  it("bad bodies: 400 invalidRequest naming the property", async () => {
    const cases = [
      [{ displayName: "x".repeat(51), ...bind(ctx.p3) }, /displayName.*at most 50/],
      [{ ...bind(ctx.p3) }, /displayName.*required/],
      [{ displayName: "" , ...bind(ctx.p3) }, /displayName.*empty/],
      [{ displayName: "No printer" }, /printer@odata\.bind.*required/],
      [{ displayName: "Unknown", ...bind(randomUUID()) }, /printer@odata\.bind.*does not exist/],
      [{ displayName: "Bad URL", "printer@odata.bind": "https://example.com/v1.0/print/printers/x" }, /printer@odata\.bind/],
      [{ displayName: "Bad URL", "printer@odata.bind": graphPrinterUrl(ctx.p3).replace("printers", "shares") }, /printer@odata\.bind/],
      [{ displayName: "Wrong type", allowAllUsers: "yes", ...bind(ctx.p3) }, /allowAllUsers/],
      [{ displayName: "Read-only", createdDateTime: "2020-01-01T00:00:00Z", ...bind(ctx.p3) }, /createdDateTime.*read-only/],
      [{ displayName: "Unknown property", color: "red", ...bind(ctx.p3) }, /color/],
      [{ displayName: "Other binding", "jobs@odata.bind": "x", ...bind(ctx.p3) }, /jobs@odata\.bind/],
    ];
    for (const [body, msg] of cases) {
      const res = await raw(ctx, "/v1.0/print/shares", { method: "POST", json: body });
      const err = assertErrorEnvelope(res, { status: 400, code: "invalidRequest" });
      assert.match(err.message, msg, `${JSON.stringify(body).slice(0, 80)} -> ${err.message}`);
    }
    // 50 characters (and 50 characters beyond ASCII) are fine; so is the Kiota client's 400
    const client = kiota(ctx, ctx.admin);
    await expectKiotaError(client.print.shares.post({ displayName: "y".repeat(51), additionalData: bind(ctx.p3) }),
      { status: 400, code: "invalidRequest" });
    const ok = await raw(ctx, "/v1.0/print/shares", { method: "POST", json: { displayName: "é".repeat(50), ...bind(ctx.p3) } });
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.json.displayName, "é".repeat(50));
    assert.equal((await raw(ctx, `/v1.0/print/shares/${ok.json.id}`, { method: "DELETE" })).status, 204);
  });

  it("GET /print/shares/{id}: $select (capabilities only when selected), key syntax, both versions", async () => {
    const client = kiota(ctx, ctx.admin);
    const share = await client.print.shares.byPrinterShareId(ctx.s1).get();
    assert.equal(share.id, ctx.s1);
    assert.equal(share.displayName, "Front desk");
    assert.equal(share.manufacturer, "Contoso");
    assert.equal(share.additionalData["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#print/shares/$entity`);

    const full = await raw(ctx, `/beta/print/shares('${ctx.s1}')`);
    assert.equal(full.status, 200, full.text);
    assert.equal(full.json["@odata.context"], `${ctx.srv.url}/beta/$metadata#print/shares/$entity`);
    for (const k of ["id", "displayName", "manufacturer", "model", "isAcceptingJobs", "status", "location", "allowAllUsers", "createdDateTime"])
      assert.ok(k in full.json, `${k} in ${full.text}`);
    assert.ok(!("capabilities" in full.json));

    const sel = await client.print.shares.byPrinterShareId(ctx.s1).get({ queryParameters: { select: ["id", "displayName", "capabilities"] } });
    assert.ok(sel.capabilities, "capabilities when $select'ed");
    const rsel = await raw(ctx, `/v1.0/print/shares/${ctx.s1}?$select=displayName,capabilities`);
    assert.deepEqual(Object.keys(rsel.json).sort(), ["@odata.context", "capabilities", "displayName", "id"]);

    const bad = await raw(ctx, `/v1.0/print/shares/${ctx.s1}?$select=nope`);
    const err = assertErrorEnvelope(bad, { status: 400, code: "invalidRequest" });
    assert.equal(err.innerError.code, "invalidQueryOption");
    assert.match(err.message, /nope/);
    const count = await raw(ctx, `/v1.0/print/shares/${ctx.s1}?$count=true`);
    assertErrorEnvelope(count, { status: 400, code: "invalidRequest" });
  });

  it("GET with $expand=printer,allowedUsers,allowedGroups", async () => {
    const client = kiota(ctx, ctx.admin);
    const user = randomUUID();
    await client.print.shares.byPrinterShareId(ctx.s1).allowedUsers.ref.post({ odataId: `https://graph.microsoft.com/v1.0/users/${user}` });
    const share = await client.print.shares.byPrinterShareId(ctx.s1).get({ queryParameters: { expand: ["printer", "allowedUsers", "allowedGroups"] } });
    assert.equal(share.printer?.id, ctx.p1);
    assert.equal(share.printer?.isShared, true);
    assert.deepEqual(share.allowedUsers.map((u) => u.id), [user]);
    assert.deepEqual(share.allowedGroups, []);
    await client.print.shares.byPrinterShareId(ctx.s1).allowedUsers.byUserId(user).ref.delete();
  });

  it("GET /print/printers/{id}/shares and /shares/{shareId}; GET /print/shares/{id}/printer", async () => {
    const client = kiota(ctx, ctx.admin);
    const list = await client.print.printers.byPrinterId(ctx.p1).shares.get();
    assert.deepEqual(list.value.map((s) => s.id), [ctx.s1]);
    assert.equal(list.additionalData["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#print/printers('${ctx.p1}')/shares`);
    assert.equal((await client.print.printers.byPrinterId(ctx.p3).shares.get()).value.length, 0);

    const one = await client.print.printers.byPrinterId(ctx.p1).shares.byPrinterShareId(ctx.s1).get();
    assert.equal(one.displayName, "Front desk");
    await expectKiotaError(client.print.printers.byPrinterId(ctx.p2).shares.byPrinterShareId(ctx.s1).get(), { status: 404, code: "itemNotFound" });
    await expectKiotaError(client.print.printers.byPrinterId(randomUUID()).shares.get(), { status: 404, code: "itemNotFound" });

    const printer = await client.print.shares.byPrinterShareId(ctx.s1).printer.get();
    assert.equal(printer.id, ctx.p1);
    assert.equal(printer.displayName, "P1", "the printer's own name, not the share's");
    assert.equal(printer.isShared, true);
    const r = await raw(ctx, `/v1.0/print/shares/${ctx.s1}/printer`);
    assert.equal(r.json["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#print/shares('${ctx.s1}')/printer/$entity`);
    assert.ok(!("capabilities" in r.json));
    await expectKiotaError(client.print.shares.byPrinterShareId(randomUUID()).printer.get(), { status: 404, code: "itemNotFound" });
  });

  it("PATCH: displayName and allowAllUsers; 200 with the share", async () => {
    const client = kiota(ctx, ctx.admin);
    const r = await kiotaWithStatus((cfg) => client.print.shares.byPrinterShareId(ctx.s1).patch({ displayName: "Lobby", allowAllUsers: true }, cfg),
      models.createPrinterShareFromDiscriminatorValue);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.value.displayName, "Lobby");
    assert.equal(r.value.allowAllUsers, true);
    assert.equal(r.value.manufacturer, "Contoso");
    const got = await client.print.shares.byPrinterShareId(ctx.s1).get();
    assert.equal(got.displayName, "Lobby");
    assert.equal(got.allowAllUsers, true);

    const bad = await raw(ctx, `/v1.0/print/shares/${ctx.s1}`, { method: "PATCH", json: { displayName: "z".repeat(51) } });
    assertErrorEnvelope(bad, { status: 400, code: "invalidRequest" });
    const ro = await raw(ctx, `/v1.0/print/shares/${ctx.s1}`, { method: "PATCH", json: { manufacturer: "Other" } });
    const err = assertErrorEnvelope(ro, { status: 400, code: "invalidRequest" });
    assert.match(err.message, /manufacturer.*read-only/);
    const nul = await raw(ctx, `/v1.0/print/shares/${ctx.s1}`, { method: "PATCH", json: { allowAllUsers: null } });
    assertErrorEnvelope(nul, { status: 400, code: "invalidRequest" });
  });

  it("PATCH printer@odata.bind swaps the printer: the old one is no longer shared; a shared one is refused", async () => {
    const client = kiota(ctx, ctx.admin, "beta");
    const swapped = await client.print.shares.byPrinterShareId(ctx.s1).patch({ additionalData: bind(ctx.p3, "beta") });
    assert.equal(swapped.id, ctx.s1);
    assert.equal(swapped.displayName, "Lobby", "the share keeps its name");
    assert.equal(swapped.manufacturer, "Contoso");
    assert.equal(swapped.model, "LaserJet 9", "now the data of the new printer");
    assert.equal((await raw(ctx, `/v1.0/print/printers/${ctx.p1}`)).json.isShared, false);
    assert.equal((await raw(ctx, `/v1.0/print/printers/${ctx.p3}`)).json.isShared, true);
    assert.equal((await client.print.shares.byPrinterShareId(ctx.s1).printer.get()).id, ctx.p3);

    // p2 is shared by s2
    const res = await raw(ctx, `/v1.0/print/shares/${ctx.s1}`, { method: "PATCH", json: { ...bind(ctx.p2), displayName: "lost" } });
    const err = assertErrorEnvelope(res, { status: 409, code: "notAllowed" });
    assert.ok(err.message.includes(ctx.s2), err.message);
    const unknown = await raw(ctx, `/v1.0/print/shares/${ctx.s1}`, { method: "PATCH", json: bind(randomUUID()) });
    assertErrorEnvelope(unknown, { status: 400, code: "invalidRequest" });
    const got = await raw(ctx, `/v1.0/print/shares/${ctx.s1}`);
    assert.equal(got.json.displayName, "Lobby", "a refused PATCH changes nothing");

    // and back, with our own absolute URL
    await client.print.shares.byPrinterShareId(ctx.s1).patch({ additionalData: { "printer@odata.bind": `${ctx.srv.url}/beta/print/printers('${ctx.p1}')` } });
    assert.equal((await raw(ctx, `/v1.0/print/printers/${ctx.p1}`)).json.isShared, true);
    assert.equal((await raw(ctx, `/v1.0/print/printers/${ctx.p3}`)).json.isShared, false);
  });

  it("DELETE: 204, then 404; the printer is no longer shared", async () => {
    const client = kiota(ctx, ctx.admin);
    const r = await kiotaWithStatus((cfg) => client.print.shares.byPrinterShareId(ctx.s2).delete(cfg));
    assert.equal(r.status, 204, r.text);
    await expectKiotaError(client.print.shares.byPrinterShareId(ctx.s2).get(), { status: 404, code: "itemNotFound" });
    await expectKiotaError(client.print.shares.byPrinterShareId(ctx.s2).delete(), { status: 404, code: "itemNotFound" });
    assert.equal((await raw(ctx, `/v1.0/print/printers/${ctx.p2}`)).json.isShared, false);
    // the printer can be shared again
    const again = await client.print.shares.post({ displayName: "Second floor", additionalData: bind(ctx.p2) });
    ctx.s2 = again.id;
  });
});

// -----------------------------------------------------------------------------------------------

describe("lists: query options, paging, reduced property set", () => {
  const ctx = withServer({ tls: true }); // https: the v3 client sends its token only over TLS
  before(async () => {
    ctx.printers = [];
    for (let i = 0; i < 150; i++)
      ctx.printers.push(await registerPrinter(ctx.srv, ctx.admin, { name: `P${i}`, manufacturer: i % 2 ? "Contoso" : "Fabrikam", model: `M${i % 5}` }));
    const client = kiota(ctx, ctx.admin);
    ctx.shares = [];
    for (let i = 0; i < 150; i++) {
      const name = `Share ${String(i).padStart(3, "0")}`;
      ctx.shares.push((await client.print.shares.post({ displayName: name, allowAllUsers: i % 3 === 0, additionalData: bind(ctx.printers[i]) })).id);
    }
  });

  it("150 shares with $top=50: three pages of 50 through @odata.nextLink (raw and Kiota)", async () => {
    let next = url(ctx, "/v1.0/print/shares?$top=50");
    const seen = new Set();
    const sizes = [];
    while (next) {
      assert.ok(next.startsWith(`${ctx.srv.url}/v1.0/print/shares?`), next);
      const res = await rawFetch(next, { token: ctx.admin, ca: ctx.srv.ca });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#print/shares`);
      sizes.push(res.json.value.length);
      for (const s of res.json.value) {
        assert.ok(!seen.has(s.id), `no repeats: ${s.id}`);
        seen.add(s.id);
        assert.ok(!("capabilities" in s) && !("defaults" in s), "lists never carry defaults or capabilities");
      }
      next = res.json["@odata.nextLink"];
      if (next) assert.match(next, /\$top=50/);
    }
    assert.deepEqual(sizes, [50, 50, 50]);
    assert.deepEqual([...seen].sort(), [...ctx.shares].sort());

    const client = kiota(ctx, ctx.admin, "beta");
    const first = await client.print.shares.get({ queryParameters: { top: 50, orderby: ["displayName desc"] } });
    assert.equal(first.value.length, 50);
    assert.equal(first.value[0].displayName, "Share 149");
    assert.ok(first.odataNextLink.startsWith(`${ctx.srv.url}/beta/print/shares?`), first.odataNextLink);
    const second = await client.print.shares.withUrl(first.odataNextLink).get();
    assert.equal(second.value[0].displayName, "Share 099");
  });

  it("$filter on the printer's location/* and capabilities/* members (Kiota and raw; unknown members named)", async () => {
    const patch = async (id, json) => {
      const res = await raw(ctx, `/v1.0/print/printers/${id}`, { method: "PATCH", json });
      assert.equal(res.status, 200, res.text);
    };
    await patch(ctx.printers[3], { location: { building: "Annex", site: "HQ West", floor: "2" } });
    await patch(ctx.printers[4], { location: { building: "annex", site: "Plant", floor: "2" } });
    const client = kiota(ctx, ctx.admin);
    const q = async (filter) => (await client.print.shares.get({ queryParameters: { filter, top: 200 } })).value.map((x) => x.id).sort();
    const sh = (...i) => i.map((k) => ctx.shares[k]).sort();
    assert.deepEqual(await q("location/building eq 'Annex'"), sh(3));
    assert.deepEqual(await q("startswith(location/building,'ANN')"), sh(3, 4));
    assert.deepEqual(await q("startswith(location/site,'hq')"), sh(3));
    assert.deepEqual(await q("location/floor eq '2' and contains(location/site,'lan')"), sh(4));
    assert.deepEqual(await q("location/floor eq '2' and capabilities/collation eq true"), []);
    assert.equal((await q("location/floor ne '2'")).length, ctx.shares.length - 2);
    const err = assertErrorEnvelope(await raw(ctx, "/v1.0/print/shares?$filter=location/wing eq 'x'"), { status: 400, code: "invalidRequest" });
    assert.equal(err.innerError.code, "invalidQueryOption");
    assert.match(err.message, /location\/wing/);
  });

  it("$filter with lambda any/all on the printer's collections, and isColorPrintingSupported (Kiota and the v3 client)", async () => {
    const patch = async (id, json, token = ctx.admin) => {
      const res = await raw(ctx, `/v1.0/print/printers/${id}`, { method: "PATCH", json, token });
      assert.equal(res.status, 200, res.text);
    };
    await patch(ctx.printers[5], { capabilities: { colorModes: ["color", "grayscale"], mediaSizes: ["A3", "A4"], duplexModes: ["oneSided", "flipOnShortEdge"] } }, ctx.app);
    await patch(ctx.printers[6], { capabilities: { colorModes: ["grayscale"], mediaSizes: ["A4"], dpis: [600] } }, ctx.app);
    await patch(ctx.printers[6], { location: { subunit: ["Copy room"] } });
    const client = kiota(ctx, ctx.admin);
    const q = async (filter) => (await client.print.shares.get({ queryParameters: { filter, top: 200 } })).value.map((x) => x.id).sort();
    const sh = (...i) => i.map((k) => ctx.shares[k]).sort();
    assert.deepEqual(await q("capabilities/colorModes/any(c: c eq 'color')"), sh(5));
    assert.deepEqual(await q("capabilities/mediaSizes/any(m: m eq 'A4')"), sh(5, 6));
    assert.deepEqual(await q("capabilities/duplexModes/any(d: d eq 'flipOnShortEdge') and allowAllUsers eq false"), sh(5));
    assert.deepEqual(await q("capabilities/dpis/any(d: d eq 600)"), sh(6));
    assert.deepEqual(await q("location/subunit/any(s: contains(s,'COPY'))"), sh(6));
    assert.equal((await q("capabilities/mediaSizes/all(m: m eq 'A4')")).length, ctx.shares.length - 1, "all() holds where there are none");
    assert.deepEqual(await q("capabilities/isColorPrintingSupported"), sh(5));
    assert.deepEqual(await q("capabilities/isColorPrintingSupported eq false"), sh(6));
    const v3 = v3Client({ origin: ctx.srv.origin, version: "beta", token: ctx.admin, ca: ctx.srv.ca });
    const r = await v3.api("/print/shares").filter("capabilities/colorModes/any(c: c eq 'grayscale')").top(200).get();
    assert.deepEqual(r.value.map((x) => x.id).sort(), sh(5, 6));
    const err = assertErrorEnvelope(await raw(ctx, "/v1.0/print/shares?$filter=capabilities/colorModes eq 'color'"), { status: 400, code: "invalidRequest" });
    assert.match(err.message, /capabilities\/colorModes.*collection/);
  });

  it("$filter, $select, $orderby", async () => {
    const client = kiota(ctx, ctx.admin);
    const r = await client.print.shares.get({ queryParameters: {
      filter: "manufacturer eq 'Contoso' and allowAllUsers eq true", select: ["displayName", "allowAllUsers"], orderby: ["displayName"],
    } });
    // odd i that are multiples of 3: 3, 9, ..., 147
    assert.equal(r.value.length, 25);
    assert.equal(r.value[0].displayName, "Share 003");
    assert.ok(r.value.every((s) => s.allowAllUsers === true && s.manufacturer === undefined));
    const rr = await raw(ctx, "/v1.0/print/shares?$filter=displayName%20eq%20'Share%20007'&$select=id,displayName");
    assert.equal(rr.status, 200, rr.text);
    assert.deepEqual(rr.json.value, [{ id: ctx.shares[7], displayName: "Share 007" }]);
  });

  it("$count, $search, $skip, $select=capabilities and unknown properties: 400 invalidQueryOption", async () => {
    for (const q of ["$count=true", "$search=%22Share%22", "$skip=10", "$select=capabilities", "$select=defaults",
      "$filter=nope%20eq%201", "$orderby=nope", "$expand=printer"]) {
      const res = await raw(ctx, `/v1.0/print/shares?${q}`);
      const err = assertErrorEnvelope(res, { status: 400, code: "invalidRequest" });
      assert.equal(err.innerError.code, "invalidQueryOption", `${q}: ${err.message}`);
    }
    const client = kiota(ctx, ctx.admin);
    await expectKiotaError(client.print.shares.get({ queryParameters: { count: true } }), { status: 400, code: "invalidRequest" });
  });

  it("a user who is not a Printer Administrator gets id, displayName, manufacturer, model, location", async () => {
    const client = kiota(ctx, ctx.reader);
    const r = await client.print.shares.get({ queryParameters: { top: 5 } });
    assert.equal(r.value.length, 5);
    const res = await raw(ctx, "/v1.0/print/shares?$top=5", { token: ctx.reader });
    assert.equal(res.status, 200, res.text);
    for (const s of res.json.value) assert.deepEqual(Object.keys(s).sort(), REDUCED_KEYS, JSON.stringify(s));
    const admin = await raw(ctx, "/v1.0/print/shares?$top=1");
    for (const k of ["allowAllUsers", "createdDateTime", "status", "isAcceptingJobs"]) assert.ok(k in admin.json.value[0], k);
    // filtering on what they cannot see is refused
    const f = await raw(ctx, "/v1.0/print/shares?$filter=allowAllUsers%20eq%20true", { token: ctx.reader });
    const ferr = assertErrorEnvelope(f, { status: 400, code: "invalidRequest" });
    assert.match(ferr.message, /allowAllUsers/);
    for (const q of ["$orderby=createdDateTime", "$filter=isAcceptingJobs eq true"])
      assertErrorEnvelope(await raw(ctx, `/v1.0/print/shares?${q}`, { token: ctx.reader }), { status: 400, code: "invalidRequest" });
    // ... but location (theirs to see) and capabilities (a picker's question) may be filtered on
    await raw(ctx, `/v1.0/print/printers/${ctx.printers[8]}`, { method: "PATCH", json: { location: { building: "Reduced", subunit: ["Wing R"] } } });
    const byLoc = await client.print.shares.get({ queryParameters: { filter: "location/building eq 'Reduced' and location/subunit/any(s: s eq 'Wing R')" } });
    assert.deepEqual(byLoc.value.map((s) => s.id), [ctx.shares[8]]);
    assert.equal(byLoc.value[0].location.building, "Reduced");
    const byCaps = await raw(ctx, `/v1.0/print/shares?$top=200&$filter=${encodeURIComponent("capabilities/colorModes/any(c: c eq 'color') or capabilities/isColorPrintingSupported eq false")}`, { token: ctx.reader });
    assert.equal(byCaps.status, 200, byCaps.text);
    assert.deepEqual(byCaps.json.value.map((s) => s.id).sort(), [ctx.shares[5], ctx.shares[6]].sort());
    for (const s of byCaps.json.value) assert.deepEqual(Object.keys(s).sort(), REDUCED_KEYS, JSON.stringify(s));
    // an administrator who filters on location or capabilities gets the reduced set too (§4.2 S2)
    const adminLoc = await raw(ctx, `/v1.0/print/shares?$filter=${encodeURIComponent("location/building eq 'Reduced'")}`);
    assert.equal(adminLoc.status, 200, adminLoc.text);
    assert.deepEqual(adminLoc.json.value.map((s) => Object.keys(s).sort()), [REDUCED_KEYS]);
    const adminCaps = await kiota(ctx, ctx.admin).print.shares.get({ queryParameters: { filter: "capabilities/mediaSizes/any(m: m eq 'A3') and allowAllUsers eq false" } });
    assert.deepEqual(adminCaps.value.map((s) => s.id), [ctx.shares[5]]);
    assert.equal(adminCaps.value[0].allowAllUsers, undefined, "reduced: no allowAllUsers");
    const adminPlain = await raw(ctx, `/v1.0/print/shares?$filter=${encodeURIComponent(`id eq '${ctx.shares[8]}'`)}`);
    assert.ok("allowAllUsers" in adminPlain.json.value[0], "other filters keep every property");
    // a single share through GET is readable with PrinterShare.ReadBasic.All
    const one = await client.print.shares.byPrinterShareId(ctx.shares[0]).get();
    assert.equal(one.id, ctx.shares[0]);
  });
});

// -----------------------------------------------------------------------------------------------

describe("allowedUsers and allowedGroups", () => {
  const ctx = withServer();
  before(async () => {
    ctx.p1 = await registerPrinter(ctx.srv, ctx.admin, { name: "P1" });
    ctx.share = (await kiota(ctx, ctx.admin).print.shares.post({ displayName: "Team", additionalData: bind(ctx.p1) })).id;
  });

  it("users: add ($ref, several URL forms), list, add twice (204), remove (204), remove again (404)", async () => {
    const client = kiota(ctx, ctx.admin);
    const users = client.print.shares.byPrinterShareId(ctx.share).allowedUsers;
    const [u1, u2, u3] = [randomUUID(), randomUUID(), randomUUID()].sort();
    const r = await kiotaWithStatus((cfg) => users.ref.post({ odataId: `https://graph.microsoft.com/v1.0/users/${u1}` }, cfg));
    assert.equal(r.status, 204, r.text);
    await users.ref.post({ odataId: `https://graph.microsoft.com/beta/users/${u2.toUpperCase()}` });
    await users.ref.post({ odataId: `users/${u3}` });
    await users.ref.post({ odataId: `${ctx.srv.url}/v1.0/users/${u1}` });   // twice: still 204

    const list = await users.get();
    assert.deepEqual(list.value.map((u) => u.id), [u1, u2, u3], "ids are lower-case GUIDs, in id order");
    const res = await raw(ctx, `/v1.0/print/shares/${ctx.share}/allowedUsers`);
    assert.equal(res.json["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#Collection(microsoft.graph.user)`);
    assert.deepEqual(res.json.value[0], { id: u1, displayName: null, userPrincipalName: null },
      "name and upn are unknown until the user shows up in a token");
    const page = await raw(ctx, `/v1.0/print/shares/${ctx.share}/allowedUsers?$top=2&$select=id`);
    assert.deepEqual(page.json.value, [{ id: u1 }, { id: u2 }]);
    const rest = await rawFetch(page.json["@odata.nextLink"], { token: ctx.admin, ca: ctx.srv.ca });
    assert.deepEqual(rest.json.value, [{ id: u3 }]);
    assert.equal(rest.json["@odata.nextLink"], undefined);

    const refs = await raw(ctx, `/v1.0/print/shares/${ctx.share}/allowedUsers/$ref`);
    assert.equal(refs.status, 200, refs.text);
    assert.deepEqual(refs.json.value, [u1, u2, u3].map((u) => ({ "@odata.id": `${ctx.srv.url}/v1.0/users/${u}` })));

    const del = await kiotaWithStatus((cfg) => users.byUserId(u2).ref.delete(cfg));
    assert.equal(del.status, 204, del.text);
    await expectKiotaError(users.byUserId(u2).ref.delete(), { status: 404, code: "itemNotFound" });
    // DELETE .../allowedUsers/$ref?$id=...
    const byRef = await raw(ctx, `/v1.0/print/shares/${ctx.share}/allowedUsers/$ref?$id=${encodeURIComponent(`https://graph.microsoft.com/v1.0/users/${u3}`)}`, { method: "DELETE" });
    assert.equal(byRef.status, 204, byRef.text);
    assert.deepEqual((await users.get()).value.map((u) => u.id), [u1]);
  });

  it("users: bad references are 400 naming @odata.id; an unknown share is 404", async () => {
    const client = kiota(ctx, ctx.admin);
    const users = client.print.shares.byPrinterShareId(ctx.share).allowedUsers;
    for (const odataId of ["https://graph.microsoft.com/v1.0/users/not-a-guid", `https://graph.microsoft.com/v1.0/groups/${randomUUID()}`,
      `https://example.com/v1.0/users/${randomUUID()}`]) {
      const e = await expectKiotaError(users.ref.post({ odataId }), { status: 400, code: "invalidRequest" });
      assert.match(e.message, /@odata\.id/, e.message);
    }
    const noId = await raw(ctx, `/v1.0/print/shares/${ctx.share}/allowedUsers/$ref`, { method: "POST", json: {} });
    assertErrorEnvelope(noId, { status: 400, code: "invalidRequest" });
    await expectKiotaError(client.print.shares.byPrinterShareId(randomUUID()).allowedUsers.ref.post({ odataId: `users/${randomUUID()}` }),
      { status: 404, code: "itemNotFound" });
    await expectKiotaError(client.print.shares.byPrinterShareId(randomUUID()).allowedUsers.get(), { status: 404, code: "itemNotFound" });
  });

  it("a share that allows one group: the group is listed, with displayName null", async () => {
    const client = kiota(ctx, ctx.admin, "beta");
    const groups = client.print.shares.byPrinterShareId(ctx.share).allowedGroups;
    const g = randomUUID();
    await groups.ref.post({ odataId: `https://graph.microsoft.com/v1.0/groups/${g}` });
    await groups.ref.post({ odataId: `https://graph.microsoft.com/v1.0/groups/${g}` });
    const list = await groups.get();
    assert.deepEqual(list.value.map((x) => x.id), [g]);
    const res = await raw(ctx, `/beta/print/shares/${ctx.share}/allowedGroups`);
    assert.equal(res.json["@odata.context"], `${ctx.srv.url}/beta/$metadata#Collection(microsoft.graph.group)`);
    assert.deepEqual(res.json.value, [{ id: g, displayName: null }]);
    const refs = await raw(ctx, `/beta/print/shares/${ctx.share}/allowedGroups/$ref`);
    assert.deepEqual(refs.json.value, [{ "@odata.id": `${ctx.srv.url}/beta/groups/${g}` }]);
    assert.equal(refs.json["@odata.context"], `${ctx.srv.url}/beta/$metadata#Collection($ref)`);
    const share = await raw(ctx, `/v1.0/print/shares/${ctx.share}`);
    assert.equal(share.json.allowAllUsers, false);
    ctx.group = g;
  });

  it("printing through the share: an allowed group's member may, others get 403 saying how to get access", async () => {
    const inGroup = await ctx.srv.mintUser({ tenant: ctx.tenant, scopes: "PrintJob.ReadWrite PrinterShare.ReadBasic.All", groups: [ctx.group], upn: "ada@contoso.example" });
    const outsider = await ctx.srv.mintUser({ tenant: ctx.tenant, scopes: "PrintJob.ReadWrite PrinterShare.ReadBasic.All", groups: [randomUUID()] });
    const jobs = (token) => kiota(ctx, token).print.shares.byPrinterShareId(ctx.share).jobs;
    const e = await expectKiotaError(jobs(outsider).post({ configuration: {} }), { status: 403, code: "accessDenied" });
    assert.match(e.message, /not allowed to print to share 'Team'.*allowedUsers or allowedGroups/, e.message);
    const job = await jobs(inGroup).post({ configuration: {} });
    assert.ok(job.id, "a member of the allowed group may print");
    // allowAllUsers opens the share to everyone, and closing it again shuts the outsider out
    const admin = kiota(ctx, ctx.admin);
    await admin.print.shares.byPrinterShareId(ctx.share).patch({ allowAllUsers: true });
    assert.ok((await jobs(outsider).post({ configuration: {} })).id);
    await admin.print.shares.byPrinterShareId(ctx.share).patch({ allowAllUsers: false });
    await expectKiotaError(jobs(outsider).post({ configuration: {} }), { status: 403, code: "accessDenied" });
  });

  it("an allowed user who prints shows up with the name and upn of the token", async () => {
    const oid = randomUUID();
    const client = kiota(ctx, ctx.admin);
    await client.print.shares.byPrinterShareId(ctx.share).allowedUsers.ref.post({ odataId: `users/${oid}` });
    const token = await ctx.srv.mintUser({ tenant: ctx.tenant, user: oid, upn: "grace@contoso.example", name: "Grace Hopper",
      scopes: "PrintJob.ReadWrite PrinterShare.ReadBasic.All" });
    const res = await raw(ctx, `/v1.0/print/shares/${ctx.share}/jobs`, { method: "POST", json: { configuration: {} }, token });
    assert.equal(res.status, 201, res.text);
    const list = await client.print.shares.byPrinterShareId(ctx.share).allowedUsers.get();
    const me = list.value.find((u) => u.id === oid);
    assert.equal(me.userPrincipalName, "grace@contoso.example");
    assert.equal(me.displayName, "Grace Hopper");
    // viewPoint ($select'ed): when the signed-in user last printed to the share
    const mine = await kiota(ctx, token).print.shares.byPrinterShareId(ctx.share).get({ queryParameters: { select: ["viewPoint"] } });
    assert.ok(Date.now() - mine.viewPoint.lastUsedDateTime.getTime() < 60_000, JSON.stringify(mine.viewPoint));
    const admins = await raw(ctx, `/v1.0/print/shares/${ctx.share}?$select=id,viewPoint`);
    assert.deepEqual(admins.json.viewPoint, { lastUsedDateTime: null }, "the admin never printed here");
  });

  it("groups: remove (204), remove again (404)", async () => {
    const client = kiota(ctx, ctx.admin);
    const groups = client.print.shares.byPrinterShareId(ctx.share).allowedGroups;
    await groups.byGroupId(ctx.group).ref.delete();
    await expectKiotaError(groups.byGroupId(ctx.group).ref.delete(), { status: 404, code: "itemNotFound" });
    assert.deepEqual((await groups.get()).value, []);
  });

  it("refusals name what is missing", async () => {
    // listing users needs a directory permission on top
    const noDir = await ctx.srv.mintUser({ tenant: ctx.tenant, scopes: "PrinterShare.ReadWrite.All", admin: true });
    let err = assertErrorEnvelope(await raw(ctx, `/v1.0/print/shares/${ctx.share}/allowedUsers`, { token: noDir }), { status: 403, code: "accessDenied" });
    assert.match(err.message, /User\.ReadBasic\.All/, err.message);
    err = assertErrorEnvelope(await raw(ctx, `/v1.0/print/shares/${ctx.share}/allowedGroups`, { token: noDir }), { status: 403, code: "accessDenied" });
    assert.match(err.message, /GroupMember\.Read\.All/, err.message);
    err = assertErrorEnvelope(await raw(ctx, `/v1.0/print/shares/${ctx.share}?$expand=allowedUsers`, { token: noDir }), { status: 403, code: "accessDenied" });
    assert.match(err.message, /allowedUsers.*User\.ReadBasic\.All/, err.message);
    // changes need the Printer Administrator role and PrinterShare.ReadWrite.All
    const notAdmin = await ctx.srv.mintUser({ tenant: ctx.tenant, scopes: "PrinterShare.ReadWrite.All User.ReadBasic.All" });
    err = assertErrorEnvelope(await raw(ctx, `/v1.0/print/shares/${ctx.share}/allowedUsers/$ref`, {
      token: notAdmin, method: "POST", json: { "@odata.id": `users/${randomUUID()}` } }), { status: 403, code: "accessDenied" });
    assert.match(err.message, /Printer Administrator/, err.message);
    err = assertErrorEnvelope(await raw(ctx, "/v1.0/print/shares", { token: ctx.reader, method: "POST", json: { displayName: "x", ...bind(ctx.p1) } }),
      { status: 403, code: "accessDenied" });
    assert.match(err.message, /PrinterShare\.ReadWrite\.All/, err.message);
    err = assertErrorEnvelope(await raw(ctx, `/v1.0/print/shares/${ctx.share}`, { token: ctx.reader, method: "PATCH", json: { displayName: "x" } }),
      { status: 403, code: "accessDenied" });
    assert.match(err.message, /PrinterShare\.ReadWrite\.All/, err.message);
    err = assertErrorEnvelope(await raw(ctx, `/v1.0/print/shares/${ctx.share}`, { token: ctx.reader, method: "DELETE" }), { status: 403, code: "accessDenied" });
    assert.match(err.message, /PrinterShare\.ReadWrite\.All/, err.message);
    // shares are a delegated API
    const app = await ctx.srv.mintApp({ tenant: ctx.tenant, roles: "Printer.ReadWrite.All" });
    err = assertErrorEnvelope(await raw(ctx, "/v1.0/print/shares", { token: app }), { status: 403, code: "accessDenied" });
    assert.match(err.message, /application tokens cannot/, err.message);
    // the printer behind a share needs a Get-printer permission
    err = assertErrorEnvelope(await raw(ctx, `/v1.0/print/shares/${ctx.share}/printer`, { token: ctx.reader }), { status: 403, code: "accessDenied" });
    assert.match(err.message, /Printer\.Read\.All/, err.message);
  });

  it("another tenant's share is 404 everywhere", async () => {
    const t = ctx.otherAdmin;
    const paths = [
      ["GET", `/v1.0/print/shares/${ctx.share}`], ["PATCH", `/v1.0/print/shares/${ctx.share}`, { displayName: "mine" }],
      ["DELETE", `/v1.0/print/shares/${ctx.share}`], ["GET", `/v1.0/print/shares/${ctx.share}/printer`],
      ["GET", `/v1.0/print/shares/${ctx.share}/allowedUsers`], ["GET", `/v1.0/print/shares/${ctx.share}/allowedGroups/$ref`],
      ["POST", `/v1.0/print/shares/${ctx.share}/allowedGroups/$ref`, { "@odata.id": `groups/${randomUUID()}` }],
      ["GET", `/v1.0/print/printers/${ctx.p1}/shares`], ["GET", `/v1.0/print/printers/${ctx.p1}/shares/${ctx.share}`],
    ];
    for (const [method, p, json] of paths) {
      const res = await raw(ctx, p, { token: t, method, json });
      assertErrorEnvelope(res, { status: 404, code: "itemNotFound" });
    }
    const list = await raw(ctx, "/v1.0/print/shares", { token: t });
    assert.deepEqual(list.json.value, []);
    // and it cannot share this tenant's printer
    const res = await raw(ctx, "/v1.0/print/shares", { token: t, method: "POST", json: { displayName: "x", ...bind(ctx.p1) } });
    assertErrorEnvelope(res, { status: 400, code: "invalidRequest" });
    assert.equal((await raw(ctx, `/v1.0/print/shares/${ctx.share}`)).status, 200, "still there for its own tenant");
  });
});

// -----------------------------------------------------------------------------------------------

describe("v3 client over https", () => {
  const ctx = withServer({ tls: true });

  it("create, get, list allowedUsers and delete a share with @microsoft/microsoft-graph-client", async () => {
    const printer = await registerPrinter(ctx.srv, ctx.admin, { name: "TLS printer", manufacturer: "Contoso" });
    const client = v3Client({ origin: ctx.srv.origin, version: "v1.0", token: ctx.admin, ca: ctx.srv.ca });
    const share = await client.api("/print/shares").post({ displayName: "Over TLS", "printer@odata.bind": graphPrinterUrl(printer) });
    assert.match(share.id, GUID);
    assert.equal(share["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#print/shares/$entity`);
    const got = await client.api(`/print/shares/${share.id}`).select(["id", "displayName", "manufacturer"]).get();
    assert.deepEqual(got, { "@odata.context": `${ctx.srv.url}/v1.0/$metadata#print/shares(id,displayName,manufacturer)/$entity`, id: share.id, displayName: "Over TLS", manufacturer: "Contoso" });
    const user = randomUUID();
    await client.api(`/print/shares/${share.id}/allowedUsers/$ref`).post({ "@odata.id": `https://graph.microsoft.com/v1.0/users/${user}` });
    const users = await client.api(`/print/shares/${share.id}/allowedUsers`).get();
    assert.deepEqual(users.value.map((u) => u.id), [user]);
    await expectGraphError(client.api("/print/shares").post({ displayName: "Twice", "printer@odata.bind": graphPrinterUrl(printer) }),
      { status: 409, code: "notAllowed" });
    await client.api(`/print/shares/${share.id}`).delete();
    await expectGraphError(client.api(`/print/shares/${share.id}`).get(), { status: 404, code: "itemNotFound" });
  });
});
