/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Who may print to a printer share (graph/shares.h): allowAllUsers, allowedUsers and
 * allowedGroups, applied to delegated callers by the job-creation path through a share.
 */
#include "app.h"
#include "graph/reply.h"
#include "graph/shares.h"
#include "store/shares.h"

#include <string.h>

bool graph_share_user_may_print(http_request_t *req, http_response_t *res, const caller_t *c,
                                const store_share_t *s) {
  bool ok = false;
  store_rc_t rc = c && s ? store_share_may_print(APP(req)->store, s, caller_is_app(c), c->user_id,
                                                 c->upn, c->name, c->groups, c->ngroups, &ok)
                         : STORE_ERROR;
  if (rc != STORE_OK) {
    graph_reply_store_error(req, res);
    return false;
  }
  if (!ok)
    graph_reply_error(req, res, 403, "accessDenied", NULL,
                      "You are not allowed to print to share '%s' (%s): ask an administrator "
                      "to add you or one of your groups to its allowedUsers or allowedGroups.",
                      s->display_name, s->id);
  return ok;
}
