#include "jose/jwt.h"

#include <math.h>
#include <string.h>
#include <strings.h>

#include <esignet/plugin.h>

#include "jose/internal.h"
#include "util/clock.h"

#define MAX_CLAIMS_TEXT  (64u * 1024u)
#define MAX_CLAIMS_DEPTH 16
#define MAX_CLAIMS_ITEMS 4096

static const char *const error_text[] = {
    [ESG_JWT_OK] = "ok",
    [ESG_JWT_ERR_MALFORMED] = "claims are not a JSON object",
    [ESG_JWT_ERR_CLAIM_TYPE] = "claim has the wrong type",
    [ESG_JWT_ERR_MISSING] = "required claim missing",
    [ESG_JWT_ERR_EXPIRED] = "token expired",
    [ESG_JWT_ERR_NOT_YET_VALID] = "token not yet valid",
    [ESG_JWT_ERR_IAT_FUTURE] = "token issued in the future",
    [ESG_JWT_ERR_TOO_OLD] = "token too old",
    [ESG_JWT_ERR_LIFETIME] = "token lifetime too long",
    [ESG_JWT_ERR_ISSUER] = "issuer mismatch",
    [ESG_JWT_ERR_AUDIENCE] = "audience mismatch",
    [ESG_JWT_ERR_TYP] = "unexpected token type",
};

const char *esg_jwt_error_str(esg_jwt_error e)
{
    if ((int)e < 0 || (size_t)e >= sizeof(error_text) / sizeof(error_text[0]))
        return "unknown error";
    return error_text[e];
}

static int fail(esg_jwt_error *err, esg_jwt_error e, const char **claim, const char *name)
{
    if (err != NULL)
        *err = e;
    if (claim != NULL)
        *claim = name;
    return ESP_EINVAL;
}

int esg_jwt_claims_parse(const uint8_t *payload, size_t n, json_t **claims, esg_jwt_error *err)
{
    json_t *j = NULL;
    *claims = NULL;
    if (n <= MAX_CLAIMS_TEXT)
        j = json_loadb((const char *)payload, n, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(j) || esg_jose_json_limits(j, MAX_CLAIMS_DEPTH, MAX_CLAIMS_ITEMS) != 0) {
        json_decref(j);
        return fail(err, ESG_JWT_ERR_MALFORMED, NULL, NULL);
    }
    *claims = j;
    if (err != NULL)
        *err = ESG_JWT_OK;
    return 0;
}

/*
 * A NumericDate (RFC 7519 §2): a JSON number of seconds, possibly fractional; truncated to whole
 * seconds. 1 when present and valid, 0 when absent, -1 when of the wrong type or out of range.
 */
static int numeric_date(const json_t *claims, const char *name, int64_t *out)
{
    const json_t *v = json_object_get(claims, name);
    if (v == NULL)
        return 0;
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
    } else if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!isfinite(d) || d < -9.0e15 || d > 9.0e15)
            return -1;
        *out = (int64_t)d;
    } else {
        return -1;
    }
    /* Dates beyond year 30000 or before 1970 are nonsense and would overflow the arithmetic. */
    return *out >= 0 && *out < INT64_C(900000000000) ? 1 : -1;
}

static int aud_contains(const json_t *aud, const char *want, int *type_ok)
{
    *type_ok = 1;
    if (json_is_string(aud))
        return strcmp(json_string_value(aud), want) == 0 && strlen(want) == json_string_length(aud);
    if (!json_is_array(aud) || json_array_size(aud) == 0) {
        *type_ok = 0;
        return 0;
    }
    size_t i;
    const json_t *v;
    int found = 0;
    json_array_foreach(aud, i, v)
    {
        if (!json_is_string(v)) {
            *type_ok = 0;
            return 0;
        }
        if (strlen(want) == json_string_length(v) && strcmp(json_string_value(v), want) == 0)
            found = 1;
    }
    return found;
}

