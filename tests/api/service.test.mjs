// SPDX-License-Identifier: Apache-2.0
// Running as a system service: systemd's notification protocol (READY=1, RELOADING=1, STOPPING=1,
// WATCHDOG=1 on a NOTIFY_SOCKET this test creates), SIGHUP reloads of the configuration (a rotated
// TLS certificate and a changed issuer/JWKS, while requests are in flight, none dropped; log
// format and level), journal-style log lines under JOURNAL_STREAM, and `spoold backup` of a live
// store under write load restored with `spoold restore` (integrity check, every job acknowledged
// before the backup began is there with its document bytes). With SPOOLD_TEST_STORE=postgres the
// backup test checks that `spoold backup` refuses a PostgreSQL store (pg_dump's job) instead.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { randomUUID, X509Certificate } from "node:crypto";
import { readFile, rm, writeFile, rename, copyFile, mkdir } from "node:fs/promises";
import path from "node:path";
import tls from "node:tls";
import { setTimeout as sleep } from "node:timers/promises";
import { startServer, makeTempDir } from "./lib/server.mjs";
import { rawFetch, rawHttp, closeAgents } from "./lib/clients.mjs";
import { makeSelfSignedCert } from "./lib/tls.mjs";
import { TestIssuer } from "./lib/jwt.mjs";
import { spooldCli } from "./lib/cli.mjs";
import { testStore, storeArgsFor } from "./lib/store.mjs";
import {
  PRINTER_MANAGEMENT_SCOPES, mintTokens, registerPrinter, createShare, createJob, uploadDocument,
} from "./lib/fixtures.mjs";

after(() => closeAgents());

// A datagram socket at `file` that collects what spoold sends to NOTIFY_SOCKET. Node has no
// AF_UNIX datagram sockets, so a small python3 process binds it and prints each message as one
// JSON line.
// An abstract socket name is given as "@name".
async function notifyListener(file) {
  const py = `
import socket, sys, json
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
a = sys.argv[1]
s.bind("\\0" + a[1:] if a.startswith("@") else a)
print("bound", flush=True)
while True:
    m = s.recv(65536)
    print(json.dumps(m.decode()), flush=True)
`;
  const child = spawn("python3", ["-c", py, file], { stdio: ["ignore", "pipe", "inherit"] });
  const messages = [];
  let pending = "";
  let bound;
  const ready = new Promise((res) => { bound = res; });
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (d) => {
    pending += d;
    let nl;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (line === "bound") bound();
      else messages.push(JSON.parse(line));
    }
  });
  await Promise.race([ready, sleep(30_000, undefined, { ref: false }).then(() => { throw new Error("python3 did not bind the socket"); })]);
  return {
    messages,
    async waitFor(pred, what, ms = 15_000) {
      const t0 = Date.now();
      for (;;) {
        const i = messages.findIndex(pred);
        if (i >= 0) return messages[i];
        if (Date.now() - t0 > ms) throw new Error(`no ${what} on NOTIFY_SOCKET; got ${JSON.stringify(messages)}`);
        await sleep(20);
      }
    },
    close() { child.kill("SIGKILL"); },
  };
}

const fields = (msg) => Object.fromEntries(msg.split("\n").filter(Boolean).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));

