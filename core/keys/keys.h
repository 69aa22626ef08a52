/*
 * Keys as the core sees them: which key store signs tokens, signing through it, and the JWKS
 * document built from every key store's public keys. Private keys never come here.
 */
#ifndef ESG_KEYS_KEYS_H
#define ESG_KEYS_KEYS_H

#include <esignet/plugin.h>

#include "plugin/call.h"
#include "util/blob.h"
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
 * Rebuilds the JWKS from every key store's key list and publishes it; `done` (optional) runs on
 * the calling loop with 0 or the first failure, after the new document is published. Returns 0
 * or ESP_ENOMEM (then `done` never runs). [loop]
 */
int esg_keys_refresh(void (*done)(void *ud, int status), void *ud);
/* The current JWKS document (`{"keys":[...]}`), or NULL before the first refresh. Unref it. */
esg_blob *esg_keys_jwks(void);
/* Drops the published document (shutdown). [init] */
void esg_keys_reset(void);

#endif
