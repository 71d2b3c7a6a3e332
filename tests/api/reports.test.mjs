// SPDX-License-Identifier: Apache-2.0
// Usage reports and archived print jobs under /reports (reference §2.13, §4.9; docs/reports.md).
// A fixed set of jobs is printed by simulated printers (--dev --simulate-printers) or canceled on
// known days (the service clock is moved with the development control API) by known users on
// known printers; the daily and monthly figures must equal the hand count below, before and
// after retention moved the jobs into the archive. Then the archived-job functions with date
// ranges, the query options, and the permission refusals.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { kiotaClient, rawFetch, closeAgents } from "./lib/clients.mjs";
import { assertErrorEnvelope } from "./lib/graph-assert.mjs";
import { loadModel } from "./lib/csdl.mjs";
import { PRINTER_MANAGEMENT_SCOPES, serverForSuite, registerPrinter, createShare, uploadDocument } from "./lib/fixtures.mjs";

const ADMIN_SCOPES = [...PRINTER_MANAGEMENT_SCOPES, "PrinterShare.ReadWrite.All", "PrintJob.ReadWrite.All"].join(" ");
const USER_SCOPES = "PrintJob.ReadWrite PrinterShare.ReadBasic.All";
const ALICE = "00000000-0000-4000-8000-00000000a11c";
const BOB = "00000000-0000-4000-8000-000000000b0b";
const G1 = "11111111-1111-4111-8111-111111111111";
const G2 = "22222222-2222-4222-8222-222222222222";

// A PDF the simulated printer counts `n` pages in (it counts /Type /Page objects).
const pdf = (n) => Buffer.from(`%PDF-1.4\n1 0 obj<</Type /Pages /Count ${n}>>endobj\n`
  + Array.from({ length: n }, (_, i) => `${i + 2} 0 obj<</Type /Page>>endobj\n`).join("") + "trailer<<>>\n%%EOF\n");

after(() => closeAgents());

const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
const kiota = (ctx, token) => kiotaClient({ origin: ctx.srv.origin, version: "v1.0", token, ca: ctx.srv.ca });
const raw = (ctx, p, opts = {}) => rawFetch(`${ctx.srv.origin}${p}`, { ca: ctx.srv.ca, ...opts });
const dev = (ctx, p, opts = {}) => raw(ctx, `/spoold/v1/dev${p}`, { token: ctx.dev, timeoutMs: 60_000, ...opts });

async function getJson(ctx, p, token = ctx.reader) {
  const r = await raw(ctx, p, { token });
  assert.equal(r.status, 200, `GET ${p}: ${r.status} ${r.text}`);
  return r.json;
}

async function moveClock(ctx, body) {
  const r = await dev(ctx, "/clock", { method: "POST", json: body });
  assert.equal(r.status, 200, r.text);
  return r.json;
}

// A job of `who` on share/printer, with a document of `pages` pages; printed to the end by the
// simulated printer (`print: true`) or canceled before it starts.
async function job(ctx, { who, share, printer, pages, configuration, print = true }) {
  const token = ctx[who];
  const j = await kiota(ctx, token).print.shares.byPrinterShareId(share).jobs.post({ configuration });
  await uploadDocument(ctx.srv, token, `shares/${share}`, j, pdf(pages), { documentName: "doc.pdf" });
  const jobs = kiota(ctx, token).print.shares.byPrinterShareId(share).jobs.byPrintJobId(j.id);
  if (!print) {
    await jobs.cancel.post();
  } else {
    await jobs.start.post();
    const end = Date.now() + 20_000;
    for (;;) {
      const got = await getJson(ctx, `/v1.0/print/printers/${printer}/jobs/${j.id}`, ctx.admin);
      if (got.status.state === "completed") break;
      assert.ok(Date.now() < end, `job ${j.id} not completed: ${JSON.stringify(got.status)}`);
      await sleep(30);
    }
  }
  return j.id;
}

