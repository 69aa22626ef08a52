#include "keys/keys.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/registry.h"
#include "jose/jwa.h"
#include "jose/jwk.h"
#include "jose/jws.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/status.h"

static struct esp_instance *default_store;

/* Active kid per algorithm of the default key store, from the last key listing. */
#define MAX_ACTIVE 16
static pthread_mutex_t active_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char alg[16];
    char kid[128];
} active[MAX_ACTIVE];
static size_t n_active;

static void (*on_new_keys)(void);

/* The public keys of the last successful refresh, shared by every loop for verification. */
typedef struct pubset {
    _Atomic long refs;
    esg_jwk_set *set;
} pubset;
static pthread_mutex_t pub_mu = PTHREAD_MUTEX_INITIALIZER;
static pubset *published;

static void pubset_unref(pubset *p)
{
    if (p != NULL && atomic_fetch_sub(&p->refs, 1) == 1) {
        esg_jwk_set_free(p->set);
        free(p);
    }
}

static void publish_set(esg_jwk_set *set)
{
    pubset *p = set ? malloc(sizeof(*p)) : NULL;
    if (p != NULL) {
        atomic_init(&p->refs, 1);
        p->set = set;
    } else {
        esg_jwk_set_free(set);
    }
    pthread_mutex_lock(&pub_mu);
    pubset *old = published;
    published = p;
    pthread_mutex_unlock(&pub_mu);
    pubset_unref(old);
}

int esg_keys_verify(const char *token, size_t len, uint32_t algs, esg_jws *out, const char **reason)
{
    pthread_mutex_lock(&pub_mu);
    pubset *p = published;
    if (p != NULL)
        atomic_fetch_add(&p->refs, 1);
    pthread_mutex_unlock(&pub_mu);
    if (p == NULL) {
        *reason = "no keys";
        return ESP_EUNAVAIL;
    }
    esg_jws_opts opts = {algs, NULL, 0, 0, 0};
    int rc = esg_jws_parse(token, len, &opts, out, reason);
    const esg_jwk *key = NULL;
    if (rc == 0) {
        rc =
            esg_jwk_set_find(p->set, out->kid, esg_jws_alg_name(out->alg), ESG_JWK_OP_VERIFY, &key);
        if (rc != 0) {
            *reason = "unknown signing key";
            rc = ESP_EINVAL;
        }
    }
    if (rc == 0)
        rc = esg_jws_verify_parsed(out, esg_jwk_pkey(key), &opts, reason);
    if (rc != 0)
        esg_jws_clear(out);
    pubset_unref(p);
    return rc;
}

/*
 * Remembers the default store's active keys from a key listing. A listing made for signing (not
 * for the JWKS) that shows a kid the last listing did not have means the keys were rotated
 * elsewhere: the JWKS is then rebuilt at once, so the new key is published as it starts signing.
 */
static void note_active(const esp_keys_result *res, int for_jwks)
{
    int changed = 0;
    pthread_mutex_lock(&active_mu);
    for (size_t i = 0; i < res->n_keys && !for_jwks; i++) {
        const esp_key_info *k = res->keys[i];
        if (k->state != ESP_KEY_ACTIVE)
            continue;
        int known = 0;
        for (size_t a = 0; a < n_active; a++)
            known |= strlen(active[a].kid) == k->kid.len &&
                     memcmp(active[a].kid, k->kid.ptr, k->kid.len) == 0;
        changed |= !known && n_active > 0;
    }
    n_active = 0;
    for (size_t i = 0; i < res->n_keys && n_active < MAX_ACTIVE; i++) {
        const esp_key_info *k = res->keys[i];
        if (k->state != ESP_KEY_ACTIVE || k->alg.len >= sizeof(active[0].alg) ||
            k->kid.len >= sizeof(active[0].kid))
            continue;
        snprintf(active[n_active].alg, sizeof(active[0].alg), "%.*s", (int)k->alg.len, k->alg.ptr);
        snprintf(active[n_active].kid, sizeof(active[0].kid), "%.*s", (int)k->kid.len, k->kid.ptr);
        n_active++;
    }
    pthread_mutex_unlock(&active_mu);
    if (changed && on_new_keys != NULL)
        on_new_keys();
}

void esg_keys_on_rotation(void (*fn)(void))
{
    on_new_keys = fn;
}

static int active_kid(const char *alg, char kid[128])
{
    int rc = ESP_ENOTFOUND;
    pthread_mutex_lock(&active_mu);
    for (size_t i = 0; i < n_active; i++) {
        if (strcmp(active[i].alg, alg) == 0) {
            memcpy(kid, active[i].kid, sizeof(active[i].kid));
            rc = 0;
            break;
        }
    }
    pthread_mutex_unlock(&active_mu);
    return rc;
}

