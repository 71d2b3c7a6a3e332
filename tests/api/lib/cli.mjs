// SPDX-License-Identifier: Apache-2.0
// Runs spoold's command-line commands (token, tenant, ...) and reports the exit status instead
// of throwing for a non-zero one.
//   const r = await spooldCli(["tenant", "add", tid, "--data", dir]);  // { code, stdout, stderr }
//   await tenantCmd("suspend", tid, dir);                               // throws unless exit 0
import { execFile } from "node:child_process";
import { spooldBin } from "./paths.mjs";
import { storeArgsFor } from "./store.mjs";

// Commands that open the store get the data directory's --store in postgres mode (lib/store.mjs).
async function withStore(args) {
  if (args.includes("--store")) return args;
  const cmd = args[0];
  if (!(cmd === "tenant" || cmd === "migrate" || (cmd === "token" && args.includes("--device")))) return args;
  const i = args.indexOf("--data");
  if (i < 0 || i + 1 >= args.length) return args;
  return [...args, ...await storeArgsFor(args[i + 1])];
}

export async function spooldCli(args, opts = {}) {
  return runCli(await withStore(args), opts);
}

function runCli(args, { timeoutMs = 15_000, env } = {}) {
  return new Promise((resolve, reject) => {
    execFile(spooldBin(), args, { timeout: timeoutMs, encoding: "utf8", env: { ...process.env, ...(env || {}) } },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== "number") { reject(err); return; }   // spawn failure, timeout
        resolve({ code: err ? err.code : 0, stdout, stderr });
      });
  });
}

// `spoold tenant ACTION TID --data DIR [extra]`; resolves the result, throws unless exit 0.
export async function tenantCmd(action, tid, dataDir, extra = []) {
  const args = ["tenant", action, ...(tid ? [tid] : []), "--data", dataDir, ...extra];
  const r = await spooldCli(args);
  if (r.code !== 0) throw new Error(`spoold ${args.join(" ")} exited ${r.code}\n${r.stdout}${r.stderr}`);
  return r;
}
