/*
 * Client management API: authentication, field rules (one error per invalid field, as eSignet's
 * bean validation reports them), and the documents written through core/oauth/clients.
 *
 * Members a version does not know are ignored, as eSignet's JSON mapping ignores them.
 * Validation errors and service errors are answered with HTTP 200 and the errors list; only a
 * missing or wrong admin token gets 401.
 */
#include "api/clients_api.h"

#include <stdlib.h>
#include <string.h>

#include "api/envelope.h"
#include "http/response.h"
#include "jose/jwk.h"
#include "oauth/clients.h"
#include "oidc/settings.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/status.h"
#include "util/str.h"

enum api_op { OP_CREATE = 1u << 0, OP_UPDATE = 1u << 1, OP_PATCH = 1u << 2, OP_GET = 1u << 3 };

#define V1     (1u << 1)
#define V2     (1u << 2)
#define V3     (1u << 3)
#define V_ALL  (V1 | V2 | V3)
#define OP_CUP (OP_CREATE | OP_UPDATE | OP_PATCH)
#define OP_CU  (OP_CREATE | OP_UPDATE)

/* Longest admin token accepted, and most entries of a client name language map. */
#define TOKEN_MAX              1024
#define LANG_MAP_MAX           64
#define ADDITIONAL_CONFIG_MAX  2048
#define CONSENT_EXPIRY_MIN     10
#define CONSENT_EXPIRY_MAX_MIN (100L * 366 * 24 * 60)

/* One request in progress; owned by the handler chain until the response is sent. */
typedef struct api_ctx {
    esg_http_req *req;
    unsigned version; /* V1, V2 or V3 */
    unsigned op;      /* enum api_op */
    char *client_id;  /* owned */
    json_t *env;      /* the request envelope, owned */
    json_t *errors;   /* validation errors, owned */
    json_t *set;      /* validated values by stored member name, owned */
    json_t *name;     /* validated clientName (string) or NULL, owned */
    json_t *lang_map; /* validated clientNameLangMap (object) or NULL, owned */
    json_t *doc;      /* the document being written, owned */
} api_ctx;

static void ctx_free(api_ctx *ctx)
{
    free(ctx->client_id);
    json_decref(ctx->env);
    json_decref(ctx->errors);
    json_decref(ctx->set);
    json_decref(ctx->name);
    json_decref(ctx->lang_map);
    json_decref(ctx->doc);
    free(ctx);
}

/* ------------------------------------------------------------------------------------------------
 * Responses.
 */

/* Answers {clientId, status}; both strings may point into ctx, which is freed afterwards. */
static void respond_ok(api_ctx *ctx, const char *client_id, const char *status)
{
    json_t *response = json_pack("{s:s,s:s}", "clientId", client_id, "status", status);
    if (response == NULL)
        esg_envelope_error(ctx->req, 200, "unknown_error", NULL);
    else
        esg_envelope_ok(ctx->req, response, NULL);
    ctx_free(ctx);
}

static void respond_error(api_ctx *ctx, const char *code)
{
    esg_envelope_error(ctx->req, 200, code, NULL);
    ctx_free(ctx);
}

/* Answers with every validation error collected in ctx->errors. */
static void respond_errors(api_ctx *ctx)
{
    char ts[25];
    esg_time_format_iso(esg_wall_ms(), ts);
    json_t *env = json_pack("{s:s,s:n,s:O}", "responseTime", ts, "response", "errors", ctx->errors);
    if (env == NULL)
        esg_envelope_error(ctx->req, 200, "unknown_error", NULL);
    else
        esg_http_respond_json(ctx->req, 200, env);
    json_decref(env);
    ctx_free(ctx);
}

/* The eSignet errorCode for a failed storage operation. */
static const char *service_error(int status)
{
    switch (status) {
    case ESP_EEXIST:
        return "duplicate_client_id";
    case ESP_EDUPLICATE_KEY:
        return "duplicate_public_key";
    case ESP_ENOTFOUND:
        return "invalid_client_id";
    case ESP_ETIMEDOUT:
    case ESP_EUNAVAIL:
        return esg_status_esignet_error(status);
    default:
        return "unknown_error";
    }
}

