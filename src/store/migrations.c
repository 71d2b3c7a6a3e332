/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Schema migrations, shared by every backend.
 *
 * migrations[k] is schema version k + 1. Entries are never edited once released: a change to
 * the schema is a new entry appended at the end. Each one runs in its own write transaction
 * together with the INSERT of its schema_migrations row, so it applies entirely or not at all.
 *
 * SQL rules for migration scripts (they run unchanged on SQLite and PostgreSQL 15):
 *   - types: TEXT, INTEGER (32-bit in PostgreSQL: enums, flags, small counts), BIGINT (any
 *     int64: microsecond times, sizes), DOUBLE PRECISION, BYTEA (bytes; SQLite accepts the
 *     name). Booleans are INTEGER 0/1. No AUTOINCREMENT/SERIAL: ids come from the application.
 *   - TENANCY: every table holding tenant data has a tenant_id column
 *     REFERENCES tenants(id) ON DELETE CASCADE (directly, or through a parent row that has
 *     one), so store_tenant_remove() deletes all of a tenant's rows by deleting its tenants row.
 *   - No SQLite-only syntax (INSERT OR ..., WITHOUT ROWID, AUTOINCREMENT, typeless columns)
 *     and no PostgreSQL-only syntax (SERIAL, ::casts, $n placeholders), except in a backend's
 *     own step of a migration (pg_steps, sqlite_steps), which runs after the common script of
 *     its version.
 */
#include "store/db-backend.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <stdlib.h>

/* Migration 8's backfill of usage_day/usage_month (microseconds of the UTC day / first of the
 * month) from completed_us on the rows of TABLE matching WHERE: days since 1970, then the day
 * of the year in a March-based year (Hinnant's civil_from_days) to step back to the 1st. */
#define USAGE_BACKFILL(TABLE, WHERE)                                                              \
  "UPDATE " TABLE " SET usage_day = completed_us / 86400000000,"                                  \
  " usage_month = completed_us / 86400000000 + 719468 WHERE " WHERE ";"                          \
  "UPDATE " TABLE " SET is_color = usage_month / 146097 WHERE usage_day IS NOT NULL;"           \
  "UPDATE " TABLE " SET usage_month = usage_month - is_color * 146097 WHERE usage_day IS NOT NULL;" \
  "UPDATE " TABLE " SET is_duplex = (usage_month - usage_month / 1460 + usage_month / 36524"     \
  " - usage_month / 146096) / 365 WHERE usage_day IS NOT NULL;"                                 \
  "UPDATE " TABLE " SET usage_month = usage_month - (365 * is_duplex + is_duplex / 4"            \
  " - is_duplex / 100) WHERE usage_day IS NOT NULL;"                                             \
  "UPDATE " TABLE " SET is_duplex = (5 * usage_month + 2) / 153 WHERE usage_day IS NOT NULL;"   \
  "UPDATE " TABLE " SET usage_month = (usage_day - (usage_month - (153 * is_duplex + 2) / 5))"  \
  " * 86400000000, usage_day = usage_day * 86400000000, is_color = NULL, is_duplex = NULL"       \
  " WHERE usage_day IS NOT NULL;"

