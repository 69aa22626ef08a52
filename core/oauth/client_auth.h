/*
 * Client authentication of back-channel requests (the token and PAR endpoints): private_key_jwt
 * only (RFC 7523 §2.2 and §3, OpenID Connect Core §9). The assertion is a JWS (RS256, PS256 or
 * ES256, and the registered key's `alg` when it has one) signed with the client's registered
 * key, with iss = sub = client_id, an accepted audience, exp required and at most
 * oidc.lifetimes.client_assertion ahead, iat and nbf not in the future beyond the clock skew, and
 * a jti that is stored NX in namespace "jti" until exp plus the skew, so that a replay is refused
 * by every instance sharing the store.
 */
#ifndef ESG_OAUTH_CLIENT_AUTH_H
#define ESG_OAUTH_CLIENT_AUTH_H

#include "http/form.h"
#include "oauth/clients.h"

/*
 * Completion of esg_client_auth(). On success `status` is 0 and `client` a reference the
 * callback owns. Otherwise `client` is NULL and either `error` is an RFC 6749 §5.2 error code
 * with a description (both static; "invalid_client" for every authentication failure, which
 * says nothing about what was wrong) or, when `error` is NULL, `status` is a store or back-end
 * failure (temporarily unavailable or internal). [loop]
 */
typedef void (*esg_client_auth_cb)(void *ud, int status, esg_client *client, const char *error,
                                   const char *description);

/*
 * Authenticates the client of `form` (borrowed until the callback has run): the parameters
 * client_assertion_type, client_assertion and the optional client_id, which must name the same
 * client. `audiences` (borrowed until the callback; NULL-terminated, at least one) are the
 * accepted `aud` values: the endpoint's URL first, then others the endpoint accepts (the issuer).
 * Returns 0 and `cb` runs exactly once, possibly before this returns (a request refused without
 * a lookup), so the caller must not touch its own state after a 0 return; or ESP_ENOMEM and `cb`
 * never runs. [loop]
 */
int esg_client_auth(const esg_form *form, const char *const *audiences, esg_client_auth_cb cb,
                    void *ud);

#endif