static void log_write(const api_ctx *ctx, const char *event, int status)
{
    esg_log_kv kv[] = {ESG_KV_STR("client_id", ctx->client_id),
                       ESG_KV_INT("api_version", ctx->version == V1   ? 1
                                                 : ctx->version == V2 ? 2
                                                                      : 3),
                       ESG_KV_STR("status", esg_err_name(status))};
    esg_log_event(status == 0 ? ESP_LOG_INFO : ESP_LOG_WARN, event, kv, 3);
}

/* ------------------------------------------------------------------------------------------------
 * Authentication: the admin token's SHA-256 must match the configured one. The token itself is
 * never logged or echoed.
 */

/* 1 when the request carries the admin token; *presented tells whether it carried any. */
static int authorized(esg_http_req *req, int *presented)
{
    esp_str token;
    int rc = esg_http_req_auth(req, "Bearer", &token);
    *presented = rc != ESP_ENOTFOUND;
    return rc == 0 && token.len <= TOKEN_MAX && esg_clients_admin_token_ok(token.ptr, token.len);
}

static void unauthorized(esg_http_req *req, int presented)
{
    /* RFC 6750 §3: no error code when the request had no credentials at all. */
    esg_http_resp_header(req, "WWW-Authenticate",
                         presented ? "Bearer error=\"invalid_token\"" : "Bearer");
    esg_envelope_error(req, 401, "invalid_token", NULL);
}

/* ------------------------------------------------------------------------------------------------
 * Text rules shared by every field: valid UTF-8 (jansson guarantees it) without control
 * characters (C0, DEL, C1), since the login page recomputes a hash over JSON we emit.
 */

static int text_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return 0;
        if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
            (unsigned char)s[i + 1] <= 0x9f)
            return 0;
    }
    return 1;
}

/* 1 when every string and member name in `v` passes text_ok(). */
static int tree_ok(json_t *v)
{
    const char *key;
    json_t *item;
    size_t i;
    switch (json_typeof(v)) {
    case JSON_STRING:
        return text_ok(json_string_value(v), json_string_length(v));
    case JSON_OBJECT:
        json_object_foreach(v, key, item)
        {
            if (!text_ok(key, strlen(key)) || !tree_ok(item))
                return 0;
        }
        return 1;
    case JSON_ARRAY:
        json_array_foreach(v, i, item)
        {
            if (!tree_ok(item))
                return 0;
        }
        return 1;
    default:
        return 1;
    }
}

/* Number of code points of UTF-8 text. */
static size_t chars(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += ((unsigned char)s[i] & 0xc0) != 0x80;
    return count;
}

static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ')
            return 0;
    return 1;
}

/*
 * Client and relying-party ids: eSignet's \S{1,100}, without control characters, and usable as a
 * path segment of this API (no '/', not "." or "..").
 */
static int id_ok(const char *s, size_t n)
{
    if (n == 0 || n > 400 || chars(s, n) > 100 || !text_ok(s, n) || memchr(s, ' ', n) != NULL ||
        memchr(s, '/', n) != NULL)
        return 0;
    return !(esg_str_eq(s, n, ".") || esg_str_eq(s, n, ".."));
}

/* ------------------------------------------------------------------------------------------------
 * Field rules.
 */

typedef struct rule rule;
/*
 * Checks a present, non-null value (borrowed). On success returns 0 with the value to store in
 * *out (a new reference); otherwise returns -1 after adding its errors to ctx->errors.
 */
typedef int (*check_fn)(api_ctx *ctx, const rule *r, json_t *v, json_t **out);
typedef int (*item_fn)(const char *s, size_t n);

