#include "oidc/consent.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <esignet/plugin.h>

#include "store/store.h"
#include "util/b64.h"
#include "util/clock.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A sorted copy of a string array, duplicates removed. */
static json_t *sorted(const json_t *arr)
{
    size_t n = json_array_size(arr);
    const char **items = calloc(n + 1, sizeof(*items));
    json_t *out = json_array();
    if (items == NULL || out == NULL) {
        free(items);
        json_decref(out);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        items[i] = json_string_value(json_array_get(arr, i));
    qsort(items, n, sizeof(*items), cmp_str);
    for (size_t i = 0; i < n; i++) {
        if (items[i] != NULL && (i == 0 || items[i - 1] == NULL || strcmp(items[i], items[i - 1])))
            json_array_append_new(out, json_string(items[i]));
    }
    free(items);
    return out;
}

int esg_consent_hash(const esg_txn *t, char out[44])
{
    json_t *scopes = sorted(t->authorize_scopes);
    json_t *doc = scopes ? json_pack("{s:O,s:o}", "claims", t->claims ? t->claims : json_null(),
                                     "authorize_scopes", scopes)
                         : NULL;
    char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(doc);
    if (text == NULL)
        return ESP_ENOMEM;
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), NULL);
    free(text);
    esg_b64url_encode_to(md, sizeof(md), out);
    out[43] = '\0';
    return 0;
}

static int consent_key(const esg_txn *t, char *out, size_t size)
{
    int n = snprintf(out, size, "%s|%s", t->client_id, t->subject ? t->subject : "");
    return n > 0 && (size_t)n < size ? 0 : ESP_ETOOBIG;
}

typedef struct eval {
    esg_consent_cb cb;
    void *ud;
    char hash[44];
} eval;

static void on_record(void *ud, int status, const char *code, const void *result)
{
    (void)code;
    eval *e = ud;
    int capture = 1;
    json_t *doc = NULL;
    int64_t expires = 0;
    if (status == 0) {
        const esp_rec_result *r = result;
        const esp_record *rec = r->n_records ? r->records[0] : NULL;
        json_error_t jerr;
        doc = rec ? json_loadb(rec->doc_json.ptr, rec->doc_json.len, 0, &jerr) : NULL;
        const char *stored = json_string_value(json_object_get(doc, "hash"));
        expires = rec ? rec->expires_at : 0;
        if (stored != NULL && strcmp(stored, e->hash) == 0 &&
            (expires == 0 || expires > esg_wall_s()))
            capture = 0;
    } else if (status == ESP_ENOTFOUND) {
        status = 0;
    }
    e->cb(e->ud, status, capture, capture ? NULL : json_object_get(doc, "accepted_claims"),
          capture ? NULL : json_object_get(doc, "permitted_scopes"), capture ? 0 : expires);
    json_decref(doc);
    free(e);
}

int esg_consent_evaluate(const esg_txn *t, esg_consent_cb cb, void *ud)
{
    eval *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return ESP_ENOMEM;
    e->cb = cb;
    e->ud = ud;
    int rc = esg_consent_hash(t, e->hash);
    char key[1024];
    if (rc == 0)
        rc = consent_key(t, key, sizeof(key));
    if (rc != 0) {
        free(e);
        return rc;
    }
    esp_rec_request req = {sizeof(req),
                           ESP_STR_LIT("consents"),
                           {key, strlen(key)},
                           ESP_STR_NULL,
                           0,
                           NULL,
                           0,
                           ESP_STR_NULL,
                           ESP_STR_NULL,
                           0};
    rc = esg_rec(ESP_REC_GET, &req, on_record, e);
    if (rc != 0)
        free(e);
    return rc;
}

int esg_consent_decide(const esg_txn *t, esg_consent_cb cb, void *ud)
{
    if (json_object_size(t->claims) == 0 && json_array_size(t->authorize_scopes) == 0) {
        cb(ud, 0, 0, NULL, NULL, 0);
        return 0;
    }
    if (t->prompt & ESG_PROMPT_CONSENT) {
        cb(ud, 0, 1, NULL, NULL, 0);
        return 0;
    }
    return esg_consent_evaluate(t, cb, ud);
}

int esg_consent_reuse(esg_txn *t, const json_t *accepted, const json_t *permitted,
                      int64_t expires_at)
{
    json_t *a = accepted ? json_deep_copy(accepted) : json_array();
    json_t *p = permitted ? json_deep_copy(permitted) : json_array();
    if (a == NULL || p == NULL) {
        json_decref(a);
        json_decref(p);
        return ESP_ENOMEM;
    }
    json_decref(t->accepted_claims);
    json_decref(t->permitted_scopes);
    t->accepted_claims = a;
    t->permitted_scopes = p;
    t->consent_capture = 0;
    t->consent_expires_at = expires_at;
    return 0;
}

typedef struct save {
    void (*done)(void *ud, int status);
    void *ud;
} save;

static void on_saved(void *ud, int status, const char *code, const void *result)
{
    (void)code;
    (void)result;
    save *s = ud;
    s->done(s->ud, status);
    free(s);
}

int esg_consent_save(esg_txn *t, const esg_client *client, void (*done)(void *ud, int status),
                     void *ud)
{
    char hash[44], key[1024];
    int64_t now = esg_wall_s();
    int rc = esg_consent_hash(t, hash);
    if (rc == 0)
        rc = consent_key(t, key, sizeof(key));
    if (rc != 0)
        return rc;
    json_t *doc =
        json_pack("{s:s,s:s,s:s,s:O,s:O,s:O,s:O,s:I}", "client_id", t->client_id, "subject",
                  t->subject, "hash", hash, "claims", t->claims, "authorize_scopes",
                  t->authorize_scopes, "accepted_claims", t->accepted_claims, "permitted_scopes",
                  t->permitted_scopes, "given_at", (json_int_t)now);
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    save *s = text ? malloc(sizeof(*s)) : NULL;
    if (s == NULL) {
        free(text);
        return ESP_ENOMEM;
    }
    s->done = done;
    s->ud = ud;
    int64_t expires =
        client->consent_expire_mins > 0 ? now + (int64_t)client->consent_expire_mins * 60 : 0;
    t->consent_expires_at = expires;
    esp_rec_request req = {sizeof(req),
                           ESP_STR_LIT("consents"),
                           {key, strlen(key)},
                           {text, strlen(text)},
                           ESP_REC_UPSERT,
                           NULL,
                           0,
                           ESP_STR_NULL,
                           ESP_STR_NULL,
                           expires};
    rc = esg_rec(ESP_REC_PUT, &req, on_saved, s);
    free(text);
    if (rc != 0)
        free(s);
    return rc;
}
