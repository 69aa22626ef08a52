/*
 * The pages the server shows people: the login page (which runs the eSignet browser APIs from
 * its own script) and error pages for requests that cannot go back to the relying party. Pages
 * carry a strict Content-Security-Policy: scripts and styles from this server only, nothing
 * inline, no framing.
 */
#ifndef ESG_OIDC_PAGES_H
#define ESG_OIDC_PAGES_H

#include <jansson.h>

#include "http/request.h"

/*
 * Answers 200 with the login page for a transaction: `details` (borrowed) is the oauth-details
 * response, `hash` its oauth-details-hash, `step` "login" or "consent" (a session already
 * authenticated the user), `login_hint` the relying party's login_hint or NULL: the page fills
 * the individual ID field with it (the login context's "loginHint"). [loop]
 */
int esg_page_login(esg_http_req *req, const json_t *details, const char *hash, const char *step,
                   const char *login_hint);

/* Answers `status` with an error page saying what happened (`title`, `message`: static). [loop] */
int esg_page_error(esg_http_req *req, int status, const char *title, const char *message);

/* Route handlers for the page assets (script and style), cacheable. [loop] */
void esg_page_asset_js(esg_http_req *req, void *data);
void esg_page_asset_css(esg_http_req *req, void *data);

#endif
