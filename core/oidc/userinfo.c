/*
 * The userinfo endpoint (OpenID Connect Core §5.3; eSignet path /oidc/userinfo): the claims the
 * user accepted, fetched from the identity system at token time, as a signed JWT
 * (application/jwt) or, for clients that registered an encryption key and ask for it, a signed
 * then encrypted nested JWT (RSA-OAEP-256 + A256GCM). Access tokens come in the Authorization
 * header or, for POST, the form body (RFC 6750 §2.1, §2.2), never both; a missing, bad, expired
 * or revoked token gets 401 with WWW-Authenticate (RFC 6750 §3). A DPoP-bound token (RFC 9449
 * §7) comes as `Authorization: DPoP <token>` with a proof of its key over this request, and is
 * refused as a bearer token.
 */
#include "oidc/userinfo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <esignet/plugin.h>

#include "http/form.h"
#include "http/response.h"
#include "jose/jwa.h"
#include "jose/jwe.h"
#include "jose/jws.h"
#include "jose/jwt.h"
#include "keys/keys.h"
#include "oauth/clients.h"
#include "oauth/dpop_request.h"
#include "oauth/errors.h"
#include "oauth/token.h"
#include "oidc/settings.h"
#include "store/kv_json.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/status.h"
#include "util/str.h"

#define MAX_TOKEN 8192

typedef struct ui {
    esg_http_req *req;
    int dpop; /* the token came with the DPoP scheme */
    char *token;
    json_t *claims; /* of the access token */
    json_t *entry;  /* the token's entry in the store */
    esg_client *client;
} ui;

static void ui_free(ui *u)
{
    free(u->token);
    json_decref(u->claims);
    json_decref(u->entry);
    esg_client_unref(u->client);
    free(u);
}

/*
 * RFC 6750 §3 (RFC 9449 §7.1 for `dpop`): `error` NULL for a request without any token (then no
 * error code is sent).
 */
static void challenge(esg_http_req *req, int dpop, const char *error, const char *description)
{
    char header[320];
    const char *scheme = dpop ? "DPoP" : "Bearer";
    char algs[64] = "";
    if (dpop)
        snprintf(algs, sizeof(algs), ", algs=\"%s\"", esg_oidc_client_algs_text());
    if (error == NULL) /* no token: both schemes are on offer (RFC 9449 §7.1) */
        snprintf(header, sizeof(header), "Bearer, DPoP algs=\"%s\"", esg_oidc_client_algs_text());
    else
        snprintf(header, sizeof(header), "%s error=\"%s\", error_description=\"%s\"%s", scheme,
                 error, description, algs);
    esg_http_resp_header(req, "WWW-Authenticate", header);
    if (error == NULL)
        esg_http_respond_empty(req, 401);
    else
        esg_http_respond_error(req, 401, error, description);
}

static void unauthorized(esg_http_req *req, const char *error, const char *description)
{
    challenge(req, 0, error, description);
}

static void fail(ui *u, const char *error, const char *description)
{
    challenge(u->req, u->dpop, error, description);
    ui_free(u);
}

/* A compact JWE has five parts (RFC 7516 §7.1), a JWS three. */
static int is_compact_jwe(const char *jwt, size_t len)
{
    size_t dots = 0;
    for (size_t i = 0; i < len; i++)
        dots += jwt[i] == '.';
    return dots == 4;
}

static void on_signed(void *ud, int status, const char *jwt, size_t len)
{
    ui *u = ud;
    if (status != 0) {
        esg_logf(ESP_LOG_ERROR, "oidc.userinfo_sign", "%s", esg_strerror(status));
        esg_http_respond_error(u->req, 500, "server_error", NULL);
        ui_free(u);
        return;
    }
    int jwe = u->client->userinfo_type_set ? u->client->userinfo_type == ESG_USERINFO_JWE
                                           : esg_oidc()->userinfo_jwe_default;
    esg_buf out = ESG_BUF_INIT;
    /* A signed_kyc the identity system already encrypted is passed on as it is (plugin.h). */
    if (!jwe || is_compact_jwe(jwt, len)) {
        esg_buf_append(&out, jwt, len);
    } else {
        if (u->client->enc_key == NULL) {
            esg_logf(ESP_LOG_ERROR, "oidc.userinfo_encrypt",
                     "client %s wants encrypted userinfo but has no encryption key", u->client->id);
            esg_http_respond_error(u->req, 500, "server_error", NULL);
            ui_free(u);
            return;
        }
        /* Nested JWT (OpenID Connect Core §5.3.2): signed, then encrypted, cty "JWT". */
        json_t *extra = json_pack("{s:s}", "cty", "JWT");
        if (extra != NULL && u->client->enc_kid != NULL)
            json_object_set_new(extra, "kid", json_string(u->client->enc_kid));
        int rc = extra ? esg_jwe_encrypt(u->client->enc_key, ESG_JWE_RSA_OAEP_256, ESG_JWE_A256GCM,
                                         extra, jwt, len, &out)
                       : ESP_ENOMEM;
        json_decref(extra);
        if (rc != 0) {
            esg_buf_free(&out);
            esg_http_respond_error(u->req, 500, "server_error", NULL);
            ui_free(u);
            return;
        }
    }
    esg_http_respond_buf(u->req, 200, "application/jwt", &out);
    ui_free(u);
}

