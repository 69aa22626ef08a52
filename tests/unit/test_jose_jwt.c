/* JWT claim checks: each rule, and the distinct reason each failure reports. */
#include "test_jose_util.h"

#include "jose/jwt.h"

#define NOW 1800000000

static esg_jwt_error check(const char *claims_json, const esg_jwt_rules *r, const char **claim)
{
    json_t *c = NULL;
    esg_jwt_error err = ESG_JWT_OK;
    if (esg_jwt_claims_parse((const uint8_t *)claims_json, strlen(claims_json), &c, &err) != 0)
        return err;
    int rc = esg_jwt_claims_check(c, r, &err, claim);
    json_decref(c);
    assert_true((rc == 0) == (err == ESG_JWT_OK));
    return err;
}

static void parse_rejects_non_objects(void **state)
{
    (void)state;
    esg_jwt_rules r = {NOW, 0, 0, 0, NULL, NULL, NULL, 0};
    assert_int_equal(check("[1]", &r, NULL), ESG_JWT_ERR_MALFORMED);
    assert_int_equal(check("\"x\"", &r, NULL), ESG_JWT_ERR_MALFORMED);
    assert_int_equal(check("{\"a\":1,\"a\":2}", &r, NULL), ESG_JWT_ERR_MALFORMED);
    assert_int_equal(check("{\"a\":1", &r, NULL), ESG_JWT_ERR_MALFORMED);
    assert_int_equal(check("{}", &r, NULL), ESG_JWT_OK);
    assert_string_equal(esg_jwt_error_str(ESG_JWT_ERR_EXPIRED), "token expired");
}

static void time_windows(void **state)
{
    (void)state;
    const char *claim = NULL;
    esg_jwt_rules r = {NOW, 30, 0, 0, NULL, NULL, NULL, ESG_JWT_REQUIRE_EXP};
    assert_int_equal(check("{\"exp\":1800000100}", &r, NULL), ESG_JWT_OK);
    /* exp is exclusive; the leeway extends it. */
    assert_int_equal(check("{\"exp\":1799999971}", &r, NULL), ESG_JWT_OK);
    assert_int_equal(check("{\"exp\":1799999970}", &r, &claim), ESG_JWT_ERR_EXPIRED);
    assert_string_equal(claim, "exp");
    assert_int_equal(check("{\"exp\":1799999970.9}", &r, NULL), ESG_JWT_ERR_EXPIRED);
    assert_int_equal(check("{}", &r, &claim), ESG_JWT_ERR_MISSING);
    assert_string_equal(claim, "exp");
    assert_int_equal(check("{\"exp\":\"1800000100\"}", &r, NULL), ESG_JWT_ERR_CLAIM_TYPE);
    assert_int_equal(check("{\"exp\":true}", &r, NULL), ESG_JWT_ERR_CLAIM_TYPE);
    assert_int_equal(check("{\"exp\":-5}", &r, NULL), ESG_JWT_ERR_CLAIM_TYPE);
    assert_int_equal(check("{\"exp\":1e300}", &r, NULL), ESG_JWT_ERR_CLAIM_TYPE);
    r.flags = 0;
    assert_int_equal(check("{\"nbf\":1800000030}", &r, NULL), ESG_JWT_OK);
    assert_int_equal(check("{\"nbf\":1800000031}", &r, NULL), ESG_JWT_ERR_NOT_YET_VALID);
    assert_int_equal(check("{\"iat\":1800000030}", &r, NULL), ESG_JWT_OK);
    assert_int_equal(check("{\"iat\":1800000031}", &r, NULL), ESG_JWT_ERR_IAT_FUTURE);
    r.max_age = 300;
    assert_int_equal(check("{\"iat\":1799999670}", &r, NULL), ESG_JWT_OK);
    assert_int_equal(check("{\"iat\":1799999669}", &r, NULL), ESG_JWT_ERR_TOO_OLD);
    r.max_age = 0;
    r.max_lifetime = 600;
    assert_int_equal(check("{\"iat\":1800000000,\"exp\":1800000600}", &r, NULL), ESG_JWT_OK);
    assert_int_equal(check("{\"iat\":1800000000,\"exp\":1800000601}", &r, NULL),
                     ESG_JWT_ERR_LIFETIME);
    /* Without iat the lifetime counts from now. */
    assert_int_equal(check("{\"exp\":1800000601}", &r, NULL), ESG_JWT_ERR_LIFETIME);
    /* now == 0 means the wall clock: a token that expired in 2001 fails. */
    esg_jwt_rules live = {0, 0, 0, 0, NULL, NULL, NULL, 0};
    assert_int_equal(check("{\"exp\":1000000000}", &live, NULL), ESG_JWT_ERR_EXPIRED);
}

