#include "oidc/settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <esignet/plugin.h>

#include "keys/keys.h"
#include "util/log.h"

static esg_oidc_settings S;
static int loaded;

const esg_oidc_settings *esg_oidc(void)
{
    return loaded ? &S : NULL;
}

/* Strings of a JSON array of strings, borrowed from the array. */
static int str_list(const json_t *arr, const char ***out, size_t *n)
{
    size_t count = json_array_size(arr);
    const char **list = calloc(count + 1, sizeof(*list));
    if (list == NULL)
        return ESP_ENOMEM;
    for (size_t i = 0; i < count; i++)
        list[i] = json_string_value(json_array_get(arr, i));
    *out = list;
    *n = count;
    return 0;
}

static const char *str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static int64_t num(const json_t *obj, const char *key)
{
    return (int64_t)json_integer_value(json_object_get(obj, key));
}

/* Position of oidc.<section>[index] in the file, for messages. */
static const esg_yaml_node *node_at(const esg_config *cfg, const char *section, size_t index)
{
    const esg_yaml_node *oidc = esg_yaml_get(esg_yaml_root(cfg->doc), "oidc");
    const esg_yaml_node *list = oidc ? esg_yaml_get(oidc, section) : NULL;
    if (list == NULL)
        return oidc;
    if (list->kind == ESG_YAML_SEQUENCE && index < list->count)
        return list->items[index];
    return list;
}

/* Reports a problem of oidc.<section>[index]; `what` and `name` complete the message. */
static void report(esg_config_errors *errors, const esg_config *cfg, const char *section,
                   size_t index, const char *what, const char *name)
{
    const esg_yaml_node *n = node_at(cfg, section, index);
    if (n != NULL)
        esg_yaml_error(errors, n, "oidc.%s: %s \"%s\"", section, what, name);
    else
        esg_config_errors_add(errors, esg_yaml_name(cfg->doc), 0, 0, "oidc.%s: %s \"%s\"", section,
                              what, name);
}

static char *join(const char *a, const char *b, const char *c)
{
    size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
    char *s = malloc(n);
    if (s != NULL)
        snprintf(s, n, "%s%s%s", a, b, c);
    return s;
}

/* The issuer is plain http on a loopback host: a server for development or a demo. */
static int loopback_http(const char *issuer)
{
    static const char *const loopback[] = {"localhost", "127.0.0.1", "[::1]"};
    if (strncmp(issuer, "http://", 7) != 0)
        return 0;
    const char *host = issuer + 7;
    size_t n = strcspn(host, "/?#");
    const char *colon = n > 0 && host[0] == '[' ? memchr(host, ']', n) : memchr(host, ':', n);
    if (colon != NULL && host[0] == '[')
        colon++; /* the port follows the bracketed IPv6 address */
    size_t hlen = colon != NULL ? (size_t)(colon - host) : n;
    for (size_t i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++) {
        if (hlen == strlen(loopback[i]) && strncmp(host, loopback[i], hlen) == 0)
            return 1;
    }
    return 0;
}

