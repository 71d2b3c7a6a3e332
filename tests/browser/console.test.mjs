// SPDX-License-Identifier: Apache-2.0
// The console in a real browser (Debian's chromium, headless, through puppeteer-core) against a
// real spoold: dev sign-in, printers, shares, held jobs, an abort seen live, a user's own jobs,
// expiry; and the OpenID Connect sign-in against a test identity provider, with its refusals.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { writeFile } from "node:fs/promises";
import { startServer, makeTempDir } from "../api/lib/server.mjs";
import { registerPrinter, createShare, createJob, uploadDocument } from "../api/lib/fixtures.mjs";
import { kiotaClient, rawFetch } from "../api/lib/clients.mjs";
import { tenantCmd } from "../api/lib/cli.mjs";
import { startReceiver } from "../api/lib/webhook-receiver.mjs";
import { spooldCli } from "../api/lib/cli.mjs";
import { ippRequest, attr, OP, TAG, bearer } from "../api/lib/ipp.mjs";
import { launch, newPage, screenshot, waitForText, submitForm } from "./lib/browser.mjs";
import { startIdp } from "./lib/idp.mjs";

const USER_OID = "7f3c1e2a-4b5d-4c6e-8f90-a1b2c3d4e5f6";   // the "user" persona's default oid
const PULLPRINT_APP = "22222222-3333-4444-5555-666666666666"; // the "app" persona's default id
const OTHER_OID = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A token of the development issuer for a persona, through the same endpoint the console uses.
async function devToken(srv, body) {
  const r = await rawFetch(`${srv.origin}/spoold/v1/dev/token`, { method: "POST", json: body });
  assert.equal(r.status, 200, r.text);
  return r.json.access_token;
}

async function devSignIn(page, srv, { role, tenant, user, upn, app, ttl }) {
  await page.goto(`${srv.origin}/`);
  await page.waitForSelector("#dev-signin");
  const values = { role, tenant };
  if (user) values.user = user;
  if (upn) values.upn = upn;
  if (app) values.app = app;
  if (ttl) values.ttl = String(ttl);
  await submitForm(page, "#dev-signin", values);
  await page.waitForSelector("#nav:not([hidden])");
}

