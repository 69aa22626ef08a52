#include "oauth/dpop_request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <esignet/plugin.h>

#include "http/response.h"
#include "oidc/settings.h"
#include "store/kv_json.h"
#include "util/clock.h"
#include "util/log.h"

typedef struct check {
    esg_dpop_request_cb cb;
    void *ud;
    esg_http_req *req;
    esg_dpop_result res;
    char nonce[48]; /* a nonce being issued */
    int refuse;     /* the proof lacked a valid nonce: the new one goes with a refusal */
} check;

static void finish(check *c, int status)
{
    /* A store answering EINVAL (a malformed entry) is not a refused proof. */
    if (status == ESP_EINVAL && c->res.error == ESG_DPOP_ERR_NONE)
        status = ESP_EINTERNAL;
    c->cb(c->ud, status, 1, &c->res);
    free(c);
}

static void on_jti(void *ud, int status, json_t *doc)
{
    check *c = ud;
    json_decref(doc);
    if (status == ESP_EEXIST) {
        c->res.error = ESG_DPOP_ERR_INVALID_PROOF;
        c->res.reason = "the DPoP proof was already used";
        finish(c, ESP_EINVAL);
        return;
    }
    finish(c, status);
}

/* Consumes the proof's jti: the last step of an accepted proof. */
static void store_jti(check *c)
{
    const esg_oidc_settings *S = esg_oidc();
    int64_t skew = S->lifetimes.clock_skew / 1000;
    int64_t max_age = S->lifetimes.dpop_proof / 1000;
    /* A proof stays acceptable from iat - skew to iat + max_age + skew: remember its jti that
     * long (and a little more for the store's own clock). */
    char key[ESG_JWK_THUMBPRINT_LEN + ESG_DPOP_MAX_JTI + 2];
    snprintf(key, sizeof(key), "%s|%s", c->res.jkt, c->res.jti);
    json_t *m = json_pack("{s:I}", "iat", (json_int_t)c->res.iat);
    int rc = m ? esg_kv_json_put("dpop-jti", key, m, (max_age + 2 * skew + 1) * 1000, ESP_KV_NX,
                                 on_jti, c)
               : ESP_ENOMEM;
    json_decref(m);
    if (rc != 0)
        finish(c, rc);
}

static void on_nonce_issued(void *ud, int status, json_t *doc)
{
    check *c = ud;
    json_decref(doc);
    if (status != 0 && !c->refuse) {
        store_jti(c); /* a renewal that failed: the proof is still good */
        return;
    }
    if (status != 0) {
        finish(c, status);
        return;
    }
    esg_http_resp_header(c->req, "DPoP-Nonce", c->nonce);
    if (!c->refuse) {
        store_jti(c);
        return;
    }
    c->res.error = ESG_DPOP_ERR_USE_NONCE;
    finish(c, ESP_EINVAL);
}

/*
 * Issues a fresh nonce (RFC 9449 §8) for the response's DPoP-Nonce header: with a refusal when
 * the proof lacked a valid one (`why` says so), or with an accepted proof whose nonce has used up
 * half its life (`why` NULL), so that clients renew before theirs expires (§8.2).
 */
static void issue_nonce(check *c, const char *why)
{
    c->refuse = why != NULL;
    if (why != NULL)
        c->res.reason = why;
    json_t *m = json_pack("{s:I}", "issued_ms", (json_int_t)esg_wall_ms());
    int rc = esg_random_token(c->nonce, sizeof(c->nonce), 32);
    if (rc == 0)
        rc = m ? esg_kv_json_put("dpop-nonce", c->nonce, m, esg_oidc()->lifetimes.dpop_proof,
                                 ESP_KV_NX, on_nonce_issued, c)
               : ESP_ENOMEM;
    json_decref(m);
    if (rc != 0)
        finish(c, rc);
}

static void on_nonce_found(void *ud, int status, json_t *doc)
{
    check *c = ud;
    int64_t issued = (int64_t)json_integer_value(json_object_get(doc, "issued_ms"));
    json_decref(doc);
    if (status == 0 && esg_wall_ms() - issued > esg_oidc()->lifetimes.dpop_proof / 2) {
        issue_nonce(c, NULL);
        return;
    }
    if (status == ESP_ENOTFOUND) {
        issue_nonce(c, "the DPoP nonce is unknown or expired");
        return;
    }
    if (status != 0) {
        finish(c, status);
        return;
    }
    store_jti(c);
}

int esg_dpop_request_check(esg_http_req *req, const char *htu, const char *access_token,
                           const char *jkt, esg_dpop_request_cb cb, void *ud)
{
    check *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return ESP_ENOMEM;
    c->cb = cb;
    c->ud = ud;
    c->req = req;
    esp_str proof;
    int rc = esg_http_req_header_unique(req, "DPoP", &proof);
    if (rc == ESP_ENOTFOUND) {
        cb(ud, 0, 0, &c->res);
        free(c);
        return 0;
    }
    if (rc != 0) {
        /* RFC 9449 §4.3 point 1: exactly one DPoP header. */
        c->res.error = ESG_DPOP_ERR_INVALID_PROOF;
        c->res.reason = "more than one DPoP header";
        cb(ud, ESP_EINVAL, 1, &c->res);
        free(c);
        return 0;
    }
    const esg_oidc_settings *S = esg_oidc();
    int64_t skew = S->lifetimes.clock_skew / 1000;
    int64_t max_age = S->lifetimes.dpop_proof / 1000;
    esg_dpop_request dr = {proof.ptr,
                           proof.len,
                           esg_http_method_name(esg_http_req_method(req)),
                           htu,
                           esg_oidc_client_algs(),
                           0,
                           max_age,
                           skew,
                           access_token,
                           access_token ? strlen(access_token) : 0,
                           NULL,
                           jkt};
    rc = esg_dpop_verify(&dr, &c->res);
    if (rc != 0) {
        if (c->res.error == ESG_DPOP_ERR_SERVER) {
            esg_logf(ESP_LOG_ERROR, "oauth.dpop_failed", "%s", c->res.reason);
            cb(ud, rc == ESP_EINVAL ? ESP_EINTERNAL : rc, 1, &c->res);
        } else {
            esg_logf(ESP_LOG_INFO, "oauth.dpop_refused", "%s", c->res.reason);
            cb(ud, ESP_EINVAL, 1, &c->res);
        }
        free(c);
        return 0;
    }
    if (!S->require_dpop_nonce) {
        store_jti(c);
        return 0;
    }
    if (c->res.nonce[0] == '\0') {
        issue_nonce(c, "a DPoP nonce from this server is required");
        return 0;
    }
    rc = esg_kv_json_get("dpop-nonce", c->res.nonce, on_nonce_found, c);
    if (rc != 0)
        finish(c, rc);
    return 0;
}
