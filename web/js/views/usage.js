// SPDX-License-Identifier: Apache-2.0
// Usage: daily and monthly print figures from the Graph usage reports, as a bar chart and a table.
import * as graph from "../graph.js";
import { identity } from "../auth.js";
import { h, render, table, section, select, showError } from "../ui.js";

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

// A bar chart of pages per day (or month); the table beside it carries the same numbers for
// screen readers.
function chart(rows, key) {
  const w = 640, hgt = 200, pad = 30;
  const max = Math.max(1, ...rows.map((r) => r.pages));
  const bw = rows.length ? (w - pad) / rows.length : 0;
  return svg("svg", { viewBox: `0 0 ${w} ${hgt + 20}`, class: "chart", role: "img", "aria-label": `Pages printed per ${key}` },
    ...rows.map((r, i) => {
      const bh = ((hgt - pad) * r.pages) / max;
      return svg("g", {},
        svg("rect", { x: pad + i * bw + 2, y: hgt - bh, width: Math.max(bw - 4, 1), height: bh, class: "bar" },
          svg("title", {}, `${r.label}: ${r.pages} pages`)),
        svg("text", { x: pad + i * bw + bw / 2, y: hgt + 14, "text-anchor": "middle", class: "axis" }, r.label.slice(5)));
    }),
    svg("text", { x: 0, y: 12, class: "axis" }, String(max)));
}

// A YYYY-MM-DD date (an OData Date literal), or "".
const dateParam = (v) => (/^\d{4}-\d{2}-\d{2}$/.test(v || "") ? v : "");

export function usageView() {
  const out = h("div", { id: "usage" }, h("p", { class: "muted" }, "Loading usage…"));
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  const period = params.get("period") === "monthly" ? "monthly" : "daily";
  const by = params.get("by") === "user" ? "User" : "Printer";
  const from = dateParam(params.get("from"));
  const to = dateParam(params.get("to"));
  const picker = h("div", { class: "filters", id: "usage-filters" },
    select("Period", "period", [["daily", "Daily"], ["monthly", "Monthly"]], period),
    select("By", "by", [["printer", "Printer"], ["user", "User"]], by.toLowerCase()),
    h("label", {}, h("span", {}, "From"), h("input", { type: "date", name: "from", value: from })),
    h("label", {}, h("span", {}, "To"), h("input", { type: "date", name: "to", value: to })));
  picker.addEventListener("change", () => {
    const q = new URLSearchParams({ period: picker.querySelector("[name=period]").value, by: picker.querySelector("[name=by]").value });
    for (const k of ["from", "to"]) {
      const v = dateParam(picker.querySelector(`[name=${k}]`).value);
      if (v) q.set(k, v);
    }
    location.hash = `#/usage?${q}`;
  });
  render(h("h1", {}, "Usage"), picker, out);
  if (!identity().isAdmin) {
    out.replaceChildren(h("p", {}, "Usage reports are for administrators (Reports.Read.All)."));
    return null;
  }
  (async () => {
    // GET /reports/{daily|monthly}PrintUsageBy{Printer|User}, filtered on usageDate
    const filter = [from && `usageDate ge ${from}`, to && `usageDate le ${to}`].filter(Boolean).join(" and ");
    const path = `/reports/${period}PrintUsageBy${by}?$top=100${filter ? `&$filter=${encodeURIComponent(filter)}` : ""}`;
    const items = (await graph.list(path, 1000)).items;
    const totals = new Map();
    for (const r of items) {
      const label = String(r.usageDate || "").slice(0, period === "monthly" ? 7 : 10);
      totals.set(label, (totals.get(label) || 0) + (r.pageCount || 0));
    }
    const rows = [...totals.entries()].sort().map(([label, pages]) => ({ label, pages }));
    out.replaceChildren(section("Pages", chart(rows, period === "monthly" ? "month" : "day")),
      section("Figures", table([
        { title: by, cell: (r) => (by === "Printer" ? r.printerName || r.printerId : r.userPrincipalName) || "—" },
        { title: period === "monthly" ? "Month" : "Date", cell: (r) => String(r.usageDate || "").slice(0, period === "monthly" ? 7 : 10) },
        { title: "Completed jobs", cell: (r) => String(r.completedJobCount ?? 0) },
        { title: "Colour jobs", cell: (r) => String(r.completedColorJobCount ?? 0) },
        { title: "Incomplete jobs", cell: (r) => String(r.incompleteJobCount ?? 0) },
        { title: "Pages", cell: (r) => String(r.pageCount ?? 0) },
        { title: "Colour pages", cell: (r) => String(r.colorPageCount ?? 0) },
        { title: "Sheets", cell: (r) => String(r.mediaSheetCount ?? 0) },
        { title: "Two-sided sheets", cell: (r) => String(r.doubleSidedSheetCount ?? 0) },
      ], items, "No print usage in this period.")));
  })().catch((e) => showError(e, "Usage"));
  return null;
}
