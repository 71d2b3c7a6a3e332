// SPDX-License-Identifier: Apache-2.0
// Every permission example in docs/ (a scope or role list a page gives a token, and the presets
// of `spoold token --role` the pages describe), exercised through the real clients for what its
// page says the token allows. Issue 11, defect 10: docs/jobs.md's shorthand gave a token that
// creates a job but cannot upload its document, and spoold-dev.md's application token could
// not read the jobs its example reads.
//
// The first test reads docs/*.md and fails when a page holds a permission example this file
// does not exercise (a backticked list of two or more permissions, or a --scopes/--roles value),
// or when an example listed here is no longer on its page.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { kiotaClient, kiotaWithStatus, rawFetch, closeAgents } from "./lib/clients.mjs";
import { spooldCli } from "./lib/cli.mjs";
import { serverForSuite, registerPrinter, createShare, uploadDocument, TEST_PDF } from "./lib/fixtures.mjs";

after(() => closeAgents());

const DOCS = path.join(path.dirname(fileURLToPath(import.meta.url)), "../../docs");
const APP_ID = "8d3f6a52-1c2b-4f0e-9d55-0a1b2c3d4e5f";   // the application of the examples' tokens
const PRESET_APP = "22222222-3333-4444-5555-666666666666"; // the --role app preset's id

const ADMIN_SCOPES = "Printer.Create Printer.Read.All Printer.ReadWrite.All Printer.FullControl.All PrinterShare.ReadWrite.All PrintJob.ReadWrite.All";
const PRINT_USER = "PrinterShare.ReadBasic.All PrintJob.ReadWrite";
const PULL_APP = "Printer.Read.All PrintJob.ReadWrite.All PrintJob.Manage.All PrintTaskDefinition.ReadWrite.All";
const DEV_APP = "PrintTaskDefinition.ReadWrite.All PrintJob.Manage.All PrintJob.ReadBasic.All Printer.Read.All";

// The examples: page, text as it stands on the page, the token, and what the page says it does.
const EXAMPLES = [
  { doc: "first-hour.md", text: "`PrinterShare.ReadBasic.All PrintJob.ReadWrite`", user: PRINT_USER, does: "printShare" },
  { doc: "console.md", text: "`PrinterShare.ReadBasic.All PrintJob.ReadWrite`", user: PRINT_USER, does: "printShare" },
  { doc: "first-hour.md", text: "`Printer.Read.All PrintJob.ReadWrite.All PrintJob.Manage.All PrintTaskDefinition.ReadWrite.All`", app: PULL_APP, does: "pullPrint" },
  { doc: "console.md", text: "`Printer.Read.All PrintJob.ReadWrite.All PrintJob.Manage.All PrintTaskDefinition.ReadWrite.All`", app: PULL_APP, does: "pullPrint" },
  { doc: "benchmarks.md", text: "`PrintJob.Read.All Printer.Read.All`", app: "PrintJob.Read.All Printer.Read.All", does: "readJob" },
  { doc: "benchmarks.md", text: "`PrintJob.ReadWrite PrinterShare.ReadBasic.All Printer.Read.All`", user: "PrintJob.ReadWrite PrinterShare.ReadBasic.All Printer.Read.All", does: "createCancelShare" },
  { doc: "spoold-dev.md", text: '--scopes "PrintJob.ReadWrite PrinterShare.ReadBasic.All"', user: "PrintJob.ReadWrite PrinterShare.ReadBasic.All", does: "printShare" },
  { doc: "spoold-dev.md", text: `--roles "${DEV_APP}"`, app: DEV_APP, does: "releaseApp" },
  { doc: "spoold-dev.md", text: '--scopes "Printer.Read.All" --admin', user: "Printer.Read.All", admin: true, does: "devApi" },
  { doc: "spoold-dev.md", text: "--admin --scopes Printer.Read.All", user: "Printer.Read.All", admin: true, does: "devApi" },
  { doc: "spoold-dev.md", text: "--scopes Printer.Read.All --admin", user: "Printer.Read.All", admin: true, does: "devApi" },
  { doc: "jobs.md", text: "`PrintJob.ReadWrite` plus `PrinterShare.ReadBasic.All`", user: "PrintJob.ReadWrite PrinterShare.ReadBasic.All", does: "printShare" },
  { doc: "jobs.md", text: "`PrintJob.Create` plus `Printer.Read.All`", user: "PrintJob.Create Printer.Read.All", does: "printPrinter" },
];

