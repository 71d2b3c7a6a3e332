/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: OData query option parsing ($filter grammar, option rules), $select/$expand
 * name checks, nextLink building, and $skiptoken checks at parse time. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "graph/odata.h"

#define ALL_OPTS                                                                              \
  (QUERY_OPT_FILTER | QUERY_OPT_SELECT | QUERY_OPT_EXPAND | QUERY_OPT_TOP | QUERY_OPT_SKIP |   \
   QUERY_OPT_SKIPTOKEN | QUERY_OPT_ORDERBY | QUERY_OPT_COUNT)

static char g_err[512];
static const char *g_inner;

/* Parses the name/value pairs (NULL-terminated list) with the mask. */
static int parse_pairs(unsigned mask, query_t *q, const char *const *kv) {
  http_param_t params[16];
  size_t n = 0;
  for (; kv[2 * n]; n++) {
    params[n].name = (char *)kv[2 * n];
    params[n].value = (char *)kv[2 * n + 1];
  }
  g_err[0] = '\0';
  g_inner = NULL;
  return odata_parse(params, n, mask, q, g_err, sizeof g_err, &g_inner);
}

static int parse1(unsigned mask, query_t *q, const char *name, const char *value) {
  const char *kv[] = {name, value, NULL};
  return parse_pairs(mask, q, kv);
}

/* The canonical form of a $filter, or "ERR: <message>". Caller frees. */
static char *canon(const char *text) {
  query_filter_t *f;
  char err[256];
  buf_t b = BUF_INIT;
  if (odata_parse_filter(text, &f, err, sizeof err) != 0) {
    buf_printf(&b, "ERR: %s", err);
  } else {
    query_filter_format(f, &b);
    query_filter_free(f);
  }
  return buf_detach(&b);
}

#define assert_canon(text, expected)                                                          \
  do {                                                                                        \
    char *got_ = canon(text);                                                                 \
    cr_assert_str_eq(got_, expected, "filter: %s", text);                                     \
    free(got_);                                                                               \
  } while (0)

/* Asserts the filter fails with a message containing needle1 (and needle2 unless NULL). */
static void assert_filter_error(const char *text, const char *needle1, const char *needle2) {
  char *got = canon(text);
  cr_assert(strncmp(got, "ERR: Invalid $filter: ", 22) == 0, "expected an error for %s, got %s",
            text, got);
  cr_assert(strstr(got, needle1), "'%s' not in '%s'", needle1, got);
  if (needle2) cr_assert(strstr(got, needle2), "'%s' not in '%s'", needle2, got);
  free(got);
}

/* ---- $filter grammar ------------------------------------------------------------------------- */

Test(odata_filter, string_functions_and_typed_enums) {
  assert_canon("startswith(a,'x')", "(startswith a 'x')");
  assert_canon("endswith(a/b, 'Y') eq true", "(endswith a/b 'Y')");
  assert_canon("contains(a,'z') eq false", "(not (contains a 'z'))");
  assert_canon("contains(a,'z') ne false", "(contains a 'z')");
  assert_canon("not startswith(a,'x') and b eq 1", "(and (not (startswith a 'x')) (eq b 1))");
  assert_canon("s eq microsoft.graph.printJobProcessingState'processing'", "(eq s 'processing')");
  assert_canon("s in (microsoft.graph.printColorMode'color', microsoft.graph.printColorMode'auto')",
               "(or (eq s 'color') (eq s 'auto'))");
  assert_canon("startswith eq 'x'", "(eq startswith 'x')"); /* still a property name */
}

Test(odata_filter, comparison_operators) {
  assert_canon("a eq 1", "(eq a 1)");
  assert_canon("a ne 1", "(ne a 1)");
  assert_canon("a gt 1", "(gt a 1)");
  assert_canon("a ge 1", "(ge a 1)");
  assert_canon("a lt 1", "(lt a 1)");
  assert_canon("a le 1", "(le a 1)");
  /* Keywords are case-insensitive; extra whitespace is fine. */
  assert_canon("  a   EQ   1  ", "(eq a 1)");
}

Test(odata_filter, precedence_or_and_not) {
  assert_canon("a eq 1 or b eq 2 and c eq 3", "(or (eq a 1) (and (eq b 2) (eq c 3)))");
  assert_canon("a eq 1 and b eq 2 or c eq 3", "(or (and (eq a 1) (eq b 2)) (eq c 3))");
  assert_canon("not a eq 1 and b eq 2", "(and (not (eq a 1)) (eq b 2))");
  assert_canon("not a eq 1 or not b eq 2", "(or (not (eq a 1)) (not (eq b 2)))");
  /* n-ary chains stay flat */
  assert_canon("a eq 1 and b eq 2 and c eq 3", "(and (eq a 1) (eq b 2) (eq c 3))");
  assert_canon("a eq 1 or b eq 2 or c eq 3 or d eq 4", "(or (eq a 1) (eq b 2) (eq c 3) (eq d 4))");
}

