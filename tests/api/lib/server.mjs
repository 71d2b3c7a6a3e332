// SPDX-License-Identifier: Apache-2.0
// Start and stop a real spoold for a test file.
//
//   const srv = await startServer();                     // dev mode, 127.0.0.1:0, fresh data dir
//   after(() => srv.stop());                             // SIGTERM, wait, expect exit code 0
//   srv.url        -> "http://127.0.0.1:PORT" (the server's --public-url too)
//   srv.mintUser({ tenant, scopes: "PrintSettings.Read.All", admin: true })
//
// Command line used:
//   $SPOOLD_BIN serve --listen 127.0.0.1:0 --data <dir> --dev --public-url auto [extra args]
// `--public-url auto` asks the server to use "<scheme>://<listen address>:<actual port>", since
// the port is only known once it listens. The server announces itself on stdout with
//   spoold: listening on http://127.0.0.1:PORT      (https:// when --tls-cert/--tls-key are given)
//
// Env:
//   SPOOLD_BIN        the binary (default <repo>/build/spoold)
//   SPOOLD_TEST_LOG=1 copy the servers' stdout/stderr to this process's stderr
//   SPOOLD_KEEP_DATA=1  leave the temporary data directories in place (their paths are logged)
//   SPOOLD_TEST_STORE=postgres  run against PostgreSQL (see lib/store.mjs)
import { spawn } from "node:child_process";
import { mkdtemp, rm, access } from "node:fs/promises";
import { constants as fsConstants } from "node:fs";
import os from "node:os";
import path from "node:path";
import { makeSelfSignedCert } from "./tls.mjs";
import { mintApp, mintUser } from "./tokens.mjs";
import { spooldBin } from "./paths.mjs";
import { storeArgsFor } from "./store.mjs";

export { REPO_ROOT, spooldBin } from "./paths.mjs";

// "spoold: listening on http://127.0.0.1:PORT", possibly followed by more text on the line.
const LISTENING = /^spoold: listening on (https?):\/\/(\[[^\]]+\]|[^\s/:]+):(\d+)\/?(?:\s|$)/;
const LOG_LIMIT = 256 * 1024;   // bytes of server output kept for error messages

// Every child still alive when this process exits is killed by its PID (never by name).
const live = new Set();
process.on("exit", () => {
  for (const child of live) {
    try { process.kill(child.pid, "SIGKILL"); } catch { /* already gone */ }
  }
});

