#include "oauth/token.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <esignet/plugin.h>

#include "http/form.h"
#include "http/response.h"
#include "jose/jwa.h"
#include "keys/keys.h"
#include "oauth/client_auth.h"
#include "oauth/clients.h"
#include "oauth/code.h"
#include "oauth/dpop_request.h"
#include "oauth/errors.h"
#include "oidc/auth.h"
#include "oidc/settings.h"
#include "oidc/transaction.h"
#include "plugin/call.h"
#include "store/kv_json.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/status.h"
#include "util/str.h"

typedef struct tok {
    esg_http_req *req;
    esg_form form;
    const char *audiences[3]; /* of the client assertion */
    esg_client *client;
    char code_hash[44];
    esg_txn *txn;
    json_t *kyc_claims;
    char *signed_kyc;
    char *access_token;
    char at_key[44];
    char *id_token;
    char id_alg[16];
    json_t *scope;
    char dpop_jkt[ESG_JWK_THUMBPRINT_LEN + 1]; /* the DPoP key the tokens are bound to, or "" */
    int64_t now;
    int64_t id_life, at_life; /* seconds the ID and access tokens live */
} tok;

static void tok_free(tok *t)
{
    esg_form_free(&t->form);
    esg_client_unref(t->client);
    esg_txn_free(t->txn);
    json_decref(t->kyc_claims);
    free(t->signed_kyc);
    free(t->access_token);
    free(t->id_token);
    json_decref(t->scope);
    free(t);
}

void esg_oauth_token_key(const char *token, size_t len, char out[44])
{
    esg_code_hash(token, len, out);
}

static void fail(tok *t, int status, const char *error, const char *description)
{
    esg_oauth_respond_error(t->req, status, error, description);
    tok_free(t);
}

static void fail_status(tok *t, int status)
{
    esg_oauth_respond_failure(t->req, "token", status);
    tok_free(t);
}

static const char *param(tok *t, const char *name)
{
    return esg_form_value(&t->form, name);
}

/* ---------------------------------------------------------------------------------------------
 * The response.
 */

static void respond(tok *t)
{
    char *scope = NULL;
    esg_buf sb = ESG_BUF_INIT;
    size_t i;
    json_t *v;
    json_array_foreach(t->scope, i, v)
    {
        if (i)
            esg_buf_putc(&sb, ' ');
        esg_buf_puts(&sb, json_string_value(v));
    }
    scope = esg_buf_steal(&sb, NULL);
    json_t *body =
        json_pack("{s:s,s:s,s:I,s:s,s:s}", "access_token", t->access_token, "token_type",
                  t->dpop_jkt[0] ? "DPoP" : "Bearer", "expires_in", (json_int_t)t->at_life,
                  "id_token", t->id_token, "scope", scope ? scope : "");
    free(scope);
    esg_http_resp_header(t->req, "Pragma", "no-cache");
    esg_http_respond_json(t->req, 200, body);
    json_decref(body);
    tok_free(t);
}

/*
 * Reuse of a code (RFC 6749 §10.5, RFC 9700 §4.5) is detected and its tokens revoked without a
 * window in which a race can be lost. Every redemption first increments the counter
 * "code-uses"/<code hash>: exactly one gets 1 and may take the code; any later one is a reuse.
 * The first, once its access token is stored, writes the link "code-at"/<code hash> and then reads
 * the counter again; a reuse increments the counter and then reads the link. Each writes before
 * it reads what the other writes, so with a linearizable store at least one of them sees the
 * other: either the reuse finds the link and deletes the access token, or the first sees the
 * count above 1, deletes its own token and answers invalid_grant.
 */
static int64_t reuse_window_ms(void)
{
    const esg_oidc_settings *S = esg_oidc();
    return S->lifetimes.access_token > S->lifetimes.code ? S->lifetimes.access_token
                                                         : S->lifetimes.code;
}

static void on_revoked_own(void *ud, int status, json_t *doc)
{
    tok *t = ud;
    (void)status;
    json_decref(doc);
    esg_logf(ESP_LOG_WARN, "oauth.code_reused",
             "an authorization code was redeemed twice while its tokens were issued; they are "
             "revoked");
    fail(t, 400, "invalid_grant", "the authorization code was used more than once");
}

