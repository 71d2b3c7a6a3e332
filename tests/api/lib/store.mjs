// SPDX-License-Identifier: Apache-2.0
// Which store the API tests run spoold against.
//
//   SPOOLD_TEST_STORE=postgres  with SPOOLD_TEST_PG=postgres://USER@127.0.0.1:PORT (tests/lib/pg.sh
//                               starts such a throwaway server): every data directory gets its
//                               own fresh schema on that server, and every spoold started for the
//                               directory (serve, tenant, migrate, token --device) is given
//                               --store <its URL>.
//   unset or "sqlite"           the default SQLite file in the data directory.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { promisify } from "node:util";

const run = promisify(execFile);
const created = new Map();   // data dir -> Promise<url>

export function testStore() {
  const s = process.env.SPOOLD_TEST_STORE || "sqlite";
  if (s !== "sqlite" && s !== "postgres") throw new Error(`SPOOLD_TEST_STORE must be sqlite or postgres, not ${s}`);
  if (s === "postgres" && !process.env.SPOOLD_TEST_PG) {
    throw new Error("SPOOLD_TEST_STORE=postgres needs SPOOLD_TEST_PG=postgres://USER@HOST:PORT (tests/lib/pg.sh run -- ...)");
  }
  return s;
}

// psql against the throwaway server's postgres database.
export async function psql(sql, { db = "postgres" } = {}) {
  const { stdout } = await run("psql", ["-qAtX", "-v", "ON_ERROR_STOP=1", "-c", sql, `${process.env.SPOOLD_TEST_PG}/${db}`],
    { encoding: "utf8", timeout: 30_000 });
  return stdout;
}

// A new empty schema; resolves its store URL.
export async function freshPgStore(label = "x") {
  const name = "s_" + createHash("sha256").update(`${label}:${process.pid}:${Date.now()}:${Math.random()}`)
    .digest("hex").slice(0, 20);
  await psql(`CREATE SCHEMA ${name}`);
  return `${process.env.SPOOLD_TEST_PG}/postgres?options=-csearch_path%3D${name}`;
}

// The store URL for a data directory (the same for every call with that directory), or null for
// SQLite (the server then uses DIR/spoold.db).
export async function storeUrlFor(dataDir) {
  if (testStore() !== "postgres") return null;
  if (!created.has(dataDir)) created.set(dataDir, freshPgStore(dataDir));
  return created.get(dataDir);
}

// The keys of the blobs (document bytes) kept as chunk rows in a data directory's store: every
// blob in PostgreSQL mode, the small documents (BLOB_INLINE_MAX) in SQLite mode.
export async function blobKeys(dataDir) {
  if (testStore() !== "postgres") {
    const { stdout } = await run("sqlite3", [`${dataDir}/spoold.db`, "SELECT key FROM blobs ORDER BY key"],
      { encoding: "utf8", timeout: 30_000 });
    return stdout.split("\n").filter(Boolean);
  }
  const url = await storeUrlFor(dataDir);
  const schema = /search_path%3D(\w+)/.exec(url)[1];
  const out = await psql(`SELECT key FROM ${schema}.blobs ORDER BY key`);
  return out.split("\n").filter(Boolean);
}

// ["--store", URL] for a data directory in postgres mode; [] otherwise.
export async function storeArgsFor(dataDir) {
  const url = await storeUrlFor(dataDir);
  return url ? ["--store", url] : [];
}