struct rule {
    const char *field;  /* request member */
    const char *stored; /* document member; NULL for the name parts */
    const char *code;   /* error code */
    check_fn check;
    unsigned versions; /* V1 | V2 | V3 */
    unsigned ops;      /* where the member is read */
    unsigned required; /* where it must be present */
    size_t min_create; /* list sizes */
    size_t min;
    size_t max;
    item_fn item; /* list items */
};

/* Adds "<field>: <code>" unless the same pair is already listed. */
static void add_error(api_ctx *ctx, const char *field, const char *code)
{
    char message[160];
    json_t *e;
    size_t i;
    snprintf(message, sizeof(message), "%s: %s", field, code);
    json_array_foreach(ctx->errors, i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "errorMessage")), message) == 0)
            return;
    }
    json_array_append_new(ctx->errors,
                          json_pack("{s:s,s:s}", "errorCode", code, "errorMessage", message));
}

static int fail(api_ctx *ctx, const rule *r)
{
    add_error(ctx, r->field, r->code);
    return -1;
}

static int check_id(api_ctx *ctx, const rule *r, json_t *v, json_t **out)
{
    if (!json_is_string(v) || !id_ok(json_string_value(v), json_string_length(v)))
        return fail(ctx, r);
    *out = json_incref(v);
    return 0;
}

static int check_name(api_ctx *ctx, const rule *r, json_t *v, json_t **out)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (s == NULL || blank(s, n) || chars(s, n) > 256 || !text_ok(s, n))
        return fail(ctx, r);
    *out = json_incref(v);
    return 0;
}

/* ISO 639-3 codes are three lower-case letters. */
static int language_code(const char *s)
{
    return strlen(s) == 3 && s[0] >= 'a' && s[0] <= 'z' && s[1] >= 'a' && s[1] <= 'z' &&
           s[2] >= 'a' && s[2] <= 'z';
}

static int check_lang_map(api_ctx *ctx, const rule *r, json_t *v, json_t **out)
{
    const char *lang;
    json_t *text;
    int bad = 0;
    if (!json_is_object(v) || json_object_size(v) > LANG_MAP_MAX)
        return fail(ctx, r);
    json_object_foreach(v, lang, text)
    {
        const char *s = json_string_value(text);
        size_t n = json_string_length(text);
        if (!language_code(lang)) {
            add_error(ctx, r->field, "invalid_language_code");
            bad = 1;
        }
        if (s == NULL || blank(s, n) || !text_ok(s, n)) {
            add_error(ctx, r->field, "invalid_client_name_value");
            bad = 1;
        } else if (chars(s, n) > 50) {
            add_error(ctx, r->field, "invalid_client_name_length");
            bad = 1;
        }
    }
    if (bad)
        return -1;
    *out = json_incref(v);
    return 0;
}

/*
 * Imports a public JWK: RSA or EC for verifying client assertions, or (enc) RSA for RSA-OAEP-256
 * userinfo encryption. *out is the canonical public JWK (kty, key members, kid, use, alg), which
 * is what gets stored and hashed.
 */
static int import_jwk(json_t *v, int enc, json_t **out)
{
    esg_jwk *k = NULL;
    const char *why = NULL;
    int rc = -1;
    if (!json_is_object(v) || !tree_ok(v) || esg_jwk_import(v, 0, &k, &why) != 0)
        return -1;
    esg_jwk_kty kty = esg_jwk_type(k);
    /* Under FAPI 2.0 a signing key must be usable with PS256 or ES256: one registered for RS256
     * (or another algorithm) could never authenticate. */
    const char *alg = esg_jwk_alg(k);
    if (!enc && alg != NULL && esg_oidc()->fapi2 && !esg_oidc_alg_allowed(alg)) {
        esg_jwk_free(k);
        return -1;
    }
    if (enc ? kty == ESG_JWK_KTY_RSA &&
                  esg_jwk_check_use(k, ESG_JWK_OP_ENCRYPT, "RSA-OAEP-256", &why) == 0
            : (kty == ESG_JWK_KTY_RSA || kty == ESG_JWK_KTY_EC) &&
                  esg_jwk_check_use(k, ESG_JWK_OP_VERIFY, esg_jwk_alg(k), &why) == 0)
        rc = esg_jwk_export(k, 0, out) == 0 ? 0 : -1;
    esg_jwk_free(k);
    return rc;
}