Test(odata_filter, parentheses_and_nesting) {
  assert_canon("(a eq 1 or b eq 2) and c eq 3", "(and (or (eq a 1) (eq b 2)) (eq c 3))");
  assert_canon("not (a eq 1 or b eq 2)", "(not (or (eq a 1) (eq b 2)))");
  assert_canon("((((a eq 1))))", "(eq a 1)");
  assert_canon("not(not(a eq 1))", "(not (not (eq a 1)))");
  assert_canon("(a eq 1 or (b eq 2 and (c eq 3 or d eq 4)))",
               "(or (eq a 1) (and (eq b 2) (or (eq c 3) (eq d 4))))");
}

Test(odata_filter, literals_of_every_type) {
  assert_canon("s eq 'hello world'", "(eq s 'hello world')");
  assert_canon("s eq ''", "(eq s '')");
  assert_canon("n eq 42", "(eq n 42)");
  assert_canon("n eq -42", "(eq n -42)");
  assert_canon("n eq 9223372036854775807", "(eq n 9223372036854775807)");
  assert_canon("d eq 1.5", "(eq d 1.5)");
  assert_canon("d eq -2.25e2", "(eq d -225.0)");
  assert_canon("b eq true", "(eq b true)");
  assert_canon("b eq FALSE", "(eq b false)");
  assert_canon("x eq null", "(eq x null)");
  assert_canon("x ne null", "(ne x null)");
  assert_canon("id eq 01234567-89ab-cdef-0123-456789ABCDEF",
               "(eq id '01234567-89ab-cdef-0123-456789ABCDEF')");
  assert_canon("id eq abcdef01-89ab-cdef-0123-456789abcdef",
               "(eq id 'abcdef01-89ab-cdef-0123-456789abcdef')");
  /* UTF-8 inside strings */
  assert_canon("s eq 'Zoë ☃'", "(eq s 'Zoë ☃')");
}

Test(odata_filter, date_literals) {
  assert_canon("t ge 2024-05-01T10:20:30Z", "(ge t 2024-05-01T10:20:30.0000000Z)");
  assert_canon("t ge 2024-05-01T10:20:30.1234567Z", "(ge t 2024-05-01T10:20:30.1234560Z)");
  assert_canon("t lt 2024-05-01T12:20:30+02:00", "(lt t 2024-05-01T10:20:30.0000000Z)");
  assert_canon("t lt 2024-05-01T08:20:30-02:00", "(lt t 2024-05-01T10:20:30.0000000Z)");
  assert_canon("t gt 2024-05-01", "(gt t 2024-05-01T00:00:00.0000000Z)");
  assert_canon("(t gt 2024-05-01T00:00:00Z)", "(gt t 2024-05-01T00:00:00.0000000Z)");
  assert_filter_error("t gt 2024-13-01T00:00:00Z", "invalid date-time literal", "position 6");
  assert_filter_error("t gt 2023-02-29", "2023-02-29", NULL);
  assert_filter_error("t gt 2024-05-01T10:20:30", "invalid date-time", NULL);
}

Test(odata_filter, escaped_quotes) {
  assert_canon("s eq 'O''Brien'", "(eq s 'O''Brien')");
  assert_canon("s eq ''''", "(eq s '''')");
  /* The decoded value keeps its single quote. */
  query_filter_t *f;
  char err[128];
  cr_assert_eq(odata_parse_filter("s eq 'it''s'", &f, err, sizeof err), 0);
  cr_assert_str_eq(f->value.u.s, "it's");
  query_filter_free(f);
}

Test(odata_filter, kiota_form_and_paths) {
  /* What Kiota sends (%24filter=status%2Fstate%20eq%20%27processing%27), percent-decoded. */
  assert_canon("status/state eq 'processing'", "(eq status/state 'processing')");
  assert_canon("createdBy/userPrincipalName eq 'alice@contoso.com'",
               "(eq createdBy/userPrincipalName 'alice@contoso.com')");
  /* '+' from form-encoding clients separates tokens like a space. */
  assert_canon("status/state+eq+'processing'", "(eq status/state 'processing')");
  query_filter_t *f;
  char err[128];
  cr_assert_eq(odata_parse_filter("createdBy/userPrincipalName eq 'x'", &f, err, sizeof err), 0);
  cr_assert_eq(f->path.nsegs, 2);
  cr_assert_str_eq(f->path.segs[0], "createdBy");
  cr_assert_str_eq(f->path.segs[1], "userPrincipalName");
  cr_assert_eq(f->pos, 1);
  query_filter_free(f);
}

