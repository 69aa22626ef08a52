/*
 * Authorization codes (RFC 6749 §4.1.2): 256 random bits, base64url, stored in the in-flight
 * store under their SHA-256 (namespace "code") with the authenticated transaction, for
 * oidc.lifetimes.code. The token endpoint counts redemptions in "code-uses" before it takes the
 * entry, so exactly one redemption issues tokens even under concurrent requests, and a later one
 * finds the first one's access token through "code-at" and revokes it (RFC 6749 §10.5, RFC 9700
 * §4.5); core/oauth/token.c explains why no race can keep that token alive.
 */
#ifndef ESG_OAUTH_CODE_H
#define ESG_OAUTH_CODE_H

#include "oidc/transaction.h"

/* base64url(SHA-256(code)) into out[44]. */
void esg_code_hash(const char *code, size_t len, char out[44]);

/*
 * Issues a code for the authenticated transaction `t` (borrowed for the call). `cb` receives the
 * code (borrowed for the callback) or a store failure. Returns 0 and `cb` runs once later, or an
 * error and it never runs. [loop]
 */
int esg_code_issue(const esg_txn *t, void (*cb)(void *ud, int status, const char *code), void *ud);

#endif