static const char *const migrations[] = {
  /* 1: tenants and the /print settings singleton */
  "CREATE TABLE tenants ("
  "  id TEXT PRIMARY KEY,"
  "  display_name TEXT NOT NULL DEFAULT '',"
  "  state INTEGER NOT NULL,"            /* tenant_state_t */
  "  created_us BIGINT NOT NULL"
  ");"
  "CREATE TABLE print_settings ("
  "  tenant_id TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,"
  "  document_conversion_enabled INTEGER NOT NULL,"
  "  airprint_incompatible_printers TEXT"  /* 'show', 'hide' or NULL */
  ");",

  /* 2: the print domain: printers and their registration, shares, pull-printing task
   * definitions and triggers, jobs, documents, upload sessions and print tasks. JSON columns
   * hold complex Graph types exactly as validated (location, defaults, capabilities,
   * configuration); everything a query filters or sorts on is a column of its own. */
  "CREATE TABLE counters ("
  "  name TEXT PRIMARY KEY,"
  "  value BIGINT NOT NULL"
  ");"
  "INSERT INTO counters (name, value) VALUES ('job', 0);"

  /* The tenant's device CA, which signs the certificates of registered printers. */
  "CREATE TABLE device_cas ("
  "  tenant_id TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,"
  "  key_pem TEXT NOT NULL,"
  "  cert_pem TEXT NOT NULL,"
  "  next_serial BIGINT NOT NULL,"
  "  created_us BIGINT NOT NULL"
  ");"

  "CREATE TABLE printers ("
  "  id TEXT PRIMARY KEY,"
  "  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
  "  display_name TEXT NOT NULL,"
  "  manufacturer TEXT,"
  "  model TEXT,"
  "  has_physical_device INTEGER NOT NULL,"
  "  physical_device_id TEXT,"
  "  connector_id TEXT,"
  "  is_accepting_jobs INTEGER,"                  /* NULL: unknown */
  "  status_state INTEGER NOT NULL DEFAULT 0,"     /* printerProcessingState index */
  "  status_details TEXT NOT NULL DEFAULT '[]',"   /* JSON array of detail member names */
  "  status_description TEXT NOT NULL DEFAULT '',"
  "  location TEXT,"                               /* JSON printerLocation */
  "  defaults TEXT,"                               /* JSON printerDefaults */
  "  factory_defaults TEXT,"                       /* JSON: what restoreFactoryDefaults restores */
  "  capabilities TEXT,"                           /* JSON printerCapabilities */
  "  release_mechanisms TEXT,"                     /* JSON printReleaseMechanism array */
  "  registered_us BIGINT NOT NULL,"
  "  last_seen_us BIGINT,"
  "  registered_by_app TEXT,"                      /* appid of the registering client */
  "  cert_pem TEXT,"                               /* the device certificate we signed */
  "  cert_sha256 TEXT,"                            /* its fingerprint, for TLS client auth */
  "  device_secret_hash TEXT"                      /* SHA-256 of the device token (IPP) */
  ");"
  "CREATE INDEX printers_tenant ON printers (tenant_id, id);"
  "CREATE INDEX printers_tenant_name ON printers (tenant_id, display_name, id);"

  /* printerCreateOperation: the asynchronous result of POST /print/printers/create. */
  "CREATE TABLE print_operations ("
  "  id TEXT PRIMARY KEY,"
  "  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
  "  created_us BIGINT NOT NULL,"
  "  state INTEGER NOT NULL,"                      /* printOperationProcessingState index */
  "  description TEXT NOT NULL DEFAULT '',"
  "  printer_id TEXT,"
  "  certificate TEXT"
  ");"
  "CREATE INDEX print_operations_tenant ON print_operations (tenant_id, id);"

  "CREATE TABLE shares ("
  "  id TEXT PRIMARY KEY,"
  "  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
  "  printer_id TEXT NOT NULL UNIQUE REFERENCES printers(id) ON DELETE CASCADE,"
  "  display_name TEXT NOT NULL,"
  "  allow_all_users INTEGER NOT NULL,"
  "  created_us BIGINT NOT NULL"
  ");"
  "CREATE INDEX shares_tenant ON shares (tenant_id, id);"

  /* allowedUsers (kind 0) and allowedGroups (kind 1) of a share. */
  "CREATE TABLE share_members ("
  "  share_id TEXT NOT NULL REFERENCES shares(id) ON DELETE CASCADE,"
  "  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
  "  kind INTEGER NOT NULL,"
  "  member_id TEXT NOT NULL,"
  "  display_name TEXT,"
  "  upn TEXT,"
  "  added_us BIGINT NOT NULL,"
  "  PRIMARY KEY (share_id, kind, member_id)"
  ");"
  /* store_share_member_seen: a user's entries across the tenant's shares */
  "CREATE INDEX share_members_member ON share_members (tenant_id, kind, member_id);"

  "CREATE TABLE task_definitions ("
  "  id TEXT PRIMARY KEY,"
  "  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
  "  display_name TEXT NOT NULL,"
  "  created_by_app TEXT NOT NULL,"
  "  created_by_name TEXT,"
  "  created_us BIGINT NOT NULL"
  ");"
  "CREATE INDEX task_definitions_app ON task_definitions (tenant_id, created_by_app, id);"

  /* At most one trigger per printer; a definition bound by a trigger cannot be deleted. */
  "CREATE TABLE task_triggers ("
  "  id TEXT PRIMARY KEY,"
  "  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
  "  printer_id TEXT NOT NULL UNIQUE REFERENCES printers(id) ON DELETE CASCADE,"
  "  definition_id TEXT NOT NULL REFERENCES task_definitions(id),"
  "  event INTEGER NOT NULL,"                      /* printEvent index */
  "  created_by_app TEXT NOT NULL,"
  "  created_us BIGINT NOT NULL"
  ");"
  "CREATE INDEX task_triggers_definition ON task_triggers (definition_id);"

  "CREATE TABLE jobs ("
  "  id BIGINT PRIMARY KEY,"                       /* decimal id, also the IPP job-id */
  "  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
  "  printer_id TEXT NOT NULL REFERENCES printers(id) ON DELETE CASCADE,"
  "  display_name TEXT,"
  "  phase INTEGER NOT NULL,"                      /* job_phase_t (core/job.h) */
  "  state INTEGER NOT NULL,"                      /* printJobProcessingState index */
  "  details INTEGER NOT NULL,"                    /* JOB_DETAIL_* bits */
  "  description TEXT NOT NULL,"
  "  is_fetchable INTEGER NOT NULL,"
  "  is_acquired INTEGER NOT NULL DEFAULT 0,"
  "  acknowledged_us BIGINT,"
  "  configuration TEXT NOT NULL,"                 /* JSON printJobConfiguration */
  "  created_us BIGINT NOT NULL,"
  "  updated_us BIGINT NOT NULL,"
  "  completed_us BIGINT,"
  "  held_us BIGINT,"                              /* when a task started holding it */
  "  created_by_id TEXT,"
  "  created_by_upn TEXT,"
  "  created_by_upn_lc TEXT,"                      /* lower-cased upn, for case-insensitive $filter */
  "  created_by_name TEXT,"
  "  created_by_ip TEXT,"
  "  redirected_from TEXT,"
  "  redirected_to TEXT,"
  "  error_code INTEGER"
  ");"
  "CREATE INDEX jobs_printer ON jobs (printer_id, id);"
  "CREATE INDEX jobs_printer_upn ON jobs (printer_id, created_by_upn_lc, id);"
  "CREATE INDEX jobs_printer_creator ON jobs (printer_id, created_by_id, id);"
  "CREATE INDEX jobs_held ON jobs (phase, held_us);"

  "CREATE TABLE documents ("
  "  id TEXT PRIMARY KEY,"
  "  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
  "  job_id BIGINT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
  "  display_name TEXT NOT NULL DEFAULT '',"
  "  content_type TEXT NOT NULL DEFAULT '',"
  "  size BIGINT NOT NULL DEFAULT 0,"
  "  uploaded_us BIGINT,"
  "  downloaded_us BIGINT,"
  "  sha256 TEXT,"
  "  blob_key TEXT"                                /* where the bytes are (blob/blob.h) */
  ");"
  "CREATE INDEX documents_job ON documents (job_id);"
  "CREATE INDEX documents_blob ON documents (blob_key);"   /* is a blob still referenced? */

  "CREATE TABLE upload_sessions ("
  "  id TEXT PRIMARY KEY,"
  "  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
  "  document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,"
  "  secret_hash TEXT NOT NULL,"                   /* SHA-256 of the uploadUrl credential */
  "  document_name TEXT NOT NULL,"
  "  content_type TEXT NOT NULL,"
  "  size BIGINT NOT NULL,"
  "  received TEXT NOT NULL DEFAULT '[]',"         /* JSON [[start,end],...] inclusive */
  "  blob_key TEXT NOT NULL,"
  "  expires_us BIGINT NOT NULL,"
  "  created_us BIGINT NOT NULL,"
  "  created_by_id TEXT"
  ");"
  "CREATE INDEX upload_sessions_expiry ON upload_sessions (expires_us);"
  "CREATE INDEX upload_sessions_document ON upload_sessions (document_id);"
  "CREATE INDEX upload_sessions_blob ON upload_sessions (blob_key);"

  "CREATE TABLE tasks ("
  "  id TEXT PRIMARY KEY,"
  "  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
  "  definition_id TEXT NOT NULL REFERENCES task_definitions(id) ON DELETE CASCADE,"
  "  trigger_id TEXT,"
  "  trigger_app TEXT NOT NULL,"                   /* appid that created the trigger */
  "  job_id BIGINT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
  "  printer_id TEXT NOT NULL,"
  "  state INTEGER NOT NULL,"                      /* printTaskProcessingState index */
  "  description TEXT NOT NULL DEFAULT '',"
  "  created_us BIGINT NOT NULL,"
  "  updated_us BIGINT NOT NULL"
  ");"
  "CREATE INDEX tasks_definition ON tasks (definition_id, id);"
  "CREATE INDEX tasks_job ON tasks (job_id);"

  /* Terminal jobs past --job-retention leave jobs (with their documents and tasks) and keep
   * the archivedPrintJob facts here, for usage reports (store/pullprint.h). No printer
   * foreign key: the archive outlives the printer. */
  "CREATE TABLE archived_jobs ("
  "  id BIGINT PRIMARY KEY,"
  "  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
  "  printer_id TEXT,"
  "  printer_name TEXT,"
  "  state INTEGER NOT NULL,"                      /* printJobProcessingState index */
  "  created_us BIGINT NOT NULL,"
  "  acquired_us BIGINT,"
  "  completed_us BIGINT NOT NULL,"
  "  acquired INTEGER NOT NULL,"
  "  copies_printed INTEGER NOT NULL,"
  "  created_by_id TEXT,"
  "  created_by_upn TEXT,"
  "  created_by_name TEXT,"
  "  archived_us BIGINT NOT NULL"
  ");"
  "CREATE INDEX archived_jobs_printer ON archived_jobs (tenant_id, printer_id, completed_us);"
  "CREATE INDEX archived_jobs_user ON archived_jobs (tenant_id, created_by_upn, completed_us);"

  /* Change-notification subscriptions (POST /subscriptions) on print resources. resource is
   * the normalised Graph resource; (kind, target_id) is what it watches: 1 = the tasks of
   * task definition target_id, 2 = the jobs of printer target_id. */
  "CREATE TABLE subscriptions ("
  "  id TEXT PRIMARY KEY,"
  "  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
  "  app_id TEXT NOT NULL,"
  "  creator_id TEXT,"
  "  resource TEXT NOT NULL,"
  "  kind INTEGER NOT NULL,"
  "  target_id TEXT NOT NULL,"
  "  change_type TEXT NOT NULL,"
  "  client_state TEXT,"
  "  notification_url TEXT NOT NULL,"
  "  lifecycle_url TEXT,"
  "  query_options TEXT,"
  "  tls_version TEXT NOT NULL,"
  "  expires_us BIGINT NOT NULL,"
  "  created_us BIGINT NOT NULL,"
  "  UNIQUE (tenant_id, app_id, resource, change_type)"
  ");"
  "CREATE INDEX subscriptions_target ON subscriptions (tenant_id, kind, target_id);"
  "CREATE INDEX subscriptions_expiry ON subscriptions (expires_us);"

  /* The notification outbox: one row per notification still to deliver, written in the
   * transaction of the change that caused it and deleted after a 2xx. kind 0 = a change
   * notification (deleted with its subscription), 1 = subscriptionRemoved, 2 = missed
   * (lifecycle notifications, which outlive the subscription). payload is the request body. */
  "CREATE TABLE outbox ("
  "  id TEXT PRIMARY KEY,"
  "  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
  "  subscription_id TEXT NOT NULL,"
  "  kind INTEGER NOT NULL,"
  "  url TEXT NOT NULL,"
  "  payload TEXT NOT NULL,"
  "  created_us BIGINT NOT NULL,"
  "  due_us BIGINT NOT NULL,"
  "  attempts INTEGER NOT NULL DEFAULT 0,"
  "  last_error TEXT"
  ");"
  "CREATE INDEX outbox_due ON outbox (due_us);"
  "CREATE INDEX outbox_url_due ON outbox (url, due_us);"
  "CREATE INDEX outbox_subscription ON outbox (subscription_id, kind);",

  /* 3: the IPP INFRA side (store/ipp.h): the device's view of each job, the output devices
   * that pushed their attributes, and ippget subscriptions with their events. Event rows are
   * written in the transaction of the job or printer change they report. */
  "ALTER TABLE jobs ADD COLUMN device_uuid TEXT;"          /* output device that acknowledged */
  "ALTER TABLE jobs ADD COLUMN device_state INTEGER;"      /* last output-device-job-state */
  "ALTER TABLE jobs ADD COLUMN device_reasons TEXT;"       /* its reasons, comma-separated */
  "ALTER TABLE jobs ADD COLUMN device_message TEXT;"
  "ALTER TABLE jobs ADD COLUMN device_doc_state INTEGER;"  /* last output-device-document-state */
  "ALTER TABLE jobs ADD COLUMN impressions_completed BIGINT;"
  "ALTER TABLE jobs ADD COLUMN processing_us BIGINT;"      /* acknowledged by a device */
  "CREATE INDEX jobs_printer_phase ON jobs (printer_id, phase, id);"
  "INSERT INTO counters (name, value) VALUES ('ipp_subscription', 0);"
  "CREATE TABLE ipp_devices ("
  "  printer_id TEXT NOT NULL REFERENCES printers(id) ON DELETE CASCADE,"
  "  uuid TEXT NOT NULL,"                          /* output-device-uuid */
  "  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
  "  attributes BYTEA NOT NULL,"                   /* IPP-encoded printer attributes */
  "  created_us BIGINT NOT NULL,"
  "  updated_us BIGINT NOT NULL,"
  "  PRIMARY KEY (printer_id, uuid)"
  ");"
  "CREATE TABLE ipp_subscriptions ("
  "  id BIGINT PRIMARY KEY,"                       /* notify-subscription-id */
  "  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
  "  printer_id TEXT NOT NULL REFERENCES printers(id) ON DELETE CASCADE,"
  "  events TEXT NOT NULL,"                        /* notify-events, comma-separated */
  "  device_uuid TEXT,"                            /* output device that created it */
  "  owner TEXT,"                                  /* requesting-user-name */
  "  user_data BYTEA,"                             /* notify-user-data */
  "  lease_s BIGINT NOT NULL,"                     /* 0: no expiry */
  "  expires_us BIGINT,"                           /* NULL: no expiry */
  "  last_seq BIGINT NOT NULL,"                    /* notify-sequence-number of the last event */
  "  created_us BIGINT NOT NULL,"
  "  used_us BIGINT NOT NULL"                      /* last Get-Notifications */
  ");"
  "CREATE INDEX ipp_subscriptions_printer ON ipp_subscriptions (printer_id, id);"
  "CREATE TABLE ipp_events ("
  "  subscription_id BIGINT NOT NULL REFERENCES ipp_subscriptions(id) ON DELETE CASCADE,"
  "  seq BIGINT NOT NULL,"
  "  event TEXT NOT NULL,"                         /* notify-subscribed-event */
  "  created_us BIGINT NOT NULL,"
  "  job_id BIGINT,"                               /* job events */
  "  job_phase INTEGER,"
  "  job_details INTEGER,"
  "  job_device_state INTEGER,"
  "  printer_state INTEGER,"                       /* printer events: Graph status */
  "  printer_details TEXT,"
  "  printer_accepting INTEGER,"
  "  text TEXT,"
  "  PRIMARY KEY (subscription_id, seq)"
  ");",

  /* 4: the retention sweeper finds terminal jobs by their completion time through an index
   * instead of scanning every job (every terminal transition sets completed_us). */
  "CREATE INDEX jobs_completed ON jobs (completed_us) WHERE completed_us IS NOT NULL;",

  /* 5: document bytes in the database (store/chunks.h), used when several processes share a
   * PostgreSQL database and so share no file system; SQLite mode keeps files and leaves these
   * empty. Keys are random (blob/blob.h) and referenced by documents and upload sessions, like
   * file names; unreferenced blobs are swept as files are. */
  "CREATE TABLE blobs ("
  "  key TEXT PRIMARY KEY,"
  "  size BIGINT NOT NULL,"
  "  chunk_size BIGINT NOT NULL,"
  "  created_us BIGINT NOT NULL"                   /* creation, then the last write */
  ");"
  "CREATE TABLE blob_chunks ("
  "  key TEXT NOT NULL REFERENCES blobs(key) ON DELETE CASCADE,"
  "  idx BIGINT NOT NULL,"                         /* offset / chunk_size */
  "  data BYTEA NOT NULL,"
  "  PRIMARY KEY (key, idx)"
  ");",

  /* 6: print passwords (desktop printing over IPP with HTTP Basic): a user's own secrets for
   * /ipp/share/{id}, each a slow salted hash bound to the identity claims the user had when
   * creating it (store/print-passwords.h). */
  "CREATE TABLE print_passwords ("
  "  id TEXT PRIMARY KEY,"
  "  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
  "  user_id TEXT NOT NULL,"                     /* oid */
  "  user_name TEXT NOT NULL,"                   /* the login name: upn, lower-cased */
  "  user_display_name TEXT,"                    /* name claim */
  "  groups TEXT NOT NULL,"                      /* JSON array of group ids */
  "  display_name TEXT NOT NULL,"
  "  hash TEXT NOT NULL,"                        /* pbkdf2-sha256$iterations$salt$key (hex) */
  "  created_us BIGINT NOT NULL,"
  "  last_used_us BIGINT"
  ");"
  "CREATE INDEX print_passwords_login ON print_passwords (tenant_id, user_name);"
  "CREATE INDEX print_passwords_user ON print_passwords (tenant_id, user_id, created_us);",

  /* 7: Identify-Printer requests made on a printer share, waiting for the printer's output
   * device to take them with Acknowledge-Identify-Printer (PWG 5100.18; store/ipp.h). One
   * pending request per printer: a new one replaces it. */
  "CREATE TABLE ipp_identify ("
  "  printer_id TEXT PRIMARY KEY REFERENCES printers(id) ON DELETE CASCADE,"
  "  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
  "  actions TEXT NOT NULL,"                     /* identify-actions, comma-separated */
  "  message TEXT,"                              /* message (text(127)); NULL: none */
  "  requested_us BIGINT NOT NULL"
  ");",

  /* 8: usage reports (store/reports.h). A job that becomes terminal records the UTC day and
   * month it counts in (NULL: not counted, e.g. the source of a redirect) and whether its
   * configuration printed in colour and on both sides; jobs record their creator's groups
   * (JSON array of group ids) for getGroupArchivedPrintJobs. The archive keeps all of it with
   * the pages the device reported. Rows written before this version get their day and month
   * from completed_us (the month through days-from-civil arithmetic in integers, using the new
   * columns as scratch), their colour/duplex from the configuration text (compact JSON as
   * graph/jobs.c writes it); archived rows before this version have no colour/duplex (NULL,
   * counted as black and white, one-sided). */
  "ALTER TABLE jobs ADD COLUMN usage_day BIGINT;"
  "ALTER TABLE jobs ADD COLUMN usage_month BIGINT;"
  "ALTER TABLE jobs ADD COLUMN is_color INTEGER;"
  "ALTER TABLE jobs ADD COLUMN is_duplex INTEGER;"
  "ALTER TABLE jobs ADD COLUMN created_by_groups TEXT;"
  "ALTER TABLE archived_jobs ADD COLUMN usage_day BIGINT;"
  "ALTER TABLE archived_jobs ADD COLUMN usage_month BIGINT;"
  "ALTER TABLE archived_jobs ADD COLUMN is_color INTEGER;"
  "ALTER TABLE archived_jobs ADD COLUMN is_duplex INTEGER;"
  "ALTER TABLE archived_jobs ADD COLUMN page_count BIGINT;"
  "ALTER TABLE archived_jobs ADD COLUMN created_by_groups TEXT;"
  USAGE_BACKFILL("jobs", "completed_us IS NOT NULL AND redirected_to IS NULL AND phase IN (6, 7, 8)")  /* terminal phases */
  USAGE_BACKFILL("archived_jobs", "completed_us IS NOT NULL")
  "UPDATE jobs SET is_color = CASE WHEN configuration LIKE '%\"colorMode\":\"color\"%' THEN 1"
  " ELSE 0 END, is_duplex = CASE WHEN configuration LIKE '%\"duplexMode\":\"flipOn%' THEN 1"
  " ELSE 0 END WHERE usage_day IS NOT NULL;"
  "CREATE INDEX jobs_usage ON jobs (tenant_id, usage_day) WHERE usage_day IS NOT NULL;"
  "CREATE INDEX archived_jobs_usage ON archived_jobs (tenant_id, usage_day);"
  "CREATE INDEX archived_jobs_creator ON archived_jobs (tenant_id, created_by_id, completed_us);",

  /* 9: pull-print printers (reference §4.10; store/pull-printers.h): virtual queues with their
   * member printers (explicit rows; include_all_printers makes every printer of the tenant a
   * member), the operation that created each (print_operations.pull_printer_id, set instead
   * of printer_id), and the pull-print printer a share publishes (shares.pull_printer_id). */
  "CREATE TABLE pull_printers ("
  "  id TEXT PRIMARY KEY,"
  "  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
  "  display_name TEXT NOT NULL,"
  "  include_all_printers INTEGER NOT NULL,"
  "  location TEXT,"                               /* JSON printerLocation */
  "  defaults TEXT,"                               /* JSON printerDefaults */
  "  factory_defaults TEXT,"                       /* JSON: what restoreFactoryDefaults restores */
  "  registered_us BIGINT NOT NULL"
  ");"
  "CREATE INDEX pull_printers_tenant ON pull_printers (tenant_id, id);"
  "CREATE INDEX pull_printers_tenant_name ON pull_printers (tenant_id, display_name, id);"
  "CREATE TABLE pull_printer_members ("
  "  pull_printer_id TEXT NOT NULL REFERENCES pull_printers(id) ON DELETE CASCADE,"
  "  printer_id TEXT NOT NULL REFERENCES printers(id) ON DELETE CASCADE,"
  "  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
  "  added_us BIGINT NOT NULL,"
  "  PRIMARY KEY (pull_printer_id, printer_id)"
  ");"
  "CREATE INDEX pull_printer_members_printer ON pull_printer_members (printer_id, pull_printer_id);"
  "ALTER TABLE print_operations ADD COLUMN pull_printer_id TEXT;"
  "ALTER TABLE shares ADD COLUMN pull_printer_id TEXT REFERENCES pull_printers(id) ON DELETE SET NULL;"
  "CREATE INDEX shares_pull_printer ON shares (pull_printer_id);",

  /* 10: fewer pages written per job (docs/benchmarks.md, "Where the time goes"): jobs_held
   * keeps only held jobs (phase 1, the only ones the held-job timeout looks for, by a query
   * naming phase = 1) and documents_blob only documents with bytes (the blob reference check
   * asks for one key, never NULL), so creating a job (its document is empty) and canceling
   * it write neither index. */
  "DROP INDEX jobs_held;"
  "CREATE INDEX jobs_held ON jobs (held_us, id) WHERE phase = 1;"
  "DROP INDEX documents_blob;"
  "CREATE INDEX documents_blob ON documents (blob_key) WHERE blob_key IS NOT NULL;",

  /* 11: activity windows (store/limits.h): what each printer and user took of the job creation
   * and upload volume limits, counted in the store so that every process sharing it counts
   * the same events. A row is one event (at_us its time) or one bucket of events (at_us the
   * bucket's start, amount their sum); rows older than the longest window are swept. */
  "CREATE TABLE activity_windows ("
  "  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
  "  kind INTEGER NOT NULL,"                     /* store_limit_kind_t */
  "  name TEXT NOT NULL,"                        /* printer id or user id ('' for none) */
  "  at_us BIGINT NOT NULL,"
  "  amount BIGINT NOT NULL"
  ");"
  "CREATE INDEX activity_windows_key ON activity_windows (tenant_id, kind, name, at_us);"
  "CREATE INDEX activity_windows_age ON activity_windows (at_us);",

  /* 12: the pre-authorized download URLs that $value redirects to (store/documents.h): only the
   * SHA-256 of each credential, what it grants and until when, so any process sharing the
   * store serves a URL another process issued. Expired rows are swept. */
  "CREATE TABLE download_tokens ("
  "  hash TEXT PRIMARY KEY,"
  "  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
  "  job_id BIGINT NOT NULL,"
  "  doc_id TEXT NOT NULL,"
  "  expires_us BIGINT NOT NULL"
  ");"
  "CREATE INDEX download_tokens_expiry ON download_tokens (expires_us);",

  /* 13: job and IPP subscription ids from sequences on PostgreSQL (db_next_id): the counters
   * rows made every two concurrent creates conflict on one row lock in their serializable
   * transactions. The backend script (pg_steps below) does it; SQLite keeps its counters rows
   * (one writer) and has nothing to change. */
  "",

  /* 14: jobs keyed by the rowid on SQLite (docs/benchmarks.md, "The jobs table keyed by its
   * rowid"): there `id BIGINT PRIMARY KEY` is a separate unique index beside the table (only
   * INTEGER PRIMARY KEY names the rowid), so every job read descends two B-trees. SQLite
   * cannot change a primary key in place: its step (sqlite_steps below) rebuilds the table.
   * PostgreSQL has nothing to change: its primary key is the index a read uses anyway, and a
   * BIGINT key is what a PostgreSQL INTEGER PRIMARY KEY would not be (32-bit). */
  "",
};

