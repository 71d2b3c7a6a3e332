// SPDX-License-Identifier: Apache-2.0
// Webhook targets (issue 11, defect 1): on a server WITHOUT --dev, a subscription may not point
// its notificationUrl or lifecycleNotificationUrl at loopback, private, link-local, multicast or
// unspecified addresses, whatever the spelling (names, decimal IPv4, IPv4-mapped IPv6), and the
// refusal happens before any connection is made. Every way the validation handshake can fail
// gets the same 400 message, which never quotes what the target answered. An operator lets
// chosen hosts through with --webhook-allow; deliveries are checked again on every attempt.
//
// Every address used here is refused before connect(), so no packet leaves 127.0.0.0/8: the
// receiver on 127.0.0.1 counts the TCP connections it accepts to prove nothing reached it.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { rm } from "node:fs/promises";
import { kiotaClient, rawFetch, closeAgents } from "./lib/clients.mjs";
import { expectKiotaError } from "./lib/graph-assert.mjs";
import { startReceiver } from "./lib/webhook-receiver.mjs";
import { startServer, makeTempDir } from "./lib/server.mjs";
import { tenantCmd } from "./lib/cli.mjs";
import { TestIssuer, GRAPH_AUDIENCE } from "./lib/jwt.mjs";

after(() => closeAgents());

const TID = randomUUID();
const ROLES = "PrintTaskDefinition.ReadWrite.All Printer.Read.All";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// The one message every failed handshake gets (the property name varies).
const SAME = /^Subscription validation request failed for '(notificationUrl|lifecycleNotificationUrl)': the endpoint must be reachable on a public address and answer/;

// A non-development spoold trusting `issuer` for tenant TID, on data directory `dir`. The
// validation handshake keeps its default timeout (10 s) unless `extra` says otherwise: a
// handshake that must pass is a round trip through this process's receiver, which a loaded
// machine can delay.
async function startPlain(issuer, dir, extra = []) {
  const jwks = path.join(dir, "jwks.json");
  await issuer.writeJwks(jwks);
  return startServer({
    dataDir: dir, dev: false,
    args: ["--issuer", issuer.iss, "--jwks", jwks, "--audience", GRAPH_AUDIENCE,
      "--webhook-retry-base-ms", "100", ...extra],
  });
}

function suite(extraArgs) {
  const ctx = {};
  before(async () => {
    ctx.dir = await makeTempDir("spoold-ssrf-");
    await tenantCmd("add", TID, ctx.dir, ["--name", "ssrf"]);
    ctx.issuer = new TestIssuer({ iss: `https://login.example.test/${TID}/v2.0` });
    ctx.issuer.addKey("RS256");
    ctx.srv = await startPlain(ctx.issuer, ctx.dir, extraArgs);
    ctx.rx = await startReceiver();
    ctx.rx.on("/hook");
  });
  // An application of its own (one subscription per app, resource and changeType) with a task
  // definition: { client (Kiota), body(over) }.
  ctx.fresh = async () => {
    const app = randomUUID();
    const token = () => ctx.issuer.appToken({ tid: TID, roles: ROLES, app });
    const def = await rawFetch(`${ctx.srv.origin}/v1.0/print/taskDefinitions`, {
      method: "POST", token: token(), json: { displayName: "ssrf" } });
    assert.equal(def.status, 201, def.text);
    return {
      client: kiotaClient({ origin: ctx.srv.origin, token: token() }),
      body: (over = {}) => ({
        changeType: "created", resource: `print/taskDefinitions/${def.json.id}/tasks`,
        notificationUrl: ctx.rx.url("/hook"), expirationDateTime: new Date(Date.now() + 30 * 60_000),
        clientState: "ssrf", ...over,
      }),
    };
  };
  after(async () => {
    if (ctx.rx) await ctx.rx.close();
    if (ctx.srv) await ctx.srv.stop({ keepData: true });
    if (ctx.dir) await rm(ctx.dir, { recursive: true, force: true });
  });
  return ctx;
}

// Hosts that name the loopback receiver (decimal 2130706433 is 127.0.0.1, and 0.0.0.0 reaches
// local listeners on Linux), and addresses that must never be tried at all.
const INWARD = (port) => [
  `http://localhost:${port}/hook`,
  `http://127.0.0.1:${port}/hook`,
  `http://0.0.0.0:${port}/hook`,
  `http://2130706433:${port}/hook`,
  `http://[::1]:${port}/hook`,
  `http://[::ffff:127.0.0.1]:${port}/hook`,
  `http://10.0.0.1:${port}/hook`,
  `http://169.254.169.254:${port}/latest/meta-data/`,
];

