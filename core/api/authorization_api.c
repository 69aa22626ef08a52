#include "api/authorization_api.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <esignet/plugin.h>

#include "api/envelope.h"
#include "http/form.h"
#include "http/response.h"
#include "oauth/clients.h"
#include "oauth/code.h"
#include "oidc/auth.h"
#include "oidc/authz.h"
#include "oidc/consent.h"
#include "oidc/flow.h"
#include "oidc/pages.h"
#include "oidc/session.h"
#include "oidc/settings.h"
#include "store/kv_json.h"
#include "util/b64.h"
#include "util/clock.h"
#include "util/json.h"
#include "util/log.h"
#include "util/status.h"
#include "util/str.h"

#define CSRF_COOKIE       "XSRF-TOKEN"
#define CSRF_HEADER       "X-XSRF-TOKEN"
#define MAX_INDIVIDUAL_ID 256
#define MAX_CHALLENGES    5

/* ---------------------------------------------------------------------------------------------
 * /authorize
 */

void esg_api_authorize(esg_http_req *req, void *data)
{
    (void)data;
    esg_form form = ESG_FORM_INIT;
    char why[128];
    int rc;
    /* GET carries the parameters in the query, POST in a form body (OpenID Connect Core
     * §3.1.2.1). A repeated parameter is refused (RFC 6749 §3.1). */
    if (esg_http_req_method(req) == ESG_HTTP_POST)
        rc = esg_http_req_form(req, ESG_FORM_PLUS_SPACE, NULL, &form, why, sizeof(why));
    else
        rc = esg_http_req_query_form(req, ESG_FORM_PLUS_SPACE, NULL, &form, why, sizeof(why));
    if (rc != 0) {
        /* Without trustworthy parameters the redirect URI cannot be trusted either. */
        esg_page_error(req, ESG_PAGE_BAD_REQUEST, "invalid_request");
        return;
    }
    esg_authz_params p;
    rc = esg_authz_params_from_form(&form, &p);
    esg_form_free(&form);
    if (rc != 0) {
        esg_page_error(req, ESG_PAGE_SERVER_ERROR, "server_error");
        return;
    }
    esg_flow_start(req, &p, 0);
}

/* ---------------------------------------------------------------------------------------------
 * CSRF (esignet.md §1.4): a double-submit token. The cookie is readable by the page's script,
 * which echoes it in a header; a cross-site page can make the browser send the cookie but cannot
 * read it to set the header.
 */

static int csrf_ok(esg_http_req *req)
{
    esp_str cookie, header;
    if (esg_http_req_cookie(req, CSRF_COOKIE, &cookie) != 0 ||
        esg_http_req_header_unique(req, CSRF_HEADER, &header) != 0)
        return 0;
    return cookie.len == 43 && esg_ct_equal(cookie.ptr, cookie.len, header.ptr, header.len);
}

void esg_api_csrf_token(esg_http_req *req, void *data)
{
    (void)data;
    char token[48];
    esp_str cookie;
    if (esg_http_req_cookie(req, CSRF_COOKIE, &cookie) == 0 && cookie.len == 43) {
        memcpy(token, cookie.ptr, 43);
        token[43] = '\0';
    } else if (esg_random_token(token, sizeof(token), 32) != 0) {
        esg_http_respond_error(req, 500, "unknown_error", NULL);
        return;
    }
    char header[160];
    snprintf(header, sizeof(header), "%s=%s; Path=/; SameSite=Strict%s", CSRF_COOKIE, token,
             esg_oidc()->secure_cookies ? "; Secure" : "");
    esg_http_resp_header(req, "Set-Cookie", header);
    json_t *body = json_pack("{s:s,s:s,s:s}", "token", token, "parameterName", "_csrf",
                             "headerName", CSRF_HEADER);
    esg_http_respond_json(req, 200, body);
    json_decref(body);
}

/* ---------------------------------------------------------------------------------------------
 * The common shape of the transaction-bound APIs.
 */

typedef struct api api;
typedef void (*api_step)(api *a);

