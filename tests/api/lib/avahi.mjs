// SPDX-License-Identifier: Apache-2.0
// A private DNS-SD world for tests: a dbus-daemon standing in for the system bus (on a Unix
// socket in the test's directory) and an avahi-daemon on it that uses the loopback interface
// only. avahi-daemon keeps its pid file and socket in the fixed /run/avahi-daemon, so it runs in
// a private mount namespace (unshare -m, a tmpfs there): that needs root, as CI has. Processes
// started with `env` see the private bus (DBUS_SYSTEM_BUS_ADDRESS): ippeveprinter publishes
// there, and spoold proxy --discover browses there. Other tests' avahi-daemons on the same
// loopback may answer too: look for names of your own.
import { spawn } from "node:child_process";
import { readdir, writeFile } from "node:fs/promises";
import path from "node:path";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A child process with its output kept (the last 20 kB, in p.log) for failure messages; this
// file's daemons and the tests' own printers and proxies (proxy.test.mjs) are started so.
export function startProcess(cmd, args, opts = {}) {
  const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], ...opts });
  p.log = "";
  p.stdout.on("data", (d) => { p.log = (p.log + d).slice(-20000); });
  p.stderr.on("data", (d) => { p.log = (p.log + d).slice(-20000); });
  return p;
}

// Stops p by its PID with signal, then SIGKILL after 10 s; resolves when it has exited (at once
// when it already had).
export function stopProcess(p, signal = "SIGTERM") {
  if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => p.kill("SIGKILL"), 10_000);
    p.on("exit", () => { clearTimeout(t); resolve(); });
    p.kill(signal);
  });
}

// Starts the bus and avahi-daemon in dir; resolves { bus, env, procs, stop() }. Throws (the test
// fails) when avahi-daemon cannot run here, saying why.
export async function startAvahi(dir) {
  if (process.getuid && process.getuid() !== 0)
    throw new Error("the DNS-SD test needs root (a private mount namespace for avahi-daemon's /run/avahi-daemon)");
  const bus = path.join(dir, "avahi-bus");
  await writeFile(path.join(dir, "avahi-dbus.conf"), `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>unix:path=${bus}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/>
<allow own="*"/><allow user="*"/></policy></busconfig>`);
  await writeFile(path.join(dir, "avahi-daemon.conf"), `[server]
use-ipv4=yes
use-ipv6=no
allow-interfaces=lo
enable-dbus=yes
ratelimit-interval-usec=1000000
ratelimit-burst=1000
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
`);
  const dbus = startProcess("dbus-daemon", ["--config-file", path.join(dir, "avahi-dbus.conf"), "--nofork"]);
  const procs = [dbus];
  const stop = async () => { for (const p of procs.slice().reverse()) await stopProcess(p); };
  for (let i = 0; i < 100 && !(await readdir(dir)).includes("avahi-bus"); i++) await sleep(50);
  const env = { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${bus}` };
  const avahi = startProcess("unshare", ["-m", "sh", "-c",
    "mkdir -p /run/avahi-daemon && mount -t tmpfs tmpfs /run/avahi-daemon && exec avahi-daemon -f \"$1\" --no-drop-root --no-chroot --no-rlimits --no-proc-title",
    "sh", path.join(dir, "avahi-daemon.conf")], { env });
  procs.push(avahi);
  for (let i = 0; i < 200; i++) {
    if (avahi.log.includes("Server startup complete")) return { bus, env, procs, stop };
    if (avahi.exitCode !== null) break;
    await sleep(50);
  }
  await stop();
  throw new Error(`avahi-daemon did not start: ${avahi.log}`);
}