static int check_jwk(api_ctx *ctx, const rule *r, json_t *v, json_t **out)
{
    return import_jwk(v, 0, out) == 0 ? 0 : fail(ctx, r);
}

static int check_enc_jwk(api_ctx *ctx, const rule *r, json_t *v, json_t **out)
{
    return import_jwk(v, 1, out) == 0 ? 0 : fail(ctx, r);
}

static int check_logo(api_ctx *ctx, const rule *r, json_t *v, json_t **out)
{
    if (!json_is_string(v) ||
        !esg_clients_logo_uri_valid(json_string_value(v), json_string_length(v)))
        return fail(ctx, r);
    *out = json_incref(v);
    return 0;
}

static int check_status(api_ctx *ctx, const rule *r, json_t *v, json_t **out)
{
    const char *s = json_string_value(v);
    if (s == NULL || (strcmp(s, "ACTIVE") != 0 && strcmp(s, "INACTIVE") != 0))
        return fail(ctx, r);
    *out = json_incref(v);
    return 0;
}

/* A list of strings within the rule's bounds, each accepted by the rule's item check; repeated
 * items are kept once, in their first position. */
static int check_list(api_ctx *ctx, const rule *r, json_t *v, json_t **out)
{
    size_t min = ctx->op == OP_CREATE ? r->min_create : r->min;
    size_t n = json_array_size(v);
    json_t *item;
    size_t i;
    if (!json_is_array(v) || n < min || n > r->max)
        return fail(ctx, r);
    json_t *list = json_array();
    if (list == NULL)
        return fail(ctx, r);
    json_array_foreach(v, i, item)
    {
        const char *s = json_string_value(item);
        size_t len = json_string_length(item);
        int seen = 0;
        if (s == NULL || len == 0 || !text_ok(s, len) || !r->item(s, len)) {
            json_decref(list);
            return fail(ctx, r);
        }
        for (size_t j = 0; j < json_array_size(list) && !seen; j++)
            seen = json_equal(json_array_get(list, j), item);
        if (!seen)
            json_array_append(list, item);
    }
    *out = list;
    return 0;
}

static int item_claim(const char *s, size_t n)
{
    (void)n;
    return esg_clients_claim_supported(s);
}

static int item_acr(const char *s, size_t n)
{
    (void)n;
    return esg_clients_acr_supported(s);
}

static int item_grant(const char *s, size_t n)
{
    return esg_str_eq(s, n, "authorization_code");
}

static int item_auth(const char *s, size_t n)
{
    return esg_str_eq(s, n, "private_key_jwt");
}

/* A language map of the login page (purpose title/subTitle): "@none" and other strings. */
static int i18n_ok(json_t *v)
{
    const char *key;
    json_t *text;
    if (json_is_null(v))
        return 1;
    if (!json_is_object(v) || !json_is_string(json_object_get(v, "@none")))
        return 0;
    json_object_foreach(v, key, text)
    {
        if (!json_is_string(text))
            return 0;
    }
    return 1;
}

static int purpose_ok(json_t *v)
{
    static const char *const types[] = {"none", "verify", "link", "login"};
    const char *type = json_string_value(json_object_get(v, "type"));
    const char *key;
    json_t *value;
    int known = 0;
    if (json_is_null(v))
        return 1;
    if (!json_is_object(v) || type == NULL)
        return 0;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        known |= strcmp(type, types[i]) == 0;
    if (!known)
        return 0;
    json_object_foreach(v, key, value)
    {
        if (strcmp(key, "type") != 0 &&
            !((strcmp(key, "title") == 0 || strcmp(key, "subTitle") == 0) && i18n_ok(value)))
            return 0;
    }
    return 1;
}

