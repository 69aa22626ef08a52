/*
 * The host services plugins call (esp_host in plugin.h). Values are jansson nodes behind the
 * opaque esp_value type; storage and key services route to the configured instances through the
 * same call machinery as the core's own calls, so deadlines and metrics apply to them too.
 */
#include "plugin/host.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "keys/keys.h"
#include "plugin/call.h"
#include "plugin/registry.h"
#include "runtime/loop.h"
#include "runtime/workers.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/status.h"

static void *h_alloc(size_t n)
{
    return malloc(n ? n : 1);
}

static void h_free(void *p)
{
    free(p);
}

static void h_cleanse(void *p, size_t n)
{
    if (p != NULL)
        OPENSSL_cleanse(p, n);
}

ESP_PRINTF(3, 4)
static void h_log(const esp_instance *self, int level, const char *fmt, ...)
{
    if (level < ESP_LOG_ERROR)
        level = ESP_LOG_ERROR;
    if (level > ESP_LOG_DEBUG)
        level = ESP_LOG_DEBUG;
    if (!esg_log_enabled(level) || fmt == NULL)
        return;
    esg_log_kv kv[2];
    size_t n = 0;
    if (self != NULL) {
        kv[n++] = ESG_KV_STR("plugin", self->cap->plugin->desc->name);
        kv[n++] = ESG_KV_STR("instance", self->name);
    }
    va_list ap;
    va_start(ap, fmt);
    esg_vlogf(level, "plugin.log", kv, n, fmt, ap);
    va_end(ap);
}

static int v_type(const esp_value *v)
{
    const json_t *j = (const json_t *)v;
    if (j == NULL)
        return ESP_VALUE_NULL;
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return ESP_VALUE_MAP;
    case JSON_ARRAY:
        return ESP_VALUE_LIST;
    case JSON_STRING:
        return ESP_VALUE_STRING;
    case JSON_INTEGER:
        return ESP_VALUE_INT;
    case JSON_REAL:
        return ESP_VALUE_REAL;
    case JSON_TRUE:
    case JSON_FALSE:
        return ESP_VALUE_BOOL;
    default:
        return ESP_VALUE_NULL;
    }
}

static const esp_value *v_get(const esp_value *map, const char *key)
{
    const json_t *j = (const json_t *)map;
    if (j == NULL || key == NULL || !json_is_object(j))
        return NULL;
    return (const esp_value *)json_object_get(j, key);
}

static size_t v_count(const esp_value *v)
{
    const json_t *j = (const json_t *)v;
    if (json_is_array(j))
        return json_array_size(j);
    if (json_is_object(j))
        return json_object_size(j);
    return 0;
}

static const esp_value *v_at(const esp_value *v, size_t i, esp_str *key)
{
    const json_t *j = (const json_t *)v;
    if (json_is_array(j)) {
        if (key != NULL)
            *key = ESP_STR_NULL;
        return (const esp_value *)json_array_get(j, i);
    }
    if (!json_is_object(j))
        return NULL;
    /* jansson keeps insertion order, which is document order for parsed input. */
    size_t k = 0;
    const char *name;
    size_t name_len;
    json_t *item;
    json_t *obj; /* jansson's iteration macro wants a non-const object; it does not modify it. */
    memcpy(&obj, &j, sizeof(obj));
    json_object_keylen_foreach(obj, name, name_len, item)
    {
        if (k++ == i) {
            if (key != NULL) {
                key->ptr = name;
                key->len = name_len;
            }
            return (const esp_value *)item;
        }
    }
    return NULL;
}

static esp_str v_str(const esp_value *v)
{
    const json_t *j = (const json_t *)v;
    esp_str s = ESP_STR_NULL;
    if (json_is_string(j)) {
        s.ptr = json_string_value(j);
        s.len = json_string_length(j);
    }
    return s;
}

static int64_t v_int(const esp_value *v, int64_t dflt)
{
    const json_t *j = (const json_t *)v;
    return json_is_integer(j) ? (int64_t)json_integer_value(j) : dflt;
}

