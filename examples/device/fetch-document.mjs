// SPDX-License-Identifier: Apache-2.0
// Fetch-Document as a print device does it, saving the document's bytes to a file (ipptool
// prints the IPP answer but cannot save the data that follows it). Node.js 18+, no packages.
//
//   node examples/device/fetch-document.mjs PRINTER_URL DEVICE_TOKEN DEVICE_UUID JOB_ID OUT_FILE
//
//   PRINTER_URL   http://127.0.0.1:8080/ipp/print/PRINTER_ID (the IPP endpoint over HTTP)
//   DEVICE_TOKEN  from `spoold token --device PRINTER_ID`
//   DEVICE_UUID   the device's output-device-uuid (urn:uuid:...), as in fetch-job.test
//
// An IPP request (RFC 8010) is a version, an operation code, a request id, attribute groups and
// an end tag; the answer has the same shape and, for Fetch-Document, the document after it.
import { writeFileSync } from "node:fs";

const [url, token, device, jobId, out] = process.argv.slice(2);
if (!out) {
  console.error("usage: node fetch-document.mjs PRINTER_URL DEVICE_TOKEN DEVICE_UUID JOB_ID OUT_FILE");
  process.exit(2);
}

const FETCH_DOCUMENT = 0x0042;
const TAG = { OPERATION: 0x01, END: 0x03, INTEGER: 0x21, URI: 0x45, CHARSET: 0x47, LANGUAGE: 0x48 };

function attribute(tag, name, value) {
  const v = typeof value === "number" ? Buffer.alloc(4) : Buffer.from(value, "utf8");
  if (typeof value === "number") v.writeInt32BE(value);
  const n = Buffer.from(name, "utf8");
  const head = Buffer.alloc(3);
  head.writeUInt8(tag, 0);
  head.writeUInt16BE(n.length, 1);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(v.length);
  return Buffer.concat([head, n, len, v]);
}

const header = Buffer.alloc(8);
header.writeUInt8(2, 0); // IPP/2.0
header.writeUInt8(0, 1);
header.writeUInt16BE(FETCH_DOCUMENT, 2);
header.writeUInt32BE(1, 4); // request-id
const body = Buffer.concat([
  header,
  Buffer.from([TAG.OPERATION]),
  attribute(TAG.CHARSET, "attributes-charset", "utf-8"),
  attribute(TAG.LANGUAGE, "attributes-natural-language", "en"),
  attribute(TAG.URI, "printer-uri", url.replace(/^http/, "ipp")),
  attribute(TAG.INTEGER, "job-id", Number(jobId)),
  attribute(TAG.INTEGER, "document-number", 1),
  attribute(TAG.URI, "output-device-uuid", device),
  Buffer.from([TAG.END]),
]);

const res = await fetch(url, {
  method: "POST",
  headers: { "Content-Type": "application/ipp", Authorization: `Bearer ${token}` },
  body,
});
const answer = Buffer.from(await res.arrayBuffer());
if (res.status !== 200) {
  console.error(`fetch-document: HTTP ${res.status}: ${answer.toString("utf8", 0, 300)}`);
  process.exit(1);
}
const status = answer.readUInt16BE(2);
// Skip the attribute groups: every attribute is tag, name length, name, value length, value.
let at = 8;
let format = "";
for (;;) {
  const tag = answer.readUInt8(at++);
  if (tag === TAG.END) break;
  if (tag < 0x10) continue; // a group delimiter
  const nlen = answer.readUInt16BE(at);
  const name = answer.toString("utf8", at + 2, at + 2 + nlen);
  at += 2 + nlen;
  const vlen = answer.readUInt16BE(at);
  if (name === "document-format") format = answer.toString("utf8", at + 2, at + 2 + vlen);
  at += 2 + vlen;
}
if (status >= 0x0100) {
  console.error(`fetch-document: IPP status 0x${status.toString(16).padStart(4, "0")}`);
  process.exit(1);
}
const doc = answer.subarray(at);
writeFileSync(out, doc);
console.log(`saved ${doc.length} bytes of ${format || "a document"} to ${out}`);