/* eSignet §6.3: only the schema's members, with their types; additionalProperties false. */
static int additional_ok(json_t *v)
{
    static const char *const flags[] = {"signup_banner_required", "forgot_pwd_link_required",
                                        "require_pushed_authorization_requests",
                                        "dpop_bound_access_tokens", "require_pkce"};
    const char *key;
    json_t *value;
    if (!json_is_object(v) || !tree_ok(v))
        return 0;
    json_object_foreach(v, key, value)
    {
        int ok = 0;
        if (strcmp(key, "userinfo_response_type") == 0) {
            const char *s = json_string_value(value);
            ok = s != NULL && (strcmp(s, "JWS") == 0 || strcmp(s, "JWE") == 0);
        } else if (strcmp(key, "purpose") == 0) {
            ok = purpose_ok(value);
        } else if (strcmp(key, "consent_expire_in_mins") == 0) {
            ok = json_is_integer(value) && json_integer_value(value) >= CONSENT_EXPIRY_MIN &&
                 json_integer_value(value) <= CONSENT_EXPIRY_MAX_MIN;
        } else {
            for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
                if (strcmp(key, flags[i]) == 0)
                    ok = json_is_boolean(value);
        }
        if (!ok)
            return 0;
    }
    char *text = esg_envelope_dump(v);
    int fits = text != NULL && strlen(text) <= ADDITIONAL_CONFIG_MAX;
    free(text);
    return fits;
}

static int check_additional(api_ctx *ctx, const rule *r, json_t *v, json_t **out)
{
    if (!additional_ok(v))
        return fail(ctx, r);
    *out = json_incref(v);
    return 0;
}

/* Every member of every version, in the order errors are reported. */
static const rule rules[] = {
    {"clientId", "id", "invalid_client_id", check_id, V_ALL, OP_CREATE, OP_CREATE, 0, 0, 0, NULL},
    {"clientName", NULL, "invalid_client_name", check_name, V_ALL, OP_CUP, OP_CU, 0, 0, 0, NULL},
    {"clientNameLangMap", NULL, "invalid_client_name", check_lang_map, V2 | V3, OP_CUP, 0, 0, 0, 0,
     NULL},
    {"publicKey", "public_key", "invalid_public_key", check_jwk, V_ALL, OP_CREATE, OP_CREATE, 0, 0,
     0, NULL},
    {"relyingPartyId", "rp_id", "invalid_rp_id", check_id, V_ALL, OP_CREATE, OP_CREATE, 0, 0, 0,
     NULL},
    {"userClaims", "claims", "invalid_claim", check_list, V_ALL, OP_CUP, OP_CU, 0, 1, 30,
     item_claim},
    {"authContextRefs", "acr_values", "invalid_acr", check_list, V_ALL, OP_CUP, OP_CU, 1, 1, 30,
     item_acr},
    {"logoUri", "logo_uri", "invalid_uri", check_logo, V_ALL, OP_CUP, OP_CU, 0, 0, 0, NULL},
    {"redirectUris", "redirect_uris", "invalid_redirect_uri", check_list, V_ALL, OP_CUP, OP_CU, 1,
     1, 5, esg_clients_redirect_uri_valid},
    {"grantTypes", "grant_types", "unsupported_grant_type", check_list, V_ALL, OP_CUP, OP_CU, 1, 1,
     3, item_grant},
    {"clientAuthMethods", "auth_methods", "invalid_client_auth", check_list, V_ALL, OP_CUP, OP_CU,
     1, 1, 3, item_auth},
    {"status", "status", "invalid_status", check_status, V_ALL, OP_UPDATE | OP_PATCH, OP_UPDATE, 0,
     0, 0, NULL},
    {"additionalConfig", "additional_config", "invalid_additional_config", check_additional, V3,
     OP_CUP, 0, 0, 0, 0, NULL},
    {"encPublicKey", "enc_public_key", "invalid_public_key", check_enc_jwk, V3,
     OP_CREATE | OP_PATCH, 0, 0, 0, 0, NULL},
};