// The hand count. Per record: [bw jobs, colour jobs, incomplete, pages, colour pages, two-sided
// sheets, one-sided sheets].
function record(ctx, kind, date, key, [bw, color, incomplete, pages, colorPages, duplex, simplex]) {
  const byUser = kind.endsWith("ByUser");
  const o = {
    id: `${date}_${byUser ? key : ctx[key]}`,
    usageDate: date,
    completedBlackAndWhiteJobCount: bw,
    completedColorJobCount: color,
    incompleteJobCount: incomplete,
    completedJobCount: bw + color,
    pageCount: pages,
    blackAndWhitePageCount: pages - colorPages,
    colorPageCount: colorPages,
    mediaSheetCount: duplex + simplex,
    doubleSidedSheetCount: duplex,
    singleSidedSheetCount: simplex,
  };
  if (byUser) o.userPrincipalName = key;
  else Object.assign(o, { printerId: ctx[key], printerName: key === "P1" ? "Front desk" : "Back office" });
  return o;
}

function expected(ctx) {
  // listed by date, then printer id or lower-cased userPrincipalName
  const order = (x) => `${x.usageDate}_${(x.printerId || x.userPrincipalName).toLowerCase()}`;
  const r = (kind, rows) => rows.map(([date, key, n]) => record(ctx, kind, date, key, n))
    .sort((x, y) => (order(x) < order(y) ? -1 : 1));
  return {
    dailyPrintUsageByPrinter: r("dailyPrintUsageByPrinter", [
      ["2031-01-31", "P1", [1, 1, 1, 8, 6, 1, 6]],
      ["2031-01-31", "P2", [1, 0, 0, 2, 0, 0, 2]],
      ["2031-02-01", "P1", [0, 0, 1, 0, 0, 0, 0]],
      ["2031-02-01", "P2", [1, 1, 0, 9, 3, 3, 3]],
      ["2031-02-02", "P1", [1, 0, 0, 4, 0, 0, 4]],
    ]),
    monthlyPrintUsageByPrinter: r("monthlyPrintUsageByPrinter", [
      ["2031-01-01", "P1", [1, 1, 1, 8, 6, 1, 6]],
      ["2031-01-01", "P2", [1, 0, 0, 2, 0, 0, 2]],
      ["2031-02-01", "P1", [1, 0, 1, 4, 0, 0, 4]],
      ["2031-02-01", "P2", [1, 1, 0, 9, 3, 3, 3]],
    ]),
    dailyPrintUsageByUser: r("dailyPrintUsageByUser", [
      ["2031-01-31", "Alice@Contoso.test", [1, 1, 0, 8, 6, 1, 6]],
      ["2031-01-31", "bob@contoso.test", [1, 0, 1, 2, 0, 0, 2]],
      ["2031-02-01", "Alice@Contoso.test", [0, 1, 1, 3, 3, 0, 3]],
      ["2031-02-01", "bob@contoso.test", [1, 0, 0, 6, 0, 3, 0]],
      ["2031-02-02", "bob@contoso.test", [1, 0, 0, 4, 0, 0, 4]],
    ]),
    monthlyPrintUsageByUser: r("monthlyPrintUsageByUser", [
      ["2031-01-01", "Alice@Contoso.test", [1, 1, 0, 8, 6, 1, 6]],
      ["2031-01-01", "bob@contoso.test", [1, 0, 1, 2, 0, 0, 2]],
      ["2031-02-01", "Alice@Contoso.test", [0, 1, 1, 3, 3, 0, 3]],
      ["2031-02-01", "bob@contoso.test", [2, 0, 0, 10, 0, 3, 4]],
    ]),
  };
}

const REPORTS = ["dailyPrintUsageByPrinter", "monthlyPrintUsageByPrinter", "dailyPrintUsageByUser", "monthlyPrintUsageByUser"];

async function assertReports(ctx, version = "v1.0") {
  const want = expected(ctx);
  for (const name of REPORTS) {
    const got = await getJson(ctx, `/${version}/reports/${name}`);
    assert.equal(got["@odata.context"], `${ctx.srv.url}/${version}/$metadata#reports/${name}`);
    assert.deepEqual(got.value, want[name], `${version} ${name}`);
  }
}

