/* SPDX-License-Identifier: Apache-2.0 */
/* Request-body validation: types, enums, nesting, unknown and read-only properties. */
#include <criterion/criterion.h>
#include <string.h>

#include "graph/json.h"
#include "http/response.h"
#include "util/buf.h"

static const json_field_t INNER_FIELDS[] = {
    {.name = "flag", .kind = JF_BOOL},
    {.name = "color", .kind = JF_ENUM, .enm = &ENUM_PRINT_COLOR_MODE, .nullable = true},
};
static const json_schema_t INNER = {"test.inner", INNER_FIELDS, 2};

static const json_field_t FIELDS[] = {
    {.name = "name", .kind = JF_STRING, .max_len = 5},
    {.name = "copies", .kind = JF_INT32, .nullable = true},
    {.name = "size", .kind = JF_INT64},
    {.name = "when", .kind = JF_DATETIME},
    {.name = "inner", .kind = JF_OBJECT, .sub = &INNER},
    {.name = "finishings", .kind = JF_ARRAY, .elem = JF_ENUM, .enm = &ENUM_PRINT_FINISHING},
    {.name = "ranges", .kind = JF_ARRAY, .elem = JF_OBJECT, .sub = &INNER},
    {.name = "id", .kind = JF_STRING, .readonly = true},
};
static const json_schema_t SCHEMA = {"test.outer", FIELDS, sizeof FIELDS / sizeof FIELDS[0]};

static bool check(const char *text, bool evolvable, char *err) {
  json_error_t e;
  json_t *v = json_loads(text, JSON_REJECT_DUPLICATES, &e);
  cr_assert_not_null(v, "test JSON must parse: %s", e.text);
  bool ok = graph_json_validate(v, &SCHEMA, evolvable, err, 512);
  json_decref(v);
  return ok;
}

Test(json, accepts_a_valid_body_with_annotations) {
  char err[512] = "";
  cr_assert(check("{\"@odata.type\":\"#x\",\"name\":\"abc\",\"copies\":null,\"size\":9007199254740993,"
                  "\"when\":\"2026-01-02T03:04:05.1234567Z\",\"inner\":{\"flag\":true,\"color\":\"grayscale\"},"
                  "\"finishings\":[\"staple\",\"punch\"],\"ranges\":[{\"flag\":false}],"
                  "\"printer@odata.bind\":\"x\"}",
                  false, err),
            "%s", err);
}

Test(json, names_unknown_nested_property) {
  char err[512];
  cr_assert_not(check("{\"inner\":{\"flag\":true,\"nope\":1}}", false, err));
  cr_assert(strstr(err, "inner/nope"), "%s", err);
  cr_assert(strstr(err, "test.inner"), "%s", err);
}

Test(json, wrong_types_name_the_property_and_the_type) {
  char err[512];
  cr_assert_not(check("{\"inner\":{\"flag\":\"yes\"}}", false, err));
  cr_assert(strstr(err, "inner/flag") && strstr(err, "Boolean"), "%s", err);
  cr_assert_not(check("{\"copies\":3000000000}", false, err));
  cr_assert(strstr(err, "copies") && strstr(err, "32-bit"), "%s", err);
  cr_assert_not(check("{\"when\":\"yesterday\"}", false, err));
  cr_assert(strstr(err, "when"), "%s", err);
  cr_assert_not(check("{\"size\":1.5}", false, err));
  cr_assert(strstr(err, "size"), "%s", err);
}

Test(json, null_only_where_nullable) {
  char err[512];
  cr_assert(check("{\"copies\":null}", false, err), "%s", err);
  cr_assert_not(check("{\"name\":null}", false, err));
  cr_assert(strstr(err, "'name' cannot be null"), "%s", err);
}