export async function makeTempDir(prefix = "spoold-api-") {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

// Removes `dir` unless SPOOLD_KEEP_DATA=1.
async function removeDir(dir) {
  if (!dir) return;
  if (process.env.SPOOLD_KEEP_DATA === "1") {
    process.stderr.write(`spoold test: kept ${dir}\n`);
    return;
  }
  await rm(dir, { recursive: true, force: true });
}

function waitForExit(child) {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
}

function timeout(ms) {
  let timer;
  const promise = new Promise((resolve) => { timer = setTimeout(() => resolve("timeout"), ms); });
  return { promise, cancel: () => clearTimeout(timer) };
}

// One spoold process (and, across restart(), its successors on the same data directory).
export class SpooldServer {
  constructor(opts) {
    this.opts = opts;
    this.dataDir = opts.dataDir;
    this.ownsDataDir = opts.ownsDataDir;
    this.tlsDir = null;
    this.ca = null;          // PEM of the self-signed certificate when started with tls: true
    this.child = null;
    this.output = "";        // stdout + stderr of the current process (tail)
    this.exitStatus = null;  // { code, signal } once the current process has exited
  }

  get pid() { return this.child ? this.child.pid : undefined; }

  // The extra arguments (after the fixed ones), including the TLS pair if any.
  args() {
    const a = [...(this.opts.args || [])];
    if (this.tlsFiles) a.push("--tls-cert", this.tlsFiles.certFile, "--tls-key", this.tlsFiles.keyFile);
    return a;
  }

  async spawn() {
    const bin = spooldBin();
    try {
      await access(bin, fsConstants.X_OK);
    } catch {
      throw new Error(`spoold binary not found or not executable: ${bin} (run make, or set SPOOLD_BIN)`);
    }
    const argv = ["serve", "--listen", this.opts.listen || "127.0.0.1:0", "--data", this.dataDir];
    if (this.opts.dev !== false) argv.push("--dev");
    argv.push("--public-url", this.opts.publicUrl || "auto", ...this.args());
    // SPOOLD_TEST_STORE=postgres: the data directory's own schema (lib/store.mjs)
    if (!argv.includes("--store")) argv.push(...await storeArgsFor(this.dataDir));
    this.argv = argv;
    this.output = "";
    this.exitStatus = null;

    const child = spawn(bin, argv, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...(this.opts.env || {}) },
    });
    this.child = child;
    live.add(child);
    const exited = waitForExit(child).then((st) => { live.delete(child); this.exitStatus = st; return st; });
    this.exited = exited;

    const echo = process.env.SPOOLD_TEST_LOG === "1";
    const keep = (chunk) => {
      this.output += chunk;
      if (this.output.length > LOG_LIMIT) this.output = this.output.slice(-LOG_LIMIT);
      if (echo) process.stderr.write(`[spoold ${child.pid}] ${chunk}`);
    };
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", keep);
    child.stdout.setEncoding("utf8");

    const listening = new Promise((resolve, reject) => {
      let pending = "";
      child.stdout.on("data", (chunk) => {
        keep(chunk);
        pending += chunk;
        let nl;
        while ((nl = pending.indexOf("\n")) >= 0) {
          const line = pending.slice(0, nl).replace(/\r$/, "");
          pending = pending.slice(nl + 1);
          const m = LISTENING.exec(line);
          if (m) resolve({ scheme: m[1], host: m[2], port: Number(m[3]) });
        }
      });
      child.once("error", reject);
      exited.then((st) => reject(new Error(
        `spoold exited (code ${st.code}, signal ${st.signal}) before announcing its port\n` +
        `command: ${bin} ${argv.join(" ")}\noutput:\n${this.output}`)));
    });
    listening.catch(() => { /* reported through the race below, or moot once listening */ });
    const limit = timeout(this.opts.startTimeoutMs || 15_000);
    const first = await Promise.race([listening, limit.promise]);
    limit.cancel();
    if (first === "timeout") {
      await this.kill();
      throw new Error(`spoold did not print "spoold: listening on ..." within ${this.opts.startTimeoutMs || 15_000} ms\n` +
        `command: ${bin} ${argv.join(" ")}\noutput:\n${this.output}`);
    }
    this.scheme = first.scheme;
    this.host = first.host;
    this.port = first.port;
    // What --public-url auto stands for, and so the base of every absolute URL the server emits.
    this.url = this.opts.publicUrl && this.opts.publicUrl !== "auto"
      ? this.opts.publicUrl.replace(/\/+$/, "")
      : `${this.scheme}://${this.host}:${this.port}`;
    // Where to connect (differs from url only with an explicit --public-url).
    this.origin = `${this.scheme}://${this.host}:${this.port}`;
    return this;
  }

  // Waits until the output matches `re` (a line the server writes from another thread may
  // reach this process after an event it caused, such as a closed socket). Returns the match;
  // throws with the output after `timeoutMs`.
  async waitForOutput(re, timeoutMs = 10_000) {
    for (const end = Date.now() + timeoutMs; ;) {
      const m = re.exec(this.output);
      if (m) return m;
      if (Date.now() > end) throw new Error(`no output matching ${re} within ${timeoutMs} ms\noutput:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  // SIGTERM, then wait for the exit. Throws unless the exit code is `expectCode` (0). Kills with
  // SIGKILL (and throws) if the process is still alive after `graceMs`. Removes the temporary
  // directories unless keepData is set (restart() keeps them).
  async stop({ expectCode = 0, graceMs = 10_000, keepData = false } = {}) {
    const child = this.child;
    let status = this.exitStatus;
    if (child && !status) {
      child.kill("SIGTERM");
      const limit = timeout(graceMs);
      const r = await Promise.race([this.exited, limit.promise]);
      limit.cancel();
      if (r === "timeout") {
        await this.kill({ keepData });
        throw new Error(`spoold (pid ${child.pid}) still running ${graceMs} ms after SIGTERM; killed\noutput:\n${this.output}`);
      }
      status = r;
    }
    if (!keepData) await this.cleanup();
    if (status && expectCode !== null && status.code !== expectCode) {
      throw new Error(`spoold (pid ${child.pid}) exited with code ${status.code} signal ${status.signal}, ` +
        `expected code ${expectCode}\noutput:\n${this.output}`);
    }
    return status;
  }

  // SIGKILL and wait (for cleanup after a failure). Never throws for the exit status.
  async kill({ keepData = false } = {}) {
    const child = this.child;
    if (child && !this.exitStatus) {
      try { child.kill("SIGKILL"); } catch { /* gone */ }
      await this.exited;
    }
    if (!keepData) await this.cleanup();
    return this.exitStatus;
  }

  // Sends a signal to the running process (e.g. SIGTERM in the shutdown test).
  signal(sig) {
    if (!this.child || this.exitStatus) throw new Error("spoold is not running");
    this.child.kill(sig);
  }

  // Stops the process (expecting exit 0) and starts a new one with the same arguments and data
  // directory. The port (and with it url/origin) usually changes: rebuild clients afterwards.
  async restart() {
    await this.stop({ keepData: true });
    return this.spawn();
  }

  async cleanup() {
    if (this.ownsDataDir) { await removeDir(this.dataDir); this.ownsDataDir = false; }
    if (this.tlsDir) { await removeDir(this.tlsDir); this.tlsDir = null; }
  }

  // Tokens from the development issuer of this server's data directory (see tokens.mjs).
  mintApp(o = {}) { return mintApp({ ...o, data: this.dataDir }); }
  mintUser(o = {}) { return mintUser({ ...o, data: this.dataDir }); }
}

// Starts spoold; resolves once it has printed its listening line.
//   opts.args        extra arguments, e.g. ["--max-body", "1024"]
//   opts.tls         true: make a self-signed 127.0.0.1 certificate and pass --tls-cert/--tls-key;
//                    srv.ca is then its PEM (give it to the clients as their trusted CA)
//   opts.dataDir     use this data directory (not removed at stop); default: a fresh temp dir
//   opts.dev         false: leave out --dev
//   opts.publicUrl   default "auto"
//   opts.env         extra environment variables for the server
export async function startServer(opts = {}) {
  const ownsDataDir = !opts.dataDir;
  const dataDir = opts.dataDir || await makeTempDir("spoold-data-");
  const srv = new SpooldServer({ ...opts, dataDir, ownsDataDir });
  try {
    if (opts.tls) {
      srv.tlsDir = await makeTempDir("spoold-tls-");
      srv.tlsFiles = await makeSelfSignedCert(srv.tlsDir);
      srv.ca = srv.tlsFiles.certPem;
    }
    await srv.spawn();
  } catch (e) {
    await srv.kill();
    throw e;
  }
  return srv;
}
