/*
 * Starting a login: /authorize (a page for the browser) and eSignet's oauth-details API (JSON for
 * a login UI) share one pipeline: the client, the request validation, the nonce replay check, the
 * id_token_hint, and, for /authorize, the browser session (prompt=none, max_age, prompt=login,
 * single sign-on), ending in a stored transaction or, when the session allows it, directly in an
 * authorization code.
 */
#ifndef ESG_OIDC_FLOW_H
#define ESG_OIDC_FLOW_H

#include "http/request.h"
#include "oidc/authz.h"

/*
 * Runs the pipeline for `req`; takes over `params` (cleared on return). `api` is 1 for
 * oauth-details (answers in eSignet's envelope, no session handling) and 0 for /authorize
 * (answers with the login page, a redirect to the relying party, or an error page). Always
 * answers the request exactly once. [loop]
 */
void esg_flow_start(esg_http_req *req, esg_authz_params *params, int api);

#endif
