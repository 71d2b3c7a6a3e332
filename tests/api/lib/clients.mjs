// SPDX-License-Identifier: Apache-2.0
// The clients the API tests talk to spoold with:
//  (a) kiotaClient(): the Kiota-based @microsoft/msgraph-beta-sdk with our print builders
//      (print-fluent.mjs), normally over plain http (Kiota lets 127.0.0.1 use http);
//  (b) v3Client(): @microsoft/microsoft-graph-client 3.0.7, over https only (over http it strips
//      the Authorization header and mangles absolute http:// URLs), with customHosts 127.0.0.1;
//  (c) rawFetch() / rawHttp(): wire-level requests for asserting status, headers and raw bodies;
//  plus kiotaWithStatus() to see the HTTP status of a successful Kiota call.
//
// Trusting the test certificate. Node reads NODE_EXTRA_CA_CERTS only when the process starts, and
// `node --test` starts the test files before any of them has made its certificate (they are made
// at test time, never committed). So instead of that variable we give the clients an undici Agent
// whose TLS options trust exactly the test certificate, and pass it as the `dispatcher` of each
// fetch call: Node's built-in fetch (which both Graph clients call) accepts a dispatcher from the
// undici package (pinned to the version bundled in Node 20). For the v3 client it goes in
// `fetchOptions`, which the client merges into every fetch call; for Kiota, in a custom fetch
// given to the SDK's own createGraphClientFactory. Nothing else changes: certificate checks stay
// on, and no global state (NODE_TLS_REJECT_UNAUTHORIZED, global dispatcher) is touched.
// Running the whole suite with NODE_EXTRA_CA_CERTS=<cert> set from outside would work as well.
import http from "node:http";
import https from "node:https";
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { Agent } from "undici";
import { GraphBetaRequestAdapter, createGraphBetaServiceClient } from "@microsoft/msgraph-beta-sdk";
import { version as betaSdkVersion } from "@microsoft/msgraph-beta-sdk/version.js";
import { createGraphClientFactory } from "@microsoft/msgraph-sdk-core";
import {
  AllowedHostsValidator, BaseBearerTokenAuthenticationProvider, ResponseHandlerOption,
} from "@microsoft/kiota-abstractions";
import { JsonParseNode } from "@microsoft/kiota-serialization-json";
import { models } from "./print-fluent.mjs";   // also registers client.print / client.subscriptions

const require = createRequire(import.meta.url);
const graphV3 = require("@microsoft/microsoft-graph-client");

export { graphV3, models };
export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const newClientRequestId = () => randomUUID();

// --- TLS trust --------------------------------------------------------------------------------

const agents = new Map();   // CA PEM -> undici Agent

// An undici Agent that trusts only `ca` (PEM). One per certificate, reused (keep-alive).
export function agentFor(ca) {
  let agent = agents.get(ca);
  if (!agent) {
    agent = new Agent({ connect: { ca } });
    agents.set(ca, agent);
  }
  return agent;
}

// Closes the keep-alive connections of every agent made here (call in an after hook if needed).
export async function closeAgents() {
  const all = [...agents.values()];
  agents.clear();
  await Promise.all(all.map((a) => a.close()));
}

// fetch with the test CA trusted when `ca` is given.
function fetchWith(ca) {
  if (!ca) return (url, init) => fetch(url, init);
  const dispatcher = agentFor(ca);
  return (url, init = {}) => fetch(url, { ...init, dispatcher });
}

const tokenSource = (token) => (typeof token === "function" ? token : async () => token || "");

// --- (a) Kiota ----------------------------------------------------------------------------------

// The Kiota beta client for `origin` ("http://127.0.0.1:PORT"), on the /beta or /v1.0 prefix.
//   token: string, or async () => string; empty/undefined sends no Authorization header.
//   ca:    PEM to trust when origin is https.
export function kiotaClient({ origin, version = "beta", token, ca } = {}) {
  if (!origin) throw new Error("kiotaClient: origin is required");
  const host = new URL(origin).hostname;
  const getToken = tokenSource(token);
  const auth = new BaseBearerTokenAuthenticationProvider({
    getAuthorizationToken: async () => getToken(),
    getAllowedHostsValidator: () => new AllowedHostsValidator(new Set([host])),
  });
  const httpClient = ca
    ? createGraphClientFactory({ graphServiceTargetVersion: "beta", graphServiceLibraryClientVersion: betaSdkVersion }, fetchWith(ca))
    : undefined;
  const adapter = new GraphBetaRequestAdapter(auth, undefined, undefined, httpClient);
  adapter.baseUrl = `${origin.replace(/\/+$/, "")}/${version}`;   // must be set before the client is made
  const client = createGraphBetaServiceClient(adapter);
  return client;
}

