#include "oidc/authz.h"

#include <stdlib.h>
#include <string.h>

#include <esignet/plugin.h>

#include "http/json_body.h"
#include "oidc/settings.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/lang.h"
#include "util/str.h"

/* Longest values accepted; beyond them the request is refused rather than stored. */
#define MAX_STATE        2048
#define MAX_NONCE        512
#define MAX_HINT         4096
#define MAX_LIST         1024
#define MAX_CLAIMS_PARAM 8192
#define MAX_PURPOSE      300

#define FIELDS(X)                                                                                  \
    X(client_id, "client_id", "clientId")                                                          \
    X(redirect_uri, "redirect_uri", "redirectUri")                                                 \
    X(response_type, "response_type", "responseType")                                              \
    X(scope, "scope", "scope")                                                                     \
    X(state, "state", "state")                                                                     \
    X(nonce, "nonce", "nonce")                                                                     \
    X(prompt, "prompt", "prompt")                                                                  \
    X(display, "display", "display")                                                               \
    X(max_age, "max_age", "maxAge")                                                                \
    X(acr_values, "acr_values", "acrValues")                                                       \
    X(claims, "claims", "claims")                                                                  \
    X(claims_locales, "claims_locales", "claimsLocales")                                           \
    X(ui_locales, "ui_locales", "uiLocales")                                                       \
    X(code_challenge, "code_challenge", "codeChallenge")                                           \
    X(code_challenge_method, "code_challenge_method", "codeChallengeMethod")                       \
    X(id_token_hint, "id_token_hint", "idTokenHint")                                               \
    X(login_hint, "login_hint", "loginHint")                                                       \
    X(response_mode, "response_mode", "responseMode")                                              \
    X(request, "request", "request")                                                               \
    X(request_uri, "request_uri", "requestUri")                                                    \
    X(dpop_jkt, "dpop_jkt", "dpopJkt")

static void set_err(esg_authz_error *err, const char *oauth, const char *esignet, const char *desc,
                    int fatal)
{
    err->oauth = oauth;
    err->esignet = esignet;
    err->description = desc;
    err->fatal = fatal;
}

int esg_authz_params_from_form(const esg_form *form, esg_authz_params *out)
{
    memset(out, 0, sizeof(*out));
#define READ(member, form_name, json_name)                                                         \
    do {                                                                                           \
        esp_str v;                                                                                 \
        if (esg_form_get(form, form_name, &v) == 0 &&                                              \
            (out->member = esg_strndup(v.ptr, v.len)) == NULL)                                     \
            goto nomem;                                                                            \
    } while (0);
    FIELDS(READ)
#undef READ
    return 0;
nomem:
    esg_authz_params_clear(out);
    return ESP_ENOMEM;
}

int esg_authz_params_from_json(const json_t *request, esg_authz_params *out, esg_authz_error *err)
{
    memset(out, 0, sizeof(*out));
#define READ(member, form_name, json_name)                                                         \
    do {                                                                                           \
        const json_t *v = json_object_get(request, json_name);                                     \
        if (v == NULL || json_is_null(v))                                                          \
            break;                                                                                 \
        char *text = NULL;                                                                         \
        if (json_is_string(v))                                                                     \
            text = esg_strndup(json_string_value(v), json_string_length(v));                       \
        else if (json_is_integer(v) && strcmp(json_name, "maxAge") == 0)                           \
            text = json_dumps(v, JSON_ENCODE_ANY);                                                 \
        else if (json_is_object(v) && strcmp(json_name, "claims") == 0)                            \
            text = json_dumps(v, JSON_COMPACT);                                                    \
        else {                                                                                     \
            set_err(err, "invalid_request", "invalid_request", json_name " has the wrong type",    \
                    0);                                                                            \
            esg_authz_params_clear(out);                                                           \
            return ESP_EINVAL;                                                                     \
        }                                                                                          \
        if (text == NULL)                                                                          \
            goto nomem;                                                                            \
        out->member = text;                                                                        \
    } while (0);
    FIELDS(READ)
#undef READ
    return 0;
nomem:
    esg_authz_params_clear(out);
    return ESP_ENOMEM;
}