// Permission examples found on the pages: backticked lists of two or more permission names, and
// the values of --scopes / --roles.
const PERM = /^(Print[A-Za-z]*|Printer[A-Za-z]*|Reports|User|GroupMember)\.[A-Za-z.]+$/;
function examplesOn(text) {
  const found = [];
  for (const m of text.matchAll(/`([^`\n]+)`/g)) {
    const words = m[1].trim().split(/\s+/);
    if (words.length >= 2 && words.every((w) => PERM.test(w))) found.push(words.join(" "));
  }
  for (const m of text.matchAll(/--(?:scopes|roles)\s+("([^"]+)"|([A-Za-z.]+))/g)) found.push((m[2] || m[3]).trim().split(/\s+/).join(" "));
  return found;
}
const permsOf = (e) => (e.user || e.app).split(/\s+/).join(" ");

describe("the permission examples of docs/, each exercised for what its page says", () => {
  const ctx = serverForSuite({ args: ["--max-jobs-per-printer-window", "0", "--max-jobs-per-user-window", "0"] }, {
    tokens: {
      admin: { app: APP_ID, scopes: ADMIN_SCOPES, admin: true },
      presetAdmin: { app: PRESET_APP, scopes: ADMIN_SCOPES, admin: true },
    },
    setup: async (c) => {
      c.printer = await registerPrinter(c.srv, c.admin, { name: "Plain" });
      c.share = await createShare(c.srv, c.admin, c.printer, { name: "Plain share" });
    },
  });
  const kiota = (token) => kiotaClient({ origin: ctx.srv.origin, version: "v1.0", token, ca: ctx.srv.ca });
  const raw = (p, token, opts = {}) => rawFetch(`${ctx.srv.origin}${p}`, { token, ca: ctx.srv.ca, ...opts });
  const ok = async (p, token, opts, want = 200) => {
    const r = await raw(p, token, opts);
    assert.equal(r.status, want, `${opts?.method || "GET"} ${p}: ${r.status} ${r.text}`);
    return r.json;
  };
  const mint = (e) => (e.app
    ? ctx.srv.mintApp({ tenant: ctx.tenant, app: e.appId || APP_ID, roles: e.app })
    : ctx.srv.mintUser({ tenant: ctx.tenant, app: e.appId || APP_ID, scopes: e.user, admin: !!e.admin, upn: "doc-user@contoso.test" }));

  // A printer with a trigger bound to a definition of the application appId, shared.
  async function pullWorld(appToken, appId) {
    const def = await ok("/v1.0/print/taskDefinitions", appToken, { method: "POST", json: { displayName: "Release" } }, 201);
    const admin = appId === PRESET_APP ? ctx.presetAdmin : ctx.admin;
    const printer = await registerPrinter(ctx.srv, admin, { name: "Pull queue" });
    await ok(`/v1.0/print/printers/${printer}/taskTriggers`, admin, { method: "POST",
      json: { event: "jobStarted", "definition@odata.bind": `https://graph.microsoft.com/v1.0/print/taskDefinitions/${def.id}` } }, 201);
    const share = await createShare(ctx.srv, admin, printer, { name: "Pull share" });
    return { def: def.id, printer, share };
  }
  // A job of a full-permission user on share, uploaded and started (held when a trigger fires).
  async function startedJob(share) {
    const user = await ctx.srv.mintUser({ tenant: ctx.tenant, app: APP_ID, scopes: PRINT_USER, upn: "alice@contoso.test" });
    const job = await kiota(user).print.shares.byPrinterShareId(share).jobs.post({ configuration: { copies: 1 } });
    await uploadDocument(ctx.srv, user, `shares/${share}`, job, TEST_PDF);
    await kiota(user).print.shares.byPrinterShareId(share).jobs.byPrintJobId(job.id).start.post();
    return job.id;
  }
  const taskOf = async (w, jobId, token) => (await ok(`/v1.0/print/printers/${w.printer}/jobs/${jobId}/tasks`, token)).value[0];

  const DOES = {
    // find the share, create a job, upload its document, start it, read it, cancel it
    async printShare(token) {
      const shares = await kiota(token).print.shares.get();
      assert.ok(shares.value.some((s) => s.id === ctx.share), "the share is listed");
      const jobs = kiota(token).print.shares.byPrinterShareId(ctx.share).jobs;
      const job = await jobs.post({ configuration: { copies: 1 } });
      await uploadDocument(ctx.srv, token, `shares/${ctx.share}`, job, TEST_PDF);
      const st = await jobs.byPrintJobId(job.id).start.post();
      assert.equal(st.state, "processing");
      assert.equal((await jobs.byPrintJobId(job.id).get()).id, job.id);
      const c = await kiotaWithStatus((cfg) => jobs.byPrintJobId(job.id).cancel.post(cfg));
      assert.equal(c.status, 204, c.text);
    },
    // create a job on a printer, upload its document, start it (not read it back)
    async printPrinter(token) {
      const jobs = kiota(token).print.printers.byPrinterId(ctx.printer).jobs;
      const job = await jobs.post({ configuration: { copies: 1 } });
      await uploadDocument(ctx.srv, token, `printers/${ctx.printer}`, job, TEST_PDF);
      assert.equal((await jobs.byPrintJobId(job.id).start.post()).state, "processing");
      assert.equal((await raw(`/v1.0/print/printers/${ctx.printer}/jobs/${job.id}`, token)).status, 403, "PrintJob.Create does not read jobs");
    },
    // read a job through the printer (an application)
    async readJob(token) {
      const id = await startedJob(ctx.share);
      assert.equal((await ok(`/v1.0/print/printers/${ctx.printer}/jobs/${id}`, token)).id, id);
    },
    // create a job through the share and cancel it
    async createCancelShare(token) {
      const jobs = kiota(token).print.shares.byPrinterShareId(ctx.share).jobs;
      const job = await jobs.post({});
      const c = await kiotaWithStatus((cfg) => jobs.byPrintJobId(job.id).cancel.post(cfg));
      assert.equal(c.status, 204, c.text);
    },
    // task definitions, completing a task (release), aborting, reading the job (spoold-dev.md)
    async releaseApp(token) {
      const w = await pullWorld(token, APP_ID);
      const a = await startedJob(w.share);
      const task = await taskOf(w, a, token);
      await ok(`/v1.0/print/taskDefinitions/${w.def}/tasks/${task.id}`, token, { method: "PATCH", json: { status: { state: "completed" } } });
      assert.equal((await ok(`/v1.0/print/printers/${w.printer}/jobs/${a}`, token)).isFetchable, true);
      const b = await startedJob(w.share);
      await ok(`/v1.0/print/printers/${w.printer}/jobs/${b}/abort`, token, { method: "POST", json: {} }, 204);
      assert.equal((await ok(`/v1.0/print/printers/${w.printer}/jobs/${b}`, token)).status.state, "aborted");
    },
    // the pull-print application of first-hour.md / console.md: definitions and tasks, abort, redirect
    async pullPrint(token, e) {
      const w = await pullWorld(token, e.appId || APP_ID);
      const a = await startedJob(w.share);
      const task = await taskOf(w, a, token);
      await ok(`/v1.0/print/taskDefinitions/${w.def}/tasks/${task.id}`, token, { method: "PATCH", json: { status: { state: "completed" } } });
      const b = await startedJob(w.share);
      await ok(`/v1.0/print/printers/${w.printer}/jobs/${b}/abort`, token, { method: "POST", json: { reason: null } }, 204);
      const c = await startedJob(w.share);
      const moved = await ok(`/v1.0/print/printers/${w.printer}/jobs/${c}/redirect`, token, { method: "POST", json: { destinationPrinterId: ctx.printer } });
      assert.ok(moved.redirectedFrom, JSON.stringify(moved));
    },
    // the development control API
    async devApi(token) {
      await ok("/spoold/v1/dev/clock", token);
    },
  };

  it("every permission example on the pages is listed here, and every listed one is on its page", async () => {
    const pages = (await readdir(DOCS)).filter((f) => f.endsWith(".md"));
    const listed = new Set(EXAMPLES.map((e) => `${e.doc}: ${permsOf(e)}`));
    for (const page of pages) {
      const text = await readFile(path.join(DOCS, page), "utf8");
      for (const found of examplesOn(text)) assert.ok(listed.has(`${page}: ${found}`), `${page}: "${found}" is a permission example this test does not exercise`);
    }
    for (const e of EXAMPLES) {
      const text = await readFile(path.join(DOCS, e.doc), "utf8");
      assert.ok(text.includes(e.text), `${e.doc} no longer holds ${e.text}`);
    }
  });

  for (const e of EXAMPLES) {
    it(`${e.doc}: ${e.text} -> ${e.does}`, async () => {
      await DOES[e.does](await mint(e), e);
    });
  }

  it("what the former examples could not do: PrintJob.ReadWriteBasic cannot upload; Manage.All cannot read jobs", async () => {
    // docs/jobs.md's former shorthand (PrintJob.ReadWriteBasic on shares): creates, cannot upload
    const basic = await mint({ user: "PrintJob.ReadWriteBasic PrinterShare.ReadBasic.All" });
    const job = await kiota(basic).print.shares.byPrinterShareId(ctx.share).jobs.post({});
    const doc = job.documents[0].id;
    const r = await raw(`/v1.0/print/shares/${ctx.share}/jobs/${job.id}/documents/${doc}/createUploadSession`, basic, {
      method: "POST", json: { properties: { documentName: "a.pdf", contentType: "application/pdf", size: 10 } } });
    assert.equal(r.status, 403, r.text);
    assert.match(r.json.error.message, /PrintJob\.ReadWrite/);
    // spoold-dev.md's former application token (no job read role): 403 on the job it polls
    const app = await mint({ app: "PrintTaskDefinition.ReadWrite.All PrintJob.Manage.All Printer.Read.All" });
    const id = await startedJob(ctx.share);
    assert.equal((await raw(`/v1.0/print/printers/${ctx.printer}/jobs/${id}`, app)).status, 403);
  });

  it("the presets of spoold token --role carry the permissions console.md and first-hour.md give them", async () => {
    const claims = async (role) => {
      const r = await spooldCli(["token", "--data", ctx.srv.dataDir, "--tenant", ctx.tenant, "--role", role]);
      assert.equal(r.code, 0, r.stderr);
      return { token: r.stdout.trim(), c: JSON.parse(Buffer.from(r.stdout.trim().split(".")[1], "base64url")) };
    };
    const user = await claims("user");
    assert.equal(user.c.scp, PRINT_USER);
    await DOES.printShare(user.token);
    const app = await claims("app");
    assert.deepEqual(app.c.roles, PULL_APP.split(" "));
    await DOES.pullPrint(app.token, { appId: PRESET_APP });
  });
});
