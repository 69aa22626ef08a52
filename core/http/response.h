/*
 * Responses: a handler sets optional headers on its request, then finishes it with exactly one
 * esg_http_respond_* call.
 *
 * Every response carries, without the handler asking:
 *   Date, X-Request-ID, Content-Length, Connection when needed,
 *   Cache-Control: no-store                       (esg_http_resp_cache() makes it public),
 *   X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer, X-Frame-Options: DENY,
 *   Content-Security-Policy: default-src 'none'; frame-ancestors 'none'
 *                                                 (esg_http_resp_set_csp() replaces it for HTML),
 *   Strict-Transport-Security                     on TLS connections
 * (esg_http_config.hsts_max_age), Server                                        when
 * esg_http_config.server_header is set. A HEAD request gets the head of the GET response without
 * the body.
 *
 * Threads: [loop], on the thread of the request's server, except for esg_http_body, whose
 * functions are [any].
 *
 * The esg_http_respond_* functions always finish the request, whatever they return: afterwards
 * the request must not be touched. They return 0 when the response was queued, ESP_ECANCELED
 * when the client was already gone (nothing is sent; the request is simply freed), or ESP_EINVAL
 * / ESP_ENOMEM when the arguments were unusable or memory ran out, in which case the layer sent
 * a 500 error instead and closes the connection after it. A second response to the same request
 * is a bug: it is refused with ESP_EALREADY and logged, and the first response stands.
 */
#ifndef ESG_HTTP_RESPONSE_H
#define ESG_HTTP_RESPONSE_H

#include <jansson.h>
#include <stddef.h>

#include "http/request.h"
#include "util/buf.h"

/*
 * An immutable, reference-counted response body with its content type, for documents served
 * often (discovery, JWKS): build it once, share it between every loop, and each response only
 * takes a reference instead of copying. Reference counting is atomic, so references may be taken
 * and dropped on any thread; the bytes are never modified after creation.
 */
typedef struct esg_http_body esg_http_body;

/*
 * Creates a body holding a copy of data[0..len) and of `content_type` (NUL-terminated, no CR or
 * LF). The caller owns the one reference in *out. Returns 0, ESP_EINVAL or ESP_ENOMEM. [any]
 */
int esg_http_body_new(const void *data, size_t len, const char *content_type, esg_http_body **out);
/* Creates an "application/json" body from the compact serialisation of `json` (borrowed). [any] */
int esg_http_body_new_json(const json_t *json, esg_http_body **out);
/* Takes one more reference; returns `body`. [any] */
esg_http_body *esg_http_body_ref(esg_http_body *body);
/* Drops one reference; the last one frees the body. NULL is ignored. [any] */
void esg_http_body_unref(esg_http_body *body);
/* The bytes of the body (valid while a reference is held). [any] */
esp_str esg_http_body_data(const esg_http_body *body);

/*
 * Adds a response header. Both strings are copied. The name must be an RFC 9110 token and the
 * value printable (no CR, LF, NUL or other control character but tab). The layer's own framing
 * headers (Content-Length, Transfer-Encoding, Connection, Date, Server, X-Request-ID,
 * Content-Type) are refused; adding Cache-Control, Content-Security-Policy, X-Frame-Options or
 * Referrer-Policy replaces the default value. Returns 0, ESP_EINVAL or ESP_ENOMEM.
 */
int esg_http_resp_header(esg_http_req *req, const char *name, const char *value);

/*
 * Caching: max_age_s > 0 sends "Cache-Control: public, max-age=<n>" (discovery, JWKS); 0 keeps
 * the default "no-store".
 */
void esg_http_resp_cache(esg_http_req *req, unsigned max_age_s);

/* Adds "Access-Control-Allow-Origin: *" (public metadata that browsers may read cross-origin). */
void esg_http_resp_cors_any(esg_http_req *req);

/*
 * Replaces the default Content-Security-Policy, e.g. for an HTML page that loads its own
 * scripts. Same rules and returns as esg_http_resp_header().
 */
int esg_http_resp_set_csp(esg_http_req *req, const char *policy);

/* Closes the connection after this response ("Connection: close"). */
void esg_http_resp_close(esg_http_req *req);

/*
 * Sends `status` (200..599) with the bytes of `body`, taking them over: the buffer is emptied
 * (stolen) whatever the outcome. `content_type` is copied; NULL sends no Content-Type.
 */
int esg_http_respond_buf(esg_http_req *req, int status, const char *content_type, esg_buf *body);

/* Sends `status` with a shared body; the response holds its own reference while it is written. */
int esg_http_respond_body(esg_http_req *req, int status, esg_http_body *body);

/*
 * Sends `status` with borrowed bytes that must stay unchanged until the process ends (string
 * literals, static tables): they are written without copying.
 */
int esg_http_respond_static(esg_http_req *req, int status, const char *content_type,
                            const void *data, size_t len);

/* Sends `status` with the compact JSON serialisation of `json` (borrowed), application/json. */
int esg_http_respond_json(esg_http_req *req, int status, const json_t *json);

/*
 * Sends `status` with {"error":error,"error_description":description} (description may be NULL).
 * Both strings are JSON-escaped; never pass request bytes the client should not see echoed.
 */
int esg_http_respond_error(esg_http_req *req, int status, const char *error,
                           const char *description);

/*
 * Redirects with `status` (302 or 303) to `location`, which the caller has already exact-matched
 * against a registered URI; the layer only checks it is printable ASCII without spaces.
 */
int esg_http_respond_redirect(esg_http_req *req, int status, const char *location);

/* Sends `status` without a body (204, or any status where an empty body is meant). */
int esg_http_respond_empty(esg_http_req *req, int status);

/* Static reason phrase of a status code ("Not Found"); "Unknown" for codes without one. */
const char *esg_http_status_reason(int status);

#endif
