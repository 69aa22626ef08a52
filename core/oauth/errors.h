/*
 * Error responses of the back-channel OAuth endpoints (token, PAR): RFC 6749 §5.2 JSON bodies,
 * never cached, and the mapping of store and plugin failures to what a client can act on.
 */
#ifndef ESG_OAUTH_ERRORS_H
#define ESG_OAUTH_ERRORS_H

#include "http/request.h"

/* Answers `status` with {"error", "error_description"} (static strings) and Pragma: no-cache.
 * [loop] */
void esg_oauth_respond_error(esg_http_req *req, int status, const char *error,
                             const char *description);

/*
 * Answers a failure that is not the client's: 503 temporarily_unavailable when a store or back
 * end did not answer (ESP_EUNAVAIL, ESP_ETIMEDOUT), else 500 server_error; logged as
 * "<endpoint>_unavailable" or "<endpoint>_failed" under "oauth.". [loop]
 */
void esg_oauth_respond_failure(esg_http_req *req, const char *endpoint, int status);

#endif
