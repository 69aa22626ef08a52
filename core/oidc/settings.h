/*
 * The OpenID provider's settings, read once at start from the `oidc` configuration section and
 * then shared read-only by every loop.
 */
#ifndef ESG_OIDC_SETTINGS_H
#define ESG_OIDC_SETTINGS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "jose/jwa.h"

typedef struct esg_oidc_scope {
    const char *scope;
    const char **claims;
    size_t n_claims;
} esg_oidc_scope;

typedef struct esg_oidc_factor {
    const char *type;
    int count;
    json_t *sub_types; /* borrowed JSON array */
} esg_oidc_factor;

/* An AMR entry: factors that must all be presented together. */
typedef struct esg_oidc_amr {
    const char *name;
    esg_oidc_factor *factors;
    size_t n_factors;
} esg_oidc_amr;

typedef struct esg_oidc_acr {
    const char *acr;
    const esg_oidc_amr **amrs; /* alternatives, in configuration order */
    size_t n_amrs;
} esg_oidc_acr;

typedef struct esg_oidc_challenge_rule {
    const char *type;
    const char *format;
    int64_t min_length;
    int64_t max_length;
} esg_oidc_challenge_rule;

typedef struct esg_oidc_settings {
    const char *issuer;
    const char *base_path;
    /* Absolute endpoint URLs derived from issuer and base_path. */
    char *authorization_endpoint;
    char *token_endpoint;
    char *userinfo_endpoint;
    char *par_endpoint; /* RFC 9126 pushed authorization requests */
    char *jwks_uri;
    const char *identity_backend; /* instance name */
    const char *token_signing_alg;
    int require_pkce;
    int require_par;        /* every client must use PAR */
    int fapi2;              /* oidc.profile: fapi2 (FAPI 2.0 Security Profile) */
    int require_dpop;       /* every access token is DPoP-bound */
    int require_dpop_nonce; /* DPoP proofs carry a server nonce (RFC 9449 §8) */
    int userinfo_jwe_default;
    int secure_cookies; /* issuer is https, or http on a loopback host */
    int loopback_http;  /* issuer is http on a loopback host (development, the demo) */
    struct {
        int64_t transaction, authenticated, code, pushed_request, id_token, access_token, session,
            replay_window, client_assertion, dpop_proof, clock_skew; /* milliseconds */
    } lifetimes;
    esg_oidc_scope *scopes;
    size_t n_scopes;
    const char **authorize_scopes;
    size_t n_authorize_scopes;
    const char **claims_supported;
    size_t n_claims_supported;
    esg_oidc_amr *amrs;
    size_t n_amrs;
    esg_oidc_acr *acrs;
    size_t n_acrs;
    esg_oidc_challenge_rule *challenges;
    size_t n_challenges;
    struct {
        int64_t send_otp, authenticate, block_ms;
    } attempts;
    const json_t *ui; /* borrowed: oauth-details configs */
} esg_oidc_settings;

/*
 * Reads the settings from `cfg` (which must outlive them) and checks what the schema cannot: an
 * ACR naming an unknown AMR, a factor without a challenge rule, an unknown identity back end.
 * Problems are appended to `errors` with positions. Returns 0, ESP_ECONFIG or ESP_ENOMEM. [init]
 */
int esg_oidc_settings_load(const esg_config *cfg, esg_config_errors *errors);
/* Frees what esg_oidc_settings_load() allocated. [init] */
void esg_oidc_settings_free(void);
/* The loaded settings; NULL before esg_oidc_settings_load(). [any] */
const esg_oidc_settings *esg_oidc(void);

/* The ACR entry named `acr`, or NULL. [any] */
const esg_oidc_acr *esg_oidc_find_acr(const char *acr);
/* The challenge rule of a factor type, or NULL. [any] */
const esg_oidc_challenge_rule *esg_oidc_find_challenge(const char *type);
/* 1 when `claim` is in claims_supported. [any] */
int esg_oidc_claim_supported(const char *claim);
/*
 * The algorithm for ID tokens and signed userinfo sent to a client: the "alg" of the client's
 * registered JWK when this server holds an active key for it (so a client registered with an EC
 * key gets ES256), else keys.token_signing_alg. `client_key_alg` may be NULL. [any]
 */
const char *esg_oidc_response_alg(const char *client_key_alg);

/*
 * The JWS algorithms accepted from clients (private_key_jwt assertions, DPoP proofs) and used for
 * what the server signs: RS256, PS256 and ES256, or PS256 and ES256 under the FAPI 2.0 profile
 * (its §5.4.1: RS256 is not allowed). [any]
 */
esg_jws_alg_set esg_oidc_client_algs(void);
/* 1 when the server may sign with `alg` ("RS256", ...) under the profile. [any] */
int esg_oidc_alg_allowed(const char *alg);
/* The accepted client algorithms as a space-separated list (WWW-Authenticate algs). [any] */
const char *esg_oidc_client_algs_text(void);

#endif