Test(odata_filter, literal_on_the_left_is_mirrored) {
  assert_canon("5 lt size", "(gt size 5)");
  assert_canon("5 ge size", "(le size 5)");
  assert_canon("'x' eq name", "(eq name 'x')");
}

Test(odata_filter, bare_boolean_and_in) {
  assert_canon("isShared", "(eq isShared true)");
  assert_canon("not isShared", "(not (eq isShared true))");
  assert_canon("isShared and a eq 1", "(and (eq isShared true) (eq a 1))");
  assert_canon("s in ('a', 'b','c')", "(or (eq s 'a') (eq s 'b') (eq s 'c'))");
  assert_canon("s in ('a')", "(eq s 'a')");
  assert_canon("s in ('a', null)", "(or (eq s 'a') (eq s null))");
  query_filter_t *f;
  char err[64];
  cr_assert_eq(odata_parse_filter("isShared", &f, err, sizeof err), 0);
  cr_assert(f->implicit);
  query_filter_free(f);
}

Test(odata_filter, lambda_any_and_all) {
  assert_canon("capabilities/colorModes/any(c: c eq 'color')",
               "(any capabilities/colorModes c (eq c 'color'))");
  assert_canon("capabilities/mediaSizes/ANY(m:m in ('A4','A3')) and isShared",
               "(and (any capabilities/mediaSizes m (or (eq m 'A4') (eq m 'A3'))) (eq isShared true))");
  assert_canon("not location/subunit/all(s: startswith(s,'x') or s eq null)",
               "(not (all location/subunit s (or (startswith s 'x') (eq s null))))");
  assert_canon("capabilities/dpis/any()", "(any capabilities/dpis)");
  assert_canon("capabilities/dpis/any(d: d ge 600 and displayName eq 'P')",
               "(any capabilities/dpis d (and (ge d 600) (eq displayName 'P')))");
  /* a property named any is still a property */
  assert_canon("a/any eq 1", "(eq a/any 1)");
  assert_filter_error("a/all()", "all() at position 3", "needs a lambda variable");
  assert_filter_error("a/any(x eq 1)", "expected ':'", NULL);
  assert_filter_error("a/any(x: x eq 1", "')' closing the lambda", NULL);
  assert_filter_error("a/any(x: x/b/any(y: y eq 1))", "do not nest", NULL);
  assert_filter_error("a/any(x: x eq 1) eq true", "unexpected 'eq'", NULL);
  assert_filter_error("startswith(a/any(x: x eq 'y'),'z')", "condition of its own", NULL);
  assert_filter_error("1 eq a/any(x: x eq 1)", "condition of its own", NULL);
  assert_filter_error("any(x: x eq 1)", "function 'any'", "not supported");
  assert_filter_error("a/any(eq: 1)", "lambda variable", NULL);
}

Test(odata_filter, syntax_errors_name_the_position) {
  assert_filter_error("a eq 'abc", "unterminated string", "position 6");
  assert_filter_error("a eq", "end of expression", "position 5");
  assert_filter_error("(a eq 1", "expected ')'", NULL);
  assert_filter_error("a eq 1)", "unexpected ')'", "position 7");
  assert_filter_error("a eq 1 b eq 2", "unexpected 'b'", "position 8");
  assert_filter_error("a eq 1 or", "end of expression", NULL);
  assert_filter_error("and a eq 1", "'and' at position 1", NULL);
  assert_filter_error("a eq #", "unexpected character '#'", "position 6");
  assert_filter_error("a xx 1", "comparison operator", "'xx' at position 3");
  assert_filter_error("a eq b", "comparing two properties", NULL);
  assert_filter_error("1 eq 1", "needs a property", NULL);
  assert_filter_error("a eq 12abc", "invalid number '12abc'", "position 6");
  assert_filter_error("a eq 99999999999999999999", "out of range", NULL);
  assert_filter_error("a eq 1.", "invalid number", NULL);
  assert_filter_error("tolower(a) eq 'x'", "function 'tolower'", "not supported");
  assert_filter_error("startswith(a)", "expected ','", NULL);
  assert_filter_error("startswith('x',a)", "first argument of startswith()", "must be a property");
  assert_filter_error("contains(a,1)", "second argument of contains()", "must be a string");
  assert_filter_error("endswith(a,'x') gt true", "expected eq or ne", NULL);
  assert_filter_error("a eq microsoft.graph.nothing'x'", "qualified name", NULL);
  assert_filter_error("a eq microsoft.graph.printColorMode'rainbow'", "not a member of printColorMode",
                      NULL);
  /* the first token of the expression (ASan's leak check covers the literal lexed before) */
  assert_filter_error("microsoft.graph.printColorMode'rainbow' eq a", "not a member of printColorMode",
                      NULL);
  assert_filter_error("a add 1 eq 2", "operator 'add'", "not supported");
  assert_filter_error("a in ()", "'in' list", NULL);
  assert_filter_error("a in ('x' 'y')", "',' or ')'", NULL);
  assert_filter_error("a/ eq 1", "property name", NULL);
  assert_filter_error("a gt 1 eq 2", "unexpected 'eq'", NULL);
  assert_filter_error("", "empty", NULL);
  assert_filter_error("   ", "empty", NULL);
}

