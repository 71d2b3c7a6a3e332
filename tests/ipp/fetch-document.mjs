// SPDX-License-Identifier: Apache-2.0
// Fetch-Document as an output device would, checking the bytes after the IPP response
// (ipptool discards them). Used by run.sh.
//
//   node fetch-document.mjs URL TOKEN DEVICE_UUID JOB_ID EXPECTED_FILE
//
// URL is the printer's http://HOST:PORT/ipp/print/ID. Prints one line and exits 0 when the
// status is successful-ok, document-format is set and the bytes equal EXPECTED_FILE.
import { readFileSync } from "node:fs";
import { ippRequest, attr, OP, bearer, val } from "../api/lib/ipp.mjs";

const [url, token, device, jobId, expectedFile] = process.argv.slice(2);
const expected = readFileSync(expectedFile);
const printerUri = url.replace(/^http/, "ipp");
const r = await ippRequest(url, {
  op: OP.FETCH_DOCUMENT, auth: bearer(token),
  operation: [attr.uri("printer-uri", printerUri), attr.integer("job-id", Number(jobId)),
    attr.integer("document-number", 1), attr.uri("output-device-uuid", device),
    attr.mime("document-format-accepted", ["application/pdf"])],
});
const problems = [];
if (r.httpStatus !== 200) problems.push(`HTTP ${r.httpStatus}`);
if (r.status !== 0) problems.push(`IPP status 0x${(r.status ?? -1).toString(16)}`);
if (val(r.op, "document-format") !== "application/pdf") problems.push(`document-format ${val(r.op, "document-format")}`);
if (!r.data || !r.data.equals(expected))
  problems.push(`document bytes: got ${r.data ? r.data.length : 0}, expected ${expected.length} (equal: false)`);
if (problems.length) {
  console.log(`Fetch-Document bytes: FAIL: ${problems.join("; ")}`);
  process.exit(1);
}
console.log(`Fetch-Document bytes: ${r.data.length} bytes after a ${r.raw.length - r.data.length}-byte IPP response, identical to the upload`);
