#include "plugin/call.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "plugin/shape.h"
#include "runtime/loop.h"
#include "runtime/workers.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/status.h"

enum call_state { RUNNING, COMPLETED, TIMED_OUT };

struct esp_call {
    esg_task task; /* delivery of the completion, or the final free, on the home loop */
    esg_work work; /* dispatch to the worker pool for blocking capabilities */
    struct esp_instance *inst;
    int op;
    esg_loop *home;
    uv_timer_t timer;
    _Atomic int plugin_done; /* set by the first completion */
    _Atomic int state;       /* enum call_state */
    _Atomic int refs;        /* one for the host side, one for the plugin side */
    uint64_t started_ns;     /* uv_hrtime() */
    int64_t deadline_ms;
    esg_call_cb cb;
    void *ud;
    const void *req; /* copy in `arena` */
    int status;
    char error_code[65];
    const void *result; /* copy in `result_arena` */
    esg_arena arena;
    esg_arena result_arena;
};

static _Atomic int64_t pending_total;

struct op_info {
    const char *name;
    int kind;
    size_t fn_offset;
    const esg_shape *req;
    const esg_shape *res;
};

#define OP(id, name, kind, type, fn, req, res) [id] = {name, kind, offsetof(type, fn), req, res}
static const struct op_info ops[ESG_OP_COUNT] = {
    OP(ESG_OP_KYC_AUTH, "kyc_auth", ESP_KIND_IDENTITY_BACKEND, esp_identity_backend_v1, kyc_auth,
       &esg_shape_kyc_auth_request, &esg_shape_kyc_auth_result),
    OP(ESG_OP_KYC_EXCHANGE, "kyc_exchange", ESP_KIND_IDENTITY_BACKEND, esp_identity_backend_v1,
       kyc_exchange, &esg_shape_kyc_exchange_request, &esg_shape_kyc_exchange_result),
    OP(ESG_OP_SEND_OTP, "send_otp", ESP_KIND_IDENTITY_BACKEND, esp_identity_backend_v1, send_otp,
       &esg_shape_send_otp_request, &esg_shape_send_otp_result),
    OP(ESG_OP_LOOKUP, "lookup", ESP_KIND_IDENTITY_BACKEND, esp_identity_backend_v1, lookup,
       &esg_shape_lookup_request, &esg_shape_lookup_result),
    OP(ESG_OP_SIGNING_KEYS, "signing_keys", ESP_KIND_IDENTITY_BACKEND, esp_identity_backend_v1,
       signing_keys, NULL, &esg_shape_jwks_result),
    OP(ESG_OP_SEND_CHALLENGE, "send_challenge", ESP_KIND_AUTHENTICATOR, esp_authenticator_v1,
       send_challenge, &esg_shape_challenge_request, &esg_shape_send_otp_result),
    OP(ESG_OP_VERIFY, "verify", ESP_KIND_AUTHENTICATOR, esp_authenticator_v1, verify,
       &esg_shape_verify_request, NULL),
    OP(ESG_OP_SEND_BINDING_OTP, "send_binding_otp", ESP_KIND_KEY_BINDER, esp_key_binder_v1,
       send_binding_otp, &esg_shape_send_otp_request, &esg_shape_send_otp_result),
    OP(ESG_OP_BIND_KEY, "bind_key", ESP_KIND_KEY_BINDER, esp_key_binder_v1, bind_key,
       &esg_shape_bind_key_request, &esg_shape_bind_key_result),
    OP(ESG_OP_KEYS, "keys", ESP_KIND_KEY_STORE, esp_key_store_v1, keys, NULL,
       &esg_shape_keys_result),
    OP(ESG_OP_SIGN, "sign", ESP_KIND_KEY_STORE, esp_key_store_v1, sign, &esg_shape_sign_request,
       &esg_shape_sign_result),
    OP(ESG_OP_DECRYPT, "decrypt", ESP_KIND_KEY_STORE, esp_key_store_v1, decrypt,
       &esg_shape_decrypt_request, &esg_shape_decrypt_result),
    OP(ESG_OP_ROTATE, "rotate", ESP_KIND_KEY_STORE, esp_key_store_v1, rotate,
       &esg_shape_rotate_request, NULL),
    OP(ESG_OP_METADATA, "metadata", ESP_KIND_CREDENTIAL_FORMAT, esp_credential_format_v1, metadata,
       NULL, &esg_shape_metadata_result),
    OP(ESG_OP_ISSUE, "issue", ESP_KIND_CREDENTIAL_FORMAT, esp_credential_format_v1, issue,
       &esg_shape_issue_request, &esg_shape_issue_result),
    OP(ESG_OP_FETCH, "fetch", ESP_KIND_CREDENTIAL_DATA, esp_credential_data_v1, fetch,
       &esg_shape_credential_data_request, &esg_shape_credential_data_result),
    OP(ESG_OP_NOTIFY, "send", ESP_KIND_OTP_NOTIFIER, esp_otp_notifier_v1, send,
       &esg_shape_notify_request, NULL),
    OP(ESG_OP_KV_PUT, "kv_put", ESP_KIND_STORAGE, esp_storage_v1, kv_put, &esg_shape_kv_request,
       NULL),
    OP(ESG_OP_KV_GET, "kv_get", ESP_KIND_STORAGE, esp_storage_v1, kv_get, &esg_shape_kv_request,
       &esg_shape_kv_result),
    OP(ESG_OP_KV_TAKE, "kv_take", ESP_KIND_STORAGE, esp_storage_v1, kv_take, &esg_shape_kv_request,
       &esg_shape_kv_result),
    OP(ESG_OP_KV_DEL, "kv_del", ESP_KIND_STORAGE, esp_storage_v1, kv_del, &esg_shape_kv_request,
       NULL),
    OP(ESG_OP_KV_INCR, "kv_incr", ESP_KIND_STORAGE, esp_storage_v1, kv_incr, &esg_shape_kv_request,
       &esg_shape_kv_result),
    OP(ESG_OP_REC_PUT, "rec_put", ESP_KIND_STORAGE, esp_storage_v1, rec_put, &esg_shape_rec_request,
       NULL),
    OP(ESG_OP_REC_GET, "rec_get", ESP_KIND_STORAGE, esp_storage_v1, rec_get, &esg_shape_rec_request,
       &esg_shape_rec_result),
    OP(ESG_OP_REC_FIND, "rec_find", ESP_KIND_STORAGE, esp_storage_v1, rec_find,
       &esg_shape_rec_request, &esg_shape_rec_result),
    OP(ESG_OP_REC_DEL, "rec_del", ESP_KIND_STORAGE, esp_storage_v1, rec_del, &esg_shape_rec_request,
       NULL),
};
#undef OP

