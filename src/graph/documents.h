/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Documents and their bytes on the wire:
 *
 *   GET  .../jobs/{j}/documents[/{d}]                 printDocument metadata (D1)
 *   POST .../jobs/{j}/documents/{d}/createUploadSession  an upload session (D2)
 *   GET  .../jobs/{j}/documents/{d}/$value            302 to a short-lived download URL (D4)
 *   PUT/GET/DELETE /upload/{session}?token=...        the upload URL (D3; no bearer token)
 *   GET  /download/{token}                            the bytes, with Range (no bearer token)
 *
 * under /print/printers/{p} and /print/shares/{s}, both API versions. Bytes live in the blob
 * store (blob/blob.h, app->blobs); sessions and documents in the store (store/documents.h).
 * graph_documents_start() opens DATA/blobs and starts the sweeper thread that removes expired
 * upload sessions with their bytes, and bytes no row references any more (replaced or deleted
 * documents, jobs removed by retention or tenant removal).
 */
#ifndef SPOOLD_GRAPH_DOCUMENTS_H
#define SPOOLD_GRAPH_DOCUMENTS_H

#include <jansson.h>

#include "graph/reply.h"
#include "http/request.h"
#include "store/jobs.h"

struct app;

/* The printDocument JSON of d (id, displayName, contentType, size, uploadedDateTime,
 * downloadedDateTime), without @odata.context, for GET .../documents and $expand=documents.
 * Returns a new reference. */
json_t *graph_document_json(const http_request_t *req, const store_document_t *d);
/* graph_document_json(req, d) as compact JSON text appended to w->b, the bytes json_dumps
 * (JSON_COMPACT) gives for the tree; w->ok turns false when a value needs the tree
 * (graph_jw_t), and the caller then discards the text. */
void graph_document_json_write(const http_request_t *req, const store_document_t *d,
                               graph_jw_t *w);

/* Registers the routes above (called from graph_routes_register). */
void graph_documents_routes(void);

/* Opens the blob store under cfg->data_dir/blobs into app->blobs and starts the upload-session
 * sweeper. 0, or -1 with a malloc'd *err. */
int graph_documents_start(struct app *app, char **err);
/* Stops the sweeper and closes app->blobs (after the HTTP server has stopped). */
void graph_documents_stop(struct app *app);
/* Removes the upload sessions expired at the service clock's now, on the calling thread
 * (development mode, after the clock moved). */
void graph_documents_sweep_now(struct app *app);

#endif