/* Parts of a migration that only one backend runs, after the common script of the same
 * version. The backend's own syntax is allowed here and only here. A step that rebuilds a
 * table (SQLite's way to change a column's type or a primary key: create the new table, copy,
 * drop the old one, rename, recreate the indexes) names it in rebuilds: the runner logs the
 * table's row count before and the time taken after, and runs the step with the foreign keys
 * off (db_write_fk_off: dropping the old table would otherwise delete the rows referencing it
 * through ON DELETE CASCADE); fk_check then names the tables whose foreign keys are checked
 * before the commit (PRAGMA foreign_key_check), the rebuilt one and those referencing it. */
typedef struct {
  int                version;
  const char        *sql;
  const char        *rebuilds;   /* NULL, or the table the step rebuilds */
  const char *const *fk_check;   /* NULL-terminated, with rebuilds */
} backend_step_t;

/* 13: each sequence starts above every id taken so far (the counter and, should a row carry a
 * larger one, the tables'); the counters rows stay but are no longer read on PostgreSQL. */
#define SEQ_FROM(SEQ, FLOOR)                                                                   \
  "CREATE SEQUENCE " SEQ " AS BIGINT MINVALUE 1;"                                              \
  "SELECT setval('" SEQ "', " FLOOR " + 1, false);"