static int v_bool(const esp_value *v, int dflt)
{
    const json_t *j = (const json_t *)v;
    return json_is_boolean(j) ? json_is_true(j) : dflt;
}

static esp_status v_json(const esp_value *v, esp_str *out)
{
    const json_t *j = (const json_t *)v;
    char *s = json_dumps(j ? j : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
    if (s == NULL)
        return ESP_ENOMEM;
    out->ptr = s;
    out->len = strlen(s);
    return 0;
}

ESP_PRINTF(4, 5)
static esp_status h_call_fail(esp_call *call, esp_status status, const char *error_code,
                              const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    esp_status rc = esg_call_vfail(call, status, error_code, fmt, ap);
    va_end(ap);
    return rc;
}

/* Adapts a core call completion to a plugin's esp_done_cb. */
typedef struct relay {
    esp_done_cb cb;
    void *ud;
} relay;

static void relay_done(void *ud, int status, const char *error_code, const void *result)
{
    (void)error_code;
    relay *r = ud;
    r->cb(r->ud, status, result);
    free(r);
}

static relay *relay_new(esp_done_cb cb, void *ud)
{
    relay *r = malloc(sizeof(*r));
    if (r != NULL) {
        r->cb = cb;
        r->ud = ud;
    }
    return r;
}

/* Starts a call for a plugin; frees the relay when the call does not start. */
static esp_status relay_call(struct esp_instance *target, int op, const void *req, esp_done_cb cb,
                             void *ud)
{
    if (cb == NULL)
        return ESP_EINVAL;
    relay *r = relay_new(cb, ud);
    if (r == NULL)
        return ESP_ENOMEM;
    int rc = esg_call(target, op, req, relay_done, r);
    if (rc != 0)
        free(r);
    return rc;
}

static struct esp_instance *key_store_named(esp_str name)
{
    if (name.len == 0)
        return esg_keys_default_store();
    char buf[65];
    if (name.len >= sizeof(buf))
        return NULL;
    memcpy(buf, name.ptr, name.len);
    buf[name.len] = '\0';
    return esg_instance_find(ESP_KIND_KEY_STORE, buf);
}

static esp_status h_key_sign(esp_instance *self, esp_str keystore, const esp_sign_request *req,
                             esp_done_cb cb, void *ud)
{
    (void)self;
    struct esp_instance *ks = key_store_named(keystore);
    if (ks == NULL)
        return ESP_ENOTFOUND;
    return relay_call(ks, ESG_OP_SIGN, req, cb, ud);
}

static esp_status h_key_list(esp_instance *self, esp_str keystore, esp_done_cb cb, void *ud)
{
    (void)self;
    struct esp_instance *ks = key_store_named(keystore);
    if (ks == NULL)
        return ESP_ENOTFOUND;
    return relay_call(ks, ESG_OP_KEYS, NULL, cb, ud);
}

/*
 * Prefixes a plugin's namespace with its instance name, "<instance>:<ns>", so that plugins cannot
 * see each other's entries. Plugins name their namespaces [a-z0-9_.-]{1,64}; the prefixed form
 * fits the 160 bytes storage plugins accept.
 */
static int scoped_ns(const esp_instance *self, esp_str ns, char *buf, size_t size, esp_str *out)
{
    if (self == NULL || ns.len == 0 || ns.len > 64)
        return ESP_EINVAL;
    for (size_t i = 0; i < ns.len; i++) {
        char ch = ns.ptr[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
              ch == '-'))
            return ESP_EINVAL;
    }
    int n = snprintf(buf, size, "%s:%.*s", self->name, (int)ns.len, ns.ptr);
    if (n < 0 || (size_t)n >= size)
        return ESP_ETOOBIG;
    out->ptr = buf;
    out->len = (size_t)n;
    return 0;
}

