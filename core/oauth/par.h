/*
 * Pushed authorization requests (RFC 9126; eSignet path /oauth/par): a client authenticated with
 * private_key_jwt posts the parameters of an authorization request; they are validated as
 * /authorize validates them and kept for oidc.lifetimes.pushed_request under a random
 * request_uri, which /authorize (client_id + request_uri) and eSignet's par-oauth-details take
 * exactly once. The parameters are then taken from the pushed request alone, so the browser
 * never carries them and they cannot be changed on the way.
 */
#ifndef ESG_OAUTH_PAR_H
#define ESG_OAUTH_PAR_H

#include <jansson.h>

#include "http/request.h"

/* The prefix of every request_uri this server issues (RFC 9126 §2.2). */
#define ESG_PAR_URI_PREFIX "urn:ietf:params:oauth:request_uri:"

/* Route handler for POST /oauth/par. [loop] */
void esg_oauth_par(esg_http_req *req, void *data);

/*
 * Completion of esg_par_take(): status 0 with the client ID the request was pushed by and its
 * stored parameters (both borrowed for the callback; see esg_authz_params_from_stored()), or
 * ESP_ENOTFOUND (unknown, expired or already used) or a store failure. [loop]
 */
typedef void (*esg_par_cb)(void *ud, int status, const char *client_id, const json_t *params);

/*
 * Takes the pushed request named by `request_uri` (single use, atomically). Returns 0 and `cb`
 * runs once later; ESP_EINVAL when request_uri is not one this server issues (`cb` never runs);
 * or ESP_ENOMEM. [loop]
 */
int esg_par_take(const char *request_uri, esg_par_cb cb, void *ud);

#endif