struct api {
    esg_http_req *req;
    json_t *doc;     /* the request envelope (owned) */
    json_t *request; /* borrowed from doc */
    esg_txn *txn;
    const char *individual_id; /* borrowed from request */
    char id_hash[44];          /* base64url(SHA-256(individual ID)): the blocking key */
    api_step next;
    const char *counter; /* attempt counter name for this API */
    int64_t limit;
    int consent_capture;
    esg_client *client;
};

static void api_free(api *a)
{
    json_decref(a->doc);
    esg_txn_free(a->txn);
    esg_client_unref(a->client);
    free(a);
}

static void api_fail(api *a, const char *code, const char *message)
{
    esg_envelope_error(a->req, 200, code, message);
    api_free(a);
}

/* A plugin or store failure: its eSignet code (a plugin's own code when it gave one). */
static void api_fail_status(api *a, int status, const char *plugin_code)
{
    api_fail(a, plugin_code ? plugin_code : esg_status_esignet_error(status), NULL);
}

/*
 * Starts an API call: CSRF, the envelope, and a fresh context. `need_body` is 0 for GET. On
 * failure the request is answered and NULL returned.
 */
static api *api_begin(esg_http_req *req, int need_body)
{
    if (!csrf_ok(req)) {
        esg_envelope_error(req, 403, "invalid_csrf_token", "the CSRF token is missing or wrong");
        return NULL;
    }
    api *a = calloc(1, sizeof(*a));
    if (a == NULL) {
        esg_envelope_error(req, 200, "unknown_error", NULL);
        return NULL;
    }
    a->req = req;
    if (need_body) {
        const char *code, *msg;
        if (esg_envelope_parse(req, &a->doc, &a->request, &code, &msg) != 0) {
            api_fail(a, code, msg);
            return NULL;
        }
    }
    return a;
}

/* The oauth-details filter (esignet.md §1.5): load the transaction the headers name. */
static void on_txn(void *ud, int status, json_t *doc);

static void load_txn(api *a, api_step next)
{
    esp_str key, hash;
    if (esg_http_req_header_unique(a->req, "oauth-details-key", &key) != 0 || key.len == 0 ||
        key.len > 64 || esg_http_req_header_unique(a->req, "oauth-details-hash", &hash) != 0) {
        api_fail(a, "invalid_transaction", "the oauth-details headers are missing");
        return;
    }
    if (a->request != NULL) {
        const char *tid = json_string_value(json_object_get(a->request, "transactionId"));
        if (tid == NULL || !esg_str_eq(key.ptr, key.len, tid)) {
            api_fail(a, "invalid_transaction", "transactionId does not match oauth-details-key");
            return;
        }
    }
    char id[65];
    memcpy(id, key.ptr, key.len);
    id[key.len] = '\0';
    a->next = next;
    int rc = esg_kv_json_get("txn", id, on_txn, a);
    if (rc != 0)
        api_fail_status(a, rc, NULL);
}

static void on_txn(void *ud, int status, json_t *doc)
{
    api *a = ud;
    if (status == ESP_ENOTFOUND || (status == 0 && esg_txn_from_json(doc, &a->txn) != 0)) {
        json_decref(doc);
        api_fail(a, "invalid_transaction", "the transaction is unknown or expired");
        return;
    }
    json_decref(doc);
    if (status != 0) {
        api_fail_status(a, status, NULL);
        return;
    }
    esp_str hash;
    esg_http_req_header_unique(a->req, "oauth-details-hash", &hash);
    const char *want = a->txn->oauth_details_hash ? a->txn->oauth_details_hash : "";
    if (!esg_ct_equal(hash.ptr, hash.len, want, strlen(want))) {
        api_fail(a, "invalid_request", "oauth-details-hash does not match the transaction");
        return;
    }
    a->next(a);
}

/* The individual ID of the request, checked, and its blocking key. */
static int take_individual(api *a)
{
    const char *id = json_string_value(json_object_get(a->request, "individualId"));
    if (id == NULL || id[0] == '\0' || strlen(id) > MAX_INDIVIDUAL_ID) {
        api_fail(a, "invalid_identifier", "individualId is missing or too long");
        return -1;
    }
    a->individual_id = id;
    esg_auth_id_hash(id, a->id_hash);
    return 0;
}