/*
 * Checks every member the version and operation read. Valid values go to ctx->set (by stored
 * name), ctx->name and ctx->lang_map; errors to ctx->errors. Returns 0 when there was none.
 */
static int validate(api_ctx *ctx, json_t *request)
{
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        const rule *r = &rules[i];
        json_t *v = json_object_get(request, r->field);
        json_t *value = NULL;
        if (!(r->versions & ctx->version) || !(r->ops & ctx->op))
            continue;
        if (v == NULL || json_is_null(v)) {
            if (r->required & ctx->op)
                add_error(ctx, r->field, r->code);
            continue;
        }
        if (r->check(ctx, r, v, &value) != 0)
            continue;
        if (r->check == check_name)
            ctx->name = value;
        else if (r->check == check_lang_map)
            ctx->lang_map = value;
        else
            json_object_set_new(ctx->set, r->stored, value);
    }
    return json_array_size(ctx->errors) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------------------------------------------
 * Documents.
 */

/* {"@none": none, ...map} (map borrowed, may be NULL; its "@none" never overrides). */
static json_t *build_name(json_t *none, json_t *map)
{
    json_t *name = json_pack("{s:O}", "@none", none);
    const char *lang;
    json_t *text;
    if (name == NULL || !json_is_object(map))
        return name;
    json_object_foreach(map, lang, text)
    {
        if (strcmp(lang, "@none") != 0)
            json_object_set(name, lang, text);
    }
    return name;
}

static void set_time(json_t *doc, const char *member)
{
    char ts[25];
    esg_time_format_iso(esg_wall_ms(), ts);
    json_object_set_new(doc, member, json_string(ts));
}

/* Adds the public key hash of ctx->set's key `key` as `hash_member`. Returns 0 or -1. */
static int add_key_hash(api_ctx *ctx, const char *key, const char *hash_member)
{
    char hash[65];
    json_t *jwk = json_object_get(ctx->set, key);
    if (jwk == NULL)
        return 0;
    if (esg_clients_key_hash(jwk, hash) != 0)
        return -1;
    return json_object_set_new(ctx->set, hash_member, json_string(hash));
}

/* The new client's document from the validated values. */
static json_t *create_doc(api_ctx *ctx)
{
    json_t *doc = json_pack("{s:O,s:o}", "id", json_object_get(ctx->set, "id"), "name",
                            build_name(ctx->name, ctx->lang_map));
    static const char *const order[] = {"rp_id",           "logo_uri",       "redirect_uris",
                                        "claims",          "acr_values",     "public_key",
                                        "public_key_hash", "enc_public_key", "enc_public_key_hash",
                                        "grant_types",     "auth_methods"};
    if (doc == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        json_t *v = json_object_get(ctx->set, order[i]);
        if (v != NULL)
            json_object_set(doc, order[i], v);
    }
    json_t *extra = json_object_get(ctx->set, "additional_config");
    json_object_set_new(doc, "status", json_string("ACTIVE"));
    json_object_set_new(doc, "additional_config", extra ? json_incref(extra) : json_object());
    set_time(doc, "cr_dtimes");
    set_time(doc, "upd_dtimes");
    return doc;
}

/* Applies an update or patch to a copy of the stored document (borrowed). */
static json_t *updated_doc(api_ctx *ctx, json_t *stored)
{
    json_t *doc = json_deep_copy(stored);
    if (doc == NULL)
        return NULL;
    if (ctx->op == OP_UPDATE) {
        /* PUT replaces the name (v1 has no language map) and, in v3, additionalConfig. */
        json_object_set_new(doc, "name", build_name(ctx->name, ctx->lang_map));
        if (ctx->version == V3 && json_object_get(ctx->set, "additional_config") == NULL)
            json_object_set_new(doc, "additional_config", json_object());
    } else if (ctx->name != NULL || ctx->lang_map != NULL) {
        /* PATCH keeps what it was not given: the other half of the name stays. */
        json_t *old = json_object_get(stored, "name");
        json_t *none = ctx->name ? ctx->name : json_object_get(old, "@none");
        if (none == NULL)
            none = json_object_get(stored, "id");
        json_object_set_new(doc, "name", build_name(none, ctx->lang_map ? ctx->lang_map : old));
    }
    json_object_update(doc, ctx->set);
    set_time(doc, "upd_dtimes");
    return doc;
}