describe("console with the development personas", () => {
  const errors = [];
  const t = { tenant: `console-${randomUUID().slice(0, 8)}` };
  let srv;
  let browser;

  before(async () => {
    srv = await startServer();
    browser = await launch();
    t.admin = await devToken(srv, { role: "admin", tenant: t.tenant });
    t.app = await devToken(srv, { role: "app", tenant: t.tenant });
    t.user = await devToken(srv, { role: "user", tenant: t.tenant });
    t.other = await devToken(srv, { role: "user", tenant: t.tenant, user: OTHER_OID, upn: "other@contoso.example" });
  });
  after(async () => {
    if (browser) await browser.close();
    if (srv) await srv.stop();
  });

  it("serves the console at / with a strict Content-Security-Policy and revalidation", async () => {
    const root = await rawFetch(`${srv.origin}/`, { redirect: "manual" });
    assert.equal(root.status, 302);
    assert.equal(root.headers.get("location"), "/console/");
    const page = await rawFetch(`${srv.origin}/console/`);
    assert.equal(page.status, 200);
    const csp = page.headers.get("content-security-policy");
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    const etag = page.headers.get("etag");
    assert.ok(etag);
    const again = await rawFetch(`${srv.origin}/console/`, { headers: { "if-none-match": etag } });
    assert.equal(again.status, 304);
    const js = await rawFetch(`${srv.origin}/console/js/main.js`, { headers: { "accept-encoding": "gzip" } });
    assert.equal(js.status, 200);
    const missing = await rawFetch(`${srv.origin}/console/nope.js`);
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.code, "itemNotFound");
  });

  it("an administrator signs in, sees a registered printer appear, shares it and allows a user", async () => {
    const page = await newPage(browser, errors);
    await devSignIn(page, srv, { role: "admin", tenant: t.tenant });
    await waitForText(page, "#main", "Printers");
    await screenshot(page, "printers-empty");
    // Registered through the API while the page is open: the list refreshes by itself.
    t.printer = await registerPrinter(srv, t.admin, { name: "Floor 3 laser" });
    await waitForText(page, "#main", "Floor 3 laser");
    await screenshot(page, "printers");
    await page.click(`a[href="#/printers/${t.printer}"]`);
    await waitForText(page, "#main", "Shares", "Task triggers", "Capabilities", "No device has connected");
    // A device reports a paper jam over IPP INFRA: the page shows the device and its state.
    const tok = await spooldCli(["token", "--device", t.printer, "--data", srv.dataDir]);
    assert.equal(tok.code, 0, tok.stderr);
    const uuid = `urn:uuid:${randomUUID()}`;
    const pushed = await ippRequest(`${srv.origin}/ipp/print/${t.printer}`, {
      op: OP.UPDATE_OUTPUT_DEVICE_ATTRIBUTES, auth: bearer(tok.stdout.trim()),
      groups: [{ tag: TAG.OPERATION, attrs: [attr.charset("attributes-charset", "utf-8"),
        attr.language("attributes-natural-language", "en"),
        attr.uri("printer-uri", `ipp://127.0.0.1/ipp/print/${t.printer}`), attr.uri("output-device-uuid", uuid)] },
      { tag: TAG.PRINTER, attrs: [attr.enum("printer-state", 5), attr.keyword("printer-state-reasons", "media-jam-error"),
        attr.text("printer-state-message", "Jam in tray 2"), attr.mime("document-format-supported", ["application/pdf"])] }],
    });
    assert.equal(pushed.status, 0, `Update-Output-Device-Attributes: 0x${pushed.status?.toString(16)}`);
    await waitForText(page, "#output-devices", uuid, "Jam in tray 2", "application/pdf", "stopped");
    await screenshot(page, "printer");
    await submitForm(page, "#share-form", { displayName: "Floor 3" });
    await page.waitForFunction(() => location.hash.startsWith("#/shares/"));
    t.share = decodeURIComponent(await page.evaluate(() => location.hash.slice("#/shares/".length)));
    await waitForText(page, "#main", "Floor 3", "Allowed users");
    await submitForm(page, "#allowedUsers-form", { id: USER_OID });
    await waitForText(page, "#allowedUsers", USER_OID);
    await screenshot(page, "share");
    // What the page shows is what the server holds.
    const members = await rawFetch(`${srv.origin}/v1.0/print/shares/${t.share}/allowedUsers`, { token: t.admin });
    assert.equal(members.status, 200, members.text);
    assert.deepEqual(members.json.value.map((u) => u.id), [USER_OID]);
    await page.close();
    assert.deepEqual(errors, []);
  });

  it("a held job shows its pull-print app, and the app's abort appears without a reload", async () => {
    const app = kiotaClient({ origin: srv.origin, version: "v1.0", token: t.app });
    const def = await app.print.taskDefinitions.post({ displayName: "Badge release", createdBy: { displayName: "Badge release" } });
    const page = await newPage(browser, errors);
    // A trigger binds only a definition of the application the administrator's token was issued
    // to: the administrator signs in through the pull-print app (its application id).
    await devSignIn(page, srv, { role: "admin", tenant: t.tenant, app: PULLPRINT_APP });
    // The administrator adds the trigger from the printer's page.
    await page.goto(`${srv.origin}/console/#/printers/${t.printer}`);
    await submitForm(page, "#trigger-form", { definition: def.id });
    await waitForText(page, "#main", "jobStarted", def.id);

    // The user prints through the Graph API: the trigger holds the job.
    const job = await createJob(srv, t.user, `shares/${t.share}`);
    await uploadDocument(srv, t.user, `shares/${t.share}`, job);
    const start = await rawFetch(`${srv.origin}/v1.0/print/shares/${t.share}/jobs/${job.id}/start`, { method: "POST", token: t.user });
    assert.equal(start.status, 200, start.text);
    assert.equal(start.json.state, "paused");

    await page.goto(`${srv.origin}/console/#/held`);
    await waitForText(page, "#held", `Job ${job.id}`, "paused", "Badge release");
    await screenshot(page, "held");
    await page.click(`#held a[href="#/jobs/p/${t.printer}/${job.id}"]`);
    await waitForText(page, "#job-status", "paused");
    await waitForText(page, "#main", "Badge release", "processing", "Cancel job");
    await screenshot(page, "job-held");
    await page.evaluate(() => { window.__noReload = true; });

    // The app aborts it through the Graph SDK.
    await kiotaClient({ origin: srv.origin, version: "v1.0", token: t.app }).print.printers.byPrinterId(t.printer)
      .jobs.byPrintJobId(job.id).abort.post({ reason: "Badge not presented within 10 minutes" });
    await waitForText(page, "#job-status", "aborted", "Badge not presented within 10 minutes");
    assert.equal(await page.evaluate(() => window.__noReload), true, "the page was not reloaded");
    await screenshot(page, "job-aborted");
    t.heldJob = job.id;
    t.definition = def.id;
    await page.close();
    assert.deepEqual(errors, []);
  });

  it("the usage view shows the usage reports per printer and user, by day and month", async () => {
    // A second printer, without a trigger and simulated over IPP INFRA, shared to every user: the
    // user's job on it is printed to the end (3 pages, 2 copies, colour, two-sided).
    const lobby = await registerPrinter(srv, t.admin, { name: "Lobby colour" });
    const lobbyShare = await createShare(srv, t.admin, lobby, { name: "Lobby" });
    const sim = await rawFetch(`${srv.origin}/spoold/v1/dev/printers/${lobby}/simulation`, { method: "POST", token: t.admin, json: { pageMs: 1 } });
    assert.equal(sim.status, 200, sim.text);
    const pdf = Buffer.from("%PDF-1.4\n1 0 obj<</Type /Pages /Count 3>>endobj\n2 0 obj<</Type /Page>>endobj\n"
      + "3 0 obj<</Type /Page>>endobj\n4 0 obj<</Type /Page>>endobj\ntrailer<<>>\n%%EOF\n");
    const job = await createJob(srv, t.user, `shares/${lobbyShare}`, { configuration: { colorMode: "color", copies: 2, duplexMode: "flipOnLongEdge" } });
    await uploadDocument(srv, t.user, `shares/${lobbyShare}`, job, pdf);
    const start = await rawFetch(`${srv.origin}/v1.0/print/shares/${lobbyShare}/jobs/${job.id}/start`, { method: "POST", token: t.user });
    assert.equal(start.status, 200, start.text);
    let state;
    // a liveness bound, generous for a loaded machine (200 polls, about 10 s, was its speed)
    for (const end = Date.now() + 60_000; state !== "completed" && Date.now() < end;) {
      const r = await rawFetch(`${srv.origin}/v1.0/print/printers/${lobby}/jobs/${job.id}`, { token: t.admin });
      state = r.json?.status?.state;
      if (state !== "completed") await sleep(50);
    }
    assert.equal(state, "completed");
    const today = (await rawFetch(`${srv.origin}/v1.0/reports/dailyPrintUsageByPrinter?$filter=printerId eq '${lobby}'`, { token: t.admin })).json.value[0].usageDate;

    const page = await newPage(browser, errors);
    await devSignIn(page, srv, { role: "admin", tenant: t.tenant });
    await page.goto(`${srv.origin}/console/#/usage`);
    // Per printer and day: the completed colour job on the lobby printer, and the job aborted
    // earlier on the first printer as an incomplete one.
    await waitForText(page, "#usage", "Lobby colour", "Floor 3 laser");
    const rows = async () => page.$$eval("#usage tbody tr", (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
    const byPrinter = await rows();
    // printer, date, completed, colour, incomplete, pages, colour pages, sheets, two-sided sheets
    assert.deepEqual(byPrinter.find((r) => r[0] === "Lobby colour"), ["Lobby colour", today, "1", "1", "0", "6", "6", "3", "3"]);
    assert.deepEqual(byPrinter.find((r) => r[0] === "Floor 3 laser"), ["Floor 3 laser", today, "0", "0", "1", "0", "0", "0", "0"]);
    assert.equal(await page.$eval("#usage svg.chart title", (el) => el.textContent), `${today}: 6 pages`);
    await screenshot(page, "usage");
    // Per printer and month, chosen with the filter; then per user and month.
    await page.select("#usage-filters [name=period]", "monthly");
    await page.waitForFunction(() => location.hash.includes("period=monthly"));
    await waitForText(page, "#usage", "Month", today.slice(0, 7), "Lobby colour");
    await page.goto(`${srv.origin}/console/#/usage?period=monthly&by=user`);
    const upn = (await rawFetch(`${srv.origin}/v1.0/reports/monthlyPrintUsageByUser`, { token: t.admin })).json.value
      .find((r) => r.pageCount === 6).userPrincipalName;
    await waitForText(page, "#usage", upn, today.slice(0, 7));
    // the user's job aborted in the held-job test counts as incomplete
    assert.deepEqual((await rows()).find((r) => r[0] === upn), [upn, today.slice(0, 7), "1", "1", "1", "6", "6", "3", "3"]);
    // A date range with no usage in it.
    const tomorrow = new Date(Date.parse(today) + 86400000).toISOString().slice(0, 10);
    await page.goto(`${srv.origin}/console/#/usage?period=daily&by=printer&from=${tomorrow}`);
    await waitForText(page, "#usage", "No print usage in this period.");
    await page.close();
    assert.deepEqual(errors, []);
  });

  it("a user sees only their own jobs", async () => {
    const mine = await createJob(srv, t.user, `shares/${t.share}`);
    // Another user allowed on the share prints too.
    const allow = await rawFetch(`${srv.origin}/v1.0/print/shares/${t.share}`, { method: "PATCH", token: t.admin, json: { allowAllUsers: true } });
    assert.ok(allow.status === 200 || allow.status === 204, allow.text);
    const theirs = await createJob(srv, t.other, `shares/${t.share}`);
    const page = await newPage(browser, errors);
    await devSignIn(page, srv, { role: "user", tenant: t.tenant });
    await page.goto(`${srv.origin}/console/#/jobs`);
    await waitForText(page, "#jobs", `Job ${mine.id}`, `Job ${t.heldJob}`);
    const ids = await page.$$eval("#jobs tbody tr", (rows) => rows.map((r) => r.dataset.id));
    assert.ok(ids.includes(mine.id) && ids.includes(t.heldJob), ids.join(","));
    assert.ok(!ids.includes(theirs.id), "another user's job is not listed");
    // The printers of the tenant are for administrators.
    await page.goto(`${srv.origin}/console/#/printers`);
    await waitForText(page, "#main", "Only printer administrators");
    await screenshot(page, "user-jobs");
    await page.close();
    assert.deepEqual(errors, []);
  });

  it("the application sees its subscriptions with their failed deliveries", async () => {
    const rx = await startReceiver();
    try {
      rx.on("/failing", { failFirst: 1000 });
      const sub = await rawFetch(`${srv.origin}/v1.0/subscriptions`, {
        method: "POST", token: t.app,
        json: {
          changeType: "created", resource: `print/taskDefinitions/${t.definition}/tasks`,
          notificationUrl: rx.url("/failing"), clientState: "console",
          expirationDateTime: new Date(Date.now() + 3600_000).toISOString(),
        },
      });
      assert.equal(sub.status, 201, sub.text);
      const job = await createJob(srv, t.user, `shares/${t.share}`);
      await uploadDocument(srv, t.user, `shares/${t.share}`, job);
      const start = await rawFetch(`${srv.origin}/v1.0/print/shares/${t.share}/jobs/${job.id}/start`, { method: "POST", token: t.user });
      assert.equal(start.status, 200, start.text);
      const page = await newPage(browser, errors);
      await devSignIn(page, srv, { role: "app", tenant: t.tenant });
      await page.goto(`${srv.origin}/console/#/subscriptions`);
      await waitForText(page, "#subscriptions", `print/taskDefinitions/${t.definition}/tasks`, rx.url("/failing"));
      // The delivery fails (500) and is retried: the page shows it without a reload.
      await page.waitForFunction((id) => {
        const row = document.querySelector(`#subscriptions tr[data-id="${id}"]`);
        return row && /500/.test(row.innerText) && Number(row.children[5].innerText) >= 1;
      }, { polling: 250, timeout: 30_000 }, sub.json.id);
      await screenshot(page, "subscriptions");
      const state = await rawFetch(`${srv.origin}/spoold/v1/subscriptions/${sub.json.id}/delivery`, { token: t.app });
      assert.equal(state.status, 200, state.text);
      assert.equal(state.json.queued, 1);
      assert.ok(state.json.failedAttempts >= 1);
      // Another application's token does not see it.
      const other = await devToken(srv, { role: "app", tenant: t.tenant, app: "33333333-4444-5555-6666-777777777777" });
      const hidden = await rawFetch(`${srv.origin}/spoold/v1/subscriptions/${sub.json.id}/delivery`, { token: other });
      assert.equal(hidden.status, 404);
      await page.close();
    } finally {
      await rx.close();
    }
    assert.deepEqual(errors, []);
  });

  it("an expired token leads to the sign-in page with a reason, and tokens stay out of storage", async () => {
    const page = await newPage(browser, errors);
    await devSignIn(page, srv, { role: "admin", tenant: t.tenant, ttl: 2 });
    await page.goto(`${srv.origin}/console/#/jobs`);
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    assert.ok(!stored.includes("eyJ"), "no token in web storage");
    await page.waitForSelector("#signed-out", { timeout: 60_000 });   // a liveness bound
    await waitForText(page, "#main", "expired", "Sign in");
    assert.equal(await page.$eval("#nav", (n) => n.hidden), true);
    await screenshot(page, "signed-out");
    await page.close();
    assert.deepEqual(errors, []);
  });

  it("API errors are shown with their message and request id", async () => {
    const page = await newPage(browser, errors);
    await devSignIn(page, srv, { role: "admin", tenant: t.tenant });
    await page.goto(`${srv.origin}/console/#/printers/${randomUUID()}`);
    await page.waitForSelector("#banner .error");
    const text = await page.$eval("#banner .error", (e) => e.innerText);
    assert.match(text, /was not found|not found/i);
    assert.match(text, /request id [0-9a-f-]{36}/);
    await page.close();
    assert.deepEqual(errors, []);
  });
});

describe("console sign-in with OpenID Connect (authorization code + PKCE)", () => {
  const errors = [];
  const tenant = randomUUID();
  const clientId = "spoold-console-test";
  let srv;
  let idp;
  let browser;

  before(async () => {
    idp = await startIdp({
      clientId,
      user: {
        tenant, oid: randomUUID(), upn: "alex@contoso.example", name: "Alex Admin", admin: true,
        scopes: "Printer.Read.All Printer.ReadWrite.All PrinterShare.ReadWrite.All PrintJob.ReadWrite.All",
      },
    });
    const dir = await makeTempDir("spoold-console-oidc-");
    const jwks = path.join(dir, "idp.jwks");
    await writeFile(jwks, JSON.stringify(idp.issuer.jwks()));
    const data = await makeTempDir("spoold-data-");
    await tenantCmd("add", tenant, data);
    srv = await startServer({
      dev: false, dataDir: data,
      args: ["--issuer", idp.issuer.iss, "--jwks", jwks, "--audience", "https://graph.microsoft.com",
        "--console-issuer", idp.origin, "--console-client-id", clientId],
    });
    browser = await launch();
  });
  after(async () => {
    if (browser) await browser.close();
    if (srv) await srv.stop();
    if (idp) await idp.stop();
  });

  it("signs in through the identity provider and calls the Graph API with its token", async () => {
    idp.mode = "normal";
    const page = await newPage(browser, errors);
    await page.goto(`${srv.origin}/console/#/printers`);
    await page.waitForSelector("#oidc-signin");
    await page.click("#oidc-signin");
    await page.waitForSelector("#nav:not([hidden])");
    await waitForText(page, "#who", "Alex Admin", "printer administrator");
    await waitForText(page, "#main", "Printers", "No printer is registered yet");
    assert.equal(await page.evaluate(() => location.hash), "#/printers");
    assert.ok(idp.requests.includes("POST /token"));
    await screenshot(page, "oidc-signed-in");
    await page.close();
    assert.deepEqual(errors, []);
  });

  it("refuses a response whose state does not match", async () => {
    idp.mode = "wrongState";
    const page = await newPage(browser, errors);
    await page.goto(`${srv.origin}/console/`);
    await page.click("#oidc-signin");
    await page.waitForSelector("#signed-out");
    await waitForText(page, "#main", "state");
    assert.equal(await page.$eval("#nav", (n) => n.hidden), true);
    await page.close();
  });

  it("refuses a tampered ID token", async () => {
    idp.mode = "tamperedId";
    const page = await newPage(browser, errors);
    await page.goto(`${srv.origin}/console/`);
    await page.click("#oidc-signin");
    await page.waitForSelector("#signed-out");
    await waitForText(page, "#main", "signature does not verify");
    assert.equal(await page.$eval("#nav", (n) => n.hidden), true);
    await page.close();
  });

  it("offers no development sign-in without --dev", async () => {
    const cfg = await rawFetch(`${srv.origin}/console/config.json`);
    assert.equal(cfg.json.dev, false);
    assert.equal(cfg.json.oidc.clientId, clientId);
    const tok = await rawFetch(`${srv.origin}/spoold/v1/dev/token`, { method: "POST", json: { role: "admin", tenant } });
    assert.equal(tok.status, 404);
    const csp = (await rawFetch(`${srv.origin}/console/`)).headers.get("content-security-policy");
    assert.ok(csp.includes(`connect-src 'self' ${idp.origin}`), csp);
    await sleep(0);
  });
});
