/*
 * JSON Web Token claim checks (RFC 7519 §4.1, §7.2) for the protocol layer. Signature checks are
 * jws.h's; this file only judges a verified payload, and reports why a token is refused as a
 * distinct esg_jwt_error so that callers can answer with a precise OAuth error (for example
 * "invalid_grant" for an expired code-exchange assertion, "invalid_dpop_proof" for a stale DPoP
 * proof).
 *
 * Thread safety: pure functions, reentrant.
 *
 * Status codes: 0 when the claims pass; ESP_EINVAL when they do not (the reason in *err);
 * ESP_ENOMEM.
 */
#ifndef ESG_JOSE_JWT_H
#define ESG_JOSE_JWT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Why claims were refused. */
typedef enum esg_jwt_error {
    ESG_JWT_OK = 0,
    ESG_JWT_ERR_MALFORMED = 1,     /* payload is not a JSON object, or has duplicate members */
    ESG_JWT_ERR_CLAIM_TYPE = 2,    /* a registered claim has the wrong JSON type */
    ESG_JWT_ERR_MISSING = 3,       /* a required claim is absent */
    ESG_JWT_ERR_EXPIRED = 4,       /* now >= exp + leeway */
    ESG_JWT_ERR_NOT_YET_VALID = 5, /* now + leeway < nbf */
    ESG_JWT_ERR_IAT_FUTURE = 6,    /* iat later than now + leeway */
    ESG_JWT_ERR_TOO_OLD = 7,       /* now - iat beyond max_age + leeway */
    ESG_JWT_ERR_LIFETIME = 8,      /* exp - iat (or exp - now without iat) beyond max_lifetime */
    ESG_JWT_ERR_ISSUER = 9,        /* iss differs from the expected issuer */
    ESG_JWT_ERR_AUDIENCE = 10,     /* the expected audience is not in aud */
    ESG_JWT_ERR_TYP = 11,          /* the header's typ differs from the expected one */
} esg_jwt_error;

/* esg_jwt_rules.flags */
enum esg_jwt_flags {
    ESG_JWT_REQUIRE_EXP = 1u << 0,
    ESG_JWT_REQUIRE_IAT = 1u << 1,
    ESG_JWT_REQUIRE_NBF = 1u << 2,
    ESG_JWT_REQUIRE_JTI = 1u << 3,
    ESG_JWT_REQUIRE_SUB = 1u << 4,
};

/* What the caller expects. All pointers are borrowed during the call. */
typedef struct esg_jwt_rules {
    int64_t now;          /* seconds since the epoch; 0 means esg_wall_s() */
    int64_t leeway;       /* tolerated clock skew in seconds (>= 0) */
    int64_t max_lifetime; /* > 0: bound on exp - iat (exp - now when iat is absent) */
    int64_t max_age;      /* > 0: bound on now - iat */
    const char *iss;      /* expected issuer, exact match; NULL: not checked */
    const char *aud;      /* expected audience, in a string or array aud; NULL: not checked */
    const char *const *required; /* NULL-terminated claim names that must be present, or NULL */
    unsigned flags;              /* esg_jwt_flags */
} esg_jwt_rules;

/* Static text of an error, e.g. "token expired". */
const char *esg_jwt_error_str(esg_jwt_error e);

/*
 * Parses a JWS payload (`n` bytes) as a claims set: a JSON object without duplicate members, at
 * most 64 KiB deep-limited to 16 levels. *claims is a new object (json_decref() it). Returns 0 or
 * ESP_EINVAL with *err = ESG_JWT_ERR_MALFORMED.
 */
int esg_jwt_claims_parse(const uint8_t *payload, size_t n, json_t **claims, esg_jwt_error *err);

/*
 * Checks registered claims against `rules`: types of iss, sub, jti (strings), aud (string or
 * array of strings), exp, nbf, iat (numbers); required presence; time windows; issuer; audience.
 * The first failure wins. When `claim` is not NULL it receives the name of the offending claim
 * (static or borrowed from rules->required). Returns 0 or ESP_EINVAL with *err set.
 */
int esg_jwt_claims_check(const json_t *claims, const esg_jwt_rules *rules, esg_jwt_error *err,
                         const char **claim);

/*
 * Checks a protected header's "typ" against `typ`, ignoring ASCII case and an "application/"
 * prefix on either side (RFC 7515 §4.1.9), e.g. "dpop+jwt", "openid4vci-proof+jwt". Returns 0 or
 * ESP_EINVAL with *err = ESG_JWT_ERR_TYP (also when "typ" is absent or not a string).
 */
int esg_jwt_check_typ(const json_t *header, const char *typ, esg_jwt_error *err);

#endif