Test(odata_filter, hostile_input_is_bounded) {
  /* deep nesting */
  buf_t b = BUF_INIT;
  for (int i = 0; i < 40; i++) buf_putc(&b, '(');
  buf_puts(&b, "a eq 1");
  for (int i = 0; i < 40; i++) buf_putc(&b, ')');
  assert_filter_error(b.data, "nested too deeply", NULL);
  buf_reset(&b);
  for (int i = 0; i < 100000; i++) buf_putc(&b, '(');
  assert_filter_error(b.data, "longer than 4096", NULL);
  buf_reset(&b);
  for (int i = 0; i < 40; i++) buf_puts(&b, "not ");
  buf_puts(&b, "a eq 1");
  assert_filter_error(b.data, "nested too deeply", NULL);
  /* 32 levels are fine */
  buf_reset(&b);
  for (int i = 0; i < 32; i++) buf_putc(&b, '(');
  buf_puts(&b, "a eq 1");
  for (int i = 0; i < 32; i++) buf_putc(&b, ')');
  assert_canon(b.data, "(eq a 1)");
  /* too many comparisons */
  buf_reset(&b);
  buf_puts(&b, "a in (1");
  for (int i = 0; i < 300; i++) buf_puts(&b, ",1");
  buf_putc(&b, ')');
  assert_filter_error(b.data, "too many conditions", NULL);
  buf_free(&b);
  /* invalid UTF-8 */
  assert_filter_error("s eq '\xc3\x28'", "UTF-8", NULL);
}

/* ---- odata_parse ----------------------------------------------------------------------------- */

Test(odata_parse, all_options) {
  query_t q;
  const char *kv[] = {"$filter", "status/state eq 'processing'",
                      "$select", "id, displayName ,status",
                      "$expand", "documents",
                      "$top", "25",
                      "$skip", "50",
                      "$orderby", "createdDateTime desc, id",
                      "$count", "true",
                      "api-version", "ignored",
                      NULL};
  cr_assert_eq(parse_pairs(ALL_OPTS, &q, kv), 0, "%s", g_err);
  cr_assert_null(g_inner);
  cr_assert_eq(q.present, QUERY_OPT_FILTER | QUERY_OPT_SELECT | QUERY_OPT_EXPAND | QUERY_OPT_TOP |
                              QUERY_OPT_SKIP | QUERY_OPT_ORDERBY | QUERY_OPT_COUNT);
  cr_assert_not_null(q.filter);
  cr_assert_eq(q.nselect, 3);
  cr_assert_str_eq(q.select[0], "id");
  cr_assert_str_eq(q.select[1], "displayName");
  cr_assert_str_eq(q.select[2], "status");
  cr_assert_eq(q.nexpand, 1);
  cr_assert_str_eq(q.expand[0], "documents");
  cr_assert_eq(q.top, 25);
  cr_assert_eq(q.skip, 50);
  cr_assert_eq(q.norderby, 2);
  cr_assert_str_eq(q.orderby[0].path.segs[0], "createdDateTime");
  cr_assert(q.orderby[0].desc);
  cr_assert_str_eq(q.orderby[1].path.segs[0], "id");
  cr_assert_not(q.orderby[1].desc);
  cr_assert(q.count);
  cr_assert_null(q.skiptoken);
  query_clear(&q);
}

Test(odata_parse, defaults_and_non_dollar_params) {
  query_t q;
  const char *kv[] = {"filter", "garbage ((", "top", "-1", NULL};
  cr_assert_eq(parse_pairs(0, &q, kv), 0, "%s", g_err);
  cr_assert_eq(q.present, 0);
  cr_assert_null(q.filter);
  cr_assert_eq(q.top, -1);
  cr_assert_eq(q.skip, 0);
  cr_assert_eq(query_page_size(&q, QUERY_PAGE_MAX), QUERY_PAGE_DEFAULT);
  query_clear(&q);
}

Test(odata_parse, option_names_are_case_insensitive) {
  query_t q;
  cr_assert_eq(parse1(ALL_OPTS, &q, "$FILTER", "a eq 1"), 0, "%s", g_err);
  cr_assert(q.present & QUERY_OPT_FILTER);
  query_clear(&q);
  cr_assert_eq(parse1(ALL_OPTS, &q, "$Top", "3"), 0, "%s", g_err);
  cr_assert_eq(q.top, 3);
  query_clear(&q);
}