json_t *esg_authz_params_to_stored(const esg_authz_params *p)
{
    json_t *o = json_object();
#define PUT(member, form_name, json_name)                                                          \
    if (o != NULL && p->member != NULL &&                                                          \
        json_object_set_new(o, form_name, json_string(p->member)) != 0) {                          \
        json_decref(o);                                                                            \
        o = NULL;                                                                                  \
    }
    FIELDS(PUT)
#undef PUT
    return o;
}

int esg_authz_params_from_stored(const json_t *stored, esg_authz_params *out)
{
    memset(out, 0, sizeof(*out));
    if (!json_is_object(stored))
        return ESP_EINVAL;
#define READ(member, form_name, json_name)                                                         \
    do {                                                                                           \
        const json_t *v = json_object_get(stored, form_name);                                      \
        if (v == NULL)                                                                             \
            break;                                                                                 \
        if (!json_is_string(v)) {                                                                  \
            esg_authz_params_clear(out);                                                           \
            return ESP_EINVAL;                                                                     \
        }                                                                                          \
        if ((out->member = esg_strndup(json_string_value(v), json_string_length(v))) == NULL)      \
            goto nomem;                                                                            \
    } while (0);
    FIELDS(READ)
#undef READ
    out->pushed = 1;
    return 0;
nomem:
    esg_authz_params_clear(out);
    return ESP_ENOMEM;
}

void esg_authz_params_clear(esg_authz_params *p)
{
#define FREE(member, form_name, json_name) free(p->member);
    FIELDS(FREE)
#undef FREE
    memset(p, 0, sizeof(*p));
}

int esg_authz_check_client(const esg_authz_params *p, const esg_client *client,
                           esg_authz_error *err)
{
    if (p->client_id == NULL || p->client_id[0] == '\0') {
        set_err(err, "invalid_request", "invalid_client_id", "client_id is required", 1);
        return ESP_EINVAL;
    }
    if (client == NULL) {
        set_err(err, "invalid_client", "invalid_client_id", "unknown or inactive client", 1);
        return ESP_EINVAL;
    }
    if (p->redirect_uri == NULL || p->redirect_uri[0] == '\0') {
        set_err(err, "invalid_request", "invalid_redirect_uri", "redirect_uri is required", 1);
        return ESP_EINVAL;
    }
    if (!esg_client_redirect_allowed(client, p->redirect_uri, strlen(p->redirect_uri))) {
        set_err(err, "invalid_request", "invalid_redirect_uri",
                "redirect_uri is not registered for this client", 1);
        return ESP_EINVAL;
    }
    return 0;
}

/* Splits a space-separated list into a JSON array of unique values (RFC 6749 §3.3). */
static int split(const char *s, json_t **out)
{
    json_t *arr = json_array();
    if (arr == NULL)
        return ESP_ENOMEM;
    if (s != NULL) {
        const char *p = s;
        while (*p) {
            while (*p == ' ')
                p++;
            const char *start = p;
            while (*p && *p != ' ')
                p++;
            if (p == start)
                continue;
            json_t *item = json_stringn(start, (size_t)(p - start));
            if (item == NULL) {
                json_decref(arr);
                return ESP_EINVAL; /* not UTF-8 */
            }
            if (esg_json_append_unique(arr, item) != 0) {
                json_decref(arr);
                return ESP_ENOMEM;
            }
        }
    }
    *out = arr;
    return 0;
}

static int contains(const json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (strcmp(json_string_value(v), s) == 0)
            return 1;
    }
    return 0;
}

static int printable_ascii(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c > 0x7e)
            return 0;
    }
    return 1;
}

int esg_authz_scope_known(const char *scope)
{
    const esg_oidc_settings *S = esg_oidc();
    if (strcmp(scope, "openid") == 0)
        return 1;
    for (size_t i = 0; i < S->n_scopes; i++) {
        if (strcmp(S->scopes[i].scope, scope) == 0)
            return 1;
    }
    for (size_t i = 0; i < S->n_authorize_scopes; i++) {
        if (strcmp(S->authorize_scopes[i], scope) == 0)
            return 1;
    }
    return 0;
}

