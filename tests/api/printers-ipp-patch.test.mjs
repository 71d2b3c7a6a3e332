// SPDX-License-Identifier: Apache-2.0
// PATCH /print/printers/{id} with Content-Type application/ipp (reference §4.1 P5, §10.5): the
// registering application sends a bare RFC 8010 printer-attributes group (tag 0x04, no IPP
// header, the end-of-attributes tag optional) with Mopria-style attributes; spoold maps them as it
// maps Update-Output-Device-Attributes (§10.6) and answers 204. The result is read back through
// the Kiota client with $select=capabilities,defaults. Refused: delegated callers (415, JSON
// only), another application and printers with a physical device (403), malformed groups (400),
// each leaving the printer unchanged.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { kiotaClient, rawFetch, closeAgents } from "./lib/clients.mjs";
import { assertErrorEnvelope } from "./lib/graph-assert.mjs";
import { PRINTER_MANAGEMENT_SCOPES, serverForSuite, csrBody, registerPrinter } from "./lib/fixtures.mjs";
import { encodeRequest, attr, TAG } from "./lib/ipp.mjs";

const APP_A = "00000000-0000-4000-8000-0000000000aa"; // registers the printers
const APP_B = "00000000-0000-4000-8000-0000000000bb"; // another application
const SELECT = ["id", "isAcceptingJobs", "status", "capabilities", "defaults"];

after(() => closeAgents());

// A bare printer-attributes group: encodeRequest's message without its 8-byte header, and
// without the trailing end-of-attributes tag unless `end` (Microsoft's sample leaves it out).
function group(attrs, { end = false } = {}) {
  const msg = encodeRequest({ op: 0, groups: [{ tag: TAG.PRINTER, attrs }] });
  return msg.subarray(8, end ? msg.length : msg.length - 1);
}

// The Mopria-style set of the S2S sample (§10.5), the attributes spoold maps.
const MOPRIA = [
  attr.language("generated-natural-language-supported", "en"),
  attr.keyword("ipp-versions-supported", ["1.0", "1.1", "2.0"]),
  attr.boolean("color-supported", true),
  attr.integer("copies-default", 2),
  attr.range("copies-supported", [[1, 99]]),
  attr.mime("document-format-default", "application/pdf"),
  attr.mime("document-format-supported", ["application/pdf", "image/pwg-raster", "image/urf"]),
  attr.enum("finishings-default", 3),
  attr.enum("finishings-supported", [3, 4]),
  attr.keyword("media-default", "iso_a4_210x297mm"),
  attr.keyword("media-supported", ["iso_a4_210x297mm", "na_letter_8.5x11in"]),
  attr.keyword("media-source-supported", ["auto", "tray-1"]),
  attr.keyword("media-type-supported", ["stationery", "photographic"]),
  attr.keyword("multiple-document-handling-supported", ["separate-documents-collated-copies"]),
  attr.enum("orientation-requested-default", 3),
  attr.keyword("output-bin-default", "face-down"),
  attr.keyword("output-bin-supported", ["face-down"]),
  attr.keyword("print-color-mode-default", "color"),
  attr.keyword("print-color-mode-supported", ["monochrome", "color", "auto"]),
  attr.enum("print-quality-default", 4),
  attr.enum("print-quality-supported", [3, 4, 5]),
  attr.keyword("print-scaling-default", "auto"),
  attr.keyword("print-scaling-supported", ["auto", "fit", "fill"]),
  attr.boolean("printer-is-accepting-jobs", false),
  attr.text("printer-make-and-model", "Fabrikam Cloud"),
  attr.resolution("printer-resolution-default", { x: 600, y: 600, units: 3 }),
  attr.resolution("printer-resolution-supported", [{ x: 300, y: 300, units: 3 }, { x: 600, y: 600, units: 3 }]),
  attr.integer("printer-up-time", 1234),
  attr.keyword("sides-default", "two-sided-long-edge"),
  attr.keyword("sides-supported", ["one-sided", "two-sided-long-edge", "two-sided-short-edge"]),
];

