/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to src/proxy: `spoold proxy`, a print proxy between spoold's IPP INFRA endpoint and
 * the printers a site already has (IPP, IPP Everywhere, AirPrint, JetDirect). One thread per
 * printer: it keeps the Graph printer's status and capabilities current from the real printer,
 * learns of released jobs from spoold's notifications (Get-Notifications with notify-wait;
 * Get-Jobs polling when spoold offers none), takes them (Get-Jobs which-jobs=fetchable,
 * Fetch-Job, Fetch-Document, Acknowledge-*), prints them (Print-Job, or raw bytes to socket://), follows them on the
 * printer and reports back (Update-Job-Status, Update-Document-Status), and cancels on the
 * printer what was canceled or aborted in spoold. A small state file per printer remembers
 * every job acknowledged, so a restarted proxy never prints a job twice.
 */
#ifndef SPOOLD_PROXY_PRIVATE_H
#define SPOOLD_PROXY_PRIVATE_H

#include <cups/cups.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define PROXY_MAX_PRINTERS 64
#define PROXY_MAX_JOBS 256

/* One printer as configured: --printer ID with --device-token-file FILE (or
 * --certificate-file and --key-file), or --register NAME (registered by the proxy, then kept
 * as a record DIR/<id>.printer); each with --uri URI [--formats LIST]. */
typedef struct proxy_printer_cfg {
  char *printer_id;    /* NULL for a --register entry not registered yet */
  char *token_file;
  char *cert_file;     /* the TLS client certificate issued at registration (PEM) */
  char *key_file;      /* its private key (PEM) */
  char *register_name; /* --register NAME, or the name a state record was registered as */
  char *uri;           /* ipp://, ipps://, socket://host:port */
  char *formats;       /* socket:// only: document formats the printer takes (default PDF) */
} proxy_printer_cfg_t;

typedef struct proxy_cfg {
  char               *server;      /* spoold's base URL, http(s)://host:port */
  char               *state_dir;   /* --state DIR */
  char               *ca_file;     /* --ca-file: trusted for spoold's TLS certificate (libcurl) */
  char               *admin_token_file; /* --admin-token-file: registers --register printers */
  double              poll_s;      /* --poll-interval SECONDS */
  double              attrs_s;     /* --attributes-interval SECONDS */
  proxy_printer_cfg_t printers[PROXY_MAX_PRINTERS];
  size_t              nprinters;
  bool                in_record;   /* loading a state record: server and ca-file only fill gaps */
  bool                discover;    /* --discover: printers announced over DNS-SD */
  double              discover_s;  /* --discover-time SECONDS */
} proxy_cfg_t;

/* Fills cfg from argv (argv[0] is "proxy") and --config files. 0, 1 after --help, or -1 with a
 * malloc'd message in *err (caller frees). */
int  proxy_cfg_load(proxy_cfg_t *cfg, int argc, char **argv, char **err);
/* Frees what cfg owns and zeroes it. */
void proxy_cfg_free(proxy_cfg_t *cfg);
/* Writes `spoold proxy --help` to out. */
void proxy_cfg_usage(FILE *out);

/* ---- the state file: jobs taken from spoold ------------------------------------------------ */

/* Writes data to path durably (temporary file of mode 0600, fsync, rename, directory fsync). */
int          proxy_state_write_file(const char *path, const char *data, size_t len);

typedef enum {
  PROXY_JOB_ACKED = 1,  /* acknowledged in spoold; not sent to the printer yet */
  PROXY_JOB_SENDING,    /* Print-Job (or the socket write) started: it may be on the printer */
  PROXY_JOB_SENT,       /* on the printer as device_job */
} proxy_job_stage_t;

typedef struct proxy_job {
  int               id;          /* spoold job-id */
  proxy_job_stage_t stage;
  int               device_job;  /* the printer's job-id (SENT over IPP); 0 otherwise */
} proxy_job_t;

typedef struct proxy_state {
  char       *path;  /* DIR/<printer id>.jobs */
  char        uuid[64]; /* this proxy's output-device-uuid for the printer (DIR/<id>.uuid) */
  proxy_job_t jobs[PROXY_MAX_JOBS];
  size_t      njobs;
} proxy_state_t;

/* Loads (or creates) the state of printer_id under dir. -1 with a message in err. */
int          proxy_state_open(proxy_state_t *st, const char *dir, const char *printer_id,
                              char *err, size_t errlen);
/* Frees st's path and zeroes it (the file stays as written). */
void         proxy_state_close(proxy_state_t *st);
/* The record of spoold job id in st (owned by st, valid until its next change), or NULL. */
proxy_job_t *proxy_state_find(proxy_state_t *st, int id);
/* Sets job id's stage (adding it when new) and writes the file durably (fsync, rename). -1 when
 * it could not be written: the caller must not go on with the job. */
int          proxy_state_set(proxy_state_t *st, int id, proxy_job_stage_t stage, int device_job);
/* Forgets job id (it is finished) and writes the file. */
int          proxy_state_drop(proxy_state_t *st, int id);

/* ---- the real printer ---------------------------------------------------------------------- */

typedef struct proxy_device proxy_device_t;

/* A printer at uri (ipp, ipps or socket). NULL with a message for an unusable URI. */
proxy_device_t *proxy_device_new(const char *uri, const char *formats, char *err, size_t errlen);
/* Closes d's connection and frees it; NULL is fine. */
void            proxy_device_free(proxy_device_t *d);
/* True for a socket:// printer: bytes written as they are, no IPP job to follow. */
bool            proxy_device_is_raw(const proxy_device_t *d);
/* The printer's attributes for Update-Output-Device-Attributes, added to the printer group of
 * req. false when the printer does not answer (req then says so: stopped,
 * connecting-to-device). */
bool            proxy_device_describe(proxy_device_t *d, ipp_t *req);
/* Sends the document in fd (format) with the job ticket of fetched (Fetch-Job's answer) as job
 * job_name. IPP: *device_job is the printer's job-id. Raw: the bytes are written and the job
 * is done (*device_job = 0). false with the printer's message in msg. */
bool            proxy_device_print(proxy_device_t *d, ipp_t *fetched, const char *job_name,
                                   const char *format, int fd, int *device_job, char *msg,
                                   size_t msglen);
/* The printer's job named job_name (a job sent before a crash), or 0. */
int             proxy_device_find_job(proxy_device_t *d, const char *job_name);
#define PROXY_DEVICE_JOB_GONE (-1)
/* The state of the printer's job: 3..9 (ipp_jstate_t), 0 when it cannot be read,
 * PROXY_DEVICE_JOB_GONE when the printer does not know it (it restarted); reasons and
 * impressions when known. */
int             proxy_device_job_state(proxy_device_t *d, int device_job, char *reasons,
                                       size_t reasonslen, int *impressions);
/* Cancel-Job on the printer. */
bool            proxy_device_cancel(proxy_device_t *d, int device_job);

/* The printer's make and model (printer-make-and-model split at the first space), for
 * registration; defaults when the printer does not say. */
void            proxy_device_make_model(proxy_device_t *d, char *make, size_t makelen,
                                        char *model, size_t modellen);

/* ---- HTTP through libcurl: client certificates, registration (proxy-http.c) ------------------- */

typedef struct proxy_http proxy_http_t;

/* A client trusting ca_file (NULL: the system's CAs) for TLS, presenting cert_file/key_file
 * (NULL: none). NULL when libcurl cannot be set up. */
proxy_http_t *proxy_http_new(const char *ca_file, const char *cert_file, const char *key_file);
/* Frees h and its libcurl handle; NULL is fine. */
void          proxy_http_free(proxy_http_t *h);
/* POSTs the IPP request req (not consumed) to url and returns the IPP answer (caller deletes)
 * when the HTTP status is 200 and the answer parses; the bytes after it (Fetch-Document) go to
 * outfd (-1: none). NULL otherwise, with *http_status (0: no answer) and a message in err. The
 * request ends early when *stop becomes nonzero. */
ipp_t        *proxy_http_ipp(proxy_http_t *h, const char *url, ipp_t *req, int outfd,
                             long timeout_s, volatile int *stop, long *http_status, char *err,
                             size_t errlen);
/* A JSON request with a bearer token; body NULL for none. Returns the HTTP status (0 with a
 * message in err when there was no answer); *resp (malloc'd, caller frees) the body,
 * *location (malloc'd or NULL) the Operation-Location header, *retry_after Retry-After. */
long          proxy_http_json(proxy_http_t *h, const char *method, const char *url,
                              const char *token, const char *body, char **resp, char **location,
                              int *retry_after, char *err, size_t errlen);

/* Registers the --register entry pc as a new Graph printer (POST /print/printers/create with a
 * CSR of a new P-256 key, then the operation polled until it ends), keeps the key, the issued
 * certificate, the device uuid and a record DIR/<id>.printer under the state directory, and
 * fills pc's printer_id, cert_file and key_file. -1 with a message in err. */
int proxy_register(const proxy_cfg_t *cfg, proxy_printer_cfg_t *pc, char *err, size_t errlen);

/* ---- DNS-SD (proxy-discover.c) ---------------------------------------------------------------- */

/* A printer announced over DNS-SD: its service name, the URI to print to, what a raw printer
 * prints (its "pdl" TXT key, or NULL), and how it was found (0 ipps, 1 ipp, 2 pdl-datastream). */
typedef struct proxy_candidate {
  char *name, *uri, *formats;
  int   rank;
} proxy_candidate_t;

/* Browses _ipps._tcp, _ipp._tcp and _pdl-datastream._tcp through avahi-daemon for seconds and
 * returns the printers found in *out (caller frees with proxy_candidates_free). -1 with a
 * message when avahi-daemon cannot be reached or browsing fails. */
int  proxy_discover(double seconds, proxy_candidate_t **out, size_t *n, char *err, size_t errlen);
/* Frees the n candidates of list and list itself. */
void proxy_candidates_free(proxy_candidate_t *list, size_t n);

/* What one printer's worker thread is given. */
typedef struct proxy_worker {
  const proxy_cfg_t         *cfg;
  const proxy_printer_cfg_t *pc;
  volatile int              *stop;
  volatile int              *failed; /* set when the printer could not be set up */
  volatile int              *wait_fd; /* the socket of a long poll in progress, or -1 */
} proxy_worker_t;
/* Runs one printer until *stop (a thread body; arg is a proxy_worker_t the caller keeps alive
 * until the thread is joined). Returns NULL. */
void *proxy_worker_run(void *arg);

#endif
