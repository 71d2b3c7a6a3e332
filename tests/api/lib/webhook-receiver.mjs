// SPDX-License-Identifier: Apache-2.0
// A webhook receiver on 127.0.0.1 for the change-notification tests: answers Graph's
// validation handshake and records notifications, with per-path behaviour.
//
//   const rx = await startReceiver();
//   rx.on("/ok");                                   // echo handshakes, 202 to notifications
//   rx.on("/flaky", { failFirst: 3 });              // 500 to the first 3 notifications
//   rx.on("/dead", { notify: "hang" });             // never answers notifications
//   rx.on("/slow", { delayMs: 1500 });              // answers 202 after 1.5 s; a notification
//                                                   // counts only if the sender is still there
//   rx.on("/bad", { handshake: "wrong" });          // handshake answers: echo|wrong|status|type|hang
//   const sub = { notificationUrl: rx.url("/ok"), ... };
//   const got = await rx.waitFor("/ok", 1);         // resolves the first n notifications
//   rx.notifications("/ok") -> [{ at, body, value }], rx.handshakes("/ok") -> [{ at, token }]
//   rx.connections()  -> TCP connections accepted so far (whatever they sent)
//   rx.held("/dead")  -> [{ at, closedAt }]: notifications held open by "hang", closedAt null while open
//   await rx.close();
import http from "node:http";

const HANDSHAKE = "echo";

export async function startReceiver() {
  const routes = new Map();   // path -> behaviour
  const seen = new Map();     // path -> { handshakes: [], notifications: [], attempts: 0 }
  const hung = new Set();     // responses held open by "hang"
  const held = new Map();     // path -> [{ at, closedAt }] of notifications held open by "hang"
  const waiters = [];

  const state = (path) => {
    if (!seen.has(path)) seen.set(path, { handshakes: [], notifications: [], attempts: 0 });
    return seen.get(path);
  };
  const behaviour = (path) => routes.get(path) || { handshake: HANDSHAKE, notify: "ok" };
  const wake = () => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i];
      if (state(w.path).notifications.length >= w.n) {
        waiters.splice(i, 1);
        clearTimeout(w.timer);
        w.resolve(state(w.path).notifications.slice(0, w.n));
      }
    }
  };

  const server = http.createServer((req, res) => {
    const u = new URL(req.url, "http://127.0.0.1");
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const b = behaviour(u.pathname);
      const st = state(u.pathname);
      const at = Date.now();
      const token = u.searchParams.get("validationToken");
      if (token !== null) {
        st.handshakes.push({ at, token, contentType: req.headers["content-type"], method: req.method });
        switch (b.handshake || HANDSHAKE) {
          case "hang": hung.add(res); return;
          case "wrong": res.writeHead(200, { "content-type": "text/plain" }).end(`${token}-not`); return;
          case "status": res.writeHead(b.handshakeStatus || 500, { "content-type": "text/plain" }).end(token); return;
          case "type": res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(token)); return;
          default: res.writeHead(200, { "content-type": "text/plain; charset=utf-8" }).end(token); return;
        }
      }
      st.attempts += 1;
      let parsed;
      try { parsed = JSON.parse(body); } catch { parsed = undefined; }
      const mode = b.notify || "ok";
      if (mode === "hang") {
        const h = { at, closedAt: null };
        held.set(u.pathname, (held.get(u.pathname) || []).concat([h]));
        res.on("close", () => { h.closedAt = Date.now(); });
        hung.add(res);
        return;
      }
      if (b.failFirst && st.attempts <= b.failFirst) {
        st.failures = (st.failures || []).concat([{ at }]);
        res.writeHead(b.failStatus || 500).end("try again");
        return;
      }
      if (mode === "fail") {
        st.failures = (st.failures || []).concat([{ at }]);
        res.writeHead(503).end("unavailable");
        return;
      }
      const accept = () => {
        if (b.delayMs && (res.destroyed || req.socket.destroyed)) {
          st.abandoned = (st.abandoned || 0) + 1;   // the sender went away while we stalled
          return;
        }
        st.notifications.push({
          at: b.delayMs ? Date.now() : at, body, json: parsed, value: parsed && parsed.value,
          contentType: req.headers["content-type"],
        });
        res.writeHead(202).end();
        wake();
      };
      if (b.delayMs) setTimeout(accept, b.delayMs); else accept();
    });
  });
  let connections = 0;
  server.on("connection", () => { connections += 1; });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();

  return {
    port,
    connections: () => connections,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    on: (path, b = {}) => { routes.set(path, { handshake: HANDSHAKE, notify: "ok", ...b }); },
    handshakes: (path) => state(path).handshakes,
    notifications: (path) => state(path).notifications,
    failures: (path) => state(path).failures || [],
    attempts: (path) => state(path).attempts,
    held: (path) => held.get(path) || [],
    abandoned: (path) => state(path).abandoned || 0,
    // Resolves the first n notifications received on path; rejects after timeoutMs.
    waitFor(path, n = 1, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const w = { path, n, resolve };
        w.timer = setTimeout(() => {
          const i = waiters.indexOf(w);
          if (i >= 0) waiters.splice(i, 1);
          reject(new Error(`receiver: ${state(path).notifications.length}/${n} notifications on ${path} ` +
            `after ${timeoutMs} ms (${state(path).attempts} attempts)`));
        }, timeoutMs);
        waiters.push(w);
        wake();
      });
    },
    async close() {
      for (const res of hung) res.destroy();
      hung.clear();
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
