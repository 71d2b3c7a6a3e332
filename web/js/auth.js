// SPDX-License-Identifier: Apache-2.0
// Sign-in: OpenID Connect authorization code flow with PKCE against the configured issuer, or,
// with `spoold serve --dev`, a persona token from the development issuer. Tokens live in this
// module's memory only; a reload signs out (the PKCE verifier, state and nonce of a sign-in in
// progress are the only things kept in sessionStorage, because they must survive the redirect).

let config = null;
let session = null;        // {accessToken, expiresAt (ms), refreshToken, claims, method}
let renewTimer = null;
let expiryTimer = null;
let signedOutReason = "";
const listeners = new Set();

const SKEW_MS = 30 * 1000;

export async function loadConfig() {
  const res = await fetch("/console/config.json", { cache: "no-store" });
  if (!res.ok) throw new Error(`The console configuration could not be read (${res.status}).`);
  config = await res.json();
  return config;
}

export const consoleConfig = () => config;
export const currentSession = () => session;
export const lastSignOutReason = () => signedOutReason;
export const onSessionChange = (fn) => listeners.add(fn);

export function accessToken() {
  if (!session) throw new Error("Not signed in.");
  if (Date.now() >= session.expiresAt) {
    signOut("Your sign-in has expired. Sign in again.");
    throw new Error("Your sign-in has expired.");
  }
  return session.accessToken;
}

export function handleUnauthorized(message) {
  signOut(`The server refused your token: ${message} Sign in again.`);
}

