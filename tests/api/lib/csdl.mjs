// SPDX-License-Identifier: Apache-2.0
// spoold's own $metadata as a type model, read with an OData CSDL parser from npm
// (@sap-ux/edmx-parser), and a checker of JSON answers against it: property names, EDM types,
// nullability, enum members (flags enums as comma-separated members), collections never null,
// derived types through "@odata.type". The parser does not keep BaseType, so inheritance is read
// from the EntityType elements of the same document (and IsFlags from the EnumType elements).
//
//   const model = await loadModel(srv, "v1.0");           // GET /v1.0/$metadata, parsed
//   const problems = model.check(json, "microsoft.graph.printer", { omit: ["capabilities"] });
//   assert.deepEqual(problems, []);
//   model.resolve("/print/printers/{printer-id}/jobs")  -> { kind: "collection", type: "microsoft.graph.printJob" }
import { parse } from "@sap-ux/edmx-parser";
import { rawFetch } from "./clients.mjs";

const NS = "microsoft.graph";
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

// Properties Graph leaves out of some answers (reference §2.2, §2.4): checked when present.
const MAY_BE_OMITTED = {
  [`${NS}.printerBase`]: ["capabilities", "defaults"],
  [`${NS}.printerShare`]: ["viewPoint"],
};

export async function fetchMetadata(srv, version) {
  const r = await rawFetch(`${srv.origin}/${version}/$metadata`, { ca: srv.ca });
  return r;
}

// Parses CSDL text into a model (throws when the parser refuses it).
export function modelFromXml(xml) {
  const raw = parse(xml);
  const s = raw.schema;
  if (s.namespace !== NS) throw new Error(`schema namespace ${s.namespace}`);
  const bases = new Map();
  for (const m of xml.matchAll(/<EntityType Name="([^"]+)"([^>]*)>/g)) {
    const b = /BaseType="([^"]+)"/.exec(m[2]);
    if (b) bases.set(`${NS}.${m[1]}`, b[1]);
  }
  const types = new Map();
  for (const t of s.entityTypes) {
    types.set(t.fullyQualifiedName, {
      kind: "entity", name: t.fullyQualifiedName, base: bases.get(t.fullyQualifiedName),
      props: t.entityProperties, navs: t.navigationProperties,
    });
  }
  for (const t of s.complexTypes) {
    types.set(t.fullyQualifiedName, {
      kind: "complex", name: t.fullyQualifiedName, props: t.properties, navs: t.navigationProperties || [],
    });
  }
  // IsFlags is read from the document too: the parser compares the attribute text with true.
  const flags = new Set([...xml.matchAll(/<EnumType Name="([^"]+)"[^>]*IsFlags="true"/g)].map((m) => `${NS}.${m[1]}`));
  const enums = new Map();
  for (const e of s.enumTypes) {
    enums.set(e.fullyQualifiedName, { flags: e.isFlags || flags.has(e.fullyQualifiedName), members: e.members.map((m) => m.name) });
  }
  return new Model(types, enums, s.actions, s.singletons, s.entitySets, raw);
}

export async function loadModel(srv, version) {
  const r = await fetchMetadata(srv, version);
  if (r.status !== 200) throw new Error(`$metadata: ${r.status} ${r.text}`);
  return modelFromXml(r.text);
}

const collOf = (t) => /^Collection\((.+)\)$/.exec(t)?.[1];

class Model {
  constructor(types, enums, actions, singletons, entitySets, raw) {
    Object.assign(this, { types, enums, actions, singletons, entitySets, raw });
  }

  // All structural and navigation properties of type name, base types first.
  members(name) {
    const chain = [];
    for (let t = this.types.get(name); t; t = t.base ? this.types.get(t.base) : null) chain.unshift(t);
    const props = new Map(), navs = new Map(), omit = new Set();
    for (const t of chain) {
      for (const p of t.props) props.set(p.name, p);
      for (const n of t.navs || []) navs.set(n.name, n);
      for (const o of MAY_BE_OMITTED[t.name] || []) omit.add(o);
    }
    return { props, navs, omit };
  }

  isSubtype(name, of) {
    for (let t = this.types.get(name); t; t = t.base ? this.types.get(t.base) : null) if (t.name === of) return true;
    return false;
  }

  // Problems of value v against the EDM type `type` (nullable: whether null is allowed).
  checkValue(v, type, nullable, where, out, opts) {
    const elem = collOf(type);
    if (elem) {
      if (!Array.isArray(v)) { out.push(`${where}: a collection must be an array, got ${JSON.stringify(v)}`); return; }
      v.forEach((x, i) => this.checkValue(x, elem, false, `${where}[${i}]`, out, opts));
      return;
    }
    if (v === null) { if (!nullable) out.push(`${where}: null, but ${type} is not nullable`); return; }
    switch (type) {
      case "Edm.String": if (typeof v !== "string") out.push(`${where}: expected a string, got ${JSON.stringify(v)}`); return;
      case "Edm.Boolean": if (typeof v !== "boolean") out.push(`${where}: expected a boolean, got ${JSON.stringify(v)}`); return;
      case "Edm.Int32": case "Edm.Int64":
        if (!Number.isInteger(v)) out.push(`${where}: expected an integer, got ${JSON.stringify(v)}`); return;
      case "Edm.Double": if (typeof v !== "number") out.push(`${where}: expected a number, got ${JSON.stringify(v)}`); return;
      case "Edm.DateTimeOffset": if (typeof v !== "string" || !ISO.test(v)) out.push(`${where}: expected a date-time, got ${JSON.stringify(v)}`); return;
      case "Edm.Date": if (typeof v !== "string" || !DATE.test(v)) out.push(`${where}: expected a date, got ${JSON.stringify(v)}`); return;
      default: break;
    }
    const e = this.enums.get(type);
    if (e) {
      if (typeof v !== "string") { out.push(`${where}: expected a ${type} member, got ${JSON.stringify(v)}`); return; }
      const parts = e.flags ? v.split(",") : [v];
      for (const m of parts) if (!e.members.includes(m)) out.push(`${where}: '${m}' is not a member of ${type}`);
      return;
    }
    if (this.types.has(type)) { this.checkObject(v, type, where, out, opts); return; }
    out.push(`${where}: type ${type} is not in $metadata`);
  }

