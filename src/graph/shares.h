/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Printer shares on the Graph surface (reference §4.2): /print/shares[/{id}] (create, list,
 * get, update, delete), /print/printers/{id}/shares[/{shareId}], /print/shares/{id}/printer,
 * and the allowedUsers / allowedGroups references (share-members.c).
 *
 * For the jobs code: graph_share_user_may_print() is the rule that decides whether a caller
 * may print to a share.
 */
#ifndef SPOOLD_GRAPH_SHARES_H
#define SPOOLD_GRAPH_SHARES_H

#include <jansson.h>
#include <stdbool.h>

#include "auth/identity.h"
#include "core/query.h"
#include "http/request.h"
#include "http/response.h"
#include "store/printers.h"
#include "store/shares.h"

/* graph_share_json flags */
enum {
  GRAPH_SHARE_JSON_LIST = 1u << 0,    /* a list item: never defaults or capabilities */
  GRAPH_SHARE_JSON_REDUCED = 1u << 1, /* only id, displayName, manufacturer, model, location */
};

/* The printerShare JSON of share s over its printer p (without @odata.context): p's printerBase
 * members (graph_printer_base_json) with the share's id, displayName, allowAllUsers and
 * createdDateTime. q (may be NULL) limits it to the $select'ed properties (id always stays)
 * and asks for capabilities (only when $select'ed, never in lists) and viewPoint (only when
 * $select'ed: when caller c last printed to it). Returns a new reference. For the $expand=shares
 * of printers, too. */
json_t *graph_share_json(const http_request_t *req, const caller_t *c, const store_share_t *s,
                         const store_printer_t *p, const query_t *q, unsigned flags);

/* Sets "allowedUsers" (kind STORE_SHARE_USER) or "allowedGroups" on the share object o to the
 * first page of the share's members (with "<nav>@odata.nextLink" when there are more), for
 * $expand. False on a store error. (share-members.c) */
bool graph_share_members_expand(const http_request_t *req, const store_share_t *s,
                                store_share_member_kind_t kind, json_t *o);

/* Answers a failed store call on share id as graph_reply_item_failure does, the 404 saying
 * "Printer share '<id>' was not found."; false (nothing written) when rc is STORE_OK. */
bool graph_share_failure(http_request_t *req, http_response_t *res, int rc, const char *id);

/* True when caller c may print to share s: application callers always (the share rule is for
 * users), users when s allows all users, when c's oid is in s's allowedUsers, or when one of
 * the token's groups is in s's allowedGroups. Otherwise replies 403 accessDenied ("You are
 * not allowed to print to share ...: ask an administrator to add you or one of your groups to
 * its allowedUsers or allowedGroups") and returns false; on a store error replies 500 and
 * returns false. When the user passes as an allowed user, what the token says about the user
 * (upn, name) is recorded for GET .../allowedUsers (store_share_member_seen). */
bool graph_share_user_may_print(http_request_t *req, http_response_t *res, const caller_t *c,
                                const store_share_t *s);

/* Route tables (registered by graph_routes_register). */
void graph_shares_routes(void);
void graph_share_members_routes(void);

#endif
