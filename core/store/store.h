/*
 * Storage facade. Two storage instances serve the core: the in-flight store (key-value entries
 * with a time to live: transactions, codes, nonces, replay sets, counters) and the persistent
 * store (records: clients, consents, bindings). Each is a storage plugin instance chosen in YAML,
 * so that Redis and PostgreSQL plugins replace the embedded defaults (memory, SQLite).
 */
#ifndef ESG_STORE_STORE_H
#define ESG_STORE_STORE_H

#include <esignet/plugin.h>

#include "plugin/call.h"
#include "util/buf.h"

/*
 * Sets the two instances after checking that `inflight` offers the key-value family and
 * `persistent` the record family. Either may be NULL in tools that need only one. Returns 0 or
 * ESP_ECONFIG with the reason in `err`. [init]
 */
int esg_store_configure(struct esp_instance *inflight, struct esp_instance *persistent,
                        esg_buf *err);
struct esp_instance *esg_store_inflight(void);
struct esp_instance *esg_store_persistent(void);

/*
 * Runs a key-value operation (enum esp_kv_op) on the in-flight store. Returns as esg_call():
 * 0 and `cb` runs once later, or an error and `cb` never runs (ESP_EUNAVAIL when no store is
 * configured). [loop]
 */
int esg_kv(int op, const esp_kv_request *req, esg_call_cb cb, void *ud);
/* Runs a record operation (enum esp_rec_op) on the persistent store. As esg_kv(). [loop] */
int esg_rec(int op, const esp_rec_request *req, esg_call_cb cb, void *ud);

/* The built-in in-memory key-value store (plugin "memory", storage type "memory"). */
const esp_plugin_desc *esg_memstore_descriptor(void);

#endif
