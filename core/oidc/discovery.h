/*
 * Discovery documents: OpenID Provider metadata (/.well-known/openid-configuration, OpenID
 * Connect Discovery 1.0 §3) and OAuth 2.0 authorization server metadata
 * (/.well-known/oauth-authorization-server, RFC 8414 §2).
 *
 * Both are assembled from contributions: the core adds what it serves (issuer, JWKS), and each
 * protocol module adds its endpoints and capabilities when it is enabled, so the documents only
 * ever advertise what this server actually does. The result is built once at start and served as
 * a cached body.
 */
#ifndef ESG_OIDC_DISCOVERY_H
#define ESG_OIDC_DISCOVERY_H

#include <jansson.h>

/* What the documents are built from. Strings are borrowed for the call. */
typedef struct esg_discovery_input {
    const char *issuer;    /* "https://idp.example" without a trailing slash */
    const char *base_path; /* "/v1/esignet" */
} esg_discovery_input;

/*
 * A module's contribution: adds members to `openid` (the OpenID Provider metadata) and `oauth`
 * (the RFC 8414 metadata). Returns 0 or a negative status. [init]
 */
typedef int (*esg_discovery_contrib_fn)(const esg_discovery_input *in, json_t *openid,
                                        json_t *oauth);

/*
 * Builds both documents: the core's members, then every contribution in the static table of
 * discovery.c. The caller owns *openid and *oauth. Returns 0, ESP_EINVAL (issuer missing or not
 * an absolute URL without query and fragment) or ESP_ENOMEM. [init]
 */
int esg_discovery_build(const esg_discovery_input *in, json_t **openid, json_t **oauth);

#endif
