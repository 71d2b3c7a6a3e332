// SPDX-License-Identifier: Apache-2.0
// Connection hardening (issue 11, defects 4 and 5), with raw sockets since the point is what a
// misbehaving client does on the wire:
// - a client sending its request head one byte a second is cut off after --header-timeout,
//   although it is never idle; a body slower than --min-body-rate over --body-timeout is cut;
// - past --max-connections-per-ip and --max-connections, requests get 503 serviceNotAvailable
//   with Retry-After in the Graph envelope and the connection closes; past the reserve beyond
//   the limit, new connections are closed at once with a log line; nobody waits in the backlog.
// - an idle connection is closed after --idle-timeout; --threads bounds the requests served at
//   once.
// Other loopback addresses (127.0.0.2, ...) stand for other clients.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { startServer } from "./lib/server.mjs";
import { rawHttp } from "./lib/clients.mjs";
import { testStore } from "./lib/store.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A raw TCP connection that records what it receives and when it closes.
function connect(port, localAddress = "127.0.0.1") {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: "127.0.0.1", port, localAddress });
    const c = { sock, data: "", closedAt: null, opened: Date.now() };
    c.closed = new Promise((res) => sock.on("close", () => { c.closedAt = Date.now(); res(); }));
    sock.setEncoding("latin1");
    sock.on("data", (d) => { c.data += d; });
    sock.on("error", () => { /* reset by the server: the close event follows */ });
    sock.once("connect", () => resolve(c));
    sock.once("error", reject);
  });
}

// Waits until c has received one complete response (head + Content-Length body); parses it.
// The bound is a liveness one (no answer at all is the failure), generous for a loaded machine.
async function response(c, timeoutMs = 30_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const i = c.data.indexOf("\r\n\r\n");
    if (i >= 0) {
      const head = c.data.slice(0, i);
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      const len = m ? Number(m[1]) : 0;
      if (c.data.length >= i + 4 + len) {
        const body = c.data.slice(i + 4, i + 4 + len);
        c.data = c.data.slice(i + 4 + len);
        const headers = {};
        for (const line of head.split("\r\n").slice(1)) {
          const k = line.indexOf(":");
          headers[line.slice(0, k).trim().toLowerCase()] = line.slice(k + 1).trim();
        }
        const json = body && /json/.test(headers["content-type"] || "") ? JSON.parse(body) : null;
        return { status: Number(head.split(" ")[1]), headers, body, json };
      }
    }
    if (c.closedAt || Date.now() > end) throw new Error(`no complete response (closed: ${!!c.closedAt}); got ${JSON.stringify(c.data.slice(0, 300))}`);
    await sleep(20);
  }
}

