/* SPDX-License-Identifier: Apache-2.0 */
/* What the commands share when they read their arguments (see cmd.h). */
#include "cmd/cmd.h"

#include <stdio.h>
#include <string.h>

int cmd_usage_error(const char *cmd, const char *fmt, const char *arg) {
  fprintf(stderr, "spoold %s: ", cmd);
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\n(spoold %s --help shows the usage)\n", cmd);
  return 2;
}

bool cmd_wants_help(int argc, char **argv) {
  for (int i = 1; i < argc; i++)
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return true;
  return false;
}

int cmd_data_store_args(const char *cmd, const char *help, int argc, char **argv,
                        const char **data, const char **url) {
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--data") && i + 1 < argc) *data = argv[++i];
    else if (!strcmp(argv[i], "--store") && i + 1 < argc) *url = argv[++i];
    else if (!strcmp(argv[i], "--help")) {
      puts(help);
      return 0;
    } else {
      fprintf(stderr, "spoold %s: unexpected argument '%s'\n", cmd, argv[i]);
      return 2;
    }
  }
  return -1;
}
