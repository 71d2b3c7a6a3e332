// SPDX-License-Identifier: Apache-2.0
// $metadata, $count and the OData wire details (reference §9.1, §9.3, §9.4): the CSDL document
// of /v1.0 and /beta read by an OData CSDL parser from npm (@sap-ux/edmx-parser), its enums equal
// to what the server accepts and sends, answers that match their types in it, @odata.context
// URLs pointing into it, namespace-qualified bound actions and functions, `.../$count` as
// text/plain (with $filter; never taken as a key), $count=true refused where §9.3 says so.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { rawFetch, v3Client, kiotaClient, closeAgents } from "./lib/clients.mjs";
import { assertErrorEnvelope } from "./lib/graph-assert.mjs";
import { loadModel, modelFromXml } from "./lib/csdl.mjs";
import {
  PRINTER_MANAGEMENT_SCOPES, serverForSuite, registerPrinter, createShare, createJob, uploadDocument,
} from "./lib/fixtures.mjs";

const ADMIN = [...PRINTER_MANAGEMENT_SCOPES, "PrinterShare.ReadWrite.All", "PrintJob.ReadWrite.All",
  "PrintSettings.ReadWrite.All", "PrintConnector.ReadWrite.All"].join(" ");
const NS = "microsoft.graph";

after(() => closeAgents());

