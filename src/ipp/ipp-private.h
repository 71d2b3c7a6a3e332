/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to src/ipp: the request context the operation handlers share (ipp_client_t) and
 * the helpers every handler answers through.
 *
 * ipp-server.c authenticates the device, parses and validates the request, loads the printer
 * and calls one handler per operation (printer-ipp.c, job-ipp.c, document-ipp.c,
 * subscription-ipp.c). A handler reads c->request, fills c->response (status through
 * ipp_respond) and returns; ipp-server.c writes the response.
 */
#ifndef SPOOLD_IPP_IPP_PRIVATE_H
#define SPOOLD_IPP_IPP_PRIVATE_H

#include "app.h"
#include "http/request.h"
#include "http/response.h"
#include "ipp/device-auth.h"
#include "store/ipp.h"
#include "store/printers.h"

#include "util/failguard.h"

#include <cups/array.h>
#include <cups/ipp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define IPP_MAX_JOBS_LISTED   1000  /* Get-Jobs without limit (or a larger one) */
#define IPP_MAX_EVENTS        100   /* events in one Get-Notifications answer */
#define IPP_NOTIFY_WAIT_S     20    /* how long Get-Notifications holds a notify-wait request */
#define IPP_NOTIFY_RECHECK_MS 5000  /* a held request looks again this often (other processes) */
#define IPP_NOTIFY_INTERVAL_S 10    /* notify-get-interval without notify-wait */
#define IPP_LEASE_DEFAULT_S   86400 /* notify-lease-duration-default */
#define IPP_LEASE_MAX_S       604800

struct caller;

#define IPP_PW_CACHE_SLOTS 256   /* checked print passwords remembered (share-auth.c) */
#define IPP_PW_CACHE_KEY   32    /* a SHA-256 digest */

/* What the IPP endpoints remember between requests in a running server (app->ipp): made by
 * ipp_open, freed by ipp_close. */
typedef struct ipp_endpoint {
  /* failed authentications per credential and per client address (ipp-server.c) */
  failguard_t    *fail_cred, *fail_addr;
  /* checked (stored hash, secret) pairs: a direct-mapped table of SHA-256 digests
   * (share-auth.c) */
  pthread_mutex_t pw_mu;
  struct {
    unsigned char key[IPP_PW_CACHE_KEY];
    int64_t       until_us;
  } pw_cache[IPP_PW_CACHE_SLOTS];
} ipp_endpoint_t;

typedef struct ipp_client {
  http_request_t  *req;
  http_response_t *res;
  app_t           *app;
  store_t         *store;
  ipp_device_t     device;      /* the authenticated printer and its tenant */
  store_printer_t  printer;     /* its Graph row, read for this request */
  ipp_t           *request;
  ipp_t           *response;
  ipp_op_t         op;
  char            *printer_uri; /* the target printer URI as the device sent it */
  char             target[160]; /* the path printer-uri must name: /ipp/print/ID, /ipp/share/ID */
  struct caller   *caller;      /* share endpoint: the authenticated user (owned); NULL */
  char            *share_id;    /* share endpoint: the share (malloc'd); NULL */
  int64_t          job_id;      /* job-id, or the job of job-uri; 0 when none */
  const char      *device_uuid; /* output-device-uuid; NULL when absent */
  const char      *user;        /* requesting-user-name; NULL when absent */
  int64_t          now_us;
  int              doc_fd;      /* Fetch-Document: bytes sent after the response; -1 */
  uint64_t         doc_len;
  /* Fetch-Document without a descriptor (doc_fd -1): streamed through doc_read(doc_arg, ...),
   * doc_free(doc_arg) once sent (blob/blob.h blob_serve_t) */
  ssize_t        (*doc_read)(void *arg, uint64_t off, char *buf, size_t max);
  void           (*doc_free)(void *arg);
  void            *doc_arg;
  bool             parked;      /* Get-Notifications is waiting for events: no answer yet */
  char             status_message[512]; /* set by ipp_respond; "" for none */
} ipp_client_t;

/* A new response for request (may be NULL): version major.minor, request_id, charset utf-8,
 * the request's natural language (else "en"). The caller owns it. */
