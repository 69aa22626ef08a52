/*
 * The request a handler receives (esg_http_req) and its read-only accessors.
 *
 * Threads: a request belongs to the loop thread of the server that parsed it. Every function here
 * is [loop]: call it only from that thread (asynchronous handlers come back to the loop before
 * they touch the request).
 *
 * Lifetime: the dispatch callback receives the request when its head and its whole body have
 * arrived. The request stays valid until the handler finishes it with one of the esg_http_respond_*
 * functions of response.h, exactly once, even when the client disconnects in the meantime (then
 * responding only frees it; esg_http_req_is_gone() tells a handler it may stop working). Every
 * pointer obtained from a request (header values, path, body, parameters) is borrowed and becomes
 * invalid when the request is finished.
 *
 * Strings are esp_str views. Unless a comment says otherwise they are NUL-terminated as well, so
 * they can be passed to C APIs directly; they never contain a NUL byte themselves.
 */
#ifndef ESG_HTTP_REQUEST_H
#define ESG_HTTP_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include <esignet/plugin.h>

typedef struct esg_http_req esg_http_req;

/*
 * Methods the server passes to handlers. Any other method (TRACE, CONNECT, WebDAV...) is answered
 * with 501 by the HTTP layer and never reaches a handler. ESG_HTTP_METHOD_NONE only appears in the
 * completion callback, for requests rejected before their method was known.
 */
typedef enum esg_http_method {
    ESG_HTTP_METHOD_NONE = 0,
    ESG_HTTP_GET = 1,
    ESG_HTTP_HEAD = 2,
    ESG_HTTP_POST = 3,
    ESG_HTTP_PUT = 4,
    ESG_HTTP_DELETE = 5,
    ESG_HTTP_PATCH = 6,
    ESG_HTTP_OPTIONS = 7,
} esg_http_method;

/* Number of values of esg_http_method, for tables indexed by method. */
#define ESG_HTTP_METHOD_COUNT 8

/* Bit of a method in a method mask (router tables). */
#define ESG_HTTP_M(m) (1u << (unsigned)(m))

/* Static upper-case name of a method ("GET"); "-" for ESG_HTTP_METHOD_NONE or unknown values. */
const char *esg_http_method_name(int method);

/* Method of the request. */
esg_http_method esg_http_req_method(const esg_http_req *req);

/* Raw request target as received ("/authorize?client_id=..."), not decoded. */
esp_str esg_http_req_target(const esg_http_req *req);

/*
 * Percent-decoded path used for routing ("/client-mgmt/client/abc"). The layer rejects with 400,
 * before dispatch, every target whose path holds an invalid escape, %00, an encoded '/', a "." or
 * ".." segment, a fragment or invalid UTF-8, so the path has a single meaning.
 */
esp_str esg_http_req_path(const esg_http_req *req);

/* Raw query string after '?', without the '?'; empty when the target had none. Not decoded. */
esp_str esg_http_req_query(const esg_http_req *req);

/* Request body (decoded from chunked framing when needed); empty when there was none. */
esp_str esg_http_req_body(const esg_http_req *req);

/*
 * First header `name` (case-insensitive), value without surrounding whitespace.
 * Returns 0 or ESP_ENOTFOUND.
 */
int esg_http_req_header(const esg_http_req *req, const char *name, esp_str *value);

/*
 * Like esg_http_req_header(), but for headers that must appear at most once (Authorization,
 * DPoP, Content-Type): returns 0, ESP_ENOTFOUND, or ESP_EINVAL when the header is repeated, in
 * which case *value is left empty.
 */
int esg_http_req_header_unique(const esg_http_req *req, const char *name, esp_str *value);

/* Number of header lines named `name` (case-insensitive). */
size_t esg_http_req_header_count(const esg_http_req *req, const char *name);

/* Number of header lines of the request, and the i-th one in arrival order (0 <= i < count). */
size_t esg_http_req_header_total(const esg_http_req *req);
void esg_http_req_header_at(const esg_http_req *req, size_t i, esp_str *name, esp_str *value);

/*
 * Credentials of the Authorization header for `scheme` (e.g. "Bearer", "DPoP"; compared without
 * case): the token68 after the scheme (RFC 7235 §2.1; RFC 6750 §2.1 b64token), borrowed from the
 * request. Returns 0, ESP_ENOTFOUND when the request has no Authorization header, or ESP_EINVAL
 * when it has several, another scheme, or no or malformed credentials. [loop]
 */
int esg_http_req_auth(const esg_http_req *req, const char *scheme, esp_str *credentials);

/*
 * Value of cookie `name` from the Cookie header(s). The value is not NUL-terminated. Returns 0,
 * ESP_ENOTFOUND, or ESP_EINVAL when the cookie is present more than once (a sign of cookie
 * tossing, which a handler relying on the cookie must refuse).
 */
int esg_http_req_cookie(const esg_http_req *req, const char *name, esp_str *value);

/*
 * Value of route parameter `name` (the `{name}` segments of the matched pattern), percent-decoded
 * as part of the path, not NUL-terminated. Returns 0 or ESP_ENOTFOUND.
 */
int esg_http_req_param(const esg_http_req *req, const char *name, esp_str *value);

/*
 * Request id, NUL-terminated, at most 64 characters: the client's X-Request-ID when it matches
 * [A-Za-z0-9._-]{1,64} (and is sent once), otherwise 16 random bytes in base64url. It is echoed
 * in the X-Request-ID response header.
 */
const char *esg_http_req_id(const esg_http_req *req);

/* Client IP address as text ("127.0.0.1", "::1"); "-" when unknown. Computed on first use. */
const char *esg_http_req_remote_addr(esg_http_req *req);

/* Monotonic time (uv_hrtime(), nanoseconds) at which the first byte of the request arrived. */
uint64_t esg_http_req_start_ns(const esg_http_req *req);

/* 1 when the request came over TLS. */
int esg_http_req_is_tls(const esg_http_req *req);

/*
 * 1 when the response can no longer reach the client: the connection was closed by the client,
 * reset, timed out or force-closed during shutdown, or the client half-closed it. An asynchronous
 * handler may stop its work early; it must still finish the request with esg_http_respond_*.
 */
int esg_http_req_is_gone(const esg_http_req *req);

/* The handler's slot: one pointer the layer never touches. Starts NULL for every request. */
void *esg_http_req_get_user(const esg_http_req *req);
void esg_http_req_set_user(esg_http_req *req, void *user);

/* The `data` of the server configuration (esg_http_config.data): the per-loop context. */
void *esg_http_req_server_data(const esg_http_req *req);

/*
 * Checks a media type header value against `mime` ("application/json"): type and subtype compare
 * case-insensitively, parameters are allowed, but a charset parameter must be UTF-8 (any case,
 * optionally quoted). Returns 0 or ESP_EINVAL.
 */
int esg_http_media_type_is(const char *value, size_t len, const char *mime);

/*
 * Checks that the request has exactly one Content-Type header and that it is `mime` (see
 * esg_http_media_type_is()). Returns 0, or ESP_EINVAL with the reason in err[0..errlen)
 * ("missing Content-Type", "repeated Content-Type header", "Content-Type must be <mime>").
 */
int esg_http_req_content_type(const esg_http_req *req, const char *mime, char *err, size_t errlen);

#endif
