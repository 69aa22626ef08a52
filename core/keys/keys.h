/*
 * Keys as the core sees them: which key store signs tokens, signing through it, and the JWKS
 * document built from every key store's public keys. Private keys never come here.
 */
#ifndef ESG_KEYS_KEYS_H
#define ESG_KEYS_KEYS_H

#include <jansson.h>

#include <esignet/plugin.h>

#include "jose/jws.h"
#include "plugin/call.h"
#include "util/buf.h"

/*
 * Chooses the default key store (by name, or the first configured when `name` is NULL or empty).
 * Returns 0 or ESP_ECONFIG with the reason in `err`. [init]
 */
int esg_keys_configure(const char *default_store, esg_buf *err);
/* The default key store instance, or NULL when none is configured. [any] */
struct esp_instance *esg_keys_default_store(void);

/*
 * Signs `data` with the active key of `alg` in the default key store; `cb` receives
 * esp_sign_result. Returns as esg_call(). [loop]
 */
int esg_keys_sign(const char *alg, const void *data, size_t len, esg_call_cb cb, void *ud);

/*
 * Completion of esg_keys_refresh(): `status` is 0 or the first failure of a key store; on success
 * `jwks` is the compact JWKS document ({"keys":[...]}, borrowed for the callback), on failure
 * NULL (the caller keeps serving the previous document rather than drop keys). [loop]
 */
typedef void (*esg_keys_jwks_cb)(void *ud, int status, const char *jwks, size_t len);

/*
 * Builds the JWKS from every key store's key list (active and retired keys that have not
 * expired; never private members). `done` runs once on the calling loop. Returns 0 or
 * ESP_EINVAL or ESP_ENOMEM (then `done` never runs). [loop]
 */
int esg_keys_refresh(esg_keys_jwks_cb done, void *ud);
/*
 * Completion of esg_keys_sign_jwt(): on success `jwt` is the compact JWS (borrowed for the
 * callback); on failure NULL. [loop]
 */
typedef void (*esg_keys_jwt_cb)(void *ud, int status, const char *jwt, size_t len);

/*
 * Signs `claims` (borrowed for the call) as a JWT with the default key store's active key for
 * `alg`; the protected header is {"alg","kid","typ"} (`typ` may be NULL). The kid comes from the
 * last key refresh; when the key store no longer signs with it (rotated by another process), the
 * key list is read again and the signature retried once. Returns 0 and `cb` runs once later, or
 * ESP_EINVAL, ESP_ENOMEM, ESP_EUNAVAIL (no key store) and `cb` never runs. [loop]
 */
int esg_keys_sign_jwt(const char *alg, const char *typ, const json_t *claims, esg_keys_jwt_cb cb,
                      void *ud);

/*
 * Registers `fn`, called (from any loop thread) when signing finds that the default key store's
 * active keys changed since the last listing, i.e. keys were rotated by another process; the
 * runtime then rebuilds and publishes the JWKS. [init]
 */
void esg_keys_on_rotation(void (*fn)(void));

/*
 * Verifies a JWS signed by one of this server's keys (the keys of the last successful refresh:
 * active, next and retired ones that have not expired), with `algs` the accepted algorithms
 * (ESG_JWS_ALG_BIT bits). On success *out holds the header and payload (the caller clears it with
 * esg_jws_clear()) and 0 is returned; otherwise ESP_EINVAL (malformed, unknown kid, algorithm),
 * ESP_EAUTH (bad signature) or ESP_EUNAVAIL (no keys yet), with *reason a static explanation. [any]
 */
int esg_keys_verify(const char *token, size_t len, uint32_t algs, esg_jws *out,
                    const char **reason);

/* 1 when the default key store had an active key for `alg` at the last listing. [any] */
int esg_keys_has_alg(const char *alg);

/* Forgets the default key store (shutdown and tests). [init] */
void esg_keys_reset(void);

#endif
