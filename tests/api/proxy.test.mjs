// SPDX-License-Identifier: Apache-2.0
// `spoold proxy` between a real spoold and real printers: ippeveprinter (cups-ipp-utils) playing
// an IPP Everywhere printer, and a raw TCP sink playing a JetDirect printer, all on 127.0.0.1.
// Jobs are created through the Graph API; what reaches the "paper" is checked byte for byte.
//
// ippeveprinter 2.4 will not start without a D-Bus system bus even with `-r off`: a private
// dbus-daemon on a Unix socket stands in (nothing is published without avahi-daemon).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { serverForSuite, registerPrinter, createShare, createJob, uploadDocument, TEST_PDF } from "./lib/fixtures.mjs";
import { makeTempDir, spooldBin } from "./lib/server.mjs";
import { rawFetch, kiotaClient } from "./lib/clients.mjs";
import { spooldCli } from "./lib/cli.mjs";
import { ippRequest, attr, OP } from "./lib/ipp.mjs";
// start / stop: a process stopped by PID after the suite, its output kept for failure messages.
import { startAvahi, startProcess as start, stopProcess as stop } from "./lib/avahi.mjs";
import { randomUUID } from "node:crypto";

const APP = "22222222-3333-4444-5555-666666666666";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

async function until(what, fn, ms = 30_000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}

