/*
 * The route table: every endpoint of the server in one place (routes.c). Paths marked
 * `under_base` are mounted below the configured base path (default /v1/esignet), as eSignet's
 * own APIs are; the others are absolute (/.well-known/..., /healthz).
 */
#ifndef ESG_RUNTIME_ROUTES_H
#define ESG_RUNTIME_ROUTES_H

#include <stddef.h>

#include "http/router.h"

typedef struct esg_route_def {
    unsigned methods; /* ESG_HTTP_M(...) bits */
    const char *path; /* pattern, relative to the base path when under_base */
    int under_base;
    esg_http_handler_cb handler;
    const char *name; /* route name in logs and metrics */
} esg_route_def;

/* The table, static; sets *n. */
const esg_route_def *esg_routes(size_t *n);

/* Documents the runtime keeps per loop and serves from cache. */
enum esg_document { ESG_DOC_OPENID, ESG_DOC_OAUTH, ESG_DOC_JWKS, ESG_DOC_COUNT };

#endif