describe("$metadata", () => {
  const ctx = serverForSuite({ tls: true }, { tokens: { admin: { scopes: ADMIN, admin: true } } });
  let v1, beta;
  before(async () => {
    v1 = await loadModel(ctx.srv, "v1.0");
    beta = await loadModel(ctx.srv, "beta");
    ctx.printer = await registerPrinter(ctx.srv, ctx.admin, { name: "Meta" });
    ctx.share = await createShare(ctx.srv, ctx.admin, ctx.printer);
  });

  it("is public CSDL XML under both prefixes, read by an OData CSDL parser", async () => {
    for (const v of ["v1.0", "beta"]) {
      const r = await rawFetch(`${ctx.srv.origin}/${v}/$metadata`, { ca: ctx.srv.ca });
      assert.equal(r.status, 200);
      assert.match(r.contentType, /^application\/xml/);
      assert.match(r.text, /^<\?xml version="1.0"/);
      const m = modelFromXml(r.text);
      for (const t of ["printer", "printerShare", "printJob", "printDocument", "printTask", "printTaskDefinition",
        "printTaskTrigger", "printerCreateOperation", "printConnector", "printService", "printServiceEndpoint"])
        assert.ok(m.types.get(`${NS}.${t}`)?.kind === "entity", `${v}: entity type ${t}`);
      for (const t of ["printerCapabilities", "printerLocation", "printJobConfiguration", "printJobStatus", "uploadSession"])
        assert.ok(m.types.get(`${NS}.${t}`)?.kind === "complex", `${v}: complex type ${t}`);
      assert.deepEqual(m.singletons.map((s) => s.name), ["print", "reports"]);
      for (const a of ["create", "restoreFactoryDefaults", "getCapabilities", "start", "cancel", "abort", "redirect",
        "createUploadSession"])
        assert.ok(m.actions.some((x) => x.name === a), `${v}: operation ${a}`);
      assert.equal(m.actions.find((x) => x.name === "getCapabilities").isFunction, true);
      assert.equal(m.types.get(`${NS}.printer`).base, `${NS}.printerBase`);
    }
  });

  it("says what differs between /v1.0 and /beta, as the answers do", () => {
    const props = (m, t) => [...m.members(`${NS}.${t}`).props.keys()];
    assert.ok(props(beta, "printJob").includes("displayName"));
    assert.ok(!props(v1, "printJob").includes("displayName"));
    assert.ok(props(beta, "printerCapabilities").includes("queueBufferSizeInBytes"));
    assert.ok(!props(v1, "printerCapabilities").includes("queueBufferSizeInBytes"));
    assert.ok(props(v1, "printer").includes("releaseMechanisms"));
  });

  it("lists the enum members the server accepts, in CSDL order with their values", () => {
    assert.deepEqual(v1.enums.get(`${NS}.printJobProcessingState`).members,
      ["unknown", "pending", "processing", "paused", "stopped", "completed", "canceled", "aborted", "unknownFutureValue"]);
    assert.equal(v1.enums.get(`${NS}.printerProcessingStateDetail`).members.length, 826);
    assert.equal(v1.enums.get(`${NS}.printJobReleaseMethods`).flags, true);
    const orientation = v1.raw.schema.enumTypes.find((e) => e.name === "printOrientation");
    assert.deepEqual(orientation.members.map((m) => m.value), [3, 4, 5, 6, 7]);
  });

  it("describes the answers: a printer, a share, a job, with their contexts pointing into it", async () => {
    const base = `${ctx.srv.url}/v1.0/$metadata#`;
    const p = await rawFetch(`${ctx.srv.origin}/v1.0/print/printers/${ctx.printer}?$select=id,displayName,capabilities,status`,
      { token: ctx.admin, ca: ctx.srv.ca });
    assert.equal(p.status, 200, p.text);
    assert.deepEqual(v1.check(p.json, `${NS}.printer`, { selected: true }), []);
    const full = await rawFetch(`${ctx.srv.origin}/v1.0/print/printers/${ctx.printer}`, { token: ctx.admin, ca: ctx.srv.ca });
    assert.deepEqual(v1.check(full.json, `${NS}.printer`), []);
    assert.ok(full.json["@odata.context"].startsWith(base), full.json["@odata.context"]);
    const s = await rawFetch(`${ctx.srv.origin}/beta/print/shares/${ctx.share}`, { token: ctx.admin, ca: ctx.srv.ca });
    assert.deepEqual(beta.check(s.json, `${NS}.printerShare`), []);
    const job = await createJob(ctx.srv, ctx.admin, `printers/${ctx.printer}`, { configuration: { copies: 2 } });
    assert.deepEqual(v1.check(job, `${NS}.printJob`), []);
    const bjob = await rawFetch(`${ctx.srv.origin}/beta/print/printers/${ctx.printer}/jobs/${job.id}?$expand=documents`,
      { token: ctx.admin, ca: ctx.srv.ca });
    assert.deepEqual(beta.check(bjob.json, `${NS}.printJob`), []);
    // a wrong shape is caught: the checker is not a rubber stamp
    assert.notDeepEqual(v1.check({ ...job, status: { ...job.status, state: "printing" } }, `${NS}.printJob`), []);
    assert.notDeepEqual(v1.check({ ...job, configuration: { ...job.configuration, finishings: null } }, `${NS}.printJob`), []);
    assert.notDeepEqual(v1.check({ ...job, extra: 1 }, `${NS}.printJob`), []);
  });

  it("resolves every served path template through its navigation properties", () => {
    assert.deepEqual(v1.resolve("/print/printers/{p}/jobs/{j}/documents/{d}/createUploadSession").type, `${NS}.uploadSession`);
    assert.equal(v1.resolve("/print/shares/{s}/jobs/$count").kind, "count");
    assert.equal(v1.resolve("/print/taskDefinitions/{d}/tasks/{t}/trigger").type, `${NS}.printTaskTrigger`);
    assert.throws(() => v1.resolve("/print/printers/{p}/pullPrintPrinters/nothing"));
  });
});