Test(odata_parse, unsupported_option_rejected) {
  query_t q;
  cr_assert_eq(parse1(QUERY_OPT_FILTER | QUERY_OPT_TOP, &q, "$count", "true"), -1);
  cr_assert_str_eq(g_inner, "invalidQueryOption");
  cr_assert(strstr(g_err, "'$count'"), "%s", g_err);
  cr_assert(strstr(g_err, "not supported"), "%s", g_err);
  cr_assert_eq(q.present, 0); /* cleared */

  cr_assert_eq(parse1(QUERY_OPT_FILTER, &q, "$search", "\"printer\""), -1);
  cr_assert(strstr(g_err, "'$search'"), "%s", g_err);
  cr_assert_str_eq(g_inner, "invalidQueryOption");

  cr_assert_eq(parse1(ALL_OPTS, &q, "$apply", "groupby(x)"), -1);
  cr_assert(strstr(g_err, "'$apply'"), "%s", g_err);

  /* A mask without $top rejects it even when valid. */
  cr_assert_eq(parse1(QUERY_OPT_FILTER, &q, "$top", "5"), -1);
  cr_assert(strstr(g_err, "'$top'"), "%s", g_err);
}

Test(odata_parse, unknown_option_rejected) {
  query_t q;
  cr_assert_eq(parse1(ALL_OPTS, &q, "$fliter", "a eq 1"), -1);
  cr_assert_str_eq(g_inner, "invalidQueryOption");
  cr_assert(strstr(g_err, "'$fliter'"), "%s", g_err);
}

Test(odata_parse, unsupported_reported_before_malformed_value) {
  query_t q;
  const char *kv[] = {"$filter", "((", "$count", "true", NULL};
  cr_assert_eq(parse_pairs(QUERY_OPT_FILTER, &q, kv), -1);
  cr_assert(strstr(g_err, "'$count'"), "%s", g_err);
}

Test(odata_parse, duplicate_options_rejected) {
  query_t q;
  const char *kv[] = {"$top", "1", "$TOP", "2", NULL};
  cr_assert_eq(parse_pairs(ALL_OPTS, &q, kv), -1);
  cr_assert(strstr(g_err, "'$top'"), "%s", g_err);
  cr_assert(strstr(g_err, "more than once"), "%s", g_err);
  cr_assert_str_eq(g_inner, "invalidQueryOption");
  const char *kv2[] = {"$filter", "a eq 1", "$filter", "b eq 2", NULL};
  cr_assert_eq(parse_pairs(ALL_OPTS, &q, kv2), -1);
  cr_assert(strstr(g_err, "'$filter'"), "%s", g_err);
}

Test(odata_parse, top_and_skip_bounds) {
  query_t q;
  cr_assert_eq(parse1(ALL_OPTS, &q, "$top", "0"), 0);
  cr_assert_eq(q.top, 0);
  cr_assert_eq(query_page_size(&q, QUERY_PAGE_MAX), 0);
  query_clear(&q);
  cr_assert_eq(parse1(ALL_OPTS, &q, "$top", "5000"), 0, "%s", g_err);
  cr_assert_eq(q.top, 5000);
  cr_assert_eq(query_page_size(&q, QUERY_PAGE_MAX), QUERY_PAGE_MAX); /* pages of the max */
  cr_assert_eq(query_page_size(&q, 100), 100);
  query_clear(&q);
  cr_assert_eq(parse1(ALL_OPTS, &q, "$top", "7"), 0);
  cr_assert_eq(query_page_size(&q, QUERY_PAGE_MAX), 7);
  query_clear(&q);

  const char *bad[] = {"-1", "abc", "", "1.5", " 5", "+5", "99999999999999999999", NULL};
  for (size_t i = 0; bad[i]; i++) {
    cr_assert_eq(parse1(ALL_OPTS, &q, "$top", bad[i]), -1, "$top=%s accepted", bad[i]);
    cr_assert(strstr(g_err, "$top"), "%s", g_err);
    cr_assert_str_eq(g_inner, "invalidQueryOption");
    cr_assert_eq(parse1(ALL_OPTS, &q, "$skip", bad[i]), -1, "$skip=%s accepted", bad[i]);
    cr_assert(strstr(g_err, "$skip"), "%s", g_err);
  }
}