// Runs a Kiota call with a ResponseHandlerOption, which hands us the raw fetch Response instead
// of letting the adapter parse it (and instead of throwing on error statuses).
//   const r = await kiotaWithStatus((cfg) => client.print.patch(body, cfg));
//   const r = await kiotaWithStatus((cfg) => client.print.get(cfg), models.createPrintFromDiscriminatorValue);
// `invoke` receives the request configuration to pass as the call's last argument.
// Resolves { status, headers, text, json, value } where value is the body parsed with the SDK's
// model `factory` (if given and the body is JSON).
export async function kiotaWithStatus(invoke, factory) {
  let captured;
  const option = new ResponseHandlerOption();
  option.responseHandler = {
    handleResponse: async (response) => {
      captured = { status: response.status, headers: response.headers, text: await response.text() };
      return undefined;
    },
  };
  await invoke({ options: [option] });
  if (!captured) throw new Error("kiotaWithStatus: the response handler was not called");
  const ct = captured.headers.get("content-type") || "";
  captured.json = /^application\/json\b/i.test(ct) && captured.text ? JSON.parse(captured.text) : undefined;
  if (factory && captured.json !== undefined) {
    captured.value = new JsonParseNode(captured.json).getObjectValue(factory);
  }
  return captured;
}

// --- (b) microsoft-graph-client v3 --------------------------------------------------------------

// The v3 client for an https `origin` ("https://127.0.0.1:PORT").
//   ca: the server's certificate PEM (trusted through the fetch dispatcher, see the top comment).
// customHosts makes the client treat 127.0.0.1 as a Graph host, so it adds Authorization,
// SdkVersion and client-request-id exactly as it does for graph.microsoft.com.
export function v3Client({ origin, version = "beta", token, ca } = {}) {
  if (!origin) throw new Error("v3Client: origin is required");
  const u = new URL(origin);
  if (u.protocol !== "https:") throw new Error("v3Client: the v3 client needs an https origin (over http it sends no Authorization)");
  const getToken = tokenSource(token);
  return graphV3.Client.init({
    baseUrl: `${u.protocol}//${u.host}`,
    defaultVersion: version,
    customHosts: new Set([u.hostname]),
    authProvider: (done) => { getToken().then((t) => done(null, t), (e) => done(e, null)); },
    fetchOptions: ca ? { dispatcher: agentFor(ca) } : undefined,
  });
}

// --- (c) raw requests ---------------------------------------------------------------------------

function parseBody(headers, buf) {
  const text = buf.toString("utf8");
  const ct = headers.get ? headers.get("content-type") : headers["content-type"];
  let json;
  if (ct && /^application\/json\b/i.test(ct) && text.length > 0) {
    try { json = JSON.parse(text); } catch (e) { json = undefined; }
  }
  return { text, json, contentType: ct || "" };
}

// fetch() with test conveniences; never throws for HTTP statuses.
//   opts: { method, headers, body, token, ca, json (object -> JSON body + content-type), timeoutMs }
// Resolves { status, headers (a Headers object), text, json, contentType, body (Buffer) }.
export async function rawFetch(url, opts = {}) {
  const headers = new Headers(opts.headers || {});
  if (opts.token) headers.set("authorization", `Bearer ${opts.token}`);
  let body = opts.body;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  const init = {
    method: opts.method || "GET",
    headers,
    body,
    redirect: "manual",
    signal: AbortSignal.timeout(opts.timeoutMs || 15_000),
  };
  const res = await fetchWith(opts.ca)(url, init);
  const buf = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body: buf, ...parseBody(res.headers, buf) };
}

// A request through node:http(s) for what fetch cannot do: exact header sets, a chunked body
// without Content-Length (`chunks: [...]`), a fresh connection per request (agent: false).
//   opts: { method, headers, body (string|Buffer), chunks (array of string|Buffer), token, ca,
//           timeoutMs, chunkDelayMs }
// Resolves { status, headers (lower-cased plain object, plus get(name)), text, json, contentType,
// body }; rejects with the socket error (e.g. ECONNREFUSED) or "timeout".
export function rawHttp(url, opts = {}) {
  const u = new URL(url);
  const mod = u.protocol === "https:" ? https : http;
  const headers = { ...(opts.headers || {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined && opts.chunks === undefined) headers["content-length"] = Buffer.byteLength(opts.body);
  return new Promise((resolve, reject) => {
    const req = mod.request({
      protocol: u.protocol, hostname: u.hostname, port: u.port, path: u.pathname + u.search,
      method: opts.method || "GET", headers, agent: false, ca: opts.ca,
      timeout: opts.timeoutMs || 15_000,
    }, (res) => {
      const parts = [];
      res.on("data", (d) => parts.push(d));
      res.on("error", reject);
      res.on("end", () => {
        const buf = Buffer.concat(parts);
        const h = { ...res.headers };
        Object.defineProperty(h, "get", { value: (name) => res.headers[name.toLowerCase()], enumerable: false });
        resolve({ status: res.statusCode, headers: h, body: buf, ...parseBody(h, buf) });
      });
    });
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
    req.on("error", reject);
    if (opts.chunks !== undefined) {
      // No Content-Length: node sends Transfer-Encoding: chunked, one HTTP chunk per write.
      const chunks = [...opts.chunks];
      const next = () => {
        if (chunks.length === 0) { req.end(); return; }
        req.write(chunks.shift());
        if (opts.chunkDelayMs) setTimeout(next, opts.chunkDelayMs); else next();
      };
      next();
    } else {
      req.end(opts.body);
    }
  });
}