static esp_status h_kv(esp_instance *self, int op, const esp_kv_request *req, esp_done_cb cb,
                       void *ud)
{
    if (req == NULL || req->size < sizeof(esp_kv_request))
        return ESP_EINVAL;
    char buf[ESP_NS_MAX + 1];
    esp_kv_request scoped = *req;
    scoped.size = sizeof(scoped);
    int rc = scoped_ns(self, req->ns, buf, sizeof(buf), &scoped.ns);
    if (rc != 0)
        return rc;
    if (esg_store_inflight() == NULL)
        return ESP_EUNAVAIL;
    if (op < ESP_KV_PUT || op > ESP_KV_INCR)
        return ESP_EINVAL;
    return relay_call(esg_store_inflight(), ESG_OP_KV_PUT + op, &scoped, cb, ud);
}

static esp_status h_rec(esp_instance *self, int op, const esp_rec_request *req, esp_done_cb cb,
                        void *ud)
{
    if (req == NULL || req->size < sizeof(esp_rec_request))
        return ESP_EINVAL;
    char buf[ESP_NS_MAX + 1];
    esp_rec_request scoped = *req;
    scoped.size = sizeof(scoped);
    int rc = scoped_ns(self, req->collection, buf, sizeof(buf), &scoped.collection);
    if (rc != 0)
        return rc;
    if (esg_store_persistent() == NULL)
        return ESP_EUNAVAIL;
    if (op < ESP_REC_PUT || op > ESP_REC_DEL)
        return ESP_EINVAL;
    return relay_call(esg_store_persistent(), ESG_OP_REC_PUT + op, &scoped, cb, ud);
}

/*
 * Plugin timers. The host keeps every pending timer in a list, so that a loop that stops can
 * close the timers plugins left on it (their callbacks then never run) instead of waiting for
 * them or leaving handles open.
 */
struct esp_timer {
    uv_timer_t handle;
    esp_timer_cb cb;
    void *ud;
    esg_loop *loop;
    struct esp_timer *prev, *next;
};

static pthread_mutex_t timers_mu = PTHREAD_MUTEX_INITIALIZER;
static struct esp_timer *timers;

static void timer_unlink(struct esp_timer *t)
{
    pthread_mutex_lock(&timers_mu);
    if (t->prev != NULL)
        t->prev->next = t->next;
    else
        timers = t->next;
    if (t->next != NULL)
        t->next->prev = t->prev;
    t->prev = t->next = NULL;
    pthread_mutex_unlock(&timers_mu);
}

static void timer_closed(uv_handle_t *h)
{
    free(h->data);
}

static void timer_fired(uv_timer_t *h)
{
    struct esp_timer *t = h->data;
    esp_timer_cb cb = t->cb;
    void *ud = t->ud;
    timer_unlink(t);
    uv_close((uv_handle_t *)&t->handle, timer_closed);
    cb(ud);
}

static esp_status h_timer_start(esp_instance *self, int64_t ms, esp_timer_cb cb, void *ud,
                                esp_timer **out)
{
    (void)self;
    esg_loop *loop = esg_loop_current();
    if (loop == NULL || cb == NULL || ms < 0)
        return ESP_EINVAL;
    struct esp_timer *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return ESP_ENOMEM;
    t->cb = cb;
    t->ud = ud;
    t->loop = loop;
    uv_timer_init(&loop->uv, &t->handle);
    t->handle.data = t;
    uv_timer_start(&t->handle, timer_fired, (uint64_t)ms, 0);
    pthread_mutex_lock(&timers_mu);
    t->next = timers;
    if (timers != NULL)
        timers->prev = t;
    timers = t;
    pthread_mutex_unlock(&timers_mu);
    if (out != NULL)
        *out = t;
    return 0;
}

static void h_timer_stop(esp_timer *t)
{
    if (t == NULL || uv_is_closing((uv_handle_t *)&t->handle))
        return;
    timer_unlink(t);
    uv_timer_stop(&t->handle);
    uv_close((uv_handle_t *)&t->handle, timer_closed);
}

