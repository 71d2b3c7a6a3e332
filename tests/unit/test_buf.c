/* SPDX-License-Identifier: Apache-2.0 */
/* util/buf: buf_printf formats into the buffer's room and again when it did not fit; a whole
 * file read into memory; xvasprintf; buf_set_msg. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

Test(buf_read_file, whole_file_with_its_length) {
  char path[] = "/tmp/spoold-test-buf.XXXXXX";
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  static const char data[] = "line one\n\0binary\nlast";
  cr_assert_eq(write(fd, data, sizeof data - 1), (ssize_t)(sizeof data - 1));
  close(fd);
  size_t len = 0;
  char *err = NULL;
  char *got = buf_read_file(path, &len, &err);
  unlink(path);
  cr_assert_not_null(got);
  cr_assert_null(err);
  cr_assert_eq(len, sizeof data - 1);
  cr_assert_eq(memcmp(got, data, len), 0);
  cr_assert_eq(got[len], '\0', "NUL-terminated");
  free(got);
}

Test(buf_read_file, missing_file_says_which) {
  char *err = NULL;
  cr_assert_null(buf_read_file("/nonexistent/spoold-test", NULL, &err));
  cr_assert_not_null(err);
  cr_assert_str_eq(err, "cannot read /nonexistent/spoold-test: No such file or directory");
  free(err);
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...) {
  va_list ap;
  va_start(ap, f);
  char *s = xvasprintf(f, ap);
  va_end(ap);
  return s;
}

Test(xvasprintf, formats_like_xasprintf) {
  char *a = fmt("%s-%d", "job", 42), *b = xasprintf("%s-%d", "job", 42);
  cr_assert_str_eq(a, "job-42");
  cr_assert_str_eq(a, b);
  free(a);
  free(b);
  char *e = fmt("%s", "");
  cr_assert_str_eq(e, "");
  free(e);
}

Test(buf_set_msg, cuts_to_fit_and_skips_no_buffer) {
  char m[8];
  buf_set_msg(m, sizeof m, "%s %d", "refused", 12345);
  cr_assert_str_eq(m, "refused");  /* 7 characters and the terminator */
  buf_set_msg(m, sizeof m, "%d", 42);
  cr_assert_str_eq(m, "42");
  memcpy(m, "kept", 5);
  buf_set_msg(m, 0, "%s", "x");     /* no room: untouched */
  cr_assert_str_eq(m, "kept");
  buf_set_msg(NULL, 16, "%s", "x"); /* no buffer: nothing happens */
}
