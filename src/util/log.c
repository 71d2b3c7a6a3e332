/* SPDX-License-Identifier: Apache-2.0 */
/* Line-oriented logging to stderr, text or JSON. */
#include "util/log.h"
#include "util/buf.h"
#include "util/timeutil.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The log's settings and lock. Process globals on purpose: every thread of every module logs
 * without a context, into the one standard error of the process. Changed by SIGHUP (reload)
 * while other threads log: atomics. */
static atomic_bool g_json;
static atomic_int g_level = LOG_INFO;
static bool g_journal; /* set once at start-up, before any thread */
static const char *const LEVEL_NAMES[] = {"debug", "info", "warn", "error"};
/* syslog priorities of the levels, as journald reads them from a "<N>" line prefix */
static const int LEVEL_PRIORITY[] = {7, 6, 4, 3};
/* writer-preferring, so a long line is never starved by a stream of short ones */
static pthread_rwlock_t g_lock = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;

void log_set_json(bool json) { atomic_store(&g_json, json); }
bool log_is_json(void) { return atomic_load(&g_json); }
void log_set_level(log_level_t level) { atomic_store(&g_level, (int)level); }
log_level_t log_get_level(void) { return (log_level_t)atomic_load(&g_level); }
bool log_enabled(log_level_t level) { return (int)level >= atomic_load(&g_level); }

const char *log_level_name(log_level_t level) {
  return (unsigned)level < 4 ? LEVEL_NAMES[level] : "info";
}

bool log_parse_level(const char *s, log_level_t *out) {
  for (int i = 0; s && i < 4; i++)
    if (!strcmp(s, LEVEL_NAMES[i])) {
      *out = (log_level_t)i;
      return true;
    }
  return false;
}

bool log_detect_journal(void) {
  /* systemd sets JOURNAL_STREAM=DEV:INODE of the stream it connected to stdout/stderr; it
   * only counts while stderr is still that stream (not redirected by the caller). */
  const char *js = getenv("JOURNAL_STREAM");
  struct stat st;
  unsigned long long dev, ino;
  g_journal = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
              (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
  return g_journal;
}

bool log_is_journal(void) { return g_journal; }

void log_text_prefix(buf_t *line, log_level_t level) {
  char p[LOG_PREFIX_MAX];
  size_t n = log_text_prefix_to(p, level);
  buf_append(line, p, n);
}

size_t log_text_prefix_to(char out[LOG_PREFIX_MAX], log_level_t level) {
  if (g_journal) {
    out[0] = '<';
    out[1] = (char)('0' + LEVEL_PRIORITY[(unsigned)level < 4 ? level : LOG_INFO]);
    out[2] = '>';
    out[3] = '\0';
    return 3;
  }
  _Static_assert(TIME_ISO_LEN + 1 <= LOG_PREFIX_MAX, "LOG_PREFIX_MAX holds the time");
  time_format_iso(time_real_us(), out);
  size_t n = strlen(out);
  out[n++] = ' ';
  out[n] = '\0';
  return n;
}

void log_write(const char *text, size_t len) {
  /* One write(2) of the line with its newline, without stdio: one system call per line
   * instead of two. A write of at most PIPE_BUF bytes to a pipe is atomic and writes to a
   * file move its offset atomically, so such lines are written concurrently under the shared
   * lock; a longer line (rare) may be split and takes the lock exclusively. Either way lines
   * never interleave. */
  bool exclusive = len > PIPE_BUF;
  if (exclusive) pthread_rwlock_wrlock(&g_lock);
  else pthread_rwlock_rdlock(&g_lock);
  while (len) {
    ssize_t w = write(STDERR_FILENO, text, len);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    text += w;
    len -= (size_t)w;
  }
  pthread_rwlock_unlock(&g_lock);
}

void log_line(const char *line) {
  size_t n = strlen(line);
  char small[1024];
  char *p = n + 1 <= sizeof small ? small : malloc(n + 1);
  if (!p) { /* no memory for the copy: stdio, under the exclusive lock */
    pthread_rwlock_wrlock(&g_lock);
    fputs(line, stderr);
    fputc('\n', stderr);
    fflush(stderr);
    pthread_rwlock_unlock(&g_lock);
    return;
  }
  memcpy(p, line, n);
  p[n] = '\n';
  log_write(p, n + 1);
  if (p != small) free(p);
}

void log_msg(log_level_t level, const char *fmt, ...) {
  if (!log_enabled(level)) return;
  buf_t msg = BUF_INIT, line = BUF_INIT;
  va_list ap;
  va_start(ap, fmt);
  buf_vprintf(&msg, fmt, ap);
  va_end(ap);
  if (log_is_json()) {
    char ts[TIME_ISO_LEN];
    time_format_iso(time_real_us(), ts);
    buf_printf(&line, "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":\"", ts,
               log_level_name(level));
    buf_json_escape(&line, msg.data ? msg.data : "");
    buf_puts(&line, "\"}");
  } else if (g_journal) {
    log_text_prefix(&line, level); /* the journal stamps the time and shows the priority */
    buf_puts(&line, msg.data ? msg.data : "");
  } else {
    log_text_prefix(&line, level);
    buf_printf(&line, "%s %s", log_level_name(level), msg.data ? msg.data : "");
  }
  log_line(line.data);
  buf_free(&msg);
  buf_free(&line);
}
