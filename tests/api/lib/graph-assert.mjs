// SPDX-License-Identifier: Apache-2.0
// Assertions for Graph error envelopes, as seen on the wire and as each client reports them.
//   {"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}
// with Content-Type application/json, a request-id header equal to innerError["request-id"], and
// the caller's client-request-id echoed in both places.
import assert from "node:assert/strict";
import { GUID } from "./clients.mjs";

const header = (h, name) => (typeof h.get === "function" ? h.get(name) : h[name.toLowerCase()]);

// A raw response (rawFetch/rawHttp result). Returns body.error for further checks.
//   expect: { status, code, clientRequestId }  (code: exact string, or a RegExp)
export function assertErrorEnvelope(res, { status, code, clientRequestId } = {}) {
  const where = `${res.status} ${res.text.slice(0, 300)}`;
  if (status !== undefined) assert.equal(res.status, status, `HTTP status (${where})`);
  assert.match(header(res.headers, "content-type") || "", /^application\/json\b/i, `error Content-Type (${where})`);
  assert.ok(res.json && typeof res.json.error === "object" && res.json.error !== null, `body has an "error" object (${where})`);
  const err = res.json.error;
  assert.equal(typeof err.code, "string", `error.code is a string (${where})`);
  assert.ok(err.code.length > 0, `error.code is not empty (${where})`);
  if (code instanceof RegExp) assert.match(err.code, code, `error.code (${where})`);
  else if (code !== undefined) assert.equal(err.code, code, `error.code (${where})`);
  assert.equal(typeof err.message, "string", `error.message is a string (${where})`);
  assert.ok(err.message.trim().length > 0, `error.message is not empty (${where})`);
  const inner = err.innerError;
  assert.ok(inner && typeof inner === "object", `error.innerError present (${where})`);
  assert.equal(typeof inner.date, "string", `innerError.date is a string (${where})`);
  assert.ok(!Number.isNaN(Date.parse(inner.date)), `innerError.date parses as a date: ${inner.date}`);
  assert.match(inner["request-id"] || "", GUID, `innerError["request-id"] is a GUID (${where})`);
  assert.equal(header(res.headers, "request-id"), inner["request-id"], "request-id header equals innerError[\"request-id\"]");
  assert.ok(header(res.headers, "date"), "Date header present");
  if (clientRequestId !== undefined) {
    assert.equal(header(res.headers, "client-request-id"), clientRequestId, "client-request-id header echoed");
    assert.equal(inner["client-request-id"], clientRequestId, "innerError[\"client-request-id\"] echoed");
  }
  return err;
}

// Awaits a Kiota call that must fail; checks the ODataError-shaped object Kiota throws (a plain
// object, not an Error). Returns it.
export async function expectKiotaError(promise, { status, code, message } = {}) {
  let thrown;
  try {
    await promise;
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown !== undefined, `expected the Kiota call to fail with ${status} ${code}`);
  const e = thrown;
  assert.ok(e.errorEscaped, `Kiota reported an ODataError (got: ${e && (e.stack || e.message || e)})`);
  if (status !== undefined) assert.equal(e.responseStatusCode, status, "responseStatusCode");
  if (code !== undefined) assert.equal(e.errorEscaped.code, code, "errorEscaped.code");
  assert.equal(typeof e.errorEscaped.message, "string");
  assert.ok(e.errorEscaped.message.trim().length > 0, "errorEscaped.message is not empty");
  assert.equal(e.message, e.errorEscaped.message, "message mirrors error.message");
  if (message !== undefined) assert.match(e.errorEscaped.message, message, "error.message");
  const inner = e.errorEscaped.innerError;
  assert.ok(inner, "errorEscaped.innerError present");
  assert.match(inner.requestId || "", GUID, "innerError.requestId is a GUID");
  assert.ok(inner.date instanceof Date && !Number.isNaN(inner.date.getTime()), "innerError.date parsed to a valid Date");
  const hdr = e.responseHeaders && (e.responseHeaders["request-id"] || e.responseHeaders["Request-Id"]);
  assert.ok(hdr && hdr[0] === inner.requestId, "request-id response header equals innerError.requestId");
  return e;
}

// Awaits a v3 call that must fail; checks the GraphError. Returns { error, body } where body is
// the parsed `error` object of the response.
export async function expectGraphError(promise, { status, code } = {}) {
  let thrown;
  try {
    await promise;
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown !== undefined, `expected the v3 call to fail with ${status} ${code}`);
  const e = thrown;
  assert.equal(e.constructor.name, "GraphError", `a GraphError (got ${e && e.constructor && e.constructor.name}: ${e && e.message})`);
  if (status !== undefined) assert.equal(e.statusCode, status, "statusCode");
  if (code !== undefined) assert.equal(e.code, code, "code");
  assert.equal(typeof e.message, "string");
  assert.ok(e.message.trim().length > 0, "message is not empty");
  assert.match(e.requestId || "", GUID, "requestId is a GUID");
  assert.ok(e.date instanceof Date && !Number.isNaN(e.date.getTime()), "date parsed to a valid Date");
  assert.ok(e.headers && typeof e.headers.get === "function", "GraphError carries the response headers");
  assert.equal(e.headers.get("request-id"), e.requestId, "request-id header equals innerError request-id");
  const body = JSON.parse(e.body);
  assert.equal(typeof body.innerError?.date, "string", "innerError.date is on the wire (v3 would otherwise default it to now)");
  return { error: e, body };
}
