/*
 * Authentication against the plugins: challenges go to the authenticator instance that serves
 * their factor (OTP it generated, a biometric capture, a wallet token) when there is one, and
 * then, all together, to the identity back end's kyc_auth, which checks the rest (password,
 * knowledge) and returns the KYC token and pairwise subject. OTP sending follows the same rule.
 */
#ifndef ESG_OIDC_AUTH_H
#define ESG_OIDC_AUTH_H

#include <jansson.h>

#include <esignet/plugin.h>

#include "oidc/transaction.h"
#include "util/buf.h"

/* The identity back end used for logins, or NULL when none is configured. [any] */
struct esp_instance *esg_auth_backend(void);
/*
 * The key of an individual ID in the "blocked" namespace: base64url(SHA-256(id)), 43 characters
 * and a NUL, so that the store never holds the ID itself. [any]
 */
void esg_auth_id_hash(const char *individual_id, char out[44]);
/* The authenticator instance serving factor `type`, or NULL. [loop] */
struct esp_instance *esg_auth_authenticator(const char *type);

/*
 * Checks at start, once the instances exist, that logins can be routed: an OTP authenticator
 * needs an identity back end that can look up where to send its codes (lookup), because
 * send-otp and authenticate must reach the same plugin. Returns 0, or ESP_ECONFIG with the
 * reason appended to `err`. [main, before the loops run]
 */
int esg_auth_check(esg_buf *err);

/*
 * Completion of esg_auth_run(): on success `kyc_token` and `subject` (borrowed for the callback);
 * on failure the status and the plugin's error code (may be NULL). [loop]
 */
typedef void (*esg_auth_cb)(void *ud, int status, const char *error_code, const char *kyc_token,
                            const char *subject);

/*
 * Authenticates `individual_id` for transaction `t` (borrowed for the call) with `challenges`, a
 * JSON array of {authFactorType, challenge, format} (borrowed; may be NULL), plus factor types in
 * `verified` (a JSON array of strings; may be NULL) that count as already verified (a browser
 * session). Returns 0 and `cb` runs once later, or ESP_EUNAVAIL (no identity back end) or
 * ESP_ENOMEM and `cb` never runs. [loop]
 */
int esg_auth_run(const esg_txn *t, const char *individual_id, const json_t *challenges,
                 const json_t *verified, esg_auth_cb cb, void *ud);

/* Completion of esg_auth_send_otp(): masked destinations borrowed for the callback. [loop] */
typedef void (*esg_otp_cb)(void *ud, int status, const char *error_code, const char *masked_email,
                           const char *masked_mobile);

/*
 * Sends an OTP for `t` to `individual_id` over `channels` (JSON array of strings, borrowed): by
 * the authenticator serving OTP (contacts looked up in the identity back end), or else by the
 * identity back end itself. Returns as esg_auth_run(). [loop]
 */
int esg_auth_send_otp(const esg_txn *t, const char *individual_id, const json_t *channels,
                      esg_otp_cb cb, void *ud);

#endif
