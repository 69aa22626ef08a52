/* What route handlers may ask the running server (server.c). [loop] */
#ifndef ESG_RUNTIME_SERVER_INTERNAL_H
#define ESG_RUNTIME_SERVER_INTERNAL_H

#include "http/request.h"
#include "http/response.h"

/* The calling loop's cached copy of a document (enum esg_document), borrowed; NULL if none. */
esg_http_body *esg_server_document(esg_http_req *req, int doc);
/* NULL when ready; otherwise "starting" or "draining". [any] */
const char *esg_server_not_ready_reason(void);
/* 1 when /metrics may be served to `remote` (loopback check applied when configured). */
int esg_server_metrics_allowed(const char *remote, int (*is_loopback)(const char *));

#endif
