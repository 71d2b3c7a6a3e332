/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Growable byte/string buffer.
 *
 * A buf_t owns its memory; buf_free() releases it. buf_detach() hands the
 * NUL-terminated contents to the caller (who then owns them and frees them
 * with free()). Allocation failure aborts the process: a print server that
 * cannot allocate a few bytes cannot answer meaningfully anyway.
 */
#ifndef SPOOLD_UTIL_BUF_H
#define SPOOLD_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct buf {
  char  *data;  /* always NUL-terminated when non-NULL */
  size_t len;
  size_t cap;
} buf_t;

#define BUF_INIT {NULL, 0, 0}

/* Makes room for extra more bytes (and the NUL) without changing the contents. */
void  buf_reserve(buf_t *b, size_t extra);
/* Appending to b, which grows as needed and stays NUL-terminated: len bytes of data (which may
 * hold NULs), the string s, the character c, printf-formatted text. */
void  buf_append(buf_t *b, const void *data, size_t len);
void  buf_puts(buf_t *b, const char *s);
void  buf_putc(buf_t *b, char c);
void  buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void  buf_vprintf(buf_t *b, const char *fmt, va_list ap);

/* Appends s with JSON string escaping, without the surrounding quotes. */
void  buf_json_escape(buf_t *b, const char *s);
/* Empties b and keeps its memory for reuse. */
void  buf_reset(buf_t *b);
/* Returns the contents (caller frees) and leaves b empty. Never NULL. */
char *buf_detach(buf_t *b);
/* Frees the contents and leaves b empty (BUF_INIT); b itself is the caller's. */
void  buf_free(buf_t *b);

/* Allocation wrappers that abort on failure: malloc, calloc, realloc, strdup, strndup. The
 * caller frees the result with free(). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t sz);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* The whole file at path as a malloc'd NUL-terminated string (caller frees), its length in
 * *len when len is not NULL. NULL when it cannot be opened, with "cannot read PATH: reason"
 * in *err (caller frees). */
char *buf_read_file(const char *path, size_t *len, char **err);

/* Writes the printf-formatted text into msg, msglen bytes (cut to fit, always terminated);
 * does nothing when msg is NULL or msglen 0. For the optional message out-parameter of a
 * function ("char *why, size_t whylen"). */
void buf_set_msg(char *msg, size_t msglen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* buf_set_msg with the arguments as a va_list. */
void buf_set_vmsg(char *msg, size_t msglen, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* The printf-formatted text in a new string, which the caller frees (aborts when out of
 * memory, like the wrappers above). */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* xasprintf with the arguments as a va_list (for a function that takes a format itself). */
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#endif