int esg_oidc_settings_load(const esg_config *cfg, esg_config_errors *errors)
{
    const json_t *o = cfg->oidc;
    int rc = ESP_ENOMEM;
    size_t before = esg_config_errors_total(errors);
    esg_oidc_settings_free();
    memset(&S, 0, sizeof(S));
    S.issuer = cfg->issuer;
    S.base_path = cfg->base_path;
    S.token_signing_alg = cfg->keys.token_signing_alg;
    /* Cookies are Secure when browsers will keep and send Secure cookies to the issuer: https,
     * or plain http on a loopback host, which Chromium and Firefox treat as potentially
     * trustworthy (so the demo on http://127.0.0.1 gets the same cookie attributes as a
     * deployment). */
    S.loopback_http = loopback_http(cfg->issuer);
    S.secure_cookies = strncmp(cfg->issuer, "https://", 8) == 0 || S.loopback_http;
    if (!S.secure_cookies)
        esg_logf(ESP_LOG_WARN, "oidc.insecure_issuer",
                 "the issuer is plain http on a host that is not loopback: session and CSRF "
                 "cookies cannot be Secure; serve it over https (or TLS at a proxy)");
    S.authorization_endpoint = join(cfg->issuer, "/authorize", "");
    S.token_endpoint = join(cfg->issuer, cfg->base_path, "/oauth/v2/token");
    S.userinfo_endpoint = join(cfg->issuer, cfg->base_path, "/oidc/userinfo");
    S.par_endpoint = join(cfg->issuer, cfg->base_path, "/oauth/par");
    S.jwks_uri = join(cfg->issuer, "/.well-known/jwks.json", "");
    if (!S.authorization_endpoint || !S.token_endpoint || !S.userinfo_endpoint || !S.jwks_uri ||
        !S.par_endpoint)
        goto fail;

    S.identity_backend = str(o, "identity_backend");
    if (S.identity_backend == NULL && cfg->identity_backends.count > 0)
        S.identity_backend = cfg->identity_backends.items[0].name;
    if (S.identity_backend != NULL) {
        int found = 0;
        for (size_t i = 0; i < cfg->identity_backends.count; i++)
            found |= strcmp(cfg->identity_backends.items[i].name, S.identity_backend) == 0;
        if (!found)
            report(errors, cfg, "identity_backend", 0, "no identity back end is named",
                   S.identity_backend);
    }
    S.require_pkce = json_is_true(json_object_get(o, "require_pkce"));
    S.require_par = json_is_true(json_object_get(o, "require_pushed_authorization_requests"));
    S.require_dpop_nonce = json_is_true(json_object_get(o, "require_dpop_nonce"));
    const char *profile = json_string_value(json_object_get(o, "profile"));
    S.fapi2 = profile != NULL && strcmp(profile, "fapi2") == 0;
    S.userinfo_jwe_default = strcmp(str(o, "userinfo_response_type"), "JWE") == 0;

    const json_t *lt = json_object_get(o, "lifetimes");
    S.lifetimes.transaction = num(lt, "transaction");
    S.lifetimes.authenticated = num(lt, "authenticated");
    S.lifetimes.code = num(lt, "code");
    S.lifetimes.pushed_request = num(lt, "pushed_request");
    S.lifetimes.id_token = num(lt, "id_token");
    S.lifetimes.access_token = num(lt, "access_token");
    S.lifetimes.session = num(lt, "session");
    S.lifetimes.replay_window = num(lt, "replay_window");
    S.lifetimes.client_assertion = num(lt, "client_assertion");
    S.lifetimes.dpop_proof = num(lt, "dpop_proof");
    S.lifetimes.clock_skew = num(lt, "clock_skew");

    /* FAPI 2.0 Security Profile §5.3.2 and §5.4: what it makes mandatory for every client, and
     * the settings it does not allow. */
    if (S.fapi2) {
        S.require_par = 1;
        S.require_pkce = 1;
        S.require_dpop = 1;
        if (S.lifetimes.code > 60000)
            report(errors, cfg, "lifetimes", 0,
                   "under profile fapi2 a code lives at most 60 s:", "code");
        if (S.lifetimes.pushed_request >= 600000)
            report(errors, cfg, "lifetimes", 0,
                   "under profile fapi2 a request_uri lives less than 600 s:", "pushed_request");
        if (!esg_oidc_alg_allowed(S.token_signing_alg))
            esg_config_errors_add(errors, esg_yaml_name(cfg->doc), 0, 0,
                                  "keys.token_signing_alg: profile fapi2 allows PS256 or ES256, "
                                  "not \"%s\"",
                                  S.token_signing_alg);
    }

    const json_t *scopes = json_object_get(o, "scopes");
    S.n_scopes = json_array_size(scopes);
    S.scopes = calloc(S.n_scopes + 1, sizeof(*S.scopes));
    if (S.scopes == NULL)
        goto fail;
    for (size_t i = 0; i < S.n_scopes; i++) {
        const json_t *e = json_array_get(scopes, i);
        S.scopes[i].scope = str(e, "scope");
        if (str_list(json_object_get(e, "claims"), &S.scopes[i].claims, &S.scopes[i].n_claims))
            goto fail;
    }
    if (str_list(json_object_get(o, "authorize_scopes"), &S.authorize_scopes,
                 &S.n_authorize_scopes) ||
        str_list(json_object_get(o, "claims_supported"), &S.claims_supported,
                 &S.n_claims_supported))
        goto fail;

    const json_t *amrs = json_object_get(o, "amr");
    S.n_amrs = json_array_size(amrs);
    S.amrs = calloc(S.n_amrs + 1, sizeof(*S.amrs));
    if (S.amrs == NULL)
        goto fail;
    for (size_t i = 0; i < S.n_amrs; i++) {
        const json_t *e = json_array_get(amrs, i);
        esg_oidc_amr *a = &S.amrs[i];
        a->name = str(e, "amr");
        const json_t *factors = json_object_get(e, "factors");
        a->n_factors = json_array_size(factors);
        a->factors = calloc(a->n_factors + 1, sizeof(*a->factors));
        if (a->factors == NULL)
            goto fail;
        for (size_t f = 0; f < a->n_factors; f++) {
            const json_t *fj = json_array_get(factors, f);
            a->factors[f].type = str(fj, "type");
            a->factors[f].count = (int)num(fj, "count");
            a->factors[f].sub_types = json_object_get(fj, "sub_types");
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(S.amrs[j].name, a->name) == 0)
                report(errors, cfg, "amr", i, "defined twice:", a->name);
        }
    }

    const json_t *acrs = json_object_get(o, "acr");
    S.n_acrs = json_array_size(acrs);
    S.acrs = calloc(S.n_acrs + 1, sizeof(*S.acrs));
    if (S.acrs == NULL)
        goto fail;
    for (size_t i = 0; i < S.n_acrs; i++) {
        const json_t *e = json_array_get(acrs, i);
        esg_oidc_acr *a = &S.acrs[i];
        a->acr = str(e, "acr");
        const json_t *names = json_object_get(e, "amr");
        a->n_amrs = json_array_size(names);
        a->amrs = calloc(a->n_amrs + 1, sizeof(*a->amrs));
        if (a->amrs == NULL)
            goto fail;
        for (size_t k = 0; k < a->n_amrs; k++) {
            const char *name = json_string_value(json_array_get(names, k));
            for (size_t j = 0; j < S.n_amrs; j++) {
                if (strcmp(S.amrs[j].name, name) == 0)
                    a->amrs[k] = &S.amrs[j];
            }
            if (a->amrs[k] == NULL)
                report(errors, cfg, "acr", i, "no oidc.amr entry is named", name);
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(S.acrs[j].acr, a->acr) == 0)
                report(errors, cfg, "acr", i, "defined twice:", a->acr);
        }
    }

    const json_t *ch = json_object_get(o, "challenges");
    S.n_challenges = json_array_size(ch);
    S.challenges = calloc(S.n_challenges + 1, sizeof(*S.challenges));
    if (S.challenges == NULL)
        goto fail;
    for (size_t i = 0; i < S.n_challenges; i++) {
        const json_t *e = json_array_get(ch, i);
        S.challenges[i] = (esg_oidc_challenge_rule){str(e, "type"), str(e, "format"),
                                                    num(e, "min_length"), num(e, "max_length")};
        if (S.challenges[i].min_length > S.challenges[i].max_length)
            report(errors, cfg, "challenges", i, "min_length is above max_length for",
                   S.challenges[i].type);
    }
    for (size_t i = 0; i < S.n_amrs; i++) {
        for (size_t f = 0; f < S.amrs[i].n_factors; f++) {
            if (esg_oidc_find_challenge(S.amrs[i].factors[f].type) == NULL)
                report(errors, cfg, "amr", i, "no oidc.challenges entry for factor type",
                       S.amrs[i].factors[f].type);
        }
    }

    const json_t *att = json_object_get(o, "attempts");
    S.attempts.send_otp = num(att, "send_otp");
    S.attempts.authenticate = num(att, "authenticate");
    S.attempts.block_ms = num(att, "block");
    S.ui = json_object_get(o, "ui");
    loaded = 1;
    if (esg_config_errors_total(errors) != before) {
        rc = ESP_ECONFIG;
        goto fail;
    }
    return 0;