static const backend_step_t pg_steps[] = {
  {13, SEQ_FROM("job_ids", "GREATEST((SELECT value FROM counters WHERE name = 'job'),"
                           " (SELECT COALESCE(MAX(id), 0) FROM jobs),"
                           " (SELECT COALESCE(MAX(id), 0) FROM archived_jobs))")
       SEQ_FROM("ipp_subscription_ids",
                "GREATEST((SELECT value FROM counters WHERE name = 'ipp_subscription'),"
                " (SELECT COALESCE(MAX(id), 0) FROM ipp_subscriptions))"), NULL, NULL},
};

/* 14: the jobs table as it stands at version 13 (migrations 2, 3 and 8: the same columns in
 * the same order, the same constraints), with the id the rowid; its indexes as migrations 2,
 * 3, 4, 8 and 10 left them. The copy follows the old table's rowid order, which is the id
 * order (ids come from a counter, rows are appended), so the new table is written in key
 * order. */
#define JOBS_COLUMNS                                                                           \
  "id, tenant_id, printer_id, display_name, phase, state, details, description, is_fetchable," \
  " is_acquired, acknowledged_us, configuration, created_us, updated_us, completed_us,"       \
  " held_us, created_by_id, created_by_upn, created_by_upn_lc, created_by_name,"              \
  " created_by_ip, redirected_from, redirected_to, error_code, device_uuid, device_state,"     \
  " device_reasons, device_message, device_doc_state, impressions_completed, processing_us," \
  " usage_day, usage_month, is_color, is_duplex, created_by_groups"

