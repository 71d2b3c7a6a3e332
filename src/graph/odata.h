/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OData query options on the wire: parsing the request's $-options into a
 * query_t (core/query.h), checking $select/$expand names, and building
 * @odata.nextLink URLs.
 *
 * Every error this module reports is a 400 for the client: answer it with
 * graph_reply_error(req, res, 400, "invalidRequest", inner_code, "%s", err).
 * The messages name the option (and the property, and for $filter syntax
 * errors the 1-based character position) so the client can fix the request.
 */
#ifndef SPOOLD_GRAPH_ODATA_H
#define SPOOLD_GRAPH_ODATA_H

#include <stddef.h>

#include "core/query.h"
#include "http/request.h"
#include "http/response.h"

#include <jansson.h>

#define ODATA_FILTER_MAX_LEN   4096 /* characters of $filter */
#define ODATA_FILTER_MAX_DEPTH 32   /* nesting of parentheses / not */
#define ODATA_FILTER_MAX_TERMS 256  /* comparisons (an `in` list counts one per item) */
#define ODATA_LIST_MAX_ITEMS   64   /* names in $select / $expand */

/* An operation whose supported options include one of these lists a collection. */
#define ODATA_COLLECTION_OPTS (QUERY_OPT_FILTER | QUERY_OPT_TOP | QUERY_OPT_SKIPTOKEN)

/* The inner error code of every query option error. */
#define ODATA_INNER_CODE "invalidQueryOption"

/* Parses the OData system query options among the percent-decoded params into *out (which
 * is initialized here; release it with query_clear, also after an error). Option names are
 * matched case-insensitively and only with their '$' ("$filter"); parameters without '$' are
 * not OData options and are ignored. supported is a mask of QUERY_OPT_* bits: a known option
 * outside it, an unknown $option, an option given twice, or a malformed value fails. On a
 * collection (supported has one of ODATA_COLLECTION_OPTS) without QUERY_OPT_COUNT, $count=false
 * is accepted and ignored (it asks for nothing) and $count=true fails saying so.
 * A $skiptoken is decoded and checked against the fingerprint of this query's
 * $filter/$orderby/$search (out->token). Put QUERY_OPT_SKIPTOKEN in the mask of every
 * operation that can return a nextLink.
 * Returns 0, or -1 with a message in err and *inner_code (when not NULL) set to the inner
 * error code (ODATA_INNER_CODE). */
int odata_parse(const http_param_t *params, size_t n, unsigned supported, query_t *out,
                char *err, size_t errlen, const char **inner_code);

/* Parses one $filter expression (e.g. a subscription's notificationQueryOptions filter).
 * Returns 0 and a tree the caller frees with query_filter_free, or -1 with a message in err
 * ("Invalid $filter: ... at position N"). */
int odata_parse_filter(const char *text, query_filter_t **out, char *err, size_t errlen);

/* Checks that every name of a $select or $expand list (what = "$select" / "$expand") is in
 * the NULL-terminated allowed list, matching case-insensitively, and rewrites each name to the
 * allowed spelling in place. Returns 0, or -1 with a message naming the offending name and
 * listing the allowed ones. */
int odata_check_names(char **names, size_t n, const char *const *allowed, const char *what,
                      char *err, size_t errlen);

/* What a list or get operation accepts in its query options (odata_parse_request). */
typedef struct odata_spec {
  unsigned           mask;        /* the supported QUERY_OPT_* options */
  const char *const *select;      /* NULL-terminated $select names (v1.0); NULL = none */
  const char *const *select_beta; /* the names under /beta; NULL = the same as select */
  const char *const *expand;      /* NULL-terminated $expand names; NULL = none */
  const char *const *not_listed;  /* $select names a list never returns (refused); NULL = none */
  const char        *one;         /* with not_listed: the path that reads one object,
                                     "/print/printers/{id}", named in the refusal */
} odata_spec_t;

/* Parses the request's query options into *q (initialized here; the caller releases it with
 * query_clear, also after a failure) and checks them against spec: $select and $expand names
 * (rewritten to their canonical spelling) and the names a list never returns. Replies 400
 * invalidRequest (inner invalidQueryOption) and returns false on the first problem. */
bool odata_parse_request(http_request_t *req, http_response_t *res, const odata_spec_t *spec,
                         query_t *q);

/* Drops from the entity o every member $select did not ask for; annotations ("@..."), "id"
 * and $expand'ed members always stay. Nothing happens without $select. */
void odata_apply_select(json_t *o, const query_t *q);

/* True when name (case-insensitive) is in the query's $select (or when there is no $select,
 * or it was "*"), for handlers that emit only selected properties. */
bool odata_selected(const query_t *q, const char *name);
/* True when the query's $select names name (case-insensitive); false when there is no $select:
 * for properties written only when asked for (a printer's capabilities). */
bool odata_select_names(const query_t *q, const char *name);
/* True when name (case-insensitive) is in the query's $expand. */
bool odata_expanded(const query_t *q, const char *name);

/* Builds the absolute @odata.nextLink: public_url (e.g. "https://print.example.com", with or
 * without a trailing slash or a path prefix) + path (the decoded request path as received,
 * e.g. "/v1.0/print/printers/P/jobs") + every original parameter except $skip and $skiptoken,
 * in their original order, + "$skiptoken=<skiptoken>". Names and values are percent-encoded
 * (a space as %20, never '+'). Returns a malloc'd string the caller frees. */
char *odata_build_next_link(const char *public_url, const char *path, const http_param_t *params,
                            size_t n, const char *skiptoken);

#endif
