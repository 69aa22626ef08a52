/*
 * Browser sessions (eSignet has none; OpenID Connect Core's prompt, max_age and auth_time need
 * one). A successful login sets a cookie holding a random secret; the in-flight store keeps, under
 * the secret's SHA-256, who logged in, when, and with which methods, for oidc.lifetimes.session.
 * The cookie is HttpOnly, SameSite=Lax (sent on the relying party's top-level redirect to
 * /authorize, not on cross-site subrequests) and Secure when the issuer is https.
 */
#ifndef ESG_OIDC_SESSION_H
#define ESG_OIDC_SESSION_H

#include <jansson.h>

#include "http/request.h"
#include "oidc/transaction.h"

#define ESG_SESSION_COOKIE "esg_session"

/*
 * Completion of esg_session_create(): on success `cookie` is the value to set (borrowed for the
 * callback). [loop]
 */
typedef void (*esg_session_created_cb)(void *ud, int status, const char *cookie);

/*
 * Stores a session for the authenticated transaction `t` (individual_id, auth_time, amr,
 * acr_satisfied). Returns 0 and `cb` runs once later, or an error (ESP_ENOTSUP when sessions are
 * disabled) and it never runs. [loop]
 */
int esg_session_create(const esg_txn *t, esg_session_created_cb cb, void *ud);

/*
 * Loads the session of the request's cookie: `cb` gets 0 and the session document (a reference
 * it owns: {individual_id, auth_time, amr, acr}), or ESP_ENOTFOUND (no cookie, a malformed or
 * repeated one, expired) or a store failure. Returns 0 and `cb` runs once later, or an error and
 * it never runs. [loop]
 */
int esg_session_load(esg_http_req *req, void (*cb)(void *ud, int status, json_t *session),
                     void *ud);

/* Adds the Set-Cookie header for `cookie`. Returns as esg_http_resp_header(). [loop] */
int esg_session_set_cookie(esg_http_req *req, const char *cookie);

#endif
