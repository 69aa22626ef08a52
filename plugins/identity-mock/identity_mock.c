/*
 * identity-mock: the demo and test identity system, read from a JSON file at start.
 *
 * It does what eSignet's mock identity system does (spec esignet.md §9.2), with the weak spots
 * closed: passwords are PBKDF2 (or eSignet's SHA-256 for compatibility) compared in constant
 * time, an unknown individual costs the same hash as a wrong password, the OTP of `fixed_otp` is
 * accepted once, only after send_otp for the same (transaction, individual) and only within
 * `otp_validity`, and a KYC token is single use (host kv take).
 *
 * Threads: operations run on loop threads; the identities are immutable after create(), so they
 * are read without locks. PBKDF2 is deliberately slow, so the password check runs on the plugin
 * worker pool (host->submit_blocking) and the loop never waits for it. Every other step is a host
 * kv call whose completion comes back on the loop.
 *
 * Memory: an operation keeps a pointer to its request, which the host keeps valid until the call
 * is completed; each operation's state is freed right after it completes its call.
 */
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <esignet/plugin.h>

#include "identities.h"
#include "otp_mask.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/lang.h"
#include "util/str.h"

#define MAX_KBI_FIELDS 32
#define MAX_ANSWER     4096
#define DIGEST_B64     44 /* base64url of SHA-256 (43 characters) and a NUL */
#define TOKEN_BYTES    32

typedef struct mock {
    const esp_host *host;
    esp_instance *self;
    identities *db;
    int pairwise_client; /* the subject is derived from the client id, not the relying party */
    char *salt;          /* secret; NULL when unset */
    size_t salt_len;
    char *fixed_otp; /* secret; NULL when the mock does not handle OTPs */
    size_t fixed_otp_len;
    int64_t otp_validity_ms;
    int64_t token_validity_ms;
    char *kbi_fields[MAX_KBI_FIELDS];
    size_t n_kbi_fields;
} mock;

/* ---------------------------------------------------------------------------------------------
 * Helpers.
 */

/*
 * base64url(SHA-256(parts joined by `sep`)) into out[DIGEST_B64]. Store keys are digests, so
 * that a dump of the in-flight store holds no usable KYC token and keys stay short.
 */
static int digest(const esp_str *parts, size_t n, esp_str sep, char out[DIGEST_B64])
{
    unsigned char md[32];
    unsigned int md_len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
    for (size_t i = 0; ok && i < n; i++) {
        if (i > 0)
            ok = EVP_DigestUpdate(ctx, sep.ptr, sep.len) == 1;
        ok = ok && EVP_DigestUpdate(ctx, parts[i].ptr ? parts[i].ptr : "", parts[i].len) == 1;
    }
    ok = ok && EVP_DigestFinal_ex(ctx, md, &md_len) == 1 && md_len == sizeof(md);
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return ESP_EINTERNAL;
    esg_b64url_encode_to(md, sizeof(md), out);
    out[DIGEST_B64 - 1] = '\0';
    return 0;
}

/* Store key of the "OTP sent" mark of (transaction, individual). */
static int otp_key(esp_str transaction_id, esp_str individual_id, char out[DIGEST_B64])
{
    esp_str parts[2] = {transaction_id, individual_id};
    return digest(parts, 2, (esp_str){"\0", 1}, out);
}

static int str_is(esp_str s, const char *lit)
{
    return esg_str_eq(s.ptr, s.len, lit);
}

/* ---------------------------------------------------------------------------------------------
 * Challenges checked without blocking: PIN and KBI.
 */

/* Copies `s` without surrounding white space and with ASCII letters lowered; -1 when too long. */
static long normalize(const char *s, size_t n, char out[MAX_ANSWER])
{
    while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    if (n > MAX_ANSWER)
        return -1;
    for (size_t i = 0; i < n; i++)
        out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
    return (long)n;
}

/* Trimmed, case-insensitive comparison; dates and every other answer are compared as given. */
static int answer_equal(const json_t *expected, const json_t *given)
{
    char a[MAX_ANSWER], b[MAX_ANSWER];
    if (!json_is_string(expected) || !json_is_string(given))
        return 0;
    long na = normalize(json_string_value(expected), json_string_length(expected), a);
    long nb = normalize(json_string_value(given), json_string_length(given), b);
    int eq = na >= 0 && nb >= 0 && esg_ct_equal(a, (size_t)na, b, (size_t)nb);
    OPENSSL_cleanse(a, sizeof(a));
    OPENSSL_cleanse(b, sizeof(b));
    return eq;
}