const GET = (p) => `GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;

async function getOk(c) {
  c.sock.write(GET("/healthz"));
  const r = await response(c);
  assert.equal(r.status, 200, JSON.stringify(r));
  return r;
}

// Waits until the server counts exactly n open connections (its gauge in /metrics, read over
// c, a connection it already serves): a client's connect() returns once the kernel has the
// connection, before the server has accepted and counted it, so the order in which a test's
// connections reach the limits is only known once the server has counted them. The server
// moves the gauge after the limits' own count. The bound is a liveness one.
async function openConnections(c, n) {
  const end = Date.now() + 30_000;
  for (;;) {
    c.sock.write(GET("/metrics"));
    const r = await response(c);
    assert.equal(r.status, 200, JSON.stringify(r));
    const m = /^spoold_http_open_connections (\d+)$/m.exec(r.body);
    assert.ok(m, "spoold_http_open_connections in /metrics");
    if (Number(m[1]) === n) return;
    assert.ok(Date.now() < end, `the server counts ${m[1]} open connections after 30 s, waiting for ${n}`);
    await sleep(20);
  }
}

function assert503(r, why) {
  assert.equal(r.status, 503, JSON.stringify(r));
  assert.equal(r.headers["retry-after"], "2");
  assert.match(r.headers["content-type"], /^application\/json/);
  assert.equal(r.json.error.code, "serviceNotAvailable");
  assert.match(r.json.error.message, why);
  assert.ok(r.json.error.innerError["request-id"]);
}

describe("slow senders are cut off (--header-timeout, --body-timeout, --min-body-rate)", () => {
  let srv;
  before(async () => {
    srv = await startServer({ args: ["--header-timeout", "2", "--body-timeout", "2", "--min-body-rate", "100", "--idle-timeout", "60"] });
  });
  after(() => srv?.stop());

  it("one header byte a second: closed after the header deadline although never idle", async () => {
    const c = await connect(srv.port);
    const text = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let sent = 0;
    while (!c.closedAt && sent < text.length) {
      c.sock.write(text[sent++]);
      await sleep(1000);
    }
    assert.ok(c.closedAt, `still open after sending ${sent} bytes over ${sent} s`);
    // Not before the deadline (a lower bound: load only delays a close); and by the deadline,
    // not by --idle-timeout 60: never idle a full second, cut while the head was incomplete,
    // for the reason the server logs. No upper bound on the time: a loaded machine delays it.
    const took = c.closedAt - c.opened;
    assert.ok(took >= 1900, `closed after ${took} ms, before the 2 s deadline`);
    assert.ok(sent < text.length, "closed before the head was complete");
    assert.doesNotMatch(c.data, /HTTP\/1\.1 200/);
    await srv.waitForOutput(/closing the connection from 127\.0\.0\.1: no complete request head within 2 s/);
  });

  it("a keep-alive connection answering fast is not cut; the deadline restarts after each answer", async () => {
    const c = await connect(srv.port);
    for (let i = 0; i < 5; i++) {
      await getOk(c);
      await sleep(700);    // 3.5 s in all: longer than the deadline, each gap far shorter
    }
    assert.equal(c.closedAt, null);
    c.sock.destroy();
  });

  it("a keep-alive connection waiting for its next request is closed at the header deadline (2 s), not after --idle-timeout 60", async () => {
    const c = await connect(srv.port);
    await getOk(c);
    const answered = Date.now();
    const end = answered + 20_000;   // a liveness bound for a loaded machine
    while (!c.closedAt && Date.now() < end) await sleep(50);
    assert.ok(c.closedAt, "the waiting keep-alive connection is still open after 20 s");
    assert.ok(c.closedAt - answered >= 1900, `closed ${c.closedAt - answered} ms after its answer, before the 2 s deadline`);
  });

  it("a body trickling one byte a second is cut after the body window; a fast one passes", async () => {
    const c = await connect(srv.port);
    c.sock.write("POST /v1.0/print/taskDefinitions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n");
    let sent = 0;
    while (!c.closedAt && sent < 20) {
      c.sock.write("x");
      sent++;
      await sleep(1000);
    }
    assert.ok(c.closedAt, "still open after 20 s of trickle");
    // the reason is the server's log line below; only a lower bound on the time
    const took = c.closedAt - c.opened;
    assert.ok(took >= 1900, `closed after ${took} ms, before the 2 s window`);
    await srv.waitForOutput(/closing the connection from 127\.0\.0\.1: the request body arrived at \d+ bytes in the last 2 s, below --min-body-rate 100/);

    const f = await connect(srv.port);
    const body = JSON.stringify({ displayName: "x".repeat(900) });
    f.sock.write(`POST /v1.0/print/taskDefinitions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    const r = await response(f);
    assert.equal(r.status, 401, "read in full and answered (no token)");
    f.sock.destroy();
  });
});

describe("idle connections are closed after --idle-timeout", () => {
  let srv;
  before(async () => {
    srv = await startServer({ args: ["--idle-timeout", "1", "--header-timeout", "60"] });
  });
  after(() => srv?.stop());

  it("a keep-alive connection idle after its answer, and one that never sends, are closed (not after the 60 s default)", async () => {
    const answered = await connect(srv.port);
    await getOk(answered);
    const idleFrom = Date.now();
    const silent = await connect(srv.port);
    // --header-timeout 60 and the default --idle-timeout 60 would keep both open for a minute:
    // only the option given closes them. The 20 s bound is a liveness one for a loaded machine.
    const end = Date.now() + 20_000;
    while ((!answered.closedAt || !silent.closedAt) && Date.now() < end) await sleep(50);
    assert.ok(answered.closedAt, "the idle keep-alive connection is still open after 20 s");
    assert.ok(silent.closedAt, "the connection that sent nothing is still open after 20 s");
    assert.ok(answered.closedAt - idleFrom >= 900, `closed ${answered.closedAt - idleFrom} ms after its answer, before the 1 s idle timeout`);
    assert.ok(silent.closedAt - silent.opened >= 900, `closed ${silent.closedAt - silent.opened} ms after opening, before the 1 s idle timeout`);
    assert.equal(silent.data, "", "nothing is answered on a connection that sent nothing");
  });
});

