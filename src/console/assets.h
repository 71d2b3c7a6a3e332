/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The console's static files, compiled into the binary from web/ by scripts/embed-web.sh
 * (the generated build/gen/console-assets.c defines the table).
 */
#ifndef SPOOLD_CONSOLE_ASSETS_H
#define SPOOLD_CONSOLE_ASSETS_H

#include <stddef.h>

typedef struct console_asset {
  const char          *path;    /* relative to web/, e.g. "js/main.js" */
  const char          *type;    /* Content-Type */
  const unsigned char *data;
  size_t               len;
  const unsigned char *gz;      /* gzip copy, or NULL when it would not pay */
  size_t               gz_len;
  const char          *etag;    /* strong ETag, quoted */
} console_asset_t;

extern const console_asset_t console_assets[];
extern const size_t console_nassets;

#endif
