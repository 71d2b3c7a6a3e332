/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The command-line commands other than `serve` and `migrate` (which live in main.c): each
 * takes main's argv shifted so that argv[0] is the command name, prints its result on stdout
 * and its errors on stderr, and returns the process exit status.
 */
#ifndef SPOOLD_CMD_H
#define SPOOLD_CMD_H

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

#endif