// A private system bus and an ippeveprinter on it, with a spool directory that keeps files.
// With avahi (lib/avahi.mjs) it uses that bus and announces itself over DNS-SD instead.
async function startIppeve(dir, name, avahi = null) {
  if (avahi) {
    const spool = path.join(dir, "spool-dnssd");
    await mkdir(spool, { recursive: true });
    const port = await freePort();
    const eve = start("ippeveprinter", ["-p", String(port), "-n", "localhost", "-d", spool, "-k",
      "-f", "application/pdf,image/jpeg", "-s", "600", name], { env: avahi.env });
    return { eve, spool, port, uri: `ipp://localhost:${port}/ipp/print` };
  }
  const bus = path.join(dir, "bus");
  await writeFile(path.join(dir, "dbus.conf"), `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>unix:path=${bus}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/>
<allow own="*"/><allow user="*"/></policy></busconfig>`);
  const dbus = start("dbus-daemon", ["--config-file", path.join(dir, "dbus.conf"), "--nofork"]);
  await until("the private D-Bus socket", async () => readdir(dir).then((f) => f.includes("bus")));
  const spool = path.join(dir, "spool");
  await mkdir(spool, { recursive: true });
  const port = await freePort();
  const eve = start("ippeveprinter", ["-p", String(port), "-n", "localhost", "-d", spool, "-k", "-r", "off",
    "-f", "application/pdf,image/jpeg", "-s", "600", name],
  { env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${bus}` } });
  const uri = `ipp://localhost:${port}/ipp/print`;
  await until("ippeveprinter to answer", async () => {
    try {
      const r = await ippRequest(`http://localhost:${port}/ipp/print`, {
        op: OP.GET_PRINTER_ATTRIBUTES, operation: [attr.uri("printer-uri", uri)] });
      return r.status === 0;
    } catch { return false; }
  });
  return { dbus, eve, spool, uri, port };
}

// Files ippeveprinter kept for spoold job id (named "<printer job>-spoold-job-<id>.<ext>").
async function spooled(spool, id) {
  return (await readdir(spool)).filter((f) => f.includes(`-spoold-job-${id}.`));
}

// The printer's state of its job named spoold-job-<id> (IPP job-state), 0 if none.
async function deviceJobState(printer, id) {
  const r = await ippRequest(`http://localhost:${printer.port}/ipp/print`, {
    op: OP.GET_JOBS, operation: [attr.uri("printer-uri", printer.uri), attr.keyword("which-jobs", "all"),
      attr.keyword("requested-attributes", ["job-id", "job-name", "job-state"])] });
  const jobs = r.groups.filter((g) => g.tag === 0x02);
  const mine = jobs.find((g) => g.attrs.get("job-name")?.values[0] === `spoold-job-${id}`);
  return mine ? mine.attrs.get("job-state").values[0] : 0;
}

describe("spoold proxy", () => {
  const ctx = serverForSuite();
  const procs = [];
  let dir;

  // Tokens from the role presets (`spoold token --role`).
  async function token(role, extra = []) {
    const r = await spooldCli(["token", "--data", ctx.srv.dataDir, "--tenant", ctx.tenant, "--role", role, ...extra]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  }

  // A Graph printer with a share, a device token and a proxy serving it from uri.
  async function proxied(name, uri, extra = []) {
    const printerId = await registerPrinter(ctx.srv, ctx.adminTok, { name });
    const shareId = await createShare(ctx.srv, ctx.adminTok, printerId);
    const dev = await spooldCli(["token", "--device", printerId, "--data", ctx.srv.dataDir]);
    assert.equal(dev.code, 0, dev.stderr);
    const tokenFile = path.join(dir, `${printerId}.token`);
    await writeFile(tokenFile, dev.stdout);
    const p = { printerId, shareId, tokenFile, uri, state: path.join(dir, `state-${name.replace(/\W/g, "")}`) };
    p.args = ["proxy", "--server", ctx.srv.origin, "--state", p.state, "--printer", printerId,
      "--device-token-file", tokenFile, "--uri", uri, "--poll-interval", "0.2", "--attributes-interval", "1", ...extra];
    p.proc = start(spooldBin(), p.args);
    procs.push(p.proc);
    return p;
  }

  async function printJob(p, bytes = TEST_PDF) {
    const job = await createJob(ctx.srv, ctx.user, `shares/${p.shareId}`);
    await uploadDocument(ctx.srv, ctx.user, `shares/${p.shareId}`, job, bytes);
    const s = await rawFetch(`${ctx.srv.origin}/v1.0/print/shares/${p.shareId}/jobs/${job.id}/start`, { method: "POST", token: ctx.user });
    assert.equal(s.status, 200, s.text);
    return job.id;
  }

  // Waits until spoold holds at least n requests parked (its spoold_http_parked_requests gauge):
  // a proxy's Get-Notifications with notify-wait is parked there while the proxy is idle.
  async function parkedAtLeast(n) {
    return until(`${n} requests parked in spoold`, async () => {
      const r = await rawFetch(`${ctx.srv.origin}/metrics`);
      assert.equal(r.status, 200, r.text);
      const m = /^spoold_http_parked_requests (\d+)$/m.exec(r.text);
      assert.ok(m, "spoold_http_parked_requests in /metrics");
      return Number(m[1]) >= n;
    });
  }

  async function graphJob(p, id) {
    const r = await rawFetch(`${ctx.srv.origin}/v1.0/print/printers/${p.printerId}/jobs/${id}`, { token: ctx.adminTok });
    assert.equal(r.status, 200, r.text);
    return r.json;
  }

  let eve;
  let office;

  // ippeveprinter again on the same port and spool directory (a printer switched back on).
  function restartIppeve() {
    const p = start("ippeveprinter", ["-p", String(eve.port), "-n", "localhost", "-d", eve.spool, "-k", "-r", "off",
      "-f", "application/pdf,image/jpeg", "-s", "600", "Proxy Test"],
    { env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${path.join(dir, "bus")}` } });
    procs.push(p);
    return p;
  }

  before(async () => {
    dir = await makeTempDir("spoold-proxy-");
    ctx.adminTok = await token("admin", ["--app", APP]);
    ctx.user = await token("user");
    ctx.app = await token("app");
    eve = await startIppeve(dir, "Proxy Test");
    procs.push(eve.eve, eve.dbus);
    office = await proxied("Office laser", eve.uri);
  });
  after(async () => {
    for (const p of procs.reverse()) await stop(p);
  });

  it("keeps the Graph printer's status and capabilities current from the printer", async () => {
    const r = await until("capabilities from ippeveprinter", async () => {
      const g = await rawFetch(`${ctx.srv.origin}/v1.0/print/printers/${office.printerId}?$select=id,status,capabilities`, { token: ctx.adminTok });
      return (g.json.capabilities?.contentTypes || []).includes("image/jpeg") ? g.json : null;
    });
    assert.equal(r.status.state, "idle");
  });

  it("prints a started job: byte-identical in the printer's spool, completed in Graph", async () => {
    const id = await printJob(office);
    const files = await until("the document in the spool", async () => { const f = await spooled(eve.spool, id); return f.length ? f : null; });
    assert.equal(files.length, 1);
    assert.deepEqual(await readFile(path.join(eve.spool, files[0])), TEST_PDF);
    const job = await until("completed in Graph", async () => { const j = await graphJob(office, id); return j.status.state === "completed" ? j : null; }, 60_000);
    assert.ok(job.acknowledgedDateTime, "acknowledgedDateTime is set");
  });

  it("with a pull-print trigger the job waits for the app's release; an abort never reaches the paper", async () => {
    const def = await kiotaClient({ origin: ctx.srv.origin, version: "v1.0", token: ctx.app }).print.taskDefinitions
      .post({ displayName: "Badge release" });
    const trig = await rawFetch(`${ctx.srv.origin}/v1.0/print/printers/${office.printerId}/taskTriggers`, {
      method: "POST", token: ctx.adminTok,
      json: { event: "jobStarted", "definition@odata.bind": `https://graph.microsoft.com/v1.0/print/taskDefinitions/${def.id}` },
    });
    assert.equal(trig.status, 201, trig.text);
    const released = await printJob(office);
    const aborted = await printJob(office);
    await sleep(2000); // several polls of the proxy
    assert.deepEqual(await spooled(eve.spool, released), [], "a held job is not printed");
    const tasks = await rawFetch(`${ctx.srv.origin}/v1.0/print/taskDefinitions/${def.id}/tasks`, { token: ctx.app });
    const taskOf = (id) => tasks.json.value.find((t) => t.parentUrl.endsWith(`/jobs/${id}`));
    const ab = await rawFetch(`${ctx.srv.origin}/v1.0/print/printers/${office.printerId}/jobs/${aborted}/abort`, {
      method: "POST", token: ctx.app, json: { reason: "Badge not presented" } });
    assert.equal(ab.status, 204, ab.text);
    const rel = await rawFetch(`${ctx.srv.origin}/v1.0/print/taskDefinitions/${def.id}/tasks/${taskOf(released).id}`, {
      method: "PATCH", token: ctx.app, json: { status: { state: "completed" } } });
    assert.equal(rel.status, 200, rel.text);
    await until("the released job on paper", async () => (await spooled(eve.spool, released)).length === 1);
    await until("the released job completed", async () => (await graphJob(office, released)).status.state === "completed", 60_000);
    assert.deepEqual(await spooled(eve.spool, aborted), [], "the aborted job never reached the printer");
    assert.equal((await graphJob(office, aborted)).status.state, "aborted");
    // No more triggers for the next tests.
    const del = await rawFetch(`${ctx.srv.origin}/v1.0/print/printers/${office.printerId}/taskTriggers/${trig.json.id}`, { method: "DELETE", token: ctx.adminTok });
    assert.equal(del.status, 204, del.text);
  });

  it("a job canceled by its owner after the printer accepted it is canceled on the printer", async () => {
    const id = await printJob(office);
    await until("the job on the printer", async () => (await deviceJobState(eve, id)) >= 3);
    const c = await rawFetch(`${ctx.srv.origin}/v1.0/print/shares/${office.shareId}/jobs/${id}/cancel`, { method: "POST", token: ctx.user });
    assert.equal(c.status, 204, c.text);
    await until("Cancel-Job on the printer", async () => (await deviceJobState(eve, id)) === 7);
    assert.equal((await graphJob(office, id)).status.state, "canceled");
  });

  it("a proxy killed with SIGKILL after acknowledging a job does not print it twice", async () => {
    const id = await printJob(office);
    await until("the job on the printer", async () => (await deviceJobState(eve, id)) >= 3);
    office.proc.kill("SIGKILL");
    await new Promise((r) => (office.proc.exitCode !== null || office.proc.signalCode !== null ? r() : office.proc.on("exit", r)));
    office.proc = start(spooldBin(), office.args);
    procs.push(office.proc);
    await until("completed in Graph after the restart", async () => (await graphJob(office, id)).status.state === "completed", 60_000);
    assert.equal((await spooled(eve.spool, id)).length, 1, "printed once");
  });

  it("a printer restarted in the middle of a job gets the job again and completes it", async () => {
    const id = await printJob(office);
    await until("the job on the printer", async () => (await deviceJobState(eve, id)) >= 3);
    await stop(eve.eve, "SIGKILL");
    eve.eve = restartIppeve();
    await until("completed after the printer came back", async () => (await graphJob(office, id)).status.state === "completed", 90_000);
    const files = await spooled(eve.spool, id);
    assert.ok(files.length >= 1);
    for (const f of files) assert.deepEqual(await readFile(path.join(eve.spool, f)), TEST_PDF);
  });

  it("spoold restarted while the proxy holds a printed job: the job is still reported completed", async () => {
    const id = await printJob(office);
    await until("the job on the printer", async () => (await deviceJobState(eve, id)) >= 3);
    // The proxy keeps spoold's address: the restarted server listens on the same port.
    ctx.srv.opts.listen = `127.0.0.1:${ctx.srv.port}`;
    await ctx.srv.restart();
    await until("completed after spoold came back", async () => (await graphJob(office, id)).status.state === "completed", 90_000);
    assert.equal((await spooled(eve.spool, id)).length, 1, "printed once");
  });

  it("learns of a released job from spoold's notifications (notify-wait), not from its poll interval", async () => {
    // A second Graph printer on the same real printer, polling only every 60 s.
    const slow = await proxied("Notified laser", eve.uri, ["--poll-interval", "60"]);
    await until("the proxy subscribed to job events", async () => /subscribed to job events/.test(slow.proc.log));
    // After subscribing the proxy looks for jobs once more (Get-Jobs), then waits in
    // Get-Notifications: a job started before that look is taken by it, not told. So wait
    // until both idle proxies of this server (office's and this one) are parked in spoold (a
    // fixed sleep of 1.5 s was not always enough on a loaded machine). Nothing else parks here:
    // the proxy killed earlier parked in the spoold restarted since.
    await parkedAtLeast(2);
    const id = await printJob(slow);
    // Liveness bound: 30 s, well under the 60 s poll interval.
    await until("the job on the printer", async () => (await deviceJobState(eve, id)) >= 3);
    // The proxy took it because spoold told it so (the event came before the acknowledgement).
    const told = slow.proc.log.indexOf(`spoold tells: job ${id} is fetchable`);
    const acked = slow.proc.log.indexOf(`job ${id}: acknowledged`);
    assert.ok(told >= 0, `a job-fetchable event for job ${id}: ${slow.proc.log}`);
    assert.ok(acked > told, "acknowledged after the event");
    await until("completed in Graph", async () => (await graphJob(slow, id)).status.state === "completed", 60_000);
    // SIGTERM wakes the worker out of its long poll: it exits by itself, long before spoold would
    // end the poll (20 s) and before stop() resorts to SIGKILL (10 s). Stopped once it is back
    // in that poll (waited for as above).
    await parkedAtLeast(2);
    await stop(slow.proc);
    assert.equal(slow.proc.signalCode, null, "exited by itself, not killed");
    assert.equal(slow.proc.exitCode, 0, slow.proc.log);
  });

  it("sends the bytes to a JetDirect (socket://) printer unchanged", async () => {
    const received = [];
    const sink = net.createServer((s) => {
      const parts = [];
      s.on("data", (d) => parts.push(d));
      s.on("end", () => { received.push(Buffer.concat(parts)); s.end(); });
    });
    await new Promise((r) => sink.listen(0, "127.0.0.1", r));
    try {
      const raw = await proxied("Basement jetdirect", `socket://127.0.0.1:${sink.address().port}`, ["--formats", "application/pdf"]);
      await until("the raw printer online", async () => {
        const g = await rawFetch(`${ctx.srv.origin}/v1.0/print/printers/${raw.printerId}`, { token: ctx.adminTok });
        return g.json.status.state === "idle";
      });
      const id = await printJob(raw);
      await until("completed in Graph", async () => (await graphJob(raw, id)).status.state === "completed", 30_000);
      const got = received.filter((b) => b.length > 0);
      assert.equal(got.length, 1, "one connection carried the job");
      assert.deepEqual(got[0], TEST_PDF);
    } finally {
      sink.close();
    }
  });

  it("a printer that stops answering shows in Graph, and its jobs wait until it is back", async () => {
    await stop(eve.eve);
    await until("the printer shown as not answering", async () => {
      const g = await rawFetch(`${ctx.srv.origin}/v1.0/print/printers/${office.printerId}`, { token: ctx.adminTok });
      return g.json.status.state === "stopped";
    }, 30_000);
    const id = await printJob(office);
    await sleep(1500);
    assert.equal((await graphJob(office, id)).isFetchable, true, "the job waits in spoold");
    // The printer comes back on the same port.
    eve.eve = restartIppeve();
    await until("completed after the printer returned", async () => (await graphJob(office, id)).status.state === "completed", 90_000);
    assert.equal((await spooled(eve.spool, id)).length, 1);
  });
});

describe("spoold proxy --register: a printer registered by the proxy, authenticated by its certificate", () => {
  const ctx = serverForSuite({ tls: true });
  const procs = [];
  let dir, eve, caFile, adminFile, state;

  before(async () => {
    dir = await makeTempDir("spoold-proxy-reg-");
    const tok = async (role, extra = []) => {
      const r = await spooldCli(["token", "--data", ctx.srv.dataDir, "--tenant", ctx.tenant, "--role", role, ...extra]);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.trim();
    };
    ctx.adminTok = await tok("admin", ["--app", APP]);
    ctx.user = await tok("user");
    eve = await startIppeve(dir, "Lobby Test");
    procs.push(eve.eve, eve.dbus);
    caFile = path.join(dir, "spoold-ca.pem");
    await writeFile(caFile, ctx.srv.ca);
    adminFile = path.join(dir, "admin.token");
    await writeFile(adminFile, ctx.adminTok + "\n");
    state = path.join(dir, "state");
  });
  after(async () => {
    for (const p of procs.reverse()) await stop(p);
  });

  const get = (url) => rawFetch(`${ctx.srv.origin}${url}`, { token: ctx.adminTok, ca: ctx.srv.ca });

  async function printAndWait(printerId, shareId) {
    const job = await createJob(ctx.srv, ctx.user, `shares/${shareId}`);
    await uploadDocument(ctx.srv, ctx.user, `shares/${shareId}`, job, TEST_PDF);
    const s = await rawFetch(`${ctx.srv.origin}/v1.0/print/shares/${shareId}/jobs/${job.id}/start`, { method: "POST", token: ctx.user, ca: ctx.srv.ca });
    assert.equal(s.status, 200, s.text);
    const files = await until("the document in the spool", async () => { const f = await spooled(eve.spool, job.id); return f.length ? f : null; });
    assert.deepEqual(await readFile(path.join(eve.spool, files[0])), TEST_PDF);
    await until("completed in Graph", async () => (await get(`/v1.0/print/printers/${printerId}/jobs/${job.id}`)).json.status?.state === "completed", 60_000);
  }

  it("registers once with a CSR, then prints over TLS with the issued certificate, also after a restart with only --state", async () => {
    const args = ["proxy", "--server", ctx.srv.origin, "--state", state, "--ca-file", caFile,
      "--admin-token-file", adminFile, "--register", "Lobby printer", "--uri", eve.uri,
      "--poll-interval", "0.5", "--attributes-interval", "1"];
    let proc = start(spooldBin(), args);
    procs.push(proc);
    const m = await until("the registration", async () => proc.log.match(/registered printer 'Lobby printer' as ([0-9a-f-]{36})/), 60_000);
    const printerId = m[1];
    // The key and the issued certificate are kept under --state; the key is private.
    const keyStat = await stat(path.join(state, `${printerId}.key`));
    assert.equal(keyStat.mode & 0o777, 0o600);
    const cert = await readFile(path.join(state, `${printerId}.crt`), "utf8");
    assert.match(cert, /BEGIN CERTIFICATE/);
    // The Graph printer exists and takes its capabilities from the real printer, which the proxy
    // could only push authenticated (it has no device token).
    const p = await until("capabilities pushed over TLS", async () => {
      const g = await get(`/v1.0/print/printers/${printerId}?$select=id,displayName,status,capabilities`);
      return (g.json.capabilities?.contentTypes || []).includes("image/jpeg") ? g.json : null;
    });
    assert.equal(p.displayName, "Lobby printer");
    assert.match(proc.log, /authenticated by its TLS client certificate/);
    const shareId = await createShare(ctx.srv, ctx.adminTok, printerId);
    await printAndWait(printerId, shareId);
    await stop(proc);

    // Restarted with only --state (no admin token any more): the same printer, by its certificate.
    await rm(adminFile);
    proc = start(spooldBin(), ["proxy", "--state", state]);
    procs.push(proc);
    await until("the proxy serving the registered printer", async () => proc.log.includes(`proxy ${printerId}:`));
    assert.doesNotMatch(proc.log, /registering/);
    await printAndWait(printerId, shareId);
    const all = await get(`/v1.0/print/printers?$filter=displayName eq 'Lobby printer'`);
    assert.equal(all.status, 200, all.text);
    assert.equal(all.json.value.length, 1, "registered once");
    await stop(proc);
    assert.equal(proc.exitCode, 0, proc.log);

    // --register with the same name again is the printer already registered, not a new one.
    await writeFile(adminFile, ctx.adminTok + "\n");
    proc = start(spooldBin(), args);
    procs.push(proc);
    await until("the proxy serving the registered printer", async () => proc.log.includes(`proxy ${printerId}:`));
    await sleep(500);
    assert.doesNotMatch(proc.log, /registering/);
    await stop(proc);
  });

  it("--discover finds a printer announced over DNS-SD (private avahi-daemon); --register NAME takes its URI and it prints", async () => {
    const avahi = await startAvahi(dir);
    try {
      const name = `Discovered ${randomUUID().slice(0, 8)}`;
      const found = await startIppeve(dir, name, avahi);
      procs.push(found.eve);
      // Alone, --discover lists what it finds: name, URI (from the resolved address and the rp key).
      const list = await until("the printer announced", async () => {
        const l = start(spooldBin(), ["proxy", "--discover", "--discover-time", "2"], { env: avahi.env });
        await new Promise((r) => l.on("exit", r));
        assert.equal(l.exitCode, 0, l.log);
        return l.log.split("\n").find((line) => line.startsWith(`${name}\t`));
      }, 30_000);
      // ippeveprinter announces _ipps._tcp and _ipp._tcp: the proxy takes the TLS way.
      assert.equal(list.split("\t")[1], `ipps://127.0.0.1:${found.port}/ipp/print`);
      // --register NAME without --uri: the discovered printer is registered and served.
      const st = path.join(dir, "state-discovered");
      const proc = start(spooldBin(), ["proxy", "--server", ctx.srv.origin, "--state", st, "--ca-file", caFile,
        "--admin-token-file", adminFile, "--discover", "--discover-time", "2", "--register", name,
        "--poll-interval", "0.5", "--attributes-interval", "1"], { env: avahi.env });
      procs.push(proc);
      const m = await until("the registration", async () => proc.log.match(new RegExp(`registered printer '${name}' as ([0-9a-f-]{36})`)), 60_000);
      assert.match(await readFile(path.join(st, `${m[1]}.printer`), "utf8"), new RegExp(`^uri = ipps://127\\.0\\.0\\.1:${found.port}/ipp/print$`, "m"));
      assert.match(await readFile(path.join(st, "discovered"), "utf8"), new RegExp(`^${name}\t`, "m"));
      const shareId = await createShare(ctx.srv, ctx.adminTok, m[1]);
      const job = await createJob(ctx.srv, ctx.user, `shares/${shareId}`);
      await uploadDocument(ctx.srv, ctx.user, `shares/${shareId}`, job, TEST_PDF);
      const s = await rawFetch(`${ctx.srv.origin}/v1.0/print/shares/${shareId}/jobs/${job.id}/start`, { method: "POST", token: ctx.user, ca: ctx.srv.ca });
      assert.equal(s.status, 200, s.text);
      const files = await until("the document in the discovered printer's spool", async () => { const f = await spooled(found.spool, job.id); return f.length ? f : null; });
      assert.deepEqual(await readFile(path.join(found.spool, files[0])), TEST_PDF);
      await stop(proc);
      await stop(found.eve);
    } finally {
      await avahi.stop();
    }
  });

  it("a certificate that is not the printer's is refused", async () => {
    // Another registration's certificate with the first printer's id: spoold pins the fingerprint.
    const recs = (await readdir(state)).filter((f) => f.endsWith(".printer"));
    assert.equal(recs.length, 1);
    const printerId = recs[0].replace(/\.printer$/, "");
    const other = path.join(dir, "other");
    const reg = start(spooldBin(), ["proxy", "--server", ctx.srv.origin, "--state", other, "--ca-file", caFile,
      "--admin-token-file", adminFile, "--register", "Other printer", "--uri", eve.uri]);
    procs.push(reg);
    const m = await until("the second registration", async () => reg.log.match(/registered printer 'Other printer' as ([0-9a-f-]{36})/), 60_000);
    await stop(reg);
    const proc = start(spooldBin(), ["proxy", "--server", ctx.srv.origin, "--state", path.join(dir, "wrong"), "--ca-file", caFile,
      "--printer", printerId, "--certificate-file", path.join(other, `${m[1]}.crt`), "--key-file", path.join(other, `${m[1]}.key`),
      "--uri", eve.uri, "--attributes-interval", "1"]);
    procs.push(proc);
    await until("the refusal", async () => /HTTP status 401/.test(proc.log));
    await stop(proc);
  });
});
