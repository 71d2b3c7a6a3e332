// SPDX-License-Identifier: Apache-2.0
// A small IPP (RFC 8010) encoder/decoder and client for the tests of spoold's IPP INFRA
// endpoint (POST /ipp/print/{printerId}): enough to play an output device (proxy) and to send
// deliberately malformed requests.
//
//   const r = await ippRequest(`${srv.origin}/ipp/print/${printerId}`, {
//     op: OP.FETCH_JOB, auth: bearer(token),
//     operation: [attr.uri("printer-uri", uri), attr.integer("job-id", 5), ...],
//   });
//   r.httpStatus, r.status (IPP status code), r.op.get("job-state")?.values, r.groups, r.data
//
// Values are numbers (integer, enum), booleans, strings (text, name, keyword, uri, ...), Buffers
// (octetString), [lo, hi] (rangeOfInteger) and {x, y, units} (resolution); collections decode to
// Maps of their members.
import http from "node:http";
import https from "node:https";

export const TAG = {
  OPERATION: 0x01, JOB: 0x02, END: 0x03, PRINTER: 0x04, UNSUPPORTED: 0x05, SUBSCRIPTION: 0x06,
  EVENT: 0x07, DOCUMENT: 0x09,
  UNSUPPORTED_VALUE: 0x10, UNKNOWN: 0x12, NO_VALUE: 0x13, DELETE_ATTR: 0x16,
  INTEGER: 0x21, BOOLEAN: 0x22, ENUM: 0x23,
  STRING: 0x30, DATE: 0x31, RESOLUTION: 0x32, RANGE: 0x33, BEGIN_COLLECTION: 0x34,
  END_COLLECTION: 0x37, MEMBER_NAME: 0x4a,
  TEXT: 0x41, NAME: 0x42, KEYWORD: 0x44, URI: 0x45, URI_SCHEME: 0x46, CHARSET: 0x47,
  LANGUAGE: 0x48, MIME: 0x49,
};

export const OP = {
  GET_JOB_ATTRIBUTES: 0x0009, GET_JOBS: 0x000a, GET_PRINTER_ATTRIBUTES: 0x000b,
  CREATE_PRINTER_SUBSCRIPTIONS: 0x0016, CANCEL_SUBSCRIPTION: 0x001b, GET_NOTIFICATIONS: 0x001c,
  ACKNOWLEDGE_DOCUMENT: 0x003f, ACKNOWLEDGE_JOB: 0x0041, FETCH_DOCUMENT: 0x0042,
  FETCH_JOB: 0x0043, GET_OUTPUT_DEVICE_ATTRIBUTES: 0x0044, UPDATE_ACTIVE_JOBS: 0x0045,
  DEREGISTER_OUTPUT_DEVICE: 0x0046, UPDATE_DOCUMENT_STATUS: 0x0047, UPDATE_JOB_STATUS: 0x0048,
  UPDATE_OUTPUT_DEVICE_ATTRIBUTES: 0x0049, IDENTIFY_PRINTER: 0x003c,
  ACKNOWLEDGE_IDENTIFY_PRINTER: 0x0040,
};

export const STATUS = {
  OK: 0x0000, OK_IGNORED_OR_SUBSTITUTED: 0x0001, BAD_REQUEST: 0x0400, FORBIDDEN: 0x0401,
  NOT_POSSIBLE: 0x0404, NOT_FOUND: 0x0406, ATTRIBUTES_OR_VALUES: 0x040b,
  CHARSET: 0x040d, NOT_FETCHABLE: 0x0420, DOCUMENT_FORMAT: 0x040a,
  OPERATION_NOT_SUPPORTED: 0x0501, VERSION_NOT_SUPPORTED: 0x0503,
};

const STRING_TAGS = new Set([TAG.TEXT, TAG.NAME, TAG.KEYWORD, TAG.URI, TAG.URI_SCHEME,
  TAG.CHARSET, TAG.LANGUAGE, TAG.MIME, TAG.MEMBER_NAME]);

