#include "oidc/session.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <esignet/plugin.h>

#include "http/response.h"
#include "oidc/settings.h"
#include "store/kv_json.h"
#include "util/b64.h"
#include "util/clock.h"

/* The store key of a cookie value: its SHA-256, so the store never holds usable cookies. */
static int key_of(const char *cookie, size_t len, char out[44])
{
    unsigned char md[32];
    unsigned int n = 0;
    if (!EVP_Digest(cookie, len, md, &n, EVP_sha256(), NULL))
        return ESP_EINTERNAL;
    esg_b64url_encode_to(md, sizeof(md), out);
    out[43] = '\0';
    return 0;
}

typedef struct create {
    esg_session_created_cb cb;
    void *ud;
    char cookie[48];
} create;

static void on_stored(void *ud, int status, json_t *doc)
{
    create *c = ud;
    json_decref(doc);
    c->cb(c->ud, status, status == 0 ? c->cookie : NULL);
    free(c);
}

int esg_session_create(const esg_txn *t, esg_session_created_cb cb, void *ud)
{
    const esg_oidc_settings *S = esg_oidc();
    if (S->lifetimes.session <= 0)
        return ESP_ENOTSUP;
    create *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return ESP_ENOMEM;
    c->cb = cb;
    c->ud = ud;
    char key[44];
    int rc = esg_random_token(c->cookie, sizeof(c->cookie), 32);
    if (rc == 0)
        rc = key_of(c->cookie, strlen(c->cookie), key);
    json_t *doc =
        rc == 0 ? json_pack("{s:s,s:I,s:O,s:O}", "individual_id", t->individual_id, "auth_time",
                            (json_int_t)t->auth_time, "amr", t->amr, "acr", t->acr_satisfied)
                : NULL;
    if (rc == 0 && doc == NULL)
        rc = ESP_ENOMEM;
    if (rc == 0)
        rc = esg_kv_json_put("session", key, doc, S->lifetimes.session, ESP_KV_SET, on_stored, c);
    json_decref(doc);
    if (rc != 0)
        free(c);
    return rc;
}

typedef struct load {
    void (*cb)(void *ud, int status, json_t *session);
    void *ud;
} load;

static void on_loaded(void *ud, int status, json_t *doc)
{
    load *l = ud;
    l->cb(l->ud, status, doc);
    free(l);
}

int esg_session_load(esg_http_req *req, void (*cb)(void *ud, int status, json_t *session), void *ud)
{
    esp_str value;
    char key[44];
    /* A missing cookie, or one present twice (cookie tossing), is no session: looking it up
     * anyway keeps the answer asynchronous and the same for both. */
    int have = esg_http_req_cookie(req, ESG_SESSION_COOKIE, &value) == 0 && value.len == 43;
    if (key_of(have ? value.ptr : "-", have ? value.len : 1, key) != 0)
        return ESP_EINTERNAL;
    load *l = malloc(sizeof(*l));
    if (l == NULL)
        return ESP_ENOMEM;
    l->cb = cb;
    l->ud = ud;
    int rc = esg_kv_json_get("session", key, on_loaded, l);
    if (rc != 0)
        free(l);
    return rc;
}

int esg_session_set_cookie(esg_http_req *req, const char *cookie)
{
    const esg_oidc_settings *S = esg_oidc();
    char header[256];
    snprintf(header, sizeof(header), "%s=%s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Lax%s",
             ESG_SESSION_COOKIE, cookie, (long long)(S->lifetimes.session / 1000),
             S->secure_cookies ? "; Secure" : "");
    return esg_http_resp_header(req, "Set-Cookie", header);
}