describe("$count and qualified operations", () => {
  const ctx = serverForSuite({ tls: true }, { tokens: { admin: { scopes: ADMIN, admin: true } } });
  before(async () => {
    ctx.printer = await registerPrinter(ctx.srv, ctx.admin, { name: "Count A" });
    ctx.printer2 = await registerPrinter(ctx.srv, ctx.admin, { name: "Count B" });
    ctx.jobs = [];
    for (let i = 0; i < 3; i++) ctx.jobs.push(await createJob(ctx.srv, ctx.admin, `printers/${ctx.printer}`, {}));
  });
  const get = (path, opts = {}) => rawFetch(`${ctx.srv.origin}${path}`, { token: ctx.admin, ca: ctx.srv.ca, ...opts });

  it("answers .../$count with the bare number as text/plain, through the v3 client too", async () => {
    let r = await get("/v1.0/print/printers/$count");
    assert.equal(r.status, 200, r.text);
    assert.match(r.contentType, /^text\/plain/);
    assert.equal(r.text, "2");
    r = await get(`/beta/print/printers/${ctx.printer}/jobs/$count`);
    assert.equal(r.text, "3");
    r = await get(`/v1.0/print/printers/${ctx.printer2}/jobs/$count`);
    assert.equal(r.text, "0");
    r = await get("/v1.0/print/services/$count");
    assert.equal(r.text, "1");
    const client = v3Client({ origin: ctx.srv.origin, version: "v1.0", token: ctx.admin, ca: ctx.srv.ca });
    const raw = await client.api("/print/printers/$count").responseType("raw").get();
    assert.equal(raw.status, 200);
    assert.equal(await raw.text(), "2");
  });

  it("counts what $filter selects and refuses options that do not apply", async () => {
    let r = await get(`/v1.0/print/printers/$count?$filter=${encodeURIComponent("displayName eq 'Count B'")}`);
    assert.equal(r.text, "1");
    r = await get(`/v1.0/print/printers/${ctx.printer}/jobs/$count?$filter=${encodeURIComponent(`id eq '${ctx.jobs[1].id}'`)}`);
    assert.equal(r.text, "1");
    r = await get("/v1.0/print/printers/$count?$top=1");
    assertErrorEnvelope(r, { status: 400, code: "invalidRequest" });
    assert.match(r.json.error.message, /\$top.*\$count/);
  });

  it("never takes $count as a key, and refuses $count=true where §9.3 does", async () => {
    let r = await get("/v1.0/print/printers/$count/jobs");
    assertErrorEnvelope(r, { status: 404, code: "itemNotFound" });
    assert.doesNotMatch(r.json.error.message, /Printer '\$count'/);
    r = await get(`/v1.0/print/printers/${ctx.printer}/jobs/$count/documents`);
    assertErrorEnvelope(r, { status: 404, code: "itemNotFound" });
    r = await get("/v1.0/print/printers?$count=true");
    assertErrorEnvelope(r, { status: 400, code: "invalidRequest" });
    assert.match(r.json.error.message, /\$count.*not supported/);
  });

  it("$count=false is accepted on every collection that refuses $count=true (v3 client and Kiota); a single entity takes no $count", async () => {
    const share = await createShare(ctx.srv, ctx.admin, ctx.printer2);
    const lists = ["/print/printers", "/print/shares", `/print/printers/${ctx.printer}/jobs`, `/print/shares/${share}/jobs`,
      "/print/connectors", "/print/services", "/print/operations",
      `/print/printers/${ctx.printer}/jobs/${ctx.jobs[0].id}/documents`];
    for (const path of lists) {
      let r = await get(`/v1.0${path}?$count=false`);
      assert.equal(r.status, 200, `${path}: ${r.text}`);
      assert.ok(Array.isArray(r.json.value), path);
      assert.ok(!("@odata.count" in r.json), path);
      r = await get(`/beta${path}?$count=true`);
      const err = assertErrorEnvelope(r, { status: 400, code: "invalidRequest" });
      assert.equal(err.innerError.code, "invalidQueryOption", path);
      assert.match(err.message, /'\$count' is not supported.*\$count=true is refused/, `${path}: ${err.message}`);
    }
    const v3 = v3Client({ origin: ctx.srv.origin, version: "v1.0", token: ctx.admin, ca: ctx.srv.ca });
    const printers = await v3.api("/print/printers").count(false).get();
    assert.equal(printers.value.length, 2);
    assert.equal(printers["@odata.count"], undefined);
    const client = kiotaClient({ origin: ctx.srv.origin, version: "beta", token: ctx.admin, ca: ctx.srv.ca });
    const jobs = await client.print.printers.byPrinterId(ctx.printer).jobs.get({ queryParameters: { count: false, top: 2 } });
    assert.equal(jobs.value.length, 2);
    assert.equal(jobs.odataCount, undefined);
    await assert.rejects(client.print.shares.get({ queryParameters: { count: true } }), (e) => e.responseStatusCode === 400);
    const one = await get(`/v1.0/print/printers/${ctx.printer}?$count=false`);
    assertErrorEnvelope(one, { status: 400, code: "invalidRequest" });
  });

  it("accepts every bound action and function namespace-qualified", async () => {
    const job = ctx.jobs[2];
    let r = await get(`/v1.0/print/printers/${ctx.printer}/jobs/${job.id}/microsoft.graph.cancel`, { method: "POST" });
    assert.equal(r.status, 204, r.text);
    r = await get(`/beta/print/printers/${ctx.printer}/microsoft.graph.getCapabilities`);
    assert.equal(r.status, 200, r.text);
    r = await get(`/v1.0/print/printers/${ctx.printer}/Microsoft.Graph.restoreFactoryDefaults`, { method: "POST" });
    assert.equal(r.status, 204, r.text);
    await uploadDocument(ctx.srv, ctx.admin, `printers/${ctx.printer}`, ctx.jobs[0]);
    r = await get(`/v1.0/print/printers/${ctx.printer}/jobs/${ctx.jobs[0].id}/microsoft.graph.start`, { method: "POST" });
    assert.equal(r.status, 200, r.text);
    assert.match(r.json["@odata.context"], /\$metadata#microsoft\.graph\.printJobStatus$/);
    // only operations are qualified: navigation properties and unknown names are not
    r = await get(`/v1.0/print/printers/${ctx.printer}/microsoft.graph.jobs`);
    assertErrorEnvelope(r, { status: 404, code: "itemNotFound" });
    r = await get(`/v1.0/print/printers/${ctx.printer}/jobs/${job.id}/microsoft.graph.explode`, { method: "POST" });
    assertErrorEnvelope(r, { status: 404, code: "itemNotFound" });
  });
});

describe("$filter functions, typed enum literals, $select in the context", () => {
  const ctx = serverForSuite({ tls: true }, { tokens: { admin: { scopes: ADMIN, admin: true } } });
  before(async () => {
    ctx.a = await registerPrinter(ctx.srv, ctx.admin, { name: "Front Desk A" });
    ctx.b = await registerPrinter(ctx.srv, ctx.admin, { name: "front desk b" });
    ctx.c = await registerPrinter(ctx.srv, ctx.admin, { name: "Back Office 10%_x!" });
    ctx.share = await createShare(ctx.srv, ctx.admin, ctx.a, { name: "Lobby Front" });
    ctx.job = await createJob(ctx.srv, ctx.admin, `printers/${ctx.a}`, {});
  });
  const list = async (path, filter) => {
    const r = await rawFetch(`${ctx.srv.origin}${path}?$filter=${encodeURIComponent(filter)}`, { token: ctx.admin, ca: ctx.srv.ca });
    return r;
  };
  const names = async (filter) => {
    const r = await list("/v1.0/print/printers", filter);
    assert.equal(r.status, 200, `${filter}: ${r.text}`);
    return r.json.value.map((p) => p.displayName).sort();
  };

  it("startswith, endswith and contains are case-insensitive, with %, _ and ! taken literally", async () => {
    assert.deepEqual(await names("startswith(displayName,'FRONT')"), ["Front Desk A", "front desk b"]);
    assert.deepEqual(await names("endswith(displayName, 'a')"), ["Front Desk A"]);
    assert.deepEqual(await names("contains(displayName,'DESK')"), ["Front Desk A", "front desk b"]);
    assert.deepEqual(await names("contains(displayName,'10%_x!')"), ["Back Office 10%_x!"]);
    assert.deepEqual(await names("contains(displayName,'%')"), ["Back Office 10%_x!"]);
    assert.deepEqual(await names("contains(displayName,'_')"), ["Back Office 10%_x!"]);
    assert.deepEqual(await names("contains(displayName,'0%x')"), []);
    assert.deepEqual(await names("startswith(displayName,'')"), ["Back Office 10%_x!", "Front Desk A", "front desk b"]);
  });

  it("compose with not, eq true/false, and/or and in", async () => {
    assert.deepEqual(await names("not startswith(displayName,'front')"), ["Back Office 10%_x!"]);
    assert.deepEqual(await names("startswith(displayName,'front') eq false"), ["Back Office 10%_x!"]);
    assert.deepEqual(await names("startswith(displayName,'front') eq true and endswith(displayName,'B')"), ["front desk b"]);
    assert.deepEqual(await names("contains(displayName,'office') or displayName in ('front desk b')"),
      ["Back Office 10%_x!", "front desk b"]);
    assert.deepEqual(await names("displayName in ('Front Desk A', 'Back Office 10%_x!')"), ["Back Office 10%_x!", "Front Desk A"]);
    const r = await rawFetch(`${ctx.srv.origin}/v1.0/print/printers/$count?$filter=${encodeURIComponent("startswith(displayName,'front')")}`,
      { token: ctx.admin, ca: ctx.srv.ca });
    assert.equal(r.text, "2");
    const s = await list("/v1.0/print/shares", "contains(displayName,'lobby')");
    assert.deepEqual(s.json.value.map((x) => x.id), [ctx.share]);
  });

  it("typed enum literals name their enum, which must fit the property", async () => {
    assert.equal((await names("status/state eq microsoft.graph.printerProcessingState'unknown'")).length, 3);
    const j = await list(`/v1.0/print/printers/${ctx.a}/jobs`, "status/state eq microsoft.graph.printJobProcessingState'paused'");
    assert.equal(j.status, 200, j.text);
    assert.deepEqual(j.json.value.map((x) => x.id), [ctx.job.id]);
    const none = await list(`/v1.0/print/printers/${ctx.a}/jobs`, "status/state in (microsoft.graph.printJobProcessingState'completed', microsoft.graph.printJobProcessingState'aborted')");
    assert.deepEqual(none.json.value, []);
    for (const [f, re] of [
      ["status/state eq microsoft.graph.printerProcessingState'sleeping'", /'sleeping'.*not a member of printerProcessingState/],
      ["status/state eq microsoft.graph.noSuchEnum'idle'", /qualified name/],
      ["status/state eq microsoft.graph.printColorMode'color'", /'color' is not a valid value for 'status\/state'/],
      ["startswith(isShared,'t')", /startswith\(\) applies to string properties/],
      ["startswith('x', displayName)", /first argument of startswith\(\) at position 1 must be a property/],
      ["contains(displayName, 5)", /second argument of contains\(\) at position \d+ must be a string/],
      ["tolower(displayName) eq 'x'", /function 'tolower' .* not supported/],
    ]) {
      const r = await list("/v1.0/print/printers", f);
      assertErrorEnvelope(r, { status: 400, code: "invalidRequest" });
      assert.match(r.json.error.message, re, f);
    }
  });

  it("carries $select in @odata.context", async () => {
    const l = await rawFetch(`${ctx.srv.origin}/v1.0/print/printers?$select=id,displayName`, { token: ctx.admin, ca: ctx.srv.ca });
    assert.equal(l.json["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#print/printers(id,displayName)`);
    const one = await rawFetch(`${ctx.srv.origin}/beta/print/printers/${ctx.a}?$select=displayName, status`, { token: ctx.admin, ca: ctx.srv.ca });
    assert.equal(one.json["@odata.context"], `${ctx.srv.url}/beta/$metadata#print/printers(displayName,status)/$entity`);
    const plain = await rawFetch(`${ctx.srv.origin}/v1.0/print/printers/${ctx.a}`, { token: ctx.admin, ca: ctx.srv.ca });
    assert.equal(plain.json["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#print/printers/$entity`);
  });
});