const double esg_latency_bounds_ms[ESG_LATENCY_BUCKETS] = {0.1, 0.25, 0.5, 1,   2.5, 5,
                                                           10,  25,   50,  100, 250, 1000};

const char *esg_op_name(int op)
{
    return op >= 0 && op < ESG_OP_COUNT ? ops[op].name : "unknown";
}

/* The function pointer stored at `offset` in the vtable, or NULL. */
/* 1 when the function pointer stored at `offset` in the instance's vtable is set. */
static int vtable_has(const struct esp_instance *inst, size_t offset)
{
    void (*fn)(void) = NULL;
    memcpy(&fn, (const char *)inst->cap->vtable + offset, sizeof(fn));
    return fn != NULL;
}

int esg_op_supported(const struct esp_instance *inst, int op)
{
    if (op < 0 || op >= ESG_OP_COUNT || inst == NULL || ops[op].kind != inst->kind)
        return 0;
    return vtable_has(inst, ops[op].fn_offset);
}

/* Calls the plugin function with its exact prototype. */
static esp_status invoke(esp_call *c)
{
    const void *vt = c->inst->cap->vtable;
    void *in = c->inst->inst;
    const void *r = c->req;
    switch (c->op) {
    case ESG_OP_KYC_AUTH:
        return ((const esp_identity_backend_v1 *)vt)->kyc_auth(in, r, c);
    case ESG_OP_KYC_EXCHANGE:
        return ((const esp_identity_backend_v1 *)vt)->kyc_exchange(in, r, c);
    case ESG_OP_SEND_OTP:
        return ((const esp_identity_backend_v1 *)vt)->send_otp(in, r, c);
    case ESG_OP_LOOKUP:
        return ((const esp_identity_backend_v1 *)vt)->lookup(in, r, c);
    case ESG_OP_SIGNING_KEYS:
        return ((const esp_identity_backend_v1 *)vt)->signing_keys(in, c);
    case ESG_OP_SEND_CHALLENGE:
        return ((const esp_authenticator_v1 *)vt)->send_challenge(in, r, c);
    case ESG_OP_VERIFY:
        return ((const esp_authenticator_v1 *)vt)->verify(in, r, c);
    case ESG_OP_SEND_BINDING_OTP:
        return ((const esp_key_binder_v1 *)vt)->send_binding_otp(in, r, c);
    case ESG_OP_BIND_KEY:
        return ((const esp_key_binder_v1 *)vt)->bind_key(in, r, c);
    case ESG_OP_KEYS:
        return ((const esp_key_store_v1 *)vt)->keys(in, c);
    case ESG_OP_SIGN:
        return ((const esp_key_store_v1 *)vt)->sign(in, r, c);
    case ESG_OP_DECRYPT:
        return ((const esp_key_store_v1 *)vt)->decrypt(in, r, c);
    case ESG_OP_ROTATE:
        return ((const esp_key_store_v1 *)vt)->rotate(in, r, c);
    case ESG_OP_METADATA:
        return ((const esp_credential_format_v1 *)vt)->metadata(in, c);
    case ESG_OP_ISSUE:
        return ((const esp_credential_format_v1 *)vt)->issue(in, r, c);
    case ESG_OP_FETCH:
        return ((const esp_credential_data_v1 *)vt)->fetch(in, r, c);
    case ESG_OP_NOTIFY:
        return ((const esp_otp_notifier_v1 *)vt)->send(in, r, c);
    case ESG_OP_KV_PUT:
        return ((const esp_storage_v1 *)vt)->kv_put(in, r, c);
    case ESG_OP_KV_GET:
        return ((const esp_storage_v1 *)vt)->kv_get(in, r, c);
    case ESG_OP_KV_TAKE:
        return ((const esp_storage_v1 *)vt)->kv_take(in, r, c);
    case ESG_OP_KV_DEL:
        return ((const esp_storage_v1 *)vt)->kv_del(in, r, c);
    case ESG_OP_KV_INCR:
        return ((const esp_storage_v1 *)vt)->kv_incr(in, r, c);
    case ESG_OP_REC_PUT:
        return ((const esp_storage_v1 *)vt)->rec_put(in, r, c);
    case ESG_OP_REC_GET:
        return ((const esp_storage_v1 *)vt)->rec_get(in, r, c);
    case ESG_OP_REC_FIND:
        return ((const esp_storage_v1 *)vt)->rec_find(in, r, c);
    case ESG_OP_REC_DEL:
        return ((const esp_storage_v1 *)vt)->rec_del(in, r, c);
    default:
        return ESP_ENOTSUP;
    }
}