void esg_host_close_timers(esg_loop *loop)
{
    for (;;) {
        pthread_mutex_lock(&timers_mu);
        struct esp_timer *t = timers;
        while (t != NULL && t->loop != loop)
            t = t->next;
        pthread_mutex_unlock(&timers_mu);
        if (t == NULL)
            break;
        h_timer_stop(t);
    }
}

typedef struct blocking_job {
    esg_work work;
    esp_work_fn fn;
    esp_timer_cb done;
    void *ud;
} blocking_job;

static void job_work(esg_work *w)
{
    blocking_job *j = (blocking_job *)w;
    j->fn(j->ud);
}

static void job_done(esg_work *w)
{
    blocking_job *j = (blocking_job *)w;
    if (j->done != NULL)
        j->done(j->ud);
    free(j);
}

static esp_status h_submit_blocking(esp_instance *self, esp_work_fn work, esp_timer_cb done,
                                    void *ud)
{
    (void)self;
    if (work == NULL)
        return ESP_EINVAL;
    blocking_job *j = calloc(1, sizeof(*j));
    if (j == NULL)
        return ESP_ENOMEM;
    j->work.work = job_work;
    j->work.done = job_done;
    j->fn = work;
    j->done = done;
    j->ud = ud;
    int rc = esg_workers_submit(&j->work);
    if (rc != 0)
        free(j);
    return rc;
}

/* Whether a notifier instance lists `channel` among the channels it serves. */
static int serves_channel(struct esp_instance *inst, esp_str channel)
{
    const esp_otp_notifier_v1 *vt = inst->cap->vtable;
    const char *const *list = vt->channels(inst->inst);
    for (size_t i = 0; list != NULL && list[i] != NULL && i < 64; i++) {
        if (strlen(list[i]) == channel.len && memcmp(list[i], channel.ptr, channel.len) == 0)
            return 1;
    }
    return 0;
}

static esp_status h_notify(esp_instance *self, const esp_notify_request *req, esp_done_cb cb,
                           void *ud)
{
    (void)self;
    if (req == NULL || req->size < sizeof(esp_notify_request))
        return ESP_EINVAL;
    for (struct esp_instance *i = esg_instances_first(); i != NULL; i = i->next) {
        if (i->kind == ESP_KIND_OTP_NOTIFIER && serves_channel(i, req->channel))
            return relay_call(i, ESG_OP_NOTIFY, req, cb, ud);
    }
    return ESP_ENO_CHANNEL;
}

static int64_t h_now_ms(void)
{
    return esg_now_ms();
}

static int64_t h_wall_ms(void)
{
    return esg_wall_ms();
}

static esp_status h_random(void *buf, size_t n)
{
    return esg_random(buf, n);
}

static const esp_host host = {
    .size = sizeof(esp_host),
    .abi_major = ESP_ABI_MAJOR,
    .abi_minor = ESP_ABI_MINOR,
    .alloc = h_alloc,
    .free = h_free,
    .cleanse = h_cleanse,
    .log = h_log,
    .strerror = esg_strerror,
    .err_name = esg_err_name,
    .value_type = v_type,
    .value_get = v_get,
    .value_count = v_count,
    .value_at = v_at,
    .value_str = v_str,
    .value_int = v_int,
    .value_bool = v_bool,
    .value_json = v_json,
    .call_done = esg_call_done,
    .call_fail = h_call_fail,
    .call_remaining_ms = esg_call_remaining_ms,
    .call_cancelled = esg_call_cancelled,
    .now_ms = h_now_ms,
    .wall_ms = h_wall_ms,
    .random = h_random,
    .key_sign = h_key_sign,
    .key_list = h_key_list,
    .kv = h_kv,
    .rec = h_rec,
    .timer_start = h_timer_start,
    .timer_stop = h_timer_stop,
    .submit_blocking = h_submit_blocking,
    .notify = h_notify,
};

const esp_host *esg_host_get(void)
{
    return &host;
}