/* Checks one claim request detail of the claims parameter (OpenID Connect Core §5.5.1). */
static int valid_detail(const json_t *d)
{
    if (json_is_null(d))
        return 1;
    if (!json_is_object(d))
        return 0;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)(uintptr_t)d, key, v)
    {
        if (strcmp(key, "essential") == 0) {
            if (!json_is_boolean(v))
                return 0;
        } else if (strcmp(key, "purpose") == 0) {
            if (!json_is_string(v) || json_string_length(v) < 3 ||
                json_string_length(v) > MAX_PURPOSE)
                return 0;
        } else if (strcmp(key, "values") == 0) {
            if (!json_is_array(v) || json_array_size(v) == 0)
                return 0;
        }
        /* "value" and members defined by extensions are allowed and passed through. */
    }
    return 1;
}

/*
 * Checks a member of the claims parameter ("userinfo" or "id_token"; NULL when absent): an object
 * whose every claim request is well formed, in both members alike, although only userinfo claims
 * and the ID token's acr are acted upon.
 */
static int valid_section(const json_t *section)
{
    if (section == NULL)
        return 1;
    if (!json_is_object(section))
        return 0;
    const char *claim;
    json_t *detail;
    json_object_foreach((json_t *)(uintptr_t)section, claim, detail)
    {
        /* OpenID Connect for Identity Assurance is not offered: its requests are ignored. */
        if (strcmp(claim, "verified_claims") != 0 && !valid_detail(detail))
            return 0;
    }
    return 1;
}

/* Builds the claim map: scope-derived claims and the claims parameter, limited to the client. */
static int resolve_claims(esg_txn *t, const json_t *claims_param, const esg_client *client)
{
    const esg_oidc_settings *S = esg_oidc();
    json_t *map = json_object();
    json_t *essential = json_array();
    json_t *voluntary = json_array();
    if (!map || !essential || !voluntary)
        goto nomem;
    size_t i;
    json_t *sv;
    json_array_foreach(t->scopes, i, sv)
    {
        for (size_t k = 0; k < S->n_scopes; k++) {
            if (strcmp(S->scopes[k].scope, json_string_value(sv)) != 0)
                continue;
            for (size_t c = 0; c < S->scopes[k].n_claims; c++) {
                const char *claim = S->scopes[k].claims[c];
                if (esg_client_has_claim(client, claim) && json_object_get(map, claim) == NULL)
                    json_object_set_new(map, claim, json_null());
            }
        }
    }
    const json_t *userinfo = json_object_get(claims_param, "userinfo");
    if (userinfo != NULL) {
        const char *claim;
        json_t *detail;
        json_object_foreach((json_t *)(uintptr_t)userinfo, claim, detail)
        {
            if (strcmp(claim, "verified_claims") == 0)
                continue; /* OpenID Connect for Identity Assurance is not offered: ignored */
            /* Claims the client did not register for, or nobody supports, are ignored
             * (OpenID Connect Core §5.5: requests for unknown claims are not errors). */
            if (esg_client_has_claim(client, claim) && esg_oidc_claim_supported(claim))
                json_object_set(map, claim, detail);
        }
    }
    const char *claim;
    json_t *detail;
    json_object_foreach(map, claim, detail)
    {
        int ess = json_is_true(json_object_get(detail, "essential"));
        json_array_append_new(ess ? essential : voluntary, json_string(claim));
    }
    t->claims = map;
    t->essential = essential;
    t->voluntary = voluntary;
    return 0;
nomem:
    json_decref(map);
    json_decref(essential);
    json_decref(voluntary);
    return ESP_ENOMEM;
}