function b64urlDecode(s) {
  const pad = "=".repeat((4 - (s.length % 4)) % 4);
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/") + pad);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function b64urlEncode(bytes) {
  let s = "";
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function jwtParts(token) {
  const parts = String(token).split(".");
  if (parts.length !== 3) throw new Error("The token is not a JWT.");
  const dec = new TextDecoder();
  return {
    header: JSON.parse(dec.decode(b64urlDecode(parts[0]))),
    payload: JSON.parse(dec.decode(b64urlDecode(parts[1]))),
    signed: new TextEncoder().encode(`${parts[0]}.${parts[1]}`),
    signature: b64urlDecode(parts[2]),
  };
}

function startSession(method, tokenResponse) {
  const claims = jwtParts(tokenResponse.access_token).payload;
  const lifetime = Number(tokenResponse.expires_in) > 0
    ? Number(tokenResponse.expires_in) * 1000
    : (claims.exp ? claims.exp * 1000 - Date.now() : 3600 * 1000);
  session = {
    method,
    accessToken: tokenResponse.access_token,
    refreshToken: tokenResponse.refresh_token || null,
    expiresAt: Date.now() + lifetime,
    claims,
  };
  signedOutReason = "";
  scheduleTimers();
  listeners.forEach((fn) => fn(session));
}

function scheduleTimers() {
  clearTimeout(renewTimer);
  clearTimeout(expiryTimer);
  const left = session.expiresAt - Date.now();
  if (session.refreshToken && left > SKEW_MS) {
    renewTimer = setTimeout(() => renew().catch(() => {}), left - SKEW_MS);
  }
  // When the token runs out without renewal, go to the sign-in page rather than fail requests.
  expiryTimer = setTimeout(() => {
    if (session && Date.now() >= session.expiresAt) signOut("Your sign-in has expired. Sign in again.");
  }, Math.max(left, 0) + 50);
}

export function signOut(reason = "") {
  clearTimeout(renewTimer);
  clearTimeout(expiryTimer);
  const had = session !== null;
  session = null;
  signedOutReason = reason;
  if (had) listeners.forEach((fn) => fn(null));
}

// ---- development personas -----------------------------------------------------------------

// Gets a token for a persona ("admin", "user", "app") from the development issuer.
export async function devSignIn(persona) {
  const res = await fetch("/spoold/v1/dev/token", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(persona),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    const msg = body.error ? body.error.message : `The server answered ${res.status}.`;
    throw new Error(msg);
  }
  startSession("dev", body);
}

// ---- OpenID Connect ------------------------------------------------------------------------

let discovery = null;

async function discover() {
  if (discovery) return discovery;
  const issuer = config.oidc.issuer.replace(/\/$/, "");
  const res = await fetch(`${issuer}/.well-known/openid-configuration`);
  if (!res.ok) throw new Error(`The identity provider's discovery document could not be read (${res.status}).`);
  const doc = await res.json();
  if (doc.issuer !== config.oidc.issuer && doc.issuer !== issuer) {
    throw new Error(`The discovery document names issuer ${doc.issuer}, not ${config.oidc.issuer}.`);
  }
  discovery = doc;
  return doc;
}

const redirectUri = () => `${location.origin}/console/`;

// Sends the browser to the identity provider. returnTo is the console route to open afterwards.
export async function oidcBegin(returnTo) {
  const d = await discover();
  const verifier = b64urlEncode(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = b64urlEncode(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const state = b64urlEncode(crypto.getRandomValues(new Uint8Array(16)));
  const nonce = b64urlEncode(crypto.getRandomValues(new Uint8Array(16)));
  sessionStorage.setItem("spoold.oidc", JSON.stringify({ verifier, state, nonce, returnTo }));
  const q = new URLSearchParams({
    response_type: "code",
    client_id: config.oidc.clientId,
    redirect_uri: redirectUri(),
    scope: config.oidc.scopes,
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  location.assign(`${d.authorization_endpoint}?${q}`);
}

async function verifyIdToken(idToken, nonce) {
  const d = await discover();
  const t = jwtParts(idToken);
  const res = await fetch(d.jwks_uri);
  if (!res.ok) throw new Error("The identity provider's keys could not be read.");
  const { keys } = await res.json();
  const jwk = (keys || []).find((k) => k.kid === t.header.kid) || (keys.length === 1 ? keys[0] : null);
  if (!jwk) throw new Error("The ID token is signed with an unknown key.");
  let algo;
  if (t.header.alg === "RS256" && jwk.kty === "RSA") {
    algo = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  } else if (t.header.alg === "ES256" && jwk.kty === "EC") {
    algo = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  } else {
    throw new Error(`The ID token's algorithm ${t.header.alg} is not accepted.`);
  }
  const key = await crypto.subtle.importKey("jwk", jwk, algo, false, ["verify"]);
  let sig = t.signature;
  if (algo.name === "ECDSA" && sig.length !== 64) throw new Error("The ID token's signature is malformed.");
  const ok = await crypto.subtle.verify(algo, key, sig, t.signed);
  if (!ok) throw new Error("The ID token's signature does not verify.");
  const p = t.payload;
  const now = Date.now() / 1000;
  if (p.iss !== d.issuer) throw new Error("The ID token comes from another issuer.");
  const aud = Array.isArray(p.aud) ? p.aud : [p.aud];
  if (!aud.includes(config.oidc.clientId)) throw new Error("The ID token is not meant for this console.");
  if (typeof p.exp !== "number" || p.exp < now - 60) throw new Error("The ID token has expired.");
  if (p.nonce !== nonce) throw new Error("The ID token does not answer this sign-in (nonce).");
  return p;
}

// Completes a sign-in when the page is the redirect target (?code=&state= or ?error=).
// Returns the console route to open, or null when this page load is no sign-in response.
export async function oidcComplete() {
  const q = new URLSearchParams(location.search);
  if (!q.has("code") && !q.has("error")) return null;
  const pending = JSON.parse(sessionStorage.getItem("spoold.oidc") || "null");
  sessionStorage.removeItem("spoold.oidc");
  history.replaceState(null, "", "/console/");
  if (q.has("error")) {
    throw new Error(`The identity provider refused the sign-in: ${q.get("error_description") || q.get("error")}`);
  }
  if (!pending || q.get("state") !== pending.state) {
    throw new Error("The sign-in response does not match a sign-in started here (state). Sign in again.");
  }
  const d = await discover();
  const res = await fetch(d.token_endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code: q.get("code"),
      redirect_uri: redirectUri(),
      client_id: config.oidc.clientId,
      code_verifier: pending.verifier,
    }),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`The identity provider refused the code: ${body.error_description || body.error || res.status}`);
  if (!body.id_token) throw new Error("The identity provider sent no ID token.");
  await verifyIdToken(body.id_token, pending.nonce);
  startSession("oidc", body);
  return pending.returnTo || "#/printers";
}

// Renews the access token with the refresh token, or signs out saying so.
async function renew() {
  if (!session || !session.refreshToken) return;
  const d = await discover();
  const res = await fetch(d.token_endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "refresh_token",
      refresh_token: session.refreshToken,
      client_id: config.oidc.clientId,
    }),
  });
  if (!res.ok) {
    signOut("Your sign-in could not be renewed. Sign in again.");
    return;
  }
  const body = await res.json();
  if (!body.refresh_token) body.refresh_token = session.refreshToken;
  startSession(session.method, body);
}

// ---- what the signed-in identity is ---------------------------------------------------------

const PRINTER_ADMIN = "644ef478-e28f-4e28-b9dc-3fdde9aa0b1f";
const GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10";

export function identity() {
  const c = session ? session.claims : {};
  const roles = Array.isArray(c.roles) ? c.roles : [];
  const isApp = roles.length > 0 && !c.scp;
  const wids = Array.isArray(c.wids) ? c.wids : [];
  return {
    isApp,
    isAdmin: !isApp && (wids.includes(PRINTER_ADMIN) || wids.includes(GLOBAL_ADMIN)),
    name: c.name || c.preferred_username || c.upn || (isApp ? `application ${c.appid || c.azp}` : c.oid),
    upn: c.upn || c.preferred_username || "",
    oid: c.oid || "",
    appId: c.appid || c.azp || "",
    tenant: c.tid || "",
  };
}
