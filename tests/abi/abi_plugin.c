/*
 * A key store plugin for the ABI tests, compiled in several variants (VARIANT_*), most of them
 * deliberately broken. The good variant's sign() misbehaves on request, chosen by the request's
 * kid, so that the tests can drive every completion path through the real host.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <esignet/plugin.h>

typedef struct inst {
    const esp_host *host;
    esp_instance *self;
    long job_ms;      /* background variant: how long the job a key listing starts runs */
    _Atomic int busy; /* background variant: that job is running */
} inst;

static esp_status create(const esp_host *host, esp_instance *self, void *state,
                         const esp_value *config, void **out)
{
    (void)state;
    inst *i = calloc(1, sizeof(*i));
    if (i == NULL)
        return ESP_ENOMEM;
    i->host = host;
    i->self = self;
    /* The background variant reads its job's duration in milliseconds from `label`. */
    esp_str label = host->value_str(host->value_get(config, "label"));
    char text[32] = "";
    if (label.ptr != NULL && label.len < sizeof(text))
        memcpy(text, label.ptr, label.len);
    i->job_ms = strtol(text, NULL, 10);
    *out = i;
    return 0;
}

static void destroy(void *p)
{
    free(p);
}

#if defined(VARIANT_BACKGROUND)
/* Like keystore-file's scheduled key update: work a key listing starts in passing, on the worker
 * pool, that may outlive the call (and a command line tool's answer). */