/*
 * A KBI challenge is base64url of a JSON object of answers; every configured field must be
 * answered and match. Padding is tolerated because some clients encode with it.
 */
static int check_kbi(const mock *m, const identity *id, esp_str value, const char **why)
{
    esg_buf raw = ESG_BUF_INIT;
    json_t *answers = NULL;
    int rc = ESP_EFORMAT;
    size_t n = value.len;
    while (n > 0 && value.ptr[n - 1] == '=')
        n--;
    if (n == 0 || esg_b64url_decode(&raw, value.ptr, n) != 0 || raw.len == 0) {
        *why = "the KBI challenge is not base64url";
        goto out;
    }
    answers = json_loadb(raw.data, raw.len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(answers)) {
        *why = "the KBI challenge is not a JSON object";
        goto out;
    }
    rc = ESP_EAUTH;
    for (size_t i = 0; i < m->n_kbi_fields; i++) {
        const json_t *expected = json_object_get(id->knowledge, m->kbi_fields[i]);
        if (!answer_equal(expected, json_object_get(answers, m->kbi_fields[i]))) {
            *why = "the knowledge answers do not match";
            goto out;
        }
    }
    rc = 0;
out:
    json_decref(answers);
    esg_buf_free_secret(&raw);
    return rc;
}

/* Whether `format` (empty: not given) is one a factor accepts. */
static int format_ok(esp_str factor, esp_str format)
{
    if (format.len == 0)
        return 1;
    if (str_is(factor, "KBI"))
        return str_is(format, "base64url-encoded-json");
    if (str_is(factor, "PWD"))
        return str_is(format, "alpha-numeric");
    return str_is(format, "alpha-numeric") || str_is(format, "number");
}

/*
 * Checks the shape of the challenge list: known factors in accepted formats, at most one of
 * each, and an OTP only when this instance accepts one. Sets the PWD and OTP challenges, which
 * are checked later (off the loop, and against the store).
 */
static int sort_challenges(const mock *m, const esp_kyc_auth_request *req,
                           const esp_challenge **pwd, const esp_challenge **otp, const char **why)
{
    static const char *const factors[] = {"PWD", "PIN", "KBI", "OTP"};
    int seen[4] = {0, 0, 0, 0};
    if (req->n_challenges == 0) {
        *why = "no challenge";
        return ESP_EAUTH;
    }
    for (size_t i = 0; i < req->n_challenges; i++) {
        const esp_challenge *c = req->challenges[i];
        /* An authenticator instance checked this one; the factor only needs to be known used. */
        if (c->verified)
            continue;
        size_t f = 0;
        while (f < 4 && !str_is(c->factor, factors[f]))
            f++;
        if (f == 4 || (f == 3 && m->fixed_otp == NULL)) {
            *why = "unsupported authentication factor";
            return ESP_EFACTOR;
        }
        if (!format_ok(c->factor, c->format)) {
            *why = "unsupported challenge format";
            return ESP_EFORMAT;
        }
        if (seen[f]++) {
            *why = "a factor appears twice";
            return ESP_EINVAL;
        }
        if (f == 0)
            *pwd = c;
        else if (f == 3)
            *otp = c;
    }
    return 0;
}

