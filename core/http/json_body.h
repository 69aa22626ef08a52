/*
 * Strict decoding of JSON request bodies with jansson.
 *
 * Before jansson sees the input, its size and nesting depth are checked by a linear scan, so a
 * body of a million '[' costs one pass and no recursion. jansson then parses with
 * JSON_REJECT_DUPLICATES (a member name twice in one object is an error, like a repeated OAuth
 * parameter), rejects invalid UTF-8 and "\u0000" in strings, and the top-level type is checked.
 * Error reasons are written by this module (position and kind), never quoting the input.
 *
 * Threads: [any], except esg_http_req_json() which is [loop].
 */
#ifndef ESG_HTTP_JSON_BODY_H
#define ESG_HTTP_JSON_BODY_H

#include <jansson.h>
#include <stddef.h>

#include "http/request.h"

/* Accepted top-level types. */
#define ESG_JSON_TOP_OBJECT 0x1u
#define ESG_JSON_TOP_ARRAY  0x2u
#define ESG_JSON_TOP_ANY    0x7u /* objects, arrays and scalars */

/* Bounds; a zero field takes the default in brackets. */
typedef struct esg_json_limits {
    size_t max_bytes; /* [1 MiB] */
    size_t max_depth; /* [32] nested objects and arrays; the top level counts as 1 */
    unsigned top;     /* [ESG_JSON_TOP_OBJECT] */
} esg_json_limits;

/*
 * Parses data[0..n). On success the caller owns *out (json_decref). On failure *out is NULL and
 * err[0..errlen) holds the reason. Returns 0, ESP_EINVAL or ESP_ENOMEM.
 */
int esg_json_parse(const char *data, size_t n, const esg_json_limits *lim, json_t **out, char *err,
                   size_t errlen);

/*
 * Parses the body of a request: it must have exactly one Content-Type header with media type
 * application/json (a charset parameter must be UTF-8). Same results as esg_json_parse(). [loop]
 */
int esg_http_req_json(const esg_http_req *req, const esg_json_limits *lim, json_t **out, char *err,
                      size_t errlen);

#endif
