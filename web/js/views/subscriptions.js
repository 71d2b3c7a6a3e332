// SPDX-License-Identifier: Apache-2.0
// Subscriptions of the signed-in application, with the delivery state of each from spoold's
// extension GET /spoold/v1/subscriptions/{id}/delivery (Graph's subscription does not carry it).
import * as graph from "../graph.js";
import { identity } from "../auth.js";
import { h, render, table, when, showError } from "../ui.js";

export function subscriptionsView() {
  const id = identity();
  const listing = h("div", { id: "subscriptions" }, h("p", { class: "muted" }, "Loading subscriptions…"));
  render(h("h1", {}, "Subscriptions"), listing);
  if (!id.isApp) {
    listing.replaceChildren(h("p", {},
      "Change notifications are subscribed by applications (Graph allows no delegated permission on print subscriptions); sign in as the application to see its subscriptions and their delivery."));
    return null;
  }
  return graph.poll(async () => {
    const { items } = await graph.list("/subscriptions");
    const delivery = new Map();
    await Promise.all(items.map(async (s) => {
      try { delivery.set(s.id, await graph.get(`/spoold/v1/subscriptions/${s.id}/delivery`)); }
      catch (e) { delivery.set(s.id, { error: e.message }); }
    }));
    const d = (s) => delivery.get(s.id) || {};
    listing.replaceChildren(table([
      { title: "Resource", cell: (s) => s.resource },
      { title: "Change", cell: (s) => s.changeType },
      { title: "Notification URL", cell: (s) => s.notificationUrl },
      { title: "Expires", cell: (s) => when(s.expirationDateTime) },
      { title: "Queued", cell: (s) => (d(s).error ? "—" : String(d(s).queued ?? 0)) },
      { title: "Failed attempts", cell: (s) => (d(s).error ? "—" : String(d(s).failedAttempts ?? 0)) },
      { title: "Last error", cell: (s) => d(s).error || d(s).lastError || "—" },
      { title: "Next attempt", cell: (s) => when(d(s).nextAttemptDateTime) },
    ], items, "This application has no subscription."));
  }, 5000, (e) => showError(e, "Subscriptions"));
}