  // Problems of object o against the structured type `type` (or its "@odata.type").
  checkObject(o, type, where = "", out = [], opts = {}) {
    if (typeof o !== "object" || o === null || Array.isArray(o)) { out.push(`${where || "/"}: expected an object of ${type}`); return out; }
    let t = type;
    const derived = o["@odata.type"];
    if (typeof derived === "string") {
      const d = derived.replace(/^#/, "");
      if (!this.types.has(d)) out.push(`${where}/@odata.type: ${d} is not in $metadata`);
      else if (!this.isSubtype(d, type)) out.push(`${where}/@odata.type: ${d} does not derive from ${type}`);
      else t = d;
    }
    if (!this.types.has(t)) { out.push(`${where}: type ${t} is not in $metadata`); return out; }
    const { props, navs, omit } = this.members(t);
    for (const [k, v] of Object.entries(o)) {
      if (k.includes("@")) continue;                         // annotations
      const p = props.get(k);
      if (p) { this.checkValue(v, p.type, p.nullable !== false, `${where}/${k}`, out, opts); continue; }
      const n = navs.get(k);
      if (n) {                                               // an expanded navigation property
        const nt = n.targetTypeName;
        if (n.isCollection) {
          if (!Array.isArray(v)) out.push(`${where}/${k}: an expanded collection must be an array`);
          else v.forEach((x, i) => this.checkObject(x, nt, `${where}/${k}[${i}]`, out, opts));
        } else if (v !== null) this.checkObject(v, nt, `${where}/${k}`, out, opts);
        continue;
      }
      out.push(`${where}/${k}: not a property of ${t}`);
    }
    if (!opts.selected) {
      for (const [k] of props) {
        if (!(k in o) && !omit.has(k) && !(opts.omit || []).includes(k)) out.push(`${where}/${k}: missing (${t})`);
      }
    }
    return out;
  }

  check(json, type, opts = {}) {
    return this.checkObject(json, type, "", [], opts);
  }

  // The bound operation `name` on `type` (or a base type), or undefined.
  operation(name, type, collection) {
    return this.actions.find((a) => {
      if (a.name !== name) return false;
      const b = a.parameters[0]?.type || "";
      const bt = collOf(b) || b;
      return Boolean(collOf(b)) === collection && this.isSubtype(type, bt);
    });
  }

  // Follows a path template ("/print/printers/{printer-id}/jobs/$count") through the container
  // and the navigation properties. Resolves { kind, type } with kind "entity", "collection",
  // "count", "value", "ref", "operation" (type = the return type, or null) or "property";
  // throws when a segment is not in the model.
  resolve(path) {
    const segs = path.split("/").filter(Boolean);
    let cur;
    const first = segs.shift();
    const single = this.singletons.find((x) => x.name === first);
    const set = this.entitySets.find((x) => x.name === first);
    if (single) cur = { kind: "entity", type: single.entityTypeName };
    else if (set) cur = { kind: "collection", type: set.entityTypeName };
    else throw new Error(`'${first}' is not in the entity container`);
    for (const seg of segs) {
      if (seg === "$count") {
        if (cur.kind !== "collection") throw new Error(`$count after a ${cur.kind}`);
        cur = { kind: "count", type: "Edm.Int64" };
        continue;
      }
      if (seg === "$ref") { cur = { kind: "ref", type: cur.type, of: cur.kind }; continue; }
      if (seg === "$value") {
        if (cur.kind !== "entity") throw new Error("$value after a non-entity");
        cur = { kind: "value", type: cur.type };
        continue;
      }
      if (seg.startsWith("{")) {
        if (cur.kind !== "collection") throw new Error(`key ${seg} after a ${cur.kind}`);
        cur = { kind: "entity", type: cur.type };
        continue;
      }
      const name = seg.replace(/^microsoft\.graph\./, "").replace(/\(.*\)$/, "");   // f(a='x',...)
      const op = this.operation(name, cur.type, cur.kind === "collection");
      if (op) {
        const rt = op.returnType || null;
        cur = { kind: "operation", type: rt && op.returnCollection && !collOf(rt) ? `Collection(${rt})` : rt,
          function: op.isFunction, op };
        continue;
      }
      if (cur.kind !== "entity") throw new Error(`'${seg}' after a ${cur.kind}`);
      const { props, navs } = this.members(cur.type);
      const n = navs.get(seg);
      if (n) { cur = { kind: n.isCollection ? "collection" : "entity", type: n.targetTypeName }; continue; }
      const p = props.get(seg);
      if (p) { cur = { kind: "property", type: p.type, nullable: p.nullable !== false }; continue; }
      throw new Error(`'${seg}' is neither a property, a navigation property nor a bound operation of ${cur.type}`);
    }
    return cur;
  }
}
