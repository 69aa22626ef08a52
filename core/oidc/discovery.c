#include "oidc/discovery.h"

#include <string.h>

#include <esignet/plugin.h>

#include "keys/keys.h"
#include "oidc/settings.h"

/* The core's own part: the issuer and the JWKS it serves. */
static int core_contrib(const esg_discovery_input *in, json_t *openid, json_t *oauth)
{
    json_t *docs[] = {openid, oauth};
    for (size_t i = 0; i < 2; i++) {
        if (json_object_set_new(docs[i], "issuer", json_string(in->issuer)) != 0 ||
            json_object_set_new(docs[i], "jwks_uri",
                                json_sprintf("%s/.well-known/jwks.json", in->issuer)) != 0)
            return ESP_ENOMEM;
    }
    return 0;
}

static json_t *strings(const char *const *list, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < n; i++)
        json_array_append_new(a, json_string(list[i]));
    return a;
}

/*
 * The JWS algorithms of the OpenID flows the profile allows, in the server's order; with
 * `held_only`, only those the key stores can sign with now (what the server signs), else all
 * (what clients may sign with: assertions, DPoP proofs).
 */
static json_t *algs(int held_only)
{
    static const char *const candidates[] = {"RS256", "PS256", "ES256"};
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < 3; i++) {
        if (esg_oidc_alg_allowed(candidates[i]) && (!held_only || esg_keys_has_alg(candidates[i])))
            json_array_append_new(a, json_string(candidates[i]));
    }
    return a;
}

/* The authorization code flow (OpenID Connect Core, RFC 6749, RFC 7636, RFC 9207). */
static int oidc_contrib(const esg_discovery_input *in, json_t *openid, json_t *oauth)
{
    (void)in;
    const esg_oidc_settings *S = esg_oidc();
    if (S == NULL)
        return 0;
    json_t *scopes = json_array();
    json_array_append_new(scopes, json_string("openid"));
    for (size_t i = 0; i < S->n_scopes; i++)
        json_array_append_new(scopes, json_string(S->scopes[i].scope));
    for (size_t i = 0; i < S->n_authorize_scopes; i++)
        json_array_append_new(scopes, json_string(S->authorize_scopes[i]));
    json_t *acrs = json_array();
    for (size_t i = 0; i < S->n_acrs; i++)
        json_array_append_new(acrs, json_string(S->acrs[i].acr));
    json_t *claims = strings(S->claims_supported, S->n_claims_supported);
    json_array_append_new(claims, json_string("sub"));
    json_t *common = json_pack(
        "{s:s,s:s,s:o,s:[s],s:[s],s:[s],s:[s],s:o,s:[s],s:b}", "authorization_endpoint",
        S->authorization_endpoint, "token_endpoint", S->token_endpoint, "scopes_supported", scopes,
        "response_types_supported", "code", "response_modes_supported", "query",
        "grant_types_supported", "authorization_code", "token_endpoint_auth_methods_supported",
        "private_key_jwt", "token_endpoint_auth_signing_alg_values_supported", algs(0),
        "code_challenge_methods_supported", "S256",
        "authorization_response_iss_parameter_supported", 1);
    if (common == NULL)
        return ESP_ENOMEM;
    json_object_update(oauth, common);
    json_object_update(openid, common);
    json_decref(common);
    json_t *extra =
        json_pack("{s:s,s:o,s:[s],s:o,s:o,s:[s],s:[s],s:o,s:[s],s:b,s:b,s:b,s:[ssss],s:[ssss]}",
                  "userinfo_endpoint", S->userinfo_endpoint, "acr_values_supported", acrs,
                  "subject_types_supported", "pairwise", "id_token_signing_alg_values_supported",
                  algs(1), "userinfo_signing_alg_values_supported", algs(1),
                  "userinfo_encryption_alg_values_supported", "RSA-OAEP-256",
                  "userinfo_encryption_enc_values_supported", "A256GCM", "claims_supported", claims,
                  "claim_types_supported", "normal", "claims_parameter_supported", 1,
                  "request_parameter_supported", 0, "request_uri_parameter_supported", 0,
                  "display_values_supported", "page", "popup", "touch", "wap",
                  "prompt_values_supported", "none", "login", "consent", "select_account");
    if (extra == NULL)
        return ESP_ENOMEM;
    json_object_update(openid, extra);
    json_decref(extra);
    return 0;
}

/* Pushed authorization requests (RFC 9126 §5) and DPoP (RFC 9449 §5.1): both documents. */
static int par_contrib(const esg_discovery_input *in, json_t *openid, json_t *oauth)
{
    (void)in;
    const esg_oidc_settings *S = esg_oidc();
    if (S == NULL)
        return 0;
    json_t *par = json_pack("{s:s,s:b,s:o}", "pushed_authorization_request_endpoint",
                            S->par_endpoint, "require_pushed_authorization_requests",
                            S->require_par, "dpop_signing_alg_values_supported", algs(0));
    if (par == NULL)
        return ESP_ENOMEM;
    json_object_update(oauth, par);
    json_object_update(openid, par);
    json_decref(par);
    return 0;
}

/*
 * Contributions in the order their members should appear. Protocol modules (authorization,
 * token, userinfo, PAR, OpenID4VCI) append their function here when they land.
 */
static const esg_discovery_contrib_fn contributions[] = {
    core_contrib,
    oidc_contrib,
    par_contrib,
};

/* The issuer must be an https (or, for local use, http) URL without query or fragment
 * (OpenID Connect Discovery §3, RFC 8414 §2), and without a trailing slash so that derived
 * endpoint URLs have no double slash. */
static int valid_issuer(const char *s)
{
    if (s == NULL)
        return 0;
    size_t n = strlen(s);
    int https = strncmp(s, "https://", 8) == 0;
    if (!https && strncmp(s, "http://", 7) != 0)
        return 0;
    size_t host = https ? 8 : 7;
    return n > host && strpbrk(s, "?#") == NULL && s[n - 1] != '/' && strchr(s, ' ') == NULL;
}

int esg_discovery_build(const esg_discovery_input *in, json_t **openid, json_t **oauth)
{
    if (in == NULL || !valid_issuer(in->issuer))
        return ESP_EINVAL;
    json_t *o = json_object();
    json_t *a = json_object();
    int rc = (o && a) ? 0 : ESP_ENOMEM;
    for (size_t i = 0; rc == 0 && i < sizeof(contributions) / sizeof(contributions[0]); i++)
        rc = contributions[i](in, o, a);
    if (rc != 0) {
        json_decref(o);
        json_decref(a);
        return rc;
    }
    *openid = o;
    *oauth = a;
    return 0;
}
