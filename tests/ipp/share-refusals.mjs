// SPDX-License-Identifier: Apache-2.0
// Refusals of the IPP share endpoint (/ipp/share/{id}); none of them may leave a job behind.
// Used by share-run.sh:
//
//   node share-refusals.mjs BASE SHARE_ID USER PASSWORD OTHER_USER OTHER_PASSWORD REVOKED_PASSWORD
//
// USER/PASSWORD may print; OTHER_USER is not allowed on the share; REVOKED_PASSWORD is a
// password of USER that was revoked. Prints one [PASS]/[FAIL] line per check.
import { ippRequest, attr, OP, STATUS, basic, bearer, val, TAG } from "../api/lib/ipp.mjs";

const [base, share, user, pass, other, otherPass, revoked] = process.argv.slice(2);
const url = `${base}/ipp/share/${share}`;
const uri = url.replace(/^http/, "ipp");
const pdf = Buffer.from("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n");
const PRINT_JOB = 0x0002, VALIDATE_JOB = 0x0004;

let failed = 0;
function check(name, cond, detail) {
  console.log(`    ${name.padEnd(76)} [${cond ? "PASS" : "FAIL"}]`);
  if (!cond) { failed++; if (detail) console.log(`        ${detail}`); }
}
const printJob = (auth, extra = [], data = pdf, jobAttrs = []) => ippRequest(url, {
  op: PRINT_JOB, auth, data,
  groups: [{ tag: TAG.OPERATION, attrs: [attr.charset("attributes-charset", "utf-8"),
    attr.language("attributes-natural-language", "en"), attr.uri("printer-uri", uri),
    attr.name("requesting-user-name", "mallory"), ...extra] },
  ...(jobAttrs.length ? [{ tag: TAG.JOB, attrs: jobAttrs }] : [])],
});
const show = (r) => `HTTP ${r.httpStatus}, IPP 0x${(r.status ?? -1).toString(16)} ${r.op ? val(r.op, "status-message") || "" : r.raw.toString().replace(/[^ -~]/g, "?").slice(0, 200)}`;

let r = await printJob(undefined);
check("no credentials: HTTP 401 with WWW-Authenticate Basic", r.httpStatus === 401 &&
  /Basic realm="spoold"/.test(r.headers["www-authenticate"] || ""), show(r));
r = await printJob(basic(user, "not-the-password"));
check("wrong print password: HTTP 401", r.httpStatus === 401, show(r));
r = await printJob(basic(user, revoked));
check("revoked print password: HTTP 401", r.httpStatus === 401, show(r));
r = await printJob(bearer("not.a.jwt"));
check("malformed bearer token: HTTP 401", r.httpStatus === 401, show(r));
r = await printJob(basic(other, otherPass));
check("a user not allowed on the share: HTTP 403", r.httpStatus === 403 &&
  /not allowed to print/.test(r.raw.toString()), show(r));
r = await printJob(basic(user, pass), [attr.mime("document-format", "text/plain")], Buffer.from("hello\n"));
check("document-format the printer does not accept: document-format-not-supported",
  r.httpStatus === 200 && r.status === STATUS.DOCUMENT_FORMAT &&
  val(r.unsupported, "document-format") === "text/plain", show(r));
r = await printJob(basic(user, pass), [attr.mime("document-format", "application/octet-stream")],
  Buffer.from("GIF89a and something no printer here takes"));
check("application/octet-stream of an unknown format: document-format-not-supported",
  r.httpStatus === 200 && r.status === STATUS.DOCUMENT_FORMAT, show(r));
r = await printJob(basic(user, pass), [], pdf, [attr.keyword("sides", "two-sided-long-edge")]);
check("Print-Job with sides the printer lacks: attributes-or-values-not-supported",
  r.httpStatus === 200 && r.status === STATUS.ATTRIBUTES_OR_VALUES &&
  val(r.unsupported, "sides") === "two-sided-long-edge", show(r));
r = await ippRequest(url, { op: VALIDATE_JOB, auth: basic(user, pass), groups: [
  { tag: TAG.OPERATION, attrs: [attr.charset("attributes-charset", "utf-8"),
    attr.language("attributes-natural-language", "en"), attr.uri("printer-uri", uri)] },
  { tag: TAG.JOB, attrs: [attr.keyword("sides", "two-sided-short-edge"), attr.integer("copies", 500),
    attr.keyword("print-color-mode", "monochrome")] }] });
check("Validate-Job returns each offending attribute (sides, copies) and not the good one",
  r.status === STATUS.ATTRIBUTES_OR_VALUES && val(r.unsupported, "sides") === "two-sided-short-edge" &&
  val(r.unsupported, "copies") === 500 && !r.unsupported.has("print-color-mode"), show(r));
r = await ippRequest(url, { op: VALIDATE_JOB, auth: basic(user, pass), operation: [
  attr.uri("printer-uri", uri), attr.mime("document-format", "image/jpeg")] });
check("Validate-Job of a good ticket: successful-ok", r.status === STATUS.OK, show(r));
r = await printJob(basic(user, pass), [], Buffer.alloc(0));
check("Print-Job without document data: client-error-bad-request", r.status === STATUS.BAD_REQUEST, show(r));
r = await ippRequest(url.replace(share, "00000000-0000-0000-0000-000000000000"), {
  op: PRINT_JOB, auth: basic(user, pass), operation: [attr.uri("printer-uri", uri)], data: pdf });
check("an unknown share: HTTP 404", r.httpStatus === 404, show(r));
// Repeated failures with one credential are answered more and more slowly (the first two at
// once, then 250 ms, 500 ms, 1 s, ...): the fifth takes about a second.
let last = 0;
for (let i = 0; i < 5; i++) {
  const t0 = Date.now();
  r = await printJob(basic(user, "guessing-again"));
  last = Date.now() - t0;
  if (r.httpStatus !== 401) break;
}
check("repeated failed authentication is slowed down (5th answer after >= 0.9 s, still 401)",
  r.httpStatus === 401 && last >= 900, `last answer after ${last} ms, ${show(r)}`);
process.exit(failed ? 1 : 0);
