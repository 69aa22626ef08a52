#include "oidc/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "oidc/settings.h"
#include "plugin/call.h"
#include "plugin/registry.h"
#include "util/b64.h"
#include "util/str.h"

#define MAX_CHALLENGES 8
#define AUTH_TXN_LEN   10

struct esp_instance *esg_auth_backend(void)
{
    const esg_oidc_settings *S = esg_oidc();
    if (S == NULL || S->identity_backend == NULL)
        return NULL;
    return esg_instance_find(ESP_KIND_IDENTITY_BACKEND, S->identity_backend);
}

struct esp_instance *esg_auth_authenticator(const char *type)
{
    for (struct esp_instance *i = esg_instances_first(); i != NULL; i = i->next) {
        if (i->kind != ESP_KIND_AUTHENTICATOR)
            continue;
        const esp_authenticator_v1 *vt = i->cap->vtable;
        const char *const *f = vt->factors(i->inst);
        for (size_t k = 0; f != NULL && f[k] != NULL && k < 32; k++) {
            if (strcmp(f[k], type) == 0)
                return i;
        }
    }
    return NULL;
}

void esg_auth_id_hash(const char *individual_id, char out[44])
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(individual_id, strlen(individual_id), md, &n, EVP_sha256(), NULL);
    esg_b64url_encode_to(md, sizeof(md), out);
    out[43] = '\0';
}

int esg_auth_check(esg_buf *err)
{
    struct esp_instance *b = esg_auth_backend();
    struct esp_instance *a = esg_auth_authenticator("OTP");
    if (a == NULL || b == NULL || !esg_op_supported(a, ESG_OP_SEND_CHALLENGE) ||
        esg_op_supported(b, ESG_OP_LOOKUP))
        return 0;
    esg_buf_printf(err,
                   "authenticator '%s' sends one-time codes, but identity back end '%s' cannot "
                   "look up where to send them (it has no lookup operation); remove the "
                   "authenticator to let the back end send and check OTPs itself",
                   a->name, b->name);
    return ESP_ECONFIG;
}

static esp_str s(const char *v)
{
    esp_str r = {v ? v : "", v ? strlen(v) : 0};
    return r;
}

/* ---------------------------------------------------------------------------------------------
 * kyc_auth, after the authenticators.
 */

typedef struct run {
    esg_auth_cb cb;
    void *ud;
    char *client_id, *rp_id, *transaction_id, *individual_id;
    char auth_txn[AUTH_TXN_LEN + 1];
    size_t n;
    size_t next; /* next challenge to offer to an authenticator */
    char *type[MAX_CHALLENGES];
    char *format[MAX_CHALLENGES];
    char *value[MAX_CHALLENGES]; /* secrets: wiped on free */
    int verified[MAX_CHALLENGES];
} run;

static void run_free(run *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->type[i]);
        free(r->format[i]);
        if (r->value[i] != NULL) {
            OPENSSL_cleanse(r->value[i], strlen(r->value[i]));
            free(r->value[i]);
        }
    }
    free(r->client_id);
    free(r->rp_id);
    free(r->transaction_id);
    free(r->individual_id);
    free(r);
}

static void finish(run *r, int status, const char *code, const char *token, const char *subject)
{
    r->cb(r->ud, status, code, token, subject);
    run_free(r);
}

static void on_kyc_auth(void *ud, int status, const char *code, const void *result)
{
    run *r = ud;
    const esp_kyc_auth_result *res = result;
    if (status != 0)
        finish(r, status, code, NULL, NULL);
    else
        finish(r, 0, NULL, res->kyc_token.ptr, res->subject.ptr);
}

static void step(run *r);

static void on_verified(void *ud, int status, const char *code, const void *result)
{
    (void)result;
    run *r = ud;
    if (status != 0) {
        finish(r, status, code, NULL, NULL);
        return;
    }
    r->verified[r->next] = 1;
    /* The authenticator checked the value; the back end must not see it. */
    OPENSSL_cleanse(r->value[r->next], strlen(r->value[r->next]));
    r->value[r->next][0] = '\0';
    r->next++;
    step(r);
}

