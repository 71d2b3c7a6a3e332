// Crash test (issue 11): a bounded run that kills spoold with SIGKILL under concurrent load
// several times and then checks every acknowledged write. Workers create jobs, upload their
// documents and cancel some; every 2xx answer is recorded as a promise the server made. After
// each kill the server restarts on the same data directory and every promise is checked:
// the job exists, a canceled job is canceled, an uploaded document's bytes have the SHA-256 that
// was sent. Run by scripts/check.sh as its own suite (about 30 s).
//
//   cd tests/api && SPOOLD_BIN=... node --test ../crash/crash.test.mjs
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { rawFetch, closeAgents } from "../api/lib/clients.mjs";
import { startServer } from "../api/lib/server.mjs";
import { registerPrinter, createJob, uploadDocument, PRINTER_MANAGEMENT_SCOPES } from "../api/lib/fixtures.mjs";

after(() => closeAgents());

const ROUNDS = 4;
const WORKERS = 6;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sha = (b) => createHash("sha256").update(b).digest("hex");

describe("crash: SIGKILL under load loses no acknowledged write", () => {
  it(`${ROUNDS} kills under ${WORKERS} concurrent writers; every acknowledged job, cancel and document survives`, async () => {
    // The job creation windows (100 per printer, 200 per user in 10 minutes) are off: a round
    // on a fast machine creates more than that, and every later round would only get 429s.
    const srv = await startServer({ args: ["--max-jobs-per-printer-window", "0", "--max-jobs-per-user-window", "0"] });
    try {
      const tenant = randomUUID();
      const admin = await srv.mintUser({ tenant, scopes: [...PRINTER_MANAGEMENT_SCOPES, "PrintJob.ReadWrite.All"].join(" "), admin: true });
      const user = await srv.mintUser({ tenant, scopes: "PrintJob.ReadWrite Printer.Read.All" });
      const printer = await registerPrinter(srv, admin, { name: "crash" });
      const parent = `printers/${printer}`;
      const acked = new Map();   // job id -> { canceled, doc: { id, sha } }
      let attempts = 0, errors = 0;

      for (let round = 0; round < ROUNDS; round++) {
        let stop = false;
        const worker = async () => {
          while (!stop) {
            attempts++;
            try {
              const job = await createJob(srv, user, parent, { configuration: {} });
              acked.set(job.id, { canceled: false, doc: null });
              const bytes = randomBytes(2048 + Math.floor(Math.random() * 60_000));
              await uploadDocument(srv, user, parent, job, bytes);
              acked.get(job.id).doc = { id: job.documents[0].id, sha: sha(bytes), size: bytes.length };
              if (Math.random() < 0.4) {
                const c = await rawFetch(`${srv.origin}/v1.0/print/${parent}/jobs/${job.id}/cancel`, { method: "POST", token: user });
                if (c.status === 204) acked.get(job.id).canceled = true;
              }
            } catch {
              errors++;   // the kill cut this request: it was never acknowledged
              if (stop) return;
            }
          }
        };
        const running = Array.from({ length: WORKERS }, worker);
        // The kill comes once this round has WORKERS jobs acknowledged (counted, not timed:
        // a fixed 1.5-3 s left a loaded machine short of them) and a random moment later.
        const roundStart = acked.size;
        for (const end = Date.now() + 60_000; acked.size - roundStart < WORKERS;) {
          assert.ok(Date.now() < end, `round ${round}: ${acked.size - roundStart} jobs acknowledged after 60 s (${errors} requests failed)`);
          await sleep(20);
        }
        await sleep(Math.floor(Math.random() * 1500));
        await srv.kill({ keepData: true });   // SIGKILL mid-load
        stop = true;
        await Promise.all(running);
        await srv.spawn();                    // same data directory, new port

        // Every promise the server made before it died is kept.
        for (const [id, want] of acked) {
          const r = await rawFetch(`${srv.origin}/v1.0/print/${parent}/jobs/${id}`, { token: admin });
          assert.equal(r.status, 200, `round ${round}: acknowledged job ${id}: ${r.status} ${r.text}`);
          if (want.canceled) assert.equal(r.json.status.state, "canceled", `round ${round}: job ${id} was canceled: ${r.text}`);
          if (!want.doc) continue;
          const loc = await rawFetch(`${srv.origin}/v1.0/print/${parent}/jobs/${id}/documents/${want.doc.id}/$value`, { token: admin });
          assert.equal(loc.status, 302, `round ${round}: document of job ${id}: ${loc.status} ${loc.text}`);
          const got = await rawFetch(loc.headers.get("location").replace(srv.url, srv.origin), { timeoutMs: 30_000 });
          assert.equal(got.status, 200, `round ${round}: bytes of job ${id}: ${got.status}`);
          assert.equal(got.body.length, want.doc.size, `round ${round}: size of job ${id}'s document`);
          assert.equal(sha(got.body), want.doc.sha, `round ${round}: SHA-256 of job ${id}'s document`);
        }
      }
      process.stderr.write(`crash: ${ROUNDS} SIGKILLs, ${acked.size} acknowledged jobs verified ` +
        `(${[...acked.values()].filter((j) => j.doc).length} documents, ${[...acked.values()].filter((j) => j.canceled).length} cancels) of ${attempts} attempts, ${errors} requests cut\n`);
    } finally {
      await srv.kill();
    }
  });
});
