// SPDX-License-Identifier: Apache-2.0
// Runs the runnable blocks of README.md and docs/*.md, in order, against a fresh server, so a
// block that stops working fails `make check` (scripts/check.sh, suite "docs").
//
//   node tests/docs/run-docs.mjs [FILE.md ...]
//
// Markers in the Markdown (the first word of an info string is the language; renderers ignore
// the rest):
//   ```sh server     started in the background before the page's first `sh run` block (at most
//                    one per page; `<!-- docs-server: COMMAND -->` does the same invisibly)
//   ```sh run        run in one bash session per page (`set -euo pipefail`): variables and
//                    functions carry from block to block, as in the reader's shell
//   ```text expect   what the preceding `sh run` block prints: each line must appear in its
//                    output, in order; "..." inside a line stands for any text
// Each page runs in a temporary directory holding links to the tree's top-level entries (so
// `build/spoold`, `examples/` and `make run` work, and what the blocks write stays out of the
// tree), with a free port written for 8080 and a fresh ./var. Each block is one test; the last
// line is "N passed, N failed".
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const MARK = "@@spoold-doc-block";

// The blocks of a page: [{kind: "server"|"run"|"expect", text, line}].
export function parseBlocks(markdown) {
  const blocks = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const comment = lines[i].match(/^<!--\s*docs-server:\s*(.+?)\s*-->\s*$/);
    if (comment) { blocks.push({ kind: "server", text: comment[1], line: i + 1 }); continue; }
    const open = lines[i].match(/^```(\w+)\s+(server|run|expect)\s*$/);
    if (!open) continue;
    const start = i + 1;
    const body = [];
    for (i++; i < lines.length && !lines[i].startsWith("```"); i++) body.push(lines[i]);
    blocks.push({ kind: open[2], text: body.join("\n"), line: start });
  }
  return blocks;
}

// True when every expected line appears in out, in order ("..." matches anything).
export function matchExpected(out, expected) {
  const have = out.split("\n");
  let at = 0;
  for (const want of expected.split("\n").filter((l) => l.trim() !== "")) {
    const parts = want.split("...");
    let found = false;
    for (; at < have.length && !found; at++) {
      let pos = 0;
      found = parts.every((p) => {
        const k = have[at].indexOf(p, pos);
        if (k < 0) return false;
        pos = k + p.length;
        return true;
      });
    }
    if (!found) return `missing: ${want}`;
  }
  return null;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

async function waitReady(port, server, ms) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (server.exitCode !== null) return false;
    try {
      const r = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (r.status === 200) return true;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

function stop(child) {
  if (!child || child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => { try { process.kill(-child.pid, "SIGKILL"); } catch { /* gone */ } }, 10_000);
    child.on("exit", () => { clearTimeout(t); resolve(); });
    try { process.kill(-child.pid, "SIGTERM"); } catch { resolve(); }
  });
}

