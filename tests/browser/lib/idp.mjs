// SPDX-License-Identifier: Apache-2.0
// A small OpenID Connect identity provider on 127.0.0.1 for the console's sign-in tests:
// discovery document, authorization endpoint (signs the configured user in at once and
// redirects back with a code), token endpoint (authorization_code with PKCE S256, and
// refresh_token), and JWKS. Access tokens are Graph tokens that spoold trusts through
// --issuer/--jwks; ID tokens are for the console's client id.
//
// Faults for the refusal tests, set through idp.mode:
//   "wrongState"   the redirect carries another state than the one the console sent
//   "tamperedId"   the ID token's payload is changed after signing
import http from "node:http";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { TestIssuer, GRAPH_AUDIENCE, b64url } from "../../api/lib/jwt.mjs";

export async function startIdp({ clientId, user }) {
  const idp = {
    mode: "normal",
    codes: new Map(),      // code -> { challenge, redirectUri, nonce }
    requests: [],          // "METHOD path" of every request, for assertions
    user,
  };
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, idp.origin);
    idp.requests.push(`${req.method} ${url.pathname}`);
    // The console reads the discovery document, keys and token endpoint from the browser.
    res.setHeader("Access-Control-Allow-Origin", "*");
    res.setHeader("Access-Control-Allow-Headers", "Content-Type");
    if (req.method === "OPTIONS") { res.writeHead(204); res.end(); return; }
    const json = (status, body) => { res.writeHead(status, { "Content-Type": "application/json" }); res.end(JSON.stringify(body)); };
    try {
      if (url.pathname === "/.well-known/openid-configuration") {
        json(200, {
          issuer: idp.issuer.iss,
          authorization_endpoint: `${idp.origin}/authorize`,
          token_endpoint: `${idp.origin}/token`,
          jwks_uri: `${idp.origin}/jwks`,
          response_types_supported: ["code"],
          code_challenge_methods_supported: ["S256"],
          id_token_signing_alg_values_supported: ["RS256"],
        });
      } else if (url.pathname === "/jwks") {
        json(200, idp.issuer.jwks());
      } else if (url.pathname === "/authorize") {
        const q = url.searchParams;
        if (q.get("client_id") !== clientId || q.get("response_type") !== "code" ||
            q.get("code_challenge_method") !== "S256" || !q.get("code_challenge")) {
          json(400, { error: "invalid_request" });
          return;
        }
        const code = randomBytes(16).toString("hex");
        idp.codes.set(code, { challenge: q.get("code_challenge"), redirectUri: q.get("redirect_uri"), nonce: q.get("nonce") });
        const back = new URL(q.get("redirect_uri"));
        back.searchParams.set("code", code);
        back.searchParams.set("state", idp.mode === "wrongState" ? "not-the-state-you-sent" : q.get("state"));
        res.writeHead(302, { Location: back.toString() });
        res.end();
      } else if (url.pathname === "/token" && req.method === "POST") {
        let raw = "";
        for await (const chunk of req) raw += chunk;
        const f = new URLSearchParams(raw);
        if (f.get("client_id") !== clientId) { json(400, { error: "invalid_client" }); return; }
        if (f.get("grant_type") === "authorization_code") {
          const c = idp.codes.get(f.get("code"));
          idp.codes.delete(f.get("code"));
          const challenge = createHash("sha256").update(f.get("code_verifier") || "").digest("base64url");
          if (!c || c.challenge !== challenge || c.redirectUri !== f.get("redirect_uri")) {
            json(400, { error: "invalid_grant", error_description: "code, verifier or redirect_uri do not match" });
            return;
          }
          json(200, idp.tokens(c.nonce));
        } else if (f.get("grant_type") === "refresh_token") {
          json(200, idp.tokens(undefined));
        } else {
          json(400, { error: "unsupported_grant_type" });
        }
      } else {
        json(404, { error: "not_found" });
      }
    } catch (e) {
      json(500, { error: "server_error", error_description: e.message });
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  idp.origin = `http://127.0.0.1:${server.address().port}`;
  idp.issuer = new TestIssuer({ iss: idp.origin });
  idp.issuer.addKey("RS256");

  idp.tokens = (nonce) => {
    const u = idp.user;
    const access = idp.issuer.token({
      aud: GRAPH_AUDIENCE, tid: u.tenant, oid: u.oid, upn: u.upn, name: u.name, scp: u.scopes,
      wids: u.admin ? ["644ef478-e28f-4e28-b9dc-3fdde9aa0b1f"] : undefined, appid: clientId, idtyp: "user",
    }, { ttl: 600 });
    let id = idp.issuer.token({ aud: clientId, sub: u.oid, name: u.name, preferred_username: u.upn, nonce, tid: u.tenant }, { ttl: 600 });
    if (idp.mode === "tamperedId") {
      const [hdr, payload, sig] = id.split(".");
      const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
      claims.name = "Mallory";
      id = `${hdr}.${b64url(JSON.stringify(claims))}.${sig}`;
    }
    return { access_token: access, id_token: id, token_type: "Bearer", expires_in: 600, refresh_token: randomUUID() };
  };
  idp.stop = () => new Promise((resolve) => server.close(resolve));
  return idp;
}