static void on_timer_closed(uv_handle_t *h)
{
    esp_call *c = h->data;
    /* The call counts as pending until it is freed, so a drain that waits for zero never closes
     * a loop that still has this call's tasks or timer. */
    atomic_fetch_sub(&c->inst->pending, 1);
    atomic_fetch_sub(&pending_total, 1);
    esg_instance_release(c->inst);
    esg_arena_free(&c->arena);
    esg_arena_free(&c->result_arena);
    free(c);
}

static void free_on_home(esg_task *t)
{
    esp_call *c = (esp_call *)t;
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}

/* Drops one reference; the last one frees the call on its home loop (the timer lives there). */
static void release(esp_call *c)
{
    if (atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    c->task.run = free_on_home;
    esg_loop_post(c->home, &c->task);
}

static void record_latency(esp_call *c)
{
    esg_op_stats *s = &c->inst->stats[c->op];
    uint64_t us = (uv_hrtime() - c->started_ns) / 1000;
    atomic_fetch_add_explicit(&s->latency_us_sum, us, memory_order_relaxed);
    double ms = (double)us / 1000.0;
    int b = 0;
    while (b < ESG_LATENCY_BUCKETS && ms > esg_latency_bounds_ms[b])
        b++;
    atomic_fetch_add_explicit(&s->buckets[b], 1, memory_order_relaxed);
}

static void deliver(esg_task *t)
{
    esp_call *c = (esp_call *)t;
    uv_timer_stop(&c->timer);
    record_latency(c);
    if (c->status != 0)
        atomic_fetch_add_explicit(&c->inst->stats[c->op].failures, 1, memory_order_relaxed);
    c->cb(c->ud, c->status, c->error_code[0] ? c->error_code : NULL,
          c->status == 0 ? c->result : NULL);
    release(c); /* the host's reference */
    release(c); /* the plugin's reference, handed to this task by complete() */
}

static void on_deadline(uv_timer_t *h)
{
    esp_call *c = h->data;
    int expected = RUNNING;
    if (!atomic_compare_exchange_strong(&c->state, &expected, TIMED_OUT))
        return; /* The completion is already on its way to this loop. */
    atomic_fetch_add_explicit(&c->inst->stats[c->op].timeouts, 1, memory_order_relaxed);
    record_latency(c);
    esg_log_kv kv[] = {ESG_KV_STR("instance", c->inst->name), ESG_KV_STR("op", ops[c->op].name)};
    esg_log_event(ESP_LOG_WARN, "plugin.call_timeout", kv, 2);
    c->cb(c->ud, ESP_ETIMEDOUT, NULL, NULL);
    release(c); /* the host's reference; the plugin's stays until it completes */
}

static int valid_error_code(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
              ch == '-'))
            return 0;
    }
    return 1;
}

