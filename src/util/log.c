/* SPDX-License-Identifier: Apache-2.0 */
/* Line-oriented logging to stderr, text or JSON. */
#include "util/log.h"
#include "util/buf.h"
#include "util/timeutil.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool g_json;
static log_level_t g_level = LOG_INFO;
/* writer-preferring, so a long line is never starved by a stream of short ones */
static pthread_rwlock_t g_lock = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;

void log_set_json(bool json) { g_json = json; }
bool log_is_json(void) { return g_json; }
void log_set_level(log_level_t level) { g_level = level; }

void log_line(const char *line) {
  /* One write(2) of the line with its newline, without stdio: one system call per line
   * instead of two. A write of at most PIPE_BUF bytes to a pipe is atomic and writes to a
   * file move its offset atomically, so such lines are written concurrently under the shared
   * lock; a longer line (rare) may be split and takes the lock exclusively. Either way lines
   * never interleave. */
  size_t n = strlen(line);
  char small[1024];
  char *p = n + 1 <= sizeof small ? small : malloc(n + 1);
  bool exclusive = !p || n + 1 > PIPE_BUF;
  if (exclusive) pthread_rwlock_wrlock(&g_lock);
  else pthread_rwlock_rdlock(&g_lock);
  if (!p) {
    fputs(line, stderr);
    fputc('\n', stderr);
    fflush(stderr);
  } else {
    memcpy(p, line, n);
    p[n] = '\n';
    const char *q = p;
    size_t left = n + 1;
    while (left) {
      ssize_t w = write(STDERR_FILENO, q, left);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) break;
      q += w;
      left -= (size_t)w;
    }
    if (p != small) free(p);
  }
  pthread_rwlock_unlock(&g_lock);
}

void log_msg(log_level_t level, const char *fmt, ...) {
  static const char *names[] = {"debug", "info", "warn", "error"};
  if (level < g_level) return;
  buf_t msg = BUF_INIT, line = BUF_INIT;
  va_list ap;
  va_start(ap, fmt);
  buf_vprintf(&msg, fmt, ap);
  va_end(ap);
  char ts[TIME_ISO_LEN];
  time_format_iso(time_real_us(), ts);
  if (g_json) {
    buf_printf(&line, "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":\"", ts, names[level]);
    buf_json_escape(&line, msg.data ? msg.data : "");
    buf_puts(&line, "\"}");
  } else {
    buf_printf(&line, "%s %s %s", ts, names[level], msg.data ? msg.data : "");
  }
  log_line(line.data);
  buf_free(&msg);
  buf_free(&line);
}
