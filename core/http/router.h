/*
 * Router: one static table of every endpoint, matched by method and decoded path.
 *
 * The runtime writes the table (an array of esg_http_route) and builds the router once at start;
 * the router is then immutable and shared read-only by every loop thread, so lookups take no
 * lock. Patterns are exact paths ("/.well-known/jwks.json") or have whole-segment parameters
 * ("/client-mgmt/client/{client_id}"). At a given position a literal segment wins over a
 * parameter. A GET route also answers HEAD. A path that matches no pattern gets 404; a path that
 * matches a pattern registered for other methods gets 405 with an Allow header.
 */
#ifndef ESG_HTTP_ROUTER_H
#define ESG_HTTP_ROUTER_H

#include <stddef.h>

#include "http/request.h"

/* Handles a routed request; `data` is the route's data. Same contract as esg_http_dispatch_cb. */
typedef void (*esg_http_handler_cb)(esg_http_req *req, void *data);

/*
 * One endpoint. The router copies the struct but borrows the strings and `data`, which must
 * outlive it (a static table does).
 */
typedef struct esg_http_route {
    unsigned methods;            /* ESG_HTTP_M(ESG_HTTP_GET) | ... ; HEAD is implied by GET */
    const char *pattern;         /* "/a/{name}/b": starts with '/', no empty segment */
    esg_http_handler_cb handler; /* mandatory */
    void *data;                  /* passed to the handler */
    const char *name;            /* for logs and metrics; NULL uses the pattern */
    unsigned flags;              /* for the runtime (e.g. "needs client auth"); not interpreted */
} esg_http_route;

/* Most {name} parameters in one pattern, and most segments in a routable path. */
#define ESG_HTTP_MAX_PARAMS   8
#define ESG_HTTP_MAX_SEGMENTS 32

typedef struct esg_http_router esg_http_router;

/* Result of a lookup. Values point into the looked-up path. */
typedef struct esg_http_match {
    const esg_http_route *route; /* set on success */
    unsigned allow; /* methods the path allows (405), ESG_HTTP_M() bits, HEAD included */
    size_t nparams;
    esp_str names[ESG_HTTP_MAX_PARAMS];
    esp_str values[ESG_HTTP_MAX_PARAMS];
} esg_http_match;

/*
 * Builds a router from `n` routes. Refuses malformed patterns, a method registered twice for the
 * same pattern (or for patterns that differ only in parameter names), two different parameter
 * names at the same position, unknown method bits and missing handlers, with a reason in
 * err[0..errlen) naming the pattern. The caller owns *out. Returns 0, ESP_EINVAL or ESP_ENOMEM.
 * [any]
 */
int esg_http_router_new(const esg_http_route *routes, size_t n, esg_http_router **out, char *err,
                        size_t errlen);

/* Frees a router (NULL is ignored). No loop may use it any more. */
void esg_http_router_free(esg_http_router *router);

/*
 * Looks up `method` and the decoded `path`. Returns 0 (m->route and parameters set),
 * ESP_ENOTFOUND (no pattern matches: 404) or ESP_ENOTSUP (the path exists for other methods:
 * 405, m->allow set). [any]
 */
int esg_http_router_match(const esg_http_router *router, int method, const char *path, size_t len,
                          esg_http_match *m);

/*
 * Routes a request: on a match it records the route and parameters on the request (see
 * esg_http_req_param(), esg_http_req_route()) and calls the handler; otherwise it answers 404 or
 * 405 with Allow itself. Usable as the server's dispatch callback with the router as data, or
 * from the runtime's own dispatch callback. [loop]
 */
void esg_http_router_dispatch(esg_http_req *req, void *router);

/* Number of routes and the i-th one in table order, for documentation and tests. [any] */
size_t esg_http_router_count(const esg_http_router *router);
const esg_http_route *esg_http_router_route(const esg_http_router *router, size_t i);

/* Route that matched the request, or NULL before routing or when none did. [loop] */
const esg_http_route *esg_http_req_route(const esg_http_req *req);

/*
 * Writes the methods of `mask` as an Allow header value ("GET, HEAD, POST") into out[0..size).
 * Returns 0 or ESP_ETOOBIG. [any]
 */
int esg_http_methods_format(unsigned mask, char *out, size_t size);

#endif
