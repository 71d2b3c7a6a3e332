/* Line-oriented logging to stderr, text or JSON. */
#include "util/log.h"
#include "util/buf.h"
#include "util/timeutil.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

static bool g_json;
static log_level_t g_level = LOG_INFO;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

void log_set_json(bool json) { g_json = json; }
bool log_is_json(void) { return g_json; }
void log_set_level(log_level_t level) { g_level = level; }

void log_line(const char *line) {
  pthread_mutex_lock(&g_lock);
  fputs(line, stderr);
  fputc('\n', stderr);
  fflush(stderr);
  pthread_mutex_unlock(&g_lock);
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
  time_format_iso(time_now_us(), ts);
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