describe("usage reports and archived print jobs", () => {
  const ctx = serverForSuite({
    args: ["--simulate-printers", "--simulate-page-ms", "1", "--max-jobs-per-printer-window", "0",
      "--max-jobs-per-user-window", "0"],
  }, {
    tokens: () => ({
      admin: { scopes: ADMIN_SCOPES, admin: true },
      dev: { scopes: "Printer.Read.All", admin: true },
      reader: { scopes: "Reports.Read.All", admin: true },
      alice: { user: ALICE, scopes: USER_SCOPES, upn: "Alice@Contoso.test", groups: [G1] },
      bob: { user: BOB, scopes: USER_SCOPES, upn: "bob@contoso.test", groups: [G1, G2] },
      noReportsScope: { scopes: ADMIN_SCOPES, admin: true },
      notAdmin: { scopes: "Reports.Read.All PrintJob.ReadWrite" },
      app: { roles: "Reports.Read.All Printer.Read.All" },
      otherTenant: { tenant: randomUUID(), scopes: "Reports.Read.All", admin: true },
    }),
    setup: async (ctx) => {
      ctx.P1 = await registerPrinter(ctx.srv, ctx.admin, { name: "Front desk" });
      ctx.P2 = await registerPrinter(ctx.srv, ctx.admin, { name: "Back office" });
      ctx.s1 = await createShare(ctx.srv, ctx.admin, ctx.P1, { name: "Front desk" });
      ctx.s2 = await createShare(ctx.srv, ctx.admin, ctx.P2, { name: "Back office" });
      const on = (n) => ({ share: ctx[`s${n}`], printer: ctx[`P${n}`] });
      ctx.ids = {};
      // 2031-01-31
      await moveClock(ctx, { now: "2031-01-31T10:00:00Z" });
      ctx.ids.a1 = await job(ctx, { who: "alice", ...on(1), pages: 3, configuration: { colorMode: "color", copies: 2 } });
      ctx.ids.a2 = await job(ctx, { who: "alice", ...on(1), pages: 2, configuration: { colorMode: "blackAndWhite", duplexMode: "flipOnLongEdge" } });
      ctx.ids.b1 = await job(ctx, { who: "bob", ...on(2), pages: 2, configuration: { colorMode: "grayscale" } });
      ctx.ids.b2 = await job(ctx, { who: "bob", ...on(1), pages: 1, print: false });
      // 2031-02-01
      await moveClock(ctx, { advanceBy: "PT24H" });
      ctx.ids.a3 = await job(ctx, { who: "alice", ...on(2), pages: 3, configuration: { colorMode: "color" } });
      ctx.ids.b3 = await job(ctx, { who: "bob", ...on(2), pages: 2, configuration: { duplexMode: "flipOnShortEdge", copies: 3 } });
      ctx.ids.a4 = await job(ctx, { who: "alice", ...on(1), pages: 1, print: false });
      // 2031-02-02
      await moveClock(ctx, { advanceBy: "PT24H" });
      ctx.ids.b4 = await job(ctx, { who: "bob", ...on(1), pages: 4 });
    },
  });

  it("daily and monthly figures equal the hand count, on both prefixes", async () => {
    await assertReports(ctx, "v1.0");
    await assertReports(ctx, "beta");
  });

  it("$filter on usageDate, printerId and userPrincipalName; $count; $orderby; paging", async () => {
    const want = expected(ctx);
    let got = await getJson(ctx, "/v1.0/reports/dailyPrintUsageByPrinter?$filter=usageDate eq 2031-02-01");
    assert.deepEqual(got.value, want.dailyPrintUsageByPrinter.slice(2, 4));
    got = await getJson(ctx, `/v1.0/reports/dailyPrintUsageByPrinter?$filter=printerId eq '${ctx.P2}' and usageDate ge 2031-01-31&$count=true`);
    assert.equal(got["@odata.count"], 2);
    assert.deepEqual(got.value, want.dailyPrintUsageByPrinter.filter((x) => x.printerId === ctx.P2));
    got = await getJson(ctx, "/v1.0/reports/monthlyPrintUsageByUser?$filter=userPrincipalName eq 'ALICE@contoso.TEST'");
    assert.deepEqual(got.value, want.monthlyPrintUsageByUser.filter((r) => r.userPrincipalName.startsWith("Alice")));
    got = await getJson(ctx, "/v1.0/reports/dailyPrintUsageByUser?$filter=pageCount gt 5&$orderby=pageCount desc&$select=pageCount,usageDate");
    assert.deepEqual(got.value.map((r) => [r.usageDate, r.pageCount]), [["2031-01-31", 8], ["2031-02-01", 6]]);
    assert.deepEqual(Object.keys(got.value[0]).sort(), ["id", "pageCount", "usageDate"]);

    const count = await raw(ctx, "/v1.0/reports/dailyPrintUsageByUser/$count?$filter=usageDate lt 2031-02-02", { token: ctx.reader });
    assert.equal(count.status, 200, count.text);
    assert.match(count.headers.get("content-type"), /^text\/plain/);
    assert.equal(count.text, "4");
    const all = await raw(ctx, "/beta/reports/monthlyPrintUsageByPrinter/$count", { token: ctx.reader });
    assert.equal(all.text, "4");

    // pages of one record each, following the nextLinks
    const seen = [];
    let url = "/v1.0/reports/dailyPrintUsageByPrinter?$top=2";
    while (url) {
      const page = await getJson(ctx, url);
      assert.ok(page.value.length <= 2);
      seen.push(...page.value);
      url = page["@odata.nextLink"] ? page["@odata.nextLink"].slice(ctx.srv.url.length) : null;
    }
    assert.deepEqual(seen, want.dailyPrintUsageByPrinter);

    for (const [q, what] of [["$filter=color eq 1", "color"], ["$filter=usageDate eq 'x'", "usageDate"], ["$search=x", "$search"]]) {
      const r = await raw(ctx, `/v1.0/reports/dailyPrintUsageByPrinter?${q}`, { token: ctx.reader });
      assertErrorEnvelope(r, { status: 400, code: "invalidRequest" });
      assert.match(r.json.error.message, new RegExp(what.replace("$", "\\$")));
    }
  });

  it("a record by id, as listed", async () => {
    const want = expected(ctx);
    for (const name of REPORTS) {
      for (const rec of want[name]) {
        const got = await getJson(ctx, `/v1.0/reports/${name}/${encodeURIComponent(rec.id)}`);
        assert.equal(got["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#reports/${name}/$entity`);
        delete got["@odata.context"];
        assert.deepEqual(got, rec);
      }
    }
    const quoted = await getJson(ctx, `/v1.0/reports/dailyPrintUsageByUser('2031-02-01_BOB@contoso.test')`);
    assert.equal(quoted.pageCount, 6);
    for (const id of ["2031-01-30_bob@contoso.test", `2031-01-31_${randomUUID()}`, "nonsense", "2031-02-02_bob@contoso.test"]) {
      const r = await raw(ctx, `/v1.0/reports/monthlyPrintUsageByUser/${encodeURIComponent(id)}`, { token: ctx.reader });
      assertErrorEnvelope(r, { status: 404, code: "itemNotFound" });
    }
  });

  it("archived print jobs by printer, user and group within date ranges", async () => {
    const fn = (name, who, start = "null", end = "null", version = "v1.0") =>
      getJson(ctx, `/${version}/reports/${name}(${who},startDateTime=${start},endDateTime=${end})`);
    const ids = (r) => r.value.map((j) => j.id);
    const { a1, a2, a3, a4, b1, b2, b3, b4 } = ctx.ids;

    let r = await fn("getPrinterArchivedPrintJobs", `printerId='${ctx.P1}'`);
    assert.equal(r["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#Collection(microsoft.graph.archivedPrintJob)`);
    assert.deepEqual(ids(r), [a1, a2, b2, a4, b4]);
    r = await fn("getPrinterArchivedPrintJobs", `printerId='${ctx.P1}'`, "2031-01-31T00:00:00Z", "2031-01-31T23:59:59Z");
    assert.deepEqual(ids(r), [a1, a2, b2]);
    r = await fn("getPrinterArchivedPrintJobs", `printerId='${ctx.P2}'`, "2031-02-01T00:00:00Z", "null");
    assert.deepEqual(ids(r), [a3, b3]);
    r = await fn("getUserArchivedPrintJobs", `userId='${ALICE}'`, "null", "2031-02-01T23:59:59Z");
    assert.deepEqual(ids(r), [a1, a2, a3, a4]);
    r = await fn("microsoft.graph.getUserArchivedPrintJobs", `userId='${BOB}'`, "2031-02-01T00:00:00.000Z", "2031-03-01T00:00:00Z");
    assert.deepEqual(ids(r), [b3, b4]);
    r = await fn("getGroupArchivedPrintJobs", `groupId='${G2}'`);
    assert.deepEqual(ids(r), [b1, b2, b3, b4]);
    r = await fn("getGroupArchivedPrintJobs", `groupId='${G1}'`, "2031-02-02T00:00:00Z");
    assert.deepEqual(ids(r), [b4]);
    r = await fn("getGroupArchivedPrintJobs", `groupId='${randomUUID()}'`);
    assert.deepEqual(r.value, []);
    // parameter aliases
    r = await getJson(ctx, `/v1.0/reports/getPrinterArchivedPrintJobs(printerId=@p,startDateTime=@s,endDateTime=null)?@p='${ctx.P2}'&@s=2031-02-01T00:00:00Z`);
    assert.deepEqual(ids(r), [a3, b3]);

    // the archivedPrintJob shape (v1.0), and the page counts under /beta
    r = await fn("getUserArchivedPrintJobs", `userId='${ALICE}'`, "2031-01-31T00:00:00Z", "2031-01-31T23:59:59Z");
    const one = r.value[0];
    assert.equal(one.id, a1);
    assert.equal(one.printerId, ctx.P1);
    assert.equal(one.printerName, "Front desk");
    assert.equal(one.processingState, "completed");
    assert.equal(one.acquiredByPrinter, true);
    assert.equal(one.copiesPrinted, 2);
    assert.match(one.createdDateTime, /^2031-01-31T10:/);
    assert.match(one.acquiredDateTime, /^2031-01-31T10:/);
    assert.match(one.completionDateTime, /^2031-01-31T10:/);
    assert.equal(one.createdBy.id, ALICE);
    assert.equal(one.createdBy.userPrincipalName, "Alice@Contoso.test");
    assert.equal("pageCount" in one, false);
    const canceled = (await fn("getPrinterArchivedPrintJobs", `printerId='${ctx.P1}'`)).value.find((j) => j.id === b2);
    assert.equal(canceled.processingState, "canceled");
    assert.equal(canceled.copiesPrinted, 0);
    assert.equal(canceled.acquiredByPrinter, false);
    assert.equal(canceled.acquiredDateTime, null);
    const beta = await fn("getUserArchivedPrintJobs", `userId='${ALICE}'`, "null", "null", "beta");
    const [a1b, a2b] = beta.value;
    assert.deepEqual([a1b.pageCount, a1b.colorPageCount, a1b.blackAndWhitePageCount, a1b.simplexPageCount, a1b.duplexPageCount], [6, 6, 0, 6, 0]);
    assert.deepEqual([a2b.pageCount, a2b.colorPageCount, a2b.blackAndWhitePageCount, a2b.simplexPageCount, a2b.duplexPageCount], [2, 0, 2, 0, 2]);

    // paging
    const page = await getJson(ctx, `/v1.0/reports/getPrinterArchivedPrintJobs(printerId='${ctx.P1}',startDateTime=null,endDateTime=null)?$top=2`);
    assert.deepEqual(ids(page), [a1, a2]);
    const rest = await getJson(ctx, page["@odata.nextLink"].slice(ctx.srv.url.length));
    assert.deepEqual(ids(rest).slice(0, 2), [b2, a4]);

    // bad calls
    for (const [seg, what] of [
      [`getPrinterArchivedPrintJobs(printerId='${ctx.P1}',startDateTime=null)`, "endDateTime"],
      [`getPrinterArchivedPrintJobs(printerId='${ctx.P1}',startDateTime=yesterday,endDateTime=null)`, "startDateTime"],
      [`getPrinterArchivedPrintJobs(startDateTime=null,endDateTime=null)`, "printerId"],
      [`getUserArchivedPrintJobs(userId='${ALICE}',startDateTime=2031-02-01T00:00:00Z,endDateTime=2031-01-01T00:00:00Z)`, "startDateTime"],
      [`getGroupArchivedPrintJobs(groupId='${G1}',printerId='x',startDateTime=null,endDateTime=null)`, "printerId"],
    ]) {
      const res = await raw(ctx, `/v1.0/reports/${seg}`, { token: ctx.reader });
      assertErrorEnvelope(res, { status: 400, code: "invalidRequest" });
      assert.match(res.json.error.message, new RegExp(what), seg);
    }
    assertErrorEnvelope(await raw(ctx, "/v1.0/reports/getEverything(x='y')", { token: ctx.reader }), { status: 404, code: "itemNotFound" });
  });

  it("answers match their types in $metadata (v1.0 and beta)", async () => {
    const NS = "microsoft.graph";
    for (const version of ["v1.0", "beta"]) {
      const m = await loadModel(ctx.srv, version);
      assert.equal(m.resolve("/reports/dailyPrintUsageByPrinter/$count").kind, "count");
      for (const [name, type] of [["dailyPrintUsageByPrinter", "printUsageByPrinter"], ["monthlyPrintUsageByPrinter", "printUsageByPrinter"],
        ["dailyPrintUsageByUser", "printUsageByUser"], ["monthlyPrintUsageByUser", "printUsageByUser"]]) {
        assert.deepEqual(m.resolve(`/reports/${name}`), { kind: "collection", type: `${NS}.${type}` });
        const list = await getJson(ctx, `/${version}/reports/${name}`);
        assert.ok(list.value.length > 0);
        for (const rec of list.value) assert.deepEqual(m.check(rec, `${NS}.${type}`), [], `${version} ${name}`);
      }
      for (const [fn, who] of [["getPrinterArchivedPrintJobs", `printerId='${ctx.P1}'`], ["getUserArchivedPrintJobs", `userId='${ALICE}'`],
        ["getGroupArchivedPrintJobs", `groupId='${G1}'`]]) {
        const op = m.operation(fn, `${NS}.reportRoot`, false);
        assert.ok(op, `${version}: ${fn} in $metadata`);
        assert.equal(op.isFunction, true);
        const r = await getJson(ctx, `/${version}/reports/${fn}(${who},startDateTime=null,endDateTime=null)`);
        assert.ok(r.value.length > 0);
        for (const j of r.value) assert.deepEqual(m.check(j, `${NS}.archivedPrintJob`), [], `${version} ${fn}`);
      }
    }
  });

  it("permissions: Reports.Read.All with an administrator role; applications refused; tenants apart", async () => {
    const paths = ["/v1.0/reports/dailyPrintUsageByPrinter", "/beta/reports/monthlyPrintUsageByUser",
      "/v1.0/reports/dailyPrintUsageByUser/$count",
      `/v1.0/reports/getPrinterArchivedPrintJobs(printerId='${ctx.P1}',startDateTime=null,endDateTime=null)`];
    for (const p of paths) {
      for (const [token, why] of [[ctx.noReportsScope, /Reports\.Read\.All/], [ctx.notAdmin, /Administrator/], [ctx.app, /./], [ctx.alice, /Reports\.Read\.All/]]) {
        const r = await raw(ctx, p, { token });
        assertErrorEnvelope(r, { status: 403, code: "accessDenied" });
        assert.match(r.json.error.message, why, p);
      }
      assertErrorEnvelope(await raw(ctx, p), { status: 401, code: "unauthenticated" });
    }
    // another tenant sees none of this tenant's usage
    const other = await getJson(ctx, "/v1.0/reports/dailyPrintUsageByPrinter", ctx.otherTenant);
    assert.deepEqual(other.value, []);
    const otherJobs = await getJson(ctx, `/v1.0/reports/getPrinterArchivedPrintJobs(printerId='${ctx.P1}',startDateTime=null,endDateTime=null)`, ctx.otherTenant);
    assert.deepEqual(otherJobs.value, []);
  });

  it("after retention moves the jobs into the archive the figures stay the same", async () => {
    const moved = await moveClock(ctx, { advanceBy: "P8D" });
    assert.equal(moved.swept.jobsArchived, 8, JSON.stringify(moved));
    assertErrorEnvelope(await raw(ctx, `/v1.0/print/printers/${ctx.P1}/jobs/${ctx.ids.a1}`, { token: ctx.admin }), { status: 404, code: "itemNotFound" });
    await assertReports(ctx, "v1.0");
    const r = await getJson(ctx, `/beta/reports/getUserArchivedPrintJobs(userId='${ALICE}',startDateTime=null,endDateTime=null)`);
    assert.deepEqual(r.value.map((j) => j.id), [ctx.ids.a1, ctx.ids.a2, ctx.ids.a3, ctx.ids.a4]);
    assert.deepEqual([r.value[0].pageCount, r.value[0].colorPageCount, r.value[0].copiesPrinted], [6, 6, 2]);
    assert.deepEqual([r.value[1].duplexPageCount, r.value[1].blackAndWhitePageCount], [2, 2]);
    const g = await getJson(ctx, `/v1.0/reports/getGroupArchivedPrintJobs(groupId='${G2}',startDateTime=2031-02-01T00:00:00Z,endDateTime=null)`);
    assert.deepEqual(g.value.map((j) => j.id), [ctx.ids.b3, ctx.ids.b4]);
  });
});
