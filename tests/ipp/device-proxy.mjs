// SPDX-License-Identifier: Apache-2.0
// A print proxy (INFRA output device) for the share tests: it plays the printer behind a share so
// jobs printed to the share reach a terminal state, as on a real installation. Used by
// share-run.sh; runs until killed.
//
//   node device-proxy.mjs URL TOKEN DEVICE_UUID [OUTDIR]
//
// URL is the printer's http://HOST:PORT/ipp/print/ID. Every 200 ms it asks for the fetchable
// jobs (Get-Jobs which-jobs=fetchable) and, for each, runs Fetch-Job, Acknowledge-Job,
// Fetch-Document (writing the bytes to OUTDIR/JOBID when OUTDIR is given), Acknowledge-Document
// and Update-Job-Status completed. One line per job on stdout.
// It also subscribes to printer-state-changed (ippget) and polls Get-Notifications: when an
// event's printer-state-reasons include identify-printer-requested it sends
// Acknowledge-Identify-Printer and prints "device: identify ACTIONS 'MESSAGE'" (PWG 5100.18).
import { writeFileSync } from "node:fs";
import { ippRequest, attr, OP, bearer, val, vals, TAG } from "../api/lib/ipp.mjs";

const [url, token, device, outdir] = process.argv.slice(2);
const uri = url.replace(/^http/, "ipp");
const auth = bearer(token);
const base = () => [attr.uri("printer-uri", uri), attr.uri("output-device-uuid", device)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function call(op, operation, groups) {
  const r = await ippRequest(url, groups
    ? { op, auth, groups: [{ tag: TAG.OPERATION, attrs: [attr.charset("attributes-charset", "utf-8"),
        attr.language("attributes-natural-language", "en"), ...operation] }, ...groups] }
    : { op, auth, operation });
  if (r.httpStatus !== 200 || r.status > 0xff) throw new Error(`op 0x${op.toString(16)}: HTTP ${r.httpStatus} IPP 0x${(r.status ?? -1).toString(16)}`);
  return r;
}

async function runJob(id) {
  await call(OP.FETCH_JOB, [...base(), attr.integer("job-id", id)]);
  await call(OP.ACKNOWLEDGE_JOB, [...base(), attr.integer("job-id", id)]);
  const d = await call(OP.FETCH_DOCUMENT, [...base(), attr.integer("job-id", id),
    attr.integer("document-number", 1)]);
  if (outdir) writeFileSync(`${outdir}/${id}`, d.data);
  await call(OP.ACKNOWLEDGE_DOCUMENT, [...base(), attr.integer("job-id", id),
    attr.integer("document-number", 1)]);
  await call(OP.UPDATE_JOB_STATUS, [...base(), attr.integer("job-id", id)],
    [{ tag: TAG.JOB, attrs: [attr.enum("output-device-job-state", 9),
      attr.keyword("output-device-job-state-reasons", "job-completed-successfully"),
      attr.integer("job-impressions-completed", 1)] }]);
  console.log(`device: printed job ${id} (${d.data.length} bytes, ${val(d.op, "document-format")})`);
}

let sub = 0;
let seq = 1;

async function identifyEvents() {
  if (!sub) {
    const r = await call(OP.CREATE_PRINTER_SUBSCRIPTIONS, base(), [{ tag: TAG.SUBSCRIPTION, attrs: [
      attr.keyword("notify-pull-method", "ippget"), attr.keyword("notify-events", "printer-state-changed"),
      attr.integer("notify-lease-duration", 0)] }]);
    sub = val(r.group(TAG.SUBSCRIPTION)[0], "notify-subscription-id");
    console.log(`device: subscribed (${sub})`);
  }
  const r = await call(OP.GET_NOTIFICATIONS, [attr.uri("printer-uri", uri),
    attr.integer("notify-subscription-ids", sub),
    attr.integer("notify-sequence-numbers", seq)]);
  let wanted = false;
  for (const e of r.group(TAG.EVENT)) {
    seq = Math.max(seq, val(e, "notify-sequence-number") + 1);
    if (vals(e, "printer-state-reasons").includes("identify-printer-requested")) wanted = true;
  }
  if (!wanted) return;
  const a = await call(OP.ACKNOWLEDGE_IDENTIFY_PRINTER, base());
  console.log(`device: identify ${vals(a.op, "identify-actions").join(",")} '${val(a.op, "message") ?? ""}'`);
}

for (;;) {
  try {
    await identifyEvents();
  } catch (e) {
    console.log(`device: events: ${e.message}`);
  }
  try {
    const r = await call(OP.GET_JOBS, [...base(), attr.keyword("which-jobs", "fetchable"),
      attr.keyword("requested-attributes", "job-id")]);
    for (const g of r.group(TAG.JOB)) {
      const id = val(g, "job-id");
      try { await runJob(id); } catch (e) { console.log(`device: job ${id}: ${e.message}`); }
    }
  } catch (e) {
    console.log(`device: ${e.message}`);
  }
  await sleep(200);
}