/* The one completion path, for call_done, call_fail and a failing plugin function. [any] */
static esp_status complete(esp_call *c, int status, const char *error_code, const void *result)
{
    if (atomic_exchange(&c->plugin_done, 1) != 0) {
        /* Only detectable while the host still holds the call; the counter makes the bug
         * visible in /metrics as well as in the log. */
        atomic_fetch_add_explicit(&c->inst->stats[c->op].double_completions, 1,
                                  memory_order_relaxed);
        esg_log_kv kv[] = {ESG_KV_STR("instance", c->inst->name),
                           ESG_KV_STR("op", ops[c->op].name)};
        esg_log_event(ESP_LOG_ERROR, "plugin.double_completion", kv, 2);
        return ESP_EALREADY;
    }
    esp_status ret = 0;
    if (status > 0 || (status != 0 && !esg_status_known(status))) {
        esg_log_kv kv[] = {ESG_KV_STR("instance", c->inst->name), ESG_KV_STR("op", ops[c->op].name),
                           ESG_KV_INT("status", status)};
        esg_log_event(ESP_LOG_ERROR, "plugin.bad_status", kv, 3);
        status = ESP_EINTERNAL;
    }
    if (status == 0 && ops[c->op].res != NULL) {
        const char *why = NULL;
        void *copy = NULL;
        int rc = result == NULL
                     ? ESP_EINVAL
                     : esg_shape_copy(ops[c->op].res, result, &c->result_arena, &copy, &why);
        if (rc != 0) {
            esg_log_kv kv[] = {ESG_KV_STR("instance", c->inst->name),
                               ESG_KV_STR("op", ops[c->op].name),
                               ESG_KV_STR("field", why ? why : "result")};
            esg_log_event(ESP_LOG_ERROR, "plugin.bad_result", kv, 3);
            status = ESP_EINTERNAL;
            ret = ESP_EINVAL;
        }
        c->result = copy;
    }
    c->status = status;
    if (status != 0 && error_code != NULL && valid_error_code(error_code))
        snprintf(c->error_code, sizeof(c->error_code), "%s", error_code);
    int expected = RUNNING;
    if (!atomic_compare_exchange_strong(&c->state, &expected, COMPLETED)) {
        atomic_fetch_add_explicit(&c->inst->stats[c->op].late, 1, memory_order_relaxed);
        release(c);
        return ESP_ECANCELED;
    }
    c->task.run = deliver;
    esg_loop_post(c->home, &c->task);
    return ret;
}

esp_status esg_call_done(esp_call *call, const void *result)
{
    if (call == NULL)
        return ESP_EINVAL;
    return complete(call, 0, NULL, result);
}