fail:
    esg_oidc_settings_free();
    return rc;
}

void esg_oidc_settings_free(void)
{
    free(S.authorization_endpoint);
    free(S.token_endpoint);
    free(S.userinfo_endpoint);
    free(S.par_endpoint);
    free(S.jwks_uri);
    for (size_t i = 0; S.scopes != NULL && i < S.n_scopes; i++)
        free(S.scopes[i].claims);
    free(S.scopes);
    free(S.authorize_scopes);
    free(S.claims_supported);
    for (size_t i = 0; S.amrs != NULL && i < S.n_amrs; i++)
        free(S.amrs[i].factors);
    free(S.amrs);
    for (size_t i = 0; S.acrs != NULL && i < S.n_acrs; i++)
        free(S.acrs[i].amrs);
    free(S.acrs);
    free(S.challenges);
    memset(&S, 0, sizeof(S));
    loaded = 0;
}

const esg_oidc_acr *esg_oidc_find_acr(const char *acr)
{
    for (size_t i = 0; i < S.n_acrs; i++) {
        if (strcmp(S.acrs[i].acr, acr) == 0)
            return &S.acrs[i];
    }
    return NULL;
}

const esg_oidc_challenge_rule *esg_oidc_find_challenge(const char *type)
{
    for (size_t i = 0; i < S.n_challenges; i++) {
        if (strcmp(S.challenges[i].type, type) == 0)
            return &S.challenges[i];
    }
    return NULL;
}

int esg_oidc_claim_supported(const char *claim)
{
    for (size_t i = 0; i < S.n_claims_supported; i++) {
        if (strcmp(S.claims_supported[i], claim) == 0)
            return 1;
    }
    return 0;
}

const char *esg_oidc_response_alg(const char *client_key_alg)
{
    if (client_key_alg != NULL && esg_oidc_alg_allowed(client_key_alg) &&
        esg_keys_has_alg(client_key_alg))
        return client_key_alg;
    return S.token_signing_alg;
}

esg_jws_alg_set esg_oidc_client_algs(void)
{
    esg_jws_alg_set fapi = ESG_JWS_ALG_BIT(ESG_JWS_PS256) | ESG_JWS_ALG_BIT(ESG_JWS_ES256);
    return S.fapi2 ? fapi : fapi | ESG_JWS_ALG_BIT(ESG_JWS_RS256);
}

int esg_oidc_alg_allowed(const char *alg)
{
    if (strcmp(alg, "PS256") == 0 || strcmp(alg, "ES256") == 0)
        return 1;
    return !S.fapi2 && strcmp(alg, "RS256") == 0;
}

const char *esg_oidc_client_algs_text(void)
{
    return S.fapi2 ? "PS256 ES256" : "RS256 PS256 ES256";
}