int esg_keys_has_alg(const char *alg)
{
    char kid[128];
    return active_kid(alg, kid) == 0;
}

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
    esg_keys_jwks_cb done;
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
    if (status == 0) {
        add_keys(r, inst, result);
        if (inst == default_store)
            note_active(result, 1);
    } else {
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
    char *text = NULL;
    if (r->status == 0) {
        json_t *doc = json_pack("{s:O}", "keys", r->keys);
        text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
        if (text == NULL)
            r->status = ESP_ENOMEM;
        json_decref(doc);
    }
    if (r->status == 0) {
        esg_jwk_set *set = NULL;
        const char *why = NULL;
        if (esg_jwk_set_parse_json(text, strlen(text), 0, 64, &set, &why) == 0)
            publish_set(set);
        else
            esg_logf(ESP_LOG_ERROR, "keys.verify_set", "own JWKS does not parse: %s",
                     why ? why : "?");
    }
    r->done(r->ud, r->status, r->status == 0 ? text : NULL, text ? strlen(text) : 0);
    free(text);
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

int esg_keys_refresh(esg_keys_jwks_cb done, void *ud)
{
    if (done == NULL)
        return ESP_EINVAL;
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

/* One JWT being signed: the signing input, then the signature appended. */
typedef struct jwt_job {
    char alg[16];
    char typ[32];
    char kid[128];
    esg_buf header_json;
    esg_buf payload_json;
    esg_buf jws; /* "header.payload", then ".signature" */
    int retried;
    esg_keys_jwt_cb cb;
    void *ud;
} jwt_job;

static void jwt_free(jwt_job *j)
{
    esg_buf_free(&j->header_json);
    esg_buf_free(&j->payload_json);
    esg_buf_free(&j->jws);
    free(j);
}

static void jwt_fail(jwt_job *j, int status)
{
    j->cb(j->ud, status, NULL, 0);
    jwt_free(j);
}

static int jwt_sign_step(jwt_job *j);
static void on_jwt_keys_again(void *ud, int status, const char *code, const void *result);

static void on_jwt_signed(void *ud, int status, const char *code, const void *result)
{
    (void)code;
    jwt_job *j = ud;
    if (status == ESP_ENOTFOUND && !j->retried) {
        /* The cached kid is no longer active: read the key list again and retry once. */
        j->retried = 1;
        int rc = esg_call(default_store, ESG_OP_KEYS, NULL, on_jwt_keys_again, j);
        if (rc != 0)
            jwt_fail(j, rc);
        return;
    }
    if (status != 0) {
        jwt_fail(j, status);
        return;
    }
    const esp_sign_result *r = result;
    if (esg_jws_compact_append(&j->jws, r->signature.ptr, r->signature.len) != 0) {
        jwt_fail(j, ESP_ENOMEM);
        return;
    }
    j->cb(j->ud, 0, j->jws.data, j->jws.len);
    jwt_free(j);
}

static void on_jwt_keys_again(void *ud, int status, const char *code, const void *result)
{
    (void)code;
    jwt_job *j = ud;
    if (status != 0) {
        jwt_fail(j, status);
        return;
    }
    note_active(result, 0);
    int rc = jwt_sign_step(j);
    if (rc != 0)
        jwt_fail(j, rc);
}

/* Builds the signing input with the current active kid and asks the key store to sign it. */
static int jwt_sign_step(jwt_job *j)
{
    if (active_kid(j->alg, j->kid) != 0)
        return ESP_EKEY;
    json_t *header = j->typ[0]
                         ? json_pack("{s:s,s:s,s:s}", "alg", j->alg, "kid", j->kid, "typ", j->typ)
                         : json_pack("{s:s,s:s}", "alg", j->alg, "kid", j->kid);
    if (header == NULL)
        return ESP_ENOMEM;
    esg_buf_reset(&j->jws);
    int rc = esg_jws_signing_input(header, j->payload_json.data, j->payload_json.len, &j->jws);
    json_decref(header);
    if (rc != 0)
        return rc;
    esp_sign_request req = {
        sizeof(req), {j->kid, strlen(j->kid)}, {j->alg, strlen(j->alg)}, {j->jws.data, j->jws.len}};
    return esg_call(default_store, ESG_OP_SIGN, &req, on_jwt_signed, j);
}

int esg_keys_sign_jwt(const char *alg, const char *typ, const json_t *claims, esg_keys_jwt_cb cb,
                      void *ud)
{
    if (alg == NULL || strlen(alg) >= 16 || (typ && strlen(typ) >= 32) || !json_is_object(claims) ||
        cb == NULL)
        return ESP_EINVAL;
    if (default_store == NULL)
        return ESP_EUNAVAIL;
    jwt_job *j = calloc(1, sizeof(*j));
    if (j == NULL)
        return ESP_ENOMEM;
    snprintf(j->alg, sizeof(j->alg), "%s", alg);
    snprintf(j->typ, sizeof(j->typ), "%s", typ ? typ : "");
    j->cb = cb;
    j->ud = ud;
    char *payload = json_dumps(claims, JSON_COMPACT);
    int rc = payload ? esg_buf_puts(&j->payload_json, payload) : ESP_ENOMEM;
    free(payload);
    if (rc == 0) {
        if (active_kid(alg, j->kid) != 0) {
            /* No listing yet (a tool, or the first token): read the keys first. */
            j->retried = 1;
            rc = esg_call(default_store, ESG_OP_KEYS, NULL, on_jwt_keys_again, j);
        } else {
            rc = jwt_sign_step(j);
        }
    }
    if (rc != 0)
        jwt_free(j);
    return rc;
}

void esg_keys_reset(void)
{
    publish_set(NULL);
    default_store = NULL;
    on_new_keys = NULL;
    pthread_mutex_lock(&active_mu);
    n_active = 0;
    pthread_mutex_unlock(&active_mu);
}
