#include "oauth/client_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <esignet/plugin.h>

#include "jose/jws.h"
#include "jose/jwt.h"
#include "oidc/settings.h"
#include "store/kv_json.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/status.h"

#define ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#define MAX_ASSERTION  8192
#define MAX_JTI        256
#define MAX_CLIENT_ID  256

typedef struct auth {
    esg_client_auth_cb cb;
    void *ud;
    const char *const *audiences;
    esg_jws assertion;
    json_t *claims; /* of the assertion */
    esg_client *client;
    int64_t now;
} auth;

static void auth_free(auth *a)
{
    esg_jws_clear(&a->assertion);
    json_decref(a->claims);
    esg_client_unref(a->client);
    free(a);
}

/* Every authentication failure looks the same to the client; the log says what it was. */
static void refuse(auth *a, const char *what, const char *detail)
{
    esg_logf(ESP_LOG_INFO, "oauth.client_auth_failed", "%s%s%s", what, detail ? ": " : "",
             detail ? detail : "");
    a->cb(a->ud, 0, NULL, "invalid_client", "client authentication failed");
    auth_free(a);
}

static void on_jti(void *ud, int status, json_t *doc)
{
    auth *a = ud;
    json_decref(doc);
    if (status == ESP_EEXIST) {
        esg_logf(ESP_LOG_INFO, "oauth.client_auth_failed", "assertion jti replayed");
        a->cb(a->ud, 0, NULL, "invalid_client", "the client assertion was already used");
        auth_free(a);
        return;
    }
    if (status != 0) {
        a->cb(a->ud, status, NULL, NULL, NULL);
        auth_free(a);
        return;
    }
    esg_client *client = a->client;
    a->client = NULL;
    a->cb(a->ud, 0, client, NULL, NULL);
    auth_free(a);
}

static int alg_fits_client(const auth *a)
{
    const char *alg = esg_jws_alg_name(a->assertion.alg);
    return a->client->public_key_alg == NULL || strcmp(a->client->public_key_alg, alg) == 0;
}