int esg_jwt_claims_check(const json_t *claims, const esg_jwt_rules *rules, esg_jwt_error *err,
                         const char **claim)
{
    static const char *const string_claims[] = {"iss", "sub", "jti"};
    static const struct {
        unsigned flag;
        const char *name;
    } flagged[] = {{ESG_JWT_REQUIRE_EXP, "exp"},
                   {ESG_JWT_REQUIRE_IAT, "iat"},
                   {ESG_JWT_REQUIRE_NBF, "nbf"},
                   {ESG_JWT_REQUIRE_JTI, "jti"},
                   {ESG_JWT_REQUIRE_SUB, "sub"}};
    int64_t now = rules->now != 0 ? rules->now : esg_wall_s();
    int64_t leeway = rules->leeway > 0 ? rules->leeway : 0;
    int64_t exp = 0, nbf = 0, iat = 0;

    if (err != NULL)
        *err = ESG_JWT_OK;
    if (claim != NULL)
        *claim = NULL;
    if (!json_is_object(claims))
        return fail(err, ESG_JWT_ERR_MALFORMED, claim, NULL);
    for (size_t i = 0; i < sizeof(string_claims) / sizeof(string_claims[0]); i++) {
        const json_t *v = json_object_get(claims, string_claims[i]);
        if (v != NULL && !json_is_string(v))
            return fail(err, ESG_JWT_ERR_CLAIM_TYPE, claim, string_claims[i]);
    }
    int has_exp = numeric_date(claims, "exp", &exp);
    int has_nbf = numeric_date(claims, "nbf", &nbf);
    int has_iat = numeric_date(claims, "iat", &iat);
    if (has_exp < 0)
        return fail(err, ESG_JWT_ERR_CLAIM_TYPE, claim, "exp");
    if (has_nbf < 0)
        return fail(err, ESG_JWT_ERR_CLAIM_TYPE, claim, "nbf");
    if (has_iat < 0)
        return fail(err, ESG_JWT_ERR_CLAIM_TYPE, claim, "iat");
    const json_t *aud = json_object_get(claims, "aud");
    int aud_type_ok = 1;
    int aud_match =
        aud != NULL && rules->aud != NULL ? aud_contains(aud, rules->aud, &aud_type_ok) : 0;
    if (aud != NULL && rules->aud == NULL)
        aud_contains(aud, "", &aud_type_ok);
    if (!aud_type_ok)
        return fail(err, ESG_JWT_ERR_CLAIM_TYPE, claim, "aud");

    for (size_t i = 0; i < sizeof(flagged) / sizeof(flagged[0]); i++) {
        if ((rules->flags & flagged[i].flag) && json_object_get(claims, flagged[i].name) == NULL)
            return fail(err, ESG_JWT_ERR_MISSING, claim, flagged[i].name);
    }
    for (size_t i = 0; rules->required != NULL && rules->required[i] != NULL; i++) {
        if (json_object_get(claims, rules->required[i]) == NULL)
            return fail(err, ESG_JWT_ERR_MISSING, claim, rules->required[i]);
    }
    if (rules->iss != NULL) {
        const json_t *iss = json_object_get(claims, "iss");
        if (iss == NULL)
            return fail(err, ESG_JWT_ERR_MISSING, claim, "iss");
        if (strlen(rules->iss) != json_string_length(iss) ||
            strcmp(json_string_value(iss), rules->iss) != 0)
            return fail(err, ESG_JWT_ERR_ISSUER, claim, "iss");
    }
    if (rules->aud != NULL) {
        if (aud == NULL)
            return fail(err, ESG_JWT_ERR_MISSING, claim, "aud");
        if (!aud_match)
            return fail(err, ESG_JWT_ERR_AUDIENCE, claim, "aud");
    }
    if (has_exp && now >= exp + leeway)
        return fail(err, ESG_JWT_ERR_EXPIRED, claim, "exp");
    if (has_nbf && now + leeway < nbf)
        return fail(err, ESG_JWT_ERR_NOT_YET_VALID, claim, "nbf");
    if (has_iat && iat > now + leeway)
        return fail(err, ESG_JWT_ERR_IAT_FUTURE, claim, "iat");
    if (rules->max_age > 0 && has_iat && now - iat > rules->max_age + leeway)
        return fail(err, ESG_JWT_ERR_TOO_OLD, claim, "iat");
    if (rules->max_lifetime > 0 && has_exp && exp - (has_iat ? iat : now) > rules->max_lifetime)
        return fail(err, ESG_JWT_ERR_LIFETIME, claim, "exp");
    return 0;
}

/* Skips a leading "application/" (any case), RFC 7515 §4.1.9. */
static const char *media_type(const char *s)
{
    return strncasecmp(s, "application/", 12) == 0 ? s + 12 : s;
}

int esg_jwt_check_typ(const json_t *header, const char *typ, esg_jwt_error *err)
{
    const json_t *v = json_object_get(header, "typ");
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v) ||
        strcasecmp(media_type(json_string_value(v)), media_type(typ)) != 0)
        return fail(err, ESG_JWT_ERR_TYP, NULL, NULL);
    if (err != NULL)
        *err = ESG_JWT_OK;
    return 0;
}
