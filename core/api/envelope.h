/*
 * eSignet's JSON envelope (spec esignet.md §1.1), used by its own APIs (browser authorization
 * APIs, client management, binding, linked login):
 *   request   {"requestTime":"yyyy-MM-ddTHH:mm:ss.SSSZ","request":{...}}
 *   response  {"responseTime":"...","response":{...}|null,"errors":[{"errorCode","errorMessage"}]}
 * Errors are answered with HTTP 200 (eSignet's convention) unless the caller says otherwise.
 */
#ifndef ESG_API_ENVELOPE_H
#define ESG_API_ENVELOPE_H

#include <jansson.h>

#include "http/request.h"

/* How far requestTime may be from the server's clock (eSignet's default leeway, 2 minutes). */
#define ESG_ENVELOPE_LEEWAY_MS 120000

/*
 * Parses the request body as an envelope. On success sets *doc (the whole document; the caller
 * decrefs it) and *request (borrowed from *doc, a JSON object) and returns 0. Otherwise returns
 * ESP_EINVAL and sets *error to the eSignet error code ("invalid_request") and *message to a short
 * static explanation that never contains request bytes. [loop]
 */
int esg_envelope_parse(esg_http_req *req, json_t **doc, json_t **request, const char **error,
                       const char **message);

/*
 * Answers 200 with `response` (stolen; NULL sends null) and no errors. When `hash_out` is not
 * NULL it receives base64url(SHA-256(exact bytes of the serialized response member)), the
 * oauth-details-hash of §1.5 (43 characters and a NUL). Returns as esg_http_respond_buf(). [loop]
 */
int esg_envelope_ok(esg_http_req *req, json_t *response, char hash_out[44]);

/*
 * Answers `http_status` (200 for eSignet's service errors) with one error: `code` (e.g.
 * "invalid_transaction") and `message` (NULL repeats the code, as eSignet does). [loop]
 */
int esg_envelope_error(esg_http_req *req, int http_status, const char *code, const char *message);

/* The compact serialization used for envelopes and hashes (key order kept, no whitespace). */
char *esg_envelope_dump(const json_t *value);

#endif