describe("webhooks without --dev: inward addresses are refused before connecting", () => {
  const ctx = suite([]);

  it("every loopback, private, link-local and unspecified spelling is 400 with the same message, and nothing is contacted", async () => {
    const a = await ctx.fresh();
    const messages = new Set();
    for (const url of INWARD(ctx.rx.port)) {
      const before = ctx.rx.connections();
      const e = await expectKiotaError(a.client.subscriptions.post(a.body({ notificationUrl: url })),
        { status: 400, code: "invalidRequest" });
      assert.match(e.errorEscaped.message, SAME, url);
      messages.add(e.errorEscaped.message);
      assert.equal(ctx.rx.connections(), before, `${url}: the receiver was contacted`);
    }
    assert.equal(messages.size, 1, `one message for every target: ${[...messages].join(" | ")}`);
    assert.equal(ctx.rx.handshakes("/hook").length, 0);
    // The operator's log says why, with the address and its class.
    assert.match(ctx.srv.output, /resolves to 127\.0\.0\.1 \(loopback\)/);
    assert.match(ctx.srv.output, /resolves to 169\.254\.169\.254 \(link-local\)/);
    assert.match(ctx.srv.output, /resolves to 10\.0\.0\.1 \(private or reserved\)/);
  });

  it("the lifecycleNotificationUrl is checked the same way", async () => {
    const a = await ctx.fresh();
    const before = ctx.rx.connections();
    const e = await expectKiotaError(a.client.subscriptions.post(a.body({
      notificationUrl: `http://[::ffff:127.0.0.1]:${ctx.rx.port}/hook`,
      lifecycleNotificationUrl: `http://2130706433:${ctx.rx.port}/life` })), { status: 400, code: "invalidRequest" });
    assert.match(e.errorEscaped.message, SAME);
    assert.equal(ctx.rx.connections(), before);
  });
});

describe("webhooks: one message for every handshake failure, never the target's body", () => {
  // Loopback is allowed here (listed), so the receiver can misbehave in each way. A 2 s
  // handshake timeout for the silent one: every handshake here fails, whatever the reason.
  const ctx = suite(["--webhook-allow", "127.0.0.1", "--webhook-validation-timeout", "2"]);

  it("wrong body, error status, wrong type, silence and a closed port all get the message of a refused address", async () => {
    ctx.rx.on("/wrong", { handshake: "wrong" });
    ctx.rx.on("/status", { handshake: "status", handshakeStatus: 404 });
    ctx.rx.on("/type", { handshake: "type" });
    ctx.rx.on("/hang", { handshake: "hang" });
    const probe = await startReceiver();
    const closed = probe.port;
    await probe.close();
    const a = await ctx.fresh();
    const seen = new Set();
    for (const url of [ctx.rx.url("/wrong"), ctx.rx.url("/status"), ctx.rx.url("/type"), ctx.rx.url("/hang"),
      `http://127.0.0.1:${closed}/gone`]) {
      const e = await expectKiotaError(a.client.subscriptions.post(a.body({ notificationUrl: url })),
        { status: 400, code: "invalidRequest" });
      assert.match(e.errorEscaped.message, SAME, url);
      assert.doesNotMatch(e.errorEscaped.message, /Validation: Testing|-not|404|json|refused|answer within|reached/i, url);
      seen.add(e.errorEscaped.message);
    }
    assert.equal(seen.size, 1, [...seen].join(" | "));
  });
});

describe("webhooks: --webhook-allow lets listed loopback hosts through, and deliveries are checked every time", () => {
  const ctx = suite(["--webhook-allow", "localhost,127.0.0.1,[::ffff:127.0.0.1],2130706433"]);

  it("listed loopback hosts pass the handshake (201)", async () => {
    for (const host of ["localhost", "127.0.0.1", "[::ffff:127.0.0.1]"]) {
      const url = `http://${host}:${ctx.rx.port}/hook`;
      const a = await ctx.fresh();
      const s = await a.client.subscriptions.post(a.body({ notificationUrl: url }));
      assert.ok(s.id, url);
      assert.equal(s.notificationUrl, url);
    }
    assert.equal(ctx.rx.handshakes("/hook").length, 3);
    // A host not on the list is refused by the list itself.
    const a = await ctx.fresh();
    await expectKiotaError(a.client.subscriptions.post(a.body({ notificationUrl: `http://0.0.0.0:${ctx.rx.port}/hook` })),
      { status: 400, code: "invalidRequest" });
  });

  it("after a restart without --webhook-allow, deliveries to a subscription made while allowed are refused before connecting", async () => {
    // A subscription that expires in 8 s, with a lifecycle URL: its subscriptionRemoved
    // notification is a delivery the new server attempts without any client request. A server
    // without --dev has no movable clock, so the expiry is on the machine's: 8 s leave the
    // subscribe (with its handshake) room on a loaded machine (2.5 s did not always).
    ctx.rx.on("/life");
    const a = await ctx.fresh();
    const expires = Date.now() + 8000;
    await a.client.subscriptions.post(a.body({
      notificationUrl: ctx.rx.url("/hook"), lifecycleNotificationUrl: ctx.rx.url("/life"),
      expirationDateTime: new Date(expires) }));
    await ctx.srv.stop({ keepData: true });
    const before = ctx.rx.connections();
    ctx.srv = await startPlain(ctx.issuer, ctx.dir, []);
    // the expiry sweep runs every second: a liveness bound past the expiry, generous for load
    const deadline = Math.max(expires, Date.now()) + 30_000;
    while (Date.now() < deadline && !/refused to connect to 127\.0\.0\.1 \(loopback\)/.test(ctx.srv.output)) await sleep(100);
    assert.match(ctx.srv.output, /refused to connect to 127\.0\.0\.1 \(loopback\)/, "the delivery attempt was refused");
    assert.equal(ctx.rx.connections(), before, "the receiver was not contacted");
    assert.equal(ctx.rx.notifications("/life").length, 0);
    // The same data directory with the host allowed again delivers it: the refusal above was
    // the address rule, not a broken notification.
    await ctx.srv.stop({ keepData: true });
    ctx.srv = await startPlain(ctx.issuer, ctx.dir, ["--webhook-allow", "127.0.0.1"]);
    const [n] = await ctx.rx.waitFor("/life", 1, 10_000);
    assert.equal(n.value[0].lifecycleEvent, "subscriptionRemoved");
  });
});