// Attribute builders: attr.keyword("which-jobs", "fetchable"), attr.integer("job-ids", [1, 2]).
const mk = (tag) => (name, values) => ({ name, tag, values: Array.isArray(values) ? values : [values] });
export const attr = {
  integer: mk(TAG.INTEGER), enum: mk(TAG.ENUM), boolean: mk(TAG.BOOLEAN), text: mk(TAG.TEXT),
  name: mk(TAG.NAME), keyword: mk(TAG.KEYWORD), uri: mk(TAG.URI), charset: mk(TAG.CHARSET),
  language: mk(TAG.LANGUAGE), mime: mk(TAG.MIME), octets: mk(TAG.STRING), range: mk(TAG.RANGE),
  resolution: mk(TAG.RESOLUTION), deleteAttr: (name) => ({ name, tag: TAG.DELETE_ATTR, values: [null] }),
  raw: (name, tag, values) => ({ name, tag, values: Array.isArray(values) ? values : [values] }),
};

function encodeValue(tag, v) {
  if (tag === TAG.INTEGER || tag === TAG.ENUM) { const b = Buffer.alloc(4); b.writeInt32BE(v); return b; }
  if (tag === TAG.BOOLEAN) return Buffer.from([v ? 1 : 0]);
  if (tag === TAG.RANGE) { const b = Buffer.alloc(8); b.writeInt32BE(v[0]); b.writeInt32BE(v[1], 4); return b; }
  if (tag === TAG.RESOLUTION) {
    const b = Buffer.alloc(9); b.writeInt32BE(v.x); b.writeInt32BE(v.y, 4); b.writeInt8(v.units ?? 3, 8); return b;
  }
  if (tag === TAG.STRING) return Buffer.isBuffer(v) ? v : Buffer.from(String(v));
  if (v === null || v === undefined) return Buffer.alloc(0);
  return Buffer.from(String(v), "utf8");
}

function encodeAttr(a) {
  const parts = [];
  a.values.forEach((v, i) => {
    const name = Buffer.from(i === 0 ? a.name : "", "utf8");
    const val = encodeValue(a.tag, v);
    const h = Buffer.alloc(3);
    h.writeUInt8(a.tag, 0);
    h.writeUInt16BE(name.length, 1);
    const l = Buffer.alloc(2);
    l.writeUInt16BE(val.length);
    parts.push(h, name, l, val);
  });
  return Buffer.concat(parts);
}

// Encodes a request. groups: [{tag, attrs: [...]}, ...] (the operation group is built from
// `operation` when groups is not given, prefixed with attributes-charset and
// attributes-natural-language unless bare is true).
export function encodeRequest({ version = [2, 0], op, requestId = 1, operation = [], groups, bare = false, data }) {
  const head = Buffer.alloc(8);
  head.writeUInt8(version[0], 0);
  head.writeUInt8(version[1], 1);
  head.writeUInt16BE(op, 2);
  head.writeInt32BE(requestId, 4);
  const gs = groups || [{ tag: TAG.OPERATION, attrs: bare ? operation : [
    attr.charset("attributes-charset", "utf-8"), attr.language("attributes-natural-language", "en"), ...operation] }];
  const parts = [head];
  for (const g of gs) {
    parts.push(Buffer.from([g.tag]));
    for (const a of g.attrs) parts.push(encodeAttr(a));
  }
  parts.push(Buffer.from([TAG.END]));
  if (data) parts.push(data);
  return Buffer.concat(parts);
}

function decodeValue(tag, b) {
  if (tag === TAG.INTEGER || tag === TAG.ENUM) return b.readInt32BE(0);
  if (tag === TAG.BOOLEAN) return b[0] !== 0;
  if (tag === TAG.RANGE) return [b.readInt32BE(0), b.readInt32BE(4)];
  if (tag === TAG.RESOLUTION) return { x: b.readInt32BE(0), y: b.readInt32BE(4), units: b.readInt8(8) };
  if (tag === TAG.STRING || tag === TAG.DATE) return Buffer.from(b);
  if (STRING_TAGS.has(tag) || tag === 0x35 || tag === 0x36) return b.toString("utf8");
  if (tag >= 0x10 && tag <= 0x1f) return null;
  return Buffer.from(b);
}