/* Offers the next unverified challenge to its authenticator, or calls kyc_auth when none is left.
 */
static void step(run *r)
{
    for (; r->next < r->n; r->next++) {
        if (r->verified[r->next])
            continue;
        struct esp_instance *a = esg_auth_authenticator(r->type[r->next]);
        if (a == NULL)
            continue;
        esp_challenge ch = {sizeof(ch), s(r->type[r->next]), s(r->format[r->next]),
                            s(r->value[r->next]), 0};
        esp_verify_request req = {sizeof(req),
                                  s(r->client_id),
                                  s(r->transaction_id),
                                  s(r->auth_txn),
                                  s(r->individual_id),
                                  ESP_STR_NULL,
                                  &ch};
        int rc = esg_call(a, ESG_OP_VERIFY, &req, on_verified, r);
        if (rc != 0)
            finish(r, rc, NULL, NULL, NULL);
        return;
    }
    struct esp_instance *b = esg_auth_backend();
    esp_challenge chs[MAX_CHALLENGES];
    const esp_challenge *ptrs[MAX_CHALLENGES];
    for (size_t i = 0; i < r->n; i++) {
        chs[i] = (esp_challenge){sizeof(esp_challenge), s(r->type[i]), s(r->format[i]),
                                 s(r->verified[i] ? NULL : r->value[i]), (uint32_t)r->verified[i]};
        ptrs[i] = &chs[i];
    }
    esp_kyc_auth_request req = {sizeof(req),
                                s(r->client_id),
                                s(r->rp_id),
                                s(r->auth_txn),
                                s(r->individual_id),
                                ptrs,
                                r->n,
                                0};
    int rc = b ? esg_call(b, ESG_OP_KYC_AUTH, &req, on_kyc_auth, r) : ESP_EUNAVAIL;
    if (rc != 0)
        finish(r, rc, NULL, NULL, NULL);
}

static run *run_new(const esg_txn *t, const char *individual_id)
{
    run *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->client_id = strdup(t->client_id);
    r->rp_id = strdup(t->rp_id ? t->rp_id : t->client_id);
    r->transaction_id = strdup(t->id);
    r->individual_id = strdup(individual_id);
    esg_txn_auth_id(t->id, AUTH_TXN_LEN, r->auth_txn);
    if (!r->client_id || !r->rp_id || !r->transaction_id || !r->individual_id) {
        run_free(r);
        return NULL;
    }
    return r;
}

/* Adds a challenge; `value` NULL marks it verified. */
static int add(run *r, const char *type, const char *format, const char *value)
{
    if (r->n >= MAX_CHALLENGES)
        return ESP_EINVAL;
    size_t i = r->n++;
    r->type[i] = strdup(type);
    r->format[i] = strdup(format ? format : "");
    r->value[i] = strdup(value ? value : "");
    r->verified[i] = value == NULL;
    return r->type[i] && r->format[i] && r->value[i] ? 0 : ESP_ENOMEM;
}