ipp_t *ipp_new_response(ipp_t *request, int major, int minor, int request_id);
/* RFC 8011 §4.1 checks of c->request (version, request-id, group order, charset and natural
 * language first, the target URI naming c->target); sets printer_uri, job_id and user. false
 * after answering through ipp_respond. */
bool ipp_validate(ipp_client_t *c);
/* Encodes c->response (operation group first, status-message added) into c->res, followed by
 * the Fetch-Document bytes when set. */
void ipp_reply(ipp_client_t *c);
/* A plain-text HTTP answer (authentication, media type, unparseable bodies) into c->res. */
void ipp_reply_http(ipp_client_t *c, int status, const char *msg);

/* Counts a failed authentication of req at now_us (per client address and credential, and per
 * address unless no_credentials) and logs "ipp: WHAT from PEER: WHY" once per interval with the
 * number of failures not logged; returns how long (ms) to hold the answer (0 without
 * credentials: the challenge that precedes an authenticated exchange is never delayed). */
unsigned ipp_auth_failure(http_request_t *req, int64_t now_us, bool no_credentials,
                          const char *what, const char *why);
/* A credential that worked: forgets its earlier failures. */
void ipp_auth_success(http_request_t *req);

/* Sets the response's status-code and, when fmt is not NULL, its status-message. */
void ipp_respond(ipp_client_t *c, ipp_status_t status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Copies attr into the unsupported-attributes group of the response. */
void ipp_respond_unsupported(ipp_client_t *c, ipp_attribute_t *attr);

/* The operation attribute name with value tag tag (IPP_TAG_ZERO: any), or NULL. */
ipp_attribute_t *ipp_op_attr(ipp_client_t *c, const char *name, ipp_tag_t tag);
/* True when ra (from ippCreateRequestedArray; NULL = all) asks for name. */
bool ipp_wants(cups_array_t *ra, const char *name);

/* ipp_wants for a printer attribute of Get-Printer-Attributes or Get-Output-Device-Attributes:
 * the attributes returned only when named (media-col-database, PWG 5100.7) are left out when
 * requested-attributes is absent or only 'all' (ra NULL); libcups already leaves them out of
 * the 'printer-description' group. */
bool ipp_wants_printer_attr(cups_array_t *ra, const char *name);

/* Requires output-device-uuid (a uri); answers client-error-bad-request and returns false
 * when it is missing or malformed. */
bool ipp_require_device_uuid(ipp_client_t *c);
/* Requires a job (job-id or job-uri); answers client-error-bad-request and returns false when
 * there is none. */
bool ipp_require_job_id(ipp_client_t *c);
/* Answers a store refusal of a device transition with the matching status code. */
void ipp_respond_refusal(ipp_client_t *c, const store_ipp_result_t *r);
/* Answers STORE_NOT_FOUND for the job (client-error-not-found) or a store failure. */
void ipp_respond_job_rc(ipp_client_t *c, store_rc_t rc);
/* Answers the store's result of a device transition on c's job: successful-ok (STORE_OK), the
 * refusal r (STORE_CONFLICT), or as ipp_respond_job_rc. */
void ipp_respond_transition(ipp_client_t *c, store_rc_t rc, const store_ipp_result_t *r);
/* Records what c's device reports about c's job (store_ipp_job_status, s as the caller filled
 * it) and answers as ipp_respond_transition (job-ipp.c; Update-Job-Status and
 * Update-Document-Status). */
void ipp_report_job_status(ipp_client_t *c, const store_ipp_job_status_t *s);
/* Answers a Get-Jobs: the jobs of c's printer that f selects, each with the attributes
 * requested-attributes asks for, or server-error-internal when they cannot be read (job-ipp.c;
 * the INFRA and the share endpoint). */
void ipp_respond_job_list(ipp_client_t *c, const store_ipp_job_filter_t *f);

/* Whether device c->device_uuid may fetch job j (Fetch-Job, Fetch-Document): 0 when it may
 * (released, or already acknowledged by this device); otherwise answers and returns -1: a job
 * held by a print task or already ended gets client-error-not-possible, one not started
 * client-error-not-fetchable, one another device took client-error-not-possible. */
int ipp_check_fetchable(ipp_client_t *c, const store_ipp_job_t *j);
/* "<printer-uri>/<job-id>" into out. */
void ipp_job_uri(ipp_client_t *c, int64_t job_id, char *out, size_t outlen);
/* printer-up-time at time us: seconds since the printer was registered (at least 1). */
int ipp_up_time(ipp_client_t *c, int64_t us);

/* Adds the attributes of job j that ra asks for (NULL: all) to group of ipp: description
 * attributes, the device's view, and the job ticket (template attributes). */
void ipp_add_job_attributes(ipp_client_t *c, ipp_t *ipp, ipp_tag_t group,
                            const store_ipp_job_t *j, cups_array_t *ra);

/* The attributes Get-Printer-Attributes answers with for c->printer (before requested-attributes
 * filters them): the Graph printer's names, state, capabilities and defaults, what the
 * endpoint supports, and what the output device that pushed most recently knows. The caller
 * owns the result (ippDelete). */
ipp_t *ipp_printer_attributes(ipp_client_t *c);

/* ---- operation handlers -------------------------------------------------------------------- */

/* Reads Get-Jobs' which-jobs and limit into *f, which holds the defaults; "fetchable" is
 * accepted only with allow_fetchable (the INFRA endpoint). False when the request was already
 * answered with an error. */
bool ipp_get_jobs_filter(ipp_client_t *c, store_ipp_job_filter_t *f, bool allow_fetchable);

/* The operations of the INFRA endpoint, called by ipp-server.c's dispatch once the device is
 * authenticated for c->printer and the request's common attributes are valid. Each reads
 * c->request and fills c->response (ipp_respond and the groups it adds), changing the store in
 * one transaction where the operation changes state; the caller encodes and sends c->response
 * and keeps owning both. */
void ipp_get_printer_attributes(ipp_client_t *c);          /* printer-ipp.c */
void ipp_update_output_device_attributes(ipp_client_t *c); /* the device's attributes kept */
void ipp_get_output_device_attributes(ipp_client_t *c);    /* what the device pushed last */
void ipp_deregister_output_device(ipp_client_t *c);        /* forgets c->device_uuid */
void ipp_get_jobs(ipp_client_t *c);                        /* job-ipp.c */
void ipp_get_job_attributes(ipp_client_t *c);  /* a job of c->printer, ipp_add_job_attributes */
void ipp_fetch_job(ipp_client_t *c);           /* only a fetchable job (ipp_check_fetchable) */
void ipp_acknowledge_job(ipp_client_t *c);     /* the job becomes the device's */
void ipp_update_job_status(ipp_client_t *c);   /* the device's job state into the Graph job */
void ipp_update_active_jobs(ipp_client_t *c);  /* reconciles the device's list with ours */
void ipp_fetch_document(ipp_client_t *c);      /* document-ipp.c: sets c->doc_* for the bytes */
void ipp_acknowledge_document(ipp_client_t *c); /* records the document as fetched */
void ipp_update_document_status(ipp_client_t *c); /* the device's document state */
/* Acknowledge-Identify-Printer (identify-ipp.c): hands the device the pending Identify-Printer
 * request of its printer. */
void ipp_acknowledge_identify_printer(ipp_client_t *c);
/* printer-location text (at most 127 bytes) from a Graph printerLocation JSON object (site,
 * building, floor, room, city joined by ", "); "" when json is NULL or names none of them. */
void ipp_location_text(const char *json, char out[128]);
/* s cut to at most 127 bytes (an IPP text value's limit here) without splitting a UTF-8
 * sequence, into out (printer-ipp.c). */
void ipp_text127(const char *s, char out[128]);

/* The subscription operations (subscription-ipp.c, ippget events), handlers as above. */
void ipp_create_printer_subscriptions(ipp_client_t *c);
void ipp_get_notifications(ipp_client_t *c); /* notify-wait: may park (c->parked, no answer) */
void ipp_cancel_subscription(ipp_client_t *c);
void ipp_renew_subscription(ipp_client_t *c);
void ipp_get_subscription_attributes(ipp_client_t *c);
void ipp_get_subscriptions(ipp_client_t *c);

/* The operations the endpoint implements, for operations-supported (ends with 0). */
extern const ipp_op_t IPP_OPERATIONS[];
/* The notify-events it emits, for notify-events-supported (NULL-terminated). */
extern const char *const IPP_EVENTS[];

#endif
