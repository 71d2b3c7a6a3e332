// SPDX-License-Identifier: Apache-2.0
// HTTP-level checks of the IPP endpoint that ipptool cannot make: device authentication
// (401 with WWW-Authenticate, 403 for another printer's credentials) and bodies that are not
// valid IPP (wrong media type, too short, truncated, bad version, over --max-body). Used by
// run.sh, which counts the "[PASS]" / "[FAIL]" lines like ipptool's.
//
//   node wire-checks.mjs BASE_URL PRINTER TOKEN OTHER_PRINTER OTHER_TOKEN
import { ippRequest, encodeRequest, attr, OP, TAG, STATUS, bearer, basic, val } from "../api/lib/ipp.mjs";

const [base, printer, token, other, otherToken] = process.argv.slice(2);
const url = `${base}/ipp/print/${printer}`;
const uri = url.replace(/^http/, "ipp");
const gpa = (extra = {}) => ({ op: OP.GET_PRINTER_ATTRIBUTES, operation: [attr.uri("printer-uri", uri)], ...extra });

let failed = 0;
async function check(name, fn) {
  let why;
  try {
    why = await fn();
  } catch (e) {
    why = e.message;
  }
  if (why) failed++;
  console.log(`    ${name.padEnd(76)} [${why ? "FAIL" : "PASS"}]${why ? `\n        ${why}` : ""}`);
}
const expect = (cond, msg) => (cond ? undefined : msg);