static const char sqlite_jobs_rowid[] =
  "CREATE TABLE jobs_rowid ("
  "  id INTEGER PRIMARY KEY,"                      /* the rowid: one B-tree per lookup */
  "  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
  "  printer_id TEXT NOT NULL REFERENCES printers(id) ON DELETE CASCADE,"
  "  display_name TEXT,"
  "  phase INTEGER NOT NULL,"
  "  state INTEGER NOT NULL,"
  "  details INTEGER NOT NULL,"
  "  description TEXT NOT NULL,"
  "  is_fetchable INTEGER NOT NULL,"
  "  is_acquired INTEGER NOT NULL DEFAULT 0,"
  "  acknowledged_us BIGINT,"
  "  configuration TEXT NOT NULL,"
  "  created_us BIGINT NOT NULL,"
  "  updated_us BIGINT NOT NULL,"
  "  completed_us BIGINT,"
  "  held_us BIGINT,"
  "  created_by_id TEXT,"
  "  created_by_upn TEXT,"
  "  created_by_upn_lc TEXT,"
  "  created_by_name TEXT,"
  "  created_by_ip TEXT,"
  "  redirected_from TEXT,"
  "  redirected_to TEXT,"
  "  error_code INTEGER,"
  "  device_uuid TEXT,"
  "  device_state INTEGER,"
  "  device_reasons TEXT,"
  "  device_message TEXT,"
  "  device_doc_state INTEGER,"
  "  impressions_completed BIGINT,"
  "  processing_us BIGINT,"
  "  usage_day BIGINT,"
  "  usage_month BIGINT,"
  "  is_color INTEGER,"
  "  is_duplex INTEGER,"
  "  created_by_groups TEXT"
  ");"
  "INSERT INTO jobs_rowid (" JOBS_COLUMNS ") SELECT " JOBS_COLUMNS " FROM jobs;"
  "DROP TABLE jobs;"
  "ALTER TABLE jobs_rowid RENAME TO jobs;"
  "CREATE INDEX jobs_printer ON jobs (printer_id, id);"
  "CREATE INDEX jobs_printer_upn ON jobs (printer_id, created_by_upn_lc, id);"
  "CREATE INDEX jobs_printer_creator ON jobs (printer_id, created_by_id, id);"
  "CREATE INDEX jobs_printer_phase ON jobs (printer_id, phase, id);"
  "CREATE INDEX jobs_completed ON jobs (completed_us) WHERE completed_us IS NOT NULL;"
  "CREATE INDEX jobs_usage ON jobs (tenant_id, usage_day) WHERE usage_day IS NOT NULL;"
  "CREATE INDEX jobs_held ON jobs (held_us, id) WHERE phase = 1;";

