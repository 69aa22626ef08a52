#include "oidc/flow.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include <esignet/plugin.h>

#include "api/envelope.h"
#include "http/response.h"
#include "jose/jwa.h"
#include "jose/jwt.h"
#include "keys/keys.h"
#include "oauth/code.h"
#include "oauth/par.h"
#include "oidc/auth.h"
#include "oidc/consent.h"
#include "oidc/pages.h"
#include "oidc/session.h"
#include "oidc/settings.h"
#include "store/kv_json.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/log.h"
#include "util/status.h"

/* One login start in progress. */
typedef struct start {
    esg_http_req *req;
    int api;
    esg_authz_params p;
    esg_client *client;
    esg_txn *txn;
    json_t *session;
    json_t *details;
    char hash[44];
} start;

static void start_free(start *st)
{
    esg_authz_params_clear(&st->p);
    esg_client_unref(st->client);
    esg_txn_free(st->txn);
    json_decref(st->session);
    json_decref(st->details);
    free(st);
}

/* Answers an error that must not go to the redirect URI (or any error of the API). */
static void fail_local(start *st, const esg_authz_error *err)
{
    if (st->api)
        esg_envelope_error(st->req, 200, err->esignet, err->description);
    else
        esg_page_authz_error(st->req, err);
    start_free(st);
}

/* Answers an error: to the relying party when its redirect URI was verified, else locally. */
static void fail(start *st, const esg_authz_error *err)
{
    if (st->api || err->fatal || st->txn == NULL) {
        fail_local(st, err);
        return;
    }
    esg_buf loc = ESG_BUF_INIT;
    if (esg_authz_error_location(st->txn->redirect_uri, st->txn->state_param, err->oauth,
                                 err->description, &loc) != 0) {
        esg_buf_free(&loc);
        esg_page_error(st->req, ESG_PAGE_SERVER_ERROR, "server_error");
    } else {
        esg_http_respond_redirect(st->req, 303, loc.data);
        esg_buf_free(&loc);
    }
    start_free(st);
}

static void fail_code(start *st, const char *oauth, const char *esignet, const char *desc)
{
    esg_authz_error e = {oauth, esignet, desc, 0};
    fail(st, &e);
}

/* A plugin or store failure while starting: temporarily_unavailable to the relying party. */
static void fail_status(start *st, int status)
{
    esg_logf(ESP_LOG_WARN, "oidc.start_failed", "%s", esg_strerror(status));
    fail_code(st, "temporarily_unavailable", esg_status_esignet_error(status),
              "the sign-in service is temporarily unavailable");
}

/* ---------------------------------------------------------------------------------------------
 * The end of the pipeline: store the transaction and show the page (or answer the API).
 */

static void on_txn_saved(void *ud, int status, json_t *doc)
{
    start *st = ud;
    json_decref(doc);
    if (status != 0) {
        fail_status(st, status);
        return;
    }
    if (st->api) {
        esg_envelope_ok(st->req, json_incref(st->details), NULL);
    } else {
        esg_page_login(st->req, st->details, st->hash, st->txn);
    }
    start_free(st);
}

static void save_and_show(start *st)
{
    const esg_oidc_settings *S = esg_oidc();
    st->details = esg_authz_details(st->txn, st->client);
    char *text = st->details ? esg_envelope_dump(st->details) : NULL;
    if (text == NULL) {
        fail_status(st, ESP_ENOMEM);
        return;
    }
    /* The hash the login UI sends back with every later call: over the exact bytes served. */
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(text, strlen(text), md, &n, EVP_sha256(), NULL);
    free(text);
    esg_b64url_encode_to(md, sizeof(md), st->hash);
    st->hash[43] = '\0';
    free(st->txn->oauth_details_hash);
    st->txn->oauth_details_hash = strdup(st->hash);
    json_t *doc = st->txn->oauth_details_hash ? esg_txn_to_json(st->txn) : NULL;
    int64_t ttl = st->txn->state == ESG_TXN_AUTHENTICATED ? S->lifetimes.authenticated
                                                          : S->lifetimes.transaction;
    int rc = doc ? esg_kv_json_put("txn", st->txn->id, doc, ttl, ESP_KV_SET, on_txn_saved, st)
                 : ESP_ENOMEM;
    json_decref(doc);
    if (rc != 0)
        fail_status(st, rc);
}

/* ---------------------------------------------------------------------------------------------
 * Single sign-on from the browser session.
 */

static void on_code(void *ud, int status, const char *code)
{
    start *st = ud;
    if (status != 0) {
        fail_status(st, status);
        return;
    }
    esg_buf loc = ESG_BUF_INIT;
    if (esg_authz_code_location(st->txn->redirect_uri, st->txn->state_param, code, &loc) == 0)
        esg_http_respond_redirect(st->req, 303, loc.data);
    else
        esg_page_error(st->req, ESG_PAGE_SERVER_ERROR, "server_error");
    esg_buf_free(&loc);
    start_free(st);
}

