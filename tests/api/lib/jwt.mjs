// SPDX-License-Identifier: Apache-2.0
// A tiny token issuer for tests: RS256/ES256 keys made with node:crypto, a JWKS file for
// `spoold serve --issuer ISS --jwks FILE --audience AUD`, and JWTs signed here (no JOSE library).
//
//   const issuer = new TestIssuer({ iss: "https://login.example.test/TID/v2.0" });
//   const rsa = issuer.addKey("RS256");            // RSA 2048, kid "rsa-..." unless given
//   const ec = issuer.addKey("ES256");             // EC P-256
//   await issuer.writeJwks(file);                  // atomically (temp file + rename)
//   const t = issuer.userToken({ tid, scopes: "PrintSettings.Read.All", admin: true });
//   const a = issuer.appToken({ tid, roles: "Printer.Read.All" });
//   const raw = signJwt({ alg: "none" }, payload); // or "HS256" with { secret }
//
// Every token carries a fresh `uti`, so two tokens are never the same text (spoold caches
// verified tokens by their text until they expire).
import { generateKeyPairSync, sign as cryptoSign, createHmac, randomUUID } from "node:crypto";
import { writeFile, rename } from "node:fs/promises";

export const PRINTER_ADMIN = "644ef478-e28f-4e28-b9dc-3fdde9aa0b1f";
export const GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10";
export const GRAPH_AUDIENCE = "https://graph.microsoft.com";

export const b64url = (v) => Buffer.from(typeof v === "string" ? v : v).toString("base64url");
const b64json = (o) => b64url(JSON.stringify(o));
const words = (v) => (Array.isArray(v) ? v.join(" ") : v);
export const nowS = () => Math.floor(Date.now() / 1000);

// Signs header.payload (objects, or strings used verbatim) and returns the compact JWS.
//   header.alg: "RS256" | "ES256" (opts.key: a private KeyObject), "HS256" (opts.secret), "none"
//   opts.alg overrides the algorithm used to sign (to lie in the header).
export function signJwt(header, payload, { key, secret, alg } = {}) {
  const h = typeof header === "string" ? b64url(header) : b64json(header);
  const p = typeof payload === "string" ? b64url(payload) : b64json(payload);
  const input = Buffer.from(`${h}.${p}`);
  const how = alg || (typeof header === "string" ? JSON.parse(header).alg : header.alg);
  let sig;
  switch (how) {
    case "RS256": sig = cryptoSign("sha256", input, key); break;
    // JWS wants the raw r||s (64 bytes), not DER.
    case "ES256": sig = cryptoSign("sha256", input, { key, dsaEncoding: "ieee-p1363" }); break;
    case "HS256": sig = createHmac("sha256", secret).update(input).digest(); break;
    case "none": sig = Buffer.alloc(0); break;
    default: throw new Error(`signJwt: unsupported alg ${how}`);
  }
  return `${h}.${p}.${sig.toString("base64url")}`;
}

// { header, payload, signature (Buffer) } of a compact JWS, without verifying anything.
export function decodeJwt(token) {
  const [h, p, s] = String(token).split(".");
  return {
    header: JSON.parse(Buffer.from(h, "base64url").toString("utf8")),
    payload: JSON.parse(Buffer.from(p, "base64url").toString("utf8")),
    signature: Buffer.from(s || "", "base64url"),
  };
}

let kidSeq = 0;

export class TestIssuer {
  constructor({ iss, aud = GRAPH_AUDIENCE, app = "11111111-2222-4333-8444-555555555555" } = {}) {
    if (!iss) throw new Error("TestIssuer: iss is required");
    this.iss = iss;
    this.aud = aud;
    this.app = app;
    this.keys = new Map();   // kid -> { kid, alg, privateKey, publicKey, jwk, publicPem, published }
    this.current = null;     // kid used when a token does not name one
  }

