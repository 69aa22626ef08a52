/*
 * DPoP at an endpoint (RFC 9449): reads the request's DPoP header, verifies the proof
 * (esg_dpop_verify() with the server's accepted algorithms, oidc.lifetimes.dpop_proof and the
 * clock skew) and consumes its jti: an NX put in namespace "dpop-jti" under the key's thumbprint,
 * kept as long as the proof could be accepted, so a replayed proof is refused on every instance
 * sharing the store (RFC 9449 §11.1). With oidc.require_dpop_nonce the proof must also carry a
 * nonce this server issued (RFC 9449 §8): nonces are random, kept in namespace "dpop-nonce" for
 * oidc.lifetimes.dpop_proof (so every instance sharing the store knows them), and a proof
 * without a valid one is refused with ESG_DPOP_ERR_USE_NONCE after a fresh nonce was issued and
 * set as the response's DPoP-Nonce header.
 */
#ifndef ESG_OAUTH_DPOP_REQUEST_H
#define ESG_OAUTH_DPOP_REQUEST_H

#include "http/request.h"
#include "oauth/dpop.h"

/*
 * Completion of esg_dpop_request_check(). `status` 0: `present` says whether the request had a
 * DPoP header, and when it had, `res` (borrowed for the callback) holds the verified proof.
 * ESP_EINVAL: the proof was refused, res->error and res->reason say how (a replayed jti is
 * ESG_DPOP_ERR_INVALID_PROOF; ESG_DPOP_ERR_USE_NONCE comes with the DPoP-Nonce header already
 * set on the response). Any other status is a store failure. [loop]
 */
typedef void (*esg_dpop_request_cb)(void *ud, int status, int present, const esg_dpop_result *res);

/*
 * Checks the DPoP header of `req` for the endpoint whose configured URL is `htu` (borrowed for
 * the call). With `access_token` (borrowed for the call) the proof must carry its `ath`; with
 * `jkt` the proof's key must have that thumbprint. Returns 0 and `cb` runs exactly once, possibly
 * before this returns (a missing, repeated or refused header needs no store), so the caller must
 * not touch its state after a 0 return; or ESP_ENOMEM and `cb` never runs. [loop]
 */
int esg_dpop_request_check(esg_http_req *req, const char *htu, const char *access_token,
                           const char *jkt, esg_dpop_request_cb cb, void *ud);

#endif