/* the tables with a foreign key into jobs (documents, tasks) and jobs itself */
static const char *const jobs_fk_tables[] = {"jobs", "documents", "tasks", NULL};

static const backend_step_t sqlite_steps[] = {
  {14, sqlite_jobs_rowid, "jobs", jobs_fk_tables},
};

/* The backend's own step of migration version on backend be, or NULL. */
static const backend_step_t *backend_step(const db_backend_t *be, int version) {
  const backend_step_t *steps = NULL;
  size_t n = 0;
  if (be == &db_postgres_backend) {
    steps = pg_steps;
    n = sizeof pg_steps / sizeof pg_steps[0];
  } else if (be == &db_sqlite_backend) {
    steps = sqlite_steps;
    n = sizeof sqlite_steps / sizeof sqlite_steps[0];
  }
  for (size_t i = 0; i < n; i++)
    if (steps[i].version == version) return &steps[i];
  return NULL;
}

#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

/* applied_at is microseconds since the epoch (BIGINT: PostgreSQL's INTEGER is 32-bit). */
static const char schema_table_sql[] =
  "CREATE TABLE IF NOT EXISTS schema_migrations ("
  "  version INTEGER PRIMARY KEY,"
  "  applied_at BIGINT NOT NULL"
  ")";

typedef struct {
  int   version;  /* in: the migration; out of version_fn: the current version */
  char *errmsg;   /* out: the backend's message when the script fails */
  const backend_step_t *own;  /* in: the backend's own step of this version, or NULL */
  int64_t rows;   /* out of count_fn: the rows of own->rebuilds */
} mig_arg_t;