static void on_recount(void *ud, int status, json_t *doc)
{
    tok *t = ud;
    json_int_t uses = json_integer_value(doc);
    json_decref(doc);
    if (status != 0) {
        fail_status(t, status);
        return;
    }
    if (uses > 1) {
        int rc = esg_kv_json_del("at", t->at_key, on_revoked_own, t);
        if (rc != 0)
            on_revoked_own(t, rc, NULL);
        return;
    }
    respond(t);
}

static void on_link_stored(void *ud, int status, json_t *doc)
{
    tok *t = ud;
    json_decref(doc);
    if (status != 0) {
        fail_status(t, status);
        return;
    }
    int rc = esg_kv_json_incr("code-uses", t->code_hash, 0, reuse_window_ms(), on_recount, t);
    if (rc != 0)
        fail_status(t, rc);
}

static void on_at_stored(void *ud, int status, json_t *doc)
{
    tok *t = ud;
    json_decref(doc);
    if (status != 0) {
        fail_status(t, status);
        return;
    }
    json_t *link = json_pack("{s:s}", "at", t->at_key);
    int rc = link ? esg_kv_json_put("code-at", t->code_hash, link, reuse_window_ms(), ESP_KV_SET,
                                    on_link_stored, t)
                  : ESP_ENOMEM;
    json_decref(link);
    if (rc != 0)
        fail_status(t, rc);
}

/* Userinfo answers from this entry for as long as the access token lives. */
static void store_access(tok *t)
{
    json_t *entry = json_pack("{s:s,s:s,s:o,s:s,s:I,s:s?,s:s?}", "client_id", t->txn->client_id,
                              "sub", t->txn->subject, "claims",
                              t->kyc_claims ? json_incref(t->kyc_claims) : json_object(), "code",
                              t->code_hash, "exp", (json_int_t)(t->now + t->at_life), "signed_kyc",
                              t->signed_kyc, "jkt", t->dpop_jkt[0] ? t->dpop_jkt : NULL);
    int rc = entry ? esg_kv_json_put("at", t->at_key, entry, t->at_life * 1000, ESP_KV_SET,
                                     on_at_stored, t)
                   : ESP_ENOMEM;
    json_decref(entry);
    if (rc != 0)
        fail_status(t, rc);
}

static void on_id_signed(void *ud, int status, const char *jwt, size_t len)
{
    tok *t = ud;
    if (status != 0) {
        fail_status(t, status);
        return;
    }
    t->id_token = esg_strndup(jwt, len);
    if (t->id_token == NULL) {
        fail_status(t, ESP_ENOMEM);
        return;
    }
    store_access(t);
}

/* at_hash (OpenID Connect Core §3.1.3.6): left half of the token's hash, for the ID token's alg. */
static int at_hash(const char *alg, const char *token, char *out, size_t size)
{
    const EVP_MD *md = strstr(alg, "384")   ? EVP_sha384()
                       : strstr(alg, "512") ? EVP_sha512()
                                            : EVP_sha256();
    unsigned char d[64];
    unsigned int n = 0;
    if (!EVP_Digest(token, strlen(token), d, &n, md, NULL) || esg_b64url_encoded_len(n / 2) >= size)
        return ESP_EINTERNAL;
    esg_b64url_encode_to(d, n / 2, out);
    out[esg_b64url_encoded_len(n / 2)] = '\0';
    return 0;
}