/* Attempt limits and blocking (esignet.md §1.5). */
static void on_blocked_check(void *ud, int status, json_t *doc);
static void on_counted(void *ud, int status, json_t *doc);
static void on_blocked_set(void *ud, int status, json_t *doc);

static void check_attempts(api *a, const char *counter, int64_t limit, api_step next)
{
    a->counter = counter;
    a->limit = limit;
    a->next = next;
    int rc = esg_kv_json_get("blocked", a->id_hash, on_blocked_check, a);
    if (rc != 0)
        api_fail_status(a, rc, NULL);
}

static void on_blocked_check(void *ud, int status, json_t *doc)
{
    api *a = ud;
    json_decref(doc);
    if (status == 0) {
        api_fail(a, "individual_id_blocked", "too many attempts; try again later");
        return;
    }
    if (status != ESP_ENOTFOUND) {
        api_fail_status(a, status, NULL);
        return;
    }
    char key[128];
    snprintf(key, sizeof(key), "%s:%s", a->txn->id, a->counter);
    int rc = esg_kv_json_incr("attempts", key, 1, esg_oidc()->lifetimes.transaction, on_counted, a);
    if (rc != 0)
        api_fail_status(a, rc, NULL);
}

static void on_counted(void *ud, int status, json_t *doc)
{
    api *a = ud;
    int64_t n = (int64_t)json_integer_value(doc);
    json_decref(doc);
    if (status != 0) {
        api_fail_status(a, status, NULL);
        return;
    }
    if (n <= a->limit) {
        a->next(a);
        return;
    }
    const esg_oidc_settings *S = esg_oidc();
    if (S->attempts.block_ms <= 0 || a->individual_id == NULL) {
        api_fail(a, "no_attempts_left", "no attempts left for this transaction");
        return;
    }
    json_t *marker = json_pack("{s:I}", "since", (json_int_t)esg_wall_s());
    int rc = marker ? esg_kv_json_put("blocked", a->id_hash, marker, S->attempts.block_ms,
                                      ESP_KV_SET, on_blocked_set, a)
                    : ESP_ENOMEM;
    json_decref(marker);
    if (rc != 0)
        api_fail_status(a, rc, NULL);
}

static void on_blocked_set(void *ud, int status, json_t *doc)
{
    api *a = ud;
    json_decref(doc);
    (void)status;
    esg_logf(ESP_LOG_INFO, "oidc.individual_blocked",
             "an individual ID was blocked after too many attempts");
    api_fail(a, "no_attempts_left", "no attempts left for this transaction");
}