static void background_work(void *ud)
{
    inst *i = ud;
    struct timespec ts = {i->job_ms / 1000, (i->job_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void background_done(void *ud)
{
    inst *i = ud;
    i->host->log(i->self, ESP_LOG_INFO, "background job done");
    atomic_store(&i->busy, 0);
}
#endif

static esp_status keys(void *p, esp_call *call)
{
    inst *i = p;
#if defined(VARIANT_BACKGROUND)
    if (!atomic_exchange(&i->busy, 1) &&
        i->host->submit_blocking(i->self, background_work, background_done, i) != 0)
        atomic_store(&i->busy, 0);
    /* A kid sign() answers. */
    esp_str kid = ESP_STR_LIT("sync");
#else
    esp_str kid = ESP_STR_LIT("k1");
#endif
    esp_key_info k = {sizeof(k),
                      kid,
                      ESP_STR_LIT("ES256"),
                      ESP_STR_LIT("sig"),
                      ESP_STR_LIT("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\"}"),
                      0,
                      0,
                      ESP_KEY_ACTIVE};
    const esp_key_info *list[] = {&k};
    esp_keys_result res = {sizeof(res), list, 1};
    i->host->call_done(call, &res);
    return 0;
}

struct later {
    const esp_host *host;
    esp_call *call;
    int delay_ms;
};

static void *complete_later(void *arg)
{
    struct later *l = arg;
    struct timespec ts = {l->delay_ms / 1000, (long)(l->delay_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    const esp_host *host = l->host;
    esp_call *call = l->call;
    free(l);
    esp_sign_result res = {sizeof(res), ESP_STR_LIT("k1"), ESP_STR_LIT("signature")};
    host->call_done(call, &res);
    return NULL;
}

/* Invocations of "slow" (blocking variant), reported by "count". */
static _Atomic int slow_calls;

static int kid_is(const esp_sign_request *req, const char *s)
{
    return req->kid.len == strlen(s) && memcmp(req->kid.ptr, s, req->kid.len) == 0;
}

__attribute__((unused)) static esp_status sign(void *p, const esp_sign_request *req, esp_call *call)
{
    inst *i = p;
    const esp_host *h = i->host;
    esp_sign_result res = {sizeof(res), ESP_STR_LIT("k1"), ESP_STR_LIT("signature")};
    if (kid_is(req, "sync")) {
        h->call_done(call, &res);
    } else if (kid_is(req, "slow")) {
        /* The blocking variant runs on a worker thread, where blocking is allowed. */
        atomic_fetch_add(&slow_calls, 1);
        struct timespec ts = {0, 200L * 1000000L};
        nanosleep(&ts, NULL);
        h->call_done(call, &res);
    } else if (kid_is(req, "count")) {
        char n[16];
        snprintf(n, sizeof(n), "%d", atomic_load(&slow_calls));
        esp_sign_result cnt = {sizeof(cnt), ESP_STR_LIT("k1"), {n, strlen(n)}};
        h->call_done(call, &cnt);
    } else if (kid_is(req, "double")) {
        h->call_done(call, &res);
        /* A second completion must be refused, not delivered. */
        if (h->call_done(call, &res) != ESP_EALREADY)
            abort();
    } else if (kid_is(req, "fail")) {
        h->call_fail(call, ESP_EKEY, "hsm_offline", "key %s unavailable", "k1");
    } else if (kid_is(req, "return_error")) {
        return ESP_EUNAVAIL;
    } else if (kid_is(req, "bad_result")) {
        esp_sign_result bad = {sizeof(bad), ESP_STR_LIT("k1"), ESP_STR_NULL};
        h->call_done(call, &bad);
    } else if (kid_is(req, "thread") || kid_is(req, "late")) {
        struct later *l = malloc(sizeof(*l));
        if (l == NULL)
            return ESP_ENOMEM;
        l->host = h;
        l->call = call;
        l->delay_ms = kid_is(req, "late") ? 300 : 5;
        pthread_t t;
        if (pthread_create(&t, NULL, complete_later, l) != 0) {
            free(l);
            return ESP_EINTERNAL;
        }
        pthread_detach(t);
    } else {
        h->call_fail(call, ESP_ENOTFOUND, NULL, "no key");
    }
    return 0;
}

static const esp_option options[] = {
    {sizeof(esp_option), "label", ESP_OPT_STRING, 0, "x", "A label.", 0, 0, NULL, 0, NULL},
    {sizeof(esp_option), NULL, 0, 0, NULL, NULL, 0, 0, NULL, 0, NULL},
};

static const esp_key_store_v1 vtable = {
#if defined(VARIANT_SMALL_VTABLE)
    .size = offsetof(esp_key_store_v1, sign),
#else
    .size = sizeof(esp_key_store_v1),
#endif
    .create = create,
    .destroy = destroy,
    .keys = keys,
#if defined(VARIANT_MISSING_FN)
    .sign = NULL,
#else
    .sign = sign,
#endif
};

static const esp_capability cap = {
    .size = sizeof(esp_capability),
    .kind = ESP_KIND_KEY_STORE,
    .kind_version = 1,
#if defined(VARIANT_BLOCKING)
    .flags = ESP_CAP_BLOCKING,
#else
    .flags = 0,
#endif
#if defined(VARIANT_BAD_TYPE)
    .type = "Bad Type",
#else
    .type = "test",
#endif
    .description = "Test key store.",
    .options = options,
    .vtable = &vtable,
};

#if defined(VARIANT_UNKNOWN_KIND)
static const esp_capability future = {
    .size = sizeof(esp_capability),
    .kind = 99,
    .kind_version = 1,
    .type = "future",
    .vtable = &vtable,
};
#endif

#if defined(VARIANT_STORAGE_HALF)
static esp_status kv_any(void *p, const esp_kv_request *req, esp_call *call)
{
    (void)p;
    (void)req;
    (void)call;
    return ESP_ENOTSUP;
}
static const esp_storage_v1 half = {
    .size = sizeof(esp_storage_v1),
    .create = create,
    .destroy = destroy,
    .kv_put = kv_any,
    .kv_get = kv_any,
};
static const esp_capability storage = {
    .size = sizeof(esp_capability),
    .kind = ESP_KIND_STORAGE,
    .kind_version = 1,
    .type = "half",
    .vtable = &half,
};
#endif

static const esp_capability *const caps[] = {
#if defined(VARIANT_UNKNOWN_KIND)
    &future,
#endif
#if defined(VARIANT_STORAGE_HALF)
    &storage,
#endif
    &cap, NULL};

static const esp_plugin_desc desc = {
#if defined(VARIANT_WRONG_SIZE)
    .size = 8,
#else
    .size = sizeof(esp_plugin_desc),
#endif
#if defined(VARIANT_WRONG_MAJOR)
    .abi_major = ESP_ABI_MAJOR + 1,
#else
    .abi_major = ESP_ABI_MAJOR,
#endif
#if defined(VARIANT_NEWER_MINOR)
    .abi_minor = ESP_ABI_MINOR + 1,
#elif defined(VARIANT_OLDER_MINOR)
    .abi_minor = ESP_ABI_MINOR - 1, /* a plugin built before the last minor release */
#else
    .abi_minor = ESP_ABI_MINOR,
#endif
    .name = "abi-test",
    .version = "1",
    .description = "ABI test plugin",
    .capabilities = caps,
};

#if defined(VARIANT_NO_SYMBOL)
ESP_EXPORT const esp_plugin_desc *some_other_name(void);
ESP_EXPORT const esp_plugin_desc *some_other_name(void)
#else
ESP_EXPORT const esp_plugin_desc *esp_plugin_describe(void);
ESP_EXPORT const esp_plugin_desc *esp_plugin_describe(void)
#endif
{
    return &desc;
}