int esg_auth_run(const esg_txn *t, const char *individual_id, const json_t *challenges,
                 const json_t *verified, esg_auth_cb cb, void *ud)
{
    if (esg_auth_backend() == NULL)
        return ESP_EUNAVAIL;
    run *r = run_new(t, individual_id);
    if (r == NULL)
        return ESP_ENOMEM;
    r->cb = cb;
    r->ud = ud;
    int rc = 0;
    size_t i;
    json_t *c;
    json_array_foreach(challenges, i, c)
    {
        if (rc == 0)
            rc = add(r, json_string_value(json_object_get(c, "authFactorType")),
                     json_string_value(json_object_get(c, "format")),
                     json_string_value(json_object_get(c, "challenge")));
    }
    json_array_foreach(verified, i, c)
    {
        if (rc == 0)
            rc = add(r, json_string_value(c), NULL, NULL);
    }
    if (rc != 0) {
        run_free(r);
        return rc;
    }
    step(r);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * OTP sending.
 */

typedef struct otp {
    esg_otp_cb cb;
    void *ud;
    struct esp_instance *authenticator;
    char *client_id, *client_name, *rp_id, *transaction_id, *individual_id;
    char auth_txn[AUTH_TXN_LEN + 1];
    char *channels[4];
    size_t n_channels;
} otp;

static void otp_free(otp *o)
{
    free(o->client_id);
    free(o->client_name);
    free(o->rp_id);
    free(o->transaction_id);
    free(o->individual_id);
    for (size_t i = 0; i < o->n_channels; i++)
        free(o->channels[i]);
    free(o);
}

static void on_otp_sent(void *ud, int status, const char *code, const void *result)
{
    otp *o = ud;
    const esp_send_otp_result *r = result;
    o->cb(o->ud, status, code, r ? r->masked_email.ptr : NULL, r ? r->masked_mobile.ptr : NULL);
    otp_free(o);
}

static void channel_list(otp *o, esp_str *out)
{
    for (size_t i = 0; i < o->n_channels; i++)
        out[i] = s(o->channels[i]);
}

static void on_lookup(void *ud, int status, const char *code, const void *result)
{
    otp *o = ud;
    if (status != 0) {
        o->cb(o->ud, status, code, NULL, NULL);
        otp_free(o);
        return;
    }
    const esp_lookup_result *l = result;
    esp_str ch[4];
    channel_list(o, ch);
    esp_challenge_request req = {sizeof(req),
                                 s(o->client_id),
                                 s(o->client_name),
                                 s(o->transaction_id),
                                 s(o->individual_id),
                                 ch,
                                 o->n_channels,
                                 l->email,
                                 l->phone,
                                 l->locale};
    int rc = esg_call(o->authenticator, ESG_OP_SEND_CHALLENGE, &req, on_otp_sent, o);
    if (rc != 0) {
        o->cb(o->ud, rc, NULL, NULL, NULL);
        otp_free(o);
    }
}

int esg_auth_send_otp(const esg_txn *t, const char *individual_id, const json_t *channels,
                      esg_otp_cb cb, void *ud)
{
    struct esp_instance *b = esg_auth_backend();
    if (b == NULL)
        return ESP_EUNAVAIL;
    if (json_array_size(channels) == 0 || json_array_size(channels) > 4)
        return ESP_EINVAL;
    otp *o = calloc(1, sizeof(*o));
    if (o == NULL)
        return ESP_ENOMEM;
    o->cb = cb;
    o->ud = ud;
    o->client_id = strdup(t->client_id);
    o->client_name = strdup(t->client_name ? t->client_name : t->client_id);
    o->rp_id = strdup(t->rp_id ? t->rp_id : t->client_id);
    o->transaction_id = strdup(t->id);
    o->individual_id = strdup(individual_id);
    esg_txn_auth_id(t->id, AUTH_TXN_LEN, o->auth_txn);
    size_t i;
    json_t *c;
    json_array_foreach(channels, i, c) o->channels[o->n_channels++] = strdup(json_string_value(c));
    int rc = o->client_id && o->client_name && o->rp_id && o->transaction_id && o->individual_id
                 ? 0
                 : ESP_ENOMEM;
    for (size_t k = 0; rc == 0 && k < o->n_channels; k++)
        rc = o->channels[k] ? 0 : ESP_ENOMEM;
    if (rc != 0) {
        otp_free(o);
        return rc;
    }
    struct esp_instance *a = esg_auth_authenticator("OTP");
    if (a != NULL && esg_op_supported(a, ESG_OP_SEND_CHALLENGE) &&
        esg_op_supported(b, ESG_OP_LOOKUP)) {
        o->authenticator = a;
        esp_lookup_request req = {sizeof(req), s(individual_id)};
        rc = esg_call(b, ESG_OP_LOOKUP, &req, on_lookup, o);
    } else {
        esp_str ch[4];
        channel_list(o, ch);
        esp_send_otp_request req = {sizeof(req),    s(o->client_id),  s(o->rp_id),
                                    s(o->auth_txn), s(individual_id), ch,
                                    o->n_channels};
        rc = esg_call(b, ESG_OP_SEND_OTP, &req, on_otp_sent, o);
    }
    if (rc != 0)
        otp_free(o);
    return rc;
}
