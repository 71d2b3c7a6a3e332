/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to src/proxy: `spoold proxy`, a print proxy between spoold's IPP INFRA endpoint and
 * the printers a site already has (IPP, IPP Everywhere, AirPrint, JetDirect). One thread per
 * printer: it keeps the Graph printer's status and capabilities current from the real printer,
 * takes released jobs (Get-Jobs which-jobs=fetchable, Fetch-Job, Fetch-Document,
 * Acknowledge-*), prints them (Print-Job, or raw bytes to socket://), follows them on the
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

/* One printer as configured (--printer ID --device-token-file FILE --uri URI [--formats]). */
typedef struct proxy_printer_cfg {
  char *printer_id;
  char *token_file;
  char *uri;       /* ipp://, ipps://, socket://host:port */
  char *formats;   /* socket:// only: document formats the printer takes (default PDF) */
} proxy_printer_cfg_t;

typedef struct proxy_cfg {
  char               *server;      /* spoold's base URL, http(s)://host:port */
  char               *state_dir;   /* --state DIR */
  double              poll_s;      /* --poll-interval SECONDS */
  double              attrs_s;     /* --attributes-interval SECONDS */
  proxy_printer_cfg_t printers[PROXY_MAX_PRINTERS];
  size_t              nprinters;
} proxy_cfg_t;

/* Fills cfg from argv (argv[0] is "proxy") and --config files. 0, 1 after --help, or -1 with a
 * malloc'd message in *err (caller frees). */
int  proxy_cfg_load(proxy_cfg_t *cfg, int argc, char **argv, char **err);
void proxy_cfg_free(proxy_cfg_t *cfg);
void proxy_cfg_usage(FILE *out);

/* ---- the state file: jobs taken from spoold ------------------------------------------------ */

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
void         proxy_state_close(proxy_state_t *st);
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
void            proxy_device_free(proxy_device_t *d);
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
/* The state of the printer's job: 3..9 (ipp_jstate_t), 0 when it cannot be read,
 * PROXY_DEVICE_JOB_GONE when the printer does not know it (it restarted); reasons and
 * impressions when known. */
#define PROXY_DEVICE_JOB_GONE (-1)
int             proxy_device_job_state(proxy_device_t *d, int device_job, char *reasons,
                                       size_t reasonslen, int *impressions);
/* Cancel-Job on the printer. */
bool            proxy_device_cancel(proxy_device_t *d, int device_job);

/* Runs one printer until *stop (a thread body; arg is proxy_worker_t). */
typedef struct proxy_worker {
  const proxy_cfg_t         *cfg;
  const proxy_printer_cfg_t *pc;
  volatile int              *stop;
  volatile int              *failed; /* set when the printer could not be set up */
} proxy_worker_t;
void *proxy_worker_run(void *arg);

#endif
