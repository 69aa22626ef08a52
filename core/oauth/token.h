/*
 * The token endpoint (RFC 6749 §3.2, §4.1.3; eSignet path /oauth/v2/token): the authorization
 * code grant for confidential clients authenticated with private_key_jwt (RFC 7523, OpenID
 * Connect Core §9), PKCE S256 (RFC 7636), single-use codes whose reuse revokes what they issued
 * (RFC 6749 §10.5, RFC 9700 §4.5), the KYC exchange with the identity back end, and the ID token
 * and JWT access token (RFC 9068).
 */
#ifndef ESG_OAUTH_TOKEN_H
#define ESG_OAUTH_TOKEN_H

#include "http/request.h"

/* Route handler for POST /oauth/v2/token. [loop] */
void esg_oauth_token(esg_http_req *req, void *data);

/* Key of an access token's entry in the in-flight store: base64url(SHA-256(token)) in out[44]. */
void esg_oauth_token_key(const char *token, size_t len, char out[44]);

#endif