static void sign_id_token(tok *t)
{
    const esg_oidc_settings *S = esg_oidc();
    esg_txn *x = t->txn;
    char ath[64];
    if (at_hash(t->id_alg, t->access_token, ath, sizeof(ath)) != 0) {
        fail_status(t, ESP_EINTERNAL);
        return;
    }
    const char *acr = json_string_value(json_array_get(x->acr_satisfied, 0));
    json_t *claims =
        json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:s,s:s}", "iss", S->issuer, "sub", x->subject, "aud",
                  x->client_id, "exp", (json_int_t)(t->now + t->id_life), "iat", (json_int_t)t->now,
                  "auth_time", (json_int_t)x->auth_time, "at_hash", ath, "azp", x->client_id);
    if (claims == NULL) {
        fail_status(t, ESP_ENOMEM);
        return;
    }
    if (x->nonce != NULL)
        json_object_set_new(claims, "nonce", json_string(x->nonce));
    if (acr != NULL)
        json_object_set_new(claims, "acr", json_string(acr));
    if (x->amr != NULL && json_array_size(x->amr) > 0)
        json_object_set(claims, "amr", x->amr);
    int rc = esg_keys_sign_jwt(t->id_alg, "JWT", claims, on_id_signed, t);
    json_decref(claims);
    if (rc != 0)
        fail_status(t, rc);
}

static void on_at_signed(void *ud, int status, const char *jwt, size_t len)
{
    tok *t = ud;
    if (status != 0) {
        fail_status(t, status);
        return;
    }
    t->access_token = esg_strndup(jwt, len);
    if (t->access_token == NULL) {
        fail_status(t, ESP_ENOMEM);
        return;
    }
    esg_oauth_token_key(t->access_token, len, t->at_key);
    sign_id_token(t);
}

/* The access token, a JWT per RFC 9068 for this server's userinfo. */
static void sign_access_token(tok *t)
{
    const esg_oidc_settings *S = esg_oidc();
    esg_txn *x = t->txn;
    char jti[48];
    if (esg_random_token(jti, sizeof(jti), 16) != 0) {
        fail_status(t, ESP_EINTERNAL);
        return;
    }
    /* Granted scopes: the OpenID scopes asked for and the authorize scopes permitted. */
    t->scope = json_deep_copy(x->scopes);
    if (x->permitted_scopes != NULL)
        json_array_extend(t->scope, x->permitted_scopes);
    esg_buf sb = ESG_BUF_INIT;
    size_t i;
    json_t *v;
    json_array_foreach(t->scope, i, v)
    {
        if (i)
            esg_buf_putc(&sb, ' ');
        esg_buf_puts(&sb, json_string_value(v));
    }
    json_t *claims =
        json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:s,s:s,s:I}", "iss", S->issuer, "sub", x->subject,
                  "aud", x->client_id, "client_id", x->client_id, "iat", (json_int_t)t->now, "exp",
                  (json_int_t)(t->now + t->at_life), "jti", jti, "scope", sb.data ? sb.data : "",
                  "auth_time", (json_int_t)x->auth_time);
    esg_buf_free(&sb);
    /* RFC 9449 §6.1: a DPoP-bound token names its key. */
    if (claims != NULL && t->dpop_jkt[0] != '\0' &&
        json_object_set_new(claims, "cnf", json_pack("{s:s}", "jkt", t->dpop_jkt)) != 0) {
        json_decref(claims);
        claims = NULL;
    }
    int rc = claims ? esg_keys_sign_jwt(S->token_signing_alg, "at+jwt", claims, on_at_signed, t)
                    : ESP_ENOMEM;
    json_decref(claims);
    if (rc != 0)
        fail_status(t, rc);
}

/* ---------------------------------------------------------------------------------------------
 * KYC exchange: the claims the user accepted, fetched from the identity system now, once.
 */

