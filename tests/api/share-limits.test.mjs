// SPDX-License-Identifier: Apache-2.0
// The job creation windows (--max-jobs-per-printer-window, --max-jobs-per-user-window over
// --job-limit-window) count the jobs created through the IPP share endpoint
// (/ipp/share/{shareId}: Create-Job and Print-Job, sent here by ipptool with a print password)
// together with those created through Graph: a create past a window is refused with
// client-error-not-possible (what CUPS answers for a quota or its job limit), saying which window
// and when to retry, and leaves no job behind; Graph's refusals stay 429.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { writeFile, rm } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { rawFetch, closeAgents } from "./lib/clients.mjs";
import { PRINTER_MANAGEMENT_SCOPES, registerPrinter, createShare, TEST_PDF } from "./lib/fixtures.mjs";
import { startServer, makeTempDir } from "./lib/server.mjs";

const run = promisify(execFile);
const ctx = {};

before(async () => {
  ctx.srv = await startServer({ args: [
    "--max-jobs-per-printer-window", "3", "--max-jobs-per-user-window", "5", "--job-limit-window", "600"] });
  ctx.tmp = await makeTempDir("spoold-share-limits-");
  ctx.tenant = randomUUID();
  ctx.admin = await ctx.srv.mintUser({ tenant: ctx.tenant, admin: true,
    scopes: [...PRINTER_MANAGEMENT_SCOPES, "PrintJob.ReadWrite.All", "PrinterShare.ReadWrite.All"] });
  ctx.upn = "carol@contoso.test";
  ctx.user = await ctx.srv.mintUser({ tenant: ctx.tenant, upn: ctx.upn, scopes: "PrintJob.ReadWrite PrinterShare.ReadBasic.All" });
  const pw = await rawFetch(`${ctx.srv.origin}/spoold/v1/me/printPasswords`, {
    method: "POST", token: ctx.user, json: { displayName: "ipptool" } });
  assert.equal(pw.status, 201, pw.text);
  ctx.password = pw.json.password;
  ctx.p1 = await registerPrinter(ctx.srv, ctx.admin, { name: "Limited share 1" });
  ctx.p2 = await registerPrinter(ctx.srv, ctx.admin, { name: "Limited share 2" });
  ctx.s1 = await createShare(ctx.srv, ctx.admin, ctx.p1);
  ctx.s2 = await createShare(ctx.srv, ctx.admin, ctx.p2);
  ctx.pdf = path.join(ctx.tmp, "doc.pdf");
  await writeFile(ctx.pdf, TEST_PDF);
});

after(async () => {
  await closeAgents();
  await ctx.srv?.stop();
  if (ctx.tmp) await rm(ctx.tmp, { recursive: true, force: true });
});

// ipptool sends Create-Job (or Print-Job with the PDF) to the share as the user and expects
// `status`; resolves ipptool's output (verbose: the response's attributes).
async function ippCreate(share, op, status) {
  const file = path.join(ctx.tmp, `${op}-${status}-${randomUUID()}.test`);
  await writeFile(file, `{
  NAME "${op} expecting ${status}"
  OPERATION ${op}
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR naturalLanguage attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR name requesting-user-name $user
  ATTR name job-name "limits"
  ${op === "Print-Job" ? "ATTR mimeMediaType document-format application/pdf\n  FILE $filename" : ""}
  STATUS ${status}
  ${status === "successful-ok" ? "EXPECT job-id OF-TYPE integer" : "EXPECT !job-id"}
}
`);
  const port = new URL(ctx.srv.origin).port;
  const uri = `ipp://${encodeURIComponent(ctx.upn)}:${encodeURIComponent(ctx.password)}@127.0.0.1:${port}/ipp/share/${share}`;
  try {
    const { stdout } = await run("ipptool", ["-t", "-v", "-f", ctx.pdf, uri, file], { encoding: "utf8", timeout: 60_000 });
    return stdout;
  } catch (e) {
    assert.fail(`ipptool ${op} (expecting ${status}) failed:\n${e.stdout || ""}${e.stderr || ""}`);
  }
}

const graphCreate = (share) => rawFetch(`${ctx.srv.origin}/v1.0/print/shares/${share}/jobs`, {
  method: "POST", token: ctx.user, json: { configuration: {} } });
const jobsOn = async (printer) => {
  const r = await rawFetch(`${ctx.srv.origin}/v1.0/print/printers/${printer}/jobs?$top=100`, { token: ctx.admin });
  assert.equal(r.status, 200, r.text);
  return r.json.value;
};

describe("IPP share creates count in the job creation windows", () => {
  it("the printer's window: Graph and IPP creates share it; past it IPP gets client-error-not-possible and nothing is written", async () => {
    assert.equal((await graphCreate(ctx.s1)).status, 201);
    await ippCreate(ctx.s1, "Create-Job", "successful-ok");
    await ippCreate(ctx.s1, "Print-Job", "successful-ok");
    // 3 of 3 on the first printer: both ways are refused now
    const refused = await ippCreate(ctx.s1, "Create-Job", "client-error-not-possible");
    assert.match(refused, /Too many print jobs were created on this printer: at most 3 in any 600 seconds\. Retry after \d+ seconds\./, refused);
    await ippCreate(ctx.s1, "Print-Job", "client-error-not-possible");
    const g = await graphCreate(ctx.s1);
    assert.equal(g.status, 429, g.text);
    assert.equal(g.json.error.code, "activityLimitReached");
    const jobs = await jobsOn(ctx.p1);
    assert.equal(jobs.length, 3, "only the accepted jobs exist");
    assert.equal(jobs.filter((j) => j.createdBy?.userPrincipalName === ctx.upn).length, 3);
  });

  it("the user's window counts IPP creates on every printer", async () => {
    // the user has 3 of 5: two more on the second printer, one through each face
    await ippCreate(ctx.s2, "Create-Job", "successful-ok");
    assert.equal((await graphCreate(ctx.s2)).status, 201);
    const refused = await ippCreate(ctx.s2, "Print-Job", "client-error-not-possible");
    assert.match(refused, /You created too many print jobs: at most 5 in any 600 seconds/, refused);
    const g = await graphCreate(ctx.s2);
    assert.equal(g.status, 429, g.text);
    assert.match(g.json.error.message, /You created too many print jobs: at most 5/);
    assert.equal((await jobsOn(ctx.p2)).length, 2, "the refused creates wrote nothing");
  });
});
