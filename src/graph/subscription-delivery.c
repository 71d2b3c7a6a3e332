/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GET /spoold/v1/subscriptions/{id}/delivery: what is waiting for delivery to one of the
 * calling application's subscriptions (queued notifications, failed attempts, the last error),
 * which Graph's subscription resource does not tell. Same permission as reading the
 * subscription; another application's subscription is 404, as in /subscriptions/{id}.
 */
#include "graph/subscription-delivery.h"
#include "app.h"
#include "graph/authorize.h"
#include "graph/reply.h"
#include "http/router.h"
#include "store/subscriptions.h"

#include <jansson.h>
#include <string.h>

static void subscription_delivery(http_request_t *req, http_response_t *res) {
  const caller_t *c = graph_authorize(req, res, OP_SUBSCRIPTION_GET, NULL);
  if (!c) return;
  const char *id = http_request_param(req, 0);
  store_subscription_t s = {0};
  store_delivery_state_t d = {0};
  store_rc_t rc = store_subscription_get(APP(req)->store, c->tenant, id, &s);
  if (rc == STORE_OK && (!c->app_id || strcmp(s.app_id, c->app_id))) rc = STORE_NOT_FOUND;
  if (rc == STORE_OK) rc = store_subscription_delivery(APP(req)->store, c->tenant, id, &d);
  if (!graph_reply_item_failure(req, res, rc, "The subscription '%s' was not found.", id)) {
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "queued", json_integer(d.queued));
    json_object_set_new(o, "failedAttempts", json_integer(d.failed_attempts));
    json_object_set_new(o, "lastError", graph_json_string_or_null(d.last_error));
    json_object_set_new(o, "nextAttemptDateTime", graph_json_time_or_null(d.next_attempt_us));
    json_object_set_new(o, "oldestQueuedDateTime", graph_json_time_or_null(d.oldest_us));
    graph_reply_json(req, res, 200, o);
  }
  store_delivery_state_clear(&d);
  store_subscription_clear(&s);
}

static route_t ROUTES[] = {
    ROUTE("GET", "/subscriptions/{id}/delivery", subscription_delivery, ROUTE_EXT,
          "ext.subscriptions.delivery"),
};

void graph_subscription_delivery_routes(void) {
  router_add(ROUTES, sizeof ROUTES / sizeof ROUTES[0]);
}
