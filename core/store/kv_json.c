#include "store/kv_json.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include <esignet/plugin.h>

#include "store/store.h"

typedef struct op {
    esg_kv_json_cb cb;
    void *ud;
    int incr;
} op;

static void done(void *ud, int status, const char *code, const void *result)
{
    (void)code;
    op *o = ud;
    json_t *doc = NULL;
    if (status == 0 && result != NULL) {
        const esp_kv_result *r = result;
        if (o->incr) {
            doc = json_integer(r->count);
        } else if (r->value.len > 0) {
            json_error_t jerr;
            doc = json_loadb(r->value.ptr, r->value.len, 0, &jerr);
            if (doc == NULL)
                status = ESP_EINVAL;
        }
    }
    esg_kv_json_cb cb = o->cb;
    void *cud = o->ud;
    free(o);
    cb(cud, status, doc);
}

static int run(int kv_op, const char *ns, const char *key, const char *value, int64_t ttl_ms,
               int mode, int64_t delta, esg_kv_json_cb cb, void *ud)
{
    op *o = malloc(sizeof(*o));
    if (o == NULL)
        return ESP_ENOMEM;
    o->cb = cb;
    o->ud = ud;
    o->incr = kv_op == ESP_KV_INCR;
    esp_kv_request req = {sizeof(req),
                          {ns, strlen(ns)},
                          {key, strlen(key)},
                          {value, value ? strlen(value) : 0},
                          ttl_ms,
                          (uint32_t)mode,
                          delta};
    int rc = esg_kv(kv_op, &req, done, o);
    if (rc != 0)
        free(o);
    return rc;
}

int esg_kv_json_put(const char *ns, const char *key, const json_t *doc, int64_t ttl_ms, int mode,
                    esg_kv_json_cb cb, void *ud)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    if (text == NULL)
        return ESP_ENOMEM;
    int rc = run(ESP_KV_PUT, ns, key, text, ttl_ms, mode, 0, cb, ud);
    /* The call layer copied the value; the text may go. It may hold personal data: wipe it. */
    OPENSSL_cleanse(text, strlen(text));
    free(text);
    return rc;
}

int esg_kv_json_get(const char *ns, const char *key, esg_kv_json_cb cb, void *ud)
{
    return run(ESP_KV_GET, ns, key, NULL, 0, 0, 0, cb, ud);
}

int esg_kv_json_take(const char *ns, const char *key, esg_kv_json_cb cb, void *ud)
{
    return run(ESP_KV_TAKE, ns, key, NULL, 0, 0, 0, cb, ud);
}

int esg_kv_json_del(const char *ns, const char *key, esg_kv_json_cb cb, void *ud)
{
    return run(ESP_KV_DEL, ns, key, NULL, 0, 0, 0, cb, ud);
}

int esg_kv_json_incr(const char *ns, const char *key, int64_t delta, int64_t ttl_ms,
                     esg_kv_json_cb cb, void *ud)
{
    return run(ESP_KV_INCR, ns, key, NULL, ttl_ms, 0, delta, cb, ud);
}