static void issue(start *st)
{
    int rc = esg_code_issue(st->txn, on_code, st);
    if (rc != 0)
        fail_status(st, rc);
}

static void on_consent(void *ud, int status, int capture, const json_t *accepted,
                       const json_t *permitted, int64_t expires_at)
{
    start *st = ud;
    if (status != 0) {
        fail_status(st, status);
        return;
    }
    esg_txn *t = st->txn;
    if (capture) {
        if (t->prompt & ESG_PROMPT_NONE) {
            fail_code(st, "consent_required", "consent_required",
                      "the user has not consented to this request");
            return;
        }
        t->consent_capture = 1;
        save_and_show(st);
        return;
    }
    int rc = esg_consent_reuse(t, accepted, permitted, expires_at);
    if (rc != 0) {
        fail_status(st, rc);
        return;
    }
    issue(st);
}

/*
 * The transaction's ACRs that the session satisfied, in the transaction's order (a new array, NULL
 * without memory). The ID token names the first: an ACR the request asked for, even when the
 * session's login also satisfied others (OpenID Connect Core §5.5.1.1).
 */
static json_t *session_acrs(const esg_txn *t, const json_t *session)
{
    json_t *out = json_array();
    size_t i;
    json_t *want;
    json_array_foreach(t->acrs, i, want)
    {
        if (out != NULL && esg_json_array_has(json_object_get(session, "acr"), want) &&
            json_array_append(out, want) != 0) {
            json_decref(out);
            out = NULL;
        }
    }
    return out;
}

static void on_silent_auth(void *ud, int status, const char *error_code, const char *kyc_token,
                           const char *subject)
{
    start *st = ud;
    esg_txn *t = st->txn;
    (void)error_code;
    if (status != 0) {
        /* The identity system no longer accepts the session's individual (blocked, removed):
         * the user has to log in again. */
        if (t->prompt & ESG_PROMPT_NONE) {
            fail_code(st, "login_required", "login_required", "the user must log in again");
            return;
        }
        json_decref(st->session);
        st->session = NULL;
        save_and_show(st);
        return;
    }
    if (t->hint_subject != NULL && strcmp(t->hint_subject, subject) != 0) {
        /* id_token_hint names another user than the session's (OpenID Connect Core §3.1.2.1). */
        if (t->prompt & ESG_PROMPT_NONE) {
            fail_code(st, "login_required", "login_required",
                      "the signed-in user is not the one id_token_hint names");
            return;
        }
        save_and_show(st);
        return;
    }
    t->state = ESG_TXN_AUTHENTICATED;
    t->individual_id = strdup(json_string_value(json_object_get(st->session, "individual_id")));
    t->subject = strdup(subject);
    t->kyc_token = strdup(kyc_token);
    t->auth_time = (int64_t)json_integer_value(json_object_get(st->session, "auth_time"));
    t->amr = json_deep_copy(json_object_get(st->session, "amr"));
    t->acr_satisfied = session_acrs(t, st->session);
    if (!t->individual_id || !t->subject || !t->kyc_token || !t->amr || !t->acr_satisfied) {
        fail_status(st, ESP_ENOMEM);
        return;
    }
    int rc = esg_consent_decide(t, on_consent, st);
    if (rc != 0)
        fail_status(st, rc);
}

/* Factor types behind the session's AMR names: what counts as verified for a silent login. */
static json_t *session_factors(const json_t *session)
{
    const esg_oidc_settings *S = esg_oidc();
    json_t *types = json_array();
    size_t i;
    json_t *name;
    json_array_foreach(json_object_get(session, "amr"), i, name)
    {
        for (size_t a = 0; a < S->n_amrs; a++) {
            if (strcmp(S->amrs[a].name, json_string_value(name)) != 0)
                continue;
            for (size_t f = 0; f < S->amrs[a].n_factors; f++)
                json_array_append_new(types, json_string(S->amrs[a].factors[f].type));
        }
    }
    return types;
}

static void on_session_blocked(void *ud, int status, json_t *doc)
{
    start *st = ud;
    esg_txn *t = st->txn;
    json_decref(doc);
    if (status != ESP_ENOTFOUND) {
        if (status != 0)
            esg_logf(ESP_LOG_WARN, "oidc.blocked_lookup", "%s", esg_strerror(status));
        json_decref(st->session);
        st->session = NULL;
        if (t->prompt & ESG_PROMPT_NONE) {
            fail_code(st, "login_required", "login_required", "the user must log in again");
            return;
        }
        save_and_show(st);
        return;
    }
    json_t *types = session_factors(st->session);
    int rc = types
                 ? esg_auth_run(t, json_string_value(json_object_get(st->session, "individual_id")),
                                NULL, types, on_silent_auth, st)
                 : ESP_ENOMEM;
    json_decref(types);
    if (rc != 0)
        fail_status(st, rc);
}