/* The stored document as the API shows it (GET): request member names, nothing secret. */
static json_t *public_view(json_t *doc)
{
    static const char *const map[][2] = {{"id", "clientId"},
                                         {"rp_id", "relyingPartyId"},
                                         {"logo_uri", "logoUri"},
                                         {"redirect_uris", "redirectUris"},
                                         {"claims", "userClaims"},
                                         {"acr_values", "authContextRefs"},
                                         {"public_key", "publicKey"},
                                         {"enc_public_key", "encPublicKey"},
                                         {"grant_types", "grantTypes"},
                                         {"auth_methods", "clientAuthMethods"},
                                         {"status", "status"},
                                         {"additional_config", "additionalConfig"},
                                         {"cr_dtimes", "createdAt"},
                                         {"upd_dtimes", "updatedAt"}};
    json_t *name = json_object_get(doc, "name");
    json_t *view = json_object();
    json_t *langs = json_object();
    const char *lang;
    json_t *text;
    if (view == NULL || langs == NULL) {
        json_decref(view);
        json_decref(langs);
        return NULL;
    }
    json_object_foreach(name, lang, text)
    {
        if (strcmp(lang, "@none") != 0)
            json_object_set(langs, lang, text);
    }
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        json_t *v = json_object_get(doc, map[i][0]);
        if (v != NULL)
            json_object_set(view, map[i][1], v);
        if (i == 0) {
            json_t *none = json_object_get(name, "@none");
            json_object_set(view, "clientName", none ? none : json_null());
            json_object_set_new(view, "clientNameLangMap", langs);
        }
    }
    return view;
}

/* ------------------------------------------------------------------------------------------------
 * Handler chain.
 */

static void written(void *ud, int status)
{
    api_ctx *ctx = ud;
    log_write(ctx, ctx->op == OP_CREATE ? "clients.create" : "clients.update", status);
    if (status != 0) {
        respond_error(ctx, service_error(status));
        return;
    }
    const char *st = json_string_value(json_object_get(ctx->doc, "status"));
    respond_ok(ctx, ctx->client_id, st != NULL ? st : "ACTIVE");
}

/*
 * A client that asks for encrypted userinfo must have a key to encrypt to, in the document as it
 * will be stored (a PATCH may change either half).
 */
static int jwe_without_key(const json_t *doc)
{
    const char *type = json_string_value(
        json_object_get(json_object_get(doc, "additional_config"), "userinfo_response_type"));
    return type != NULL && strcmp(type, "JWE") == 0 &&
           !json_is_object(json_object_get(doc, "enc_public_key"));
}

static void write_doc(api_ctx *ctx)
{
    if (jwe_without_key(ctx->doc)) {
        add_error(ctx, "encPublicKey", "invalid_public_key");
        respond_errors(ctx);
        return;
    }
    int rc = ctx->op == OP_CREATE ? esg_clients_insert(ctx->doc, written, ctx)
                                  : esg_clients_replace(ctx->doc, written, ctx);
    if (rc != 0) {
        log_write(ctx, ctx->op == OP_CREATE ? "clients.create" : "clients.update", rc);
        respond_error(ctx, service_error(rc));
    }
}

/*
 * One key must not serve both for signing assertions and for encrypting userinfo: when the new
 * encryption key is the signing key of `doc` (the new values or the stored document), answers
 * with the error and returns 1.
 */
static int reuses_signing_key(api_ctx *ctx, json_t *doc)
{
    const char *enc = json_string_value(json_object_get(ctx->set, "enc_public_key_hash"));
    const char *sig = json_string_value(json_object_get(doc, "public_key_hash"));
    if (enc == NULL || sig == NULL || strcmp(enc, sig) != 0)
        return 0;
    add_error(ctx, "encPublicKey", "invalid_public_key");
    respond_errors(ctx);
    return 1;
}