/* ACR resolution, esignet.md §6.2: id_token.acr values, then acr_values, then all registered. */
static int resolve_acrs(esg_txn *t, const json_t *claims_param, const char *acr_values,
                        const esg_client *client, esg_authz_error *err)
{
    json_t *out = json_array();
    if (out == NULL)
        return ESP_ENOMEM;
    const json_t *acr_req = json_object_get(json_object_get(claims_param, "id_token"), "acr");
    json_t *requested = NULL;
    int essential = json_is_true(json_object_get(acr_req, "essential"));
    if (acr_req != NULL && !json_is_null(acr_req)) {
        requested = json_array();
        const json_t *values = json_object_get(acr_req, "values");
        const json_t *value = json_object_get(acr_req, "value");
        size_t i;
        json_t *v;
        json_array_foreach(values, i, v)
        {
            if (json_is_string(v))
                json_array_append(requested, v);
        }
        if (json_is_string(value))
            json_array_append(requested, (json_t *)(uintptr_t)value);
    }
    if ((requested == NULL || json_array_size(requested) == 0) && acr_values != NULL) {
        json_decref(requested);
        if (split(acr_values, &requested) != 0) {
            json_decref(out);
            set_err(err, "invalid_request", "invalid_request", "acr_values is malformed", 0);
            return ESP_EINVAL;
        }
    }
    size_t i;
    json_t *v;
    json_array_foreach(requested, i, v)
    {
        const char *acr = json_string_value(v);
        int registered = 0;
        for (size_t k = 0; k < client->n_acrs; k++)
            registered |= strcmp(client->acrs[k], acr) == 0;
        if (registered && esg_oidc_find_acr(acr) != NULL && !contains(out, acr))
            json_array_append_new(out, json_string(acr));
    }
    if (json_array_size(requested) > 0 && json_array_size(out) == 0 && essential) {
        json_decref(requested);
        json_decref(out);
        /* OpenID Connect Core §5.5.1.1 makes this a failed authentication; the error code is
         * the one OpenID Connect Core Error Code unmet_authentication_requirements defines. */
        set_err(err, "unmet_authentication_requirements", "invalid_acr",
                "none of the essential acr values is available to this client", 0);
        return ESP_EINVAL;
    }
    json_decref(requested);
    if (json_array_size(out) == 0) {
        for (size_t k = 0; k < client->n_acrs; k++) {
            if (esg_oidc_find_acr(client->acrs[k]) != NULL && !contains(out, client->acrs[k]))
                json_array_append_new(out, json_string(client->acrs[k]));
        }
    }
    if (json_array_size(out) == 0) {
        json_decref(out);
        set_err(err, "invalid_request", "no_acr_registered",
                "the client has no authentication method configured on this server", 0);
        return ESP_EINVAL;
    }
    t->acrs = out;
    return 0;
}

static int parse_prompt(const char *s, unsigned *out, esg_authz_error *err)
{
    *out = 0;
    json_t *list;
    if (s == NULL)
        return 0;
    if (split(s, &list) != 0)
        goto bad;
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        const char *p = json_string_value(v);
        if (strcmp(p, "none") == 0)
            *out |= ESG_PROMPT_NONE;
        else if (strcmp(p, "login") == 0)
            *out |= ESG_PROMPT_LOGIN;
        else if (strcmp(p, "consent") == 0)
            *out |= ESG_PROMPT_CONSENT;
        else if (strcmp(p, "select_account") == 0)
            *out |= ESG_PROMPT_SELECT_ACCOUNT;
        else {
            json_decref(list);
            goto bad;
        }
    }
    json_decref(list);
    /* OpenID Connect Core §3.1.2.1: "none" cannot be combined with anything else. */
    if ((*out & ESG_PROMPT_NONE) && *out != ESG_PROMPT_NONE)
        goto bad;
    return 0;
bad:
    set_err(err, "invalid_request", "invalid_prompt", "prompt is not valid", 0);
    return ESP_EINVAL;
}

/*
 * The client's name in the first of the user's ui_locales it has a name in (its names are keyed
 * by ISO 639-3 codes, ui_locales are BCP 47 tags), else its default name. Borrowed from client.
 */