static void on_client(void *ud, int status, esg_client *client)
{
    ui *u = ud;
    if (status != 0) {
        if (client)
            esg_client_unref(client);
        fail(u, "invalid_token", "the client of this token is no longer active");
        return;
    }
    u->client = client;
    const esg_oidc_settings *S = esg_oidc();
    const char *signed_kyc = json_string_value(json_object_get(u->entry, "signed_kyc"));
    if (signed_kyc != NULL) {
        /* The identity system signed (or encrypted) the claims itself: passed on unchanged. */
        on_signed(u, 0, signed_kyc, strlen(signed_kyc));
        return;
    }
    json_t *claims = json_deep_copy(json_object_get(u->entry, "claims"));
    if (!json_is_object(claims)) {
        json_decref(claims);
        claims = json_object();
    }
    /* A signed userinfo response carries iss and aud (OpenID Connect Core §5.3.2). */
    json_object_set_new(claims, "sub",
                        json_string(json_string_value(json_object_get(u->entry, "sub"))));
    json_object_set_new(claims, "iss", json_string(S->issuer));
    json_object_set_new(claims, "aud", json_string(client->id));
    json_object_set_new(claims, "iat", json_integer(esg_wall_s()));
    const char *alg = esg_oidc_response_alg(client->public_key_alg);
    int rc = esg_keys_sign_jwt(alg, "JWT", claims, on_signed, u);
    json_decref(claims);
    if (rc != 0)
        on_signed(u, rc, NULL, 0);
}

static void on_dpop(void *ud, int status, int present, const esg_dpop_result *res)
{
    ui *u = ud;
    if (status == ESP_EINVAL) {
        fail(u, esg_dpop_error_code(res->error), res->reason);
        return;
    }
    if (status != 0) {
        esg_oauth_respond_failure(u->req, "userinfo", status);
        ui_free(u);
        return;
    }
    if (!present) {
        fail(u, "invalid_dpop_proof", "a DPoP proof is required");
        return;
    }
    const char *client_id = json_string_value(json_object_get(u->entry, "client_id"));
    if (esg_clients_get(client_id, on_client, u) != 0)
        fail(u, "invalid_token", "the access token is not valid");
}

static void on_entry(void *ud, int status, json_t *doc)
{
    ui *u = ud;
    if (status == ESP_ENOTFOUND) {
        json_decref(doc);
        fail(u, "invalid_token", "the access token is revoked or expired");
        return;
    }
    if (status != 0) {
        json_decref(doc);
        esg_logf(ESP_LOG_WARN, "oidc.userinfo_store", "%s", esg_strerror(status));
        esg_http_respond_error(u->req, 503, "temporarily_unavailable", NULL);
        ui_free(u);
        return;
    }
    u->entry = doc;
    const char *client_id = json_string_value(json_object_get(doc, "client_id"));
    const char *token_client = json_string_value(json_object_get(u->claims, "client_id"));
    if (client_id == NULL || token_client == NULL || strcmp(client_id, token_client) != 0) {
        fail(u, "invalid_token", "the access token is not valid");
        return;
    }
    /* RFC 9449 §7.1, §7.2: a bound token only with the DPoP scheme and a proof of its key; an
     * unbound one only as a bearer token. */
    const char *jkt = json_string_value(json_object_get(doc, "jkt"));
    if (jkt != NULL && !u->dpop) {
        u->dpop = 1; /* the challenge names the scheme the token needs */
        fail(u, "invalid_token", "the access token is bound to a DPoP key");
        return;
    }
    if (jkt == NULL && esg_oidc()->fapi2) {
        /* FAPI 2.0 §5.3.2.1: sender-constrained tokens only (one issued before the switch, or
         * by an instance without it, is refused). */
        u->dpop = 1;
        fail(u, "invalid_token", "the access token is not bound to a DPoP key");
        return;
    }
    if (jkt == NULL && u->dpop) {
        fail(u, "invalid_token", "the access token is not bound to a DPoP key");
        return;
    }
    if (jkt != NULL) {
        if (esg_dpop_request_check(u->req, esg_oidc()->userinfo_endpoint, u->token, jkt, on_dpop,
                                   u) != 0) {
            esg_oauth_respond_failure(u->req, "userinfo", ESP_ENOMEM);
            ui_free(u);
        }
        return;
    }
    int rc = esg_clients_get(client_id, on_client, u);
    if (rc != 0)
        fail(u, "invalid_token", "the access token is not valid");
}