static void loaded(void *ud, int status, json_t *stored)
{
    api_ctx *ctx = ud;
    if (status != 0) {
        respond_error(ctx, service_error(status));
    } else if (reuses_signing_key(ctx, stored)) {
        /* Answered. */
    } else if (ctx->op == OP_GET) {
        json_t *view = public_view(stored);
        if (view == NULL)
            respond_error(ctx, "unknown_error");
        else {
            esg_envelope_ok(ctx->req, view, NULL);
            ctx_free(ctx);
        }
    } else if ((ctx->doc = updated_doc(ctx, stored)) == NULL) {
        respond_error(ctx, "unknown_error");
    } else {
        write_doc(ctx);
    }
    json_decref(stored);
}

/* Validates the envelope's request for a write and starts it. */
static void start_write(api_ctx *ctx)
{
    const char *error, *message;
    json_t *request = NULL;
    if (esg_envelope_parse(ctx->req, &ctx->env, &request, &error, &message) != 0) {
        esg_envelope_error(ctx->req, 200, error, message);
        ctx_free(ctx);
        return;
    }
    if (validate(ctx, request) != 0) {
        respond_errors(ctx);
        return;
    }
    if (add_key_hash(ctx, "public_key", "public_key_hash") != 0 ||
        add_key_hash(ctx, "enc_public_key", "enc_public_key_hash") != 0) {
        respond_error(ctx, "invalid_public_key");
        return;
    }
    if (reuses_signing_key(ctx, ctx->set))
        return;
    if (ctx->op == OP_CREATE) {
        ctx->client_id = strdup(json_string_value(json_object_get(ctx->set, "id")));
        if (ctx->client_id == NULL || (ctx->doc = create_doc(ctx)) == NULL) {
            respond_error(ctx, "unknown_error");
            return;
        }
        write_doc(ctx);
        return;
    }
    int rc = esg_clients_load(ctx->client_id, loaded, ctx);
    if (rc != 0)
        respond_error(ctx, service_error(rc));
}

static void handle(esg_http_req *req, unsigned version)
{
    int presented = 0;
    esp_str param;
    unsigned op;
    switch (esg_http_req_method(req)) {
    case ESG_HTTP_POST:
        op = OP_CREATE;
        break;
    case ESG_HTTP_PUT:
        op = OP_UPDATE;
        break;
    case ESG_HTTP_PATCH:
        op = OP_PATCH;
        break;
    default:
        op = OP_GET;
        break;
    }
    if (!authorized(req, &presented)) {
        unauthorized(req, presented);
        return;
    }
    api_ctx *ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL || (ctx->errors = json_array()) == NULL || (ctx->set = json_object()) == NULL) {
        if (ctx != NULL)
            ctx_free(ctx);
        esg_envelope_error(req, 200, "unknown_error", NULL);
        return;
    }
    ctx->req = req;
    ctx->version = version;
    ctx->op = op;
    if (op != OP_CREATE) {
        if (esg_http_req_param(req, "client_id", &param) != 0 || !id_ok(param.ptr, param.len)) {
            respond_error(ctx, "invalid_client_id");
            return;
        }
        if ((ctx->client_id = esg_strndup(param.ptr, param.len)) == NULL) {
            respond_error(ctx, "unknown_error");
            return;
        }
    }
    if (op == OP_GET) {
        int rc = esg_clients_load(ctx->client_id, loaded, ctx);
        if (rc != 0)
            respond_error(ctx, service_error(rc));
        return;
    }
    start_write(ctx);
}

void esg_clients_api_v1(esg_http_req *req, void *data)
{
    (void)data;
    handle(req, V1);
}

void esg_clients_api_v2(esg_http_req *req, void *data)
{
    (void)data;
    handle(req, V2);
}

void esg_clients_api_v3(esg_http_req *req, void *data)
{
    (void)data;
    handle(req, V3);
}