static void on_session(void *ud, int status, json_t *session)
{
    start *st = ud;
    esg_txn *t = st->txn;
    int usable = status == 0 && session != NULL;
    if (status != 0 && status != ESP_ENOTFOUND)
        esg_logf(ESP_LOG_WARN, "oidc.session_lookup", "%s", esg_strerror(status));
    /* prompt=login asks for a new login. prompt=select_account asks to let the user choose an
     * account; a browser has one session here, so choosing means signing in with the account
     * wanted (the same or another), which the login page offers. */
    if (usable && (t->prompt & (ESG_PROMPT_LOGIN | ESG_PROMPT_SELECT_ACCOUNT)))
        usable = 0;
    if (usable && t->max_age >= 0) {
        int64_t auth_time = (int64_t)json_integer_value(json_object_get(session, "auth_time"));
        /* max_age=0 means a new login every time (OpenID Connect Core §3.1.2.1, errata 2),
         * even when the session started within the same second. */
        usable = t->max_age > 0 && esg_wall_s() - auth_time <= t->max_age;
    }
    if (usable) {
        /* The request may ask for a stronger method than the session used. */
        json_t *met = session_acrs(t, session);
        usable = json_array_size(met) > 0;
        json_decref(met);
    }
    if (!usable) {
        json_decref(session);
        if (t->prompt & ESG_PROMPT_NONE) {
            fail_code(st, "login_required", "login_required", "the user must log in");
            return;
        }
        save_and_show(st);
        return;
    }
    st->session = session;
    /* An individual ID blocked after too many failed attempts (in another browser, say) does not
     * sign in silently either. */
    char key[44];
    esg_auth_id_hash(json_string_value(json_object_get(session, "individual_id")), key);
    int rc = esg_kv_json_get("blocked", key, on_session_blocked, st);
    if (rc != 0)
        fail_status(st, rc);
}

/* ---------------------------------------------------------------------------------------------
 * Validation steps.
 */

static void after_checks(start *st)
{
    if (st->api) {
        save_and_show(st);
        return;
    }
    int rc = esg_session_load(st->req, on_session, st);
    if (rc != 0)
        fail_status(st, rc);
}

static void on_nonce(void *ud, int status, json_t *doc)
{
    start *st = ud;
    json_decref(doc);
    if (status == ESP_EEXIST) {
        /* esignet.md §5.8: a nonce is accepted once per replay window. */
        fail_code(st, "invalid_request", "invalid_request", "the nonce was already used");
        return;
    }
    if (status != 0) {
        fail_status(st, status);
        return;
    }
    after_checks(st);
}

/*
 * id_token_hint (OpenID Connect Core §3.1.2.1): an ID token this server issued to this client,
 * possibly expired; its subject is the user the relying party expects.
 */
static int check_hint(start *st)
{
    if (st->p.id_token_hint == NULL)
        return 0;
    esg_jws jws = ESG_JWS_INIT;
    const char *why = NULL;
    uint32_t algs = ESG_JWS_ALG_BIT(ESG_JWS_RS256) | ESG_JWS_ALG_BIT(ESG_JWS_PS256) |
                    ESG_JWS_ALG_BIT(ESG_JWS_ES256);
    int rc = esg_keys_verify(st->p.id_token_hint, strlen(st->p.id_token_hint), algs, &jws, &why);
    json_t *claims = NULL;
    if (rc == 0) {
        json_error_t jerr;
        claims =
            json_loadb((const char *)jws.payload, jws.payload_len, JSON_REJECT_DUPLICATES, &jerr);
    }
    esg_jws_clear(&jws);
    const char *iss = json_string_value(json_object_get(claims, "iss"));
    const char *sub = json_string_value(json_object_get(claims, "sub"));
    const json_t *aud = json_object_get(claims, "aud");
    int aud_ok = json_is_string(aud) && strcmp(json_string_value(aud), st->client->id) == 0;
    size_t i;
    json_t *a;
    json_array_foreach(aud, i, a) aud_ok |= strcmp(json_string_value(a), st->client->id) == 0;
    if (rc != 0 || iss == NULL || strcmp(iss, esg_oidc()->issuer) != 0 || sub == NULL || !aud_ok) {
        json_decref(claims);
        return ESP_EINVAL;
    }
    st->txn->hint_subject = strdup(sub);
    json_decref(claims);
    return st->txn->hint_subject ? 0 : ESP_ENOMEM;
}