static int require_state(api *a, int state)
{
    if (a->txn->state != state) {
        api_fail(a, "invalid_transaction", "the transaction is not in the right step");
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * oauth-details
 */

static void oauth_details(esg_http_req *req, int pushed)
{
    api *a = api_begin(req, 1);
    if (a == NULL)
        return;
    esg_authz_params p;
    esg_authz_error err;
    int rc = esg_authz_params_from_json(a->request, &p, &err);
    if (rc != 0) {
        api_fail(a, rc == ESP_EINVAL ? err.esignet : "unknown_error", err.description);
        return;
    }
    /* par-oauth-details names a pushed request; oauth-details must not (esignet.md §4.2). */
    if (pushed != (p.request_uri != NULL)) {
        esg_authz_params_clear(&p);
        api_fail(a, "invalid_request",
                 pushed ? "requestUri is required" : "requestUri needs par-oauth-details");
        return;
    }
    api_free(a);
    esg_flow_start(req, &p, 1);
}

void esg_api_oauth_details(esg_http_req *req, void *data)
{
    (void)data;
    oauth_details(req, 0);
}

void esg_api_par_oauth_details(esg_http_req *req, void *data)
{
    (void)data;
    oauth_details(req, 1);
}

/* ---------------------------------------------------------------------------------------------
 * send-otp
 */

static void on_otp(void *ud, int status, const char *error_code, const char *masked_email,
                   const char *masked_mobile)
{
    api *a = ud;
    if (status != 0) {
        api_fail_status(a, status, error_code);
        return;
    }
    json_t *r = json_pack("{s:s,s:s?,s:s?}", "transactionId", a->txn->id, "maskedEmail",
                          masked_email && *masked_email ? masked_email : NULL, "maskedMobile",
                          masked_mobile && *masked_mobile ? masked_mobile : NULL);
    esg_envelope_ok(a->req, r, NULL);
    api_free(a);
}

static void send_otp_go(api *a)
{
    const json_t *channels = json_object_get(a->request, "otpChannels");
    int rc = esg_auth_send_otp(a->txn, a->individual_id, channels, on_otp, a);
    if (rc != 0)
        api_fail_status(a, rc, NULL);
}

static void send_otp_loaded(api *a)
{
    if (require_state(a, ESG_TXN_PREAUTH) != 0 || take_individual(a) != 0)
        return;
    const json_t *channels = json_object_get(a->request, "otpChannels");
    size_t n = json_array_size(channels);
    if (n == 0 || n > 2) {
        api_fail(a, "invalid_otp_channel", "otpChannels must list email and/or phone");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const char *c = json_string_value(json_array_get(channels, i));
        if (c == NULL || (strcmp(c, "email") != 0 && strcmp(c, "phone") != 0)) {
            api_fail(a, "invalid_otp_channel", "otpChannels must list email and/or phone");
            return;
        }
    }
    check_attempts(a, "send-otp", esg_oidc()->attempts.send_otp, send_otp_go);
}

void esg_api_send_otp(esg_http_req *req, void *data)
{
    (void)data;
    api *a = api_begin(req, 1);
    if (a != NULL)
        load_txn(a, send_otp_loaded);
}

/* ---------------------------------------------------------------------------------------------
 * authenticate (v3; v2 has the same body without captchaToken)
 */

/* Checks every challenge against its factor's rule (esignet.md §4.5). */
static int check_challenges(api *a)
{
    const json_t *list = json_object_get(a->request, "challengeList");
    size_t n = json_array_size(list);
    if (n == 0 || n > MAX_CHALLENGES) {
        api_fail(a, "invalid_no_of_challenges", "challengeList must have 1 to 5 challenges");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *c = json_array_get(list, i);
        const char *type = json_string_value(json_object_get(c, "authFactorType"));
        const char *format = json_string_value(json_object_get(c, "format"));
        const json_t *value = json_object_get(c, "challenge");
        const esg_oidc_challenge_rule *rule = type ? esg_oidc_find_challenge(type) : NULL;
        if (rule == NULL) {
            api_fail(a, "invalid_auth_factor_type", "unknown authFactorType");
            return -1;
        }
        if (format == NULL || strcmp(format, rule->format) != 0) {
            api_fail(a, "invalid_challenge_format", "format does not fit the factor");
            return -1;
        }
        if (!json_is_string(value) || (int64_t)json_string_length(value) < rule->min_length ||
            (int64_t)json_string_length(value) > rule->max_length) {
            api_fail(a, "invalid_challenge", "the challenge has the wrong length");
            return -1;
        }
        for (size_t k = 0; k < i; k++) {
            const char *other =
                json_string_value(json_object_get(json_array_get(list, k), "authFactorType"));
            if (strcmp(other, type) == 0) {
                api_fail(a, "invalid_challenge", "a factor is presented twice");
                return -1;
            }
        }
    }
    return 0;
}

/* 1 when the presented factor types cover every factor of `amr`. */
static int covers(const esg_oidc_amr *amr, const json_t *list)
{
    for (size_t f = 0; f < amr->n_factors; f++) {
        int found = 0;
        size_t i;
        json_t *c;
        json_array_foreach(list, i, c)
        {
            const char *t = json_string_value(json_object_get(c, "authFactorType"));
            found |= t != NULL && strcmp(t, amr->factors[f].type) == 0;
        }
        if (!found)
            return 0;
    }
    return 1;
}

/* Which AMRs and ACRs of the transaction the presented factors satisfy. */
static int satisfied(esg_txn *t, const json_t *list)
{
    json_t *amr = json_array(), *acr = json_array();
    if (amr == NULL || acr == NULL) {
        json_decref(amr);
        json_decref(acr);
        return ESP_ENOMEM;
    }
    size_t i;
    json_t *av;
    json_array_foreach(t->acrs, i, av)
    {
        const esg_oidc_acr *entry = esg_oidc_find_acr(json_string_value(av));
        int met = 0;
        for (size_t k = 0; entry != NULL && k < entry->n_amrs; k++) {
            if (!covers(entry->amrs[k], list))
                continue;
            met = 1;
            int known = 0;
            size_t j;
            json_t *x;
            json_array_foreach(amr, j, x) known |=
                strcmp(json_string_value(x), entry->amrs[k]->name) == 0;
            if (!known)
                json_array_append_new(amr, json_string(entry->amrs[k]->name));
        }
        if (met)
            json_array_append(acr, av);
    }
    json_decref(t->amr);
    json_decref(t->acr_satisfied);
    t->amr = amr;
    t->acr_satisfied = acr;
    return 0;
}

static void respond_authenticated(api *a);

static void on_session_created(void *ud, int status, const char *cookie)
{
    api *a = ud;
    if (status == 0)
        esg_session_set_cookie(a->req, cookie);
    else
        esg_logf(ESP_LOG_WARN, "oidc.session_create", "%s", esg_strerror(status));
    json_t *r = json_pack("{s:s,s:s}", "transactionId", a->txn->id, "consentAction",
                          a->consent_capture ? "CAPTURE" : "NOCAPTURE");
    esg_envelope_ok(a->req, r, NULL);
    api_free(a);
}

static void on_authenticated_saved(void *ud, int status, json_t *doc)
{
    api *a = ud;
    json_decref(doc);
    if (status == ESP_ENOTFOUND) {
        /* auth-code took the transaction (or it expired) while this login was checked. */
        api_fail(a, "invalid_transaction", "the transaction was completed or expired meanwhile");
        return;
    }
    if (status != 0) {
        api_fail_status(a, status, NULL);
        return;
    }
    if (esg_oidc()->lifetimes.session <= 0 || esg_session_create(a->txn, on_session_created, a))
        on_session_created(a, ESP_ENOTSUP, NULL);
}

static void respond_authenticated(api *a)
{
    /* Replace only: a transaction that auth-code has taken meanwhile must not come back, or one
     * login could be turned into a second code. */
    json_t *doc = esg_txn_to_json(a->txn);
    int rc = doc ? esg_kv_json_put("txn", a->txn->id, doc, esg_oidc()->lifetimes.authenticated,
                                   ESP_KV_XX, on_authenticated_saved, a)
                 : ESP_ENOMEM;
    json_decref(doc);
    if (rc != 0)
        api_fail_status(a, rc, NULL);
}

static void on_consent(void *ud, int status, int capture, const json_t *accepted,
                       const json_t *permitted, int64_t expires_at)
{
    api *a = ud;
    if (status == 0 && !capture)
        status = esg_consent_reuse(a->txn, accepted, permitted, expires_at);
    if (status != 0) {
        api_fail_status(a, status, NULL);
        return;
    }
    a->consent_capture = capture;
    a->txn->consent_capture = capture;
    respond_authenticated(a);
}

static void on_kyc_auth(void *ud, int status, const char *error_code, const char *kyc_token,
                        const char *subject)
{
    api *a = ud;
    if (status == ESP_EUNKNOWN_SUBJECT) {
        /* An unknown individual ID answers like a wrong secret (the identity back end already
         * spent the same time on it), so authenticate cannot be used to list valid IDs. */
        api_fail(a, "auth_failed", NULL);
        return;
    }
    if (status != 0) {
        api_fail_status(a, status, error_code);
        return;
    }
    esg_txn *t = a->txn;
    if (!esg_txn_can_move(t->state, ESG_TXN_AUTHENTICATED)) {
        api_fail(a, "invalid_transaction", NULL);
        return;
    }
    t->state = ESG_TXN_AUTHENTICATED;
    t->individual_id = strdup(a->individual_id);
    t->subject = strdup(subject);
    t->kyc_token = strdup(kyc_token);
    t->auth_time = esg_wall_s();
    if (!t->individual_id || !t->subject || !t->kyc_token) {
        api_fail_status(a, ESP_ENOMEM, NULL);
        return;
    }
    int rc = esg_consent_decide(t, on_consent, a);
    if (rc != 0)
        api_fail_status(a, rc, NULL);
}

static void authenticate_go(api *a)
{
    const json_t *list = json_object_get(a->request, "challengeList");
    if (satisfied(a->txn, list) != 0) {
        api_fail_status(a, ESP_ENOMEM, NULL);
        return;
    }
    if (json_array_size(a->txn->acr_satisfied) == 0) {
        api_fail(a, "auth_factor_mismatch",
                 "the factors presented do not satisfy any requested method");
        return;
    }
    int rc = esg_auth_run(a->txn, a->individual_id, list, NULL, on_kyc_auth, a);
    if (rc != 0)
        api_fail_status(a, rc, NULL);
}

static void authenticate_loaded(api *a)
{
    if (require_state(a, ESG_TXN_PREAUTH) != 0 || take_individual(a) != 0 ||
        check_challenges(a) != 0)
        return;
    check_attempts(a, "authenticate", esg_oidc()->attempts.authenticate, authenticate_go);
}

void esg_api_authenticate(esg_http_req *req, void *data)
{
    (void)data;
    api *a = api_begin(req, 1);
    if (a != NULL)
        load_txn(a, authenticate_loaded);
}

/* ---------------------------------------------------------------------------------------------
 * claim-details
 */

static void claim_details_go(api *a)
{
    json_t *status = json_array();
    size_t i;
    json_t *c;
    json_t *lists[] = {a->txn->essential, a->txn->voluntary};
    for (size_t l = 0; l < 2; l++) {
        json_array_foreach(lists[l], i, c)
        {
            /* Verified claims (OpenID Connect for Identity Assurance) are not offered, so no
             * claim is reported verified and no profile update is ever required. */
            json_array_append_new(
                status, json_pack("{s:O,s:b,s:b}", "claim", c, "verified", 0, "available", 1));
        }
    }
    json_t *r = json_pack("{s:s,s:s,s:b,s:o}", "transactionId", a->txn->id, "consentAction",
                          a->txn->consent_capture ? "CAPTURE" : "NOCAPTURE",
                          "profileUpdateRequired", 0, "claimStatus", status);
    esg_envelope_ok(a->req, r, NULL);
    api_free(a);
}

static void claim_details_loaded(api *a)
{
    if (require_state(a, ESG_TXN_AUTHENTICATED) != 0)
        return;
    /* eSignet allows one call per transaction; there is no individual ID to block here. */
    a->counter = "claim-details";
    a->limit = 1;
    a->next = claim_details_go;
    char key[128];
    snprintf(key, sizeof(key), "%s:%s", a->txn->id, a->counter);
    int rc = esg_kv_json_incr("attempts", key, 1, esg_oidc()->lifetimes.transaction, on_counted, a);
    if (rc != 0)
        api_fail_status(a, rc, NULL);
}

void esg_api_claim_details(esg_http_req *req, void *data)
{
    (void)data;
    api *a = api_begin(req, 0);
    if (a != NULL)
        load_txn(a, claim_details_loaded);
}

/* ---------------------------------------------------------------------------------------------
 * auth-code
 */

static int all_strings(const json_t *arr)
{
    if (arr == NULL)
        return 1;
    if (!json_is_array(arr) || json_array_size(arr) > 128)
        return 0;
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x)
    {
        if (!json_is_string(x))
            return 0;
    }
    return 1;
}

static void on_code(void *ud, int status, const char *code)
{
    api *a = ud;
    if (status != 0) {
        api_fail_status(a, status, NULL);
        return;
    }
    json_t *r = json_pack("{s:s,s:s,s:s?,s:s?}", "code", code, "redirectUri", a->txn->redirect_uri,
                          "nonce", a->txn->nonce, "state", a->txn->state_param);
    esg_envelope_ok(a->req, r, NULL);
    api_free(a);
}

static void issue_code(api *a)
{
    int rc = esg_code_issue(a->txn, on_code, a);
    if (rc != 0)
        api_fail_status(a, rc, NULL);
}

static void on_consent_saved(void *ud, int status)
{
    api *a = ud;
    if (status != 0) {
        api_fail_status(a, status, NULL);
        return;
    }
    issue_code(a);
}

static void on_auth_code_client(void *ud, int status, esg_client *client)
{
    api *a = ud;
    if (status != 0) {
        api_fail(a, "invalid_client_id", "the client is no longer active");
        return;
    }
    a->client = client;
    int rc = esg_consent_save(a->txn, client, on_consent_saved, a);
    if (rc != 0)
        api_fail_status(a, rc, NULL);
}

static void on_taken(void *ud, int status, json_t *doc)
{
    api *a = ud;
    json_decref(doc);
    /* Single use: only the caller that took the transaction issues a code for it. */
    if (status == ESP_ENOTFOUND) {
        api_fail(a, "invalid_transaction", "the transaction was already used");
        return;
    }
    if (status != 0) {
        api_fail_status(a, status, NULL);
        return;
    }
    esg_txn *t = a->txn;
    if (!t->consent_capture) {
        issue_code(a);
        return;
    }
    const json_t *accepted = json_object_get(a->request, "acceptedClaims");
    const json_t *permitted = json_object_get(a->request, "permittedAuthorizeScopes");
    json_decref(t->accepted_claims);
    json_decref(t->permitted_scopes);
    t->accepted_claims = accepted ? json_deep_copy(accepted) : json_array();
    t->permitted_scopes = permitted ? json_deep_copy(permitted) : json_array();
    int rc = esg_clients_get(t->client_id, on_auth_code_client, a);
    if (rc != 0)
        api_fail_status(a, rc, NULL);
}

/*
 * Checks the user's choices against the transaction before it is taken, so a rejected request
 * leaves the transaction usable. Claims never requested and scopes never asked for are refused
 * always; the essential claims must be accepted only when this login captures consent (with a
 * stored consent the UI sends no choices).
 */
static int check_choices(api *a)
{
    const esg_txn *t = a->txn;
    const json_t *accepted = json_object_get(a->request, "acceptedClaims");
    const json_t *permitted = json_object_get(a->request, "permittedAuthorizeScopes");
    if (!all_strings(accepted) || !all_strings(permitted)) {
        api_fail(a, "invalid_request", "acceptedClaims and permittedAuthorizeScopes are lists");
        return -1;
    }
    json_t *requested = json_array();
    json_array_extend(requested, t->essential);
    json_array_extend(requested, t->voluntary);
    int ok_claims = esg_json_array_subset(accepted, requested) &&
                    (!t->consent_capture || esg_json_array_subset(t->essential, accepted));
    json_decref(requested);
    if (!ok_claims) {
        api_fail(a, "invalid_accepted_claim",
                 "accepted claims must include every essential claim and only requested ones");
        return -1;
    }
    if (!esg_json_array_subset(permitted, t->authorize_scopes)) {
        api_fail(a, "invalid_permitted_scope", "permitted scopes must have been requested");
        return -1;
    }
    return 0;
}

static void auth_code_loaded(api *a)
{
    if (require_state(a, ESG_TXN_AUTHENTICATED) != 0 || check_choices(a) != 0)
        return;
    int rc = esg_kv_json_take("txn", a->txn->id, on_taken, a);
    if (rc != 0)
        api_fail_status(a, rc, NULL);
}

void esg_api_auth_code(esg_http_req *req, void *data)
{
    (void)data;
    api *a = api_begin(req, 1);
    if (a != NULL)
        load_txn(a, auth_code_loaded);
}
