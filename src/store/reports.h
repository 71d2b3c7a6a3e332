/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Print usage reports and archived print jobs (reference §2.13, §4.9), computed from the jobs
 * that are terminal and still listed and from the archive that retention writes
 * (archived_jobs). A job is in exactly one of the two, so it counts once: in the usage of the
 * UTC day (and month) it became terminal, recorded at that transition (migration 8). The
 * source of a redirect is not counted (its job is the destination's).
 *
 * Per job: completed jobs count as colour when their configuration's colorMode was `color`,
 * otherwise black and white; canceled and aborted jobs are incomplete. Pages are the
 * impressions the device reported (job-impressions-completed, copies included; 0 when it
 * reported none), colour pages those of colour jobs; sheets are pages for one-sided jobs and
 * pages / 2 rounded up for two-sided ones (duplexMode flipOnLongEdge or flipOnShortEdge).
 */
#ifndef SPOOLD_STORE_REPORTS_H
#define SPOOLD_STORE_REPORTS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/query.h"
#include "store/store.h"

typedef enum {
  STORE_USAGE_DAILY_BY_PRINTER = 0,
  STORE_USAGE_MONTHLY_BY_PRINTER,
  STORE_USAGE_DAILY_BY_USER,
  STORE_USAGE_MONTHLY_BY_USER,
} store_usage_kind_t;

/* True for the two by-user kinds. */
static inline bool store_usage_by_user(store_usage_kind_t k) {
  return k == STORE_USAGE_DAILY_BY_USER || k == STORE_USAGE_MONTHLY_BY_USER;
}
/* True for the two monthly kinds. */
static inline bool store_usage_monthly(store_usage_kind_t k) {
  return k == STORE_USAGE_MONTHLY_BY_PRINTER || k == STORE_USAGE_MONTHLY_BY_USER;
}

/* One printUsageByPrinter / printUsageByUser record. Owns its strings (store_usage_clear). */
typedef struct store_usage {
  char   *key;          /* the printer id, or the lower-cased userPrincipalName ("" if none) */
  char   *printer_name; /* by printer: the printer's name (the archived one once it is gone) */
  char   *upn;          /* by user: the userPrincipalName as the token had it */
  int64_t usage_us;     /* UTC midnight of the day, or of the first day of the month */
  int64_t bw_jobs, color_jobs, incomplete_jobs;
  int64_t pages, color_pages, duplex_sheets, simplex_sheets;
} store_usage_t;

/* Releases what *u holds and zeroes it, so clearing twice is harmless (NULL is a no-op); the
 * struct itself stays the caller's. */
void store_usage_clear(store_usage_t *u);
/* Clears each of v[0..n) (store_usage_clear) and frees v (NULL is a no-op). */
void store_usages_free(store_usage_t *v, size_t n);

/* Lists one page of the tenant's usage records of kind: q's $filter ($orderby, $top, $skip,
 * keyset $skiptoken) over usageDate (a Date literal is its midnight UTC), printerId and
 * printerName (by printer), userPrincipalName (by user; compared case-insensitively, literals
 * are lower-cased in place) and the counts; default order usageDate then printer / user.
 * *total (when not NULL) receives the number of records matching the $filter. On STORE_OK
 * *out (free with store_usages_free) holds *n records and *next a malloc'd page token (NULL
 * on the last page). STORE_INVALID with a malloc'd *err when q does not fit. */
store_rc_t store_usage_list(store_t *st, const char *tenant, store_usage_kind_t kind, query_t *q,
                            int64_t max_page, store_usage_t **out, size_t *n, int64_t *total,
                            char **next, char **err);

/* Reads the record of kind for the day (month) starting at usage_us and key (printer id, or
 * upn compared case-insensitively). STORE_NOT_FOUND when no job counts there. */
store_rc_t store_usage_get(store_t *st, const char *tenant, store_usage_kind_t kind,
                           int64_t usage_us, const char *key, store_usage_t *out);

/* One archivedPrintJob. Owns its strings (store_archived_job_clear). */
typedef struct store_archived_job {
  int64_t id;
  char   *printer_id, *printer_name;  /* may be NULL */
  int     state;                      /* printJobProcessingState index */
  int64_t created_us;
  int64_t acquired_us;                /* 0: never acquired */
  int64_t completed_us;
  bool    acquired;
  int64_t copies_printed;
  char   *by_id, *by_upn, *by_name, *by_ip;  /* createdBy; may be NULL */
  int64_t pages;                      /* as for usage: reported impressions, 0 if none */
  bool    color, duplex;
} store_archived_job_t;

/* Releases the strings of each of v[0..n) and frees v (NULL is a no-op). */
void store_archived_jobs_free(store_archived_job_t *v, size_t n);

typedef enum {
  STORE_ARCHIVE_BY_PRINTER = 0, /* printer_id: printerId */
  STORE_ARCHIVE_BY_USER,        /* createdBy/id: userId */
  STORE_ARCHIVE_BY_GROUP,       /* a group the creator was in when creating the job */
} store_archive_by_t;

/* Lists one page of the tenant's terminal jobs (listed and archived) of the printer, user or
 * group `who`, completed within [start_us, end_us] (either bound INT64_MIN / INT64_MAX when
 * open), ordered by id; paged by q ($top, $skiptoken). As store_usage_list otherwise. */
store_rc_t store_archived_jobs(store_t *st, const char *tenant, store_archive_by_t by,
                               const char *who, int64_t start_us, int64_t end_us, query_t *q,
                               int64_t max_page, store_archived_job_t **out, size_t *n,
                               char **next, char **err);

#endif
