/*
 * JSON documents in the in-flight store: the core's transactions, codes, sessions and replay
 * markers are small JSON objects under a namespace and key, with a time to live.
 */
#ifndef ESG_STORE_KV_JSON_H
#define ESG_STORE_KV_JSON_H

#include <jansson.h>
#include <stdint.h>

/*
 * Completion: `status` 0 with `doc` (a reference the callback owns; NULL for put and del), or the
 * store's failure (ESP_ENOTFOUND, ESP_EEXIST for NX puts, ESP_EUNAVAIL, ESP_ETIMEDOUT, ...).
 * ESP_EINVAL when a stored value is not JSON. [loop]
 */
typedef void (*esg_kv_json_cb)(void *ud, int status, json_t *doc);

/*
 * Stores `doc` (borrowed; serialized now) under ns/key for `ttl_ms` with `mode` (enum
 * esp_kv_mode). Returns 0 and `cb` runs once later, or an error and `cb` never runs. [loop]
 */
int esg_kv_json_put(const char *ns, const char *key, const json_t *doc, int64_t ttl_ms, int mode,
                    esg_kv_json_cb cb, void *ud);
/* Reads ns/key. As esg_kv_json_put(). [loop] */
int esg_kv_json_get(const char *ns, const char *key, esg_kv_json_cb cb, void *ud);
/* Reads and deletes ns/key atomically: exactly one caller gets it. As esg_kv_json_put(). [loop] */
int esg_kv_json_take(const char *ns, const char *key, esg_kv_json_cb cb, void *ud);
/* Deletes ns/key; ESP_ENOTFOUND when absent. As esg_kv_json_put(). [loop] */
int esg_kv_json_del(const char *ns, const char *key, esg_kv_json_cb cb, void *ud);
/*
 * Adds `delta` to the counter ns/key (created with `ttl_ms`); the callback's doc is the new value
 * as a JSON integer. [loop]
 */
int esg_kv_json_incr(const char *ns, const char *key, int64_t delta, int64_t ttl_ms,
                     esg_kv_json_cb cb, void *ud);

#endif
