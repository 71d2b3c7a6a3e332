/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Logging: one line per event, as JSON or text (--log-format), to stderr.
 * Never pass tokens or request bodies to these functions.
 */
#ifndef SPOOLD_UTIL_LOG_H
#define SPOOLD_UTIL_LOG_H

#include <stdbool.h>

typedef enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level_t;

void log_set_json(bool json);
bool log_is_json(void);
void log_set_level(log_level_t level);
/* A free-form message with a level; in JSON mode it becomes {"time","level","msg"}. */
void log_msg(log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes an already formatted line (the request log builds its own fields). */
void log_line(const char *line);

#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