static void on_kyc(void *ud, int status, const char *error_code, const void *result)
{
    tok *t = ud;
    (void)error_code;
    if (status == ESP_EKYC_EXCHANGE || status == ESP_EUNKNOWN_SUBJECT) {
        fail(t, 400, "invalid_grant", "the authentication behind this code is no longer valid");
        return;
    }
    if (status != 0) {
        fail_status(t, status);
        return;
    }
    const esp_kyc_exchange_result *r = result;
    if (r->signed_kyc.len > 0) {
        t->signed_kyc = esg_strndup(r->signed_kyc.ptr, r->signed_kyc.len);
    } else {
        json_error_t jerr;
        t->kyc_claims = json_loadb(r->claims_json.ptr, r->claims_json.len, 0, &jerr);
        if (!json_is_object(t->kyc_claims)) {
            esg_logf(ESP_LOG_ERROR, "oauth.kyc_claims", "the identity back end returned no claims");
            fail_status(t, ESP_EKYC_EXCHANGE);
            return;
        }
        /* Only what the user accepted leaves the server, whatever the back end returned. */
        const char *name;
        json_t *v;
        void *tmp;
        json_object_foreach_safe(t->kyc_claims, tmp, name, v)
        {
            char base[128];
            snprintf(base, sizeof(base), "%s", name);
            char *hash = strchr(base, '#');
            if (hash != NULL)
                *hash = '\0';
            int accepted = 0;
            size_t i;
            json_t *a;
            json_array_foreach(t->txn->accepted_claims, i, a) accepted |=
                strcmp(json_string_value(a), base) == 0;
            if (!accepted || strcmp(base, "sub") == 0)
                json_object_del(t->kyc_claims, name);
        }
    }
    sign_access_token(t);
}

static void exchange(tok *t)
{
    esg_txn *x = t->txn;
    struct esp_instance *b = esg_auth_backend();
    size_t na = json_array_size(x->accepted_claims), nl = json_array_size(x->claims_locales);
    esp_str *accepted = calloc(na + 1, sizeof(*accepted));
    esp_str *locales = calloc(nl + 1, sizeof(*locales));
    json_t *details = json_object();
    if (accepted == NULL || locales == NULL || details == NULL || b == NULL) {
        free(accepted);
        free(locales);
        json_decref(details);
        fail_status(t, b == NULL ? ESP_EUNAVAIL : ESP_ENOMEM);
        return;
    }
    for (size_t i = 0; i < na; i++) {
        json_t *c = json_array_get(x->accepted_claims, i);
        accepted[i] = (esp_str){json_string_value(c), json_string_length(c)};
        json_t *detail = json_object_get(x->claims, json_string_value(c));
        if (detail != NULL && !json_is_null(detail))
            json_object_set(details, json_string_value(c), detail);
    }
    for (size_t i = 0; i < nl; i++) {
        json_t *l = json_array_get(x->claims_locales, i);
        locales[i] = (esp_str){json_string_value(l), json_string_length(l)};
    }
    char *details_text = json_object_size(details) ? json_dumps(details, JSON_COMPACT) : NULL;
    char auth_txn[11];
    esg_txn_auth_id(x->id, 10, auth_txn);
    esp_kyc_exchange_request req = {sizeof(req),
                                    {x->client_id, strlen(x->client_id)},
                                    {x->rp_id, strlen(x->rp_id)},
                                    {auth_txn, strlen(auth_txn)},
                                    {x->individual_id, strlen(x->individual_id)},
                                    {x->kyc_token, strlen(x->kyc_token)},
                                    accepted,
                                    na,
                                    locales,
                                    nl,
                                    {details_text, details_text ? strlen(details_text) : 0}};
    int rc = esg_call(b, ESG_OP_KYC_EXCHANGE, &req, on_kyc, t);
    free(accepted);
    free(locales);
    free(details_text);
    json_decref(details);
    if (rc != 0)
        fail_status(t, rc);
}

/* ---------------------------------------------------------------------------------------------
 * The code.
 */

/* RFC 7636 §4.1: 43 to 128 characters of [A-Za-z0-9-._~]. */
static int verifier_ok(const char *v)
{
    size_t n = strlen(v);
    if (n < 43 || n > 128)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_' || c == '~'))
            return 0;
    }
    return 1;
}

/*
 * The lifetimes of the tokens: the configured ones, but no longer than the consent they rest on
 * (eSignet caps both by the client's consent_expire_in_mins, esignet.md §5.2-5.3). Returns -1 when
 * that consent has already expired.
 */