describe("--threads bounds the requests served at once", () => {
  // The most requests whose sleeps overlap, from the server's own start and end of each sleep
  // (a request's end before another's start at the same microsecond: a thread ends one request
  // before it takes the next).
  function mostAtOnce(sleeps) {
    const events = sleeps.flatMap((s) => [[s.startedUs, 1], [s.endedUs, -1]]);
    events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let now = 0, most = 0;
    for (const [, d] of events) most = Math.max(most, (now += d));
    return most;
  }

  it("on --threads 2, six requests holding their thread (/debug/sleep) are served two at a time, never more", async (t) => {
    const srv = await startServer({ args: ["--threads", "2"] });
    t.after(() => srv.stop());
    const slow = (ms) => rawHttp(`${srv.origin}/debug/sleep?ms=${ms}`, { timeoutMs: 60_000 });
    // the server's line for the n-th sleep (30 s: a liveness bound for a loaded machine)
    const sleeping = (n) => srv.waitForOutput(new RegExp(`(?:debug: /debug/sleep sleeping[^]*?){${n}}`), 30_000);
    // Two long requests, the second sent once the first sleeps: a thread in a handler accepts no
    // connection, so the second goes to the other thread and both threads are held. The four
    // short ones sent then must wait for a thread; with more threads they would sleep at once.
    const answers = [slow(3000)];
    await sleeping(1);
    answers.push(slow(3000));
    await sleeping(2);
    for (let i = 0; i < 4; i++) answers.push(slow(300));
    const sleeps = [];
    for (const a of await Promise.all(answers)) {
      assert.equal(a.status, 200, a.text);
      sleeps.push(a.json);
    }
    assert.equal(mostAtOnce(sleeps), 2, `requests served at once on 2 threads: ${JSON.stringify(sleeps)}`);
    if (testStore() === "postgres") {
      // docs/operation.md: each process keeps a pool of --threads + 2 database connections
      const m = await rawHttp(`${srv.origin}/metrics`);
      assert.match(m.text, /^spoold_store_pool_connections 4$/m, "the pool of --threads 2");
    }
  });
});

describe("per-address connection limit: 503 with Retry-After, then closed at once past the reserve", () => {
  let srv;
  before(async () => { srv = await startServer({ args: ["--max-connections-per-ip", "2", "--max-connections", "100", "--idle-timeout", "300"] }); });
  after(() => srv?.stop());

  it("the third connection from one address gets 503 serviceNotAvailable and is closed; another address is served", async () => {
    const a = await connect(srv.port);
    const b = await connect(srv.port);
    await getOk(a);
    await getOk(b);
    const c = await connect(srv.port);
    c.sock.write(GET("/healthz"));
    const r = await response(c);
    assert503(r, /Too many open connections from your address \(at most 2\)/);
    assert.equal(r.headers.connection, "close");
    await c.closed;
    const other = await connect(srv.port, "127.0.0.2");
    await getOk(other);
    // the first two still work
    await getOk(a);
    for (const x of [a, b, other]) x.sock.destroy();
  });

  it("past the reserve (max(4, limit/8) more), a new connection is closed at once and the reason logged", async () => {
    // A probe from an address of its own reads the server's count: first only itself (the
    // previous test's connections are gone), then itself and the 6 held ones.
    const probe = await connect(srv.port, "127.0.0.4");
    await getOk(probe);
    await openConnections(probe, 1);
    const held = [];
    for (let i = 0; i < 6; i++) held.push(await connect(srv.port, "127.0.0.3"));
    await openConnections(probe, 7);   // all accepted and counted
    const late = await connect(srv.port, "127.0.0.3");
    // Closed by the server without a request from us and without an answer, for the reason it
    // logs. The wait is a liveness bound, not a speed one: a connection left open (the failure
    // this checks) would stay open until --idle-timeout 300.
    await Promise.race([late.closed, sleep(20_000)]);
    assert.ok(late.closedAt, "not closed by the server: left waiting");
    assert.equal(late.data, "");
    await srv.waitForOutput(/closing a new connection from 127\.0\.0\.3 at once: open connections from this address are past the limit of 2/);
    // the reserve connections still get their 503 answer
    held[5].sock.write(GET("/healthz"));
    assert503(await response(held[5]), /from your address/);
    for (const x of [...held, probe]) x.sock.destroy();
  });
});

