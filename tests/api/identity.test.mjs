// SPDX-License-Identifier: Apache-2.0
// Identity (issue 3): bearer tokens from a trusted non-development issuer (RS256 and ES256 keys
// made and JWTs signed here with node:crypto), every 401 as the Graph clients see it (status,
// code, message, WWW-Authenticate), JWKS rotation (file check and SIGHUP), the same request
// allowed and refused by scope / application role / admin role / token type / tenant /
// subscription state, development-mode tenants, and the `spoold token` command line.
//
// Servers here run WITHOUT --dev unless said otherwise:
//   spoold serve --issuer https://login.example.test/TID/v2.0 --jwks FILE --audience https://graph.microsoft.com
// and their tenants are added with `spoold tenant add TID --data DIR` before they start.
// Every token is minted fresh for its case (each carries a random uti), because spoold caches
// verified tokens by their text until they expire. Every spawned server is stopped by PID.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID, randomBytes, sign as cryptoSign, generateKeyPairSync } from "node:crypto";
import http from "node:http";
import { rm, readdir } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startServer, makeTempDir } from "./lib/server.mjs";
import { kiotaClient, v3Client, kiotaWithStatus, rawFetch, closeAgents } from "./lib/clients.mjs";
import { assertErrorEnvelope, expectKiotaError, expectGraphError } from "./lib/graph-assert.mjs";
import { TestIssuer, signJwt, decodeJwt, b64url, nowS, PRINTER_ADMIN, GLOBAL_ADMIN, GRAPH_AUDIENCE } from "./lib/jwt.mjs";
import { spooldCli, tenantCmd } from "./lib/cli.mjs";
import { PRINTER_MANAGEMENT_SCOPES, registerPrinter, createShare, createJob } from "./lib/fixtures.mjs";

after(() => closeAgents());

const READ = "PrintSettings.Read.All";
const WRITE = "PrintSettings.Read.All PrintSettings.ReadWrite.All";
const REPORTS_READER = "4a5d8f65-41da-4de4-8968-e035b65339cf";
const GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000";
const issuerFor = (tid) => `https://login.example.test/${tid}/v2.0`;

// ---- helpers ----------------------------------------------------------------------------------

// A header of a Kiota error: Kiota splits header values on commas, so the parts are re-joined.
function kiotaHeader(e, name) {
  const h = e.responseHeaders || {};
  const key = Object.keys(h).find((k) => k.toLowerCase() === name.toLowerCase());
  if (!key) return undefined;
  return Array.isArray(h[key]) ? h[key].join(",") : String(h[key]);
}

// WWW-Authenticate of a refused request:
//   refused token: Bearer realm="spoold", error="invalid_token", error_description="<why>"
//   no token:      Bearer realm="spoold"          (no error attribute, RFC 6750 §3.1)
function assertWwwAuthenticate(value, { invalidToken, description }) {
  assert.ok(value, "WWW-Authenticate is present");
  assert.match(value, /^Bearer realm="spoold"/, `WWW-Authenticate: ${value}`);
  if (invalidToken) {
    assert.match(value, /, error="invalid_token"/, `WWW-Authenticate: ${value}`);
    const m = /error_description="([^"\\]*)"/.exec(value);
    assert.ok(m, `error_description present: ${value}`);
    if (description) assert.match(m[1], description, `error_description: ${value}`);
  } else {
    assert.doesNotMatch(value, /error=/, `no error attribute without a token: ${value}`);
  }
}

// GET /print through Kiota must fail with 401; checks code, message and WWW-Authenticate.
async function expect401Kiota(origin, token, why, { version = "beta", invalidToken = true } = {}) {
  const client = kiotaClient({ origin, version, token });
  const e = await expectKiotaError(client.print.get(), { status: 401, code: "unauthenticated" });
  assert.match(e.errorEscaped.message, /^Authentication failed: /, e.errorEscaped.message);
  assert.match(e.errorEscaped.message, why, e.errorEscaped.message);
  assertWwwAuthenticate(kiotaHeader(e, "www-authenticate"), { invalidToken, description: invalidToken ? why : undefined });
  return e;
}

// The same through the v3 client (https).
async function expect401V3(srv, token, why) {
  const { error } = await expectGraphError(
    v3Client({ origin: srv.origin, token, ca: srv.ca }).api("/print").get(), { status: 401, code: "unauthenticated" });
  assert.match(error.message, /^Authentication failed: /, error.message);
  assert.match(error.message, why, error.message);
  assertWwwAuthenticate(error.headers.get("www-authenticate"), { invalidToken: true, description: why });
  return error;
}

// A Kiota call that must fail with 403 accessDenied whose message matches every regex given.
async function expect403Kiota(promise, ...messages) {
  const e = await expectKiotaError(promise, { status: 403, code: "accessDenied" });
  for (const m of messages) assert.match(e.errorEscaped.message, m, e.errorEscaped.message);
  return e;
}

// Polls `fn` (resolving a status) until it returns `want`; resolves the elapsed ms. Fails after
// limitMs with the last status seen.
async function pollStatus(fn, want, { limitMs = 8000, everyMs = 200, what = "" } = {}) {
  const t0 = Date.now();
  let last;
  for (;;) {
    last = await fn();
    if (last === want) return Date.now() - t0;
    if (Date.now() - t0 > limitMs) assert.fail(`${what}: still ${last} after ${limitMs} ms (wanted ${want})`);
    await sleep(everyMs);
  }
}