static int token_lifetimes(tok *t)
{
    const esg_oidc_settings *S = esg_oidc();
    int64_t left = t->txn->consent_expires_at - t->now;
    t->id_life = S->lifetimes.id_token / 1000;
    t->at_life = S->lifetimes.access_token / 1000;
    if (t->txn->consent_expires_at == 0)
        return 0;
    if (left <= 0)
        return -1;
    if (t->id_life > left)
        t->id_life = left;
    if (t->at_life > left)
        t->at_life = left;
    return 0;
}

static void check_code(tok *t)
{
    esg_txn *x = t->txn;
    if (strcmp(x->client_id, t->client->id) != 0) {
        fail(t, 400, "invalid_grant", "the code was issued to another client");
        return;
    }
    const char *redirect = param(t, "redirect_uri");
    if (redirect == NULL || strcmp(redirect, x->redirect_uri) != 0) {
        fail(t, 400, "invalid_grant", "redirect_uri differs from the authorization request's");
        return;
    }
    const char *verifier = param(t, "code_verifier");
    if (x->code_challenge != NULL) {
        if (verifier == NULL || !verifier_ok(verifier)) {
            fail(t, 400, "invalid_grant", "code_verifier is missing or malformed");
            return;
        }
        unsigned char md[32];
        unsigned int n = 0;
        char computed[44];
        EVP_Digest(verifier, strlen(verifier), md, &n, EVP_sha256(), NULL);
        esg_b64url_encode_to(md, sizeof(md), computed);
        computed[43] = '\0';
        if (!esg_ct_equal(computed, 43, x->code_challenge, strlen(x->code_challenge))) {
            fail(t, 400, "invalid_grant", "code_verifier does not match the code_challenge");
            return;
        }
    } else if (verifier != NULL) {
        /* A verifier for a code issued without a challenge is a downgrade attempt
         * (RFC 9700 §4.8.2). */
        fail(t, 400, "invalid_grant", "the code was issued without a code_challenge");
        return;
    }
    if (token_lifetimes(t) != 0) {
        fail(t, 400, "invalid_grant", "the consent behind this code has expired");
        return;
    }
    /* The proof was verified before the code was touched (on_dpop); what the code is bound to
     * is known only now. */
    if ((x->dpop_jkt != NULL || t->client->dpop_bound) && t->dpop_jkt[0] == '\0') {
        fail(t, 400, "invalid_dpop_proof", "a DPoP proof is required");
        return;
    }
    if (x->dpop_jkt != NULL &&
        !esg_ct_equal(x->dpop_jkt, strlen(x->dpop_jkt), t->dpop_jkt, strlen(t->dpop_jkt))) {
        fail(t, 400, "invalid_dpop_proof", "the DPoP proof is not of the key the code is bound to");
        return;
    }
    exchange(t);
}

static void on_reuse_revoked(void *ud, int status, json_t *doc)
{
    tok *t = ud;
    (void)status;
    json_decref(doc);
    esg_logf(ESP_LOG_WARN, "oauth.code_reused",
             "an authorization code was redeemed twice; its access token is revoked");
    fail(t, 400, "invalid_grant", "the authorization code was already used");
}

/* A reuse: the access token the first redemption stored, if it got that far, is deleted. */
static void on_reuse_link(void *ud, int status, json_t *doc)
{
    tok *t = ud;
    const char *at = status == 0 ? json_string_value(json_object_get(doc, "at")) : NULL;
    snprintf(t->at_key, sizeof(t->at_key), "%s", at && strlen(at) == 43 ? at : "");
    json_decref(doc);
    if (t->at_key[0] != '\0' && esg_kv_json_del("at", t->at_key, on_reuse_revoked, t) == 0)
        return;
    on_reuse_revoked(t, 0, NULL);
}

static void on_code_taken(void *ud, int status, json_t *doc)
{
    tok *t = ud;
    if (status == ESP_ENOTFOUND) {
        fail(t, 400, "invalid_grant", "the authorization code is invalid or expired");
        return;
    }
    if (status != 0) {
        fail_status(t, status);
        return;
    }
    int rc = esg_txn_from_json(doc, &t->txn);
    json_decref(doc);
    if (rc != 0 || t->txn->state != ESG_TXN_AUTHENTICATED || t->txn->subject == NULL) {
        fail(t, 400, "invalid_grant", "the authorization code is invalid");
        return;
    }
    check_code(t);
}