describe("global connection limit: 503 past it, closed at once past the reserve, no backlog", () => {
  let srv;
  before(async () => { srv = await startServer({ args: ["--max-connections", "3", "--max-connections-per-ip", "100", "--idle-timeout", "300"] }); });
  after(() => srv?.stop());

  it("connections 4..7 get 503; the 8th is closed at once; after they go, service resumes", async () => {
    const ok = [];
    for (let i = 0; i < 3; i++) {
      const c = await connect(srv.port, `127.0.1.${i + 1}`);
      await getOk(c);
      ok.push(c);
    }
    const reserve = [];
    for (let i = 0; i < 4; i++) reserve.push(await connect(srv.port, `127.0.2.${i + 1}`));
    await openConnections(ok[0], 7);   // all accepted and counted, read over a served one
    const late = await connect(srv.port, "127.0.3.1");
    // a liveness bound (as above): left in the backlog it would wait for --idle-timeout 300
    await Promise.race([late.closed, sleep(20_000)]);
    assert.ok(late.closedAt, "the 8th connection was left waiting, not closed");
    assert.equal(late.data, "", "closed without an answer");
    await srv.waitForOutput(/closing a new connection from 127\.0\.3\.1 at once: open connections are past the limit of 3/);
    for (const c of reserve) {
      c.sock.write(GET("/healthz"));
      assert503(await response(c), /The server has too many open connections \(at most 3\)/);
      await c.closed;
    }
    // the others go (the server has closed the reserve ones); once it counts only ok[0], a new
    // connection is served again
    ok[1].sock.destroy();
    ok[2].sock.destroy();
    await openConnections(ok[0], 1);
    const again = await connect(srv.port, "127.0.3.2");
    await getOk(again);
    for (const c of [again, ok[0]]) c.sock.destroy();
  });
});

// Opens n connections (connection i from addressOf(i)) without waiting for one before the next,
// sending nothing. Resolves when each has connected or failed.
function burst(port, n, addressOf) {
  return Promise.all(Array.from({ length: n }, (_, i) => new Promise((resolve) => {
    const addr = addressOf(i);
    const sock = net.connect({ host: "127.0.0.1", port, localAddress: addr });
    const c = { sock, addr, data: "", closedAt: null, opened: Date.now() };
    c.closed = new Promise((res) => sock.on("close", () => { c.closedAt = Date.now(); res(); }));
    sock.setEncoding("latin1");
    sock.on("data", (d) => { c.data += d; });
    sock.on("error", () => { /* reset by the server: the close event follows */ });
    sock.once("connect", () => resolve(c));
    sock.once("error", (e) => { c.err = e; resolve(c); });
  })));
}

// The server's gauges of connections, read over c (a connection it serves): open ones (the
// library's count) and the limits' own counts of connections and of client addresses.
async function gauges(c) {
  c.sock.write(GET("/metrics"));
  const r = await response(c);
  assert.equal(r.status, 200, JSON.stringify(r));
  const num = (name) => {
    const m = new RegExp(`^${name} (\\d+)$`, "m").exec(r.body);
    assert.ok(m, `${name} in /metrics`);
    return Number(m[1]);
  };
  return {
    open: num("spoold_http_open_connections"),
    limit: num("spoold_http_limit_connections"),
    addresses: num("spoold_http_limit_addresses"),
  };
}

// Waits until every connection of a burst is accounted for: closed by the server (refused at
// accept) or counted by it as open besides the probe. A connection the kernel completed that
// the server has not accepted yet is neither. The bound is a liveness one: spoold keeps
// accepting, so a burst that never settles is the failure.
async function settle(probe, conns) {
  const end = Date.now() + 30_000;
  for (;;) {
    const g = await gauges(probe);
    const closed = conns.filter((c) => c.closedAt).length;
    if (closed + g.open - 1 === conns.length) return g;
    assert.ok(Date.now() < end, `after 30 s the server counts ${g.open} open and closed ${closed} of ${conns.length}`);
    await sleep(50);
  }
}