// Decodes an IPP message: { version, status (or op), requestId, groups: [{tag, attrs: Map}],
// data (the bytes after end-of-attributes) }. Throws on malformed input.
export function decode(buf) {
  if (buf.length < 9) throw new Error(`IPP message too short (${buf.length} bytes)`);
  const msg = { version: [buf[0], buf[1]], status: buf.readUInt16BE(2), requestId: buf.readInt32BE(4), groups: [] };
  let off = 8;
  let group = null;
  let last = null;
  const stack = []; // collection parsing: [{map, name}]
  for (;;) {
    if (off >= buf.length) throw new Error("IPP message without end-of-attributes");
    const tag = buf[off++];
    if (tag === TAG.END) break;
    if (tag < 0x10) {
      group = { tag, attrs: new Map() };
      msg.groups.push(group);
      last = null;
      continue;
    }
    const nlen = buf.readUInt16BE(off); off += 2;
    const name = buf.toString("utf8", off, off + nlen); off += nlen;
    const vlen = buf.readUInt16BE(off); off += 2;
    const raw = buf.subarray(off, off + vlen); off += vlen;
    if (stack.length) {
      const top = stack[stack.length - 1];
      if (tag === TAG.MEMBER_NAME) { top.member = raw.toString("utf8"); continue; }
      if (tag === TAG.END_COLLECTION) {
        stack.pop();
        continue;
      }
      const target = top.map;
      if (tag === TAG.BEGIN_COLLECTION) {
        const m = new Map();
        const a = target.get(top.member) || { tag, values: [] };
        a.values.push(m); target.set(top.member, a);
        stack.push({ map: m, member: null });
        continue;
      }
      const key = top.member;
      const a = target.get(key) || { tag, values: [] };
      a.values.push(decodeValue(tag, raw)); target.set(key, a);
      continue;
    }
    if (!group) throw new Error("attribute outside a group");
    let a;
    if (nlen === 0 && last) a = last;
    else { a = { name, tag, values: [] }; group.attrs.set(name, a); last = a; }
    if (tag === TAG.BEGIN_COLLECTION) {
      const m = new Map();
      a.values.push(m);
      stack.push({ map: m, member: null });
    } else {
      a.values.push(decodeValue(tag, raw));
    }
  }
  msg.data = buf.subarray(off);
  msg.op = msg.groups.find((g) => g.tag === TAG.OPERATION)?.attrs || new Map();
  msg.unsupported = msg.groups.find((g) => g.tag === TAG.UNSUPPORTED)?.attrs || new Map();
  msg.group = (tag) => msg.groups.filter((g) => g.tag === tag).map((g) => g.attrs);
  return msg;
}

export const bearer = (token) => `Bearer ${token}`;
export const basic = (user, pass) => `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;

// POSTs an IPP request (or a raw body) to url. Options: op, operation / groups / version /
// requestId / bare / data (see encodeRequest), body (a raw Buffer instead), auth (the
// Authorization value), contentType, ca, cert, key (TLS), expectContinue (send
// "Expect: 100-continue" and the body only after the interim response), timeoutMs. Resolves { httpStatus, headers,
// raw, status, ...decoded } (decoded fields only for application/ipp answers).
export function ippRequest(url, opts = {}) {
  const body = opts.body || encodeRequest(opts);
  const u = new URL(url);
  const mod = u.protocol === "https:" ? https : http;
  const headers = { "content-type": opts.contentType || "application/ipp", "content-length": body.length };
  if (opts.auth) headers.authorization = opts.auth;
  if (opts.expectContinue) headers.expect = "100-continue";
  return new Promise((resolve, reject) => {
    const req = mod.request(u, {
      method: "POST", headers, agent: false, ca: opts.ca, cert: opts.cert, key: opts.key,
    }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const raw = Buffer.concat(chunks);
        const out = { httpStatus: res.statusCode, headers: res.headers, raw };
        if (/^application\/ipp/.test(res.headers["content-type"] || "")) Object.assign(out, decode(raw));
        resolve(out);
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    if (opts.timeoutMs) req.setTimeout(opts.timeoutMs, () => req.destroy(new Error("IPP request timed out")));
    // With expectContinue the body goes only after "100 Continue" (a refusal comes first).
    if (opts.expectContinue) req.on("continue", () => req.end(body));
    else req.end(body);
  });
}

// The first value of attribute name in map (a Map of a group), or undefined.
export const val = (map, name) => map?.get(name)?.values?.[0];
export const vals = (map, name) => map?.get(name)?.values || [];
