/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The answer a handler builds. The server turns it into a libmicrohttpd
 * response. A response owns its body and header strings.
 *
 * Bodies come in four forms: a memory buffer (the usual JSON), a file
 * range (document downloads, sent with sendfile), a range read through a
 * callback (documents kept in the database, streamed a chunk at a time), or
 * nothing (204); a memory body together with a file or callback range sends
 * the memory first, then the range (IPP Fetch-Document: the IPP response,
 * then the document).
 */
#ifndef SPOOLD_HTTP_RESPONSE_H
#define SPOOLD_HTTP_RESPONSE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HTTP_MAX_HEADERS 16

typedef struct http_header {
  char *name;
  char *value;
} http_header_t;

typedef struct http_response {
  int           status;       /* 0 = not set yet */
  http_header_t headers[HTTP_MAX_HEADERS];
  size_t        nheaders;
  char         *body;         /* owned; NULL for no body */
  size_t        body_len;
  int           fd;           /* >= 0: send fd bytes [fd_offset, fd_offset+fd_len) and close it */
  uint64_t      fd_offset;
  uint64_t      fd_len;
  /* when src_read is set (and fd < 0): bytes [src_offset, src_offset+src_len) come from
   * src_read(src_arg, offset, buf, max), which returns a count > 0 or a negative value on
   * failure; src_free(src_arg) runs once the response is done (or dropped) */
  ssize_t     (*src_read)(void *arg, uint64_t offset, char *buf, size_t max);
  void        (*src_free)(void *arg);
  void         *src_arg;
  uint64_t      src_offset;
  uint64_t      src_len;
  const char   *error_code;   /* for the log and metrics: Graph error code when an error */
} http_response_t;

/* An empty response (no headers, no body, no file: fd -1) in caller-owned *res. */
void http_response_init(http_response_t *res);
/* Frees what res owns (headers, body, file descriptor, streaming source) and makes it empty
 * again, as http_response_init does. */
void http_response_clear(http_response_t *res);
/* Adds (or replaces, for the same name) a header; copies both strings. */
void http_response_header(http_response_t *res, const char *name, const char *value);
/* Sets status and takes ownership of body (malloc'd) with the given content type. */
void http_response_body(http_response_t *res, int status, const char *content_type, char *body,
                        size_t len);
/* Sets a status with no body. */
void http_response_empty(http_response_t *res, int status);

#endif