async function runPage(file, results) {
  const blocks = parseBlocks(readFileSync(file, "utf8"));
  const runs = blocks.filter((b) => b.kind === "run");
  if (!runs.length) return;
  const rel = path.relative(ROOT, file);
  const port = await freePort();
  const subst = (s) => s.replaceAll("127.0.0.1:8080", `127.0.0.1:${port}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), "spoold-docs-"));
  for (const e of readdirSync(ROOT)) if (!["var", ".git"].includes(e)) symlinkSync(path.join(ROOT, e), path.join(dir, e));
  const env = { ...process.env, PORT: String(port) };
  let server = null;
  let serverLog = "";
  try {
    const srv = blocks.find((b) => b.kind === "server");
    if (srv) {
      server = spawn("bash", ["-c", subst(srv.text)], { cwd: dir, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
      server.stdout.on("data", (d) => { serverLog = (serverLog + d).slice(-4000); });
      server.stderr.on("data", (d) => { serverLog = (serverLog + d).slice(-4000); });
      if (!(await waitReady(port, server, 180_000))) {
        for (const b of runs) results.push({ name: `${rel}:${b.line}`, ok: false, why: `the server block did not start:\n${serverLog}` });
        return;
      }
    }
    // One script: a marker line before each block (after a newline, since a block's last output
    // may not end one), so the output can be cut back into blocks.
    const script = ["exec 2>&1", "set -euo pipefail"];
    runs.forEach((b, i) => script.push(`printf '\\n%s\\n' "${MARK} ${i}"`, subst(b.text)));
    script.push(`printf '\\n%s\\n' "${MARK} end"`);
    writeFileSync(path.join(dir, ".doc-blocks.sh"), script.join("\n") + "\n");
    const out = await new Promise((resolve) => {
      const p = spawn("bash", [".doc-blocks.sh"], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
      let text = "";
      p.stdout.on("data", (d) => { text += d; });
      p.stderr.on("data", (d) => { text += d; });
      const t = setTimeout(() => p.kill("SIGKILL"), 300_000);
      p.on("exit", (code) => { clearTimeout(t); resolve({ text, code }); });
    });
    const pieces = new Map();
    let current = null;
    for (const line of out.text.split("\n")) {
      const m = line.startsWith(MARK) ? line.slice(MARK.length + 1) : null;
      if (m !== null) { current = m; pieces.set(m, ""); continue; }
      if (current !== null) pieces.set(current, pieces.get(current) + line + "\n");
    }
    const finished = pieces.has("end");
    runs.forEach((b, i) => {
      const name = `${rel}:${b.line}`;
      const text = pieces.get(String(i));
      if (text === undefined) { results.push({ name, ok: false, why: "not run: an earlier block failed" }); return; }
      const ranToEnd = pieces.has(String(i + 1)) || (i === runs.length - 1 && finished);
      if (!ranToEnd) { results.push({ name, ok: false, why: `the block failed (exit ${out.code}):\n${text}` }); return; }
      // The expect block that directly follows this run block, if any.
      const k = blocks.indexOf(b);
      const next = blocks[k + 1];
      if (next && next.kind === "expect") {
        const miss = matchExpected(text, subst(next.text));
        if (miss) { results.push({ name, ok: false, why: `${miss}\noutput:\n${text}` }); return; }
      }
      results.push({ name, ok: true });
    });
  } finally {
    await stop(server);
    rmSync(dir, { recursive: true, force: true });
  }
}

// Proves the runner can fail: a page whose expectation is wrong and whose later block exits
// non-zero must give exactly those failures (and "not run" after them).
async function selfTest(results) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "spoold-docs-self-"));
  const page = path.join(dir, "self.md");
  writeFileSync(page, ["```sh run", "X=hello; echo $X", "```", "```text expect", "hello", "```",
    "```sh run", "echo $X world", "```", "```text expect", "goodbye...", "```",
    "```sh run", "false", "echo unreachable", "```", "```sh run", "echo never", "```", ""].join("\n"));
  const got = [];
  try { await runPage(page, got); } finally { rmSync(dir, { recursive: true, force: true }); }
  const verdicts = got.map((r) => (r.ok ? "ok" : r.why.split("\n")[0].split(":")[0])).join(",");
  const want = "ok,missing,the block failed (exit 1),not run";
  results.push({ name: "self-test (a wrong expectation and a failing block are caught)", ok: verdicts === want,
    why: `verdicts ${verdicts}, expected ${want}` });
}

const files = process.argv.slice(2).length
  ? process.argv.slice(2).map((f) => path.resolve(f))
  : [path.join(ROOT, "README.md"), ...readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => path.join(ROOT, "docs", f))];
const results = [];
if (!process.argv.slice(2).length) await selfTest(results);
for (const f of files) await runPage(f, results);
for (const r of results) console.log(r.ok ? `ok      ${r.name}` : `not ok  ${r.name}\n${r.why.replace(/^/gm, "        ")}`);
const failed = results.filter((r) => !r.ok).length;
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
