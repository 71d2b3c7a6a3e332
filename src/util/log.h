/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Logging: one line per event, as JSON or text (--log-format), to stderr, at or above the
 * level of --log-level. Under systemd (stderr is the journal stream) a text line carries a
 * "<N>" syslog priority prefix instead of the time, which the journal adds itself.
 * Never pass tokens or request bodies to these functions.
 */
#ifndef SPOOLD_UTIL_LOG_H
#define SPOOLD_UTIL_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

typedef enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level_t;

/* The output format (JSON objects or text lines) and the lowest level written: set and read
 * at any time (SIGHUP) while other threads log. */
void log_set_json(bool json);
bool log_is_json(void);
void log_set_level(log_level_t level);
log_level_t log_get_level(void);

/* True when messages of this level are written. */
bool log_enabled(log_level_t level);
/* "debug", "info", "warn", "error". */
const char *log_level_name(log_level_t level);
/* Parses one of the level names; false when s is none of them. */
bool log_parse_level(const char *s, log_level_t *out);
/* Switches text lines to journal form when $JOURNAL_STREAM names this process's stderr.
 * Call once at start-up, before other threads log. Returns whether it did. */
bool log_detect_journal(void);
/* True when log_detect_journal found the journal (text lines carry "<N>" priorities). */
bool log_is_journal(void);
/* Appends the start of a text line: "<N>" (journal) or the time and a space. */
void log_text_prefix(buf_t *line, log_level_t level);
/* Room for log_text_prefix's text and its NUL. */
#define LOG_PREFIX_MAX 40
/* The same text written into out (NUL-terminated); returns its length. */
size_t log_text_prefix_to(char out[LOG_PREFIX_MAX], log_level_t level);
/* A free-form message with a level; in JSON mode it becomes {"time","level","msg"}. */
void log_msg(log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes an already formatted line (the request log builds its own fields). */
void log_line(const char *line);
/* Writes the len bytes of text, one line that already ends in its newline, as log_line writes
 * a line (one write(2), never interleaved with another line); text is the caller's. */
void log_write(const char *text, size_t len);

#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