/* Every migration step holds DB_LOCK_MIGRATE, so processes starting together on one
 * PostgreSQL database apply each migration once, one after the other. */
static int create_table_fn(db_conn_t *c, void *arg) {
  (void)arg;
  if (db_xact_lock(c, DB_LOCK_MIGRATE, true) != 1) return DB_ERROR;
  return db_exec(c, schema_table_sql);
}

/* Reads the highest applied version into arg->version (0 when nothing is applied). */
static int version_fn(db_conn_t *c, void *arg) {
  mig_arg_t *m = arg;
  m->version = 0;
  if (!db_table_exists(c, "schema_migrations")) return 0;
  db_stmt_t *s = db_prepare(c, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  int rc = db_step(s);
  if (rc == DB_ROW) m->version = (int)db_col_int64(s, 0);
  db_reset(s);
  return rc == DB_ROW ? 0 : DB_ERROR;
}

/* SQLite's PRAGMA foreign_key_check of each table of m->own->fk_check: DB_CONSTRAINT and the
 * first violation in m->errmsg when a row references a missing one. */
static int fk_check(db_conn_t *c, mig_arg_t *m) {
  for (const char *const *t = m->own->fk_check; *t; t++) {
    char *sql = xasprintf("PRAGMA foreign_key_check(%s)", *t);
    db_stmt_t *s = db_prepare(c, sql);
    int rc = db_step(s);
    if (rc == DB_ROW)
      m->errmsg = xasprintf("foreign key check: a row of %s (rowid %lld) references a missing "
                            "row of %s", db_col_text(s, 0) ? db_col_text(s, 0) : "?",
                            (long long)db_col_int64(s, 1),
                            db_col_text(s, 2) ? db_col_text(s, 2) : "?");
    else if (rc != DB_DONE)
      m->errmsg = xstrdup(db_errmsg(c));
    db_reset(s);
    free(sql);
    if (rc != DB_DONE) return rc == DB_ROW ? DB_CONSTRAINT : DB_ERROR;
  }
  return 0;
}

/* Applies migration m->version unless it (or a later one) is already there, e.g. applied by
 * another process sharing a PostgreSQL database. The version row goes in first so that two
 * processes racing on one version collide on its primary key before running the script. */
static int apply_fn(db_conn_t *c, void *arg) {
  mig_arg_t *m = arg;
  if (db_xact_lock(c, DB_LOCK_MIGRATE, true) != 1) return DB_ERROR;
  db_stmt_t *s = db_prepare(c, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  int rc = db_step(s);
  int64_t cur = rc == DB_ROW ? db_col_int64(s, 0) : -1;
  db_reset(s);
  if (cur < 0) return DB_ERROR;
  if (cur >= m->version) return 0;

  s = db_prepare(c, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)");
  db_bind_int64(s, 1, m->version);
  db_bind_int64(s, 2, time_now_us());
  rc = db_step(s);
  db_reset(s);
  if (rc != DB_DONE) return rc == DB_CONSTRAINT ? DB_CONSTRAINT : DB_ERROR;

  rc = db_exec(c, migrations[m->version - 1]);
  if (rc == DB_OK && m->own) rc = db_exec(c, m->own->sql);
  if (rc != DB_OK) {
    m->errmsg = xstrdup(db_errmsg(c));
    return rc;
  }
  return m->own && m->own->fk_check ? fk_check(c, m) : 0;
}

/* Counts the rows of the table m->own->rebuilds into m->rows. */
static int count_fn(db_conn_t *c, void *arg) {
  mig_arg_t *m = arg;
  char *sql = xasprintf("SELECT COUNT(*) FROM %s", m->own->rebuilds);
  db_stmt_t *s = db_prepare(c, sql);
  int rc = db_step(s);
  m->rows = rc == DB_ROW ? db_col_int64(s, 0) : -1;
  db_reset(s);
  free(sql);
  return rc == DB_ROW ? 0 : DB_ERROR;
}

/* Reads the current version; -1 on error. */
static int current_version(db_t *db) {
  mig_arg_t m = {.version = 0};
  return db_read(db, version_fn, &m) == 0 ? m.version : -1;
}

/* Applies the pending migrations, each in its own write transaction. 0 on success; -1 and a
 * malloc'd *err (caller frees) on failure, including a schema newer than this binary. */
int db_migrate(db_t *db, char **err) { return db_migrate_to(db, NMIGRATIONS, err); }

/* See db-backend.h. */
int db_migrate_to(db_t *db, int target, char **err) {
  if (err) *err = NULL;
  if (!db) {
    db_set_err(err, "no database");
    return -1;
  }
  if (db_write(db, create_table_fn, NULL) != 0) {
    db_set_err(err, "cannot create the schema_migrations table (see the log)");
    return -1;
  }
  int cur = current_version(db);
  if (cur < 0) {
    db_set_err(err, "cannot read the database schema version (see the log)");
    return -1;
  }
  if (cur > NMIGRATIONS) {
    db_set_err(err, "database schema version %d is newer than this spoold (%d)", cur, NMIGRATIONS);
    return -1;
  }
  for (int v = cur + 1; v <= target && v <= NMIGRATIONS; v++) {
    mig_arg_t m = {.version = v, .own = backend_step(db->be, v)};
    bool rebuild = m.own && m.own->rebuilds;
    int64_t t0 = time_mono_us();
    if (rebuild) {  /* a long step on a large store: say what it does first */
      if (db_read(db, count_fn, &m) != 0) {
        db_set_err(err, "database migration %d failed: cannot count the rows of %s (see the "
                   "log)", v, m.own->rebuilds);
        return -1;
      }
      log_info("database migration %d: rebuilding table %s: %lld rows", v, m.own->rebuilds,
               (long long)m.rows);
    }
    int rc = rebuild ? db_write_fk_off(db, apply_fn, &m) : db_write(db, apply_fn, &m);
    if (rc == DB_CONSTRAINT && !m.errmsg && current_version(db) >= v)
      rc = 0;  /* another process did it */
    if (rc != 0) {
      db_set_err(err, "database migration %d failed: %s", v,
                 m.errmsg ? m.errmsg : "see the log");
      free(m.errmsg);
      return -1;
    }
    free(m.errmsg);
    if (rebuild)
      log_info("database migration %d: rebuilt table %s (%lld rows) in %.1f s", v,
               m.own->rebuilds, (long long)m.rows, (double)(time_mono_us() - t0) / 1e6);
    log_info("database schema migrated to version %d", v);
  }
  return 0;
}

/* The schema version of db (the number of applied migrations): 0 for an empty database, -1
 * when it cannot be read. */
int db_schema_version(db_t *db) {
  return db ? current_version(db) : -1;
}

/* The schema version this binary knows; used in messages and tests. */
int db_schema_latest(void) { return NMIGRATIONS; }
