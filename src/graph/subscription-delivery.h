/* SPDX-License-Identifier: Apache-2.0 */
/* GET /spoold/v1/subscriptions/{id}/delivery (graph/subscription-delivery.c). */
#ifndef SPOOLD_GRAPH_SUBSCRIPTION_DELIVERY_H
#define SPOOLD_GRAPH_SUBSCRIPTION_DELIVERY_H

/* Registers the route of a subscription's delivery state (an extension route, ROUTE_EXT). */
void graph_subscription_delivery_routes(void);

#endif