// A non-development spoold trusting `issuers` ([{ issuer: TestIssuer, jwks: FILE, audience }]),
// with `tenants` added (active) before it starts. The data directory is ours: removed in stop().
async function startTrustingServer({ issuers, tenants = [], suspended = [], tls = false } = {}) {
  const dir = await makeTempDir("spoold-identity-");
  for (const tid of tenants) await tenantCmd("add", tid, dir, ["--name", `tenant ${tid}`]);
  for (const tid of suspended) await tenantCmd("add", tid, dir, ["--suspended"]);
  const args = [];
  for (const i of issuers) {
    if (!i.jwks) {
      i.jwks = path.join(dir, `jwks-${args.length}.json`);
      await i.issuer.writeJwks(i.jwks, i.doc);
    }
    args.push("--issuer", i.issuer.iss, "--jwks", i.jwks, "--audience", i.audience || GRAPH_AUDIENCE);
  }
  let srv;
  try {
    srv = await startServer({ dataDir: dir, dev: false, tls, args });
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const stop = srv.stop.bind(srv);
  srv.stop = async (o) => {
    try { return await stop(o); } finally {
      if (process.env.SPOOLD_KEEP_DATA !== "1") await rm(dir, { recursive: true, force: true });
    }
  };
  return srv;
}

// True when the running server has a route for method+path (another issue may add it later):
// an unknown path is answered 404 "No resource matches the path ..." before any auth step.
async function hasRoute(srv, method, p, token) {
  const res = await rawFetch(`${srv.origin}${p}`, { method, token, ca: srv.ca, json: method === "POST" ? {} : undefined });
  return !(res.status === 404 && /No resource matches the path/.test(res.json?.error?.message || ""));
}

const PRINTER_ADMIN_SCOPES = PRINTER_MANAGEMENT_SCOPES.join(" ");

// =================================================================================================

describe("trusted non-dev issuer: accepted tokens and every 401 through Kiota (http)", () => {
  const TID = randomUUID();
  const issuer = new TestIssuer({ iss: issuerFor(TID) });
  const rogue = new TestIssuer({ iss: issuer.iss });   // same iss and kids, keys nobody trusts
  const hmacSecret = randomBytes(32);
  let srv, rsa, ec;

  before(async () => {
    rsa = issuer.addKey("RS256");
    ec = issuer.addKey("ES256");
    rogue.addKey("RS256", rsa.kid);
    rogue.addKey("ES256", ec.kid);
    // An HMAC (oct) key in the JWKS must never verify anything.
    const doc = issuer.jwks();
    doc.keys.push({ kty: "oct", kid: "hmac-1", k: b64url(hmacSecret), alg: "HS256", use: "sig" });
    srv = await startTrustingServer({ issuers: [{ issuer, doc }], tenants: [TID] });
  });
  after(async () => { if (srv) await srv.stop(); });

  const user = (claims = {}, opts) => issuer.userToken({ tid: TID, scopes: READ, admin: true, ...claims }, opts);

  it("the server runs without the development identity", () => {
    assert.ok(!srv.argv.includes("--dev"), srv.argv.join(" "));
    assert.match(srv.output, /signing keys? for issuer https:\/\/login\.example\.test\//);
  });

  it("RS256 and ES256 tokens of the trusted issuer are accepted (200)", async () => {
    for (const kid of [rsa.kid, ec.kid]) {
      const client = kiotaClient({ origin: srv.origin, token: user({}, { kid }) });
      const print = await client.print.get();
      assert.equal(typeof print.settings?.documentConversionEnabled, "boolean", kid);
      const r = await kiotaWithStatus((cfg) => client.print.get(cfg));
      assert.equal(r.status, 200, `${kid}: ${r.text}`);
    }
  });

  it("the ES256 signature is the raw 64-byte r||s, and the v1.0 prefix works too", async () => {
    const t = user({}, { kid: ec.kid });
    assert.equal(decodeJwt(t).signature.length, 64);
    const print = await kiotaClient({ origin: srv.origin, version: "v1.0", token: t }).print.get();
    assert.equal(print.additionalData?.["@odata.context"], `${srv.url}/v1.0/$metadata#print`);
  });

  it("exp and nbf have a 60 s skew: 30 s past exp and 30 s before nbf are still accepted", async () => {
    const now = nowS();
    for (const t of [
      user({ iat: now - 3630, nbf: now - 3630, exp: now - 30 }),
      user({ iat: now, nbf: now + 30, exp: now + 3600 }, { kid: ec.kid }),
    ]) {
      const r = await rawFetch(`${srv.origin}/v1.0/print`, { token: t });
      assert.equal(r.status, 200, r.text);
    }
  });

  it("aud may be an array holding the accepted audience", async () => {
    const r = await rawFetch(`${srv.origin}/v1.0/print`, { token: user({ aud: ["api://other", GRAPH_AUDIENCE] }) });
    assert.equal(r.status, 200, r.text);
  });

  it("401 without a token: WWW-Authenticate Bearer realm, no error attribute", async () => {
    await expect401Kiota(srv.origin, "", /no bearer token/, { invalidToken: false });
    await expect401Kiota(srv.origin, "", /no bearer token/, { invalidToken: false, version: "v1.0" });
    // another scheme is "no bearer token" as well
    const res = await rawFetch(`${srv.origin}/v1.0/print`, { headers: { authorization: "Basic dXNlcjpwYXNz" } });
    const err = assertErrorEnvelope(res, { status: 401, code: "unauthenticated" });
    assert.match(err.message, /no bearer token/);
    assertWwwAuthenticate(res.headers.get("www-authenticate"), { invalidToken: false });
  });

  it("401 for malformed tokens", async () => {
    await expect401Kiota(srv.origin, "not-a-jwt", /token is malformed: expected three base64url parts/);
    await expect401Kiota(srv.origin, "abc.def.ghi", /token is malformed: the header is not a base64url JSON object/);
    const [h, , s] = user().split(".");
    await expect401Kiota(srv.origin, `${h}.${b64url("[1,2]")}.${s}`, /token is malformed: the payload is not a base64url JSON object/);
    await expect401Kiota(srv.origin, `${h}.${b64url("{}")}.${s}.x`, /token is malformed: expected three base64url parts/);
    const noKid = signJwt({ alg: "RS256", typ: "JWT" }, { ...issuer.base(), tid: TID }, { key: rsa.privateKey });
    await expect401Kiota(srv.origin, noKid, /token is malformed: the header has no kid/);
  });

  it("401 for a bad signature (RS256 and ES256; other key, tampered payload, truncated)", async () => {
    // signed by keys with the trusted kids but not the trusted keys
    await expect401Kiota(srv.origin, rogue.userToken({ tid: TID, scopes: READ, admin: true }, { kid: rsa.kid }), /signature is invalid/);
    await expect401Kiota(srv.origin, rogue.userToken({ tid: TID, scopes: READ, admin: true }, { kid: ec.kid }), /signature is invalid/);
    // a trusted signature over a payload that was changed afterwards (scopes widened)
    const [h, p, s] = user({ scp: READ }).split(".");
    const widened = { ...JSON.parse(Buffer.from(p, "base64url")), scp: `${WRITE} Printer.FullControl.All` };
    await expect401Kiota(srv.origin, `${h}.${b64url(JSON.stringify(widened))}.${s}`, /signature is invalid/);
    // an ES256 signature cut short, and one in DER instead of r||s
    const t = user({}, { kid: ec.kid });
    await expect401Kiota(srv.origin, t.slice(0, t.length - 10), /signature is invalid/);
    const [eh, ep] = t.split(".");
    const derSig = cryptoSign("sha256", Buffer.from(`${eh}.${ep}`), ec.privateKey);   // DER, the node default
    assert.notEqual(derSig.length, 64);
    await expect401Kiota(srv.origin, `${eh}.${ep}.${derSig.toString("base64url")}`, /signature is invalid/);
  });

  it("401 for alg none (with and without a signature)", async () => {
    const payload = { ...issuer.base(), tid: TID, oid: randomUUID(), scp: READ, wids: [PRINTER_ADMIN] };
    const none = signJwt({ alg: "none", typ: "JWT", kid: rsa.kid }, payload);
    assert.ok(none.endsWith("."), "an unsigned JWT ends with an empty signature");
    await expect401Kiota(srv.origin, none, /algorithm none is not allowed/);
    await expect401Kiota(srv.origin, `${none}c2ln`, /algorithm none is not allowed/);
  });

  it("401 for HS256 signed with the RSA public key (PEM) as the HMAC secret", async () => {
    const payload = { ...issuer.base(), tid: TID, oid: randomUUID(), scp: READ, wids: [PRINTER_ADMIN] };
    const confused = signJwt({ alg: "HS256", typ: "JWT", kid: rsa.kid }, payload, { secret: rsa.publicPem });
    await expect401Kiota(srv.origin, confused, /algorithm HS256 is not allowed/);
    // and with the kid and secret of the oct key in the JWKS: symmetric keys never verify
    const oct = signJwt({ alg: "HS256", typ: "JWT", kid: "hmac-1" }, { ...payload, uti: randomUUID() }, { secret: hmacSecret });
    await expect401Kiota(srv.origin, oct, /algorithm HS256 is not allowed/);
  });

  it("401 when the header alg is not the algorithm pinned to the key", async () => {
    // an ES256 signature (by the trusted EC key) presented under the RSA key's kid
    const payload = { ...issuer.base(), tid: TID, oid: randomUUID(), scp: READ };
    const t = signJwt({ alg: "ES256", typ: "JWT", kid: rsa.kid }, payload, { key: ec.privateKey });
    await expect401Kiota(srv.origin, t, new RegExp(`algorithm ES256 is not allowed for signing key ${rsa.kid} \\(pinned to RS256\\)`));
  });

  it("401 for an unknown kid, naming it", async () => {
    const stranger = new TestIssuer({ iss: issuer.iss });
    const k = stranger.addKey("RS256", "kid-nobody-knows");
    await expect401Kiota(srv.origin, stranger.userToken({ tid: TID, scopes: READ, admin: true }, { kid: k.kid }), /unknown signing key kid kid-nobody-knows/);
  });

  it("401 for an expired token and for one not yet valid", async () => {
    const now = nowS();
    await expect401Kiota(srv.origin, user({ iat: now - 7200, nbf: now - 7200, exp: now - 3600 }), /token has expired/);
    await expect401Kiota(srv.origin, user({ iat: now - 200, nbf: now - 200, exp: now - 61 }, { kid: ec.kid }), /token has expired/);
    await expect401Kiota(srv.origin, user({ iat: now, nbf: now + 3600, exp: now + 7200 }), /token is not yet valid/);
    await expect401Kiota(srv.origin, user({ exp: undefined }), /token has no exp claim/);
  });

  it("401 for a wrong iss, naming it (long token text is cut short)", async () => {
    await expect401Kiota(srv.origin, user({ iss: "https://login.example.test/other/v2.0" }), /issuer https:\/\/login\.example\.test\/other\/v2\.0 is not trusted/);
    // the trusted issuer with another tenant in it is another issuer
    const other = issuerFor(randomUUID());
    await expect401Kiota(srv.origin, user({ iss: other }), new RegExp(`issuer ${other.slice(0, 64).replace(/[./]/g, "\\$&")}\\.\\.\\. is not trusted`));
    // quotes and control characters from the token never reach the header unescaped
    const e = await expect401Kiota(srv.origin, user({ iss: 'https://x.test/"a\\b\n' }), /issuer https:\/\/x\.test\/\?a\?b\? is not trusted/);
    assert.doesNotMatch(kiotaHeader(e, "www-authenticate"), /[\\\n]|"a/);
    await expect401Kiota(srv.origin, user({ iss: undefined }), /token has no iss claim/);
  });

  it("401 for a wrong aud, naming it", async () => {
    await expect401Kiota(srv.origin, user({ aud: "api://someone-else" }), /audience api:\/\/someone-else is not accepted/);
    // only the configured audience: Graph's app id is not implied when --audience is given
    await expect401Kiota(srv.origin, user({ aud: GRAPH_APP_ID }), new RegExp(`audience ${GRAPH_APP_ID} is not accepted`));
    await expect401Kiota(srv.origin, user({ aud: undefined }), /token has no aud claim/);
  });

  it("401 for a token without tid (and without the claims its kind needs)", async () => {
    await expect401Kiota(srv.origin, user({ tid: undefined }), /token has no tid claim/);
    await expect401Kiota(srv.origin, issuer.appToken({ tid: undefined, roles: "Printer.Read.All" }), /token has no tid claim/);
    await expect401Kiota(srv.origin, user({ oid: undefined }), /token has no oid claim/);
    await expect401Kiota(srv.origin, issuer.appToken({ tid: TID, roles: "Printer.Read.All", appid: undefined }), /token has no appid or azp claim/);
  });

  it("401 for a development token (spoold-dev is not trusted without --dev)", async () => {
    const dir = await makeTempDir("spoold-identity-dev-");
    try {
      const r = await spooldCli(["token", "--data", dir, "--tenant", TID, "--app", randomUUID(), "--user", randomUUID(), "--scopes", READ, "--admin"]);
      assert.equal(r.code, 0, r.stderr);
      await expect401Kiota(srv.origin, r.stdout.trim(), /issuer spoold-dev is not trusted/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refusals are not cached: a refused request followed by a good token is accepted", async () => {
    await expect401Kiota(srv.origin, user({ aud: "api://nope" }), /audience api:\/\/nope is not accepted/);
    const r = await rawFetch(`${srv.origin}/v1.0/print`, { token: user() });
    assert.equal(r.status, 200, r.text);
  });

  it("403 (not 401) for a valid token of a tenant that has no subscription here", async () => {
    const e = await expect403Kiota(kiotaClient({ origin: srv.origin, token: issuer.userToken({ tid: randomUUID(), scopes: READ, admin: true }) }).print.get(),
      /the tenant has no Universal Print subscription on this server/);
    assert.equal(kiotaHeader(e, "www-authenticate"), undefined, "a 403 carries no WWW-Authenticate challenge");
  });
});

// =================================================================================================

describe("token attack matrix (issue 11) on a server without --dev", () => {
  // What the suite above does not already cover: a stripped signature, jku/x5u/jwk headers
  // (ignored, never fetched), duplicate claims or header members, and the literal {tenantid}
  // template of a configured issuer. Each is a 401 with the Graph envelope and
  // WWW-Authenticate: Bearer (expect401Kiota).
  const TID = randomUUID();
  const TEMPLATE = "https://login.multi.test/{tenantid}/v2.0";
  const multiFor = (tid) => TEMPLATE.replace("{tenantid}", tid);
  const issuer = new TestIssuer({ iss: issuerFor(TID) });
  const multi = new TestIssuer({ iss: TEMPLATE });   // the template, with its own keys
  let srv, rsa, ec, mkey, lure;
  const fetched = [];

  before(async () => {
    rsa = issuer.addKey("RS256");
    ec = issuer.addKey("ES256");
    mkey = multi.addKey("RS256");
    // a key server an attacker would point jku/x5u at: it records every request it gets
    lure = http.createServer((req, res) => {
      fetched.push(`${req.method} ${req.url}`);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keys: [] }));
    });
    await new Promise((resolve) => lure.listen(0, "127.0.0.1", resolve));
    srv = await startTrustingServer({ issuers: [{ issuer }, { issuer: multi }], tenants: [TID] });
  });
  after(async () => {
    if (srv) await srv.stop();
    if (lure) await new Promise((resolve) => lure.close(resolve));
  });

  const user = (claims = {}, opts) => issuer.userToken({ tid: TID, scopes: READ, admin: true, ...claims }, opts);
  const lureUrl = () => `http://127.0.0.1:${lure.address().port}/keys`;
  const ok = async (token, what) => {
    const r = await rawFetch(`${srv.origin}/v1.0/print`, { token });
    assert.equal(r.status, 200, `${what}: ${r.text}`);
  };

  it("the server runs without --dev and trusts the template issuer", () => {
    assert.ok(!srv.argv.includes("--dev"), srv.argv.join(" "));
    assert.ok(srv.argv.includes(TEMPLATE), srv.argv.join(" "));
  });

  it("a stripped signature (empty, or the third part left out): 401", async () => {
    const [h, p] = user().split(".");
    await expect401Kiota(srv.origin, `${h}.${p}.`, /signature is invalid/);
    await expect401Kiota(srv.origin, `${h}.${p}`, /token is malformed: expected three base64url parts/);
    const [eh, ep] = user({}, { kid: ec.kid }).split(".");
    await expect401Kiota(srv.origin, `${eh}.${ep}.`, /signature is invalid/);
  });

  it("jku, x5u and jwk headers are ignored and never fetched", async () => {
    // an attacker's own key, offered in the header three ways
    const evil = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const jwk = { ...evil.publicKey.export({ format: "jwk" }), kid: "evil-1", alg: "RS256" };
    const payload = () => ({ ...issuer.base(), tid: TID, oid: randomUUID(), scp: READ, wids: [PRINTER_ADMIN] });
    const headers = [
      { jku: lureUrl() }, { x5u: lureUrl() }, { jwk }, { jku: lureUrl(), x5u: lureUrl(), jwk },
    ];
    for (const extra of headers) {
      const what = Object.keys(extra).join("+");
      // signed by the attacker under its own kid: the kid is unknown, the header keys unused
      const own = signJwt({ alg: "RS256", typ: "JWT", kid: "evil-1", ...extra }, payload(), { key: evil.privateKey });
      await expect401Kiota(srv.origin, own, /unknown signing key kid evil-1/);
      // signed by the attacker under the trusted kid: the trusted key checks it, and refuses it
      const borrowed = signJwt({ alg: "RS256", typ: "JWT", kid: rsa.kid, ...extra }, payload(), { key: evil.privateKey });
      await expect401Kiota(srv.origin, borrowed, /signature is invalid/);
      // a genuine token carrying the same headers is verified with the configured key alone
      await ok(user({}, { header: extra }), `trusted token with ${what}`);
    }
    await sleep(200);
    assert.deepEqual(fetched, [], "nothing was fetched from the jku/x5u URL");
  });

  it("duplicate claims or header members (signed by the trusted key): 401", async () => {
    const base = { ...issuer.base(), oid: randomUUID(), scp: READ, wids: [PRINTER_ADMIN] };
    const body = JSON.stringify(base).slice(1, -1);
    // a second tid, a second scp (widening), a second iss (an untrusted one first)
    const cases = [
      `{${body},"tid":"${TID}","tid":"${randomUUID()}"}`,
      `{${body},"tid":"${TID}","scp":"${WRITE} Printer.FullControl.All"}`,
      `{"iss":"https://evil.test/","tid":"${TID}",${body}}`,
    ];
    for (const text of cases) await expect401Kiota(srv.origin, issuer.tokenFromText(text), /token is malformed: the payload is not a base64url JSON object/);
    // the same in the header: a second alg after the real one
    const h = `{"alg":"RS256","typ":"JWT","kid":"${rsa.kid}","alg":"none"}`;
    const t = signJwt(h, { ...base, tid: TID }, { key: rsa.privateKey, alg: "RS256" });
    await expect401Kiota(srv.origin, t, /token is malformed: the header is not a base64url JSON object/);
    // and a well-formed one of the same claims is accepted (the refusals are the duplicates)
    await ok(issuer.tokenFromText(JSON.stringify({ ...base, tid: TID })), "no duplicates");
  });

  it("the literal {tenantid} issuer of a configured template: 401; the tenant's own issuer: 200", async () => {
    const claims = { tid: TID, scopes: READ, admin: true };
    // before the fix this answered 200: the exact-match lookup ran before the tenant binding
    await expect401Kiota(srv.origin, multi.userToken({ ...claims, iss: TEMPLATE }), /issuer https:\/\/login\.multi\.test\/\{tenantid\}\/v2\.0 is not trusted/);
    await expect401Kiota(srv.origin, multi.appToken({ tid: TID, roles: "Printer.Read.All", iss: TEMPLATE }), /is not trusted/);
    await ok(multi.userToken({ ...claims, iss: multiFor(TID) }), "substituted template");
    // a substituted tenant that is not the token's tid
    await expect401Kiota(srv.origin, multi.userToken({ ...claims, iss: multiFor(randomUUID()) }), /does not match the token's tid/);
  });
});

// =================================================================================================

describe("trusted non-dev issuer over https with the v3 client", () => {
  const TID = randomUUID();
  const issuer = new TestIssuer({ iss: issuerFor(TID) });
  let srv, rsa, ec;

  before(async () => {
    rsa = issuer.addKey("RS256");
    ec = issuer.addKey("ES256");
    // two audiences, comma-separated
    srv = await startTrustingServer({ issuers: [{ issuer, audience: `${GRAPH_AUDIENCE},${GRAPH_APP_ID}` }], tenants: [TID], tls: true });
  });
  after(async () => { if (srv) await srv.stop(); });

  const user = (claims = {}, opts) => issuer.userToken({ tid: TID, scopes: WRITE, admin: true, ...claims }, opts);
  const v3 = (token, version = "beta") => v3Client({ origin: srv.origin, version, token, ca: srv.ca });

  it("RS256 and ES256 tokens are accepted; GET and PATCH /print (both audiences)", async () => {
    assert.equal(srv.scheme, "https");
    const got = await v3(user({}, { kid: rsa.kid })).api("/print").get();
    assert.equal(got["@odata.context"], `${srv.url}/beta/$metadata#print`);
    assert.equal(await v3(user({ aud: GRAPH_APP_ID }, { kid: ec.kid }), "v1.0").api("/print").patch({ settings: { documentConversionEnabled: false } }), undefined);
    assert.equal((await v3(user()).api("/print").get()).settings.documentConversionEnabled, false);
  });

  it("401 GraphError with WWW-Authenticate for refused tokens", async () => {
    const now = nowS();
    const payload = { ...issuer.base(), tid: TID, oid: randomUUID(), scp: READ, wids: [PRINTER_ADMIN] };
    await expect401V3(srv, "not-a-jwt", /token is malformed/);
    await expect401V3(srv, user({ iat: now - 7200, nbf: now - 7200, exp: now - 3600 }), /token has expired/);
    await expect401V3(srv, user({ nbf: now + 3600, exp: now + 7200 }, { kid: ec.kid }), /token is not yet valid/);
    await expect401V3(srv, signJwt({ alg: "none", kid: rsa.kid }, payload), /algorithm none is not allowed/);
    await expect401V3(srv, signJwt({ alg: "HS256", kid: rsa.kid }, payload, { secret: rsa.publicPem }), /algorithm HS256 is not allowed/);
    const rogue = new TestIssuer({ iss: issuer.iss });
    rogue.addKey("ES256", ec.kid);
    await expect401V3(srv, rogue.userToken({ tid: TID, scopes: READ }), /signature is invalid/);
    await expect401V3(srv, user({ aud: "api://wrong" }), /audience api:\/\/wrong is not accepted/);
    await expect401V3(srv, user({ iss: "https://evil.example.test/v2.0" }), /issuer https:\/\/evil\.example\.test\/v2\.0 is not trusted/);
    await expect401V3(srv, user({ tid: undefined }), /token has no tid claim/);
  });

  it("403 GraphError naming the permission, and the Printer Administrator role", async () => {
    const { error } = await expectGraphError(v3(user({ scp: "PrinterShare.ReadBasic.All" })).api("/print").get(), { status: 403, code: "accessDenied" });
    assert.match(error.message, /PrintSettings\.Read\.All/);
    const r2 = await expectGraphError(v3(user({ scp: READ, admin: false })).api("/print").get(), { status: 403, code: "accessDenied" });
    assert.match(r2.error.message, /Printer Administrator/);
  });
});

// =================================================================================================

describe("JWKS rotation", () => {
  const TID = randomUUID();
  const issuer = new TestIssuer({ iss: issuerFor(TID) });
  let srv, jwks;
  const jwksFile = { issuer };

  before(async () => {
    issuer.addKey("RS256", "rot-1");
    srv = await startTrustingServer({ issuers: [jwksFile], tenants: [TID] });
    jwks = jwksFile.jwks;
  });
  after(async () => { if (srv) await srv.stop(); });

  const token = (kid) => issuer.userToken({ tid: TID, scopes: READ, admin: true }, { kid });
  const status = async (t) => (await rawFetch(`${srv.origin}/v1.0/print`, { token: t })).status;
  const count = (re) => (srv.output.match(new RegExp(re, "g")) || []).length;
  // "jwks FILE: N signing keys for issuer ISS": logged whenever the file is (re)loaded
  const loads = () => count(`jwks ${jwks.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: \\d+ signing keys?`);

  it("the file check (about every second): a new kid is accepted, the removed kid is refused", async () => {
    const old = token("rot-1");
    assert.equal(await status(old), 200, "old key works (and its token is now cached)");

    issuer.addKey("ES256", "rot-2");
    const early = token("rot-2");
    await expect401Kiota(srv.origin, early, /unknown signing key kid rot-2/);   // not in the file yet

    issuer.removeKey("rot-1");
    const [loaded, hups] = [loads(), count("SIGHUP")];
    await issuer.writeJwks(jwks);
    await sleep(1500);

    const client = kiotaClient({ origin: srv.origin, token: token("rot-2") });
    assert.equal(typeof (await client.print.get()).settings.documentConversionEnabled, "boolean");
    assert.equal(loads(), loaded + 1, "the request's file check re-read the changed file");
    assert.equal(count("SIGHUP"), hups, "no SIGHUP involved");
    assert.equal(await status(early), 200, "the token refused before the rotation is accepted now");
    // the removed kid: a fresh token and the one that was cached before are both refused
    await expect401Kiota(srv.origin, token("rot-1"), /unknown signing key kid rot-1/);
    await expect401Kiota(srv.origin, old, /unknown signing key kid rot-1/);
  });

  it("SIGHUP re-reads the file at once", async () => {
    issuer.addKey("RS256", "rot-3");
    const early = token("rot-3");
    await expect401Kiota(srv.origin, early, /unknown signing key kid rot-3/);
    const cachedOld = token("rot-2");
    assert.equal(await status(cachedOld), 200);

    issuer.removeKey("rot-2");
    await issuer.writeJwks(jwks);
    const loaded = loads();
    const before = count("SIGHUP: signing keys re-read");
    const t0 = Date.now();
    srv.signal("SIGHUP");
    // waits for the log line; the bound is a liveness one (the line never coming is the
    // failure), generous so that a loaded machine cannot trip it
    while (count("SIGHUP: signing keys re-read") === before) {
      assert.ok(Date.now() - t0 < 30_000, `no "SIGHUP: signing keys re-read" in the log:\n${srv.output.slice(-2000)}`);
      await sleep(20);
    }
    // no request has been made since the file was written, so the signal did the re-read
    assert.equal(loads(), loaded + 1, "SIGHUP re-read the file");

    const client = kiotaClient({ origin: srv.origin, token: token("rot-3") });
    assert.equal(typeof (await client.print.get()).settings.documentConversionEnabled, "boolean");
    assert.equal(await status(early), 200);
    await expect401Kiota(srv.origin, token("rot-2"), /unknown signing key kid rot-2/);
    await expect401Kiota(srv.origin, cachedOld, /unknown signing key kid rot-2/);
  });

  it("a broken JWKS file keeps the previous keys (SIGHUP and file check)", async () => {
    const warnings = count("keeping the previous keys");
    await issuer.writeJwks(jwks, "{ this is not a JWKS");
    srv.signal("SIGHUP");
    const t0 = Date.now();
    while (count("keeping the previous keys") === warnings) {  // liveness bound, as above
      assert.ok(Date.now() - t0 < 30_000, `no "keeping the previous keys" warning:\n${srv.output.slice(-2000)}`);
      await sleep(20);
    }
    await sleep(1200);   // past the next file check as well
    assert.equal(await status(token("rot-3")), 200, "rot-3 still trusted");
    // whole again, with a new key: once the signal's re-read is logged, the new key is trusted
    issuer.addKey("ES256", "rot-4");
    await expect401Kiota(srv.origin, token("rot-4"), /unknown signing key kid rot-4/);
    await issuer.writeJwks(jwks);
    const loaded = loads();
    const before = count("SIGHUP: signing keys re-read");
    srv.signal("SIGHUP");
    const t1 = Date.now();
    while (count("SIGHUP: signing keys re-read") === before) {  // liveness bound, as above
      assert.ok(Date.now() - t1 < 30_000, `no "SIGHUP: signing keys re-read" in the log:\n${srv.output.slice(-2000)}`);
      await sleep(20);
    }
    assert.equal(loads(), loaded + 1, "SIGHUP loaded the repaired file");
    assert.equal(await status(token("rot-4")), 200, "the repaired file's new key is trusted");
    assert.equal(await status(token("rot-3")), 200);
  });
});

// =================================================================================================

describe("the same request allowed and refused", () => {
  const A = randomUUID();
  const B = randomUUID();
  const issA = new TestIssuer({ iss: issuerFor(A) });
  const issB = new TestIssuer({ iss: issuerFor(B) });
  let srv;
  const ctx = {};

  before(async () => {
    issA.addKey("RS256");
    issB.addKey("ES256");
    srv = await startTrustingServer({ issuers: [{ issuer: issA }, { issuer: issB }], tenants: [A, B] });
  });
  after(async () => { if (srv) await srv.stop(); });

  const kiota = (token, version = "beta") => kiotaClient({ origin: srv.origin, version, token });
  const userA = (o = {}) => issA.userToken({ tid: A, admin: true, ...o });
  const appA = (roles, o = {}) => issA.appToken({ tid: A, roles, ...o });

  it("by scope: GET /print with PrintSettings.Read.All -> 200; PrinterShare.ReadBasic.All only -> 403 naming PrintSettings.Read.All", async () => {
    const print = await kiota(userA({ scopes: READ })).print.get();
    assert.equal(typeof print.settings.documentConversionEnabled, "boolean");
    // PrintSettings.ReadWrite.All alone also reads
    await kiota(userA({ scopes: "PrintSettings.ReadWrite.All" })).print.get();
    await expect403Kiota(kiota(userA({ scopes: "PrinterShare.ReadBasic.All" })).print.get(),
      /^Missing permission: /, /the delegated permission PrintSettings\.Read\.All or PrintSettings\.ReadWrite\.All/);
    // scopes are matched whole words, case-insensitively
    await expect403Kiota(kiota(userA({ scopes: "PrintSettings.Read" })).print.get(), /PrintSettings\.Read\.All/);
    await kiota(userA({ scopes: "printsettings.read.all" })).print.get();
  });

  it("by scope: PATCH /print needs PrintSettings.ReadWrite.All", async () => {
    await expect403Kiota(kiota(userA({ scopes: READ })).print.patch({ settings: { documentConversionEnabled: true } }),
      /the delegated permission PrintSettings\.ReadWrite\.All/);
    const r = await kiotaWithStatus((cfg) => kiota(userA({ scopes: WRITE })).print.patch({ settings: { documentConversionEnabled: true } }, cfg));
    assert.equal(r.status, 204, r.text);
  });

  it("by admin role: delegated without the role -> 403 naming Printer Administrator; Global Administrator is accepted", async () => {
    await expect403Kiota(kiota(userA({ scopes: READ, admin: false })).print.get(),
      /requires the Printer Administrator or Global Administrator role/);
    await expect403Kiota(kiota(userA({ scopes: READ, admin: false, wids: [REPORTS_READER] })).print.get(), /Printer Administrator/);
    const print = await kiota(userA({ scopes: READ, admin: false, wids: [GLOBAL_ADMIN] })).print.get();
    assert.equal(typeof print.settings.documentConversionEnabled, "boolean");
    // a directory role in an application token means nothing
    await expect403Kiota(kiota(appA(["Printer.ReadWrite.All"], { wids: [PRINTER_ADMIN] })).print.get(), /application tokens cannot call this operation/);
  });

  it("by token type: an application token on a delegated-only operation -> 403 saying delegated permissions are needed", async () => {
    const all = ["Printer.Read.All", "Printer.ReadWrite.All", "PrintJob.ReadWrite.All", "PrintJob.Manage.All",
      "PrintTaskDefinition.ReadWrite.All", "PullPrintPrinter.Read.All", "PrintSettings.Read.All"];
    await expect403Kiota(kiota(appA(all)).print.get(),
      /application tokens cannot call this operation; only delegated \(user\) permissions may read the print settings/);
    await expect403Kiota(kiota(appA(all), "v1.0").print.patch({ settings: { documentConversionEnabled: false } }),
      /application tokens cannot call this operation; only delegated \(user\) permissions may update the print settings/);
    // idtyp "app" with neither roles nor scp is an application token too
    await expect403Kiota(kiota(issA.token({ tid: A, appid: issA.app, idtyp: "app" })).print.get(), /application tokens cannot call this operation/);
    // a token with roles AND scp is delegated: the roles do not count
    await expect403Kiota(kiota(userA({ scopes: "User.Read", roles: ["PrintSettings.Read.All"] })).print.get(), /PrintSettings\.Read\.All/);
  });

  it("by token type: a delegated token on an application-only operation -> 403 (task definitions, subscriptions)", async (t) => {
    const admin = userA({ scopes: "Printer.FullControl.All Printer.ReadWrite.All PrintSettings.ReadWrite.All" });
    const haveDefs = await hasRoute(srv, "POST", "/v1.0/print/taskDefinitions", appA([]));
    const haveSubs = await hasRoute(srv, "GET", "/v1.0/subscriptions", appA([]));
    if (!haveDefs && !haveSubs) {
      t.skip("neither /print/taskDefinitions nor /subscriptions is served yet");
      return;
    }
    if (haveDefs) {
      await expect403Kiota(kiota(admin).print.taskDefinitions.post({ displayName: "by a user" }),
        /delegated tokens cannot call this operation; only application permissions may create a task definition/);
      const def = await kiota(appA(["PrintTaskDefinition.ReadWrite.All"])).print.taskDefinitions.post({ displayName: "by an app" });
      assert.equal(def.displayName, "by an app");
      await expect403Kiota(kiota(appA(["Printer.Read.All"])).print.taskDefinitions.post({ displayName: "no role" }),
        /the application permission PrintTaskDefinition\.ReadWrite\.All/);
    }
    if (haveSubs) {
      await expect403Kiota(kiota(admin).subscriptions.get(),
        /delegated tokens cannot call this operation; only application permissions may list print subscriptions/);
      const subs = await kiota(appA(["PrintTaskDefinition.ReadWrite.All"])).subscriptions.get();
      assert.ok(Array.isArray(subs.value), "an application with the role lists its subscriptions");
      await expect403Kiota(kiota(appA(["PrintJob.Read.All"])).subscriptions.get(),
        /the application permission PrintTaskDefinition\.ReadWrite\.All, Printer\.Read\.All or Printer\.ReadWrite\.All/);
    }
  });

  it("by application role: GET /print/printers/{id} with app Printer.Read.All -> 200; without it -> 403", async (t) => {
    if (!(await hasRoute(srv, "POST", "/v1.0/print/printers/create", appA([]))) ||
        !(await hasRoute(srv, "GET", `/v1.0/print/printers/${randomUUID()}`, appA([])))) {
      t.skip("printer registration or GET /print/printers/{id} is not served yet");
      return;
    }
    ctx.printerA = await registerPrinter(srv, userA({ scopes: PRINTER_ADMIN_SCOPES }), { name: "tenant A printer" });
    const id = ctx.printerA;
    for (const role of ["Printer.Read.All", "Printer.ReadWrite.All"]) {
      const printer = await kiota(appA([role])).print.printers.byPrinterId(id).get();
      assert.equal(printer.id, id, role);
      assert.equal(printer.displayName, "tenant A printer");
    }
    // an application permission that does not cover reading printers
    await expect403Kiota(kiota(appA(["PrintJob.ReadBasic.All", "PrintTaskDefinition.ReadWrite.All"])).print.printers.byPrinterId(id).get(),
      /^Missing permission: this operation needs the application permission Printer\.Read\.All or Printer\.ReadWrite\.All$/);
    await expect403Kiota(kiota(appA([])).print.printers.byPrinterId(id).get(), /Printer\.Read\.All/);
    // delegated: the scope decides (reading one printer needs no administrator role)
    assert.equal((await kiota(userA({ scopes: "Printer.Read.All", admin: false })).print.printers.byPrinterId(id).get()).id, id);
    await expect403Kiota(kiota(userA({ scopes: "PrinterShare.ReadBasic.All" })).print.printers.byPrinterId(id).get(),
      /the delegated permission Printer\.Read\.All, Printer\.ReadWrite\.All or Printer\.FullControl\.All/);
    // listing printers: delegated only, and an administrator operation
    await expect403Kiota(kiota(appA(["Printer.Read.All"])).print.printers.get(),
      /application tokens cannot call this operation; only delegated \(user\) permissions may list printers/);
    await expect403Kiota(kiota(userA({ scopes: "Printer.Read.All", admin: false })).print.printers.get(),
      /requires the Printer Administrator or Global Administrator role/);
    const list = await kiota(userA({ scopes: "Printer.Read.All" })).print.printers.get();
    assert.deepEqual(list.value.map((p) => p.id), [id]);
  });

  it("by tenant: tenant A's settings change, tenant B still sees the defaults", async () => {
    const a = kiota(userA({ scopes: WRITE }));
    const b = kiota(issB.userToken({ tid: B, scopes: WRITE, admin: true }));
    assert.equal(await a.print.patch({ settings: { documentConversionEnabled: false } }), undefined);
    assert.equal((await a.print.get()).settings.documentConversionEnabled, false);
    assert.equal((await b.print.get()).settings.documentConversionEnabled, true, "B has the default");
    const bRaw = await rawFetch(`${srv.origin}/beta/print/settings`, { token: issB.userToken({ tid: B, scopes: READ, admin: true }) });
    assert.equal(bRaw.status, 200, bRaw.text);
    assert.equal(bRaw.json.documentConversionEnabled, true);
    // and the other way round
    assert.equal(await b.print.patch({ settings: { documentConversionEnabled: false } }), undefined);
    assert.equal(await a.print.patch({ settings: { documentConversionEnabled: true } }), undefined);
    assert.equal((await kiota(issB.userToken({ tid: B, scopes: READ, admin: true })).print.get()).settings.documentConversionEnabled, false);
    assert.equal((await kiota(userA({ scopes: READ })).print.get()).settings.documentConversionEnabled, true);
  });

  it("by tenant: tenant A's printer is 404 (not 403) for tenant B and missing from B's list", async (t) => {
    if (!ctx.printerA) {
      t.skip("no printer was registered (printer routes not served yet)");
      return;
    }
    const id = ctx.printerA;
    const bAdmin = issB.userToken({ tid: B, scopes: PRINTER_ADMIN_SCOPES, admin: true });
    await expectKiotaError(kiota(bAdmin).print.printers.byPrinterId(id).get(), { status: 404, code: "itemNotFound" });
    await expectKiotaError(kiota(issB.appToken({ tid: B, roles: "Printer.ReadWrite.All" })).print.printers.byPrinterId(id).get(),
      { status: 404, code: "itemNotFound" });
    const list = await kiota(issB.userToken({ tid: B, scopes: PRINTER_ADMIN_SCOPES, admin: true })).print.printers.get();
    assert.deepEqual(list.value, [], "B sees no printers");
    // B cannot change or delete it either
    const del = await rawFetch(`${srv.origin}/v1.0/print/printers/${id}`, { method: "DELETE", token: issB.userToken({ tid: B, scopes: PRINTER_ADMIN_SCOPES, admin: true }) });
    assertErrorEnvelope(del, { status: 404, code: "itemNotFound" });
    assert.equal((await kiota(appA(["Printer.Read.All"])).print.printers.byPrinterId(id).get()).id, id, "still there for A");
  });
});

// =================================================================================================

describe("subscription state (spoold tenant suspend/resume/add while the server runs)", () => {
  const S = randomUUID();          // suspended then resumed
  const C = randomUUID();          // control: stays active
  const U = randomUUID();          // unknown at first, added while running
  const P = randomUUID();          // added --suspended
  const issuer = new TestIssuer({ iss: issuerFor("multi") });
  let srv;

  before(async () => {
    issuer.addKey("ES256");
    srv = await startTrustingServer({ issuers: [{ issuer }], tenants: [S, C], suspended: [P] });
  });
  after(async () => { if (srv) await srv.stop(); });

  const user = (tid, scopes = WRITE) => issuer.userToken({ tid, scopes, admin: true });
  const getPrint = (tid) => rawFetch(`${srv.origin}/v1.0/print`, { token: user(tid, READ) });

  it("a tenant added --suspended is refused from the start", async () => {
    await expect403Kiota(kiotaClient({ origin: srv.origin, token: user(P) }).print.get(),
      /the tenant's Universal Print subscription is not active/);
  });

  it("suspend -> every print operation 403 within ~6 s; other tenants unaffected; resume -> 200 again", async () => {
    // U is unknown: 403, and that answer is cached for a few seconds
    await expect403Kiota(kiotaClient({ origin: srv.origin, token: user(U) }).print.get(), /no Universal Print subscription on this server/);
    assert.equal((await getPrint(S)).status, 200);

    await tenantCmd("suspend", S, srv.dataDir);
    await tenantCmd("add", U, srv.dataDir);
    const [suspendedAfter, addedAfter] = await Promise.all([
      pollStatus(async () => (await getPrint(S)).status, 403, { what: "suspended tenant" }),
      pollStatus(async () => (await getPrint(U)).status, 200, { what: "tenant added while running" }),
    ]);
    assert.ok(suspendedAfter <= 6500, `suspension noticed after ${suspendedAfter} ms`);
    assert.ok(addedAfter <= 6500, `new tenant noticed after ${addedAfter} ms`);

    const notActive = /^the tenant's Universal Print subscription is not active$/;
    const k = kiotaClient({ origin: srv.origin, token: user(S) });
    await expect403Kiota(k.print.get(), notActive);
    await expect403Kiota(kiotaClient({ origin: srv.origin, version: "v1.0", token: user(S) }).print.patch({ settings: { documentConversionEnabled: false } }), notActive);
    for (const [method, p, json] of [
      ["GET", "/beta/print/settings"], ["PATCH", "/beta/print/settings", { documentConversionEnabled: false }],
      ["GET", "/v1.0/print"], ["PATCH", "/v1.0/print", { settings: { documentConversionEnabled: false } }],
    ]) {
      const err = assertErrorEnvelope(await rawFetch(`${srv.origin}${p}`, { method, json, token: user(S) }), { status: 403, code: "accessDenied" });
      assert.match(err.message, notActive, `${method} ${p}`);
    }
    // the subscription is checked before permissions: any token of the tenant gets this answer
    await expect403Kiota(kiotaClient({ origin: srv.origin, token: issuer.appToken({ tid: S, roles: "Printer.Read.All" }) }).print.get(), notActive);
    await expect403Kiota(kiotaClient({ origin: srv.origin, token: user(S, "PrinterShare.ReadBasic.All") }).print.get(), notActive);
    // every other operation that exists by now is refused the same way, for users and apps
    const everything = `${PRINTER_ADMIN_SCOPES} PrinterShare.ReadWrite.All PrintConnector.ReadWrite.All PrintJob.ReadWrite.All`;
    const appRoles = "Printer.ReadWrite.All PrintTaskDefinition.ReadWrite.All PrintJob.ReadWrite.All";
    const ops = [
      ["GET", "/v1.0/print/printers", "user"], ["GET", `/v1.0/print/printers/${randomUUID()}`, "app"],
      ["POST", "/v1.0/print/printers/create", "user"], ["GET", "/v1.0/print/operations", "user"],
      ["GET", "/v1.0/print/shares", "user"], ["GET", "/v1.0/print/connectors", "user"],
      ["GET", "/v1.0/print/services", "user"], ["GET", "/v1.0/print/taskDefinitions", "app"],
      ["POST", "/v1.0/print/taskDefinitions", "app"], ["GET", "/v1.0/subscriptions", "app"],
    ];
    let checked = 0;
    for (const [method, p, kind] of ops) {
      const token = kind === "app" ? issuer.appToken({ tid: S, roles: appRoles }) : user(S, everything);
      if (!(await hasRoute(srv, method, p, token))) continue;
      const res = await rawFetch(`${srv.origin}${p}`, { method, token, json: method === "POST" ? { displayName: "x" } : undefined });
      const err = assertErrorEnvelope(res, { status: 403, code: "accessDenied" });
      assert.match(err.message, notActive, `${method} ${p}`);
      checked++;
    }
    assert.ok(checked >= 1, "at least one more operation checked");
    assert.equal((await getPrint(C)).status, 200, "the control tenant is unaffected");
    const show = await spooldCli(["tenant", "show", S, "--data", srv.dataDir]);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /state:\s+suspended/);

    await tenantCmd("resume", S, srv.dataDir);
    const resumedAfter = await pollStatus(async () => (await getPrint(S)).status, 200, { what: "resumed tenant" });
    assert.ok(resumedAfter <= 6500, `resumption noticed after ${resumedAfter} ms`);
    const print = await kiotaClient({ origin: srv.origin, token: user(S) }).print.get();
    assert.equal(print.settings.documentConversionEnabled, true, "the refused PATCHes changed nothing");
  });
});

// =================================================================================================

describe("development mode", () => {
  let srv;
  before(async () => { srv = await startServer(); });
  after(async () => { if (srv) await srv.stop(); });

  it("an unknown tenant is created active on first use", async () => {
    const tid = randomUUID();
    const before = await spooldCli(["tenant", "show", tid, "--data", srv.dataDir]);
    assert.equal(before.code, 3, `no tenant yet: ${before.stdout}${before.stderr}`);
    assert.match(before.stderr, new RegExp(`no tenant ${tid}`));

    const token = await srv.mintUser({ tenant: tid, scopes: READ, admin: true });
    const print = await kiotaClient({ origin: srv.origin, token }).print.get();
    assert.equal(print.settings.documentConversionEnabled, true);

    const after = await spooldCli(["tenant", "show", tid, "--data", srv.dataDir]);
    assert.equal(after.code, 0, after.stderr);
    assert.match(after.stdout, new RegExp(`tenant:\\s+${tid}`));
    assert.match(after.stdout, /state:\s+active/);
    const list = await spooldCli(["tenant", "list", "--data", srv.dataDir]);
    assert.match(list.stdout, new RegExp(`${tid}\\s+active`));
  });

  it("concurrent first requests of a new tenant all succeed (one tenant row)", async () => {
    const tid = randomUUID();
    const tokens = [];
    for (let i = 0; i < 4; i++) tokens.push(await srv.mintUser({ tenant: tid, scopes: READ, admin: true }));
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) =>
      rawFetch(`${srv.origin}/v1.0/print`, { token: tokens[i % tokens.length] })));
    for (const r of results) assert.equal(r.status, 200, r.text);
    const list = await spooldCli(["tenant", "list", "--data", srv.dataDir]);
    assert.equal(list.stdout.split("\n").filter((l) => l.startsWith(tid)).length, 1, list.stdout);
  });

  it("an application token creates its tenant as well (then gets its own 403)", async () => {
    const tid = randomUUID();
    const token = await srv.mintApp({ tenant: tid, roles: "Printer.Read.All" });
    await expect403Kiota(kiotaClient({ origin: srv.origin, token }).print.get(), /application tokens cannot call this operation/);
    const show = await spooldCli(["tenant", "show", tid, "--data", srv.dataDir]);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /state:\s+active/);
  });

  it("a refused token creates nothing", async () => {
    const tid = randomUUID();
    const stranger = new TestIssuer({ iss: "spoold-dev" });
    stranger.addKey("ES256");
    await expect401Kiota(srv.origin, stranger.userToken({ tid, scopes: READ, admin: true }), /unknown signing key kid/);
    const show = await spooldCli(["tenant", "show", tid, "--data", srv.dataDir]);
    assert.equal(show.code, 3, show.stdout);
  });

  it("a token minted for another data directory is refused (unknown kid)", async () => {
    const other = await makeTempDir("spoold-identity-other-");
    try {
      const r = await spooldCli(["token", "--data", other, "--tenant", randomUUID(), "--app", randomUUID(), "--user", randomUUID(), "--scopes", READ, "--admin"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /created the development signing key/);
      await expect401Kiota(srv.origin, r.stdout.trim(), new RegExp(`unknown signing key kid ${decodeJwt(r.stdout.trim()).header.kid}`));
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it("a suspended tenant is not revived by development mode", async () => {
    const tid = randomUUID();
    await tenantCmd("add", tid, srv.dataDir, ["--suspended"]);
    const token = await srv.mintUser({ tenant: tid, scopes: READ, admin: true });
    await expect403Kiota(kiotaClient({ origin: srv.origin, token }).print.get(), /subscription is not active/);
  });
});

// =================================================================================================

describe("spoold token (command line)", () => {
  let dir;
  before(async () => { dir = await makeTempDir("spoold-identity-token-"); });
  after(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

  const TID = "6f0c3b4e-1a2b-4c3d-8e9f-0a1b2c3d4e5f";
  const APP = "0d2b6a7c-2222-4333-8444-555555555555";

  it("usage errors exit 2 with a message, print no token and create no key", async () => {
    const empty = await makeTempDir("spoold-identity-usage-");
    try {
      const base = ["--data", empty, "--tenant", TID, "--app", APP];
      const cases = [
        [[], /--data DIR is required/],
        [["--bogus"], /unknown option --bogus/],
        [["stray"], /unexpected argument stray/],
        [["--data"], /--data needs a value/],
        [[...base, "--tenant", TID], /--tenant is given twice/],
        [[...base], /an application token needs --roles/],
        [["--data", empty, "--app", APP, "--roles", "Printer.Read.All"], /--tenant TID is required/],
        [["--data", empty, "--tenant", TID, "--roles", "Printer.Read.All"], /--app APPID is required/],
        [["--data", empty, "--tenant", "not a tenant!", "--app", APP, "--roles", ""], /not a valid tenant id/],
        [[...base, "--user", randomUUID()], /a user token needs --scopes/],
        [[...base, "--user", randomUUID(), "--scopes", READ, "--roles", "Printer.Read.All"], /--roles is for application tokens/],
        [[...base, "--roles", "Printer.Read.All", "--admin"], /--admin needs --user/],
        [[...base, "--roles", "Printer.Read.All", "--groups", "g1"], /--groups needs --user/],
        [[...base, "--roles", "Printer.Read.All", "--scopes", READ], /--scopes needs --user/],
        [[...base, "--user", randomUUID(), "--scopes", READ, "--admin=yes"], /--admin takes no value/],
        [[...base, "--roles", "", "--ttl", "0"], /--ttl must be a whole number of seconds between 1 and 31622400/],
        [[...base, "--roles", "", "--ttl", "abc"], /--ttl must be/],
        [[...base, "--roles", "", "--ttl", "31622401"], /--ttl must be/],
        [[...base, "--user", "bad oid!", "--scopes", READ], /--user: "bad oid!" is not a valid user object id/],
      ];
      for (const [args, why] of cases) {
        const r = await spooldCli(["token", ...args]);
        assert.equal(r.code, 2, `spoold token ${args.join(" ")}: exit ${r.code}\n${r.stderr}`);
        assert.match(r.stderr, /^spoold token: /, r.stderr);
        assert.match(r.stderr, why, `spoold token ${args.join(" ")}`);
        assert.equal(r.stdout, "", "no token on stdout");
      }
      assert.deepEqual(await readdir(empty), [], "usage errors leave the data directory alone");
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it("--device: no JWT options (exit 2), an unknown printer (exit 3); tokens are in ipp.test.mjs", async () => {
    const mixed = await spooldCli(["token", "--data", dir, "--tenant", TID, "--app", APP, "--device", randomUUID()]);
    assert.equal(mixed.code, 2, mixed.stderr);
    assert.match(mixed.stderr, /--device takes only --data DIR or --store URL/);
    assert.equal(mixed.stdout, "");
    const bad = await spooldCli(["token", "--data", dir, "--device", "printer-1"]);
    assert.equal(bad.code, 2, bad.stderr);
    const unknown = await spooldCli(["token", "--data", dir, "--device", randomUUID()]);
    assert.equal(unknown.code, 3, unknown.stderr);
    assert.match(unknown.stderr, /no printer/);
    assert.equal(unknown.stdout, "");
  });

  it("--help exits 0 with the usage on stdout", async () => {
    const r = await spooldCli(["token", "--help"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^usage: spoold token --data DIR/);
  });

  it("a user token decodes to the documented claims (exp = now + ttl)", async () => {
    const oid = randomUUID();
    const t0 = nowS();
    const r = await spooldCli(["token", "--data", dir, "--tenant", TID, "--app", APP, "--user", oid,
      "--upn", "ada@example.test", "--name", "Ada Lovelace", "--scopes", "PrintJob.ReadWrite  PrinterShare.ReadBasic.All",
      "--groups", "g-1,g-2", "--admin", "--ttl", "120"]);
    const t1 = nowS();
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split("\n").filter(Boolean);
    assert.equal(lines.length, 1, "exactly one line: the token");
    const { header, payload: c, signature } = decodeJwt(lines[0]);
    assert.equal(header.alg, "ES256");
    assert.equal(header.typ, "JWT");
    assert.match(header.kid, /^[A-Za-z0-9_-]{43}$/, "kid is the key's RFC 7638 thumbprint");
    assert.equal(signature.length, 64, "raw r||s");
    assert.equal(c.iss, "spoold-dev");
    assert.equal(c.aud, "https://graph.microsoft.com");
    assert.equal(c.tid, TID);
    assert.equal(c.oid, oid);
    assert.equal(c.upn, "ada@example.test");
    assert.equal(c.name, "Ada Lovelace");
    assert.equal(c.appid, APP);
    assert.equal(c.idtyp, "user");
    assert.equal(c.scp, "PrintJob.ReadWrite PrinterShare.ReadBasic.All");
    assert.deepEqual(c.wids, [PRINTER_ADMIN]);
    assert.deepEqual(c.groups, ["g-1", "g-2"]);
    assert.equal(c.roles, undefined, "a user token has no roles");
    assert.ok(c.iat >= t0 && c.iat <= t1, `iat ${c.iat} is now (${t0}..${t1})`);
    assert.equal(c.exp, c.iat + 120, "exp = now + ttl");
    assert.ok(c.nbf === undefined || c.nbf <= c.iat);
    // the key is the data directory's
    assert.ok((await readdir(dir)).includes("dev-signing-key.pem"));
  });

  it("without --admin there is no wids; without --groups no groups; default ttl 3600", async () => {
    const r = await spooldCli(["token", "--data", dir, "--tenant", TID, "--app", APP, "--user", randomUUID(), "--scopes", READ]);
    assert.equal(r.code, 0, r.stderr);
    const { payload: c, header } = decodeJwt(r.stdout.trim());
    assert.equal(c.wids, undefined);
    assert.equal(c.groups, undefined);
    assert.equal(c.exp - c.iat, 3600);
    assert.ok(Math.abs(c.iat - nowS()) <= 5);
    // same data directory, same key id
    const again = await spooldCli(["token", "--data", dir, "--tenant", TID, "--app", APP, "--roles", ""]);
    assert.equal(decodeJwt(again.stdout.trim()).header.kid, header.kid);
  });

  it("an application token: roles array, no scp/oid/wids, idtyp app", async () => {
    const r = await spooldCli(["token", "--data", dir, "--tenant", TID, "--app", APP, "--roles", "Printer.Read.All PrintJob.Manage.All", "--ttl", "600"]);
    assert.equal(r.code, 0, r.stderr);
    const { payload: c } = decodeJwt(r.stdout.trim());
    assert.equal(c.iss, "spoold-dev");
    assert.equal(c.aud, "https://graph.microsoft.com");
    assert.equal(c.tid, TID);
    assert.equal(c.appid, APP);
    assert.equal(c.idtyp, "app");
    assert.deepEqual(c.roles, ["Printer.Read.All", "PrintJob.Manage.All"]);
    assert.equal(c.scp, undefined);
    assert.equal(c.wids, undefined);
    assert.equal(c.upn, undefined);
    assert.equal(c.exp - c.iat, 600);
    const none = await spooldCli(["token", "--data", dir, "--tenant", TID, "--app", APP, "--roles", ""]);
    assert.equal(none.code, 0, none.stderr);
    assert.deepEqual(decodeJwt(none.stdout.trim()).payload.roles, []);
  });

  it("unknown permission names are warned about on stderr, and the token is still printed", async () => {
    const r = await spooldCli(["token", "--data", dir, "--tenant", TID, "--app", APP, "--user", randomUUID(), "--scopes", `${READ} Bogus.Scope`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: Bogus\.Scope is not a Universal Print delegated permission/);
    assert.doesNotMatch(r.stderr, /PrintSettings\.Read\.All is not/);
    const a = await spooldCli(["token", "--data", dir, "--tenant", TID, "--app", APP, "--roles", "PrintSettings.Read.All"]);
    assert.equal(a.code, 0);
    assert.match(a.stderr, /warning: PrintSettings\.Read\.All is not a Universal Print application permission/);
  });

  it("minted tokens are accepted by a --dev server on the same data directory", async () => {
    const data = await makeTempDir("spoold-identity-mint-");
    const tid = randomUUID();
    const r = await spooldCli(["token", "--data", data, "--tenant", tid, "--app", APP, "--user", randomUUID(), "--scopes", READ, "--admin", "--ttl", "60"]);
    assert.equal(r.code, 0, r.stderr);
    const srv = await startServer({ dataDir: data });
    try {
      const print = await kiotaClient({ origin: srv.origin, token: r.stdout.trim() }).print.get();
      assert.equal(print.settings.documentConversionEnabled, true);
    } finally {
      await srv.stop();
      await rm(data, { recursive: true, force: true });
    }
  });
});

// =================================================================================================

describe("spoold tenant (command line)", () => {
  let dir;
  before(async () => { dir = await makeTempDir("spoold-identity-tenant-"); });
  after(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

  it("add, show, list, suspend, resume, remove with their exit codes", async () => {
    const tid = randomUUID();
    const cli = (...a) => spooldCli(["tenant", ...a, "--data", dir]);
    let r = await cli("add", tid, "--name", "Contoso");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`added tenant ${tid} \\(active\\)`));
    r = await cli("add", tid);
    assert.equal(r.code, 4, "already exists");
    assert.match(r.stderr, new RegExp(`tenant ${tid} already exists`));
    r = await cli("show", tid);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /name:\s+Contoso/);
    assert.match(r.stdout, /state:\s+active/);
    r = await cli("suspend", tid);
    assert.equal(r.code, 0);
    assert.match((await cli("show", tid)).stdout, /state:\s+suspended/);
    assert.match((await cli("list")).stdout, new RegExp(`${tid}\\s+suspended\\s+\\S+\\s+Contoso`));
    r = await cli("resume", tid);
    assert.equal(r.code, 0);
    assert.match((await cli("show", tid)).stdout, /state:\s+active/);
    r = await cli("remove", tid);
    assert.equal(r.code, 2, "remove needs --yes");
    assert.match(r.stderr, /add --yes to confirm/);
    r = await cli("remove", tid, "--yes");
    assert.equal(r.code, 0, r.stderr);
    for (const action of ["show", "suspend", "resume"]) {
      r = await cli(action, tid);
      assert.equal(r.code, 3, `${action} of a removed tenant`);
      assert.match(r.stderr, new RegExp(`no tenant ${tid}`));
    }
  });

  // The server keeps jobs it has read in memory (store/job-cache.c); a tenant removed by the
  // command line, another process writing the same store, must not be answered from it.
  it("remove while a server runs: the server stops answering the tenant's jobs at once", async () => {
    const data = await makeTempDir("spoold-identity-live-remove-");
    const srv = await startServer({ dataDir: data });
    try {
      const tid = randomUUID();
      const admin = await srv.mintUser({ tenant: tid, scopes: [...PRINTER_MANAGEMENT_SCOPES, "PrinterShare.ReadWrite.All"].join(" "), admin: true });
      const user = await srv.mintUser({ tenant: tid, scopes: "PrintJob.ReadWrite PrinterShare.ReadBasic.All" });
      const app = await srv.mintApp({ tenant: tid, roles: "PrintJob.Read.All Printer.Read.All" });
      const printer = await registerPrinter(srv, admin, { name: "live remove" });
      const share = await createShare(srv, admin, printer);
      const job = await createJob(srv, user, `shares/${share}`);
      const url = `${srv.origin}/v1.0/print/printers/${printer}/jobs/${job.id}`;
      for (let i = 0; i < 3; i++) { // read again and again: the later reads come from memory
        const r = await rawFetch(url, { token: app });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.id, job.id);
      }
      await tenantCmd("remove", tid, data, ["--yes"]);
      const r = await rawFetch(url, { token: app });
      // 404 while the server's tenant check (5 s) still holds the tenant active, 401/403 after
      assert.ok([404, 401, 403].includes(r.status), `read after remove: ${r.status} ${r.text}`);
      assert.ok(r.json?.error?.code, `an error envelope: ${r.text}`);
    } finally {
      await srv.stop();
      await rm(data, { recursive: true, force: true });
    }
  });

  it("usage errors exit 2", async () => {
    for (const [args, why] of [
      [["tenant"], /which action\?/],
      [["tenant", "frobnicate", "x", "--data", dir], /unknown action frobnicate/],
      [["tenant", "add", "--data", dir], /add needs a tenant id/],
      [["tenant", "add", "bad tenant!", "--data", dir], /is not a valid tenant id/],
      [["tenant", "add", randomUUID()], /give --data DIR or --store URL/],
      [["tenant", "show", randomUUID(), "--suspended", "--data", dir], /--name and --suspended go with add/],
      [["tenant", "list", "extra", "--data", dir], /unexpected argument extra/],
    ]) {
      const r = await spooldCli(args);
      assert.equal(r.code, 2, `${args.join(" ")}: exit ${r.code} ${r.stderr}`);
      assert.match(r.stderr, why, args.join(" "));
    }
  });
});
