#include "oidc/transaction.h"

#include <stdlib.h>
#include <string.h>

#include <esignet/plugin.h>

#include "util/clock.h"
#include "util/str.h"

esg_txn *esg_txn_new(void)
{
    esg_txn *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    if (esg_random_token(t->id, sizeof(t->id), 32) != 0) {
        free(t);
        return NULL;
    }
    t->state = ESG_TXN_PREAUTH;
    t->created_at = esg_wall_s();
    t->max_age = -1;
    return t;
}

void esg_txn_free(esg_txn *t)
{
    if (t == NULL)
        return;
    char **strings[] = {&t->client_id,     &t->rp_id,        &t->redirect_uri,
                        &t->state_param,   &t->nonce,        &t->code_challenge,
                        &t->login_hint,    &t->hint_subject, &t->oauth_details_hash,
                        &t->individual_id, &t->subject,      &t->kyc_token,
                        &t->client_name,   &t->dpop_jkt};
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
        free(*strings[i]);
    json_t *values[] = {t->scopes,         t->authorize_scopes, t->claims,
                        t->essential,      t->voluntary,        t->acrs,
                        t->claims_locales, t->ui_locales,       t->amr,
                        t->acr_satisfied,  t->accepted_claims,  t->permitted_scopes};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
        json_decref(values[i]);
    free(t);
}

int esg_txn_can_move(int from, int to)
{
    return from == ESG_TXN_PREAUTH && to == ESG_TXN_AUTHENTICATED;
}

/* Field tables: one place names every member, so serialization and restoring cannot drift. */
struct str_field {
    const char *key;
    size_t offset;
};
struct json_field {
    const char *key;
    size_t offset;
};
struct int_field {
    const char *key;
    size_t offset;
    int is64;
    int optional; /* may be absent from documents written before it existed: then 0 */
};

#define SF(k, m)                                                                                   \
    {                                                                                              \
        k, offsetof(esg_txn, m)                                                                    \
    }
static const struct str_field str_fields[] = {
    SF("client_id", client_id),
    SF("rp_id", rp_id),
    SF("redirect_uri", redirect_uri),
    SF("state", state_param),
    SF("nonce", nonce),
    SF("code_challenge", code_challenge),
    SF("login_hint", login_hint),
    SF("client_name", client_name),
    SF("dpop_jkt", dpop_jkt),
    SF("hint_subject", hint_subject),
    SF("oauth_details_hash", oauth_details_hash),
    SF("individual_id", individual_id),
    SF("subject", subject),
    SF("kyc_token", kyc_token),
};
static const struct json_field json_fields[] = {
    SF("scopes", scopes),
    SF("authorize_scopes", authorize_scopes),
    SF("claims", claims),
    SF("essential", essential),
    SF("voluntary", voluntary),
    SF("acrs", acrs),
    SF("claims_locales", claims_locales),
    SF("ui_locales", ui_locales),
    SF("amr", amr),
    SF("acr_satisfied", acr_satisfied),
    SF("accepted_claims", accepted_claims),
    SF("permitted_scopes", permitted_scopes),
};
#undef SF
static const struct int_field int_fields[] = {
    {"state_machine", offsetof(esg_txn, state), 0, 0},
    {"created_at", offsetof(esg_txn, created_at), 1, 0},
    {"prompt", offsetof(esg_txn, prompt), 0, 0},
    {"max_age", offsetof(esg_txn, max_age), 1, 0},
    {"auth_time", offsetof(esg_txn, auth_time), 1, 0},
    {"consent_capture", offsetof(esg_txn, consent_capture), 0, 0},
    {"consent_expires_at", offsetof(esg_txn, consent_expires_at), 1, 1},
};

json_t *esg_txn_to_json(const esg_txn *t)
{
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    int rc = json_object_set_new(o, "id", json_string(t->id));
    for (size_t i = 0; rc == 0 && i < sizeof(str_fields) / sizeof(str_fields[0]); i++) {
        const char *v = *(char *const *)(const void *)((const char *)t + str_fields[i].offset);
        if (v != NULL)
            rc = json_object_set_new(o, str_fields[i].key, json_string(v));
    }
    for (size_t i = 0; rc == 0 && i < sizeof(json_fields) / sizeof(json_fields[0]); i++) {
        json_t *v = *(json_t *const *)(const void *)((const char *)t + json_fields[i].offset);
        if (v != NULL)
            rc = json_object_set(o, json_fields[i].key, v);
    }
    for (size_t i = 0; rc == 0 && i < sizeof(int_fields) / sizeof(int_fields[0]); i++) {
        const char *p = (const char *)t + int_fields[i].offset;
        json_int_t v =
            int_fields[i].is64 ? *(const int64_t *)(const void *)p : *(const int *)(const void *)p;
        rc = json_object_set_new(o, int_fields[i].key, json_integer(v));
    }
    if (rc != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int esg_txn_from_json(const json_t *doc, esg_txn **out)
{
    const char *id = json_string_value(json_object_get(doc, "id"));
    if (id == NULL || strlen(id) >= sizeof(((esg_txn *)0)->id))
        return ESP_EINVAL;
    esg_txn *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return ESP_ENOMEM;
    memcpy(t->id, id, strlen(id) + 1);
    for (size_t i = 0; i < sizeof(str_fields) / sizeof(str_fields[0]); i++) {
        const json_t *v = json_object_get(doc, str_fields[i].key);
        if (v == NULL)
            continue;
        char *copy =
            json_is_string(v) ? esg_strndup(json_string_value(v), json_string_length(v)) : NULL;
        if (copy == NULL)
            goto fail;
        *(char **)(void *)((char *)t + str_fields[i].offset) = copy;
    }
    for (size_t i = 0; i < sizeof(json_fields) / sizeof(json_fields[0]); i++) {
        json_t *v = json_object_get(doc, json_fields[i].key);
        if (v != NULL)
            *(json_t **)(void *)((char *)t + json_fields[i].offset) = json_incref(v);
    }
    for (size_t i = 0; i < sizeof(int_fields) / sizeof(int_fields[0]); i++) {
        const json_t *v = json_object_get(doc, int_fields[i].key);
        if (v == NULL && int_fields[i].optional)
            continue;
        if (!json_is_integer(v))
            goto fail;
        char *p = (char *)t + int_fields[i].offset;
        if (int_fields[i].is64)
            *(int64_t *)(void *)p = (int64_t)json_integer_value(v);
        else
            *(int *)(void *)p = (int)json_integer_value(v);
    }
    if (t->state != ESG_TXN_PREAUTH && t->state != ESG_TXN_AUTHENTICATED)
        goto fail;
    *out = t;
    return 0;
fail:
    esg_txn_free(t);
    return ESP_EINVAL;
}

void esg_txn_auth_id(const char *transaction_id, size_t len, char *out)
{
    char clean[64];
    size_t n = 0;
    for (const char *p = transaction_id; *p && n < sizeof(clean) - 1; p++) {
        if (*p != '-' && *p != '_')
            clean[n++] = *p;
    }
    for (size_t i = 0; i < len; i++)
        out[i] = n ? clean[n - 1 - (i % n)] : '0';
    out[len] = '\0';
}
