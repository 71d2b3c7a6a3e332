// SPDX-License-Identifier: Apache-2.0
// The console's only way to the server: Graph calls to this same spoold, with the signed-in
// identity's bearer token, answered under the same permission rules as any other client.
import { accessToken, handleUnauthorized } from "./auth.js";

export class GraphError extends Error {
  constructor(status, code, message, requestId) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
}

// Remembered bodies by URL for conditional GETs (If-None-Match): an unchanged collection
// costs the server no body and the page no re-render.
const etags = new Map();

function url(path, version = "v1.0") {
  if (/^https?:/.test(path)) return path;           // @odata.nextLink and the like
  if (path.startsWith("/spoold/")) return path;      // spoold's extension prefix
  return `/${version}${path}`;
}

async function errorFrom(res) {
  const requestId = res.headers.get("request-id") || "";
  let code = `http${res.status}`;
  let message = `The server answered ${res.status} ${res.statusText}.`;
  try {
    const body = await res.json();
    if (body && body.error) {
      code = body.error.code || code;
      message = body.error.message || message;
    }
  } catch { /* not JSON: keep the status line */ }
  return new GraphError(res.status, code, message, requestId);
}

// One request. Returns the parsed JSON body (or null for 204). With {conditional: true} a GET
// sends the remembered ETag and returns {changed, body}.
export async function call(method, path, { body, version, conditional, headers } = {}) {
  const target = url(path, version);
  const h = { Authorization: `Bearer ${accessToken()}`, ...(headers || {}) };
  if (body !== undefined) h["Content-Type"] = "application/json";
  const known = conditional ? etags.get(target) : undefined;
  if (known) h["If-None-Match"] = known.etag;
  const res = await fetch(target, {
    method,
    headers: h,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
  });
  if (res.status === 304 && known) return { changed: false, body: known.body };
  if (res.status === 401) {
    const err = await errorFrom(res);
    handleUnauthorized(err.message);
    throw err;
  }
  if (!res.ok) throw await errorFrom(res);
  const parsed = res.status === 204 ? null : await res.json();
  if (conditional) {
    const etag = res.headers.get("ETag");
    if (etag) etags.set(target, { etag, body: parsed });
    return { changed: true, body: parsed };
  }
  return parsed;
}

export const get = (path, opts) => call("GET", path, opts);
export const post = (path, body, opts) => call("POST", path, { ...opts, body });
export const patch = (path, body, opts) => call("PATCH", path, { ...opts, body });
export const del = (path, opts) => call("DELETE", path, opts);

// A collection's items, following @odata.nextLink up to max items. Returns {items, next}:
// next is the link of the page after the last one read (null at the end).
export async function list(path, max = 200) {
  const items = [];
  let next = path;
  while (next && items.length < max) {
    const page = await get(next);
    items.push(...(page.value || []));
    next = page["@odata.nextLink"] || null;
  }
  return { items, next };
}

// Fetches a document's bytes (following the pre-authorized redirect) and saves them.
export async function download(path, filename) {
  const res = await fetch(url(path), { headers: { Authorization: `Bearer ${accessToken()}` } });
  if (!res.ok) throw await errorFrom(res);
  const blob = await res.blob();
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = filename;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

// Runs fn every interval ms while the page is visible, and once at once. Returns a stop
// function. A failing round is reported through onError and polling goes on.
export function poll(fn, interval, onError) {
  let timer = null;
  let stopped = false;
  const round = async () => {
    if (stopped) return;
    if (!document.hidden) {
      try { await fn(); } catch (e) { onError(e); }
    }
    if (!stopped) timer = setTimeout(round, interval);
  };
  round();
  return () => { stopped = true; clearTimeout(timer); };
}