static void on_client(void *ud, int status, esg_client *client)
{
    start *st = ud;
    esg_authz_error err;
    if (status != 0 && status != ESP_ENOTFOUND) {
        esg_authz_error e = {"temporarily_unavailable", esg_status_esignet_error(status),
                             "the sign-in service is temporarily unavailable", 1};
        fail_local(st, &e);
        if (client)
            esg_client_unref(client);
        return;
    }
    st->client = client;
    if (esg_authz_check_client(&st->p, client, &err) != 0) {
        fail_local(st, &err);
        return;
    }
    int rc = esg_authz_build(&st->p, client, &st->txn, &err);
    if (rc != 0) {
        /* Build failed before a transaction existed: redirect with the verified URI. */
        if (rc == ESP_EINVAL && !st->api) {
            esg_buf loc = ESG_BUF_INIT;
            if (esg_authz_error_location(st->p.redirect_uri, st->p.state, err.oauth,
                                         err.description, &loc) == 0)
                esg_http_respond_redirect(st->req, 303, loc.data);
            else
                esg_page_error(st->req, ESG_PAGE_SERVER_ERROR, "server_error");
            esg_buf_free(&loc);
            start_free(st);
            return;
        }
        fail_local(st, &err);
        return;
    }
    rc = check_hint(st);
    if (rc != 0) {
        fail_code(st, "invalid_request", "invalid_id_token_hint",
                  "id_token_hint is not an ID token this server issued to the client");
        return;
    }
    if (st->txn->nonce == NULL) {
        after_checks(st);
        return;
    }
    json_t *marker = json_pack("{s:s}", "client_id", client->id);
    rc = marker ? esg_kv_json_put("nonce", st->txn->nonce, marker,
                                  esg_oidc()->lifetimes.replay_window, ESP_KV_NX, on_nonce, st)
                : ESP_ENOMEM;
    json_decref(marker);
    if (rc != 0)
        fail_status(st, rc);
}

/*
 * A pushed request (RFC 9126 §4): its parameters replace the ones of this request, of which only
 * client_id counts, and it must be the client that pushed it. An unknown, expired, used or
 * foreign request_uri gets the local error: no redirect URI can be trusted for it.
 */
static void on_pushed(void *ud, int status, const char *client_id, const json_t *params)
{
    start *st = ud;
    esg_authz_error gone = {"invalid_request", "invalid_request",
                            "the request_uri is unknown, expired or already used", 1};
    if (status == ESP_ENOTFOUND || (status == 0 && strcmp(client_id, st->p.client_id) != 0)) {
        fail_local(st, &gone);
        return;
    }
    if (status != 0) {
        esg_authz_error e = {"temporarily_unavailable", esg_status_esignet_error(status),
                             "the sign-in service is temporarily unavailable", 1};
        fail_local(st, &e);
        return;
    }
    esg_authz_params_clear(&st->p);
    int rc = esg_authz_params_from_stored(params, &st->p);
    if (rc == 0)
        rc = esg_clients_get(st->p.client_id, on_client, st);
    if (rc != 0) {
        esg_authz_error e = {"server_error", "unknown_error", "the request cannot be processed", 1};
        fail_local(st, &e);
    }
}

void esg_flow_start(esg_http_req *req, esg_authz_params *params, int api)
{
    start *st = calloc(1, sizeof(*st));
    if (st == NULL) {
        esg_authz_params_clear(params);
        if (api)
            esg_envelope_error(req, 200, "unknown_error", NULL);
        else
            esg_page_error(req, ESG_PAGE_SERVER_ERROR, "server_error");
        return;
    }
    st->req = req;
    st->api = api;
    st->p = *params;
    memset(params, 0, sizeof(*params));
    const char *id = st->p.client_id;
    if (id == NULL || *id == '\0') {
        esg_authz_error err = {"invalid_request", "invalid_client_id", "client_id is required", 1};
        fail_local(st, &err);
        return;
    }
    /* A request_uri of another form (a request object by reference, RFC 9101) is a normal
     * request that esg_authz_build() refuses with request_uri_not_supported, to the relying
     * party once its redirect URI is verified. */
    if (st->p.request_uri == NULL ||
        strncmp(st->p.request_uri, ESG_PAR_URI_PREFIX, sizeof(ESG_PAR_URI_PREFIX) - 1) != 0) {
        if (esg_clients_get(id, on_client, st) != 0) {
            esg_authz_error err = {"invalid_request", "invalid_client_id", "client_id is not valid",
                                   1};
            fail_local(st, &err);
        }
        return;
    }
    int rc = esg_par_take(st->p.request_uri, on_pushed, st);
    if (rc != 0) {
        esg_authz_error err = {"invalid_request", "invalid_request",
                               rc == ESP_EINVAL ? "request_uri is not one this server issued"
                                                : "the request cannot be processed",
                               1};
        fail_local(st, &err);
    }
}