// Runs `rounds` bursts of perAddress connections from each of `addresses` client addresses
// (each address's connections one after the other in the burst, so that several worker threads
// cross its limit at the same time) against a server whose limit for each address (for all of
// them together when `global`) is `allowed` connections beside the probe, `served` of them
// served. The server is stopped (SIGSTOP) while the kernel completes the burst's connections
// into its listen backlog, so that on SIGCONT every worker thread finds them waiting at once.
// Once a burst settles, every connection the server holds is asked for /healthz (200 or 503);
// then all are closed and the server's counts must return to the probe alone (nothing left
// reserved). Every round is run, so a failure says how often and by how much the limits were
// exceeded. BURST_ROUNDS overrides the number of rounds.
async function bursts(srv, probe, { rounds, addresses, perAddress, allowed, served, global = false }) {
  rounds = Number(process.env.BURST_ROUNDS || rounds);
  const over = [];
  let full = 0;
  const addrs = Array.from({ length: addresses }, (_, a) => `127.0.${6 + (a >> 8)}.${(a & 255) + 1}`);
  for (let round = 0; round < rounds; round++) {
    process.kill(srv.pid, "SIGSTOP");
    let conns;
    try {
      conns = await burst(srv.port, addresses * perAddress, (i) => addrs[Math.floor(i / perAddress)]);
    } finally {
      process.kill(srv.pid, "SIGCONT");
    }
    const g = await settle(probe, conns);
    assert.equal(g.limit, g.open, "the limits count the open connections, none left reserved");
    const open = conns.filter((c) => !c.closedAt);
    assert.equal(open.length, g.open - 1, "the server holds exactly the connections the client sees open");
    const answers = await Promise.all(open.map(async (c) => {
      c.sock.write(GET("/healthz"));
      return (await response(c)).status;
    }));
    assert.ok(answers.every((s) => s === 200 || s === 503), `only 200 and 503: ${answers}`);
    const groups = global ? [answers] : addrs.map((a) => answers.filter((s, i) => open[i].addr === a));
    for (const held of groups) {
      const ok = held.filter((s) => s === 200).length;
      if (held.length === allowed && ok === served) full++;
      if (held.length > allowed || ok > served) over.push(`round ${round}: ${held.length} accepted, ${ok} served`);
    }
    for (const c of conns) c.sock.destroy();
    await openConnections(probe, 1);
    assert.deepEqual(await gauges(probe), { open: 1, limit: 1, addresses: 1 }, "the counts return to the probe's connection");
  }
  return { over, full };
}

// A burst of connections at once goes through libmicrohttpd's accept policy on several worker
// threads at the same time: the limits' check and their count must be one step, or more
// connections than a limit and its reserve are accepted (up to --threads - 1 more). The window
// is microseconds wide, so each test runs many bursts.
describe("a burst of connections at once never exceeds the limits and their reserve", () => {
  it("global: at most --max-connections served and max(4, N/8) more answered 503", async () => {
    const srv = await startServer({ args: ["--max-connections", "3", "--max-connections-per-ip", "1000", "--threads", "8", "--idle-timeout", "300", "--header-timeout", "300"] });
    try {
      const probe = await connect(srv.port, "127.0.5.1");
      await getOk(probe);
      // the probe is one of the 3 served: 2 more served, 4 answered 503, 58 closed at once
      const { over, full } = await bursts(srv, probe, { rounds: 40, addresses: 64, perAddress: 1, allowed: 6, served: 2, global: true });
      assert.deepEqual(over, [], `past the limit 3 and its reserve 4 in ${over.length} rounds`);
      assert.ok(full > 0, "no burst filled the limit and its reserve");
      probe.sock.destroy();
    } finally {
      await srv.stop();
    }
  });

  it("per address: at most --max-connections-per-ip served and its reserve answered 503, for each of 16 addresses", async () => {
    const srv = await startServer({ args: ["--max-connections", "1000", "--max-connections-per-ip", "2", "--threads", "8", "--idle-timeout", "300", "--header-timeout", "300"] });
    try {
      const probe = await connect(srv.port, "127.0.5.1");
      await getOk(probe);
      // 8 at once from each address: 2 served, 4 answered 503, 2 closed at once
      const { over, full } = await bursts(srv, probe, { rounds: 20, addresses: 16, perAddress: 8, allowed: 6, served: 2 });
      assert.deepEqual(over, [], `past the limit 2 and its reserve 4 for ${over.length} addresses`);
      assert.ok(full > 0, "no burst filled an address's limit and its reserve");
      probe.sock.destroy();
    } finally {
      await srv.stop();
    }
  });
});