Test(odata_parse, count_values) {
  query_t q;
  cr_assert_eq(parse1(ALL_OPTS, &q, "$count", "false"), 0);
  cr_assert_not(q.count);
  cr_assert(q.present & QUERY_OPT_COUNT);
  query_clear(&q);
  cr_assert_eq(parse1(ALL_OPTS, &q, "$count", "yes"), -1);
  cr_assert(strstr(g_err, "$count"), "%s", g_err);
  /* a collection without @odata.count: $count=false is accepted, $count=true refused saying so */
  const unsigned list = QUERY_OPT_FILTER | QUERY_OPT_TOP | QUERY_OPT_SELECT;
  cr_assert_eq(parse1(list, &q, "$count", "FALSE"), 0, "%s", g_err);
  cr_assert_not(q.count);
  query_clear(&q);
  cr_assert_eq(parse1(list, &q, "$count", "true"), -1);
  cr_assert(strstr(g_err, "'$count' is not supported") && strstr(g_err, "$count=true is refused") &&
                strstr(g_err, "/$count"), "%s", g_err);
  cr_assert_eq(parse1(list, &q, "$count", "maybe"), -1);
  cr_assert(strstr(g_err, "Invalid value for $count"), "%s", g_err);
  /* not a collection (a single entity): $count is no option of it at all */
  cr_assert_eq(parse1(QUERY_OPT_SELECT | QUERY_OPT_EXPAND, &q, "$count", "false"), -1);
  cr_assert(strstr(g_err, "'$count' is not supported"), "%s", g_err);
}

Test(odata_parse, filter_errors_name_the_option) {
  query_t q;
  cr_assert_eq(parse1(ALL_OPTS, &q, "$filter", "a eq 'x"), -1);
  cr_assert(strstr(g_err, "$filter"), "%s", g_err);
  cr_assert(strstr(g_err, "position 6"), "%s", g_err);
  cr_assert_str_eq(g_inner, "invalidQueryOption");
}

Test(odata_parse, select_and_expand_lists) {
  query_t q;
  cr_assert_eq(parse1(ALL_OPTS, &q, "$select", "id,ID,displayName"), 0, "%s", g_err);
  cr_assert_eq(q.nselect, 2); /* duplicates folded */
  query_clear(&q);
  cr_assert_eq(parse1(ALL_OPTS, &q, "$select", "*"), 0, "%s", g_err);
  cr_assert_eq(q.nselect, 0);
  cr_assert(q.present & QUERY_OPT_SELECT);
  cr_assert(odata_selected(&q, "anything"));
  query_clear(&q);

  cr_assert_eq(parse1(ALL_OPTS, &q, "$select", "createdBy/userPrincipalName"), -1);
  cr_assert(strstr(g_err, "$select"), "%s", g_err);
  cr_assert(strstr(g_err, "top-level"), "%s", g_err);
  cr_assert_eq(parse1(ALL_OPTS, &q, "$select", "id,,name"), -1);
  cr_assert(strstr(g_err, "empty name"), "%s", g_err);
  cr_assert_eq(parse1(ALL_OPTS, &q, "$select", "id,"), -1);
  cr_assert_eq(parse1(ALL_OPTS, &q, "$select", ""), -1);
  cr_assert(strstr(g_err, "$select"), "%s", g_err);
  cr_assert_eq(parse1(ALL_OPTS, &q, "$expand", "documents($select=id)"), -1);
  cr_assert(strstr(g_err, "$expand"), "%s", g_err);
  cr_assert(strstr(g_err, "nested"), "%s", g_err);
  cr_assert_eq(parse1(ALL_OPTS, &q, "$expand", "*"), -1);
  cr_assert(strstr(g_err, "$expand"), "%s", g_err);
  cr_assert_eq(parse1(ALL_OPTS, &q, "$select", "na-me"), -1);
  cr_assert(strstr(g_err, "'na-me'"), "%s", g_err);
}

Test(odata_parse, orderby) {
  query_t q;
  cr_assert_eq(parse1(ALL_OPTS, &q, "$orderby", "status/state DESC,displayName asc"), 0, "%s",
               g_err);
  cr_assert_eq(q.norderby, 2);
  cr_assert_eq(q.orderby[0].path.nsegs, 2);
  cr_assert(q.orderby[0].desc);
  cr_assert_not(q.orderby[1].desc);
  query_clear(&q);

  cr_assert_eq(parse1(ALL_OPTS, &q, "$orderby", "name sideways"), -1);
  cr_assert(strstr(g_err, "$orderby"), "%s", g_err);
  cr_assert(strstr(g_err, "sideways"), "%s", g_err);
  cr_assert_eq(parse1(ALL_OPTS, &q, "$orderby", "name,Name desc"), -1);
  cr_assert(strstr(g_err, "twice"), "%s", g_err);
  cr_assert_eq(parse1(ALL_OPTS, &q, "$orderby", "a//b"), -1);
  cr_assert(strstr(g_err, "'a//b'"), "%s", g_err);
  cr_assert_eq(parse1(ALL_OPTS, &q, "$orderby", "a/"), -1);
  cr_assert_eq(parse1(ALL_OPTS, &q, "$orderby", ""), -1);
  cr_assert_eq(parse1(ALL_OPTS, &q, "$orderby", "a,b,c,d,e,f,g,h,i"), -1);
  cr_assert(strstr(g_err, "more than 8"), "%s", g_err);
}