esp_status esg_call_vfail(esp_call *call, esp_status status, const char *error_code,
                          const char *fmt, va_list ap)
{
    if (call == NULL)
        return ESP_EINVAL;
    if (status == 0)
        status = ESP_EINTERNAL; /* A failure must fail. */
    if (fmt != NULL && esg_log_enabled(ESP_LOG_INFO)) {
        esg_log_kv kv[] = {ESG_KV_STR("instance", call->inst->name),
                           ESG_KV_STR("op", ops[call->op].name),
                           ESG_KV_STR("status", esg_err_name(status)),
                           ESG_KV_STR("code", error_code ? error_code : "")};
        esg_vlogf(ESP_LOG_INFO, "plugin.call_failed", kv, 4, fmt, ap);
    }
    return complete(call, status, error_code, NULL);
}

int64_t esg_call_remaining_ms(const esp_call *call)
{
    int64_t left = call->deadline_ms - esg_now_ms();
    return left > 0 ? left : 0;
}

int esg_call_cancelled(const esp_call *call)
{
    return atomic_load(&call->state) == TIMED_OUT;
}

int64_t esg_calls_pending(void)
{
    return atomic_load(&pending_total);
}

static void run_blocking(esg_work *w)
{
    esp_call *c = (esp_call *)((char *)w - offsetof(esp_call, work));
    /* The caller was already answered with a timeout while the job waited in the queue: running
     * it now could commit a write the caller was told failed, and would only delay newer work. */
    if (atomic_load(&c->state) == TIMED_OUT) {
        atomic_store(&c->plugin_done, 1);
        release(c);
        return;
    }
    esp_status rc = invoke(c);
    if (rc != 0 && complete(c, rc, NULL, NULL) == ESP_EALREADY)
        esg_log_event(ESP_LOG_ERROR, "plugin.failed_after_completing", NULL, 0);
}

static void blocking_done(esg_work *w)
{
    /* The completion travels on its own task; this only drops the worker's reference, which kept
     * the call alive while the worker thread still touched it after invoke() returned. */
    release((esp_call *)((char *)w - offsetof(esp_call, work)));
}

int esg_call_timeout(struct esp_instance *inst, int op, const void *req, int64_t timeout_ms,
                     esg_call_cb cb, void *ud)
{
    esg_loop *home = esg_loop_current();
    if (home == NULL || cb == NULL)
        return ESP_EINVAL;
    if (!esg_op_supported(inst, op))
        return ESP_ENOTSUP;
    esp_call *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return ESP_ENOMEM;
    if (ops[op].req != NULL) {
        void *copy = NULL;
        const char *why = NULL;
        int rc = esg_shape_copy(ops[op].req, req, &c->arena, &copy, &why);
        if (rc != 0) {
            esg_arena_free(&c->arena);
            free(c);
            return rc;
        }
        c->req = copy;
    }
    c->inst = inst;
    c->op = op;
    c->home = home;
    c->cb = cb;
    c->ud = ud;
    c->started_ns = uv_hrtime();
    c->deadline_ms = esg_now_ms() + timeout_ms;
    atomic_init(&c->refs, 2);
    atomic_init(&c->state, RUNNING);
    atomic_init(&c->plugin_done, 0);
    uv_timer_init(&home->uv, &c->timer);
    c->timer.data = c;
    atomic_fetch_add(&inst->refs, 1);
    atomic_fetch_add(&inst->pending, 1);
    atomic_fetch_add(&pending_total, 1);
    atomic_fetch_add_explicit(&inst->stats[op].calls, 1, memory_order_relaxed);
    uv_timer_start(&c->timer, on_deadline, (uint64_t)(timeout_ms > 0 ? timeout_ms : 0), 0);

    if (inst->blocking) {
        atomic_fetch_add(&c->refs, 1);
        c->work.work = run_blocking;
        c->work.done = blocking_done;
        int rc = esg_workers_submit(&c->work);
        if (rc != 0) {
            /* Undo as if the call never started, so the callback never runs; the close callback
             * takes the pending counts back. */
            uv_timer_stop(&c->timer);
            uv_close((uv_handle_t *)&c->timer, on_timer_closed);
            return rc;
        }
        return 0;
    }
    esp_status rc = invoke(c);
    if (rc != 0 && complete(c, rc, NULL, NULL) == ESP_EALREADY)
        esg_log_event(ESP_LOG_ERROR, "plugin.failed_after_completing", NULL, 0);
    return 0;
}

int esg_call(struct esp_instance *inst, int op, const void *req, esg_call_cb cb, void *ud)
{
    return esg_call_timeout(inst, op, req, inst != NULL ? inst->timeout_ms : 0, cb, ud);
}