describe("systemd notification protocol", () => {
  it("READY=1 with MAINPID once listening, RELOADING=1/READY=1 on SIGHUP, WATCHDOG=1, STOPPING=1", async (t) => {
    const dir = await makeTempDir("spoold-notify-");
    t.after(() => rm(dir, { recursive: true, force: true }));
    const sock = path.join(dir, "notify.sock");
    const n = await notifyListener(sock);
    t.after(() => n.close());
    const srv = await startServer({ env: { NOTIFY_SOCKET: sock, WATCHDOG_USEC: "200000" } });
    t.after(() => srv.kill());

    const ready = fields(await n.waitFor((m) => /^READY=1$/m.test(m), "READY=1"));
    assert.equal(ready.MAINPID, String(srv.pid), "MAINPID is the server's pid");
    // before it: the start timeout extended while the store is checked and migrated (a large
    // store's migration outlasts the unit's TimeoutStartSec), never after READY=1
    const readyAt = n.messages.findIndex((m) => /^READY=1$/m.test(m));
    const extend = n.messages.findIndex((m) => /^EXTEND_TIMEOUT_USEC=/m.test(m));
    assert.ok(extend >= 0 && extend < readyAt, `EXTEND_TIMEOUT_USEC before READY=1: ${JSON.stringify(n.messages)}`);
    assert.deepEqual(fields(n.messages[extend]),
      { EXTEND_TIMEOUT_USEC: "60000000", STATUS: "checking and migrating the store" });
    assert.match(ready.STATUS, /^serving on http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal((await rawFetch(`${srv.origin}/readyz`)).status, 200, "ready means it answers");

    // the watchdog interval is 200 ms: pings every 100 ms, so they keep coming. Waited for
    // (a liveness bound): counting those of a fixed 700 ms was the machine's speed.
    await n.waitFor((m, i, all) => all.filter((x) => x === "WATCHDOG=1").length >= 3, "three WATCHDOG=1 pings");

    const before = n.messages.length;
    srv.signal("SIGHUP");
    await n.waitFor((m, i) => i >= before && /^RELOADING=1$/m.test(m), "RELOADING=1");
    await n.waitFor((m, i) => i > before && /^READY=1$/m.test(m) && !/MAINPID/.test(m), "READY=1 after the reload");

    const st = await srv.stop();
    assert.equal(st.code, 0);
    assert.ok(n.messages.some((m) => /^STOPPING=1$/m.test(m)), `STOPPING=1: ${JSON.stringify(n.messages)}`);
  });

  it("an abstract NOTIFY_SOCKET (@name) works too, and no NOTIFY_SOCKET means no notification", async (t) => {
    const name = `spoold-test-${randomUUID()}`;
    // python3 binds the abstract name ("\0" + name)
    const dir = await makeTempDir("spoold-notify-");
    t.after(() => rm(dir, { recursive: true, force: true }));
    const n = await notifyListener(`@${name}`);
    t.after(() => n.close());
    const srv = await startServer({ env: { NOTIFY_SOCKET: `@${name}` } });
    t.after(() => srv.stop());
    await n.waitFor((m) => /^READY=1$/m.test(m), "READY=1 on the abstract socket");
    assert.ok(!n.messages.some((m) => m === "WATCHDOG=1"), "no watchdog without WATCHDOG_USEC");
  });
});

describe("journal log lines", () => {
  it("under JOURNAL_STREAM naming its stderr, text lines carry <N> priorities and no time stamp", async (t) => {
    // spoold compares JOURNAL_STREAM with the device:inode of its stderr: give it a file and the
    // file's numbers, as systemd does with the journal's socket.
    const dir = await makeTempDir("spoold-journal-");
    t.after(() => rm(dir, { recursive: true, force: true }));
    const errFile = path.join(dir, "stderr");
    await writeFile(errFile, "");
    const { openSync, fstatSync, closeSync } = await import("node:fs");
    const fd = openSync(errFile, "a");
    const st = fstatSync(fd, { bigint: true });
    const child = spawn(process.env.SPOOLD_BIN || path.resolve("../../build/spoold"),
      ["serve", "--listen", "127.0.0.1:0", "--data", path.join(dir, "data"), "--dev"],
      { stdio: ["ignore", "pipe", fd], env: { ...process.env, JOURNAL_STREAM: `${st.dev}:${st.ino}` } });
    closeSync(fd);
    t.after(() => { try { child.kill("SIGKILL"); } catch { /* gone */ } });
    let out = "";
    child.stdout.setEncoding("utf8");
    const port = await new Promise((res, rej) => {
      child.stdout.on("data", (d) => { out += d; const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out); if (m) res(m[1]); });
      child.once("exit", () => rej(new Error("spoold exited")));
    });
    assert.equal((await rawFetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    child.kill("SIGTERM");
    await new Promise((res) => child.once("exit", res));
    const lines = (await readFile(errFile, "utf8")).split("\n").filter(Boolean);
    assert.ok(lines.length > 3, lines.join("\n"));
    for (const l of lines) assert.match(l, /^<[3467]>/, `every line starts with a priority: ${l}`);
    assert.ok(lines.some((l) => /^<6>spoold \S+: store/.test(l)), "info is <6>, without time or level word");
    assert.ok(lines.some((l) => /^<6>\S+ - GET healthz 200 /.test(l)), "the request line is <6>");
    assert.ok(!lines.some((l) => /\d{4}-\d\d-\d\dT\d\d:\d\d/.test(l)), "no time stamps (the journal adds them)");
  });
});

describe("--sqlite-synchronous", () => {
  it("normal reaches the SQLite store (its startup warning), and durable writes still answer; PostgreSQL refuses it", async (t) => {
    if (testStore() === "postgres") {
      await assert.rejects(startServer({ args: ["--sqlite-synchronous", "normal"] }),
        /--sqlite-synchronous normal applies to a SQLite store/);
      return;
    }
    const srv = await startServer({ args: ["--sqlite-synchronous", "normal"] });
    t.after(() => srv.kill());
    // the store's own line, written only when the writer was opened with synchronous=NORMAL
    // (the option was once parsed and then never handed to the store)
    assert.match(srv.output, /synchronous=NORMAL \(--sqlite-synchronous normal\): a write answered 2xx survives a crash of spoold/);
    assert.equal((await rawFetch(`${srv.url}/readyz`)).status, 200);
    await srv.stop();
    const full = await startServer();
    t.after(() => full.kill());
    assert.doesNotMatch(full.output, /synchronous=NORMAL/, "full (the default) logs no warning");
    await full.stop();
  });
});

describe("options given at start reach the code that uses them", () => {
  it("--log-level warn (and SPOOLD_LOG_LEVEL=error) leaves out the info lines: start-up and one per request", async (t) => {
    const quiet = await startServer({ args: ["--log-level", "warn"] });
    t.after(() => quiet.kill());
    assert.equal((await rawFetch(`${quiet.url}/healthz`)).status, 200);
    await quiet.stop();
    assert.doesNotMatch(quiet.output, / - GET healthz 200 /, "no request line at warn");
    assert.doesNotMatch(quiet.output, /spoold \S+: store /, "no start-up info line at warn");
    const env = await startServer({ env: { SPOOLD_LOG_LEVEL: "error" } });
    t.after(() => env.kill());
    assert.equal((await rawFetch(`${env.url}/healthz`)).status, 200);
    await env.stop();
    assert.doesNotMatch(env.output, / - GET healthz 200 |spoold \S+: store /, "no info line at error");
    // the control: the default level (info) writes both lines
    const loud = await startServer();
    t.after(() => loud.kill());
    assert.equal((await rawFetch(`${loud.url}/healthz`)).status, 200);
    await loud.stop();
    assert.match(loud.output, / - GET healthz 200 /);
    assert.match(loud.output, /spoold \S+: store /);
  });

  it("--console-issuer, --console-client-id and --console-scopes reach /console/config.json, the scopes with their documented default", async (t) => {
    const issuer = "https://login.example.test/contoso/v2.0";
    const srv = await startServer({ args: ["--console-issuer", issuer, "--console-client-id", "console-app",
      "--console-scopes", "openid api://spoold/Print.All"] });
    t.after(() => srv.kill());
    const r = await rawFetch(`${srv.url}/console/config.json`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.oidc, { issuer, clientId: "console-app", scopes: "openid api://spoold/Print.All" });
    await srv.stop();
    const dflt = await startServer({ args: ["--console-issuer", issuer, "--console-client-id", "console-app"] });
    t.after(() => dflt.kill());
    const d = await rawFetch(`${dflt.url}/console/config.json`);
    assert.equal(d.status, 200, d.text);
    assert.equal(d.json.oidc.scopes, "openid profile offline_access https://graph.microsoft.com/.default");
    await dflt.stop();
  });
});

describe("SIGHUP reload", () => {
  it("a rotated TLS certificate and a changed issuer/JWKS take effect; requests in flight finish; none is dropped", async (t) => {
    const dir = await makeTempDir("spoold-reload-");
    t.after(() => rm(dir, { recursive: true, force: true }));
    const c1 = await makeSelfSignedCert(await makeTempDir("spoold-tls1-"));
    const c2 = await makeSelfSignedCert(await makeTempDir("spoold-tls2-"));
    const certFile = path.join(dir, "cert.pem"), keyFile = path.join(dir, "key.pem");
    await copyFile(c1.certFile, certFile);
    await copyFile(c1.keyFile, keyFile);
    const tid = randomUUID();
    const issA = new TestIssuer({ iss: `https://issuer-a.test/${tid}/v2.0` });
    const issB = new TestIssuer({ iss: `https://issuer-b.test/${tid}/v2.0` });
    issA.addKey("RS256");
    issB.addKey("ES256");
    const jwksA = path.join(dir, "a.json"), jwksB = path.join(dir, "b.json");
    await issA.writeJwks(jwksA);
    await issB.writeJwks(jwksB);
    const conf = path.join(dir, "spoold.conf");
    const writeConf = async (lines) => {
      await writeFile(`${conf}.tmp`, lines.join("\n") + "\n");
      await rename(`${conf}.tmp`, conf);
    };
    const base = [`tls-cert = ${certFile}`, `tls-key = ${keyFile}`];
    await writeConf([...base, `issuer = ${issA.iss}`, `jwks = ${jwksA}`]);
    // --dev too: /debug/sleep makes the slow in-flight request
    const srv = await startServer({ args: ["--config", conf] });
    t.after(() => srv.kill());
    assert.equal(srv.scheme, "https");
    await spooldCli(["tenant", "add", tid, "--data", srv.dataDir]);

    const peer = () => new Promise((res, rej) => {
      const s = tls.connect({ host: "127.0.0.1", port: srv.port, rejectUnauthorized: false }, () => {
        const c = s.getPeerX509Certificate();
        s.end();
        res(c.fingerprint256);
      });
      s.on("error", rej);
    });
    const fp = (pem) => new X509Certificate(pem).fingerprint256;
    assert.equal(await peer(), fp(c1.certPem), "serves the first certificate");
    const tokA = issA.userToken({ tid, scopes: "PrintSettings.Read.All", admin: true });
    const tokB = issB.userToken({ tid, scopes: "PrintSettings.Read.All", admin: true });
    const printStatus = async (tok) => (await rawHttp(`${srv.origin}/v1.0/print`, { token: tok, ca: [c1.certPem, c2.certPem], timeoutMs: 10_000 })).status;
    assert.equal(await printStatus(tokA), 200, "issuer A trusted");
    assert.equal(await printStatus(tokB), 401, "issuer B not yet");

    // Requests in flight across the reload: one slow request, and a steady stream of short ones
    // on fresh connections (each a new TLS handshake) until after the reload.
    const ca = [c1.certPem, c2.certPem];
    const slow = rawHttp(`${srv.origin}/debug/sleep?ms=1500`, { ca, timeoutMs: 10_000 });
    let streaming = true;
    const results = [];
    const stream = (async () => {
      while (streaming) {
        results.push({ at: Date.now(), s: await rawHttp(`${srv.origin}/readyz`, { ca, timeoutMs: 10_000 }).then((r) => r.status, (e) => e.code || e.message) });
      }
    })();
    const stream2 = (async () => {
      while (streaming) {
        results.push({ at: Date.now(), s: await rawHttp(`${srv.origin}/debug/sleep?ms=50`, { ca, timeoutMs: 10_000 }).then((r) => r.status, (e) => e.code || e.message) });
      }
    })();
    await sleep(300);
    await copyFile(c2.certFile, `${certFile}.new`);
    await copyFile(c2.keyFile, `${keyFile}.new`);
    await rename(`${certFile}.new`, certFile);
    await rename(`${keyFile}.new`, keyFile);
    await writeConf([...base, `issuer = ${issB.iss}`, `jwks = ${jwksB}`, "log-level = info"]);
    const mark = srv.output.length;
    srv.signal("SIGHUP");
    const t0 = Date.now();
    // waits for the log line: a liveness bound (the line never coming is the failure),
    // generous so that a loaded machine cannot trip it
    while (!/SIGHUP: reload done/.test(srv.output.slice(mark))) {
      assert.ok(Date.now() - t0 < 30_000, `no "reload done" in the log:\n${srv.output.slice(mark)}`);
      await sleep(20);
    }
    // go on until several requests started after the signal have been answered
    while (results.filter((x) => x.at > t0).length < 4) {
      assert.ok(Date.now() - t0 < 20_000, `requests after the reload: ${JSON.stringify(results)}`);
      await sleep(20);
    }
    streaming = false;
    await Promise.all([stream, stream2]);
    const r = await slow;
    assert.equal(r.status, 200, "the request in flight during the reload completed");
    assert.equal(r.json.slept, 1500);
    assert.ok(results.some((x) => x.at < t0), "requests were answered before the reload too");
    assert.deepEqual(results.filter((x) => x.s !== 200), [], `every request across the reload succeeded: ${JSON.stringify(results)}`);

    const log = srv.output.slice(mark);
    assert.match(log, /SIGHUP: TLS certificate replaced from .*cert\.pem: subject CN=127\.0\.0\.1, expires \S+, sha256 [0-9a-f]{64}/);
    assert.match(log, new RegExp(`SIGHUP: trusted issuers changed: 1 -> 1: ${issB.iss.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}`));
    assert.equal(await peer(), fp(c2.certPem), "new connections get the new certificate");
    assert.equal(await printStatus(tokB), 200, "issuer B trusted after the reload");
    assert.equal(await printStatus(tokA), 401, "issuer A no longer");

    // a key that does not match the certificate is refused; the current pair stays
    await copyFile(c1.keyFile, keyFile);
    const mark2 = srv.output.length;
    srv.signal("SIGHUP");
    const t1 = Date.now();
    while (!/SIGHUP: reload done/.test(srv.output.slice(mark2))) {
      assert.ok(Date.now() - t1 < 30_000, "no reload");  // liveness bound, as above
      await sleep(20);
    }
    assert.match(srv.output.slice(mark2), /TLS certificate not reloaded, keeping the one in use .*does not belong to the certificate/);
    assert.equal(await peer(), fp(c2.certPem), "still the second certificate");
    assert.equal(await printStatus(tokB), 200);
    await srv.stop();
  });

  it("log format and level change live; options that need a restart are named; a broken file changes nothing", async (t) => {
    const dir = await makeTempDir("spoold-reload-");
    t.after(() => rm(dir, { recursive: true, force: true }));
    const conf = path.join(dir, "spoold.conf");
    await writeFile(conf, "log-format = text\n");
    const srv = await startServer({ args: ["--config", conf] });
    t.after(() => srv.kill());
    const reload = async () => {
      const mark = srv.output.length;
      srv.signal("SIGHUP");
      const t0 = Date.now();
      while (!/reload done|configuration not reloaded/.test(srv.output.slice(mark))) {
        assert.ok(Date.now() - t0 < 30_000, `no reload in the log:\n${srv.output.slice(mark)}`);
        await sleep(20);
      }
      return srv.output.slice(mark);
    };
    await writeFile(conf, "log-format = json\nmax-body = 2MiB\n");
    let log = await reload();
    assert.match(log, /SIGHUP: log format text -> json/);
    assert.match(log, /SIGHUP: changed, applied at the next restart only: --max-body/);
    const mark = srv.output.length;
    await rawFetch(`${srv.origin}/healthz`);
    await sleep(100);
    const reqLine = srv.output.slice(mark).split("\n").find((l) => l.includes("healthz"));
    assert.ok(reqLine && JSON.parse(reqLine).route === "healthz", `request log is JSON now: ${reqLine}`);

    await writeFile(conf, "log-format = json\nmax-body = 2MiB\nlog-level = warn\n");
    log = await reload();
    assert.match(log, /log level info -> warn/);
    const mark2 = srv.output.length;
    await rawFetch(`${srv.origin}/healthz`);
    await sleep(100);
    assert.ok(!srv.output.slice(mark2).includes("healthz"), "at warn, requests are not logged");

    await writeFile(conf, "log-format = yaml\n");
    log = await reload();
    assert.match(log, /configuration not reloaded, keeping the running one: --log-format must be json or text/);
    await srv.stop();
  });
});

describe("spoold backup and restore", () => {
  const ADMIN = [...PRINTER_MANAGEMENT_SCOPES, "PrintJob.ReadWrite.All", "PrinterShare.ReadWrite.All"].join(" ");

  it("a backup of a live store under write load restores every job acknowledged before it began, with its document", async (t) => {
    const srv = await startServer({ args: ["--max-jobs-per-printer-window", "0", "--max-jobs-per-user-window", "0"] });
    t.after(() => srv.kill());
    if (testStore() === "postgres") {
      // A PostgreSQL store is backed up with pg_dump: spoold backup says so and writes nothing.
      const [, url] = await storeArgsFor(srv.dataDir);
      const dir = await makeTempDir("spoold-bk-");
      t.after(() => rm(dir, { recursive: true, force: true }));
      const r = await spooldCli(["backup", "--store", url, "--to", path.join(dir, "b")]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /is PostgreSQL: back it up with pg_dump/);
      await srv.stop();
      return;
    }
    const tid = randomUUID();
    const tok = await mintTokens(srv, tid, { admin: { scopes: ADMIN, admin: true } });
    const printer = await registerPrinter(srv, tok.admin, { name: "Backup" });
    const parent = `printers/${printer}`;

    // jobs with documents: 3 small ones kept in the database's blob rows, 2 of 70 KiB in files
    const docs = new Map();
    for (let i = 0; i < 5; i++) {
      const job = await createJob(srv, tok.admin, parent, {});
      const pad = Buffer.alloc(i < 3 ? 0 : 70 * 1024, 0x20);
      const bytes = Buffer.concat([Buffer.from(`%PDF-1.7\n% backup test ${i} ${randomUUID()}\n`), pad, Buffer.from("%%EOF\n")]);
      await uploadDocument(srv, tok.admin, parent, job, bytes);
      docs.set(job.id, bytes);
    }
    // write load: 4 writers creating jobs; each acknowledged id is recorded with the time of its 201
    const acked = [];
    let writing = true;
    const writers = Array.from({ length: 4 }, async () => {
      while (writing) {
        const r = await rawFetch(`${srv.origin}/v1.0/print/${parent}/jobs`, { method: "POST", token: tok.admin, json: {} });
        assert.equal(r.status, 201, r.text);
        acked.push({ id: r.json.id, at: Date.now() });
      }
    });
    // more than 10 jobs acknowledged before the backup (waited for: 800 ms of sleep were not
    // always enough on a loaded machine; a liveness bound)
    for (const end = Date.now() + 60_000; acked.length <= 10;) {
      assert.ok(Date.now() < end, `${acked.length} jobs acknowledged after 60 s`);
      await sleep(20);
    }
    // The server holds SQLite's shared lock on the WAL index (byte 128 of spoold.db-shm): without
    // it, the backup's connection would take the database for unused and rebuild the index under
    // the server (SIGBUS). F_GETLK from another process reports a lock held by any other.
    const held = execFileSync("python3", ["-c",
      "import fcntl,os,struct,sys; fd=os.open(sys.argv[1], os.O_RDWR); " +
      "r=fcntl.fcntl(fd, fcntl.F_GETLK, struct.pack('hhqqi', fcntl.F_WRLCK, 0, 128, 1, 0)); " +
      "print(struct.unpack('hhqqi', r)[0] != fcntl.F_UNLCK)",
      path.join(srv.dataDir, "spoold.db-shm")], { encoding: "utf8" }).trim();
    assert.equal(held, "True", "the server holds its lock on the WAL index");
    const bk = path.join(await makeTempDir("spoold-bk-"), "backup");
    t.after(() => rm(path.dirname(bk), { recursive: true, force: true }));
    const began = Date.now();
    const ackedBefore = acked.filter((a) => a.at < began).map((a) => a.id);
    const b = await spooldCli(["backup", "--data", srv.dataDir, "--to", bk], { timeoutMs: 60_000 });
    await sleep(300);
    writing = false;
    await Promise.all(writers);
    assert.equal(b.code, 0, `backup: ${b.stdout}${b.stderr}`);
    assert.match(b.stdout, /^backup .*: store schema version \d+, \d+ bytes; 2 document file\(s\), \d+ bytes/);
    assert.doesNotMatch(b.stderr, /warning/, "the documents kept in the database are in the snapshot");
    assert.ok(ackedBefore.length > 10, `jobs acknowledged before the backup: ${ackedBefore.length}`);
    assert.ok(acked.length > ackedBefore.length, "writes went on during the backup");

    // restore into a fresh data directory and serve it
    const data2 = await makeTempDir("spoold-restored-");
    t.after(() => rm(data2, { recursive: true, force: true }));
    const res = await spooldCli(["restore", "--from", bk, "--data", data2]);
    assert.equal(res.code, 0, `restore: ${res.stdout}${res.stderr}`);
    // an independent integrity check of the restored file
    const check = execFileSync("python3", ["-c",
      "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute('PRAGMA integrity_check').fetchone()[0])",
      path.join(data2, "spoold.db")], { encoding: "utf8" }).trim();
    assert.equal(check, "ok");
    // restoring over an existing store is refused
    const again = await spooldCli(["restore", "--from", bk, "--data", data2]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists; move it/);
    await srv.stop();

    const srv2 = await startServer({ dataDir: data2 });
    t.after(() => srv2.kill());
    const tok2 = await mintTokens(srv2, tid, { admin: { scopes: ADMIN, admin: true } });
    const missing = [];
    for (const id of ackedBefore) {
      const r = await rawFetch(`${srv2.origin}/v1.0/print/${parent}/jobs/${id}`, { token: tok2.admin });
      if (r.status !== 200) missing.push(`${id}: ${r.status}`);
    }
    assert.deepEqual(missing, [], "every job acknowledged before the backup began is in the restored store");
    for (const [id, bytes] of docs) {
      const list = await rawFetch(`${srv2.origin}/v1.0/print/${parent}/jobs/${id}/documents`, { token: tok2.admin });
      assert.equal(list.status, 200, list.text);
      const doc = list.json.value[0];
      let v = await rawFetch(`${srv2.origin}/v1.0/print/${parent}/jobs/${id}/documents/${doc.id}/$value`, { token: tok2.admin });
      if (v.status === 302) v = await rawFetch(v.headers.get("location").replace(srv2.url, srv2.origin));   // pre-authorized URL
      assert.equal(v.status, 200, `document of job ${id}: ${v.status} ${v.text}`);
      assert.ok(v.body.equals(bytes), `document bytes of job ${id}`);
    }
    await srv2.stop();
  });

  it("backup and restore take the data directory and the store from --config (the service's spoold.conf)", async (t) => {
    const dir = await makeTempDir("spoold-bk-conf-");
    t.after(() => rm(dir, { recursive: true, force: true }));
    // a SQLite store of its own on either backend (backup copies SQLite stores only), with a
    // tenant that tells it from any other store
    const data = path.join(dir, "data");
    const tid = randomUUID();
    await mkdir(data);
    const m = await spooldCli(["migrate", "--store", `sqlite:${data}/spoold.db`]);
    assert.equal(m.code, 0, `migrate: ${m.stdout}${m.stderr}`);
    const add = await spooldCli(["tenant", "add", tid, "--store", `sqlite:${data}/spoold.db`, "--data", data]);
    assert.equal(add.code, 0, `tenant add: ${add.stdout}${add.stderr}`);
    const conf = path.join(dir, "spoold.conf");
    await writeFile(conf, `# what backup reads\ndata = ${data}\n`);
    const bk = path.join(dir, "backup");
    const b = await spooldCli(["backup", "--config", conf, "--to", bk]);
    assert.equal(b.code, 0, `backup: ${b.stdout}${b.stderr}`);
    const data2 = path.join(dir, "restored");
    const conf2 = path.join(dir, "restored.conf");
    await writeFile(conf2, `data = ${data2}\n`);
    const r = await spooldCli(["restore", "--from", bk, "--config", conf2]);
    assert.equal(r.code, 0, `restore: ${r.stdout}${r.stderr}`);
    const list = await spooldCli(["tenant", "list", "--store", `sqlite:${data2}/spoold.db`]);
    assert.equal(list.code, 0, `tenant list: ${list.stdout}${list.stderr}`);
    assert.match(list.stdout, new RegExp(tid), "the restored store is the one the first file named");
    // a store key in the file is the store backed up: a PostgreSQL one is refused, naming it
    await writeFile(conf, `data = ${data}\nstore = postgres://db.invalid/spoold\n`);
    const pg = await spooldCli(["backup", "--config", conf, "--to", path.join(dir, "pg")]);
    assert.equal(pg.code, 1, `${pg.stdout}${pg.stderr}`);
    assert.match(pg.stderr, /PostgreSQL: back it up with pg_dump/);
  });

  it("refuses an existing target, a PostgreSQL store, and a damaged backup", async (t) => {
    const dir = await makeTempDir("spoold-bk-");
    t.after(() => rm(dir, { recursive: true, force: true }));
    let r = await spooldCli(["backup", "--data", path.join(dir, "none"), "--to", dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot create .*File exists/);
    r = await spooldCli(["backup", "--store", "postgres://db.invalid/spoold", "--to", path.join(dir, "x")]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /PostgreSQL: back it up with pg_dump/);
    r = await spooldCli(["backup", "--to"]);
    assert.equal(r.code, 2);
    await writeFile(path.join(dir, "spoold.db"), "this is not a database");
    r = await spooldCli(["restore", "--from", dir, "--data", path.join(dir, "r")]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /spoold restore: .*(not a database|cannot)/);
  });
});
