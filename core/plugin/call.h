/*
 * Calls into plugin instances. Every operation runs through here: the request is copied into
 * memory the call owns, the plugin function runs on the loop (or the worker pool for blocking
 * capabilities), the deadline timer runs on the loop that started the call, and the completion
 * (from any thread) comes back to that loop exactly once. A late completion is dropped; a second
 * completion is refused and counted.
 */
#ifndef ESG_PLUGIN_CALL_H
#define ESG_PLUGIN_CALL_H

#include <stdarg.h>

#include <esignet/plugin.h>

#include "plugin/registry.h"

/* Operations, one per plugin function that takes an esp_call. Append only (metrics index). */
enum esg_op {
    ESG_OP_KYC_AUTH,
    ESG_OP_KYC_EXCHANGE,
    ESG_OP_SEND_OTP,
    ESG_OP_LOOKUP,
    ESG_OP_SIGNING_KEYS,
    ESG_OP_SEND_CHALLENGE,
    ESG_OP_VERIFY,
    ESG_OP_SEND_BINDING_OTP,
    ESG_OP_BIND_KEY,
    ESG_OP_KEYS,
    ESG_OP_SIGN,
    ESG_OP_DECRYPT,
    ESG_OP_ROTATE,
    ESG_OP_METADATA,
    ESG_OP_ISSUE,
    ESG_OP_FETCH,
    ESG_OP_NOTIFY,
    ESG_OP_KV_PUT,
    ESG_OP_KV_GET,
    ESG_OP_KV_TAKE,
    ESG_OP_KV_DEL,
    ESG_OP_KV_INCR,
    ESG_OP_REC_PUT,
    ESG_OP_REC_GET,
    ESG_OP_REC_FIND,
    ESG_OP_REC_DEL,
};

/*
 * Completion of a call, on the loop thread that started it. `status` is 0 or negative;
 * `error_code` is the plugin's client-facing code or NULL; `result` is the operation's result
 * struct (NULL on failure and for operations without one), borrowed for the callback only.
 */
typedef void (*esg_call_cb)(void *ud, int status, const char *error_code, const void *result);

/* Name of an operation ("sign"), for logs and metrics. */
const char *esg_op_name(int op);
/* 1 when `inst` implements `op` (its kind has it and the optional function is set). */
int esg_op_supported(const struct esp_instance *inst, int op);

/*
 * Starts `op` on `inst` with request `req` (the operation's request struct, or NULL for
 * operations without one; copied, so it may live on the caller's stack). `cb` runs exactly once,
 * later, on the calling loop thread — with ESP_ETIMEDOUT when the deadline passes first.
 * Returns 0, or ESP_ENOTSUP (the instance lacks the operation), ESP_EINVAL (bad request), or
 * ESP_ENOMEM; then `cb` never runs. [loop]
 */
int esg_call(struct esp_instance *inst, int op, const void *req, esg_call_cb cb, void *ud);

/* Same with an explicit deadline in milliseconds instead of the instance's default. [loop] */
int esg_call_timeout(struct esp_instance *inst, int op, const void *req, int64_t timeout_ms,
                     esg_call_cb cb, void *ud);

/* Host services implementing esp_host's call functions. [any] */
esp_status esg_call_done(esp_call *call, const void *result);
esp_status esg_call_vfail(esp_call *call, esp_status status, const char *error_code,
                          const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));
int64_t esg_call_remaining_ms(const esp_call *call);
int esg_call_cancelled(const esp_call *call);

/* Calls started and not yet completed by their plugins, across all instances. [any] */
int64_t esg_calls_pending(void);

#endif