static const char *client_name_for(const esg_client *client, const json_t *ui_locales)
{
    size_t i;
    json_t *tag;
    json_array_foreach(ui_locales, i, tag)
    {
        const char *code = esg_lang_iso639_3(json_string_value(tag), json_string_length(tag));
        const char *name = code ? json_string_value(json_object_get(client->name, code)) : NULL;
        if (name != NULL)
            return name;
    }
    return esg_client_name(client, NULL);
}

static int is_b64url(const char *s, size_t len)
{
    if (strlen(s) != len)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

int esg_authz_build(const esg_authz_params *p, const esg_client *client, esg_txn **out,
                    esg_authz_error *err)
{
    const esg_oidc_settings *S = esg_oidc();
    json_t *claims_param = NULL;
    esg_txn *t = NULL;
    int rc = ESP_EINVAL;

    if (p->request != NULL) {
        set_err(err, "request_not_supported", "invalid_request",
                "request objects are not supported", 0);
        goto fail;
    }
    if (p->request_uri != NULL) {
        set_err(err, "request_uri_not_supported", "invalid_request",
                "request_uri is only accepted from pushed authorization requests", 0);
        goto fail;
    }
    if (p->response_type == NULL || strcmp(p->response_type, "code") != 0) {
        set_err(err, "unsupported_response_type", "invalid_response_type",
                "only response_type=code is supported", 0);
        goto fail;
    }
    if (p->response_mode != NULL && strcmp(p->response_mode, "query") != 0) {
        set_err(err, "invalid_request", "invalid_request", "only response_mode=query is supported",
                0);
        goto fail;
    }
    if ((client->require_par || S->require_par) && !p->pushed) {
        set_err(err, "invalid_request", "invalid_request",
                "authorization requests must be pushed (PAR) first", 0);
        goto fail;
    }
    if ((p->state && !esg_utf8_valid(p->state, strlen(p->state))) ||
        (p->state && strlen(p->state) > MAX_STATE) ||
        (p->nonce && !printable_ascii(p->nonce, MAX_NONCE)) ||
        (p->login_hint && strlen(p->login_hint) > MAX_HINT) ||
        (p->id_token_hint && strlen(p->id_token_hint) > MAX_HINT) ||
        (p->claims_locales && strlen(p->claims_locales) > MAX_LIST) ||
        (p->ui_locales && strlen(p->ui_locales) > MAX_LIST) ||
        (p->acr_values && strlen(p->acr_values) > MAX_LIST)) {
        set_err(err, "invalid_request", "invalid_request", "a parameter is too long or malformed",
                0);
        goto fail;
    }
    if (p->display != NULL && strcmp(p->display, "page") != 0 && strcmp(p->display, "popup") != 0 &&
        strcmp(p->display, "touch") != 0 && strcmp(p->display, "wap") != 0) {
        set_err(err, "invalid_request", "invalid_display", "display is not valid", 0);
        goto fail;
    }

    t = esg_txn_new();
    if (t == NULL) {
        rc = ESP_ENOMEM;
        goto fail;
    }
    json_t *scopes = NULL;
    if (p->scope == NULL || strlen(p->scope) > MAX_LIST || split(p->scope, &scopes) != 0) {
        set_err(err, "invalid_scope", "invalid_scope", "scope is missing or malformed", 0);
        goto fail;
    }
    t->scopes = json_array();
    t->authorize_scopes = json_array();
    size_t i;
    json_t *sv;
    json_array_foreach(scopes, i, sv)
    {
        const char *sc = json_string_value(sv);
        int authorize = 0;
        for (size_t k = 0; k < S->n_authorize_scopes; k++)
            authorize |= strcmp(S->authorize_scopes[k], sc) == 0;
        /* Scope values the server does not know are ignored (RFC 6749 §3.3 lets the server
         * grant less than requested). */
        if (authorize)
            json_array_append(t->authorize_scopes, sv);
        else if (esg_authz_scope_known(sc))
            json_array_append(t->scopes, sv);
    }
    json_decref(scopes);
    if (!contains(t->scopes, "openid")) {
        set_err(err, "invalid_scope", "invalid_scope",
                "the openid scope is required for OpenID Connect requests", 0);
        goto fail;
    }
    if (p->claims != NULL) {
        char why[128];
        esg_json_limits lim = {MAX_CLAIMS_PARAM, 8, ESG_JSON_TOP_OBJECT};
        if (esg_json_parse(p->claims, strlen(p->claims), &lim, &claims_param, why, sizeof(why)) !=
                0 ||
            !valid_section(json_object_get(claims_param, "userinfo")) ||
            !valid_section(json_object_get(claims_param, "id_token"))) {
            set_err(err, "invalid_request", "invalid_claim", "the claims parameter is malformed",
                    0);
            goto fail;
        }
    }
    if ((rc = resolve_claims(t, claims_param, client)) != 0 ||
        (rc = resolve_acrs(t, claims_param, p->acr_values, client, err)) != 0)
        goto fail;
    rc = ESP_EINVAL;
    if (parse_prompt(p->prompt, &t->prompt, err) != 0)
        goto fail;
    if (p->max_age != NULL) {
        char *end;
        long long v = strtoll(p->max_age, &end, 10);
        if (*p->max_age == '\0' || *end != '\0' || v < 0 || v > 315360000) {
            set_err(err, "invalid_request", "invalid_request",
                    "max_age must be a number of seconds", 0);
            goto fail;
        }
        t->max_age = v;
    }
    if (p->code_challenge_method != NULL && p->code_challenge == NULL) {
        set_err(err, "invalid_request", "invalid_pkce_challenge",
                "code_challenge_method without code_challenge", 0);
        goto fail;
    }
    if (p->code_challenge != NULL) {
        /* RFC 7636 §4.3: absent means plain, which this server refuses (RFC 9700 §2.1.1). */
        if (p->code_challenge_method == NULL || strcmp(p->code_challenge_method, "S256") != 0) {
            set_err(err, "invalid_request", "unsupported_pkce_challenge_method",
                    "only code_challenge_method=S256 is supported", 0);
            goto fail;
        }
        if (!is_b64url(p->code_challenge, 43)) {
            set_err(err, "invalid_request", "invalid_pkce_challenge",
                    "code_challenge must be a base64url SHA-256 digest", 0);
            goto fail;
        }
    } else if (S->require_pkce || client->require_pkce) {
        set_err(err, "invalid_request", "use_pkce", "PKCE (code_challenge with S256) is required",
                0);
        goto fail;
    }
    /* RFC 9449 §10: the thumbprint of the DPoP key the code will be bound to. */
    if (p->dpop_jkt != NULL && !is_b64url(p->dpop_jkt, 43)) {
        set_err(err, "invalid_request", "invalid_request",
                "dpop_jkt must be a base64url SHA-256 JWK thumbprint", 0);
        goto fail;
    }
    if (split(p->claims_locales, &t->claims_locales) != 0 ||
        split(p->ui_locales, &t->ui_locales) != 0) {
        set_err(err, "invalid_request", "invalid_request", "locales are malformed", 0);
        goto fail;
    }
    if ((t->client_id = strdup(client->id)) == NULL ||
        (t->rp_id = strdup(client->rp_id ? client->rp_id : client->id)) == NULL ||
        (t->redirect_uri = strdup(p->redirect_uri)) == NULL ||
        (p->state && (t->state_param = strdup(p->state)) == NULL) ||
        (p->nonce && (t->nonce = strdup(p->nonce)) == NULL) ||
        (p->code_challenge && (t->code_challenge = strdup(p->code_challenge)) == NULL) ||
        (p->login_hint && (t->login_hint = strdup(p->login_hint)) == NULL) ||
        (p->dpop_jkt && (t->dpop_jkt = strdup(p->dpop_jkt)) == NULL) ||
        (t->client_name = strdup(client_name_for(client, t->ui_locales))) == NULL) {
        rc = ESP_ENOMEM;
        goto fail;
    }
    json_decref(claims_param);
    *out = t;
    return 0;
fail:
    json_decref(claims_param);
    esg_txn_free(t);
    if (rc == ESP_ENOMEM)
        set_err(err, "server_error", "unknown_error", "out of memory", 0);
    return rc == 0 ? ESP_EINVAL : rc;
}

/* The authentication alternatives of the resolved ACRs, without repeats (esignet.md §4.1). */
static json_t *auth_factors(const esg_txn *t)
{
    json_t *alts = json_array();
    size_t i;
    json_t *av;
    json_array_foreach(t->acrs, i, av)
    {
        const esg_oidc_acr *acr = esg_oidc_find_acr(json_string_value(av));
        for (size_t k = 0; acr != NULL && k < acr->n_amrs; k++) {
            const esg_oidc_amr *amr = acr->amrs[k];
            json_t *alt = json_array();
            for (size_t f = 0; f < amr->n_factors; f++) {
                const esg_oidc_factor *fa = &amr->factors[f];
                json_array_append_new(alt, json_pack("{s:s,s:i,s:O}", "type", fa->type, "count",
                                                     fa->count, "subTypes", fa->sub_types));
            }
            esg_json_append_unique(alts, alt);
        }
    }
    return alts;
}

json_t *esg_authz_details(const esg_txn *t, const esg_client *client)
{
    const esg_oidc_settings *S = esg_oidc();
    json_t *configs = json_deep_copy(S->ui ? S->ui : json_object());
    if (configs == NULL)
        return NULL;
    json_object_set(configs, "clientAdditionalConfig", client->additional_config);
    return json_pack("{s:s,s:s?,s:o,s:O,s:O,s:O,s:o,s:s,s:O,s:[]}", "transactionId", t->id,
                     "logoUrl", client->logo_uri, "authFactors", auth_factors(t), "authorizeScopes",
                     t->authorize_scopes, "essentialClaims", t->essential, "voluntaryClaims",
                     t->voluntary, "configs", configs, "redirectUri", t->redirect_uri, "clientName",
                     client->name, "credentialScopes");
}

/* Appends `name=value` to a redirect URI's query, percent-encoded. */
static int add_param(esg_buf *b, const char *name, const char *value)
{
    if (value == NULL)
        return 0;
    int rc = esg_buf_putc(b, '&');
    if (rc == 0)
        rc = esg_buf_puts(b, name);
    if (rc == 0)
        rc = esg_buf_putc(b, '=');
    if (rc == 0)
        rc = esg_buf_url_encode(b, value, strlen(value));
    return rc;
}

/* Starts the location: the redirect URI and the first separator. */
static int start_location(const char *redirect_uri, esg_buf *out)
{
    int rc = esg_buf_puts(out, redirect_uri);
    /* The parameters are added to the URI's existing query, if any (RFC 6749 §3.1.2). */
    if (rc == 0)
        rc = esg_buf_putc(out, strchr(redirect_uri, '?') ? '&' : '?');
    return rc;
}

int esg_authz_error_location(const char *redirect_uri, const char *state, const char *error,
                             const char *description, esg_buf *out)
{
    int rc = start_location(redirect_uri, out);
    if (rc == 0)
        rc = esg_buf_puts(out, "error=");
    if (rc == 0)
        rc = esg_buf_url_encode(out, error, strlen(error));
    if (rc == 0)
        rc = add_param(out, "error_description", description);
    if (rc == 0)
        rc = add_param(out, "state", state);
    if (rc == 0)
        rc = add_param(out, "iss", esg_oidc()->issuer);
    return rc;
}

int esg_authz_code_location(const char *redirect_uri, const char *state, const char *code,
                            esg_buf *out)
{
    int rc = start_location(redirect_uri, out);
    if (rc == 0)
        rc = esg_buf_puts(out, "code=");
    if (rc == 0)
        rc = esg_buf_url_encode(out, code, strlen(code));
    if (rc == 0)
        rc = add_param(out, "state", state);
    if (rc == 0)
        rc = add_param(out, "iss", esg_oidc()->issuer);
    return rc;
}