/* PIN and KBI challenges of a known individual. */
static int check_static(const mock *m, const identity *id, const esp_kyc_auth_request *req,
                        const char **why)
{
    for (size_t i = 0; i < req->n_challenges; i++) {
        const esp_challenge *c = req->challenges[i];
        if (c->verified)
            continue;
        if (str_is(c->factor, "PIN") &&
            (id->pin == NULL ||
             !esg_ct_equal(c->value.ptr, c->value.len, id->pin, strlen(id->pin)))) {
            *why = "wrong PIN";
            return ESP_EAUTH;
        }
        if (str_is(c->factor, "KBI")) {
            int rc = check_kbi(m, id, c->value, why);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * kyc_auth.
 */

typedef struct auth_op {
    mock *m;
    const esp_kyc_auth_request *req; /* borrowed until the call completes */
    esp_call *call;
    const identity *id; /* NULL for an unknown individual */
    const esp_challenge *pwd;
    const esp_challenge *otp;
    int pwd_ok;                 /* written on the worker, read on the loop after it */
    char token[DIGEST_B64];     /* the KYC token handed out (secret) */
    char token_key[DIGEST_B64]; /* its store key */
    char subject[DIGEST_B64];   /* the pairwise subject */
} auth_op;

static void auth_free(auth_op *op)
{
    OPENSSL_cleanse(op, sizeof(*op));
    free(op);
}

static void auth_fail(auth_op *op, esp_status status, const char *why)
{
    op->m->host->call_fail(op->call, status, NULL, "kyc_auth: %s", why);
    auth_free(op);
}

/* {claim: []} for every claim the identity holds: available, with no verification recorded. */
static char *claims_metadata(const identity *id)
{
    json_t *meta = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(id->claims, key, v)
    {
        if (strchr(key, '#') == NULL)
            json_object_set_new(meta, key, json_array());
    }
    char *text = meta ? json_dumps(meta, JSON_COMPACT) : NULL;
    json_decref(meta);
    return text;
}

/* base64url(SHA-256(salt "|" individual_id "|" relying party or client id)). */
static int pairwise_subject(const mock *m, const esp_kyc_auth_request *req, char out[DIGEST_B64])
{
    /* Without a relying party id the client id stands in, as the server treats a client
     * without a relying party as its own. */
    esp_str sector = m->pairwise_client || req->relying_party_id.len == 0 ? req->client_id
                                                                          : req->relying_party_id;
    esp_str parts[3] = {{m->salt ? m->salt : "", m->salt_len}, req->individual_id, sector};
    return digest(parts, 3, ESP_STR_LIT("|"), out);
}

static void token_stored(void *ud, esp_status status, const void *result)
{
    (void)result;
    auth_op *op = ud;
    if (status != 0) {
        auth_fail(op, ESP_EUNAVAIL, "cannot store the KYC token");
        return;
    }
    char *meta = op->req->claims_metadata_required ? claims_metadata(op->id) : NULL;
    esp_kyc_auth_result res = {sizeof(res),
                               {op->token, strlen(op->token)},
                               {op->subject, strlen(op->subject)},
                               {meta, meta ? strlen(meta) : 0}};
    op->m->host->call_done(op->call, &res);
    free(meta);
    auth_free(op);
}

/* Every challenge passed: hands out a single-use KYC token bound to this authentication. */
static void issue_token(auth_op *op)
{
    const esp_host *host = op->m->host;
    const esp_kyc_auth_request *req = op->req;
    unsigned char raw[TOKEN_BYTES];
    char *value = NULL;
    json_t *doc = NULL;
    const char *why = "cannot make a KYC token";
    int rc = host->random(raw, sizeof(raw));
    if (rc != 0)
        goto fail;
    esg_b64url_encode_to(raw, sizeof(raw), op->token);
    op->token[esg_b64url_encoded_len(sizeof(raw))] = '\0';
    OPENSSL_cleanse(raw, sizeof(raw));
    esp_str token = {op->token, strlen(op->token)};
    if ((rc = digest(&token, 1, ESP_STR_NULL, op->token_key)) != 0 ||
        (rc = pairwise_subject(op->m, req, op->subject)) != 0)
        goto fail;
    doc = json_pack(
        "{s:s%,s:s%,s:s%,s:s%}", "individual_id", req->individual_id.ptr, req->individual_id.len,
        "client_id", req->client_id.ptr ? req->client_id.ptr : "", req->client_id.len,
        "relying_party_id", req->relying_party_id.ptr ? req->relying_party_id.ptr : "",
        req->relying_party_id.len, "transaction_id",
        req->transaction_id.ptr ? req->transaction_id.ptr : "", req->transaction_id.len);
    value = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    if (value == NULL)
        goto fail;
    esp_kv_request kv = {sizeof(kv),
                         ESP_STR_LIT("kyc"),
                         {op->token_key, strlen(op->token_key)},
                         {value, strlen(value)},
                         op->m->token_validity_ms,
                         ESP_KV_NX,
                         0};
    rc = host->kv(op->m->self, ESP_KV_PUT, &kv, token_stored, op);
    json_decref(doc);
    free(value);
    if (rc != 0)
        auth_fail(op, ESP_EUNAVAIL, "cannot store the KYC token");
    return;
fail:
    json_decref(doc);
    free(value);
    auth_fail(op, ESP_EINTERNAL, why);
}

static void otp_taken(void *ud, esp_status status, const void *result)
{
    (void)result;
    auth_op *op = ud;
    if (status == ESP_ENOTFOUND)
        auth_fail(op, ESP_ECHALLENGE_EXPIRED, "no OTP outstanding (never sent, expired or used)");
    else if (status != 0)
        auth_fail(op, ESP_EUNAVAIL, "cannot read the OTP state");
    else
        issue_token(op);
}

/*
 * The OTP is the fixed value, accepted once per send_otp: the "sent" mark is taken atomically,
 * so two logins racing with the same OTP cannot both pass. It is checked last, so that a wrong
 * password or answer does not use the OTP up.
 */
static void check_otp(auth_op *op)
{
    mock *m = op->m;
    if (op->otp == NULL) {
        issue_token(op);
        return;
    }
    if (!esg_ct_equal(op->otp->value.ptr, op->otp->value.len, m->fixed_otp, m->fixed_otp_len)) {
        auth_fail(op, ESP_EAUTH, "wrong OTP");
        return;
    }
    char key[DIGEST_B64];
    if (otp_key(op->req->transaction_id, op->req->individual_id, key) != 0) {
        auth_fail(op, ESP_EINTERNAL, "cannot derive the OTP key");
        return;
    }
    esp_kv_request kv = {sizeof(kv), ESP_STR_LIT("otp"), {key, strlen(key)}, ESP_STR_NULL, 0, 0, 0};
    if (m->host->kv(m->self, ESP_KV_TAKE, &kv, otp_taken, op) != 0)
        auth_fail(op, ESP_EUNAVAIL, "cannot read the OTP state");
}

/* [worker] The password hash; a stand-in of the same cost when there is nothing to compare. */
static void pwd_work(void *ud)
{
    auth_op *op = ud;
    int real = op->id != NULL && op->id->password.kind != PASSWORD_NONE;
    const password_hash *h = real ? &op->id->password : &op->m->db->dummy;
    int ok = password_verify(h, op->pwd->value.ptr, op->pwd->value.len);
    op->pwd_ok = real && ok;
}

static void pwd_done(void *ud)
{
    auth_op *op = ud;
    if (op->id == NULL)
        auth_fail(op, ESP_EUNKNOWN_SUBJECT, "unknown individual");
    else if (!op->pwd_ok)
        auth_fail(op, ESP_EAUTH, "wrong password");
    else
        check_otp(op);
}

static esp_status kyc_auth(void *inst, const esp_kyc_auth_request *req, esp_call *call)
{
    mock *m = inst;
    const esp_challenge *pwd = NULL, *otp = NULL;
    const char *why = NULL;
    int rc = sort_challenges(m, req, &pwd, &otp, &why);
    if (rc != 0) {
        m->host->call_fail(call, rc, NULL, "kyc_auth: %s", why);
        return 0;
    }
    auth_op *op = calloc(1, sizeof(*op));
    if (op == NULL)
        return ESP_ENOMEM;
    op->m = m;
    op->req = req;
    op->call = call;
    op->pwd = pwd;
    op->otp = otp;
    op->id = identities_find(m->db, req->individual_id.ptr, req->individual_id.len);
    if (op->id == NULL && pwd == NULL) {
        auth_fail(op, ESP_EUNKNOWN_SUBJECT, "unknown individual");
        return 0;
    }
    if (op->id != NULL && (rc = check_static(m, op->id, req, &why)) != 0) {
        auth_fail(op, rc, why);
        return 0;
    }
    if (pwd == NULL) {
        check_otp(op);
        return 0;
    }
    if (m->host->submit_blocking(m->self, pwd_work, pwd_done, op) != 0)
        auth_fail(op, ESP_EUNAVAIL, "cannot queue the password check");
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * kyc_exchange.
 */

/* The primary language subtag of `tag`, lower case, as ISO 639-3 when it is a known 639-1. */
static void canonical_language(const char *tag, size_t n, char out[9])
{
    const char *three = esg_lang_iso639_3(tag, n);
    if (three != NULL) {
        snprintf(out, 9, "%s", three);
        return;
    }
    size_t k = 0;
    while (k < n && k < 8 && tag[k] != '-' && tag[k] != '_') {
        char c = tag[k];
        out[k++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    out[k] = '\0';
}

/*
 * The identity's variant of `claim` in language `locale`: "claim#locale" as written, else the
 * first "claim#tag" whose language is the same (so "ar" finds name#ara and "ara" finds name#ar).
 */
static json_t *localized(json_t *claims, const char *claim, esp_str locale)
{
    char exact[160];
    if (locale.len == 0 || locale.len > 35)
        return NULL;
    snprintf(exact, sizeof(exact), "%s#%.*s", claim, (int)locale.len, locale.ptr);
    json_t *v = json_object_get(claims, exact);
    if (v != NULL)
        return v;
    char want[9], have[9];
    canonical_language(locale.ptr, locale.len, want);
    size_t claim_len = strlen(claim);
    const char *key;
    json_t *item;
    json_object_foreach(claims, key, item)
    {
        if (strncmp(key, claim, claim_len) != 0 || key[claim_len] != '#')
            continue;
        const char *tag = key + claim_len + 1;
        canonical_language(tag, strlen(tag), have);
        if (strcmp(have, want) == 0)
            return item;
    }
    return NULL;
}

/*
 * The accepted claims the identity holds: each one's plain value, and "claim#locale" for each
 * requested locale the identity has a variant in, named with the locale as the client wrote it.
 */
static char *release_claims(const identity *id, const esp_kyc_exchange_request *req)
{
    json_t *out = json_object();
    for (size_t i = 0; out != NULL && i < req->n_accepted_claims; i++) {
        esp_str a = req->accepted_claims[i];
        char claim[65];
        if (a.len == 0 || a.len >= sizeof(claim) || memchr(a.ptr, '#', a.len) != NULL ||
            memchr(a.ptr, '\0', a.len) != NULL)
            continue;
        memcpy(claim, a.ptr, a.len);
        claim[a.len] = '\0';
        json_t *plain = json_object_get(id->claims, claim);
        if (plain != NULL)
            json_object_set(out, claim, plain);
        for (size_t k = 0; k < req->n_claims_locales; k++) {
            esp_str locale = req->claims_locales[k];
            json_t *v = localized(id->claims, claim, locale);
            if (v == NULL)
                continue;
            char name[160];
            snprintf(name, sizeof(name), "%s#%.*s", claim, (int)locale.len, locale.ptr);
            json_object_set(out, name, v);
        }
    }
    char *text = out ? json_dumps(out, JSON_COMPACT) : NULL;
    json_decref(out);
    return text;
}

typedef struct exchange_op {
    mock *m;
    const esp_kyc_exchange_request *req; /* borrowed until the call completes */
    esp_call *call;
} exchange_op;

/* A request member that was given must equal what the token was issued for. */
static int same_or_absent(esp_str given, const json_t *stored)
{
    return given.len == 0 ||
           (json_is_string(stored) && esg_str_eq(given.ptr, given.len, json_string_value(stored)));
}

static void token_taken(void *ud, esp_status status, const void *result)
{
    exchange_op *op = ud;
    const esp_host *host = op->m->host;
    const esp_kyc_exchange_request *req = op->req;
    const esp_kv_result *kv = result;
    json_t *doc = NULL;
    char *claims = NULL;
    const char *why = NULL;
    int rc = ESP_EKYC_EXCHANGE;
    if (status != 0) {
        rc = status == ESP_ENOTFOUND ? ESP_EKYC_EXCHANGE : ESP_EUNAVAIL;
        why = status == ESP_ENOTFOUND ? "unknown, used or expired KYC token"
                                      : "cannot read the KYC token";
        goto fail;
    }
    doc = json_loadb(kv->value.ptr, kv->value.len, 0, NULL);
    const json_t *iid = json_object_get(doc, "individual_id");
    if (!json_is_string(iid) ||
        !same_or_absent(req->client_id, json_object_get(doc, "client_id")) ||
        !same_or_absent(req->transaction_id, json_object_get(doc, "transaction_id")) ||
        !same_or_absent(req->individual_id, iid)) {
        why = "the KYC token was issued for another client, transaction or individual";
        goto fail;
    }
    const identity *id =
        identities_find(op->m->db, json_string_value(iid), json_string_length(iid));
    if (id == NULL) {
        why = "the individual is gone";
        goto fail;
    }
    claims = release_claims(id, req);
    if (claims == NULL) {
        rc = ESP_ENOMEM;
        why = "out of memory";
        goto fail;
    }
    esp_kyc_exchange_result res = {sizeof(res), {claims, strlen(claims)}, ESP_STR_NULL};
    host->call_done(op->call, &res);
    goto out;
fail:
    host->call_fail(op->call, rc, NULL, "kyc_exchange: %s", why);
out:
    json_decref(doc);
    free(claims);
    free(op);
}

static esp_status kyc_exchange(void *inst, const esp_kyc_exchange_request *req, esp_call *call)
{
    mock *m = inst;
    char key[DIGEST_B64];
    if (digest(&req->kyc_token, 1, ESP_STR_NULL, key) != 0)
        return ESP_EINTERNAL;
    exchange_op *op = calloc(1, sizeof(*op));
    if (op == NULL)
        return ESP_ENOMEM;
    op->m = m;
    op->req = req;
    op->call = call;
    /* Taking the token makes it single use even when two exchanges race. */
    esp_kv_request kv = {sizeof(kv), ESP_STR_LIT("kyc"), {key, strlen(key)}, ESP_STR_NULL, 0, 0, 0};
    int rc = m->host->kv(m->self, ESP_KV_TAKE, &kv, token_taken, op);
    if (rc != 0) {
        free(op);
        return ESP_EUNAVAIL;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * send_otp and lookup.
 */

typedef struct send_op {
    mock *m;
    esp_call *call;
    char masked_email[320];
    char masked_phone[40];
} send_op;

static void otp_marked(void *ud, esp_status status, const void *result)
{
    (void)result;
    send_op *op = ud;
    if (status != 0) {
        op->m->host->call_fail(op->call, ESP_EUNAVAIL, NULL, "send_otp: cannot record the OTP");
    } else {
        esp_send_otp_result res = {sizeof(res),
                                   {op->masked_email, strlen(op->masked_email)},
                                   {op->masked_phone, strlen(op->masked_phone)}};
        op->m->host->call_done(op->call, &res);
    }
    free(op);
}

/*
 * Sends nothing: with `fixed_otp` the OTP is known in advance, as in eSignet's mock. It records
 * that an OTP was "sent" for (transaction, individual), which kyc_auth then requires.
 */
static esp_status send_otp(void *inst, const esp_send_otp_request *req, esp_call *call)
{
    mock *m = inst;
    if (m->fixed_otp == NULL)
        return ESP_ENOTSUP;
    if (req->transaction_id.len == 0)
        return ESP_EINVAL;
    const identity *id = identities_find(m->db, req->individual_id.ptr, req->individual_id.len);
    if (id == NULL) {
        m->host->call_fail(call, ESP_EUNKNOWN_SUBJECT, NULL, "send_otp: unknown individual");
        return 0;
    }
    send_op *op = calloc(1, sizeof(*op));
    if (op == NULL)
        return ESP_ENOMEM;
    op->m = m;
    op->call = call;
    const char *why = req->n_channels == 0 ? "no channel requested" : NULL;
    for (size_t i = 0; why == NULL && i < req->n_channels; i++) {
        esp_str ch = req->channels[i];
        if (str_is(ch, "email") && id->email != NULL)
            otp_mask_email(id->email, strlen(id->email), op->masked_email,
                           sizeof(op->masked_email));
        else if (str_is(ch, "phone") && id->phone != NULL)
            otp_mask_phone(id->phone, strlen(id->phone), op->masked_phone,
                           sizeof(op->masked_phone));
        else
            why = "the individual has no contact for a requested channel";
    }
    char key[DIGEST_B64];
    if (why == NULL && otp_key(req->transaction_id, req->individual_id, key) != 0)
        why = "cannot derive the OTP key";
    if (why != NULL) {
        m->host->call_fail(call, ESP_ENO_CHANNEL, NULL, "send_otp: %s", why);
        free(op);
        return 0;
    }
    esp_kv_request kv = {sizeof(kv),
                         ESP_STR_LIT("otp"),
                         {key, strlen(key)},
                         ESP_STR_LIT("sent"),
                         m->otp_validity_ms,
                         ESP_KV_SET,
                         0};
    int rc = m->host->kv(m->self, ESP_KV_PUT, &kv, otp_marked, op);
    if (rc != 0) {
        free(op);
        return ESP_EUNAVAIL;
    }
    return 0;
}

static esp_status lookup(void *inst, const esp_lookup_request *req, esp_call *call)
{
    mock *m = inst;
    const identity *id = identities_find(m->db, req->individual_id.ptr, req->individual_id.len);
    if (id == NULL) {
        m->host->call_fail(call, ESP_EUNKNOWN_SUBJECT, NULL, "lookup: unknown individual");
        return 0;
    }
    esp_lookup_result res = {sizeof(res), esg_str(id->email), esg_str(id->phone),
                             esg_str(id->locale)};
    m->host->call_done(call, &res);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Lifecycle.
 */

static void destroy(void *inst)
{
    mock *m = inst;
    if (m == NULL)
        return;
    identities_free(m->db);
    if (m->salt != NULL) {
        m->host->cleanse(m->salt, m->salt_len);
        free(m->salt);
    }
    if (m->fixed_otp != NULL) {
        m->host->cleanse(m->fixed_otp, m->fixed_otp_len);
        free(m->fixed_otp);
    }
    for (size_t i = 0; i < m->n_kbi_fields; i++)
        free(m->kbi_fields[i]);
    free(m);
}

static int copy_option(const esp_host *host, const esp_value *config, const char *key, char **out,
                       size_t *len)
{
    esp_str v = host->value_str(host->value_get(config, key));
    *out = NULL;
    *len = 0;
    if (v.len == 0)
        return 0;
    *out = esg_strndup(v.ptr, v.len);
    *len = v.len;
    return *out != NULL ? 0 : ESP_ENOMEM;
}

static int read_kbi_fields(mock *m, const esp_value *config)
{
    const esp_host *host = m->host;
    const esp_value *list = host->value_get(config, "kbi_fields");
    static const char *const defaults[] = {"full_name", "date_of_birth"};
    size_t n = list != NULL ? host->value_count(list) : 2;
    if (n == 0 || n > MAX_KBI_FIELDS) {
        host->log(m->self, ESP_LOG_ERROR, "kbi_fields: 1 to %d field names", MAX_KBI_FIELDS);
        return ESP_ECONFIG;
    }
    for (size_t i = 0; i < n; i++) {
        esp_str f =
            list != NULL ? host->value_str(host->value_at(list, i, NULL)) : esg_str(defaults[i]);
        if (f.len == 0) {
            host->log(m->self, ESP_LOG_ERROR, "kbi_fields[%zu]: a field name is required", i);
            return ESP_ECONFIG;
        }
        m->kbi_fields[i] = esg_strndup(f.ptr, f.len);
        if (m->kbi_fields[i] == NULL)
            return ESP_ENOMEM;
        m->n_kbi_fields++;
    }
    return 0;
}

/* Tells the deployer which identities cannot sign in with KBI, once, at start. */
static void report_kbi_gaps(const mock *m)
{
    size_t lacking = 0;
    for (size_t i = 0; i < m->db->n; i++) {
        for (size_t k = 0; k < m->n_kbi_fields; k++) {
            if (!json_is_string(json_object_get(m->db->items[i].knowledge, m->kbi_fields[k]))) {
                lacking++;
                break;
            }
        }
    }
    if (lacking > 0)
        m->host->log(m->self, ESP_LOG_INFO,
                     "%zu of %zu identities lack an answer to a kbi_field; KBI fails for them",
                     lacking, m->db->n);
}

static esp_status create(const esp_host *host, esp_instance *self, void *state,
                         const esp_value *config, void **out)
{
    (void)state;
    esg_buf err = ESG_BUF_INIT;
    mock *m = calloc(1, sizeof(*m));
    int rc = ESP_ENOMEM;
    if (m == NULL)
        goto fail;
    m->host = host;
    m->self = self;
    esp_str path = host->value_str(host->value_get(config, "identities"));
    if (path.len == 0) {
        host->log(self, ESP_LOG_ERROR, "option identities is required");
        rc = ESP_ECONFIG;
        goto fail;
    }
    if ((rc = identities_load(path.ptr, &m->db, &err)) != 0) {
        host->log(self, ESP_LOG_ERROR, "%s", err.data ? err.data : "out of memory");
        rc = rc == ESP_ENOMEM ? rc : ESP_ECONFIG;
        goto fail;
    }
    m->pairwise_client = str_is(host->value_str(host->value_get(config, "pairwise")), "client");
    m->otp_validity_ms = host->value_int(host->value_get(config, "otp_validity"), 180000);
    m->token_validity_ms = host->value_int(host->value_get(config, "kyc_token_validity"), 180000);
    if ((rc = copy_option(host, config, "subject_salt", &m->salt, &m->salt_len)) != 0 ||
        (rc = copy_option(host, config, "fixed_otp", &m->fixed_otp, &m->fixed_otp_len)) != 0 ||
        (rc = read_kbi_fields(m, config)) != 0)
        goto fail;
    if (m->otp_validity_ms <= 0 || m->token_validity_ms <= 0) {
        host->log(self, ESP_LOG_ERROR, "otp_validity and kyc_token_validity must be positive");
        rc = ESP_ECONFIG;
        goto fail;
    }
    report_kbi_gaps(m);
    host->log(self, ESP_LOG_INFO, "%zu identities from %s%s", m->db->n, path.ptr,
              m->fixed_otp ? "; OTPs are fixed (demo only)" : "");
    esg_buf_free(&err);
    *out = m;
    return 0;
fail:
    esg_buf_free(&err);
    destroy(m);
    return rc;
}

static const char *const pairwise_choices[] = {"relying_party", "client", NULL};

static const esp_option options[] = {
    {sizeof(esp_option), "identities", ESP_OPT_PATH, ESP_OPT_REQUIRED, NULL,
     "JSON file of the identities (format in plugins/identity-mock/README.md); read once at start "
     "and validated strictly.",
     1, 4096, NULL, 0, NULL},
    {sizeof(esp_option), "pairwise", ESP_OPT_ENUM, 0, "relying_party",
     "Which id the pairwise subject is derived from: the relying party (clients of one relying "
     "party see the same subject) or each client.",
     0, 0, pairwise_choices, 0, NULL},
    {sizeof(esp_option), "subject_salt", ESP_OPT_STRING, ESP_OPT_SECRET, NULL,
     "Secret mixed into pairwise subjects, so that they cannot be recomputed from individual IDs.",
     0, 1024, NULL, 0, NULL},
    {sizeof(esp_option), "fixed_otp", ESP_OPT_STRING, 0, NULL,
     "Demo only: send no OTP and accept this value as the OTP, once, after send-otp for the same "
     "transaction and individual (eSignet's mock uses 111111). Unset: OTPs are left to an OTP "
     "authenticator.",
     1, 32, NULL, 0, NULL},
    {sizeof(esp_option), "otp_validity", ESP_OPT_DURATION, 0, "3m",
     "How long the fixed OTP is accepted after send-otp.", 1000, 3600000, NULL, 0, NULL},
    {sizeof(esp_option), "kbi_fields", ESP_OPT_LIST, 0, "[full_name, date_of_birth]",
     "Knowledge answers a KBI challenge must all give; compared trimmed and case-insensitively "
     "with each identity's knowledge.",
     1, MAX_KBI_FIELDS, NULL, ESP_OPT_STRING, NULL},
    {sizeof(esp_option), "kyc_token_validity", ESP_OPT_DURATION, 0, "3m",
     "How long a KYC token from a successful authentication can be exchanged.", 1000, 3600000, NULL,
     0, NULL},
    {sizeof(esp_option), NULL, 0, 0, NULL, NULL, 0, 0, NULL, 0, NULL},
};

static const esp_identity_backend_v1 vtable = {
    .size = sizeof(esp_identity_backend_v1),
    .create = create,
    .destroy = destroy,
    .kyc_auth = kyc_auth,
    .kyc_exchange = kyc_exchange,
    .send_otp = send_otp,
    .lookup = lookup,
};

static const esp_capability cap = {
    .size = sizeof(esp_capability),
    .kind = ESP_KIND_IDENTITY_BACKEND,
    .kind_version = 1,
    .type = "mock",
    .description = "Demo and test identities from a JSON file: password, PIN, knowledge and "
                   "fixed-OTP authentication, pairwise subjects, localised claims.",
    .options = options,
    .vtable = &vtable,
};

static const esp_capability *const caps[] = {&cap, NULL};

static const esp_plugin_desc desc = {
    .size = sizeof(esp_plugin_desc),
    .abi_major = ESP_ABI_MAJOR,
    .abi_minor = ESP_ABI_MINOR,
    .name = "identity-mock",
    .version = "1.0.0",
    .description = "Mock identity system for demos and tests.",
    .capabilities = caps,
};

ESP_EXPORT const esp_plugin_desc *esp_plugin_describe(void);
ESP_EXPORT const esp_plugin_desc *esp_plugin_describe(void)
{
    return &desc;
}
