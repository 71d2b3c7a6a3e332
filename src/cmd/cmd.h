/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The command-line commands other than `serve` and `migrate` (which live in main.c): each
 * takes main's argv shifted so that argv[0] is the command name, prints its result on stdout
 * and its errors on stderr, and returns the process exit status.
 */
#ifndef SPOOLD_CMD_H
#define SPOOLD_CMD_H

#include <stdbool.h>

/* `spoold token ...` (cmd/token-cmd.c): argv[0] is "token", options follow. Prints the token
 * on stdout; errors go to stderr. Returns the exit status: 0 ok, 1 key or signing failure,
 * 2 usage error. */
int token_command(int argc, char **argv);

/* `spoold tenant add|list|show|suspend|resume|remove ...` (cmd/tenant-cmd.c): argv[0] is
 * "tenant". Output on stdout, errors on stderr. Returns the exit status: 0 ok, 1 store
 * failure, 2 usage error, 3 no such tenant, 4 the tenant already exists. */
int tenant_command(int argc, char **argv);

/* `spoold backup --to DIR ...` (cmd/backup.c): argv[0] is "backup". Copies the SQLite store
 * (online) and the document files. Returns the exit status: 0 ok, 1 failure, 2 usage error. */
int backup_command(int argc, char **argv);

/* `spoold restore --from DIR ...` (cmd/backup.c): argv[0] is "restore". Puts a backup in
 * place of an absent store. Returns the exit status: 0 ok, 1 failure, 2 usage error. */
int restore_command(int argc, char **argv);

/* `spoold check [--data DIR] [--store URL]` (cmd/check-cmd.c): argv[0] is "check". A full
 * integrity check of the database and of every stored document, read only; one line per
 * problem on stdout. Returns the exit status: 0 nothing found, 1 a problem found or the check
 * could not run, 2 usage error. */
int check_command(int argc, char **argv);

/* ---- shared by the commands when they read their arguments (cmd/args.c) ----------------- */

/* Writes "spoold CMD: " and fmt (formatted with arg) to stderr, with a pointer to
 * `spoold CMD --help`. Returns 2, the usage error exit status. */
int cmd_usage_error(const char *cmd, const char *fmt, const char *arg);
/* True when any argument after argv[0] is --help or -h. */
bool cmd_wants_help(int argc, char **argv);
/* Reads the arguments of a command that takes only [--data DIR] [--store URL] into *data and
 * *url (left as they are when not given; the strings stay argv's). Returns -1 to go on, 0
 * after printing help on stdout (--help), 2 after naming an unexpected argument on stderr. */
int cmd_data_store_args(const char *cmd, const char *help, int argc, char **argv,
                        const char **data, const char **url);

#endif
