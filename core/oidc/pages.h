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
#include "oidc/transaction.h"

/*
 * Answers 200 with the login page for a transaction: `details` (borrowed) is the oauth-details
 * response, `hash` its oauth-details-hash, `t` the transaction. The page's login context tells
 * the script the step ("login", or "consent" when a session already authenticated the user), the
 * issuer and base path, and the relying party's login_hint (pre-fills the individual ID),
 * state (echoed on cancel) and ui_locales (chooses the client name's language). [loop]
 */
int esg_page_login(esg_http_req *req, const json_t *details, const char *hash, const esg_txn *t);

/* Answers `status` with an error page saying what happened (`title`, `message`: static). [loop] */
int esg_page_error(esg_http_req *req, int status, const char *title, const char *message);

/* Route handlers for the page assets (script and style), cacheable. [loop] */
void esg_page_asset_js(esg_http_req *req, void *data);
void esg_page_asset_css(esg_http_req *req, void *data);

#endif
