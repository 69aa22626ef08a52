#include "keys/keys.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/registry.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/status.h"

static struct esp_instance *default_store;
static esg_blob_slot jwks_slot;

int esg_keys_configure(const char *name, esg_buf *err)
{
    if (name != NULL && name[0] != '\0') {
        default_store = esg_instance_find(ESP_KIND_KEY_STORE, name);
        if (default_store == NULL) {
            esg_buf_printf(err, "keys.default_store: no key store named \"%s\"", name);
            return ESP_ECONFIG;
        }
        return 0;
    }
    default_store = esg_instance_first(ESP_KIND_KEY_STORE);
    return 0;
}

struct esp_instance *esg_keys_default_store(void)
{
    return default_store;
}

int esg_keys_sign(const char *alg, const void *data, size_t len, esg_call_cb cb, void *ud)
{
    if (default_store == NULL)
        return ESP_EUNAVAIL;
    esp_sign_request req = {sizeof(req), ESP_STR_NULL, {alg, strlen(alg)}, {data, len}};
    return esg_call(default_store, ESG_OP_SIGN, &req, cb, ud);
}

/* One refresh in progress: it visits the key stores one after the other. */
typedef struct refresh {
    struct esp_instance *next; /* next instance to look at */
    json_t *keys;
    int status;
    void (*done)(void *ud, int status);
    void *ud;
} refresh;

static void step(refresh *r);

static void add_keys(refresh *r, const struct esp_instance *inst, const esp_keys_result *res)
{
    int64_t now = esg_wall_s();
    for (size_t i = 0; i < res->n_keys; i++) {
        const esp_key_info *k = res->keys[i];
        if (k->expires_at != 0 && k->expires_at <= now)
            continue;
        json_error_t jerr;
        json_t *jwk = json_loadb(k->public_jwk_json.ptr, k->public_jwk_json.len,
                                 JSON_REJECT_DUPLICATES, &jerr);
        /* Private members must never reach the JWKS, whatever a key store returns. */
        static const char *private_members[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};
        int bad = !json_is_object(jwk);
        for (size_t m = 0; !bad && m < sizeof(private_members) / sizeof(*private_members); m++)
            bad = json_object_get(jwk, private_members[m]) != NULL;
        if (bad) {
            esg_log_kv kv[] = {ESG_KV_STR("instance", inst->name),
                               ESG_KV_STRN("kid", k->kid.ptr, k->kid.len)};
            esg_log_event(ESP_LOG_ERROR, "keys.bad_public_jwk", kv, 2);
            json_decref(jwk);
            continue;
        }
        json_object_set_new(jwk, "kid", json_stringn(k->kid.ptr, k->kid.len));
        json_object_set_new(jwk, "alg", json_stringn(k->alg.ptr, k->alg.len));
        json_object_set_new(jwk, "use", json_stringn(k->use.ptr, k->use.len));
        json_array_append_new(r->keys, jwk);
    }
}

static void on_keys(void *ud, int status, const char *error_code, const void *result)
{
    (void)error_code;
    refresh *r = ud;
    struct esp_instance *inst = r->next;
    if (status == 0)
        add_keys(r, inst, result);
    else {
        esg_log_kv kv[] = {ESG_KV_STR("instance", inst->name),
                           ESG_KV_STR("status", esg_err_name(status))};
        esg_log_event(ESP_LOG_ERROR, "keys.list_failed", kv, 2);
        if (r->status == 0)
            r->status = status;
    }
    r->next = inst->next;
    step(r);
}

static void finish(refresh *r)
{
    /* A failing key store keeps the previous document rather than dropping its keys. */
    if (r->status == 0) {
        json_t *doc = json_pack("{s:O}", "keys", r->keys);
        char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
        esg_blob *b = text ? esg_blob_new(text, strlen(text)) : NULL;
        if (b != NULL)
            esg_blob_slot_set(&jwks_slot, b);
        else
            r->status = ESP_ENOMEM;
        free(text);
        json_decref(doc);
    }
    if (r->done != NULL)
        r->done(r->ud, r->status);
    json_decref(r->keys);
    free(r);
}

static void step(refresh *r)
{
    while (r->next != NULL && r->next->kind != ESP_KIND_KEY_STORE)
        r->next = r->next->next;
    if (r->next == NULL) {
        finish(r);
        return;
    }
    int rc = esg_call(r->next, ESG_OP_KEYS, NULL, on_keys, r);
    if (rc != 0) {
        r->status = rc;
        r->next = r->next->next;
        step(r);
    }
}

int esg_keys_refresh(void (*done)(void *ud, int status), void *ud)
{
    refresh *r = calloc(1, sizeof(*r));
    if (r == NULL || (r->keys = json_array()) == NULL) {
        free(r);
        return ESP_ENOMEM;
    }
    r->done = done;
    r->ud = ud;
    r->next = esg_instances_first();
    step(r);
    return 0;
}

esg_blob *esg_keys_jwks(void)
{
    return esg_blob_slot_get(&jwks_slot);
}

void esg_keys_reset(void)
{
    esg_blob_slot_set(&jwks_slot, NULL);
    default_store = NULL;
}