Test(odata_parse, format_and_search_when_supported) {
  query_t q;
  cr_assert_eq(parse1(QUERY_OPT_FORMAT, &q, "$format", "json"), 0, "%s", g_err);
  query_clear(&q);
  cr_assert_eq(parse1(QUERY_OPT_FORMAT, &q, "$format", "xml"), -1);
  cr_assert(strstr(g_err, "$format"), "%s", g_err);
  cr_assert_eq(parse1(QUERY_OPT_SEARCH, &q, "$search", "\"laser\""), 0, "%s", g_err);
  cr_assert_str_eq(q.search, "\"laser\"");
  query_clear(&q);
}

/* ---- $skiptoken at parse time ---------------------------------------------------------------- */

static char *token_for(const char *filter, const char *orderby) {
  query_t q;
  const char *kv[] = {"$filter", filter, "$orderby", orderby, NULL};
  cr_assert_eq(parse_pairs(ALL_OPTS, &q, kv), 0, "%s", g_err);
  query_value_t keys[2] = {{.type = QUERY_VAL_STRING, .u.s = "Lobby"},
                           {.type = QUERY_VAL_INT64, .u.i = 17}};
  char *tok = query_pagetoken_encode(query_fingerprint(&q), keys, 2);
  cr_assert_not_null(tok);
  query_clear(&q);
  return tok;
}

Test(odata_skiptoken, accepted_for_the_same_query) {
  char *tok = token_for("status/state eq 'held'", "displayName");
  query_t q;
  /* same query with different spacing and option order: same fingerprint */
  const char *kv[] = {"$skiptoken", tok, "$orderby", "displayName", "$filter",
                      "status/state   eq 'held'", NULL};
  cr_assert_eq(parse_pairs(ALL_OPTS, &q, kv), 0, "%s", g_err);
  cr_assert_not_null(q.token);
  cr_assert_str_eq(q.skiptoken, tok);
  cr_assert_eq(q.token->nkeys, 2);
  cr_assert_str_eq(q.token->keys[0].u.s, "Lobby");
  cr_assert_eq(q.token->keys[1].u.i, 17);
  query_clear(&q);
  free(tok);
}

Test(odata_skiptoken, replay_with_different_query_rejected) {
  char *tok = token_for("status/state eq 'held'", "displayName");
  query_t q;
  const char *kv[] = {"$skiptoken", tok, "$orderby", "displayName", "$filter",
                      "status/state eq 'completed'", NULL};
  cr_assert_eq(parse_pairs(ALL_OPTS, &q, kv), -1);
  cr_assert(strstr(g_err, "$skiptoken"), "%s", g_err);
  cr_assert(strstr(g_err, "different"), "%s", g_err);
  cr_assert_str_eq(g_inner, "invalidQueryOption");
  const char *kv2[] = {"$skiptoken", tok, "$orderby", "displayName desc", "$filter",
                       "status/state eq 'held'", NULL};
  cr_assert_eq(parse_pairs(ALL_OPTS, &q, kv2), -1);
  cr_assert(strstr(g_err, "different"), "%s", g_err);
  const char *kv3[] = {"$skiptoken", tok, NULL};
  cr_assert_eq(parse_pairs(ALL_OPTS, &q, kv3), -1);
  free(tok);
}

Test(odata_skiptoken, garbage_rejected) {
  query_t q;
  const char *bad[] = {"", "abc", "!!!!", "AAAAAAAAAAAAAAAAAAAAAAAA", "eyJ0b3AiOjF9", NULL};
  for (size_t i = 0; bad[i]; i++) {
    cr_assert_eq(parse1(ALL_OPTS, &q, "$skiptoken", bad[i]), -1, "token '%s' accepted", bad[i]);
    cr_assert(strstr(g_err, "$skiptoken"), "%s", g_err);
    cr_assert_str_eq(g_inner, "invalidQueryOption");
  }
}

/* ---- names ----------------------------------------------------------------------------------- */

