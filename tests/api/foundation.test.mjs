// SPDX-License-Identifier: Apache-2.0
// Foundation of the Graph surface: GET/PATCH /print (settings), the error envelope as each
// client reports it, client-request-id, routing (versions, case, key syntax, 404/405), request
// body validation (400/413/415), authentication (401), service endpoints, and TLS with the v3
// client. Every describe block runs its own spoold (own port, own temp data dir) and stops it
// by PID in its after hook (SIGTERM, exit code 0 expected).
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import {
  kiotaClient, v3Client, kiotaWithStatus, rawFetch, rawHttp, models, newClientRequestId, GUID, closeAgents,
} from "./lib/clients.mjs";
import { assertErrorEnvelope, expectKiotaError, expectGraphError } from "./lib/graph-assert.mjs";
import { serverForSuite } from "./lib/fixtures.mjs";

const SETTINGS_READ = "PrintSettings.Read.All";
const SETTINGS_WRITE = "PrintSettings.Read.All PrintSettings.ReadWrite.All";
// A Printer Administrator holding every print scope an admin route could ask for, so that
// routing tests see routing outcomes (404/405), not permission ones.
const ALL_ADMIN_SCOPES = [
  "PrintSettings.Read.All", "PrintSettings.ReadWrite.All", "Printer.Read.All", "Printer.ReadWrite.All",
  "Printer.FullControl.All", "PrinterShare.ReadWrite.All", "PrintJob.ReadWrite.All",
  "PrintConnector.ReadWrite.All",
].join(" ");

after(() => closeAgents());

// Starts a server for the enclosing describe block and mints the usual tokens (administrators
// with the settings scopes, and one with every print scope).
function withServer(opts = {}) {
  return serverForSuite(opts, {
    tokens: {
      read: { scopes: SETTINGS_READ, admin: true },
      write: { scopes: SETTINGS_WRITE, admin: true },
      admin: { scopes: ALL_ADMIN_SCOPES, admin: true },
    },
  });
}

const url = (ctx, path) => `${ctx.srv.origin}${path}`;
const patchPrint = (ctx, body, extra = {}) => rawFetch(url(ctx, "/v1.0/print"), {
  method: "PATCH", token: ctx.write, body, headers: { "content-type": "application/json", ...(extra.headers || {}) }, ca: ctx.srv.ca,
});

// -----------------------------------------------------------------------------------------------

