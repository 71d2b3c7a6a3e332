/* SPDX-License-Identifier: Apache-2.0 */
/* util/buf: buf_printf formats into the buffer's room and again when it did not fit. */
#include <criterion/criterion.h>
#include <string.h>
#include "util/buf.h"

Test(buf, printf_appends_short_and_long) {
  buf_t b = BUF_INIT;
  buf_printf(&b, "%s-%d", "a", 1);
  cr_expect_str_eq(b.data, "a-1");
  cr_expect_eq(b.len, 3);
  /* longer than any room the buffer has: formatted a second time after growing */
  char big[5000];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  buf_printf(&b, "[%s]", big);
  cr_expect_eq(b.len, 3 + 2 + strlen(big));
  cr_expect_eq(strncmp(b.data, "a-1[xxx", 7), 0);
  cr_expect_eq(b.data[b.len - 1], ']');
  cr_expect_eq(b.data[b.len], '\0');
  /* exactly the room left: the NUL must still fit */
  size_t room = b.cap - b.len - 1;
  char fill[8192];
  cr_assert(room < sizeof fill);
  memset(fill, 'y', room);
  fill[room] = '\0';
  size_t before = b.len;
  buf_printf(&b, "%s", fill);
  cr_expect_eq(b.len, before + room);
  cr_expect_eq(strlen(b.data), b.len);
  buf_printf(&b, "%s", fill); /* one byte more than the room */
  cr_expect_eq(strlen(b.data), b.len);
  cr_expect_eq(b.len, before + 2 * room);
  buf_free(&b);
  char *s = xasprintf("%d/%s", 42, "z");
  cr_expect_str_eq(s, "42/z");
  free(s);
}