Test(odata_names, check_and_canonicalize) {
  static const char *const allowed[] = {"id", "displayName", "status", NULL};
  query_t q;
  cr_assert_eq(parse1(ALL_OPTS, &q, "$select", "DISPLAYNAME,Id"), 0);
  char err[256];
  cr_assert_eq(odata_check_names(q.select, q.nselect, allowed, "$select", err, sizeof err), 0);
  cr_assert_str_eq(q.select[0], "displayName");
  cr_assert_str_eq(q.select[1], "id");
  cr_assert(odata_selected(&q, "ID"));
  cr_assert_not(odata_selected(&q, "status"));
  query_clear(&q);

  cr_assert_eq(parse1(ALL_OPTS, &q, "$select", "id,jobs"), 0);
  cr_assert_eq(odata_check_names(q.select, q.nselect, allowed, "$select", err, sizeof err), -1);
  cr_assert(strstr(err, "$select"), "%s", err);
  cr_assert(strstr(err, "'jobs'"), "%s", err);
  cr_assert(strstr(err, "id, displayName, status"), "%s", err);
  query_clear(&q);

  static const char *const nav[] = {"documents", "tasks", NULL};
  cr_assert_eq(parse1(ALL_OPTS, &q, "$expand", "Documents"), 0);
  cr_assert_eq(odata_check_names(q.expand, q.nexpand, nav, "$expand", err, sizeof err), 0);
  cr_assert(odata_expanded(&q, "documents"));
  cr_assert_not(odata_expanded(&q, "tasks"));
  query_clear(&q);
}

/* ---- nextLink -------------------------------------------------------------------------------- */

Test(odata_nextlink, keeps_options_and_replaces_paging) {
  http_param_t params[] = {
      {"$filter", "createdBy/userPrincipalName eq 'o''neil@contoso.com'"},
      {"$top", "10"},
      {"$skip", "20"},
      {"$SkipToken", "OLD"},
      {"$select", "id,status"},
      {"x", "a+b&c=d#e%f"},
  };
  char *link = odata_build_next_link("https://print.example.com/", "/v1.0/print/printers/P1/jobs",
                                     params, 6, "AbC-_9");
  cr_assert_str_eq(link,
                   "https://print.example.com/v1.0/print/printers/P1/jobs"
                   "?$filter=createdBy/userPrincipalName%20eq%20%27o%27%27neil@contoso.com%27"
                   "&$top=10&$select=id,status&x=a%2Bb%26c%3Dd%23e%25f&$skiptoken=AbC-_9");
  free(link);
}

Test(odata_nextlink, no_params_and_path_prefix) {
  char *link = odata_build_next_link("http://127.0.0.1:8080/spoold", "/beta/print/shares", NULL, 0,
                                     "TOK");
  cr_assert_str_eq(link, "http://127.0.0.1:8080/spoold/beta/print/shares?$skiptoken=TOK");
  free(link);
  http_param_t p[] = {{"$skip", "5"}};
  link = odata_build_next_link("http://h", "/v1.0/print/printers('a b')", p, 1, "T");
  cr_assert_str_eq(link, "http://h/v1.0/print/printers('a%20b')?$skiptoken=T");
  free(link);
}

/* Percent-decodes s[0..n) ('+' stays '+', as the server's decoder does). */
static char *pct_decode(const char *s, size_t n) {
  buf_t b = BUF_INIT;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '%' && i + 2 < n) {
      char hex[3] = {s[i + 1], s[i + 2], 0};
      buf_putc(&b, (char)strtol(hex, NULL, 16));
      i += 2;
    } else {
      buf_putc(&b, s[i]);
    }
  }
  return buf_detach(&b);
}

Test(odata_nextlink, round_trips_through_parse) {
  /* The link's parameters decode back to the original ones, and parse to the same query. */
  http_param_t params[] = {{"$filter", "displayName eq 'Zoë ☃ 100% a+b&c'"},
                           {"$orderby", "displayName desc"},
                           {"$top", "3"}};
  char *link = odata_build_next_link("http://h", "/v1.0/print/printers", params, 3, "T0k-_");
  cr_assert(strstr(link, "$filter=displayName%20eq%20%27Zo%C3%AB%20%E2%98%83%20100%25%20"
                         "a%2Bb%26c%27"), "%s", link);
  const char *qs = strchr(link, '?');
  cr_assert_not_null(qs);
  http_param_t back[8];
  size_t n = 0;
  for (const char *p = qs + 1; *p && n < 8;) {
    const char *amp = strchr(p, '&');
    size_t len = amp ? (size_t)(amp - p) : strlen(p);
    const char *eq = memchr(p, '=', len);
    cr_assert_not_null(eq);
    back[n].name = pct_decode(p, (size_t)(eq - p));
    back[n].value = pct_decode(eq + 1, len - (size_t)(eq - p) - 1);
    n++;
    p += len + (amp ? 1 : 0);
  }
  cr_assert_eq(n, 4);
  for (size_t i = 0; i < 3; i++) {
    cr_assert_str_eq(back[i].name, params[i].name);
    cr_assert_str_eq(back[i].value, params[i].value);
  }
  cr_assert_str_eq(back[3].name, "$skiptoken");
  cr_assert_str_eq(back[3].value, "T0k-_");
  for (size_t i = 0; i < n; i++) {
    free(back[i].name);
    free(back[i].value);
  }
  free(link);
}