await check("No credentials: HTTP 401 with WWW-Authenticate Basic and Bearer", async () => {
  const r = await ippRequest(url, gpa());
  const www = r.headers["www-authenticate"] || "";
  return expect(r.httpStatus === 401 && /Basic realm=/.test(www) && /Bearer realm=/.test(www),
    `HTTP ${r.httpStatus}, WWW-Authenticate "${www}"`);
});
await check("Wrong bearer token: HTTP 401", async () => {
  const r = await ippRequest(url, gpa({ auth: bearer("0".repeat(64)) }));
  return expect(r.httpStatus === 401, `HTTP ${r.httpStatus}`);
});
await check("Basic with a wrong password: HTTP 401", async () => {
  const r = await ippRequest(url, gpa({ auth: basic(printer, "x") }));
  return expect(r.httpStatus === 401, `HTTP ${r.httpStatus}`);
});
await check("Bearer device token: successful-ok", async () => {
  const r = await ippRequest(url, gpa({ auth: bearer(token) }));
  return expect(r.httpStatus === 200 && r.status === STATUS.OK && val(r.group(TAG.PRINTER)[0], "printer-uuid") === `urn:uuid:${printer}`,
    `HTTP ${r.httpStatus} status ${r.status}`);
});
await check("Basic printer-id:device-token: successful-ok", async () => {
  const r = await ippRequest(url, gpa({ auth: basic(printer, token) }));
  return expect(r.httpStatus === 200 && r.status === STATUS.OK, `HTTP ${r.httpStatus} status ${r.status}`);
});
await check("Another printer's valid credentials on this printer: HTTP 403", async () => {
  const r = await ippRequest(url, gpa({ auth: basic(other, otherToken) }));
  return expect(r.httpStatus === 403, `HTTP ${r.httpStatus}`);
});
await check("This printer's token on another printer's endpoint: HTTP 401", async () => {
  const r = await ippRequest(`${base}/ipp/print/${other}`, gpa({ auth: bearer(token) }));
  return expect(r.httpStatus === 401, `HTTP ${r.httpStatus}`);
});
await check("Unknown printer id: HTTP 401", async () => {
  const r = await ippRequest(`${base}/ipp/print/00000000-0000-4000-8000-000000000000`, gpa({ auth: bearer(token) }));
  return expect(r.httpStatus === 401, `HTTP ${r.httpStatus}`);
});
await check("Content-Type text/plain: HTTP 400", async () => {
  const r = await ippRequest(url, gpa({ auth: bearer(token), contentType: "text/plain" }));
  return expect(r.httpStatus === 400, `HTTP ${r.httpStatus}`);
});
await check("A 5-byte body: HTTP 400", async () => {
  const r = await ippRequest(url, { auth: bearer(token), body: Buffer.from([2, 0, 0, 0x0b, 0]) });
  return expect(r.httpStatus === 400, `HTTP ${r.httpStatus}`);
});
await check("Truncated attribute: client-error-bad-request (request-id echoed)", async () => {
  const full = encodeRequest({ ...gpa(), requestId: 77 });
  const r = await ippRequest(url, { auth: bearer(token), body: full.subarray(0, full.length - 12) });
  return expect(r.httpStatus === 200 && r.status === STATUS.BAD_REQUEST && r.requestId === 77,
    `HTTP ${r.httpStatus} status 0x${r.status?.toString(16)} request-id ${r.requestId}`);
});
await check("Missing end-of-attributes: client-error-bad-request", async () => {
  const full = encodeRequest(gpa());
  const r = await ippRequest(url, { auth: bearer(token), body: full.subarray(0, full.length - 1) });
  return expect(r.status === STATUS.BAD_REQUEST, `status 0x${r.status?.toString(16)}`);
});
await check("IPP version 9.9: server-error-version-not-supported", async () => {
  const r = await ippRequest(url, gpa({ auth: bearer(token), version: [9, 9] }));
  return expect(r.status === STATUS.VERSION_NOT_SUPPORTED, `status 0x${r.status?.toString(16)}`);
});
await check("Value tag of attributes-charset wrong (keyword): client-error-bad-request", async () => {
  const r = await ippRequest(url, {
    auth: bearer(token), op: OP.GET_PRINTER_ATTRIBUTES, bare: true,
    operation: [attr.keyword("attributes-charset", "utf-8"), attr.language("attributes-natural-language", "en"), attr.uri("printer-uri", uri)],
  });
  return expect(r.status === STATUS.BAD_REQUEST, `status 0x${r.status?.toString(16)}`);
});
await check("Unknown operation 0x4000: server-error-operation-not-supported", async () => {
  const r = await ippRequest(url, gpa({ auth: bearer(token), op: 0x4000 }));
  return expect(r.status === STATUS.OPERATION_NOT_SUPPORTED, `status 0x${r.status?.toString(16)}`);
});
await check("Body over --max-body (2 MiB): HTTP 413", async () => {
  const big = Buffer.concat([encodeRequest(gpa()), Buffer.alloc(2 << 20)]);
  const r = await ippRequest(url, { auth: bearer(token), body: big, expectContinue: true });
  return expect(r.httpStatus === 413, `HTTP ${r.httpStatus}`);
});
await check("output-device-job-state 0: client-error-attributes-or-values-not-supported", async () => {
  const r = await ippRequest(url, {
    auth: bearer(token), op: OP.UPDATE_JOB_STATUS,
    groups: [
      { tag: TAG.OPERATION, attrs: [attr.charset("attributes-charset", "utf-8"),
        attr.language("attributes-natural-language", "en"), attr.uri("printer-uri", uri),
        attr.integer("job-id", 1), attr.uri("output-device-uuid", "urn:uuid:00000000-0000-4000-8000-000000000001")] },
      { tag: TAG.JOB, attrs: [attr.enum("output-device-job-state", 0)] },
    ],
  });
  return expect(r.status === STATUS.ATTRIBUTES_OR_VALUES && r.unsupported.has("output-device-job-state"),
    `status 0x${r.status?.toString(16)}`);
});
await check("Data after end-of-attributes is ignored: successful-ok", async () => {
  const r = await ippRequest(url, gpa({ auth: bearer(token), data: Buffer.from("%PDF-1.4 trailing") }));
  return expect(r.status === STATUS.OK, `status 0x${r.status?.toString(16)}`);
});
await check("600 mutated requests (seeded): each answered, the server still serves", async () => {
  let seed = 12345;
  const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
  const dev = attr.uri("output-device-uuid", "urn:uuid:00000000-0000-4000-8000-0000000000f0");
  const seeds = [
    encodeRequest({ op: OP.UPDATE_OUTPUT_DEVICE_ATTRIBUTES, groups: [
      { tag: TAG.OPERATION, attrs: [attr.charset("attributes-charset", "utf-8"), attr.language("attributes-natural-language", "en"), attr.uri("printer-uri", uri), dev] },
      { tag: TAG.PRINTER, attrs: [attr.enum("printer-state", 3), attr.keyword("sides-supported", ["one-sided", "two-sided-long-edge"]),
        attr.keyword("media-supported.2", "iso_a4_210x297mm"), attr.range("copies-supported", [[1, 9]])] }] }),
    encodeRequest({ op: OP.GET_JOBS, operation: [attr.uri("printer-uri", uri), attr.keyword("which-jobs", "fetchable"),
      attr.keyword("requested-attributes", ["all"]), attr.integer("limit", 5)] }),
    encodeRequest({ op: OP.CREATE_PRINTER_SUBSCRIPTIONS, groups: [
      { tag: TAG.OPERATION, attrs: [attr.charset("attributes-charset", "utf-8"), attr.language("attributes-natural-language", "en"), attr.uri("printer-uri", uri)] },
      { tag: TAG.SUBSCRIPTION, attrs: [attr.keyword("notify-pull-method", "ippget"), attr.keyword("notify-events", ["job-completed"]), attr.integer("notify-lease-duration", 60)] }] }),
    encodeRequest({ op: OP.UPDATE_ACTIVE_JOBS, operation: [attr.uri("printer-uri", uri), dev,
      attr.integer("job-ids", [1, 2, 3]), attr.enum("output-device-job-states", [5, 5, 9])] }),
  ];
  const bad = [];
  for (let i = 0; i < 600; i++) {
    const b = Buffer.from(seeds[i % seeds.length]);
    const kind = rnd(4);
    let body = b;
    if (kind === 0) for (let k = 0; k < 1 + rnd(4); k++) b[8 + rnd(b.length - 8)] = rnd(256);
    else if (kind === 1) body = b.subarray(0, 9 + rnd(b.length - 9));
    else if (kind === 2) { const at = 8 + rnd(b.length - 8); body = Buffer.concat([b.subarray(0, at), b.subarray(at, at + 1 + rnd(40)), b.subarray(at)]); }
    else { b[8 + rnd(b.length - 8)] = [0x00, 0x01, 0x03, 0x04, 0x7f, 0xff][rnd(6)]; }
    const r = await ippRequest(url, { auth: bearer(token), body });
    if (![200, 400].includes(r.httpStatus)) bad.push(`#${i}: HTTP ${r.httpStatus}`);
    if (bad.length > 3) break;
  }
  const alive = await ippRequest(url, gpa({ auth: bearer(token) }));
  if (alive.status !== STATUS.OK) bad.push("the server no longer answers");
  return bad.length ? bad.join("; ") : undefined;
});
process.exit(failed ? 1 : 0);
