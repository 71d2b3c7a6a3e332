// SPDX-License-Identifier: Apache-2.0
// Bearer tokens from spoold's development issuer (--dev), minted by the binary itself:
//   spoold token --data DIR --tenant TID --app APPID [--roles "R1 R2"]
//                [--user OID --upn UPN --scopes "S1 S2"] [--admin] [--groups G1,G2] [--ttl S]
// which prints the token on stdout. The signing key lives in the data directory, so the token
// must be minted with the same --data as the server that will check it.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { spooldBin } from "./paths.mjs";

// Well-known ids used when a test does not care (any GUID works: dev tenants are created on first use).
export const DEFAULT_APP = "00000000-0000-4000-8000-00000000a001";

const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

const words = (v) => (Array.isArray(v) ? v.join(" ") : v);

function runToken(args) {
  return new Promise((resolve, reject) => {
    execFile(spooldBin(), ["token", ...args], { timeout: 15_000, encoding: "utf8" }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`spoold token ${args.join(" ")} failed: ${err.message}\n${stderr}`));
        return;
      }
      const lines = stdout.split("\n").map((l) => l.trim()).filter(Boolean);
      const token = lines[lines.length - 1];
      if (!token || !JWT.test(token)) {
        reject(new Error(`spoold token ${args.join(" ")} printed no JWT:\n${stdout}\n${stderr}`));
        return;
      }
      resolve(token);
    });
  });
}

function common({ data, tenant, app, ttl }) {
  if (!data) throw new Error("token: data directory (data) is required");
  if (!tenant) throw new Error("token: tenant is required");
  const a = ["--data", data, "--tenant", tenant, "--app", app || DEFAULT_APP];
  if (ttl !== undefined) a.push("--ttl", String(ttl));
  return a;
}

// Application token (roles claim, no scp).
//   roles: "PrintJob.Manage.All Printer.Read.All" or an array of role names.
export function mintApp({ data, tenant, app, roles, ttl } = {}) {
  const a = common({ data, tenant, app, ttl });
  if (roles && words(roles)) a.push("--roles", words(roles));
  return runToken(a);
}

// Delegated user token (scp claim).
//   user: object id (default: a fresh GUID); upn: user principal name;
//   scopes: "PrintSettings.Read.All ..." or an array; admin: true adds the Printer Administrator
//   directory role (wids); groups: array of group ids or a comma-separated string; name: the
//   display name (name claim).
export function mintUser({ data, tenant, app, user, upn, scopes, admin, groups, ttl, name } = {}) {
  const a = common({ data, tenant, app, ttl });
  const oid = user || randomUUID();
  a.push("--user", oid, "--upn", upn || `user-${oid.slice(0, 8)}@example.test`);
  a.push("--scopes", words(scopes) || "");
  if (admin) a.push("--admin");
  if (name) a.push("--name", name);
  if (groups && groups.length) a.push("--groups", Array.isArray(groups) ? groups.join(",") : groups);
  return runToken(a);
}