static void issuer_audience_required(void **state)
{
    (void)state;
    const char *claim = NULL;
    const char *const req[] = {"nonce", NULL};
    esg_jwt_rules r = {NOW, 0, 0, 0, "https://idp.example", "client-1", req, ESG_JWT_REQUIRE_SUB};
    const char *ok = "{\"iss\":\"https://idp.example\",\"aud\":\"client-1\",\"sub\":\"u\","
                     "\"nonce\":\"n\"}";
    assert_int_equal(check(ok, &r, NULL), ESG_JWT_OK);
    assert_int_equal(check("{\"iss\":\"https://idp.example\",\"aud\":[\"x\",\"client-1\"],"
                           "\"sub\":\"u\",\"nonce\":\"n\"}",
                           &r, NULL),
                     ESG_JWT_OK);
    assert_int_equal(check("{\"iss\":\"https://idp.example/\",\"aud\":\"client-1\",\"sub\":\"u\","
                           "\"nonce\":\"n\"}",
                           &r, &claim),
                     ESG_JWT_ERR_ISSUER);
    assert_string_equal(claim, "iss");
    assert_int_equal(check("{\"iss\":\"https://idp.example\",\"aud\":[\"x\"],\"sub\":\"u\","
                           "\"nonce\":\"n\"}",
                           &r, NULL),
                     ESG_JWT_ERR_AUDIENCE);
    assert_int_equal(check("{\"iss\":\"https://idp.example\",\"aud\":\"client-12\",\"sub\":\"u\","
                           "\"nonce\":\"n\"}",
                           &r, NULL),
                     ESG_JWT_ERR_AUDIENCE);
    assert_int_equal(check("{\"iss\":\"https://idp.example\",\"aud\":[\"client-1\",1],"
                           "\"sub\":\"u\",\"nonce\":\"n\"}",
                           &r, &claim),
                     ESG_JWT_ERR_CLAIM_TYPE);
    assert_string_equal(claim, "aud");
    assert_int_equal(
        check("{\"iss\":\"https://idp.example\",\"aud\":\"client-1\",\"sub\":\"u\"}", &r, &claim),
        ESG_JWT_ERR_MISSING);
    assert_string_equal(claim, "nonce");
    assert_int_equal(
        check("{\"iss\":\"https://idp.example\",\"aud\":\"client-1\",\"nonce\":\"n\"}", &r, &claim),
        ESG_JWT_ERR_MISSING);
    assert_string_equal(claim, "sub");
    assert_int_equal(check("{\"iss\":1}", &r, &claim), ESG_JWT_ERR_CLAIM_TYPE);
    assert_int_equal(check("{\"aud\":\"client-1\",\"sub\":\"u\",\"nonce\":\"n\"}", &r, &claim),
                     ESG_JWT_ERR_MISSING);
    assert_string_equal(claim, "iss");
    /* Without an expected audience, a malformed aud is still a type error. */
    esg_jwt_rules any = {NOW, 0, 0, 0, NULL, NULL, NULL, 0};
    assert_int_equal(check("{\"aud\":[]}", &any, NULL), ESG_JWT_ERR_CLAIM_TYPE);
    assert_int_equal(check("{\"aud\":{}}", &any, NULL), ESG_JWT_ERR_CLAIM_TYPE);
}

static void typ_header(void **state)
{
    (void)state;
    esg_jwt_error err;
    json_t *h = json_pack("{s:s}", "typ", "dpop+jwt");
    assert_int_equal(esg_jwt_check_typ(h, "dpop+jwt", &err), 0);
    assert_int_equal(esg_jwt_check_typ(h, "application/DPoP+JWT", &err), 0);
    assert_int_equal(esg_jwt_check_typ(h, "JWT", &err), ESP_EINVAL);
    assert_int_equal(err, ESG_JWT_ERR_TYP);
    json_object_set_new(h, "typ", json_integer(1));
    assert_int_equal(esg_jwt_check_typ(h, "JWT", &err), ESP_EINVAL);
    json_object_del(h, "typ");
    assert_int_equal(esg_jwt_check_typ(h, "JWT", &err), ESP_EINVAL);
    json_decref(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_rejects_non_objects),
        cmocka_unit_test(time_windows),
        cmocka_unit_test(issuer_audience_required),
        cmocka_unit_test(typ_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