  // Makes a key pair and adds its public half to the JWKS. Returns the key record.
  addKey(alg = "RS256", kid) {
    let pair;
    if (alg === "RS256") pair = generateKeyPairSync("rsa", { modulusLength: 2048, publicExponent: 0x10001 });
    else if (alg === "ES256") pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
    else throw new Error(`TestIssuer.addKey: unsupported alg ${alg}`);
    kid = kid || `${alg === "RS256" ? "rsa" : "ec"}-${++kidSeq}-${randomUUID().slice(0, 8)}`;
    const jwk = { ...pair.publicKey.export({ format: "jwk" }), kid, alg, use: "sig" };
    const rec = {
      kid, alg, jwk, privateKey: pair.privateKey, publicKey: pair.publicKey,
      publicPem: pair.publicKey.export({ type: "spki", format: "pem" }),
      published: true,
    };
    this.keys.set(kid, rec);
    if (!this.current) this.current = kid;
    return rec;
  }

  // Leaves the key out of the JWKS from now on; it can still sign (to test that its tokens
  // are refused).
  removeKey(kid) {
    this.key(kid).published = false;
    if (this.current === kid) this.current = [...this.keys.values()].find((k) => k.published)?.kid || null;
  }

  key(kid) {
    const k = this.keys.get(kid || this.current);
    if (!k) throw new Error(`TestIssuer: no key ${kid || "(current)"}`);
    return k;
  }

  jwks() { return { keys: [...this.keys.values()].filter((k) => k.published).map((k) => k.jwk) }; }

  // Writes the JWKS to `file` through a temporary file and rename(), so that a server
  // re-reading the file never sees it half written.
  async writeJwks(file, doc = this.jwks()) {
    const tmp = `${file}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
    await writeFile(tmp, typeof doc === "string" ? doc : JSON.stringify(doc));
    await rename(tmp, file);
  }

  // The registered claims every token gets; `ttl` seconds from now, `nbf` now.
  base({ ttl = 3600, now = nowS() } = {}) {
    return { iss: this.iss, aud: this.aud, iat: now, nbf: now, exp: now + ttl, uti: randomUUID() };
  }

  // A signed token. claims are merged over base(); a claim set to undefined is left out.
  //   opts: { kid, alg (header alg; default the key's), header (extra header fields), ttl }
  token(claims = {}, opts = {}) {
    const k = this.key(opts.kid);
    const header = { alg: opts.alg || k.alg, typ: "JWT", kid: k.kid, ...(opts.header || {}) };
    const payload = { ...this.base(opts), ...claims };
    for (const n of Object.keys(payload)) if (payload[n] === undefined) delete payload[n];
    return signJwt(header, payload, { key: k.privateKey, alg: k.alg });
  }

  // A token whose payload is `text` exactly as given (e.g. JSON with a duplicate member, which
  // no object can hold), signed with the issuer's key. opts: { kid, header (extra fields) }.
  tokenFromText(text, opts = {}) {
    const k = this.key(opts.kid);
    const header = { alg: k.alg, typ: "JWT", kid: k.kid, ...(opts.header || {}) };
    return signJwt(header, text, { key: k.privateKey, alg: k.alg });
  }

  // A delegated (user) token: scp, oid, upn, wids (Printer Administrator with admin: true).
  // A claim given as undefined (e.g. { oid: undefined }) is left out.
  userToken(args = {}, opts) {
    const { tid, oid: _oid, upn, scopes, admin, wids, groups, app, ...rest } = args;
    const oid = "oid" in args ? args.oid : randomUUID();
    return this.token({
      tid, oid, sub: oid, upn: "upn" in args ? upn : `user-${String(oid).slice(0, 8)}@example.test`, name: "Test User",
      scp: words(scopes) || "", appid: app || this.app, idtyp: "user",
      wids: wids || (admin ? [PRINTER_ADMIN] : undefined), groups, ver: "1.0", ...rest,
    }, opts);
  }

  // An application token: roles, no scp.
  appToken({ tid, roles = [], app, ...rest } = {}, opts) {
    const r = Array.isArray(roles) ? roles : words(roles).split(" ").filter(Boolean);
    const appid = app || this.app;
    return this.token({ tid, oid: randomUUID(), sub: appid, appid, roles: r, idtyp: "app", ver: "1.0", ...rest }, opts);
  }
}