Test(json, enum_members_and_evolvable_members) {
  char err[512];
  cr_assert_not(check("{\"inner\":{\"flag\":true,\"color\":\"purple\"}}", false, err));
  cr_assert(strstr(err, "printColorMode") && strstr(err, "grayscale"), "%s", err);
  cr_assert_not(check("{\"inner\":{\"flag\":true,\"color\":\"unknownFutureValue\"}}", false, err));
  /* stapleTripleLeft is declared after unknownFutureValue: only with the Prefer header. */
  cr_assert_not(check("{\"finishings\":[\"stapleTripleLeft\"]}", false, err));
  cr_assert(strstr(err, "finishings[0]"), "%s", err);
  cr_assert(check("{\"finishings\":[\"stapleTripleLeft\"]}", true, err), "%s", err);
}

Test(json, read_only_and_length_limits) {
  char err[512];
  cr_assert_not(check("{\"id\":\"x\"}", false, err));
  cr_assert(strstr(err, "read-only"), "%s", err);
  cr_assert_not(check("{\"name\":\"abcdef\"}", false, err));
  cr_assert(strstr(err, "at most 5"), "%s", err);
}

Test(json, arrays_check_each_element) {
  char err[512];
  cr_assert_not(check("{\"ranges\":[{\"flag\":true},{\"flag\":1}]}", false, err));
  cr_assert(strstr(err, "ranges[1]/flag"), "%s", err);
  cr_assert_not(check("{\"finishings\":\"staple\"}", false, err));
  cr_assert(strstr(err, "must be an array"), "%s", err);
}

Test(json, depth_counts_outside_strings_only) {
  cr_assert_eq(graph_json_depth("{\"a\":[[1]]}", 11), 3);
  cr_assert_eq(graph_json_depth("{\"a\":\"[[[[\\\"[[\"}", 17), 1);
  char deep[200];
  memset(deep, '[', 70);
  memset(deep + 70, ']', 70);
  cr_assert_eq(graph_json_depth(deep, 140), 70);
}

Test(json, enum_helpers) {
  cr_assert_eq(enum_lookup(&ENUM_PRINT_ORIENTATION, "landscape", false), 1);
  cr_assert_eq(enum_value(&ENUM_PRINT_ORIENTATION, 1), 4);
  cr_assert_str_eq(enum_emit(&ENUM_PRINT_FINISHING, 20, false), "unknownFutureValue");
  cr_assert_str_eq(enum_emit(&ENUM_PRINT_FINISHING, 20, true), "stapleTripleLeft");
  cr_assert_eq(enum_lookup(&ENUM_PRINT_MULTIPAGE_LAYOUT, "counterClockwiseFromTopLeft", false), 1);
  cr_assert_eq(enum_lookup(&ENUM_PRINT_COLOR_MODE, "Color", false), -1, "case-sensitive");
}

/* Found by fuzz/json.c: a long non-ASCII property name is cut inside a character when the
 * message is formatted; the 400 envelope must still carry a (valid UTF-8) message. */
Test(json, error_envelope_keeps_a_message_cut_inside_a_character) {
  buf_t body = BUF_INIT;
  buf_puts(&body, "{\"");
  for (int i = 0; i < 400; i++) buf_puts(&body, "\xc3\xa9"); /* é */
  buf_puts(&body, "\":1}");
  json_t *v = json_loadb(body.data, body.len, 0, NULL);
  cr_assert_not_null(v);
  http_request_t req;
  memset(&req, 0, sizeof req);
  http_response_t res;
  http_response_init(&res);
  cr_assert_not(graph_json_check(&req, &res, v, &SCHEMA));
  cr_assert_eq(res.status, 400);
  json_t *env = json_loadb(res.body, res.body_len, 0, NULL);
  cr_assert_not_null(env);
  const char *msg = json_string_value(json_object_get(json_object_get(env, "error"), "message"));
  cr_assert_not_null(msg, "the envelope lost its message: %s", res.body);
  cr_assert(strstr(msg, "does not exist on type 'test.outer'") || strstr(msg, "Property '"),
            "%s", msg);
  json_decref(env);
  json_decref(v);
  http_response_clear(&res);
  buf_free(&body);
}
