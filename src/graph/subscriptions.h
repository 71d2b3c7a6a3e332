/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /subscriptions (graph/subscriptions.c): the Graph handlers for change-notification
 * subscriptions and the pure parsing of the resources they name. Delivery is notify/'s.
 */
#ifndef SPOOLD_GRAPH_SUBSCRIPTIONS_H
#define SPOOLD_GRAPH_SUBSCRIPTIONS_H

#include "store/subscriptions.h"

#include <stdbool.h>
#include <stddef.h>

/* Parses a subscription resource in any of the forms clients send: with or without a leading
 * slash, any case of the literal segments, keys as path segments or in OData key syntax
 * ("print/taskDefinitions('ID')/tasks"). On success sets *kind and *target_id (malloc'd, as
 * given; the caller frees) and returns true; otherwise writes a message into err. Pure. */
bool graph_subscription_resource_parse(const char *resource, store_sub_kind_t *kind,
                                       char **target_id, char *err, size_t errlen);

/* The normalised resource for kind and target id: "print/taskDefinitions/{id}/tasks" or
 * "print/printers/{id}/jobs" (malloc'd; the caller frees). */
char *graph_subscription_resource_format(store_sub_kind_t kind, const char *target_id);

/* True when notificationQueryOptions is the JobFetchable filter "$filter = isFetchable eq
 * true", tolerating spacing, case and an implicit "eq true". Pure. */
bool graph_subscription_fetchable_filter(const char *query_options);

#endif
