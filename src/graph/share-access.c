/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Who may print to a printer share (graph/shares.h): allowAllUsers, allowedUsers and
 * allowedGroups, applied to delegated callers by the job-creation path through a share.
 */
#include "app.h"
#include "graph/reply.h"
#include "graph/shares.h"
#include "store/shares.h"
#include "util/log.h"

#include <string.h>

/* True when the token says something (token not NULL) that differs from what is stored. */
static bool differs(const char *stored, const char *token) {
  return token && (!stored || strcmp(stored, token) != 0);
}

bool graph_share_user_may_print(http_request_t *req, http_response_t *res, const caller_t *c,
                                const store_share_t *s) {
  if (!c || !s) {
    graph_reply_store_error(req, res);
    return false;
  }
  if (caller_is_app(c) || s->allow_all_users) return true;
  store_share_access_t a;
  store_rc_t rc = store_share_access(APP(req)->store, s->tenant, s->id, c->user_id, c->groups,
                                     c->ngroups, &a);
  if (rc != STORE_OK) {
    graph_reply_store_error(req, res);
    return false;
  }
  bool ok = a.user || a.group;
  if (a.user && (differs(a.upn, c->upn) || differs(a.display_name, c->name)) &&
      store_share_member_seen(APP(req)->store, s->tenant, c->user_id, c->upn, c->name) !=
        STORE_OK)
    log_warn("share %s: could not record the name of allowed user %s", s->id, c->user_id);
  store_share_access_clear(&a);
  if (!ok)
    graph_reply_error(req, res, 403, "accessDenied", NULL,
                      "You are not allowed to print to share '%s' (%s): ask an administrator "
                      "to add you or one of your groups to its allowedUsers or allowedGroups.",
                      s->display_name, s->id);
  return ok;
}