static void on_code_counted(void *ud, int status, json_t *doc)
{
    tok *t = ud;
    json_int_t uses = json_integer_value(doc);
    json_decref(doc);
    if (status != 0) {
        fail_status(t, status);
        return;
    }
    int rc = uses > 1 ? esg_kv_json_get("code-at", t->code_hash, on_reuse_link, t)
                      : esg_kv_json_take("code", t->code_hash, on_code_taken, t);
    if (rc != 0)
        fail_status(t, rc);
}

/* ---------------------------------------------------------------------------------------------
 * Client authentication.
 */

static void on_dpop(void *ud, int status, int present, const esg_dpop_result *res);

static void on_client_auth(void *ud, int status, esg_client *client, const char *error,
                           const char *description)
{
    tok *t = ud;
    if (error != NULL) {
        fail(t, 400, error, description);
        return;
    }
    if (status != 0) {
        fail_status(t, status);
        return;
    }
    t->client = client;
    snprintf(t->id_alg, sizeof(t->id_alg), "%s", esg_oidc_response_alg(client->public_key_alg));
    if (esg_dpop_request_check(t->req, esg_oidc()->token_endpoint, NULL, NULL, on_dpop, t) != 0)
        fail_status(t, ESP_ENOMEM);
}

/*
 * DPoP (RFC 9449 §5): a valid proof binds the tokens to its key. It is checked before the code is
 * counted and taken, so that a refused proof (a clock off, a wrong URL) leaves the code usable;
 * check_code() then requires a proof, and the right key, for a code bound to one
 * (dpop_jkt) and for a client registered with dpop_bound_access_tokens.
 */
static void on_dpop(void *ud, int status, int present, const esg_dpop_result *res)
{
    tok *t = ud;
    if (status == ESP_EINVAL) {
        fail(t, 400, esg_dpop_error_code(res->error), res->reason);
        return;
    }
    if (status != 0) {
        fail_status(t, status);
        return;
    }
    if (present)
        snprintf(t->dpop_jkt, sizeof(t->dpop_jkt), "%s", res->jkt);
    if (!present && (t->client->dpop_bound || esg_oidc()->require_dpop)) {
        fail(t, 400, "invalid_dpop_proof", "a DPoP proof is required");
        return;
    }
    const char *code = param(t, "code");
    if (code == NULL || code[0] == '\0' || strlen(code) > 256) {
        fail(t, 400, "invalid_request", "code is required");
        return;
    }
    esg_code_hash(code, strlen(code), t->code_hash);
    int rc = esg_kv_json_incr("code-uses", t->code_hash, 1, reuse_window_ms(), on_code_counted, t);
    if (rc != 0)
        fail_status(t, rc);
}

void esg_oauth_token(esg_http_req *req, void *data)
{
    (void)data;
    tok *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        esg_http_respond_error(req, 500, "server_error", NULL);
        return;
    }
    t->req = req;
    t->now = esg_wall_s();
    char why[128];
    if (esg_http_req_form(req, ESG_FORM_PLUS_SPACE, NULL, &t->form, why, sizeof(why)) != 0) {
        fail(t, 400, "invalid_request", "the body must be a form without repeated parameters");
        return;
    }
    const char *grant = param(t, "grant_type");
    if (grant == NULL) {
        fail(t, 400, "invalid_request", "grant_type is required");
        return;
    }
    if (strcmp(grant, "authorization_code") != 0) {
        fail(t, 400, "unsupported_grant_type", "only authorization_code is supported");
        return;
    }
    /* RFC 7523 §3: the token endpoint's URL is the audience; the issuer is accepted too. */
    const esg_oidc_settings *S = esg_oidc();
    t->audiences[0] = S->token_endpoint;
    t->audiences[1] = S->issuer;
    t->audiences[2] = NULL;
    if (esg_client_auth(&t->form, t->audiences, on_client_auth, t) != 0)
        fail_status(t, ESP_ENOMEM);
}
