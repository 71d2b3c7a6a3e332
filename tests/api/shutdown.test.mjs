// SPDX-License-Identifier: Apache-2.0
// Graceful shutdown: SIGTERM lets in-flight requests finish, refuses new ones, then exits 0.
// Uses the development-only route GET /debug/sleep?ms=N (no auth; only with --dev), which sleeps
// N ms and answers 200 {"slept":N,"startedUs":S,"endedUs":E} (when the sleep started and ended,
// on the server's monotonic clock).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { generateKeyPairSync } from "node:crypto";
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { startServer, makeTempDir } from "./lib/server.mjs";
import { rawHttp } from "./lib/clients.mjs";

// Errors that mean "this connection was not served" (refused, or dropped without an answer).
const NOT_SERVED = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE"]);

describe("graceful shutdown", () => {
  it("SIGTERM during a slow request completes it; new requests are refused; exit code 0", async (t) => {
    const srv = await startServer();
    t.after(() => srv.kill());   // by PID; a no-op once the process has exited

    const sanity = await rawHttp(`${srv.origin}/debug/sleep?ms=10`);
    assert.equal(sanity.status, 200, sanity.text);
    assert.deepEqual(Object.keys(sanity.json), ["slept", "startedUs", "endedUs"]);
    assert.equal(sanity.json.slept, 10);
    assert.ok(sanity.json.endedUs - sanity.json.startedUs >= 10_000, JSON.stringify(sanity.json));

    const t0 = Date.now();
    let firstDoneAt;
    const first = rawHttp(`${srv.origin}/debug/sleep?ms=1500`, { timeoutMs: 10_000 })
      .then((r) => { firstDoneAt = Date.now(); return r; });
    const exited = srv.exited;

    // The slow request is in its handler before SIGTERM, and the server drains before the
    // next request is sent: both waited for on the server's log lines (fixed sleeps of 300 and
    // 200 ms were the machine's speed). The bounds are liveness ones.
    const logged = async (re, what) => {
      for (const end = Date.now() + 30_000; !re.test(srv.output);) {
        assert.ok(Date.now() < end, `no log line of ${what} within 30 s:\n${srv.output.slice(-2000)}`);
        await sleep(20);
      }
    };
    await logged(/debug: \/debug\/sleep sleeping 1500 ms/, "the slow request's handler");
    srv.signal("SIGTERM");
    await logged(/shutting down: finishing 1 request\(s\) in progress/, "the drain, with the slow request in progress");

    // A request started after SIGTERM: refused (no connection / dropped) or 503.
    const second = await rawHttp(`${srv.origin}/debug/sleep?ms=10`, { timeoutMs: 5_000 })
      .then((r) => ({ response: r }), (e) => ({ error: e }));
    if (second.response) {
      assert.equal(second.response.status, 503, `a request after SIGTERM was served: ${second.response.status} ${second.response.text}`);
      assert.ok(second.response.headers["retry-after"], "503 carries Retry-After");
    } else {
      const code = second.error.code || second.error.message;
      assert.ok(NOT_SERVED.has(code) || /socket hang up/i.test(second.error.message),
        `a request after SIGTERM failed in an unexpected way: ${code} ${second.error.message}`);
    }

    const res = await first;
    assert.equal(res.status, 200, `in-flight request: ${res.status} ${res.text}`);
    assert.equal(res.json.slept, 1500);
    assert.ok(firstDoneAt - t0 >= 1500, `answered after ${firstDoneAt - t0} ms`);

    const st = await Promise.race([exited, sleep(10_000, "timeout", { ref: false })]);
    assert.notEqual(st, "timeout", "spoold still running 10 s after SIGTERM");
    assert.equal(st.signal, null, `killed by signal ${st.signal}`);
    assert.equal(st.code, 0, `exit code ${st.code}\n${srv.output}`);
    await srv.cleanup();
  });

  it("an idle server exits 0 on SIGTERM without waiting for anything", async (t) => {
    const srv = await startServer();
    t.after(() => srv.kill());
    // A liveness bound, not a speed one: stop() kills the server and fails the test when it is
    // still running 15 s after SIGTERM (a shutdown waiting on a timer or a thread is the
    // failure this checks); the speed of a stop is not asserted.
    const st = await srv.stop({ graceMs: 15_000 });
    assert.equal(st.code, 0);
    assert.equal(st.signal, null);
  });

  it("/debug/sleep does not exist without --dev", async (t) => {
    // Outside dev mode the server needs a trusted issuer: give it a JWKS with one public key.
    const dir = await makeTempDir("spoold-jwks-");
    t.after(() => rm(dir, { recursive: true, force: true }));
    const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const jwk = { ...publicKey.export({ format: "jwk" }), kid: "test-key-1", use: "sig", alg: "RS256" };
    const jwks = path.join(dir, "jwks.json");
    await writeFile(jwks, JSON.stringify({ keys: [jwk] }));
    const srv = await startServer({
      dev: false,
      args: ["--issuer", "https://issuer.example.test/v2.0", "--jwks", jwks, "--audience", "api://spoold-test"],
    });
    t.after(() => srv.stop());
    const res = await rawHttp(`${srv.origin}/debug/sleep?ms=10`);
    assert.equal(res.status, 404, res.text);
  });
});