/*
 * Finds the access token: the Authorization header (Bearer or DPoP; *dpop says which) or the
 * form body, exactly one of them.
 */
static int find_token(esg_http_req *req, char **out, const char **error, int *dpop)
{
    esp_str auth;
    int have_header = 0;
    *out = NULL;
    *error = NULL;
    *dpop = esg_http_req_auth(req, "DPoP", &auth) == 0;
    int rc = *dpop ? 0 : esg_http_req_auth(req, "Bearer", &auth);
    if (rc == ESP_EINVAL) {
        /* Several headers, another scheme or credentials that are not a token68. */
        *error = "invalid_request";
        return ESP_EINVAL;
    }
    if (rc == 0) {
        if (auth.len > MAX_TOKEN) {
            *error = "invalid_token";
            return ESP_EINVAL;
        }
        *out = esg_strndup(auth.ptr, auth.len);
        have_header = 1;
    }
    if (esg_http_req_method(req) == ESG_HTTP_POST && esg_http_req_body(req).len > 0) {
        esg_form form = ESG_FORM_INIT;
        char why[128];
        if (esg_http_req_form(req, ESG_FORM_PLUS_SPACE, NULL, &form, why, sizeof(why)) != 0) {
            free(*out);
            *out = NULL;
            *error = "invalid_request";
            return ESP_EINVAL;
        }
        const char *t = esg_form_value(&form, "access_token");
        if (t != NULL) {
            /* RFC 6750 §2: one method per request. */
            if (have_header || strlen(t) > MAX_TOKEN) {
                free(*out);
                *out = NULL;
                esg_form_free(&form);
                *error = "invalid_request";
                return ESP_EINVAL;
            }
            *out = strdup(t);
        }
        esg_form_free(&form);
    }
    return *out != NULL ? 0 : ESP_ENOTFOUND;
}

void esg_oidc_userinfo(esg_http_req *req, void *data)
{
    (void)data;
    const esg_oidc_settings *S = esg_oidc();
    char *token = NULL;
    const char *error = NULL;
    int dpop = 0;
    int rc = find_token(req, &token, &error, &dpop);
    if (rc == ESP_ENOTFOUND) {
        unauthorized(req, NULL, NULL);
        return;
    }
    if (rc != 0) {
        if (error != NULL && strcmp(error, "invalid_request") == 0) {
            esg_http_resp_header(req, "WWW-Authenticate", "Bearer error=\"invalid_request\"");
            esg_http_respond_error(req, 400, "invalid_request",
                                   "send the access token once, in one place");
        } else {
            unauthorized(req, "invalid_token", "the access token is malformed");
        }
        return;
    }
    ui *u = calloc(1, sizeof(*u));
    if (u == NULL) {
        free(token);
        esg_http_respond_error(req, 500, "server_error", NULL);
        return;
    }
    u->req = req;
    u->dpop = dpop;
    u->token = token;
    esg_jws jws = ESG_JWS_INIT;
    const char *why = NULL;
    uint32_t algs = ESG_JWS_ALG_BIT(ESG_JWS_RS256) | ESG_JWS_ALG_BIT(ESG_JWS_PS256) |
                    ESG_JWS_ALG_BIT(ESG_JWS_ES256);
    esg_jwt_error jerr = ESG_JWT_OK;
    rc = esg_keys_verify(token, strlen(token), algs, &jws, &why);
    if (rc == 0)
        rc = esg_jwt_check_typ(jws.header, "at+jwt", &jerr);
    if (rc == 0)
        rc = esg_jwt_claims_parse(jws.payload, jws.payload_len, &u->claims, &jerr);
    esg_jws_clear(&jws);
    if (rc == 0) {
        static const char *const required[] = {"sub", "client_id", "exp", "jti", NULL};
        esg_jwt_rules rules = {0,         S->lifetimes.clock_skew / 1000,
                               0,         0,
                               S->issuer, NULL,
                               required,  ESG_JWT_REQUIRE_EXP};
        const char *claim = NULL;
        rc = esg_jwt_claims_check(u->claims, &rules, &jerr, &claim);
    }
    if (rc != 0) {
        fail(u, "invalid_token",
             jerr == ESG_JWT_ERR_EXPIRED ? "the access token expired"
                                         : "the access token is not valid");
        return;
    }
    char key[44];
    esg_oauth_token_key(token, strlen(token), key);
    rc = esg_kv_json_get("at", key, on_entry, u);
    if (rc != 0) {
        esg_http_respond_error(req, 503, "temporarily_unavailable", NULL);
        ui_free(u);
    }
}
