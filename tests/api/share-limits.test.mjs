// SPDX-License-Identifier: Apache-2.0
// The job creation windows (--max-jobs-per-printer-window, --max-jobs-per-user-window over
// --job-limit-window) count the jobs created through the IPP share endpoint
// (/ipp/share/{shareId}: Create-Job and Print-Job, sent here by ipptool with a print password)
// together with those created through Graph: a create past a window is refused with
// client-error-not-possible (what CUPS answers for a quota or its job limit), saying which window
// and when to retry, and leaves no job behind; Graph's refusals stay 429.
// --max-document-size bounds both faces too: createUploadSession past it is 413, a share
// document past it client-error-request-entity-too-large.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { writeFile, rm } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { rawFetch, closeAgents } from "./lib/clients.mjs";
import { PRINTER_MANAGEMENT_SCOPES, registerPrinter, createShare, createJob, TEST_PDF } from "./lib/fixtures.mjs";
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

// The upload volume window (--upload-volume-limit over --upload-volume-window) counts the
// documents received through the share endpoint (Print-Job, Send-Document) with the bytes
// uploaded through Graph, in the transaction that stores the document: past it the share
// endpoint answers client-error-not-possible naming the window and the wait, and neither the
// document nor its bytes are recorded (a Print-Job's job is canceled, as for every Print-Job
// whose document cannot be stored; a Create-Job's job keeps waiting for its document).
describe("IPP share documents count in the upload volume window", () => {
  const v = {};
  const doc40 = Buffer.concat([TEST_PDF, Buffer.alloc(40 - TEST_PDF.length, 0x0a)]);

  before(async () => {
    v.srv = await startServer({ args: ["--upload-volume-limit", "100", "--upload-volume-window", "600",
      "--max-document-size", "64"] });
    v.tmp = await makeTempDir("spoold-share-volume-");
    const tenant = randomUUID();
    v.admin = await v.srv.mintUser({ tenant, admin: true,
      scopes: [...PRINTER_MANAGEMENT_SCOPES, "PrintJob.ReadWrite.All", "PrinterShare.ReadWrite.All"] });
    v.upn = "dave@contoso.test";
    v.user = await v.srv.mintUser({ tenant, upn: v.upn, scopes: "PrintJob.ReadWrite PrinterShare.ReadBasic.All" });
    const pw = await rawFetch(`${v.srv.origin}/spoold/v1/me/printPasswords`, {
      method: "POST", token: v.user, json: { displayName: "ipptool" } });
    assert.equal(pw.status, 201, pw.text);
    v.password = pw.json.password;
    v.printer = await registerPrinter(v.srv, v.admin, { name: "Volume share" });
    v.share = await createShare(v.srv, v.admin, v.printer);
    v.pdf = path.join(v.tmp, "doc40.pdf");
    await writeFile(v.pdf, doc40);
  });

  after(async () => {
    await v.srv?.stop();
    if (v.tmp) await rm(v.tmp, { recursive: true, force: true });
  });

  // Runs the ipptool tests `body` against the share as the user; resolves the verbose output.
  async function ipp(body, doc = v.pdf) {
    const file = path.join(v.tmp, `${randomUUID()}.test`);
    await writeFile(file, body);
    const port = new URL(v.srv.origin).port;
    const uri = `ipp://${encodeURIComponent(v.upn)}:${encodeURIComponent(v.password)}@127.0.0.1:${port}/ipp/share/${v.share}`;
    try {
      const { stdout } = await run("ipptool", ["-t", "-v", "-f", doc, uri, file], { encoding: "utf8", timeout: 60_000 });
      return stdout;
    } catch (e) {
      assert.fail(`ipptool failed:\n${e.stdout || ""}${e.stderr || ""}`);
    }
  }
  const head = `GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR naturalLanguage attributes-natural-language en
  ATTR uri printer-uri $uri`;
  const printJob = (status, doc) => ipp(`{
  NAME "Print-Job expecting ${status}"
  OPERATION Print-Job
  ${head}
  ATTR name requesting-user-name $user
  ATTR mimeMediaType document-format application/pdf
  FILE $filename
  STATUS ${status}
}
`, doc);
  const createAndSend = (status) => ipp(`{
  NAME "Create-Job"
  OPERATION Create-Job
  ${head}
  ATTR name requesting-user-name $user
  STATUS successful-ok
  EXPECT job-id OF-TYPE integer
}
{
  NAME "Send-Document expecting ${status}"
  OPERATION Send-Document
  ${head}
  ATTR integer job-id $job-id
  ATTR name requesting-user-name $user
  ATTR mimeMediaType document-format application/pdf
  ATTR boolean last-document true
  FILE $filename
  STATUS ${status}
}
`);
  // A Graph upload of `size` bytes as the user (a new job on the share); resolves the PUT.
  async function graphUpload(size) {
    const job = await createJob(v.srv, v.user, `shares/${v.share}`);
    const base = `${v.srv.origin}/v1.0/print/shares/${v.share}/jobs/${job.id}/documents/${job.documents[0].id}`;
    const s = await rawFetch(`${base}/createUploadSession`, { method: "POST", token: v.user,
      json: { properties: { documentName: "g.pdf", contentType: "application/pdf", size } } });
    assert.equal(s.status, 200, s.text);
    return rawFetch(s.json.uploadUrl.replace(v.srv.url, v.srv.origin), { method: "PUT", body: Buffer.alloc(size, 0x25),
      headers: { "content-range": `bytes 0-${size - 1}/${size}`, "content-type": "application/octet-stream" } });
  }
  const uploaded = async () => {
    const r = await rawFetch(`${v.srv.origin}/v1.0/print/printers/${v.printer}/jobs?$top=100&$expand=documents`, { token: v.admin });
    assert.equal(r.status, 200, r.text);
    return r.json.value.map((j) => ({ state: j.status.state, sizes: j.documents.filter((d) => d.uploadedDateTime).map((d) => d.size) }));
  };

  it("Graph and IPP share documents fill one window; past it IPP gets client-error-not-possible and nothing is recorded", async () => {
    await printJob("successful-ok");          // 40 of 100
    await createAndSend("successful-ok");     // 80 of 100
    const g = await graphUpload(30);          // 110 > 100: Graph sees the IPP bytes
    assert.equal(g.status, 429, g.text);
    assert.equal(g.json.error.code, "activityLimitReached");

    const refused = await printJob("client-error-not-possible");
    assert.match(refused, /You uploaded too many document bytes: at most 100 in any 600 seconds\. Retry after \d+ seconds\./, refused);
    const refused2 = await createAndSend("client-error-not-possible");
    assert.match(refused2, /You uploaded too many document bytes: at most 100 in any 600 seconds/, refused2);

    // the refused documents were not counted: 20 more bytes fit exactly
    assert.equal((await graphUpload(20)).status, 201);
    assert.equal((await graphUpload(1)).status, 429);

    const jobs = await uploaded();
    const stored = jobs.flatMap((j) => j.sizes).sort((a, b) => a - b);
    assert.deepEqual(stored, [20, 40, 40], "only the accepted documents are stored");
    const canceled = jobs.filter((j) => j.state === "canceled" && j.sizes.length === 0);
    assert.equal(canceled.length, 1, `the refused Print-Job's job is canceled: ${JSON.stringify(jobs)}`);
  });

  // --max-document-size 64 (after the window test: these refusals come before the window's)
  it("--max-document-size: Graph's createUploadSession past it is 413 maxFileSizeExceeded, a share document past it client-error-request-entity-too-large", async () => {
    const job = await createJob(v.srv, v.user, `shares/${v.share}`);
    const session = (size) => rawFetch(`${v.srv.origin}/v1.0/print/shares/${v.share}/jobs/${job.id}/documents/${job.documents[0].id}/createUploadSession`, {
      method: "POST", token: v.user, json: { properties: { documentName: "g.pdf", contentType: "application/pdf", size } } });
    const over = await session(65);
    assert.equal(over.status, 413, over.text);
    assert.equal(over.json.error.innerError.code, "maxFileSizeExceeded");
    assert.equal((await session(64)).status, 200, "64 bytes are within the limit");
    const big = path.join(v.tmp, "doc65.pdf");
    await writeFile(big, Buffer.concat([TEST_PDF, Buffer.alloc(65 - TEST_PDF.length, 0x0a)]));
    const refused = await printJob("client-error-request-entity-too-large", big);
    assert.match(refused, /larger than this server accepts \(64 bytes\)/, refused);
  });
});