describe("PATCH printer with application/ipp (P5)", () => {
  const ctx = serverForSuite({}, {
    tokens: {
      admin: { app: APP_A, scopes: PRINTER_MANAGEMENT_SCOPES.join(" "), admin: true },
      appA: { app: APP_A, roles: "Printer.ReadWrite.All" },
      appB: { app: APP_B, roles: "Printer.ReadWrite.All" },
    },
    setup: async (c) => {
      const csr = await csrBody("ec256");
      c.v = await registerPrinter(c.srv, c.admin, { name: "Virtual", csr });
      c.p = await registerPrinter(c.srv, c.admin, { name: "Physical", physical: true, csr });
    },
  });
  const patch = (id, body, token = ctx.appA, contentType = "application/ipp") =>
    rawFetch(`${ctx.srv.origin}/v1.0/print/printers/${id}`, {
      method: "PATCH", token, ca: ctx.srv.ca, body, headers: { "content-type": contentType },
    });
  const read = (id) => kiotaClient({ origin: ctx.srv.origin, version: "v1.0", token: ctx.admin, ca: ctx.srv.ca })
    .print.printers.byPrinterId(id).get({ queryParameters: { select: SELECT } });

  it("maps the Mopria attributes of the sample (no end-of-attributes tag) to capabilities and defaults: 204", async () => {
    const res = await patch(ctx.v, group(MOPRIA));
    assert.equal(res.status, 204, res.text);
    assert.equal(res.body.length, 0);
    const p = await read(ctx.v);
    assert.equal(p.isAcceptingJobs, false);
    const caps = p.capabilities;
    assert.deepEqual(caps.contentTypes, ["application/pdf", "image/pwg-raster", "image/urf"]);
    assert.deepEqual(caps.duplexModes, ["oneSided", "flipOnLongEdge", "flipOnShortEdge"]);
    assert.deepEqual(caps.colorModes, ["grayscale", "color", "auto"]);
    assert.deepEqual({ start: caps.copiesPerJob.start, end: caps.copiesPerJob.end }, { start: 1, end: 99 });
    assert.deepEqual(caps.mediaSizes, ["A4", "North America Letter"]);
    assert.deepEqual(caps.qualities, ["low", "medium", "high"]);
    assert.deepEqual(caps.dpis, [300, 600]);
    assert.deepEqual(caps.scalings, ["auto", "fit", "fill"]);
    assert.deepEqual(caps.finishings, ["none", "staple"]);
    assert.deepEqual(caps.inputBins, ["auto", "tray-1"]);
    assert.deepEqual(caps.mediaTypes, ["stationery", "photographic"]);
    assert.deepEqual(caps.outputBins, ["face-down"]);
    assert.equal(caps.collation, true);
    const d = p.defaults;
    assert.equal(d.contentType, "application/pdf");
    assert.equal(d.duplexMode, "flipOnLongEdge");
    assert.equal(d.colorMode, "color");
    assert.equal(d.copiesPerJob, 2);
    assert.equal(d.mediaSize, "A4");
    assert.equal(d.quality, "medium");
    assert.equal(d.orientation, "portrait");
    assert.equal(d.dpi, 600);
    assert.equal(d.outputBin, "face-down");
    assert.deepEqual(d.finishings, ["none"]);
  });

  it("replaces each supplied attribute (a 1setOf as a whole), keeps the others; delete-attribute clears; with the end tag; status", async () => {
    const res = await patch(ctx.v, group([
      attr.keyword("sides-supported", ["one-sided"]),
      attr.keyword("sides-default", "one-sided"),
      attr.boolean("printer-is-accepting-jobs", true),
      attr.enum("printer-state", 5),
      attr.keyword("printer-state-reasons", ["media-jam-error"]),
      attr.text("printer-state-message", "Jam in tray 1"),
      attr.deleteAttr("media-type-supported"),
    ], { end: true }));
    assert.equal(res.status, 204, res.text);
    const p = await read(ctx.v);
    assert.equal(p.isAcceptingJobs, true);
    assert.equal(p.status.state, "stopped");
    assert.deepEqual(p.status.details, ["mediaJam"]);
    assert.equal(p.status.description, "Jam in tray 1");
    assert.deepEqual(p.capabilities.duplexModes, ["oneSided"]);
    assert.equal(p.defaults.duplexMode, "oneSided");
    assert.deepEqual(p.capabilities.mediaTypes, []);
    // untouched
    assert.deepEqual(p.capabilities.contentTypes, ["application/pdf", "image/pwg-raster", "image/urf"]);
    assert.deepEqual(p.capabilities.colorModes, ["grayscale", "color", "auto"]);
    assert.equal(p.defaults.mediaSize, "A4");
  });

  it("refuses delegated callers (JSON only), another application and a printer with a physical device; nothing changes", async () => {
    const before = await read(ctx.v);
    const body = group([attr.keyword("sides-supported", ["two-sided-short-edge"]), attr.boolean("printer-is-accepting-jobs", false)]);
    let err = assertErrorEnvelope(await patch(ctx.v, body, ctx.admin), { status: 415, code: "invalidRequest" });
    assert.match(err.message, /application\/json/);
    assert.match(err.message, /delegated/);
    err = assertErrorEnvelope(await patch(ctx.v, body, ctx.appB), { status: 403, code: "accessDenied" });
    assert.match(err.message, /registered/);
    err = assertErrorEnvelope(await patch(ctx.p, body, ctx.appA), { status: 403, code: "accessDenied" });
    assert.match(err.message, /physical device/);
    assertErrorEnvelope(await patch(randomUUID(), body), { status: 404, code: "itemNotFound" });
    // another media type is still 415; JSON from the registrar still works (200)
    err = assertErrorEnvelope(await patch(ctx.v, body, ctx.appA, "application/octet-stream"), { status: 415, code: "invalidRequest" });
    assert.deepEqual(await read(ctx.v), before);
  });

  it("refuses malformed printer-attributes groups with 400 saying what is wrong; nothing changes", async () => {
    const before = await read(ctx.v);
    const good = group([attr.keyword("sides-supported", ["two-sided-short-edge"])], { end: true });
    const withHeader = encodeRequest({ op: 0, groups: [{ tag: TAG.PRINTER, attrs: [attr.boolean("printer-is-accepting-jobs", false)] }] });
    const cases = [
      [Buffer.alloc(0), /empty/],
      [withHeader, /must begin with the printer-attributes tag 0x04.*0x02/],
      [Buffer.concat([Buffer.from([TAG.OPERATION]), good.subarray(1)]), /0x04.*0x01/],
      [good.subarray(0, good.length - 6), /truncated/],
      [Buffer.concat([good, Buffer.from("junk")]), /after the end-of-attributes tag/],
      [Buffer.from([TAG.PRINTER, 0x44, 0xff, 0xff, 0x61]), /truncated|malformed/],
      [Buffer.from([TAG.PRINTER]), /empty/],
      [Buffer.concat([group([attr.boolean("printer-is-accepting-jobs", false)]), Buffer.from([TAG.JOB]),
        group([attr.integer("copies", 1)]).subarray(1)]), /single printer-attributes group.*job/i],
      [group([attr.integer("printer-is-accepting-jobs", 0)]), /printer-is-accepting-jobs.*boolean/],
      [group([attr.enum("printer-state", 7)]), /printer-state.*3, 4 or 5/],
      [group([attr.keyword("sides-supported", "one-sided"), attr.keyword("sides-supported", "two-sided-long-edge")]), /sides-supported.*twice/],
    ];
    for (const [body, message] of cases) {
      const err = assertErrorEnvelope(await patch(ctx.v, body), { status: 400, code: "invalidRequest" });
      assert.match(err.message, message, `${body.toString("hex")}: ${err.message}`);
    }
    assert.deepEqual(await read(ctx.v), before);
  });
});
