#include "oidc/discovery.h"

#include <string.h>

#include <esignet/plugin.h>

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

/*
 * Contributions in the order their members should appear. Protocol modules (authorization,
 * token, userinfo, PAR, OpenID4VCI) append their function here when they land.
 */
static const esg_discovery_contrib_fn contributions[] = {
    core_contrib,
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