static void on_client(void *ud, int status, esg_client *client)
{
    auth *a = ud;
    const esg_oidc_settings *S = esg_oidc();
    if (status != 0) {
        if (client)
            esg_client_unref(client);
        if (status == ESP_ENOTFOUND) {
            refuse(a, "unknown or inactive client", NULL);
        } else {
            a->cb(a->ud, status, NULL, NULL, NULL);
            auth_free(a);
        }
        return;
    }
    a->client = client;
    esg_jws_opts opts = {esg_oidc_client_algs(), NULL, 0, MAX_ASSERTION, 0};
    const char *why = NULL;
    if (!alg_fits_client(a) ||
        esg_jws_verify_parsed(&a->assertion, client->public_key, &opts, &why) != 0) {
        refuse(a, "assertion signature", why ? why : "algorithm not registered");
        return;
    }
    static const char *const required[] = {"iss", "sub", "aud", "exp", "jti", NULL};
    esg_jwt_rules rules = {0,
                           S->lifetimes.clock_skew / 1000,
                           S->lifetimes.client_assertion / 1000,
                           0,
                           client->id,
                           a->audiences[0],
                           required,
                           ESG_JWT_REQUIRE_EXP | ESG_JWT_REQUIRE_JTI | ESG_JWT_REQUIRE_SUB};
    esg_jwt_error jerr = ESG_JWT_ERR_AUDIENCE;
    const char *claim = NULL;
    int rc = ESP_EINVAL;
    /* The audiences in order: a mismatch of aud tries the next; any other failure is final.
     * FAPI 2.0 (§5.3.2.1) accepts only the issuer, as a string, against audience injection. */
    const char *issuer_only[] = {S->issuer, NULL};
    const char *const *audiences = S->fapi2 ? issuer_only : a->audiences;
    for (size_t i = 0; audiences[i] != NULL && jerr == ESG_JWT_ERR_AUDIENCE; i++) {
        rules.aud = audiences[i];
        rc = esg_jwt_claims_check(a->claims, &rules, &jerr, &claim);
        if (rc == 0)
            break;
    }
    if (rc == 0 && S->fapi2 && !json_is_string(json_object_get(a->claims, "aud"))) {
        rc = ESP_EINVAL;
        claim = "aud (profile fapi2: the issuer as a string)";
    }
    const char *sub = json_string_value(json_object_get(a->claims, "sub"));
    const char *jti = json_string_value(json_object_get(a->claims, "jti"));
    if (rc == 0 && (sub == NULL || strcmp(sub, client->id) != 0))
        rc = ESP_EINVAL;
    if (rc == 0 && (jti == NULL || jti[0] == '\0' || strlen(jti) > MAX_JTI))
        rc = ESP_EINVAL;
    if (rc != 0) {
        refuse(a, "assertion claims", claim ? claim : esg_jwt_error_str(jerr));
        return;
    }
    /* The jti is remembered until the assertion expires (plus the leeway). exp may be a real
     * number (RFC 7519 NumericDate); esg_jwt_claims_check() accepted it, so it is finite. An
     * impossible result falls back to the longest lifetime an assertion may have. */
    double exp_real = json_number_value(json_object_get(a->claims, "exp"));
    int64_t exp = (int64_t)exp_real;
    int64_t ttl = (exp - a->now) * 1000 + S->lifetimes.clock_skew;
    if (ttl <= 0 || ttl > S->lifetimes.client_assertion + S->lifetimes.clock_skew)
        ttl = S->lifetimes.client_assertion + S->lifetimes.clock_skew;
    char key[MAX_JTI + MAX_CLIENT_ID + 2];
    snprintf(key, sizeof(key), "%s|%s", client->id, jti);
    json_t *m = json_pack("{s:I}", "exp", (json_int_t)exp);
    rc = m ? esg_kv_json_put("jti", key, m, ttl, ESP_KV_NX, on_jti, a) : ESP_ENOMEM;
    json_decref(m);
    if (rc != 0) {
        a->cb(a->ud, rc, NULL, NULL, NULL);
        auth_free(a);
    }
}

int esg_client_auth(const esg_form *form, const char *const *audiences, esg_client_auth_cb cb,
                    void *ud)
{
    auth *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return ESP_ENOMEM;
    a->cb = cb;
    a->ud = ud;
    a->audiences = audiences;
    a->now = esg_wall_s();
    const char *type = esg_form_value(form, "client_assertion_type");
    const char *assertion = esg_form_value(form, "client_assertion");
    if (type == NULL || strcmp(type, ASSERTION_TYPE) != 0 || assertion == NULL) {
        a->cb(a->ud, 0, NULL, "invalid_client",
              "private_key_jwt client authentication is required");
        auth_free(a);
        return 0;
    }
    esg_jws_opts opts = {esg_oidc_client_algs(), NULL, 0, MAX_ASSERTION, 0};
    const char *reason = NULL;
    esg_jwt_error jerr;
    if (esg_jws_parse(assertion, strlen(assertion), &opts, &a->assertion, &reason) != 0 ||
        esg_jwt_claims_parse(a->assertion.payload, a->assertion.payload_len, &a->claims, &jerr) !=
            0) {
        refuse(a, "assertion", reason ? reason : "claims malformed");
        return 0;
    }
    const char *client_id = json_string_value(json_object_get(a->claims, "iss"));
    const char *form_id = esg_form_value(form, "client_id");
    if (client_id == NULL || strlen(client_id) > MAX_CLIENT_ID ||
        (form_id != NULL && strcmp(form_id, client_id) != 0)) {
        refuse(a, "assertion issuer", "missing, too long or not the client_id parameter");
        return 0;
    }
    int rc = esg_clients_get(client_id, on_client, a);
    if (rc != 0)
        refuse(a, "client lookup", esg_strerror(rc));
    return 0;
}