describe("GET /print", () => {
  const ctx = withServer();

  it("Kiota (beta): 200 with settings.documentConversionEnabled and the beta @odata.context", async () => {
    const client = kiotaClient({ origin: ctx.srv.origin, token: ctx.read });
    const print = await client.print.get();
    assert.equal(typeof print.settings?.documentConversionEnabled, "boolean", JSON.stringify(print));
    assert.equal(print.additionalData?.["@odata.context"], `${ctx.srv.url}/beta/$metadata#print`);

    const raw = await kiotaWithStatus((cfg) => client.print.get(cfg), models.createPrintFromDiscriminatorValue);
    assert.equal(raw.status, 200);
    assert.match(raw.headers.get("content-type") || "", /^application\/json\b/i);
    assert.equal(typeof raw.value.settings.documentConversionEnabled, "boolean");
  });

  it("Kiota (v1.0): 200 with the v1.0 @odata.context", async () => {
    const client = kiotaClient({ origin: ctx.srv.origin, version: "v1.0", token: ctx.read });
    const print = await client.print.get();
    assert.equal(typeof print.settings?.documentConversionEnabled, "boolean");
    assert.equal(print.additionalData?.["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#print`);
  });

  it("raw: body is {@odata.context, settings{documentConversionEnabled}} with a request-id", async () => {
    const res = await rawFetch(url(ctx, "/v1.0/print"), { token: ctx.read });
    assert.equal(res.status, 200, res.text);
    assert.match(res.contentType, /^application\/json\b/i);
    assert.equal(res.json["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#print`);
    assert.equal(typeof res.json.settings, "object");
    assert.equal(typeof res.json.settings.documentConversionEnabled, "boolean");
    assert.match(res.headers.get("request-id") || "", GUID, "request-id header on a success");
  });

  it("403 accessDenied naming the missing scope when the token lacks PrintSettings.Read.All", async () => {
    const token = await ctx.srv.mintUser({ tenant: ctx.tenant, scopes: "Printer.Read.All", admin: true });
    const res = await rawFetch(url(ctx, "/v1.0/print"), { token });
    const err = assertErrorEnvelope(res, { status: 403, code: "accessDenied" });
    assert.match(err.message, /PrintSettings\.Read(Write)?\.All/, err.message);
  });
});

// -----------------------------------------------------------------------------------------------

describe("PATCH /print", () => {
  const ctx = withServer();

  it("answers 204 and persists settings.documentConversionEnabled, also across a restart", async () => {
    let client = kiotaClient({ origin: ctx.srv.origin, token: ctx.write });

    // true, through the raw-status helper: 204 No Content, empty body
    const r1 = await kiotaWithStatus((cfg) => client.print.patch({ settings: { documentConversionEnabled: true } }, cfg));
    assert.equal(r1.status, 204, r1.text);
    assert.equal(r1.text, "");
    assert.equal((await client.print.get()).settings.documentConversionEnabled, true);

    // false, as an application would call it (a 204 resolves to undefined)
    assert.equal(await client.print.patch({ settings: { documentConversionEnabled: false } }), undefined);
    assert.equal((await client.print.get()).settings.documentConversionEnabled, false);
    const raw = await rawFetch(url(ctx, "/beta/print"), { token: ctx.read });
    assert.equal(raw.json.settings.documentConversionEnabled, false, "visible under /beta too");

    // a new process on the same data directory sees the committed value
    await ctx.srv.restart();
    client = kiotaClient({ origin: ctx.srv.origin, token: ctx.read });
    assert.equal((await client.print.get()).settings.documentConversionEnabled, false);
  });

  it("raw PATCH: 204, no body, and GET shows the new value", async () => {
    const res = await patchPrint(ctx, JSON.stringify({ settings: { documentConversionEnabled: true } }));
    assert.equal(res.status, 204, res.text);
    assert.equal(res.body.length, 0);
    const got = await rawFetch(url(ctx, "/v1.0/print"), { token: ctx.read });
    assert.equal(got.json.settings.documentConversionEnabled, true);
  });

  it("403 accessDenied naming PrintSettings.ReadWrite.All for a read-only token", async () => {
    const res = await rawFetch(url(ctx, "/v1.0/print"), {
      method: "PATCH", token: ctx.read, json: { settings: { documentConversionEnabled: false } },
    });
    const err = assertErrorEnvelope(res, { status: 403, code: "accessDenied" });
    assert.match(err.message, /PrintSettings\.ReadWrite\.All/, err.message);
    const got = await rawFetch(url(ctx, "/v1.0/print"), { token: ctx.read });
    assert.equal(got.json.settings.documentConversionEnabled, true, "a refused PATCH changes nothing");
  });
});

// -----------------------------------------------------------------------------------------------

describe("error envelope and client-request-id (http)", () => {
  const ctx = withServer();

  it("Kiota reports an ODataError: responseStatusCode, code, message, requestId, date", async () => {
    const client = kiotaClient({ origin: ctx.srv.origin, token: ctx.admin });
    const e = await expectKiotaError(client.print.printers.byPrinterId(randomUUID()).get(), { status: 404, code: "itemNotFound" });
    assert.ok(!(e instanceof Error), "Kiota throws the parsed ODataError model");
  });

  it("raw: full envelope with request-id header and Date", async () => {
    const res = await rawFetch(url(ctx, "/v1.0/print/nothing"), { token: ctx.admin });
    assertErrorEnvelope(res, { status: 404, code: "itemNotFound" });
  });

  it("client-request-id is echoed in the header and innerError on an error", async () => {
    const id = newClientRequestId();
    const res = await rawFetch(url(ctx, "/v1.0/print/nothing"), { token: ctx.admin, headers: { "client-request-id": id } });
    assertErrorEnvelope(res, { status: 404, code: "itemNotFound", clientRequestId: id });
  });

  it("client-request-id is echoed on a success", async () => {
    const id = newClientRequestId();
    const res = await rawFetch(url(ctx, "/beta/print"), { token: ctx.read, headers: { "client-request-id": id } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get("client-request-id"), id);
    assert.match(res.headers.get("request-id") || "", GUID);
    assert.notEqual(res.headers.get("request-id"), id, "request-id is the server's own id");
  });

  it("each request leaves one log line: time, request-id, client-request-id, method, route, status, bytes, time taken, tenant, app", async () => {
    // The line is written into a fixed buffer without a format string: the longest
    // client-request-id the server keeps (128 characters of its alphabet) fits it too.
    for (const id of [newClientRequestId(), `{a-b_c.d:e}${"x".repeat(117)}`]) {
      const res = await rawFetch(url(ctx, "/beta/print"), { token: ctx.read, headers: { "client-request-id": id } });
      assert.equal(res.status, 200, res.text);
      const rid = res.headers.get("request-id");
      const line = new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d+Z ${rid} ${id.replace(/[.{}]/g, "\\$&")} GET print\\.get 200 (\\d+) \\d+us tenant=([0-9a-f-]{36}) app=(\\S+)$`, "m");
      // the line is written once the answer has been sent: wait for it (a liveness bound only)
      for (let i = 0; i < 100 && !line.test(ctx.srv.output); i++) await new Promise((r) => setTimeout(r, 50));
      const m = ctx.srv.output.match(line);
      assert.ok(m, `no log line for ${rid} in:\n${ctx.srv.output.slice(-3000)}`);
      assert.ok(Number(m[1]) >= res.body.length, "bytes sent, the body at least");
    }
    const bad = await rawFetch(url(ctx, "/v1.0/print/nothing"), { token: ctx.admin });
    const rid = bad.headers.get("request-id");
    const line = new RegExp(`^\\S+ ${rid} - GET - 404 \\d+ \\d+us tenant=\\S+ app=\\S+$`, "m");
    for (let i = 0; i < 100 && !line.test(ctx.srv.output); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(ctx.srv.output, line, "no route and no client-request-id: '-'");
  });

  it("each request gets its own request-id", async () => {
    const a = await rawFetch(url(ctx, "/v1.0/print/nothing"), { token: ctx.admin });
    const b = await rawFetch(url(ctx, "/v1.0/print/nothing"), { token: ctx.admin });
    assert.notEqual(a.json.error.innerError["request-id"], b.json.error.innerError["request-id"]);
  });
});

// -----------------------------------------------------------------------------------------------

describe("routing", () => {
  const ctx = withServer();

  it("404 itemNotFound for an unknown path under a version prefix", async () => {
    for (const p of ["/v1.0/print/nothing", "/beta/print/nothing", "/v1.0/nothing"]) {
      assertErrorEnvelope(await rawFetch(url(ctx, p), { token: ctx.admin }), { status: 404, code: "itemNotFound" });
    }
  });

  it("404 for a path without a version prefix", async () => {
    for (const p of ["/print", "/print/printers", "/nothing-here"]) {
      assertErrorEnvelope(await rawFetch(url(ctx, p), { token: ctx.admin }), { status: 404, code: "itemNotFound" });
    }
  });

  it("405 notSupported with an Allow header for DELETE /print", async () => {
    for (const p of ["/v1.0/print", "/beta/print"]) {
      const res = await rawFetch(url(ctx, p), { method: "DELETE", token: ctx.admin });
      assertErrorEnvelope(res, { status: 405, code: "notSupported" });
      const allow = (res.headers.get("allow") || "").split(",").map((s) => s.trim().toUpperCase());
      assert.ok(allow.includes("GET") && allow.includes("PATCH"), `Allow: ${res.headers.get("allow")}`);
      assert.ok(!allow.includes("DELETE"), `Allow: ${res.headers.get("allow")}`);
    }
  });

  it("path segments are case-insensitive", async () => {
    for (const p of ["/V1.0/PRINT", "/Beta/Print", "/v1.0/Print"]) {
      const res = await rawFetch(url(ctx, p), { token: ctx.read });
      assert.equal(res.status, 200, `${p}: ${res.text}`);
      assert.equal(typeof res.json.settings.documentConversionEnabled, "boolean", p);
    }
  });

  it("key syntax printers('x') is routed like printers/x", async () => {
    const id = randomUUID();
    const a = await rawFetch(url(ctx, `/v1.0/print/printers/${id}`), { token: ctx.admin });
    const b = await rawFetch(url(ctx, `/v1.0/print/printers('${id}')`), { token: ctx.admin });
    // No printer exists yet, so both forms end in the same 404 envelope; once printers can be
    // created, the printer tests check that both forms reach the same printer.
    assertErrorEnvelope(a, { status: 404, code: "itemNotFound" });
    assertErrorEnvelope(b, { status: 404, code: "itemNotFound" });
  });
});

// -----------------------------------------------------------------------------------------------

describe("request bodies (PATCH /v1.0/print)", () => {
  const ctx = withServer();

  it("400 invalidRequest for malformed JSON, with line and column", async () => {
    const res = await patchPrint(ctx, '{\n  "settings": {"documentConversionEnabled": tru }\n}');
    const err = assertErrorEnvelope(res, { status: 400, code: "invalidRequest" });
    assert.match(err.message, /line\D{0,4}2\b/i, err.message);
    assert.match(err.message, /col(umn)?\b/i, err.message);
  });

  it("400 invalidRequest for duplicate keys", async () => {
    const res = await patchPrint(ctx, '{"settings":{"documentConversionEnabled":true,"documentConversionEnabled":false}}');
    const err = assertErrorEnvelope(res, { status: 400, code: "invalidRequest" });
    assert.match(err.message, /duplicate/i, err.message);
  });

  it("400 invalidRequest for invalid UTF-8", async () => {
    const body = Buffer.concat([
      Buffer.from('{"@odata.type":"#microsoft.graph.print'), Buffer.from([0xff, 0xfe]),
      Buffer.from('","settings":{"documentConversionEnabled":true}}'),
    ]);
    assertErrorEnvelope(await patchPrint(ctx, body), { status: 400, code: "invalidRequest" });
  });

  it("400 invalidRequest for nesting deeper than 64", async () => {
    const depth = 70;
    const body = `{"settings":{"documentConversionEnabled":true},"@odata.type":"#microsoft.graph.print","x":${"[".repeat(depth)}${"]".repeat(depth)}}`;
    const err = assertErrorEnvelope(await patchPrint(ctx, body), { status: 400, code: "invalidRequest" });
    assert.match(err.message, /depth|nest|deep/i, err.message);
  });

  it("400 invalidRequest naming settings/documentConversionEnabled for a wrong type", async () => {
    const res = await patchPrint(ctx, JSON.stringify({ settings: { documentConversionEnabled: "yes" } }));
    const err = assertErrorEnvelope(res, { status: 400, code: "invalidRequest" });
    assert.match(err.message, /settings[/.]documentConversionEnabled/, err.message);
  });

  it("400 invalidRequest naming an unknown property", async () => {
    let res = await patchPrint(ctx, JSON.stringify({ settings: { documentConversionEnabled: true, paperSaver: true } }));
    let err = assertErrorEnvelope(res, { status: 400, code: "invalidRequest" });
    assert.match(err.message, /paperSaver/, err.message);
    res = await patchPrint(ctx, JSON.stringify({ bogusTopLevel: 1 }));
    err = assertErrorEnvelope(res, { status: 400, code: "invalidRequest" });
    assert.match(err.message, /bogusTopLevel/, err.message);
  });

  it("a rejected body changes nothing", async () => {
    assert.equal((await patchPrint(ctx, JSON.stringify({ settings: { documentConversionEnabled: true } }))).status, 204);
    await patchPrint(ctx, JSON.stringify({ settings: { documentConversionEnabled: false, paperSaver: true } }));
    const got = await rawFetch(url(ctx, "/v1.0/print"), { token: ctx.read });
    assert.equal(got.json.settings.documentConversionEnabled, true);
  });

  it("@odata.type instance annotations are accepted", async () => {
    const res = await patchPrint(ctx, JSON.stringify({
      "@odata.type": "#microsoft.graph.print",
      settings: { "@odata.type": "#microsoft.graph.printSettings", documentConversionEnabled: false },
    }));
    assert.equal(res.status, 204, res.text);
    const got = await rawFetch(url(ctx, "/v1.0/print"), { token: ctx.read });
    assert.equal(got.json.settings.documentConversionEnabled, false);
  });

  it("Kiota's serialization (with odataType set) is accepted", async () => {
    const client = kiotaClient({ origin: ctx.srv.origin, version: "v1.0", token: ctx.write });
    const r = await kiotaWithStatus((cfg) => client.print.patch({
      odataType: "#microsoft.graph.print",
      settings: { odataType: "#microsoft.graph.printSettings", documentConversionEnabled: true },
    }, cfg));
    assert.equal(r.status, 204, r.text);
  });

  it("415 for Content-Type text/plain", async () => {
    const res = await patchPrint(ctx, JSON.stringify({ settings: { documentConversionEnabled: true } }), {
      headers: { "content-type": "text/plain" },
    });
    assertErrorEnvelope(res, { status: 415 });
  });
});

// -----------------------------------------------------------------------------------------------

describe("--max-body", () => {
  const ctx = withServer({ args: ["--max-body", "1024"] });
  // A syntactically valid PATCH body of exactly `n` bytes.
  const bodyOf = (n) => {
    const head = '{"settings":{"documentConversionEnabled":true},"@odata.type":"#microsoft.graph.print';
    const tail = '"}';
    return head + " ".repeat(n - head.length - tail.length) + tail;
  };

  it("a body under the limit is accepted", async () => {
    const res = await patchPrint(ctx, bodyOf(512));
    assert.equal(res.status, 204, res.text);
  });

  it("413 for a 4096-byte body with Content-Length", async () => {
    const body = bodyOf(4096);
    assert.equal(Buffer.byteLength(body), 4096);
    const res = await rawHttp(url(ctx, "/v1.0/print"), {
      method: "PATCH", token: ctx.write, headers: { "content-type": "application/json" }, body,
    });
    assertErrorEnvelope(res, { status: 413 });
  });

  it("413 for a 4096-byte chunked body without Content-Length", async () => {
    const body = bodyOf(4096);
    const chunks = [0, 1, 2, 3].map((i) => body.slice(i * 1024, (i + 1) * 1024));
    const res = await rawHttp(url(ctx, "/v1.0/print"), {
      method: "PATCH", token: ctx.write, headers: { "content-type": "application/json" }, chunks,
    });
    assertErrorEnvelope(res, { status: 413 });
  });

  it("the server still answers after refusing large bodies", async () => {
    const res = await rawFetch(url(ctx, "/v1.0/print"), { token: ctx.read });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.settings.documentConversionEnabled, true);
  });
});

describe("--public-url", () => {
  // a URL nothing listens on: the server is reached on its listen address (ctx.srv.origin)
  const PUBLIC = "https://print.contoso.test:8443";
  const ctx = withServer({ publicUrl: PUBLIC });

  it("the absolute URLs the server emits are on it, not on the listen address", async () => {
    for (const v of ["v1.0", "beta"]) {
      const r = await rawFetch(url(ctx, `/${v}/print`), { token: ctx.read });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json["@odata.context"], `${PUBLIC}/${v}/$metadata#print`);
    }
  });
});

// -----------------------------------------------------------------------------------------------

describe("authentication and service endpoints", () => {
  const ctx = withServer();

  it("401 unauthenticated with WWW-Authenticate: Bearer without a token", async () => {
    for (const p of ["/v1.0/print", "/beta/print"]) {
      const res = await rawFetch(url(ctx, p));
      assertErrorEnvelope(res, { status: 401, code: "unauthenticated" });
      assert.match(res.headers.get("www-authenticate") || "", /^Bearer\b/i);
    }
  });

  it("401 for a token that is not a valid JWT of a trusted issuer", async () => {
    for (const token of ["not-a-jwt", "eyJhbGciOiJub25lIn0.eyJ0aWQiOiJ4In0."]) {
      const res = await rawFetch(url(ctx, "/v1.0/print"), { token });
      assertErrorEnvelope(res, { status: 401, code: "unauthenticated" });
      assert.match(res.headers.get("www-authenticate") || "", /^Bearer\b/i);
    }
  });

  it("Kiota without a token reports 401 unauthenticated", async () => {
    const client = kiotaClient({ origin: ctx.srv.origin, token: "" });
    await expectKiotaError(client.print.get(), { status: 401, code: "unauthenticated" });
  });

  it("GET /healthz, /readyz: 200 without auth", async () => {
    for (const p of ["/healthz", "/readyz"]) {
      const res = await rawFetch(url(ctx, p));
      assert.equal(res.status, 200, `${p}: ${res.text}`);
    }
  });

  it("GET /metrics: 200 text/plain with spoold_http_requests_total", async () => {
    await rawFetch(url(ctx, "/v1.0/print"), { token: ctx.read });   // at least one counted request
    const res = await rawFetch(url(ctx, "/metrics"));
    assert.equal(res.status, 200, res.text);
    assert.match(res.contentType, /^text\/plain\b/i);
    assert.match(res.text, /^spoold_http_requests_total\b/m);
  });
});

// -----------------------------------------------------------------------------------------------

describe("TLS with the v3 client (microsoft-graph-client 3.0.7)", () => {
  const ctx = withServer({ tls: true });
  const v3 = (token, version = "beta") => v3Client({ origin: ctx.srv.origin, version, token, ca: ctx.srv.ca });

  it("the server announces https and uses it in --public-url auto", () => {
    assert.equal(ctx.srv.scheme, "https");
    assert.match(ctx.srv.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it("GET /print (beta and v1.0)", async () => {
    const beta = await v3(ctx.read).api("/print").get();
    assert.equal(beta["@odata.context"], `${ctx.srv.url}/beta/$metadata#print`);
    assert.equal(typeof beta.settings.documentConversionEnabled, "boolean");
    const v1 = await v3(ctx.read, "v1.0").api("/print").get();
    assert.equal(v1["@odata.context"], `${ctx.srv.url}/v1.0/$metadata#print`);
  });

  it("PATCH /print resolves (204) and GET shows the value", async () => {
    assert.equal(await v3(ctx.write).api("/print").patch({ settings: { documentConversionEnabled: false } }), undefined);
    assert.equal((await v3(ctx.read).api("/print").get()).settings.documentConversionEnabled, false);
    assert.equal(await v3(ctx.write).api("/print").patch({ settings: { documentConversionEnabled: true } }), undefined);
    assert.equal((await v3(ctx.read).api("/print").get()).settings.documentConversionEnabled, true);
  });

  it("GraphError: statusCode, code, message, requestId, date; the automatic client-request-id is echoed", async () => {
    const { error, body } = await expectGraphError(v3(ctx.admin).api("/print/nothing").get(), { status: 404, code: "itemNotFound" });
    const sent = error.headers.get("client-request-id");
    assert.match(sent || "", GUID, "the v3 client's own client-request-id comes back in the header");
    assert.equal(body.innerError["client-request-id"], sent, "and in innerError");
    assert.notEqual(sent, error.requestId);
  });

  it("an explicit client-request-id set on the v3 request is echoed", async () => {
    const id = newClientRequestId();
    const { error, body } = await expectGraphError(
      v3(ctx.admin).api("/print/nothing").header("client-request-id", id).get(), { status: 404, code: "itemNotFound" });
    assert.equal(error.headers.get("client-request-id"), id);
    assert.equal(body.innerError["client-request-id"], id);
  });

  it("401 through the v3 client without a valid token", async () => {
    await expectGraphError(v3("not-a-jwt").api("/print").get(), { status: 401, code: "unauthenticated" });
  });

  it("Kiota over https as well", async () => {
    const client = kiotaClient({ origin: ctx.srv.origin, token: ctx.read, ca: ctx.srv.ca });
    const print = await client.print.get();
    assert.equal(typeof print.settings.documentConversionEnabled, "boolean");
  });
});
